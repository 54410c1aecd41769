"""Mapping profiles: how a vendor export's columns, units, times and coordinates map onto a
canonical table, declared in TOML rather than code.

A profile (``io/profiles/<name>.toml``, or any TOML file given by path)::

    description = "Generic AVL CSV"
    kinds = ["fixes"]
    ignore = ["id"]                 # columns known and not needed
    [columns]                       # canonical = source column, or a list of alternatives
    device_id = "unit"
    time = ["fixtime", "devicetime"]
    [units]                         # canonical column = unit of the source values
    speed_mps = "km/h"              # m/s, km/h, knots, mph
    [time]
    format = "%Y-%m-%d %H:%M:%S"    # strptime pattern, epoch_s, epoch_ms; default ISO 8601
    zone = "UTC"                    # zone of naive times; default the workspace's
    [coordinates]
    crs = "EPSG:27700"              # of easting/northing columns; default EPSG:27700
    [constants]
    source = "avl"                  # columns filled with one value when absent
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from whereabouts.errors import ProfileError

# Factors to metres per second.
SPEED_UNITS: dict[str, float] = {
    "m/s": 1.0,
    "mps": 1.0,
    "km/h": 1 / 3.6,
    "kmh": 1 / 3.6,
    "knots": 1852 / 3600,
    "kn": 1852 / 3600,
    "mph": 0.44704,
}


@dataclass(frozen=True)
class Profile:
    """A declarative mapping from a vendor export onto a canonical table."""

    name: str
    description: str = ""
    kinds: tuple[str, ...] = ()
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    time_format: str | None = None
    time_zone: str | None = None
    crs: str = "EPSG:27700"
    constants: dict[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()

    def source_columns(self) -> set[str]:
        """Every source column name this profile knows (mapped or ignored), lower case."""
        known = {c.lower() for alts in self.columns.values() for c in alts}
        return known | {c.lower() for c in self.ignore}

    def factor(self, column: str) -> float:
        """Multiplier turning a source column's values into the canonical unit."""
        unit = self.units.get(column)
        return 1.0 if unit is None else SPEED_UNITS[unit]


IDENTITY = Profile(name="canonical", description="canonical column names (DESIGN.md)")


def _parse(name: str, text: str, origin: str) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(
            f"profile {origin} is not valid TOML: {exc}",
            hint="fix the TOML syntax (see io/profile.py for the format)",
        ) from exc
    try:
        columns = {
            str(k): (v,) if isinstance(v, str) else tuple(str(x) for x in v)
            for k, v in dict(data.get("columns", {})).items()
        }
        units = {str(k): str(v).lower() for k, v in dict(data.get("units", {})).items()}
        time = dict(data.get("time", {}))
        coords = dict(data.get("coordinates", {}))
        constants = {str(k): str(v) for k, v in dict(data.get("constants", {})).items()}
    except (TypeError, ValueError) as exc:
        raise ProfileError(
            f"profile {origin} has a malformed section: {exc}",
            hint="sections are tables of names to strings",
        ) from exc
    bad_units = sorted(set(units.values()) - set(SPEED_UNITS))
    if bad_units:
        raise ProfileError(
            f"profile {origin}: unknown unit(s) {bad_units}",
            hint=f"use one of {sorted(SPEED_UNITS)}",
        )
    return Profile(
        name=name,
        description=str(data.get("description", "")),
        kinds=tuple(data.get("kinds", ())),
        columns=columns,
        units=units,
        time_format=time.get("format"),
        time_zone=time.get("zone"),
        crs=str(coords.get("crs", "EPSG:27700")),
        constants=constants,
        ignore=tuple(str(c) for c in data.get("ignore", ())),
    )


def shipped_profiles() -> dict[str, Profile]:
    """The profiles shipped with whereabouts, by name."""
    out: dict[str, Profile] = {}
    folder = resources.files("whereabouts.io") / "profiles"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            name = entry.name.removesuffix(".toml")
            out[name] = _parse(name, entry.read_text(encoding="utf-8"), name)
    return out


def load_profile(name_or_path: str | None) -> Profile:
    """A shipped profile by name, a TOML file by path, or the identity mapping for None."""
    if name_or_path is None:
        return IDENTITY
    shipped = shipped_profiles()
    if name_or_path in shipped:
        return shipped[name_or_path]
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return _parse(path.stem, path.read_text(encoding="utf-8"), str(path))
    raise ProfileError(
        f"unknown profile {name_or_path!r}",
        hint=f"use one of {sorted(shipped)} or the path of a .toml profile; "
        "`whereabouts profiles` lists them",
    )


def suggest_profile(columns: list[str], kind: str) -> str | None:
    """The shipped profile whose columns overlap the file's most (Jaccard), if any overlap."""
    found = {c.strip().lower() for c in columns}
    best, best_score = None, 0.0
    for name, profile in shipped_profiles().items():
        if profile.kinds and kind not in profile.kinds:
            continue
        known = profile.source_columns()
        score = len(found & known) / max(len(found | known), 1)
        if score > best_score:
            best, best_score = name, score
    return best


__all__ = [
    "IDENTITY",
    "SPEED_UNITS",
    "Profile",
    "load_profile",
    "shipped_profiles",
    "suggest_profile",
]
