"""Raster basemap sources: a local MBTiles or PMTiles file, or a force's own tile server.

    source = open_basemap("county.mbtiles")       # or .pmtiles, or
    source = open_basemap("https://tiles.force.example/{z}/{x}/{y}.png")
    source.info.minzoom, source.info.bounds, source.info.attribution
    data = source.tile(z, x, y)                    # PNG/JPEG/WebP bytes, or None

Tiles are addressed in the XYZ scheme (y = 0 at the north); MBTiles stores TMS rows
(y counted from the south), which `MBTiles` flips. Only raster tiles are drawn: a vector
tileset (pbf/mvt) is refused with a message saying so. Nothing is downloaded unless the
user gives a URL, and then only from that server.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import sqlite3
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

from whereabouts import __version__
from whereabouts.errors import InputError, WhereaboutsError
from whereabouts.io.files import file_sha256

RASTER = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
VECTOR = frozenset({"pbf", "mvt"})
WORLD = (-180.0, -85.0511287798066, 180.0, 85.0511287798066)
FETCH_TIMEOUT_S = 10.0
FETCH_WORKERS = 4  # tiles fetched at once from a tile server: polite, and hides latency
URL_MAX_ZOOM = 19  # a tile server states no zoom range; the usual top of raster sets


class BasemapError(InputError):
    """A basemap file or URL cannot be used (missing, corrupt, vector tiles, bad template)."""


class BasemapUnavailable(WhereaboutsError):
    """The tile server named by a basemap URL does not answer."""


@dataclass(frozen=True)
class TilesetInfo:
    """What a tileset says about itself: format, extent, zoom range, attribution."""

    kind: str  # mbtiles | pmtiles | url
    format: str  # png | jpg | webp
    bounds: tuple[float, float, float, float]  # west, south, east, north (WGS84 degrees)
    minzoom: int
    maxzoom: int
    attribution: str
    name: str  # the file's name or the URL template: what the report cites
    sha256: str = (
        ""  # the whole file's hash (local files); tiles fetched by URL are hashed one by one
    )
    origin: str = ""  # scheme://host[:port] of a tile server, for the CSP

    @property
    def mime(self) -> str:
        """The MIME type of the tiles' format."""
        return RASTER[self.format]


class TileSource(Protocol):
    """Anything that gives raster tile bytes by XYZ address."""

    info: TilesetInfo

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes at an XYZ address, or None where there is none."""

    def close(self) -> None:
        """Release the source's file or connection."""


def sniff(data: bytes) -> str | None:
    """The raster format of tile bytes (png, jpg, webp), 'pbf' for gzip (vector), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"\x1f\x8b"):
        return "pbf"
    return None


def _format(value: str, where: str) -> str:
    fmt = value.strip().lower().removeprefix("image/")
    fmt = {"jpeg": "jpg", "x-protobuf": "pbf", "vnd.mapbox-vector-tile": "pbf"}.get(fmt, fmt)
    if fmt in VECTOR:
        raise BasemapError(
            f"the basemap holds vector tiles ({fmt}); only raster tiles can be drawn",
            where=where,
            hint="use a raster tileset (PNG, JPEG or WebP tiles), e.g. render the vector "
            "tiles to raster with your GIS before passing it as --basemap",
        )
    if fmt not in RASTER:
        raise BasemapError(
            f"the basemap's tile format {fmt!r} is not known",
            where=where,
            hint="use a raster tileset of PNG, JPEG or WebP tiles",
        )
    return fmt


def _plain(text: str) -> str:
    """Attribution as plain text: tileset metadata often holds HTML links."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", "", text)).replace("&copy;", "©").strip()


def _require_file(path: Path) -> None:
    if not path.exists():
        raise BasemapError(
            "the basemap file does not exist",
            where=str(path),
            hint="check the path given to --basemap",
        )
    if not path.is_file():
        raise BasemapError(
            "the basemap is a folder, not a file",
            where=str(path),
            hint="give an .mbtiles or .pmtiles file",
        )


class MBTiles:
    """An MBTiles file (SQLite; TMS rows), opened read-only."""

    def __init__(self, path: Path) -> None:
        _require_file(path)
        self.path = path
        self._lock = threading.Lock()
        corrupt = (
            "the basemap file is not a readable MBTiles (SQLite) database",
            "check the file copied whole; rebuild it with your GIS's MBTiles export",
        )
        try:
            self._db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            meta = dict(self._db.execute("SELECT name, value FROM metadata").fetchall())
            zooms = self._db.execute(
                "SELECT min(zoom_level), max(zoom_level) FROM tiles"
            ).fetchone()
            first = self._db.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        except sqlite3.DatabaseError as exc:
            if hasattr(self, "_db"):
                self._db.close()
            raise BasemapError(corrupt[0], where=str(path), hint=corrupt[1]) from exc
        try:
            if first is None:
                raise BasemapError(
                    "the MBTiles file holds no tiles",
                    where=str(path),
                    hint="export the tileset again with the area and zooms needed",
                )
            fmt = str(meta.get("format") or sniff(bytes(first[0])) or "unknown")
            self.info = TilesetInfo(
                "mbtiles",
                _format(fmt, str(path)),
                _bounds(meta.get("bounds"), str(path)),
                int(meta.get("minzoom", zooms[0])),
                int(meta.get("maxzoom", zooms[1])),
                _plain(str(meta.get("attribution") or "")),
                path.name,
                file_sha256(path),
            )
        except (BasemapError, ValueError) as exc:
            self._db.close()
            if isinstance(exc, BasemapError):
                raise
            raise BasemapError(
                "the MBTiles metadata's minzoom or maxzoom is not a number",
                where=str(path),
                hint="fix the tileset's metadata",
            ) from exc

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes (XYZ address; stored as TMS, row flipped), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
        return None if row is None else bytes(row[0])

    def close(self) -> None:
        """Close the MBTiles database."""
        self._db.close()


def _bounds(text: object, where: str) -> tuple[float, float, float, float]:
    if text is None or str(text).strip() == "":
        return WORLD
    try:
        w, s, e, n = (float(v) for v in str(text).split(","))
    except ValueError as exc:
        raise BasemapError(
            "the tileset's bounds are not 'west,south,east,north'",
            where=where,
            hint="fix the 'bounds' entry of its metadata",
        ) from exc
    return w, s, e, n


class PMTiles:
    """A PMTiles v3 file, read through the `pmtiles` package over a memory map."""

    def __init__(self, path: Path) -> None:
        from pmtiles.reader import MmapSource, Reader
        from pmtiles.tile import Compression, MagicNumberNotFound, SpecVersionUnsupported

        _require_file(path)
        self.path = path
        self._fh: IO[bytes] = path.open("rb")
        try:
            self._reader = Reader(MmapSource(self._fh))
            header = self._reader.header()
            meta = self._reader.metadata()
        except SpecVersionUnsupported as exc:
            self._fh.close()
            raise BasemapError(
                "the PMTiles file is not version 3",
                where=str(path),
                hint="convert it with `pmtiles convert` to version 3",
            ) from exc
        except (
            MagicNumberNotFound,
            ValueError,
            OSError,
            EOFError,
            KeyError,
            IndexError,
            zlib.error,
        ) as exc:
            self._fh.close()
            raise BasemapError(
                "the basemap file is not a readable PMTiles archive",
                where=str(path),
                hint="check the file copied whole, or export it again",
            ) from exc
        try:
            self.info = self._info(path, header, meta)
            if header["tile_compression"] not in (
                Compression.NONE,
                Compression.GZIP,
                Compression.UNKNOWN,
            ):
                raise BasemapError(
                    f"the PMTiles tiles are compressed with "
                    f"{header['tile_compression'].name.lower()}, which cannot be read here",
                    where=str(path),
                    hint="export the raster tiles uncompressed (PNG, JPEG "
                    "and WebP are compressed already)",
                )
        except BasemapError:
            self._fh.close()
            raise
        self._gzip = header["tile_compression"] == Compression.GZIP

    @staticmethod
    def _info(path: Path, header: Mapping[str, Any], meta: object) -> TilesetInfo:
        kind = header["tile_type"].name.lower()
        fmt = {"jpeg": "jpg", "mvt": "pbf", "mlt": "pbf"}.get(kind, kind)
        bounds = tuple(
            header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7")
        )
        if bounds == (0.0, 0.0, 0.0, 0.0):
            bounds = WORLD
        return TilesetInfo(
            "pmtiles",
            _format(fmt, str(path)),
            (bounds[0], bounds[1], bounds[2], bounds[3]),
            int(header["min_zoom"]),
            int(header["max_zoom"]),
            _plain(str(meta.get("attribution") or "") if isinstance(meta, dict) else ""),
            path.name,
            file_sha256(path),
        )

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes (XYZ address), or None."""
        data = self._reader.get(z, x, y)
        if data is None:
            return None
        return gzip.decompress(data) if self._gzip else bytes(data)

    def close(self) -> None:
        """Close the PMTiles file."""
        self._fh.close()


@dataclass
class TileServer:
    """A URL template of a force's own tile server, fetched only when a tile is needed."""

    template: str
    timeout_s: float = FETCH_TIMEOUT_S
    info: TilesetInfo = field(init=False)
    fetched: dict[tuple[int, int, int], str] = field(default_factory=dict, repr=False)
    _cache: dict[tuple[int, int, int], bytes | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.template)
        shown = self.template if "@" not in parts.netloc else f"{parts.scheme}://…"
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BasemapError(
                "a basemap URL must start with http:// or https://",
                where=shown,
                hint="give e.g. https://tiles.force.example/{z}/{x}/{y}.png",
            )
        if not re.fullmatch(
            r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?", parts.netloc
        ):
            # No user name or password in the URL: it is printed in the report.
            raise BasemapError(
                "the basemap URL's host is not a plain host name",
                where=shown,
                hint="give scheme://host[:port]/…/{z}/{x}/{y}.png, with no user "
                "name or password in it",
            )
        missing = [k for k in ("{z}", "{x}", "{y}") if k not in self.template]
        if missing:
            raise BasemapError(
                f"the basemap URL has no {', '.join(missing)}",
                where=shown,
                hint="write the tile address as {z}/{x}/{y}, e.g. "
                "https://tiles.force.example/{z}/{x}/{y}.png",
            )
        suffix = parts.path.rsplit(".", 1)[-1].lower() if "." in parts.path else ""
        if suffix in VECTOR:
            _format(suffix, self.template)
        fmt = (
            {"jpeg": "jpg"}.get(suffix, suffix)
            if suffix in ("png", "jpg", "jpeg", "webp")
            else "png"
        )
        origin = f"{parts.scheme}://{parts.netloc}"
        self.info = TilesetInfo(
            "url", fmt, WORLD, 0, URL_MAX_ZOOM, f"tiles from {origin}", self.template, origin=origin
        )

    def url(self, z: int, x: int, y: int) -> str:
        """The tile's URL: the template with z, x and y filled in."""
        return self.template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes, fetched once; None when the server has no such tile (404)."""
        key = (z, x, y)
        if key in self._cache:
            return self._cache[key]
        request = urllib.request.Request(
            self.url(z, x, y), headers={"User-Agent": f"whereabouts/{__version__}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                data: bytes | None = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code not in (204, 404):
                raise BasemapUnavailable(
                    f"the tile server answered HTTP {exc.code} for a basemap tile",
                    hint="check the basemap URL and that this machine may use the tile "
                    "server, or leave out --basemap",
                ) from exc
            data = None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise BasemapUnavailable(
                f"the tile server {self.info.origin} did not answer within {self.timeout_s:g} s",
                hint="check the basemap URL and the network to the force's tile server, "
                "or leave out --basemap (maps are drawn from the data alone)",
            ) from exc
        if data is not None:
            self.fetched[key] = hashlib.sha256(data).hexdigest()
        self._cache[key] = data
        return data

    def prefetch(self, keys: list[tuple[int, int, int]]) -> None:
        """Fetch the tiles not yet fetched, a few at a time (a map needs a dozen or so)."""
        todo = sorted({k for k in keys if k not in self._cache})
        if len(todo) > 1:
            with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
                for _ in pool.map(lambda k: self.tile(*k), todo):
                    pass  # each result lands in the cache; errors are raised here

    def close(self) -> None:
        """Forget the tiles cached so far."""
        self._cache.clear()


def open_basemap(spec: str | Path) -> MBTiles | PMTiles | TileServer:
    """A tile source from a path (.mbtiles, .pmtiles) or an http(s) URL template."""
    text = str(spec)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        return TileServer(text)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix == ".mbtiles":
        return MBTiles(path)
    if suffix == ".pmtiles":
        return PMTiles(path)
    raise BasemapError(
        "the basemap is neither an .mbtiles nor a .pmtiles file nor a URL",
        where=text,
        hint="give a raster .mbtiles or .pmtiles file, or a tile URL such as "
        "https://tiles.force.example/{z}/{x}/{y}.png",
    )


__all__ = [
    "RASTER",
    "BasemapError",
    "BasemapUnavailable",
    "MBTiles",
    "PMTiles",
    "TileServer",
    "TileSource",
    "TilesetInfo",
    "open_basemap",
    "sniff",
]
