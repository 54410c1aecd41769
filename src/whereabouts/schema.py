"""Canonical tables: the columns every reader produces and every layer consumes.

Times are UTC microseconds (`timestamp[us, tz=UTC]`). Identifiers are strings, even when
they look like numbers (ISSIs). Positions are kept as WGS84 `lat`,`lon` and as metres
`x`,`y` in the workspace's projected CRS (EPSG:27700 by default). Every stored row keeps
its provenance: `src_file` (the input's SHA-256, first 16 hex) and `src_line` (1-based line
or record number in that file).
"""

from __future__ import annotations

import pyarrow as pa

from whereabouts.vocabulary import (
    DEVICE_KINDS,
    FLAGS,
    KINDS,
    MAP_KINDS,
    OFFICER_STATUSES,
    PLACE_KINDS,
    POLICE_PLACE_KINDS,
    REASONS,
    TABLE_NAMES,
)

UTC_TS = pa.timestamp("us", tz="UTC")

PROVENANCE = [
    pa.field("src_file", pa.string(), nullable=False),
    pa.field("src_line", pa.int64(), nullable=False),
]

FIXES = pa.schema(
    [
        pa.field("device_id", pa.string(), nullable=False),
        pa.field("time", UTC_TS, nullable=False),
        pa.field("lat", pa.float64(), nullable=False),
        pa.field("lon", pa.float64(), nullable=False),
        pa.field("x", pa.float64(), nullable=False),
        pa.field("y", pa.float64(), nullable=False),
        pa.field("accuracy_m", pa.float64()),
        pa.field("speed_mps", pa.float64()),
        pa.field("heading_deg", pa.float64()),
        pa.field("time_uncertainty_s", pa.float64()),
        pa.field("source", pa.string()),
        *PROVENANCE,
    ]
)

DEVICES = pa.schema(
    [
        pa.field("device_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),  # vehicle | radio | other
        pa.field("label", pa.string()),
        *PROVENANCE,
    ]
)

OFFICERS = pa.schema(
    [
        pa.field("officer_id", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("rank", pa.string()),
        pa.field("team", pa.string()),
        pa.field("station", pa.string()),
        pa.field("status", pa.string()),  # serving | resigned | retired
        *PROVENANCE,
    ]
)

ASSIGNMENTS = pa.schema(
    [
        pa.field("officer_id", pa.string(), nullable=False),
        pa.field("device_id", pa.string(), nullable=False),
        pa.field("start", UTC_TS, nullable=False),
        pa.field("end", UTC_TS, nullable=False),
        *PROVENANCE,
    ]
)

DUTY = pa.schema(
    [
        pa.field("officer_id", pa.string(), nullable=False),
        pa.field("start", UTC_TS, nullable=False),
        pa.field("end", UTC_TS, nullable=False),
        pa.field("duty_type", pa.string()),
        pa.field("area_id", pa.string()),
        *PROVENANCE,
    ]
)

INCIDENTS = pa.schema(
    [
        pa.field("incident_id", pa.string(), nullable=False),
        pa.field("created_at", UTC_TS, nullable=False),
        pa.field("lat", pa.float64(), nullable=False),
        pa.field("lon", pa.float64(), nullable=False),
        pa.field("x", pa.float64(), nullable=False),
        pa.field("y", pa.float64(), nullable=False),
        pa.field("category", pa.string()),
        pa.field("priority", pa.int8()),  # 1 = immediate … 4
        pa.field("closed_at", UTC_TS),
        *PROVENANCE,
    ]
)

ATTACHMENTS = pa.schema(
    [
        pa.field("incident_id", pa.string(), nullable=False),
        pa.field("officer_id", pa.string()),
        pa.field("device_id", pa.string()),  # one of officer_id / device_id is set
        pa.field("dispatched_at", UTC_TS, nullable=False),
        pa.field("arrived_at", UTC_TS),
        pa.field("cleared_at", UTC_TS),
        *PROVENANCE,
    ]
)

PLACES = pa.schema(
    [
        pa.field("place_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("lat", pa.float64(), nullable=False),
        pa.field("lon", pa.float64(), nullable=False),
        pa.field("x", pa.float64(), nullable=False),
        pa.field("y", pa.float64(), nullable=False),
        pa.field("radius_m", pa.float64()),
        pa.field("name", pa.string()),
        pa.field("owner_officer_id", pa.string()),
        *PROVENANCE,
    ]
)

# Areas keep their polygon as GeoJSON geometry text (WGS84) and as WKB in the workspace CRS.
AREAS = pa.schema(
    [
        pa.field("area_id", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("geometry_geojson", pa.string(), nullable=False),
        pa.field("geometry_wkb", pa.binary(), nullable=False),
        *PROVENANCE,
    ]
)

# Roads keep their line as WKB in the workspace CRS; `name` and/or `ref` (e.g. "A4059") is
# set on every row read from a roads GeoJSON (the layer that names roads); roads read from a
# map source (GeoPackage, Shapefile, OSM extract) may have neither and are then drawn, never
# named. `kind` is the source's class of road (OSM `highway`, OS `road_classification`).
ROADS = pa.schema(
    [
        pa.field("road_id", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("ref", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("geometry_wkb", pa.binary(), nullable=False),
        *PROVENANCE,
    ]
)


def _layer() -> pa.Schema:
    """A map layer other than roads: a polygon or line as WKB in the workspace CRS, its
    name when it has one and the source's class of feature (OSM tag value, OS feature type)."""
    return pa.schema(
        [
            pa.field("feature_id", pa.string(), nullable=False),
            pa.field("name", pa.string()),
            pa.field("kind", pa.string()),
            pa.field("geometry_wkb", pa.binary(), nullable=False),
            *PROVENANCE,
        ]
    )


BUILDINGS = _layer()
WATER = _layer()
GREEN = _layer()
RAIL = _layer()

# Addresses (OS Open UPRN / AddressBase style, OSM addr:*): one point per address.
ADDRESSES = pa.schema(
    [
        pa.field("address_id", pa.string(), nullable=False),
        pa.field("address", pa.string(), nullable=False),  # "14 Ash Walk, Aberllyn"
        pa.field("lat", pa.float64(), nullable=False),
        pa.field("lon", pa.float64(), nullable=False),
        pa.field("x", pa.float64(), nullable=False),
        pa.field("y", pa.float64(), nullable=False),
        *PROVENANCE,
    ]
)

TABLES: dict[str, pa.Schema] = {
    "fixes": FIXES,
    "devices": DEVICES,
    "officers": OFFICERS,
    "assignments": ASSIGNMENTS,
    "duty": DUTY,
    "incidents": INCIDENTS,
    "attachments": ATTACHMENTS,
    "places": PLACES,
    "areas": AREAS,
    "roads": ROADS,
    "buildings": BUILDINGS,
    "water": WATER,
    "green": GREEN,
    "rail": RAIL,
    "addresses": ADDRESSES,
}

# The engine's canonical output.
ENCOUNTERS = pa.schema(
    [
        pa.field("device_a", pa.string(), nullable=False),
        pa.field("device_b", pa.string(), nullable=False),
        pa.field("start", UTC_TS, nullable=False),
        pa.field("end", UTC_TS, nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
        pa.field("min_distance_m", pa.float64(), nullable=False),
        pa.field("certain_s", pa.float64()),
        pa.field("possible_s", pa.float64()),
    ]
)

__all__ = [
    "ADDRESSES",
    "AREAS",
    "ASSIGNMENTS",
    "ATTACHMENTS",
    "BUILDINGS",
    "DEVICES",
    "DEVICE_KINDS",
    "DUTY",
    "ENCOUNTERS",
    "FIXES",
    "FLAGS",
    "GREEN",
    "INCIDENTS",
    "KINDS",
    "MAP_KINDS",
    "OFFICERS",
    "OFFICER_STATUSES",
    "PLACES",
    "PLACE_KINDS",
    "POLICE_PLACE_KINDS",
    "RAIL",
    "REASONS",
    "ROADS",
    "TABLES",
    "TABLE_NAMES",
    "UTC_TS",
    "WATER",
]
