"""The misconduct rules as dated data: `rules/conduct_*.toml`, one file per change.

A file may `extends` an earlier one and override only what changed; `rules_on(day)` gives
the rule set in force on that day. The next change in the regulations is a new file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from whereabouts.errors import RuleError

RULES_DIR = Path(__file__).parent / "rules"


@dataclass(frozen=True)
class RuleSet:
    """One version of the rules, with everything it inherits merged in."""

    id: str
    effective: date
    source: str
    data: dict[str, Any]

    def get(self, *path: str) -> Any:  # noqa: ANN401  # a TOML value: its type is the path's
        """A value by path, e.g. `get("forums", "meeting", "outcomes")`."""
        node: Any = self.data
        for key in path:
            node = node[key]
        return node

    def forum(self, name: str) -> dict[str, Any]:
        """The forum's rules (RuleError naming the forums when unknown)."""
        forums: dict[str, Any] = self.data["forums"]
        if name not in forums:
            raise RuleError(f"unknown forum {name!r}", hint="one of: " + ", ".join(sorted(forums)))
        return dict(forums[name])


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@cache
def rule_sets() -> tuple[RuleSet, ...]:
    """Every rule set, oldest first."""
    raw: dict[str, dict[str, Any]] = {}
    for path in sorted(RULES_DIR.glob("conduct_*.toml")):
        with path.open("rb") as f:
            data = tomllib.load(f)
        raw[data["id"]] = data

    def resolve(rid: str) -> dict[str, Any]:
        data = raw[rid]
        parent = data.get("extends")
        return _merge(resolve(parent), data) if parent else data

    sets = [
        RuleSet(rid, resolve(rid)["effective"], resolve(rid)["source"], resolve(rid)) for rid in raw
    ]
    return tuple(sorted(sets, key=lambda r: r.effective))


def rules_on(day: date) -> RuleSet:
    """The rule set in force on `day` (RuleError before the first one)."""
    in_force = [r for r in rule_sets() if r.effective <= day]
    if not in_force:
        first = rule_sets()[0]
        raise RuleError(
            f"no misconduct rules in force on {day} (the earliest are {first.id}, "
            f"from {first.effective})",
            hint="add a rules file for the earlier regulations in whereabouts/case/rules/",
        )
    return in_force[-1]


@cache
def _holidays() -> tuple[date, ...]:
    with (RULES_DIR / "bank_holidays.toml").open("rb") as f:
        return tuple(tomllib.load(f)["dates"])


def add_working_days(day: date, days: int) -> date:
    """`day` plus `days` working days (Monday–Friday, not bank holidays in England and Wales)."""
    out = np.busday_offset(
        np.datetime64(day, "D"), days, roll="forward", holidays=list(_holidays())
    )
    return date.fromisoformat(str(out))
