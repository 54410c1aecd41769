"""Vector tiles of the workspace's map layers, built offline for the web app's map.

    tiles = VectorTiles.for_workspace(ws, crs)     # builds WS/tiles/map-<key>.mbtiles once
    data = tiles.tile(15, 16130, 10904)             # Mapbox Vector Tile bytes, or None

Every map layer the workspace holds (roads with name, number and class; buildings; water;
green space; rail; house numbers of addresses) is projected to Web Mercator and cut into
tiles from `MIN_ZOOM` to `MAX_ZOOM` (MapLibre draws deeper zooms from the last level),
each encoded with `mapbox_vector_tile` (MVT 2.1, extent 4096) and stored in an MBTiles
file (SQLite) named after the inputs it was made from: a new map layer ingested gives a
new file. Serving a tile is then one indexed read. The map is context, not evidence.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import Transformer

from whereabouts.errors import WhereaboutsError
from whereabouts.vocabulary import MAP_KINDS, road_class

MIN_ZOOM, MAX_ZOOM = 8, 15
HALF = 20037508.342789244  # Web Mercator's half width, metres
EXTENT = 4096
# The zoom from which each layer is in the tiles (buildings and house numbers only close in).
# Zoom 8 shows a county (a case's occasions can lie 30 km apart), 15 a few streets.
LAYER_MIN_ZOOM = {
    "green": 8,
    "water": 8,
    "rail": 10,
    "roads": 8,
    "buildings": 15,
    "addresses": 15,
}  # house numbers (the style shows them from zoom 16)
# Roads by class (vocabulary.road_class): only the main roads while zoomed out; of the minor
# roads, those between places (OSM unclassified) before the streets of a town.
ROAD_MIN_ZOOM = {"major": 8, "secondary": 9, "minor": 12, "path": 14}
LINK_ROADS = frozenset({"unclassified"})
LINK_ROAD_MIN_ZOOM = 10
# Part of the tiles' file name: change it when what goes into the tiles changes.
TILES_VERSION = "2"
_BUILD_LOCK = threading.Lock()


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of XYZ tile (z, x, y) in Web Mercator metres."""
    size = 2 * HALF / 2**z
    return (-HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size)


def tiles_over(bounds: tuple[float, float, float, float], z: int) -> tuple[range, range]:
    """The x and y tile ranges at zoom z covering Web Mercator `bounds`."""
    size = 2 * HALF / 2**z
    x0 = int(np.floor((bounds[0] + HALF) / size))
    x1 = int(np.floor((bounds[2] + HALF) / size))
    y0 = int(np.floor((HALF - bounds[3]) / size))
    y1 = int(np.floor((HALF - bounds[1]) / size))
    return range(max(x0, 0), min(x1, 2**z - 1) + 1), range(max(y0, 0), min(y1, 2**z - 1) + 1)


@dataclass
class _Layer:
    geoms: np.ndarray  # Web Mercator
    props: list[dict[str, Any]]
    tree: shapely.STRtree
    min_zoom: np.ndarray  # the first zoom each feature is in the tiles


def _load(workspace: Path, crs: str) -> dict[str, _Layer]:
    """The map tables, projected to Web Mercator, with the properties the style uses."""
    from whereabouts.store.workspace import committed

    to_merc = Transformer.from_crs(crs, "EPSG:3857", always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = to_merc.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    out: dict[str, _Layer] = {}
    for kind in MAP_KINDS:
        if LAYER_MIN_ZOOM.get(kind, 99) > MAX_ZOOM:
            continue
        files = committed(workspace, kind)
        if not files:
            continue
        t = pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
        if not t.num_rows:
            continue
        if kind == "addresses":
            geoms = shapely.points(t["x"].to_numpy(), t["y"].to_numpy())
            props = [{"number": str(a).split(" ")[0].rstrip(",")} for a in t["address"].to_pylist()]
        else:
            geoms = shapely.from_wkb(t["geometry_wkb"].to_numpy(zero_copy_only=False))
            names = t["name"].to_pylist()
            if kind == "roads":
                props = [
                    {k: v for k, v in (("name", n), ("ref", r), ("class", road_class(c, r))) if v}
                    for n, r, c in zip(
                        names, t["ref"].to_pylist(), t["kind"].to_pylist(), strict=True
                    )
                ]
            else:
                props = [
                    {k: v for k, v in (("name", n), ("kind", c)) if v}
                    for n, c in zip(names, t["kind"].to_pylist(), strict=True)
                ]
        merc = shapely.transform(geoms, project)
        first = np.full(len(props), LAYER_MIN_ZOOM[kind], dtype=np.int8)
        if kind == "roads":
            first[:] = [ROAD_MIN_ZOOM[p["class"]] for p in props]
            link = np.isin(
                pa.array(t["kind"]).fill_null("").to_numpy(zero_copy_only=False), list(LINK_ROADS)
            )
            first[link] = np.minimum(first[link], LINK_ROAD_MIN_ZOOM)
        out[kind] = _Layer(merc, props, shapely.STRtree(merc), first)
    return out


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """The areas of each geometry: a collection that repairing an outline gave (polygons
    with stray lines or points) keeps its polygons only, as one MultiPolygon."""
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == 7)  # GeometryCollection
    if not len(mixed):
        return geoms
    parts, index = shapely.get_parts(geoms[mixed], return_index=True)
    parts, inner = shapely.get_parts(parts, return_index=True)  # multipolygons into parts
    index = index[inner]
    polys = shapely.get_type_id(parts) == 3
    out = geoms.copy()
    empty = shapely.from_wkt("MULTIPOLYGON EMPTY")
    out[mixed] = empty
    if polys.any():
        grouped = shapely.multipolygons(parts[polys], indices=index[polys])
        out[mixed[np.unique(index[polys])]] = grouped
    return out


def _encode(layers: dict[str, _Layer], z: int, x: int, y: int) -> bytes | None:
    import mapbox_vector_tile

    b = tile_bounds(z, x, y)
    pad = (b[2] - b[0]) / 16  # a margin, so lines and outlines run on past the edge
    clip = (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
    tolerance = (b[2] - b[0]) / EXTENT
    encoded = []
    for kind, lay in layers.items():
        if z < LAYER_MIN_ZOOM.get(kind, 99):
            continue
        idx = np.sort(lay.tree.query(shapely.box(*clip)))
        if kind == "roads" and len(idx):
            idx = idx[lay.min_zoom[idx] <= z]
        if not len(idx):
            continue
        geoms = lay.geoms[idx]
        if kind != "addresses":
            geoms = shapely.clip_by_rect(shapely.simplify(geoms, tolerance), *clip)
        keep = ~shapely.is_empty(geoms)
        geoms, idx = geoms[keep], idx[keep]
        # Into tile units (y down) for every feature at once; the encoder then only writes.
        scale = EXTENT / (b[2] - b[0])
        geoms = shapely.transform(
            geoms,
            lambda xy, k=scale: np.column_stack(
                [np.round((xy[:, 0] - b[0]) * k), np.round((b[3] - xy[:, 1]) * k)]
            ),
        )
        if kind in ("buildings", "green", "water"):
            # MVT 2.1: outer rings clockwise as drawn (y down), which is counter-clockwise
            # in these y-down numbers; done here for all at once, not by the encoder
            geoms = shapely.orient_polygons(
                _polygonal(shapely.make_valid(geoms)), exterior_cw=False
            )
        keep = ~shapely.is_empty(geoms)
        feats = [
            {"geometry": g, "properties": lay.props[i]}
            for g, i in zip(geoms[keep], idx[keep].tolist(), strict=True)
        ]
        if feats:
            encoded.append({"name": kind, "features": feats})
    if not encoded:
        return None
    data: bytes = mapbox_vector_tile.encode(
        encoded,
        default_options={"extents": EXTENT, "y_coord_down": True, "check_winding_order": False},
    )
    return data


def _key(workspace: Path, crs: str) -> str | None:
    """A name for the tiles from the map inputs they are made of (None: no map layers)."""
    try:
        manifest = json.loads((workspace / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    inputs = manifest.get("inputs", manifest) if isinstance(manifest, dict) else manifest
    shas = sorted(
        f"{e.get('kind')}:{e.get('sha256')}"
        for e in inputs
        if isinstance(e, dict) and e.get("kind") in MAP_KINDS
    )
    if not shas:
        return None
    text = "|".join([crs, str(MIN_ZOOM), str(MAX_ZOOM), TILES_VERSION, *shas])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def build_tiles(workspace: Path, crs: str, out: Path) -> int:
    """Write every tile of the workspace's map layers to the MBTiles file `out`; returns
    the number of tiles written."""
    layers = _load(workspace, crs)
    tmp = out.with_name(out.name + ".partial")
    tmp.unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(tmp)
    n = 0
    try:
        con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        con.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
            "tile_row INTEGER, tile_data BLOB)"
        )
        bounds = (
            shapely.total_bounds(np.concatenate([lay.geoms for lay in layers.values()]))
            if layers
            else None
        )
        if bounds is not None:
            for z in range(MIN_ZOOM, MAX_ZOOM + 1):
                xs, ys = tiles_over(tuple(bounds), z)
                for x in xs:  # a loop per tile (thousands), each vectorised over features
                    for y in ys:
                        data = _encode(layers, z, x, y)
                        if data is not None:
                            con.execute(
                                "INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2**z - 1 - y, data)
                            )
                            n += 1
        meta = {
            "name": "workspace map",
            "format": "pbf",
            "minzoom": str(MIN_ZOOM),
            "maxzoom": str(MAX_ZOOM),
            "attribution": "workspace map layers",
        }
        if bounds is not None:  # MBTiles 1.3: the data's extent, degrees "w,s,e,n"
            to_ll = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
            w, s = to_ll.transform(bounds[0], bounds[1])
            e, n_ = to_ll.transform(bounds[2], bounds[3])
            meta["bounds"] = ",".join(f"{v:.6f}" for v in (w, s, e, n_))
        con.executemany("INSERT INTO metadata VALUES (?, ?)", sorted(meta.items()))
        con.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        con.commit()
    finally:
        con.close()
    tmp.replace(out)
    return n


def grid_affine(
    bounds: tuple[float, float, float, float], crs: str
) -> tuple[dict[str, Any], float]:
    """A cubic polynomial from grid metres (`crs`) to Web Mercator metres fitted over
    `bounds` (degrees), and its largest error on the ground in metres at 21 × 21 points:
    the browser places tracks on the map with it (no projection library there).

    With u = (x - x0) / s, v = (y - y0) / s: mx = Σ cx[k]·u^i·v^j over the ten terms
    i + j ≤ 3 in the order of `TERMS` (likewise my).
    """
    w, so, e, n = bounds
    lon, lat = np.meshgrid(np.linspace(w, e, 21), np.linspace(so, n, 21))
    to_grid = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    gx, gy = to_grid.transform(lon.ravel(), lat.ravel())
    mx, my = to_merc.transform(lon.ravel(), lat.ravel())
    x0, y0 = float(np.mean(gx)), float(np.mean(gy))
    scale = float(max(np.ptp(gx), np.ptp(gy), 1.0))
    u, v = (np.asarray(gx) - x0) / scale, (np.asarray(gy) - y0) / scale
    a = np.column_stack([u**i * v**j for i, j in TERMS])
    cx, *_ = np.linalg.lstsq(a, mx, rcond=None)
    cy, *_ = np.linalg.lstsq(a, my, rcond=None)
    # an error in Mercator metres shrinks by cos(latitude) on the ground
    err = np.hypot(a @ cx - mx, a @ cy - my) * np.cos(np.radians(lat.ravel()))
    return (
        {
            "x0": x0,
            "y0": y0,
            "scale": scale,
            "terms": [list(t) for t in TERMS],
            "cx": [float(c) for c in cx],
            "cy": [float(c) for c in cy],
        },
        float(err.max()),
    )


TERMS = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (3, 0), (2, 1), (1, 2), (0, 3))


class VectorTiles:
    """The workspace's vector tiles (built on first use), read by many threads."""

    def __init__(self, path: Path, *, memory_bytes: int = 64 << 20) -> None:
        self.path = path
        self._local = threading.local()
        # tiles read before, kept in memory up to `memory_bytes` (a tile is read many times)
        self._kept: OrderedDict[tuple[int, int, int], bytes | None] = OrderedDict()
        self._kept_bytes, self._memory_bytes = 0, memory_bytes
        self._kept_lock = threading.Lock()

    @classmethod
    def for_workspace(cls, workspace: Path, crs: str, *, wait: bool = True) -> VectorTiles | None:
        """The tiles of the workspace's current map layers; None when it has none, or
        (with `wait=False`) while they are still being built in the background."""
        key = _key(workspace, crs)
        if key is None:
            return None
        path = workspace / "tiles" / f"map-{key}.mbtiles"
        if path.exists():
            return cls(path)
        if not wait:
            with _BUILD_LOCK:
                if path not in _BUILDING and path not in _FAILED:
                    _BUILDING.add(path)
                    threading.Thread(
                        target=_build_once,
                        args=(workspace, crs, path),
                        daemon=True,
                        name="vector-tiles",
                    ).start()
            return None
        _build_once(workspace, crs, path)
        return cls(path)

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.con = con
        return con

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's MVT bytes (XYZ address), or None when it holds nothing."""
        with self._kept_lock:
            if (z, x, y) in self._kept:
                self._kept.move_to_end((z, x, y))
                return self._kept[(z, x, y)]
        row = (
            self._con()
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND "
                "tile_row = ?",
                (z, x, 2**z - 1 - y),
            )
            .fetchone()
        )
        data = None if row is None else bytes(row[0])
        with self._kept_lock:
            self._kept[(z, x, y)] = data
            self._kept_bytes += len(data or b"") + 100
            while self._kept_bytes > self._memory_bytes and self._kept:
                _, old = self._kept.popitem(last=False)
                self._kept_bytes -= len(old or b"") + 100
        return data

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) degrees of the map's features (None: no features)."""
        row = self._con().execute("SELECT value FROM metadata WHERE name = 'bounds'").fetchone()
        if row is None:
            return None
        w, s, e, n = (float(v) for v in str(row[0]).split(","))
        return w, s, e, n


def _build_once(workspace: Path, crs: str, path: Path) -> None:
    """Build the tiles unless another thread or process has: one build per file at a time
    (a lock file, so several `serve --workers` build it once); a failure is kept for
    `build_error` (the app then shows no street map and says why)."""
    import fcntl

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _BUILD_ONE, open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                build_tiles(workspace, crs, path)
    except (OSError, sqlite3.Error, ValueError, WhereaboutsError) as exc:
        _FAILED[path] = f"{type(exc).__name__}: {exc}"
        if threading.current_thread() is threading.main_thread():
            raise
    finally:
        with _BUILD_LOCK:
            _BUILDING.discard(path)


def build_error(workspace: Path, crs: str) -> str | None:
    """Why the last background build of the workspace's tiles failed (None: it did not)."""
    key = _key(workspace, crs)
    return None if key is None else _FAILED.get(workspace / "tiles" / f"map-{key}.mbtiles")


_BUILD_ONE = threading.Lock()
_BUILDING: set[Path] = set()
_FAILED: dict[Path, str] = {}


__all__ = [
    "LAYER_MIN_ZOOM",
    "MAX_ZOOM",
    "MIN_ZOOM",
    "ROAD_MIN_ZOOM",
    "VectorTiles",
    "build_error",
    "build_tiles",
    "grid_affine",
    "tile_bounds",
    "tiles_over",
]
