"""The fixed words of whereabouts, without the Arrow schemas (`schema` re-exports them).

Kept apart from `schema` so that the CLI can name them in its help without importing
pyarrow: `whereabouts --help` must start in a blink (issue 20).
"""

from __future__ import annotations

from typing import Literal

# The canonical tables, in the order commands list them (`schema.TABLES` has their schemas).
TABLE_NAMES = ("fixes", "devices", "officers", "assignments", "duty", "incidents",
               "attachments", "places", "areas", "roads", "buildings", "water", "green", "rail",
               "addresses")

# Input kinds accepted by `whereabouts ingest --kind`, and the table each one fills.
KINDS: dict[str, str] = {
    "fixes": "fixes",
    "lip": "fixes",
    "gpx": "fixes",
    "nmea": "fixes",
    "devices": "devices",
    "officers": "officers",
    "assignments": "assignments",
    "duty": "duty",
    "incidents": "incidents",
    "attachments": "attachments",
    "places": "places",
    "areas": "areas",
    "roads": "roads",
    "buildings": "buildings",
    "water": "water",
    "green": "green",
    "rail": "rail",
    "addresses": "addresses",
}
# The kinds `whereabouts ingest --kind` takes (KINDS, and "map": every map layer of a file);
# tests/test_exported_members.py checks the two agree.
InputKind = Literal["fixes", "lip", "gpx", "nmea", "devices", "officers", "assignments",
                    "duty", "incidents", "attachments", "places", "areas", "roads", "buildings",
                    "water", "green", "rail", "addresses", "map"]
# Whose pairs an investigation compares the subjects' with.
BaselineGroup = Literal["team", "station", "none"]
# The map's kinds: one file (a GeoPackage, an OSM extract) may hold several of them, and
# `--kind map` ingests every one it holds.
MAP_KINDS = ("roads", "buildings", "water", "green", "rail", "addresses")
# Tables of officers' data or their whereabouts: exported whole only by an administrator
# with a stated purpose, audited (the map layers and areas hold none).
PERSONAL_TABLES = ("fixes", "devices", "officers", "assignments", "duty", "incidents",
                   "attachments", "places")

DEVICE_KINDS = ("vehicle", "radio", "other")
PLACE_KINDS = ("police_station", "custody", "hospital", "court", "home", "other")
POLICE_PLACE_KINDS = ("police_station", "custody")
OFFICER_STATUSES = ("serving", "resigned", "retired")

# Fixed vocabularies of the analysis (DESIGN.md "Reasons and context").
REASONS = ("crewed", "same_incident", "premises", "shared_duty", "one_tasked")
FLAGS = ("home", "remote", "outside_area", "stationary")

__all__ = ["DEVICE_KINDS", "FLAGS", "KINDS", "MAP_KINDS", "OFFICER_STATUSES", "PERSONAL_TABLES",
           "PLACE_KINDS", "POLICE_PLACE_KINDS", "REASONS", "TABLE_NAMES", "BaselineGroup",
           "InputKind"]
