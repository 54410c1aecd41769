"""One team's shift: crewing, briefing, CAD incidents and dispatch, breaks, planted events.

Everything happens in time order over the shift's events (a loop per event and per trip,
never per fix). The output is each unit's true timeline and the records the force's
systems would hold (incidents, attachments, duty, assignments), plus the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import combinations

import numpy as np

from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.geography import Geography, Place
from whereabouts.simulate.movement import Timeline
from whereabouts.simulate.people import SHIFT_KINDS, Force, Shift

HOURLY = np.array(
    [
        0.6,
        0.5,
        0.4,
        0.3,
        0.3,
        0.3,
        0.4,
        0.6,
        0.8,
        0.9,
        1.0,
        1.0,
        1.1,
        1.1,
        1.1,
        1.2,
        1.3,
        1.4,
        1.5,
        1.5,
        1.4,
        1.3,
        1.1,
        0.8,
    ]
)
HOURLY = HOURLY / HOURLY.mean()
PRIORITY_SHARE = np.array([0.1, 0.35, 0.35, 0.2])
ATTEND_MIN = np.array([45.0, 40.0, 30.0, 20.0])  # median minutes on scene, by priority
CATEGORIES = (
    ("violence in progress", "road traffic collision", "concern for welfare"),
    ("domestic incident", "burglary", "missing person"),
    ("theft", "criminal damage", "anti-social behaviour"),
    ("lost property", "noise complaint", "follow-up enquiry"),
)
BRIEFING_S = 1800.0
# Incidents raised in each shift's window of responsibility (hours after its start).
WINDOW_H = {"early": (0.5, 8.5), "late": (0.5, 7.5), "night": (0.5, 9.0)}


@dataclass(frozen=True)
class Planted:
    """A planted event: kind, officer indices, start time, minutes, place."""

    kind: str  # remote_meeting | home_meeting | crewed_secluded
    officers: tuple[int, int]
    at: float
    minutes: float
    place: Place


@dataclass
class Unit:
    """A crew for one shift: officers, vehicle (or None: on foot at the station), timeline.

    A unit patrols its own beat (`area_id`, written to duty.area_id) among its own patrol
    points, which no other unit of the shift shares; it leaves the station at `depart`.
    """

    officers: list[int]
    vehicle: str | None
    timeline: Timeline = field(repr=False)
    centre: tuple[float, float] = field(repr=False)
    busy_until: float = 0.0
    area_id: str = ""
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)), repr=False)
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    depart: float = 0.0

    def patrol(self, geo: Geography, t: float, rng: np.random.Generator) -> None:
        """Wait at the station until departure, then patrol the beat until t."""
        self.timeline.wait_until(min(t, self.depart))
        if self.timeline.t >= t:
            return
        if len(self.points):
            self.timeline.patrol_among(geo, t, rng, self.points, self.weights)
        else:
            self.timeline.patrol_until(geo, t, rng, self.centre)


@dataclass
class DeviceTrack:
    """A device's true path while it is on: the sensors sample it."""

    device_id: str
    kind: str  # vehicle | radio
    start: float
    end: float
    t: np.ndarray = field(repr=False)
    x: np.ndarray = field(repr=False)  # positions: never in a repr
    y: np.ndarray = field(repr=False)


@dataclass
class ShiftRecords:
    """What one shift produced: tracks, CAD/roster rows and the truth."""

    tracks: list[DeviceTrack] = field(default_factory=list)
    incidents: list[tuple[str, float, float, float, str, int, float]] = field(default_factory=list)
    attachments: list[tuple[str, str | None, str | None, float, float, float]] = field(
        default_factory=list
    )
    duty: list[tuple[str, float, float, str, str]] = field(default_factory=list)
    assignments: list[tuple[str, str, float, float]] = field(default_factory=list)
    occasions: list[tuple[str, str, float, float, str, str, float, float, str, str]] = field(
        default_factory=list
    )
    together: list[tuple[str, str, float, float, str]] = field(default_factory=list)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _incidents(
    shift: Shift, config: SimConfig, geo: Geography, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Poisson incident times (thinned by hour of day) and places in the station's sectors."""
    lo, hi = WINDOW_H[shift.kind]
    a, b = shift.start + lo * 3600, shift.start + hi * 3600
    per_hour = config.officers * config.incidents_per_officer_day / 24 / len(geo.stations)
    n = rng.poisson(per_hour * HOURLY.max() * (b - a) / 3600)
    t = np.sort(rng.uniform(a, b, n))
    local_hour = ((t - shift.start) / 3600 + {"early": 7, "late": 15, "night": 22}[shift.kind]) % 24
    t = t[rng.random(n) < HOURLY[local_hour.astype(int)] / HOURLY.max()]
    pts = geo.random_points(rng, 4 * len(t) + 8, urban_share=0.8)
    pts = pts[geo.station_of(pts[:, 0], pts[:, 1]) == shift.station][: len(t)]
    t = t[: len(pts)]
    prio = rng.choice(4, size=len(t), p=PRIORITY_SHARE) + 1
    return t, pts[:, 0], pts[:, 1], prio


def _crew(
    shift: Shift,
    config: SimConfig,
    force: Force,
    rng: np.random.Generator,
    planted_team: dict[str, tuple[int, ...]],
) -> list[list[int]]:
    """Who is in which car: planted pairs as the scenario needs, others mostly single."""
    members = force.members(shift.station, shift.team)
    special = set(planted_team.get("single", ())) | set(planted_team.get("crewed", ()))
    decoys = planted_team.get("decoy", ())
    special |= set(decoys)
    present = [int(m) for m in members if m in special or rng.random() < 0.9]
    crews: list[list[int]] = [[m] for m in planted_team.get("single", ()) if m in present]
    crewed = planted_team.get("crewed", ())
    if crewed:
        crews.append(list(crewed))
    for k in range(0, len(decoys), 2):
        pair = list(decoys[k : k + 2])
        crews.extend([pair] if rng.random() < 0.5 else [[pair[0]], [pair[1]]])
    rest = [m for m in present if m not in special and force.rank[m] == "PC"]
    rng.shuffle(rest)
    while rest:
        size = 2 if len(rest) > 1 and rng.random() < config.double_crewed_share else 1
        crews.append(rest[:size])
        rest = rest[size:]
    crews.extend([m] for m in present if force.rank[m] == "PS")
    return crews


def _split(points: np.ndarray, part: int, parts: int) -> np.ndarray:
    """Every `parts`-th row of `points` from `part` on; all of them when that would be none."""
    mine = points[part::parts]
    return mine if len(mine) else points


def _beats(
    geo: Geography,
    station: int,
    kind: str,
    n_units: int,
    rng: np.random.Generator,
    same_as: dict[int, int] | None = None,
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """A beat and patrol points for each of `n_units` units: (area_id, points, weights).

    Consecutive units go to different sectors (then different beats) in turn. A beat's
    patrol points are shared out between the three kinds of shift (so overlapping shifts, like
    their cars, never use the same ones), then between the shift's units on that beat: no
    two units park at one place. Mostly (85 %) a unit heads for a built-up
    junction of its beat. Unit k of `same_as` {k: j} works a beat beside unit j's (the
    same sector).
    """
    areas = geo.patrol_areas(station)
    sector = [a.rsplit("-", 1)[0] for a, _, _ in areas]
    sectors = sorted(set(sector))
    s_rank = {s: int(k) for k, s in zip(rng.permutation(len(sectors)), sectors, strict=True)}
    within = np.zeros(len(areas), int)
    for s in sectors:
        idx = [k for k, sec in enumerate(sector) if sec == s]
        within[idx] = rng.permutation(len(idx))
    order = sorted(range(len(areas)), key=lambda k: (within[k], s_rank[sector[k]]))
    pick = [order[k % len(order)] for k in range(n_units)]
    for k, j in (same_as or {}).items():  # another beat of the same sector, if it has one
        near = [a for a in order if sector[a] == sector[pick[j]] and a != pick[j]]
        pick[k] = min(near, key=pick.count) if near else pick[j]
    share = {a: pick.count(a) for a in set(pick)}
    kid = SHIFT_KINDS.index(kind)
    mixed = {
        a: (
            rng.permutation(_split(areas[a][1], kid, 3)),
            rng.permutation(_split(areas[a][2], kid, 3)),
        )
        for a in sorted(share)
    }
    seen: dict[int, int] = {}
    out = []
    for a in pick:
        j = seen.get(a, 0)
        seen[a] = j + 1
        m = share[a]
        u, v = (_split(pts, j, m) for pts in mixed[a])
        area_id = areas[a][0]
        w = np.concatenate(
            [
                np.full(len(u), 0.85 / max(len(u), 1)),
                np.full(len(v), (0.15 if len(u) else 1.0) / max(len(v), 1)),
            ]
        )
        if len(v) == 0:
            w = np.full(len(u), 1.0 / max(len(u), 1))
        out.append((area_id, np.concatenate([u, v]), w / max(w.sum(), 1e-12)))
    return out


def simulate_shift(
    shift: Shift,
    config: SimConfig,
    geo: Geography,
    force: Force,
    rng: np.random.Generator,
    *,
    planted: list[Planted],
    planted_team: dict[str, tuple[int, ...]],
) -> ShiftRecords:
    """Run one shift and return its records.

    The random draws come in one order (crews, cars, beats, departures, incidents, breaks,
    then each event in time order): the simulated data depend on it.
    """
    rec = ShiftRecords()
    units = _units(shift, config, geo, force, rng, planted_team)
    # Officers not out in a car (the inspector) stay at the station.
    in_cars = {m for u in units for m in u.officers}
    desk = [
        int(m)
        for m in force.members(shift.station, shift.team)
        if force.rank[m] == "Insp" and m not in in_cars
    ]
    everyone = [m for u in units for m in u.officers] + desk
    oid = force.officer_id
    for a, b in combinations(sorted(everyone), 2):
        rec.together.append((oid[a], oid[b], shift.start, shift.start + BRIEFING_S, "shared_duty"))
    on = _OnShift(shift, geo, rng, rec, units, oid)

    # Events in time order: incidents, refreshment breaks, planted events.
    calls = _incidents(shift, config, geo, rng)
    events: list[tuple[float, int, str, int]] = [
        (float(t), 0, "incident", i) for i, t in enumerate(calls[0])
    ]
    length = shift.end - shift.start
    events += [
        (shift.start + length * float(rng.uniform(0.4, 0.6)), 1, "break", i)
        for i in range(len(units))
    ]
    events += [(p.at, 2, "planted", i) for i, p in enumerate(planted)]
    events.sort()
    decoy = planted_team.get("decoy", ())
    partner = {decoy[k]: decoy[k ^ 1] for k in range(len(decoy))}
    day = f"{config.start + timedelta(days=shift.day):%y%m%d}"
    for t, _, kind, i in events:
        if kind == "break":
            on.refreshment(units[i], t)
        elif kind == "planted":
            on.meet(planted[i], t)
        else:
            inc_id = f"{day}-{shift.station}{shift.kind[0].upper()}{i + 1:03d}"
            x, y, prio = calls[1][i], calls[2][i], calls[3][i]
            on.incident(inc_id, t, (float(x), float(y)), int(prio), partner)
    _finish(shift, geo, force, rng, units=units, desk=desk, premises=on.premises, rec=rec)
    return rec


def _units(
    shift: Shift,
    config: SimConfig,
    geo: Geography,
    force: Force,
    rng: np.random.Generator,
    planted_team: dict[str, tuple[int, ...]],
) -> list[Unit]:
    """The shift's crews in their cars, each on its own beat, leaving the briefing."""
    st = geo.stations[shift.station]
    crews = _crew(shift, config, force, rng, planted_team)
    cars = list(force.cars_for(shift.station, shift.kind))
    rng.shuffle(cars)
    town = geo.towns[int(rng.choice(np.flatnonzero(geo.station_of_town == shift.station)))]
    units: list[Unit] = []
    # Decoys crewed apart work neighbouring beats, so one often joins the other at incidents.
    singles = {c[0]: k for k, c in enumerate(crews) if len(c) == 1}
    decoys = planted_team.get("decoy", ())
    same_as = {
        singles[decoys[k + 1]]: singles[decoys[k]]
        for k in range(0, len(decoys) - 1, 2)
        if decoys[k] in singles and decoys[k + 1] in singles
    }
    beats = _beats(geo, shift.station, shift.kind, len(crews), rng, same_as)
    for k, crew in enumerate(crews):
        car = cars[k] if k < len(cars) else None
        if car is None and units:  # not enough cars: double up with a single-crewed car
            cast = {m for ms in planted_team.values() for m in ms}
            ordinary = [u for u in units if not cast & set(u.officers)] or units
            min(ordinary, key=lambda u: len(u.officers)).officers.extend(crew)
            continue
        sx, sy = st.x + rng.normal(0, 12), st.y + rng.normal(0, 12)
        tl = Timeline(shift.start, sx, sy)
        tl.wait_until(shift.start + BRIEFING_S)
        area_id, points, weights = beats[k]
        # Crews leave the briefing one by one over twenty minutes, never in convoy.
        depart = shift.start + BRIEFING_S + float(rng.uniform(60, 1200))
        units.append(
            Unit(
                list(crew),
                car,
                tl,
                (town.x, town.y),
                shift.start + BRIEFING_S,
                area_id,
                points,
                weights,
                depart,
            )
        )
    return units


@dataclass
class _OnShift:
    """A shift under way: its units, the records its events write, the times officers
    spent on police premises (station breaks, custody)."""

    shift: Shift
    geo: Geography
    rng: np.random.Generator
    rec: ShiftRecords
    units: list[Unit]
    oid: list[str]
    premises: list[tuple[str, list[int], float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.unit_of = {m: u for u in self.units for m in u.officers}

    def refreshment(self, u: Unit, t: float) -> None:
        """A refreshment break at the station, unless the unit is busy at `t`."""
        if u.busy_until > t:
            return
        geo, rng = self.geo, self.rng
        st = geo.stations[self.shift.station]
        u.patrol(geo, t, rng)
        arrive = u.timeline.drive_to(
            geo,
            st.x + rng.normal(0, 10),
            st.y + rng.normal(0, 10),
            pace=float(rng.uniform(0.75, 1.0)),
        )
        u.timeline.wait_until(arrive + 2400)
        u.busy_until = u.timeline.t
        self.premises.append((st.place_id, u.officers, arrive, u.busy_until))

    def meet(self, p: Planted, t: float) -> None:
        """A planted meeting: the pair's units drive to the place when free, stay
        `p.minutes`, and leave one at a time."""
        geo, rng, oid = self.geo, self.rng, self.oid
        pu = [self.unit_of[m] for m in p.officers if m in self.unit_of]
        pu = list({id(u): u for u in pu}.values())
        if not pu:
            return
        go = max([t] + [u.busy_until for u in pu])
        arrivals = []
        for u in pu:
            u.patrol(geo, go, rng)
            arrivals.append(
                u.timeline.drive_to(
                    geo,
                    p.place.x + rng.normal(0, 4),
                    p.place.y + rng.normal(0, 4),
                    pace=float(rng.uniform(0.75, 1.0)),
                )
            )
        start = max(arrivals)
        end = start + p.minutes * 60
        # They leave one at a time, minutes apart: the meeting ends when the first goes.
        for k, u in enumerate(pu):
            u.timeline.wait_until(end + (rng.uniform(0, 30) if k == 0 else rng.uniform(240, 600)))
            u.busy_until = u.timeline.t
        a, b = sorted(p.officers)
        reason = "crewed" if p.kind == "crewed_secluded" else "none"
        self.rec.together.append((oid[a], oid[b], start, end, reason))
        call_signs = ";".join(sorted(u.vehicle for u in pu if u.vehicle))
        self.rec.occasions.append(
            (
                oid[a],
                oid[b],
                start,
                end,
                p.kind,
                p.place.place_id,
                p.place.x,
                p.place.y,
                reason,
                call_signs,
            )
        )

    def incident(
        self, inc_id: str, t: float, at: tuple[float, float], prio: int, partner: dict[int, int]
    ) -> None:
        """An incident raised at `t`: the nearest free units sent (two for priority 1, a
        decoy's partner with them when free), each attending; the incident closed."""
        rng = self.rng
        chosen = self._dispatch(t, at, prio, partner)
        spans = [self._attend(u, inc_id, t, at, prio) for u in chosen]
        closed = max(c for _, c in spans) + float(rng.uniform(60, 1800))
        cat = CATEGORIES[prio - 1][int(rng.integers(0, 3))]
        self.rec.incidents.append((inc_id, float(t), at[0], at[1], cat, prio, closed))
        for (u1, s1), (u2, s2) in combinations(zip(chosen, spans, strict=True), 2):
            lo, hi = max(s1[0], s2[0]), min(s1[1], s2[1])
            for a, b in ((a, b) for a in u1.officers for b in u2.officers):
                if hi > lo:
                    self.rec.together.append(
                        (*_pair(self.oid[a], self.oid[b]), lo, hi, "same_incident")
                    )

    def _dispatch(
        self, t: float, at: tuple[float, float], prio: int, partner: dict[int, int]
    ) -> list[Unit]:
        """The units sent: the nearest free (or the soonest free), and a decoy's partner."""
        geo, rng, units = self.geo, self.rng, self.units
        free = [u for u in units if u.busy_until <= t and u.vehicle is not None]
        if not free:
            free = [min((u for u in units if u.vehicle), key=lambda u: u.busy_until)]
        for u in free:
            if u.busy_until <= t:
                u.patrol(geo, t, rng)
        d = [np.hypot(u.timeline.x - at[0], u.timeline.y - at[1]) for u in free]
        order = np.argsort(d)
        chosen = [free[int(k)] for k in order[: 2 if prio == 1 else 1]]
        for m in list(chosen[0].officers):
            mate = self.unit_of.get(partner.get(m, -1))
            if mate is not None and mate not in chosen and mate.busy_until <= t:
                mate.patrol(geo, t, rng)
                chosen.append(mate)
        return chosen

    def _attend(
        self, u: Unit, inc_id: str, t: float, at: tuple[float, float], prio: int
    ) -> tuple[float, float]:
        """One unit sent to the incident: (arrived, cleared); an arrest takes it to custody."""
        geo, rng, oid, rec = self.geo, self.rng, self.oid, self.rec
        sent = max(t + float(rng.uniform(20, 150)), u.timeline.t)
        u.timeline.wait_until(sent)
        arrived = u.timeline.drive_to(
            geo,
            at[0] + rng.normal(0, 15),
            at[1] + rng.normal(0, 15),
            pace=1.0 if prio == 1 else float(rng.uniform(0.8, 1.0)),
        )
        cleared = arrived + 60 * ATTEND_MIN[prio - 1] * float(rng.lognormal(0, 0.45))
        u.timeline.wait_until(cleared)
        for m in u.officers:
            rec.attachments.append((inc_id, oid[m], None, sent, arrived, cleared))
        rec.attachments.append((inc_id, None, u.vehicle, sent, arrived, cleared))
        if prio <= 2 and rng.random() < 0.15:  # an arrest: to custody
            cus = next(p for p in geo.places if p.kind == "custody")
            at_custody = u.timeline.drive_to(
                geo,
                cus.x + rng.normal(0, 10),
                cus.y + rng.normal(0, 10),
                pace=float(rng.uniform(0.75, 1.0)),
            )
            u.timeline.wait_until(at_custody + 3600 * float(rng.uniform(0.7, 1.5)))
            self.premises.append((cus.place_id, u.officers, at_custody, u.timeline.t))
        u.busy_until = u.timeline.t
        return arrived, cleared


def _finish(
    shift: Shift,
    geo: Geography,
    force: Force,
    rng: np.random.Generator,
    *,
    units: list[Unit],
    desk: list[int],
    premises: list[tuple[str, list[int], float, float]],
    rec: ShiftRecords,
) -> None:
    """Return to the station, then write tracks, duty, assignments and together-time."""
    st = geo.stations[shift.station]
    oid = force.officer_id
    for u in units:
        home_time = shift.end - float(rng.uniform(600, 2400))  # back one by one
        if u.busy_until < home_time:
            u.patrol(geo, home_time, rng)
        arrive = u.timeline.drive_to(
            geo,
            st.x + rng.normal(0, 12),
            st.y + rng.normal(0, 12),
            pace=float(rng.uniform(0.75, 1.0)),
        )
        u.timeline.wait_until(max(shift.end, arrive + 300))
    for m in desk:
        u = Unit(
            [m],
            None,
            Timeline(shift.start, st.x + rng.normal(0, 8), st.y + rng.normal(0, 8)),
            (st.x, st.y),
        )
        u.timeline.wait_until(shift.end)
        units.append(u)
        premises.append((st.place_id, [m], shift.start + BRIEFING_S, shift.end))
    # The station's home sector (its own town's): briefings and station duty.
    sector = geo.sectors[int(np.flatnonzero(geo.station_of_town == shift.station)[0])][0]
    spares = list(force.spares_for(shift.station, shift.kind))
    rng.shuffle(spares)
    for u in units:
        kt, kx, ky = u.timeline.arrays()
        end = float(kt[-1])
        if u.vehicle is not None:
            t_on = shift.start + BRIEFING_S - 300
            rec.tracks.append(DeviceTrack(u.vehicle, "vehicle", t_on, end, kt, kx, ky))
            for m in u.officers:
                rec.assignments.append((oid[m], u.vehicle, t_on, end))
        if len(u.officers) > 1:
            for a, b in combinations(sorted(u.officers), 2):
                rec.together.append((oid[a], oid[b], shift.start + BRIEFING_S, end, "crewed"))
        for m in u.officers:
            radio = force.radio[m]
            if spares and rng.random() < 0.04:  # a radio swap: a spare from the station's pool
                radio = spares.pop()
            ox, oy = rng.normal(0, 2, 2)
            rec.tracks.append(DeviceTrack(radio, "radio", shift.start, end, kt, kx + ox, ky + oy))
            rec.assignments.append((oid[m], radio, shift.start, end))
            rec.duty.append((oid[m], shift.start, shift.start + BRIEFING_S, "briefing", sector))
            kind = "response" if u.vehicle else "station duty"
            area = u.area_id if u.vehicle and u.area_id else sector
            rec.duty.append((oid[m], shift.start + BRIEFING_S, shift.end, kind, area))
            if end > shift.end + 60:
                rec.duty.append((oid[m], shift.end, end, "overtime", area))
    for (p1, o1, s1, e1), (p2, o2, s2, e2) in combinations(premises, 2):
        lo, hi = max(s1, s2), min(e1, e2)
        if p1 == p2 and hi > lo:
            for a, b in ((a, b) for a in o1 for b in o2 if a != b):
                rec.together.append((*_pair(oid[a], oid[b]), lo, hi, "premises"))


__all__ = ["DeviceTrack", "Planted", "ShiftRecords", "Unit", "simulate_shift"]
