"""One entry point for every input kind: `open_input` streams chunks (what the store uses,
so a 10-million-row file never sits in memory), `read` returns a whole `ReadResult`.

Kinds and tables are those of `schema.KINDS`. CSV and Parquet are told apart by suffix;
places may also be GeoJSON; areas and roads are GeoJSON. The map's kinds (roads, buildings,
water, green, rail, addresses) are also read from OSM extracts (io/osm.py, pyosmium) and GIS
files (io/layers.py, GDAL): GeoPackage, Shapefile, zipped Shapefiles, GeoJSON; addresses
also from CSV or Parquet. TETRA LIP, GPX and NMEA have their own
readers (io/lip/, io/gpx.py, io/nmea.py; all three stream in chunks), imported only when
such a file is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from whereabouts import schema
from whereabouts.errors import ParameterError, ProfileError
from whereabouts.io.files import require_file
from whereabouts.io.geojson import read_areas, read_places_geojson
from whereabouts.io.profile import IDENTITY, Profile, load_profile
from whereabouts.io.result import QUARANTINE, ReadResult, merge_exact_duplicates
from whereabouts.io.tables import SPECS, Context
from whereabouts.io.tabular import (
    Chunk,
    Lines,
    Mode,
    Reread,
    map_columns,
    parquet_columns,
    read_header,
    stream_csv,
    stream_parquet,
)
from whereabouts.io.times import DEFAULT_TIMEZONE
from whereabouts.tracks.projection import BNG

GEOJSON = (".geojson", ".json")


@dataclass
class Input:
    """An input file opened for reading as one kind; `chunks()` streams it."""

    kind: str
    path: Path
    profile: Profile
    produce: Callable[[Mode], Iterator[Chunk]]
    notes: list[str] = field(default_factory=list)

    @property
    def table(self) -> str:
        """The workspace table this kind of input goes to."""
        return schema.KINDS[self.kind]

    def chunks(self, *, mode: Mode = "typed") -> Iterator[Chunk]:
        """The file's chunks; CSV raises Reread(mode) to be read again in another mode."""
        return self.produce(mode)


def _single(reader: Callable[[], ReadResult]) -> Callable[[Mode], Iterator[Chunk]]:
    def produce(_mode: Mode) -> Iterator[Chunk]:
        result = reader().check()
        yield Chunk(result.accepted, result.quarantine, result.read, result.duplicates)

    return produce


def open_input(
    kind: str,
    path: Path | str,
    *,
    profile: str | None = None,
    device_id: str | None = None,
    timezone: str | None = None,
    crs: str = BNG,
    physical_lines: Lines = None,
    now: datetime | None = None,
) -> Input:
    """Open `path` as input `kind`, checking its columns (a SchemaError names what is wrong).

    `timezone` (for naive times) overrides the profile's, which overrides the default
    Europe/London. `crs` is the workspace's, used for the areas' WKB.
    """
    path = Path(path)
    if kind not in schema.KINDS:
        raise ParameterError(
            f"unknown input kind {kind!r}", hint=f"use one of {', '.join(schema.KINDS)}"
        )
    require_file(path)
    prof = load_profile(profile)
    if prof.kinds and kind not in prof.kinds:
        raise ProfileError(
            f"profile {prof.name!r} is for {list(prof.kinds)}, not {kind}",
            hint="choose a profile made for this kind (`whereabouts profiles`)",
        )
    zone = timezone or prof.time_zone or DEFAULT_TIMEZONE
    ctx = Context(
        file=str(path), timezone=zone, profile=prof, device_id=device_id, now=now, workspace_crs=crs
    )
    own = _own_reader(kind, path, prof, ctx, crs)
    if own is not None:
        return own
    return _tabular(kind, path, prof, ctx, physical_lines=physical_lines)


def _own_reader(kind: str, path: Path, prof: Profile, ctx: Context, crs: str) -> Input | None:
    """The input of a kind or format with a reader of its own (TETRA LIP, GPX, NMEA, areas,
    map layers, roads, GeoJSON places); None for a table of CSV or Parquet."""
    if kind == "lip":
        from whereabouts.io.lip.reader import stream_lip

        # whole-file problems (empty, header only, wrong columns) surface at the first chunk
        zone = ctx.timezone
        return Input(kind, path, prof, lambda _m: stream_lip(path, timezone=zone, crs=crs))
    if kind == "gpx":
        return _gpx(path, prof, ctx.device_id, crs)
    if kind == "nmea":
        return _nmea(path, prof, ctx.device_id, crs)
    if kind == "areas":
        return Input(kind, path, prof, lambda _e: iter([read_areas(path, ctx, crs)]))
    if kind in schema.MAP_KINDS and is_map_source(path, kind):

        def layer() -> ReadResult:
            chunk = read_map_layer(path, kind, crs)
            return ReadResult(
                schema.KINDS[kind], str(path), chunk.accepted, chunk.quarantine, chunk.read, 0
            )

        return Input(kind, path, prof, _single(layer))
    if kind == "roads":

        def roads() -> ReadResult:
            from whereabouts.io.roads import read_roads

            chunk = read_roads(path, crs)
            return ReadResult("roads", str(path), chunk.accepted, chunk.quarantine, chunk.read, 0)

        return Input(kind, path, prof, _single(roads))
    if kind == "places" and path.suffix.lower() in GEOJSON:
        return Input(kind, path, prof, lambda _e: iter([read_places_geojson(path, ctx)]))
    return None


def _gpx(path: Path, prof: Profile, device_id: str | None, crs: str) -> Input:
    """A GPX file's input; its device is --device-id, or else the file's name (noted)."""

    def gpx(_mode: Mode) -> Iterator[Chunk]:
        from whereabouts.io.gpx import stream_gpx

        return stream_gpx(path, device_id=device_id, crs=crs)

    taken = (
        []
        if device_id
        else [
            f"no --device-id given: its fixes are device {path.stem!r}, from the file name "
            "(to change it: ingest again with --device-id ID --supersede)"
        ]
    )
    return Input("gpx", path, prof, gpx, taken)


def _nmea(path: Path, prof: Profile, device_id: str | None, crs: str) -> Input:
    """An NMEA log's input (its device must be given: NMEA names none)."""
    if not device_id:
        raise ParameterError(
            "NMEA logs carry no device id",
            hint="give --device-id for the device that made the log",
        )

    def nmea(_mode: Mode) -> Iterator[Chunk]:
        from whereabouts.io.nmea import stream_nmea

        assert device_id is not None
        return stream_nmea(path, device_id=device_id, crs=crs)

    return Input("nmea", path, prof, nmea)


def _tabular(kind: str, path: Path, prof: Profile, ctx: Context, *, physical_lines: Lines) -> Input:
    """A table of CSV or Parquet, its columns mapped (the profile's names, its constants,
    --device-id for files without a device column)."""
    device_id = ctx.device_id
    spec = SPECS[schema.KINDS[kind]]
    constants = dict(prof.constants)
    if device_id and "device_id" in spec.known:
        constants["device_id"] = device_id
    if path.suffix.lower() == ".parquet":
        found = parquet_columns(path)
        mapping = map_columns(found, spec, prof, file=str(path), kind=kind, constants=constants)
        return Input(
            kind, path, prof, lambda _e: stream_parquet(path, spec, ctx, mapping, constants)
        )
    found = read_header(path)
    mapping = map_columns(found, spec, prof, file=str(path), kind=kind, constants=constants)
    if device_id and "device_id" in mapping:
        # the file's own column wins; the option only fills files without one
        constants.pop("device_id")
    return Input(
        kind,
        path,
        prof,
        lambda mode: stream_csv(
            path, spec, ctx, mapping, constants, mode=mode, physical_lines=physical_lines
        ),
    )


def is_map_source(path: Path, kind: str) -> bool:
    """True when `path` is read by the map readers (pyosmium, GDAL): an OSM extract, a
    GeoPackage, a Shapefile (plain or zipped), or GeoJSON of any map kind but roads (a roads
    GeoJSON keeps its own reader, io/roads.py, which needs a name or ref on each road)."""
    from whereabouts.io.osm import is_osm

    suffix = path.suffix.lower()
    if is_osm(path) or suffix in (".gpkg", ".shp", ".zip", ".fgb"):
        return True
    return suffix in GEOJSON and kind not in ("roads", "places", "areas")


def read_map_layer(path: Path, kind: str, crs: str) -> Chunk:
    """One map kind from an OSM extract (pyosmium) or a GIS file (GDAL via pyogrio)."""
    from whereabouts.io.osm import is_osm, read_osm

    if is_osm(path):
        return read_osm(path, crs)[kind]
    from whereabouts.io.layers import read_layer

    return read_layer(path, kind, crs)


def map_kinds(path: Path | str) -> list[str]:
    """The map kinds a file holds, for `--kind map`: all of them for an OSM extract, the
    kinds whose layers a GeoPackage or zip of Shapefiles has (io.layers.LAYER_NAMES)."""
    from whereabouts.io.osm import is_osm

    path = Path(path)
    require_file(path)
    if is_osm(path):
        return list(schema.MAP_KINDS)
    from whereabouts.io.layers import choose_layers, layers_of

    names = layers_of(path)
    found = [
        k
        for k in schema.MAP_KINDS
        if len(names) > 1 and choose_layers(path, k, names, required=False)
    ]
    if not found:
        raise ParameterError(
            f"{path}: cannot tell which map layers this file holds (its layers: {names})",
            hint="ingest it with the --kind it holds (roads, buildings, "
            "water, green, rail or addresses)",
        )
    return found


def read(
    kind: str,
    path: Path | str,
    *,
    profile: str | None = None,
    device_id: str | None = None,
    timezone: str | None = None,
    crs: str = BNG,
    now: datetime | None = None,
) -> ReadResult:
    """Read a whole input into one ReadResult, exact duplicates merged and counted.

    Example: ``read("devices", "devices.csv").counts`` → {"read": 3, "accepted": 3, …}.
    """
    from whereabouts.io.tabular import digest

    path = Path(path)
    lines = digest(path)[2] if path.is_file() else None
    source = open_input(
        kind,
        path,
        profile=profile,
        device_id=device_id,
        timezone=timezone,
        crs=crs,
        physical_lines=lines,
        now=now,
    )
    mode: Mode = "typed"
    while True:
        try:
            chunks = list(source.chunks(mode=mode))
            break
        except Reread as again:
            mode = again.mode
    table_name = schema.KINDS[kind]
    if chunks:
        accepted = pa.concat_tables([c.accepted for c in chunks], promote_options="permissive")
        quarantine = pa.concat_tables([c.quarantine for c in chunks])
    else:
        names = [f.name for f in schema.TABLES[table_name] if f.name not in ("src_file", "x", "y")]
        accepted = schema.TABLES[table_name].empty_table().select(names)
        quarantine = QUARANTINE.empty_table()
    accepted, merged = merge_exact_duplicates(accepted)
    return ReadResult(
        table=table_name,
        file=str(path),
        accepted=accepted,
        quarantine=quarantine,
        read=sum(c.read for c in chunks),
        duplicates=merged + sum(c.duplicates for c in chunks),
        notes=tuple(source.notes),
    ).check()


__all__ = [
    "GEOJSON",
    "IDENTITY",
    "Input",
    "is_map_source",
    "map_kinds",
    "open_input",
    "read",
    "read_map_layer",
    "require_file",
]
