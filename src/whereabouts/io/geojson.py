"""GeoJSON inputs: places as points, areas (beats, sectors) as polygons.

A feature's "line" is its 1-based position in the FeatureCollection.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from whereabouts.errors import InputError
from whereabouts.io.result import quarantine_table
from whereabouts.io.tables import SPECS, Context, convert
from whereabouts.io.tabular import Chunk
from whereabouts.tracks.projection import BNG, to_projected


def load_features(path: Path) -> list[dict[str, Any]]:
    """The features of a GeoJSON FeatureCollection (or of a single Feature)."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            "the file is not UTF-8 text", where=file, hint="save the GeoJSON as UTF-8"
        ) from exc
    if not text.strip():
        raise InputError("empty file", where=file, hint="give a GeoJSON FeatureCollection")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}",
            where=file,
            hint="check the GeoJSON with a validator",
        ) from exc
    except RecursionError:
        raise InputError(
            "JSON nested too deeply to be GeoJSON",
            where=file,
            hint="check the file: GeoJSON nests a few levels, not thousands",
        ) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        return [data]
    if not (
        isinstance(data, dict)
        and data.get("type") == "FeatureCollection"
        and isinstance(data.get("features"), list)
    ):
        raise InputError(
            "not a GeoJSON FeatureCollection",
            where=file,
            hint='give {"type": "FeatureCollection", "features": [...]}',
        )
    return [f if isinstance(f, dict) else {} for f in data["features"]]


def _object(value: object) -> dict[str, Any]:
    """A feature's properties or geometry; one that is not an object counts as empty (the
    feature is then quarantined for what it lacks, with its number)."""
    return value if isinstance(value, dict) else {}


def _props(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_object(f.get("properties")) for f in features]


def read_places_geojson(path: Path, ctx: Context) -> Chunk:
    """Places from GeoJSON points with place_id, kind and optional radius_m, name, owner."""
    features = load_features(path)
    spec = SPECS["places"]
    props = _props(features)
    n = len(features)
    cols: dict[str, pa.Array] = {}
    for name in (*spec.ids, *spec.enums, *spec.text, *spec.numbers):
        cols[name] = pa.array(
            [None if p.get(name) is None else str(p[name]) for p in props], pa.string()
        )
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    for i, f in enumerate(features):  # features are few: a force's places, not its fixes
        geom = _object(f.get("geometry"))
        coords = geom.get("coordinates") if geom.get("type") == "Point" else None
        if isinstance(coords, list) and len(coords) >= 2:
            with contextlib.suppress(TypeError, ValueError):  # left NaN: quarantined
                lon[i], lat[i] = float(coords[0]), float(coords[1])
    cols["lat"] = pa.array(lat, from_pandas=True)
    cols["lon"] = pa.array(lon, from_pandas=True)
    raw = pa.table({"feature": pa.array([json.dumps(f)[:2000] for f in features], pa.string())})
    accepted, quarantine = convert(spec, cols, np.arange(1, n + 1, dtype=np.int64), raw, ctx)
    return Chunk(accepted, quarantine, n)


def read_areas(path: Path, ctx: Context, crs: str = BNG) -> Chunk:
    """Areas from GeoJSON (Multi)Polygons with area_id and name; WKB in the workspace CRS."""
    import shapely  # here, not at the top: reading other inputs needs no GEOS
    from shapely.geometry import shape

    features = load_features(path)
    n = len(features)
    ids, names, geojson, wkb, lines = [], [], [], [], []
    q_lines, q_cols, q_reasons, q_raw = [], [], [], []

    def project(lonlat: np.ndarray) -> np.ndarray:
        x, y = to_projected(lonlat[:, 1], lonlat[:, 0], crs)
        return np.column_stack([x, y])

    for i, f in enumerate(features, start=1):  # areas are few (beats, sectors)
        p = _object(f.get("properties"))
        geom = _object(f.get("geometry"))
        area_id = None if p.get("area_id") is None else str(p["area_id"]).strip()
        reason, column = None, None
        if not area_id:
            reason, column = "missing value", "area_id"
        elif geom.get("type") not in ("Polygon", "MultiPolygon"):
            reason, column = f"geometry is {geom.get('type')!r}, not a Polygon", "geometry"
        elif re.search(r"NaN|Infinity", json.dumps(geom.get("coordinates"))):
            reason = "a coordinate is not a number (NaN or infinite)"
            column = "geometry"
        else:
            try:
                poly = shape(geom)
            except (
                ValueError,
                TypeError,
                AttributeError,
                IndexError,
                shapely.errors.GEOSException,
            ) as exc:
                poly, reason, column = None, f"malformed polygon: {exc}", "geometry"
            if poly is not None and reason is None:
                if poly.is_empty or not poly.is_valid:
                    reason = f"invalid polygon: {shapely.is_valid_reason(poly)}"
                    column = "geometry"
                else:
                    b = poly.bounds
                    if not (-180 <= b[0] <= b[2] <= 180 and -90 <= b[1] <= b[3] <= 90):
                        reason, column = "coordinates out of range (expected WGS84)", "geometry"
        if reason:
            q_lines.append(i)
            q_cols.append(column)
            q_reasons.append(reason)
            q_raw.append(json.dumps(f)[:2000])
            continue
        ids.append(area_id)
        names.append(None if p.get("name") is None else str(p["name"]))
        geojson.append(json.dumps(geom, separators=(",", ":")))
        wkb.append(shapely.to_wkb(shapely.transform(poly, project)))
        lines.append(i)
    accepted = pa.table(
        {
            "area_id": pa.array(ids, pa.string()),
            "name": pa.array(names, pa.string()),
            "geometry_geojson": pa.array(geojson, pa.string()),
            "geometry_wkb": pa.array(wkb, pa.binary()),
            "src_line": pa.array(lines, pa.int64()),
        }
    )
    return Chunk(accepted, quarantine_table(q_lines, q_cols, q_reasons, q_raw), n)


__all__ = ["load_features", "read_areas", "read_places_geojson"]
