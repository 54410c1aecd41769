"""Planting misconduct with exact truth: who, when, where and for how long.

(a) two officers in separate cars meet at remote spots on duty; (b) they meet at one
officer's home while both are on duty; (c) a crewed pair parks at secluded spots with no
tasking; (d) decoys: pairs often together, always with a policing reason (crewed, same
incident, station). The cast is drawn from the first station's teams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from whereabouts.errors import ParameterError
from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.geography import Geography
from whereabouts.simulate.people import ROTA, TEAMS, Force, shift_times
from whereabouts.simulate.policing import Planted


@dataclass
class Plan:
    """Planted events keyed by (day, station, team), and each team's planted roles."""

    events: dict[tuple[int, int, int], list[Planted]] = field(default_factory=dict)
    roles: dict[tuple[int, int], dict[str, tuple[int, ...]]] = field(default_factory=dict)
    cast: dict[str, tuple[str, ...]] = field(default_factory=dict)  # role → officer ids


def plan_misconduct(
    config: SimConfig, geo: Geography, force: Force, rng: np.random.Generator
) -> Plan:
    """Choose the cast and the planted occasions over the period."""
    p = config.planting
    team0 = force.members(0, 0)
    if len(team0) < 6:
        raise ParameterError(
            f"too few officers ({config.officers}) to plant the cases",
            hint="simulate at least 30 officers",
        )
    a, b, c, d, e, f = (int(v) for v in team0[:6])
    plan = Plan()
    plan.roles[(0, 0)] = {"single": (a, b), "crewed": (c, d), "decoy": (e, f)}
    oid = force.officer_id
    plan.cast = {
        "meeting_pair": (oid[a], oid[b]),
        "crewed_pair": (oid[c], oid[d]),
        "decoy_pairs": (oid[e], oid[f]),
    }
    for k in range(1, min(p.decoy_pairs, len(TEAMS))):
        members = force.members(0, k)
        if len(members) >= 2:
            pair = (int(members[0]), int(members[1]))
            plan.roles[(0, k)] = {"decoy": pair}
            plan.cast["decoy_pairs"] += (oid[pair[0]], oid[pair[1]])
    days = [day for day in range(config.days) if ROTA[day % len(ROTA)] != "rest"]
    slots = [(day, half) for day in days for half in (0, 1)]

    def at(day: int, half: int) -> float:
        kind = ROTA[day % len(ROTA)]
        s, e_ = shift_times(config.start + timedelta(days=day), kind, config.timezone)
        return s + 5400 + half * ((e_ - s) / 2 - 3600) + float(rng.uniform(0, 3600))

    def minutes() -> float:
        return float(rng.uniform(p.min_minutes, p.max_minutes))

    n_ab = min(p.remote_meetings + p.home_meetings, len(slots))
    picks: list[int] = rng.choice(len(slots), size=n_ab, replace=False).tolist() if n_ab else []
    kinds = rng.permutation(
        ["remote_meeting"] * p.remote_meetings + ["home_meeting"] * p.home_meetings
    )[:n_ab]
    for kind, k in zip(kinds, sorted(int(v) for v in picks), strict=True):
        day, half = slots[k]
        remote = kind == "remote_meeting"
        place = geo.spots[int(rng.integers(0, len(geo.spots)))] if remote else force.home[b]
        plan.events.setdefault((day, 0, 0), []).append(
            Planted(str(kind), (a, b), at(day, half), minutes(), place)
        )
    n_cd = min(p.secluded_stops, len(slots))
    for k in sorted(
        int(v) for v in (rng.choice(len(slots), size=n_cd, replace=False) if n_cd else [])
    ):
        day, half = slots[k]
        spot = geo.spots[int(rng.integers(0, len(geo.spots)))]
        plan.events.setdefault((day, 0, 0), []).append(
            Planted("crewed_secluded", (c, d), at(day, half), minutes(), spot)
        )
    return plan


__all__ = ["Plan", "plan_misconduct"]
