"""The fixed words of whereabouts, without the Arrow schemas (`schema` re-exports them).

Kept apart from `schema` so that the CLI can name them in its help without importing
pyarrow: `whereabouts --help` must start in a blink (issue 20).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

# The canonical tables, in the order commands list them (`schema.TABLES` has their schemas).
TABLE_NAMES = (
    "fixes",
    "devices",
    "officers",
    "assignments",
    "duty",
    "incidents",
    "attachments",
    "places",
    "areas",
    "roads",
    "buildings",
    "water",
    "green",
    "rail",
    "addresses",
)

# Input kinds accepted by `whereabouts ingest --kind`, and the table each one fills.
KINDS: dict[str, str] = {
    "fixes": "fixes",
    "lip": "fixes",
    "gpx": "fixes",
    "nmea": "fixes",
    **{name: name for name in TABLE_NAMES[1:]},
}
# The kinds `whereabouts ingest --kind` takes (KINDS, and "map": every map layer of a file);
# tests/test_exported_members.py checks the two agree.
InputKind = Literal[
    "fixes",
    "lip",
    "gpx",
    "nmea",
    "devices",
    "officers",
    "assignments",
    "duty",
    "incidents",
    "attachments",
    "places",
    "areas",
    "roads",
    "buildings",
    "water",
    "green",
    "rail",
    "addresses",
    "map",
]
# Whose pairs an investigation compares the subjects' with.
BaselineGroup = Literal["team", "station", "none"]
# The map's kinds: one file (a GeoPackage, an OSM extract) may hold several of them, and
# `--kind map` ingests every one it holds.
MAP_KINDS = ("roads", "buildings", "water", "green", "rail", "addresses")
# Tables of officers' data or their whereabouts: exported whole only by an administrator
# with a stated purpose, audited (the map layers and areas hold none).
PERSONAL_TABLES = (
    "fixes",
    "devices",
    "officers",
    "assignments",
    "duty",
    "incidents",
    "attachments",
    "places",
)

DEVICE_KINDS = ("vehicle", "radio", "other")
PLACE_KINDS = ("police_station", "custody", "hospital", "court", "home", "other")
POLICE_PLACE_KINDS = ("police_station", "custody")
OFFICER_STATUSES = ("serving", "resigned", "retired")

# Fixed vocabularies of the analysis (DESIGN.md "Reasons and context"): each code with its
# words, in the order a reader meets them. A policing reason is one `Term` here and one step
# in `analysis.reasons` (`ReasonStep`: its SQL, the inputs it needs, whether it explains);
# every other use (the occasions' order, the assessability, the report, the web app, the
# exports) follows from these two.


@dataclass(frozen=True)
class Term:
    """One code of a fixed vocabulary and its words: `short` as the web app, the exports
    and the report's tables say it, `words` as the report's text explains it."""

    code: str
    short: str
    words: str


REASON_TERMS: dict[str, Term] = {
    t.code: t
    for t in (
        Term("crewed", "crewed together", "crewed together (both assigned to the same vehicle)"),
        Term("same_incident", "same incident", "attending the same incident"),
        Term(
            "premises", "police premises", "at police premises (a police station or custody suite)"
        ),
        Term(
            "shared_duty",
            "shared duty on the roster",
            "a shared duty on the roster (for example a briefing or training)",
        ),
        Term(
            "one_tasked",
            "one of them tasked (partial)",
            "only one of them was tasked there (a partial reason only)",
        ),
    )
}
FLAG_TERMS: dict[str, Term] = {
    t.code: t
    for t in (
        Term("home", "at an officer's home address", "at an officer's home address"),
        Term("remote", "at a remote spot", "at a remote spot"),
        Term(
            "outside_area",
            "outside the area they were assigned to",
            "outside the area they were assigned to",
        ),
        Term("stationary", "both stationary", "both stationary"),
    )
}
# The reason codes as a type (mypy needs them spelled out; tests/test_exported_members.py
# checks they are REASON_TERMS' codes, in order).
Reason = Literal["crewed", "same_incident", "premises", "shared_duty", "one_tasked"]
REASONS: tuple[str, ...] = get_args(Reason)
FLAGS: tuple[str, ...] = tuple(FLAG_TERMS)


def reason_codes() -> tuple[str, ...]:
    """The reasons known now, in order: REASONS and any registered since
    (`analysis.reasons.register`)."""
    return tuple(REASON_TERMS)


def flag_codes() -> tuple[str, ...]:
    """The flags known now, in order."""
    return tuple(FLAG_TERMS)


class Words(Mapping[str, str]):
    """A code → words mapping read from a vocabulary's terms when asked (so a term
    registered later is worded too)."""

    def __init__(self, terms: dict[str, Term], field: str) -> None:
        self._terms, self._field = terms, field

    def __getitem__(self, code: str) -> str:
        return str(getattr(self._terms[code], self._field))

    def __iter__(self) -> Iterator[str]:
        return iter(self._terms)

    def __len__(self) -> int:
        return len(self._terms)


# The same codes in words, as the report, the web app and the exports say them.
REASON_SHORT = Words(REASON_TERMS, "short")
REASON_WORDS = Words(REASON_TERMS, "words")
FLAG_WORDS = Words(FLAG_TERMS, "short")

# Road classes of OSM (`highway`) and OS Open Roads / OpenMap Local, drawn in four styles.
ROAD_CLASS: dict[str, str] = {
    **dict.fromkeys(
        (
            "motorway",
            "motorway_link",
            "trunk",
            "trunk_link",
            "primary",
            "primary_link",
            "a road",
            "motorway road",
            "a road primary",
            "primary road",
        ),
        "major",
    ),
    **dict.fromkeys(
        (
            "secondary",
            "secondary_link",
            "tertiary",
            "tertiary_link",
            "b road",
            "b road primary",
            "minor road",
        ),
        "secondary",
    ),
    **dict.fromkeys(
        ("footway", "cycleway", "path", "pedestrian", "steps", "bridleway", "track", "corridor"),
        "path",
    ),
}


def road_class(kind: str | None, ref: str | None = None) -> str:
    """'major', 'secondary', 'minor' or 'path' for a source's road class (OSM or OS); a
    road without a class goes by its number (M and A roads major, B roads secondary)."""
    found = ROAD_CLASS.get((kind or "").strip().lower())
    if found is not None:
        return found
    first = (ref or "").strip()[:1].upper()
    return "major" if first in ("M", "A") else "secondary" if first == "B" else "minor"


__all__ = [
    "DEVICE_KINDS",
    "FLAGS",
    "FLAG_TERMS",
    "FLAG_WORDS",
    "KINDS",
    "MAP_KINDS",
    "OFFICER_STATUSES",
    "PERSONAL_TABLES",
    "PLACE_KINDS",
    "POLICE_PLACE_KINDS",
    "REASONS",
    "REASON_SHORT",
    "REASON_TERMS",
    "REASON_WORDS",
    "ROAD_CLASS",
    "TABLE_NAMES",
    "BaselineGroup",
    "InputKind",
    "Term",
    "Words",
    "flag_codes",
    "reason_codes",
    "road_class",
]
