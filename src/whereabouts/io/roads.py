"""Roads from GeoJSON: named or numbered lines (OSM-style exports or the simulator's).

Each feature is a LineString or MultiLineString in WGS84 with a `name` and/or a `ref`
("A4059"); `kind` (or OSM's `highway`) and `road_id` (or the feature's `id`, OSM's `@id`
or `osm_id`) are kept when given, else the id is a hash of the feature ("sha1:…", so an
exact duplicate feature merges as one). A feature's "line"
is its 1-based position in the FeatureCollection. A feature is quarantined with its reason
when it has no geometry, is not a line, cannot be read as one, has neither name nor ref,
or has coordinates outside WGS84 ranges (or lat and lon swapped, when the workspace CRS
says where the data should lie). Accepted lines are stored as WKB in the workspace CRS.

The features are parsed once in Python (JSON is); the checks, the geometry building and
the projection run over all features at once with shapely 2 and pyproj.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

from whereabouts.io.geojson import load_features
from whereabouts.io.result import quarantine_table
from whereabouts.io.tabular import Chunk
from whereabouts.tracks.projection import BNG, area_of_use, to_projected

LINE_TYPES = ("LineString", "MultiLineString")
ID_KEYS = ("road_id", "@id", "osm_id", "id")  # properties naming a road, in that order
KIND_KEYS = ("kind", "highway")


def _text(value: object) -> str | None:
    """A property as trimmed text; None for absent or blank values."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _first(props: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        text = _text(props.get(key))
        if text is not None:
            return text
    return None


def _inside(bounds: np.ndarray, area: tuple[float, float, float, float]) -> np.ndarray:
    west, south, east, north = area
    return (
        (bounds[:, 0] >= west)
        & (bounds[:, 2] <= east)
        & (bounds[:, 1] >= south)
        & (bounds[:, 3] <= north)
    )


def read_roads(path: Path, crs: str = BNG) -> Chunk:
    """Roads from a GeoJSON FeatureCollection of lines; WKB in `crs` (the workspace's)."""
    features = load_features(path)
    n = len(features)
    props: list[dict[str, Any]] = [
        p if isinstance(p := f.get("properties"), dict) else {} for f in features
    ]
    geoms_in: list[dict[str, Any]] = [
        g if isinstance(g := f.get("geometry"), dict) else {} for f in features
    ]
    gtype = _objects([g.get("type") for g in geoms_in])
    name = _objects([_text(p.get("name")) for p in props])
    ref = _objects([_text(p.get("ref")) for p in props])
    kind = _objects([_first(p, KIND_KEYS) for p in props])
    ids = _objects(
        [
            _first(p, ID_KEYS[:1]) or _text(f.get("id")) or _first(p, ID_KEYS[1:]) or _content_id(f)
            for f, p in zip(features, props, strict=True)
        ]
    )

    reason = _objects([None] * n)
    column = _objects([None] * n)

    def flag(mask: np.ndarray, col: str, why: str | np.ndarray) -> None:
        fresh = mask & _missing(reason)
        reason[fresh] = why[fresh] if isinstance(why, np.ndarray) else why
        column[fresh] = col

    has_geom = np.array([bool(g) for g in geoms_in], dtype=bool)
    flag(~has_geom, "geometry", "no geometry")
    is_line = np.isin(gtype, LINE_TYPES)
    flag(
        has_geom & ~is_line,
        "geometry",
        _objects([f"geometry is {t!r}, not a LineString or MultiLineString" for t in gtype]),
    )
    lines = _objects([None] * n)
    todo = np.flatnonzero(is_line)
    if len(todo):
        text = [
            json.dumps(geoms_in[i], allow_nan=False) if _finite_json(geoms_in[i]) else ""
            for i in todo
        ]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            lines[todo] = shapely.from_geojson(_objects(text), on_invalid="ignore")
    unreadable = is_line & _missing(lines)
    flag(
        unreadable,
        "geometry",
        "malformed line: coordinates cannot be read as a line of two or more [lon, lat] positions",
    )
    ok_geom = ~_missing(lines)
    geoms = lines[ok_geom]
    empty = np.zeros(n, bool)
    empty[ok_geom] = shapely.is_empty(geoms)
    flag(empty, "geometry", "empty line")
    flag(_missing(name) & _missing(ref), "name", "no name nor ref")
    bounds = np.full((n, 4), np.nan)
    if ok_geom.any():
        bounds[ok_geom] = shapely.bounds(geoms)
    wgs84 = _inside(bounds, (-180.0, -90.0, 180.0, 90.0))
    flag(
        ok_geom & ~empty & ~wgs84,
        "geometry",
        "coordinates out of range (expected WGS84 [lon, lat])",
    )
    area = area_of_use(crs)
    if area is not None:
        swapped = ok_geom & ~empty & ~_inside(bounds, area) & _inside(bounds[:, [1, 0, 3, 2]], area)
        flag(swapped, "geometry", "lat and lon look swapped (GeoJSON positions are [lon, lat])")

    good = _missing(reason)
    keep = np.flatnonzero(good)

    def project(lonlat: np.ndarray) -> np.ndarray:
        x, y = to_projected(lonlat[:, 1], lonlat[:, 0], crs)
        return np.column_stack([x, y])

    projected = shapely.transform(lines[keep], project) if len(keep) else np.array([])
    accepted = pa.table(
        {
            "road_id": pa.array(ids[keep].tolist(), pa.string()),
            "name": pa.array(name[keep].tolist(), pa.string()),
            "ref": pa.array(ref[keep].tolist(), pa.string()),
            "kind": pa.array(kind[keep].tolist(), pa.string()),
            "geometry_wkb": pa.array(
                shapely.to_wkb(projected).tolist() if len(keep) else [], pa.binary()
            ),
            "src_line": pa.array(keep + 1, pa.int64()),
        }
    )
    bad = np.flatnonzero(~good)
    quarantine = quarantine_table(
        bad + 1,
        column[bad].tolist(),
        reason[bad].tolist(),
        [json.dumps(features[i])[:2000] for i in bad],
    )
    return Chunk(accepted, quarantine, n)


def _content_id(feature: dict[str, Any]) -> str:
    """An id for a feature without one, from what it holds: identical features get the
    same id (and merge as exact duplicates), different ones different ids."""
    text = json.dumps(feature, sort_keys=True, separators=(",", ":"), default=str)
    return "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _objects(values: list[Any]) -> np.ndarray:
    """An object array of Python values (text, None, geometries) without broadcasting."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _missing(values: np.ndarray) -> np.ndarray:
    """True where an object array holds None (features are few: a list pass is fine)."""
    return np.array([v is None for v in values.tolist()], dtype=bool)


def _finite_json(geometry: dict[str, Any]) -> bool:
    """False when the coordinates hold NaN or infinity (JSON cannot, but Python's can)."""
    try:
        json.dumps(geometry.get("coordinates"), allow_nan=False)
    except (ValueError, TypeError):
        return False
    return True


def road_lines(table: pa.Table) -> list[np.ndarray]:
    """Every single line of a roads table as an (n, 2) array of workspace-CRS metres."""
    if not table.num_rows:
        return []
    geoms = shapely.from_wkb(table.column("geometry_wkb").to_numpy(zero_copy_only=False))
    parts = shapely.get_parts(geoms)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    cuts = np.flatnonzero(np.diff(index)) + 1
    return [c for c in np.split(coords, cuts) if len(c) > 1]


__all__ = ["LINE_TYPES", "read_roads", "road_lines"]
