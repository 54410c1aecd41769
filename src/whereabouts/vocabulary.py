"""The fixed words of whereabouts, without the Arrow schemas (`schema` re-exports them).

Kept apart from `schema` so that the CLI can name them in its help without importing
pyarrow: `whereabouts --help` must start in a blink (issue 20).
"""

from __future__ import annotations

from typing import Literal, get_args

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
Reason = Literal["crewed", "same_incident", "premises", "shared_duty", "one_tasked"]
REASONS: tuple[str, ...] = get_args(Reason)
FLAGS = ("home", "remote", "outside_area", "stationary")

# The same codes in words, as the report, the web app and the exports say them.
REASON_SHORT = {
    "crewed": "crewed together", "same_incident": "same incident",
    "premises": "police premises", "shared_duty": "shared duty on the roster",
    "one_tasked": "one of them tasked (partial)",
}
FLAG_WORDS = {
    "home": "at an officer's home address",
    "remote": "at a remote spot",
    "outside_area": "outside the area they were assigned to",
    "stationary": "both stationary",
}

# Road classes of OSM (`highway`) and OS Open Roads / OpenMap Local, drawn in four styles.
ROAD_CLASS: dict[str, str] = {
    **dict.fromkeys(("motorway", "motorway_link", "trunk", "trunk_link", "primary",
                     "primary_link", "a road", "motorway road", "a road primary",
                     "primary road"), "major"),
    **dict.fromkeys(("secondary", "secondary_link", "tertiary", "tertiary_link", "b road",
                     "b road primary", "minor road"), "secondary"),
    **dict.fromkeys(("footway", "cycleway", "path", "pedestrian", "steps", "bridleway",
                     "track", "corridor"), "path"),
}


def road_class(kind: str | None, ref: str | None = None) -> str:
    """'major', 'secondary', 'minor' or 'path' for a source's road class (OSM or OS); a
    road without a class goes by its number (M and A roads major, B roads secondary)."""
    found = ROAD_CLASS.get((kind or "").strip().lower())
    if found is not None:
        return found
    first = (ref or "").strip()[:1].upper()
    return "major" if first in ("M", "A") else "secondary" if first == "B" else "minor"


__all__ = ["DEVICE_KINDS", "FLAGS", "FLAG_WORDS", "KINDS", "MAP_KINDS", "OFFICER_STATUSES",
           "PERSONAL_TABLES", "PLACE_KINDS", "POLICE_PLACE_KINDS", "REASONS", "REASON_SHORT",
           "ROAD_CLASS", "TABLE_NAMES", "BaselineGroup", "InputKind", "road_class"]
