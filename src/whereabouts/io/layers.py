"""Map layers from GIS files, read with GDAL through pyogrio: GeoPackage (OS Open Roads,
OS OpenMap Local, OS Open Greenspace), zipped or plain Shapefiles, GeoJSON.

    chunk = read_layer(Path("opmplc_gb.gpkg"), "buildings", "EPSG:27700")

Which of a file's layers are the kind asked for: a file with one layer is that kind; in a
file of several, the layers whose names are the kind's (`LAYER_NAMES`, compared without
case, punctuation or an OS tile prefix such as "SU_") — OS Open Roads' `road_link`, OpenMap
Local's `building`, `surface_water_area`, `woodland`, `railway_track`, Geofabrik's
`gis_osm_roads_free_1` and the like. Attributes are found by the usual names of each
source (`FIELDS`: OS `name_1`/`road_classification_number`/`road_classification`, OSM
`name`/`ref`/`highway`/`fclass`). Coordinates are taken in the layer's own CRS (a file
without one is refused) and projected to the workspace's.

Each feature ends accepted or quarantined with its reason: no geometry, the wrong kind of
geometry for the layer (roads and rail are lines; buildings and green space polygons;
water either; addresses points), an invalid polygon (GEOS's reason), or outside the area
the workspace CRS covers. A quarantined feature's "line" is its 1-based position over the
layers read, in order; its raw text names the layer and feature id.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyogrio import raw
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS, Transformer

from whereabouts.errors import InputError
from whereabouts.io.result import quarantine_table
from whereabouts.io.tabular import Chunk
from whereabouts.tracks.projection import area_of_use

LAYER_NAMES: dict[str, tuple[str, ...]] = {
    "roads": ("roadlink", "road", "roads", "gisosmroadsfree1", "highways", "streets"),
    "buildings": ("building", "buildings", "gisosmbuildingsafree1", "importantbuilding"),
    "water": (
        "surfacewaterarea",
        "surfacewaterline",
        "tidalwater",
        "water",
        "waterways",
        "waterway",
        "gisosmwaterafree1",
        "gisosmwaterwaysfree1",
        "watercourselink",
    ),
    "green": ("greenspacesite", "greenspace", "woodland", "green", "parks", "park"),
    "rail": ("railwaytrack", "rail", "railway", "railways", "gisosmrailwaysfree1"),
    "addresses": ("addresses", "address", "addressbase", "osopenuprn", "uprn"),
}
FIELDS: dict[str, tuple[str, ...]] = {
    "id": (
        "id",
        "identifier",
        "toid",
        "osmid",
        "roadid",
        "featureid",
        "uprn",
        "addressid",
        "gmlid",
    ),
    "name": (
        "name",
        "name1",
        "distinctivename",
        "distinctivename1",
        "distname",
        "roadname",
        "address",
        "fulladdress",
        "singlelineaddress",
    ),
    "ref": ("ref", "roadclassificationnumber", "roadnumber", "number", "roadclassi"),
    "kind": (
        "kind",
        "class",
        "roadclassification",
        "classification",
        "classifica",
        "highway",
        "fclass",
        "roadfunction",
        "function",
        "featurecode",
        "featcode",
        "type",
    ),
}
GEOMETRY: dict[str, tuple[str, ...]] = {
    "roads": ("LineString", "MultiLineString"),
    "rail": ("LineString", "MultiLineString"),
    "buildings": ("Polygon", "MultiPolygon"),
    "green": ("Polygon", "MultiPolygon"),
    "water": ("Polygon", "MultiPolygon", "LineString", "MultiLineString"),
    "addresses": ("Point", "MultiPoint", "Polygon", "MultiPolygon"),
}
_TYPE_IDS = {
    0: "Point",
    1: "LineString",
    2: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def _norm(name: str) -> str:
    """A layer or field name compared without case, punctuation or an OS tile prefix."""
    text = re.sub(r"^[a-z]{2}_(?=[a-z])", "", name.strip().lower())
    return re.sub(r"[^a-z0-9]", "", text)


def _vsi(path: Path) -> str:
    """The path GDAL opens: a zip (of Shapefiles) through /vsizip/."""
    return f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)


def layers_of(path: Path) -> list[str]:
    """The file's layer names, or an InputError saying GDAL cannot read it."""
    try:
        return [str(row[0]) for row in pyogrio.list_layers(_vsi(path))]
    except (DataSourceError, DataLayerError) as exc:
        raise InputError(
            f"GDAL cannot read this as a map layer: {_short(exc)}",
            where=str(path),
            hint="give a GeoPackage (.gpkg), a Shapefile (.shp with its .dbf, "
            ".shx and .prj, or all zipped), GeoJSON or an OSM extract "
            "(.osm.pbf)",
        ) from exc


def choose_layers(path: Path, kind: str, names: list[str], *, required: bool = True) -> list[str]:
    """The layers of `path` holding `kind` (see the module docstring)."""
    if len(names) == 1:
        return names
    wanted = LAYER_NAMES[kind]
    chosen = [n for n in names if _norm(n) in wanted]
    if not chosen and required:
        raise InputError(
            f"none of the file's layers is {kind}: it has {names}",
            where=str(path),
            hint=f"{kind} are read from layers named like {list(wanted)[:4]}; "
            "rename the layer, or export it to a file of its own",
        )
    return chosen


def read_layer(path: Path, kind: str, crs: str, *, required: bool = True) -> Chunk:
    """Features of `kind` from a GIS file (every matching layer), WKB in `crs`."""
    chosen = choose_layers(path, kind, layers_of(path), required=required)
    parts = [_read_one(path, layer, kind, crs) for layer in chosen]
    offset = 0
    accepted: list[pa.Table] = []
    quarantined: list[pa.Table] = []
    for acc, quar, n in parts:
        accepted.append(
            acc.set_column(
                acc.schema.get_field_index("src_line"),
                "src_line",
                pa.compute.add(acc["src_line"], offset),
            )
        )
        quarantined.append(quar.set_column(0, "line", pa.compute.add(quar["line"], offset)))
        offset += n
    if not parts:
        return Chunk(_empty(kind), quarantine_table([], [], [], []), 0)
    return Chunk(pa.concat_tables(accepted), pa.concat_tables(quarantined), offset)


def _short(exc: Exception) -> str:
    return str(exc).split("\n")[0][:300]


def _field(meta: dict[str, Any], data: list[Any], role: str, n: int) -> list[str | None]:
    names = [str(f) for f in meta["fields"]]
    by_norm = {_norm(f): i for i, f in enumerate(names)}
    for alias in FIELDS[role]:
        if alias in by_norm:
            col = data[by_norm[alias]]
            out: list[str | None] = []
            for v in col.tolist():
                text = (
                    None
                    if v is None or (isinstance(v, float) and math.isnan(v))
                    else str(v).strip()
                )
                out.append(text or None)
            return out
    return [None] * n


def _geometries(wkb: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The features' geometries, which are usable (`live`) and each one's problem: none,
    empty, of a type the kind does not take, or an invalid polygon."""
    n = len(wkb)
    geoms = np.full(n, None, dtype=object)
    has = np.array([g is not None for g in wkb], dtype=bool)
    if has.any():
        geoms[has] = shapely.from_wkb(np.asarray(wkb, dtype=object)[has], on_invalid="ignore")
    problem = np.full(n, None, dtype=object)
    has &= np.array([g is not None for g in geoms], dtype=bool)
    problem[~has] = "no geometry"
    empty = np.zeros(n, bool)
    empty[has] = shapely.is_empty(geoms[has])
    problem[empty] = "empty geometry"
    live = has & ~empty
    types = np.full(n, "", dtype=object)
    types[live] = [_TYPE_IDS.get(int(t), "?") for t in shapely.get_type_id(geoms[live])]
    wrong = live & ~np.isin(types, GEOMETRY[kind])
    for i in np.flatnonzero(wrong):
        problem[i] = (
            f"geometry is {types[i]}, not {' or '.join(GEOMETRY[kind][:2])} as {kind} must be"
        )
    live &= ~wrong
    polygon = live & np.isin(types, ("Polygon", "MultiPolygon"))
    if polygon.any():
        valid = shapely.is_valid(geoms[polygon])
        idx = np.flatnonzero(polygon)[~valid]
        for i, why in zip(idx, shapely.is_valid_reason(geoms[idx]), strict=True):
            problem[i] = f"invalid polygon: {why}"
        live[idx] = False
    return geoms, live, problem


def _read_one(path: Path, layer: str, kind: str, crs: str) -> tuple[pa.Table, pa.Table, int]:
    try:
        meta, fids, wkb, data = raw.read(_vsi(path), layer=layer, return_fids=True, force_2d=True)
    except (DataSourceError, DataLayerError) as exc:
        raise InputError(
            f"GDAL cannot read layer {layer!r}: {_short(exc)}",
            where=str(path),
            hint="check the file is whole (re-download or re-export it)",
        ) from exc
    n = len(wkb)
    source_crs = meta.get("crs")
    if not source_crs:
        raise InputError(
            f"layer {layer!r} has no coordinate reference system",
            where=str(path),
            hint="a Shapefile needs its .prj beside it (or inside the zip); "
            "re-export the layer with its CRS",
        )
    ids = _field(meta, data, "id", n)
    fid_text = [str(f) for f in (fids.tolist() if fids is not None else range(1, n + 1))]
    names = _field(meta, data, "name", n)
    refs = _field(meta, data, "ref", n)
    classes = _field(meta, data, "kind", n)
    geoms, live, problem = _geometries(wkb, kind)
    if kind == "addresses" and live.any():
        from whereabouts.io.osm import address_points

        geoms[live] = address_points(geoms[live])
    source = CRS.from_user_input(source_crs)
    to_ws = Transformer.from_crs(source, crs, always_xy=True)
    to_ll = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
    area = area_of_use(crs)
    lonlat = np.full((n, 2), np.nan)
    if live.any():
        centre = shapely.get_coordinates(shapely.centroid(geoms[live]))
        lon, lat = to_ll.transform(centre[:, 0], centre[:, 1])
        lonlat[live] = np.column_stack([lon, lat])
        if area is not None:
            west, south, east, north = area
            out = live & ~(
                (lonlat[:, 0] >= west - 0.5)
                & (lonlat[:, 0] <= east + 0.5)
                & (lonlat[:, 1] >= south - 0.5)
                & (lonlat[:, 1] <= north + 0.5)
            )
            problem[out] = (
                f"lies outside the area {crs} covers (give the workspace the CRS "
                "of the data: `whereabouts init --crs`)"
            )
            live &= ~out
    keep = np.flatnonzero(live)

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = to_ws.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    projected = shapely.transform(geoms[keep], project) if len(keep) else np.array([])
    key = [ids[i] or f"{_norm(layer)}/{fid_text[i]}" for i in keep]
    lines = pa.array(keep + 1, pa.int64())
    name = pa.array([names[i] for i in keep], pa.string())
    if kind == "addresses":
        xy = shapely.get_coordinates(projected) if len(keep) else np.zeros((0, 2))
        acc = pa.table(
            {
                "address_id": pa.array(key, pa.string()),
                "address": name,
                "lat": pa.array(lonlat[keep, 1]),
                "lon": pa.array(lonlat[keep, 0]),
                "x": pa.array(xy[:, 0]),
                "y": pa.array(xy[:, 1]),
                "src_line": lines,
            }
        )
        acc = acc.filter(pa.compute.is_valid(acc["address"]))
        nameless = [i for i in keep if names[i] is None]
        for i in nameless:
            problem[i] = "address has no address text"
    else:
        wkb_out = pa.array(shapely.to_wkb(projected).tolist() if len(keep) else [], pa.binary())
        cls = pa.array([classes[i] for i in keep], pa.string())
        if kind == "roads":
            acc = pa.table(
                {
                    "road_id": pa.array(key, pa.string()),
                    "name": name,
                    "ref": pa.array([refs[i] for i in keep], pa.string()),
                    "kind": cls,
                    "geometry_wkb": wkb_out,
                    "src_line": lines,
                }
            )
        else:
            acc = pa.table(
                {
                    "feature_id": pa.array(key, pa.string()),
                    "name": name,
                    "kind": cls,
                    "geometry_wkb": wkb_out,
                    "src_line": lines,
                }
            )
    bad = np.flatnonzero(np.array([p is not None for p in problem], dtype=bool))
    quarantine = quarantine_table(
        bad + 1,
        ["geometry"] * len(bad),
        [str(problem[i]) for i in bad],
        [f"layer {layer} feature {ids[i] or fid_text[i]}" for i in bad],
    )
    return acc, quarantine, n


def _empty(kind: str) -> pa.Table:
    from whereabouts import schema

    sch = schema.TABLES[kind]
    return sch.empty_table().select([f for f in sch.names if f not in ("src_file",)])


__all__ = ["FIELDS", "GEOMETRY", "LAYER_NAMES", "choose_layers", "layers_of", "read_layer"]
