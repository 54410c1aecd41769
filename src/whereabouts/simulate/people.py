"""Officers, teams, shift patterns, radios and vehicles of the simulated force."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.geography import Geography, Place

FIRST = (
    "Alex",
    "Sam",
    "Jo",
    "Rhys",
    "Cerys",
    "Owain",
    "Ffion",
    "Dylan",
    "Megan",
    "Gareth",
    "Sian",
    "Tomos",
    "Bethan",
    "Iwan",
    "Lowri",
    "Huw",
    "Nia",
    "Emyr",
    "Carys",
    "Dafydd",
)
LAST = (
    "Morgan",
    "Price",
    "Hughes",
    "Jones",
    "Davies",
    "Evans",
    "Thomas",
    "Williams",
    "Lewis",
    "Roberts",
    "Jenkins",
    "Powell",
    "Bowen",
    "Rees",
    "Griffiths",
    "Llewellyn",
)
TEAMS = ("A", "B", "C", "D", "E")
# A ten-day rota: two earlies, two lates, two nights, four rest days; team k runs 2k days on.
ROTA = ("early", "early", "late", "late", "night", "night", "rest", "rest", "rest", "rest")
SHIFT_KINDS = ("early", "late", "night")
SHIFT_HOURS = {"early": (7, 10), "late": (15, 10), "night": (22, 9)}  # local start, length


@dataclass
class Force:
    """The people and kit: one row per officer, radio and vehicle (parallel lists)."""

    officer_id: list[str]
    name: list[str] = field(repr=False)  # personal: never in a repr
    rank: list[str]
    station: np.ndarray  # station index per officer
    team: np.ndarray  # team index 0..4 per officer
    status: list[str]
    radio: list[str]  # personal radio ISSI per officer
    home: list[Place] = field(repr=False)
    spare_radios: dict[int, list[str]]  # per station
    vehicles: dict[int, list[str]]  # call signs per station
    vehicle_label: dict[str, str]

    def cars_for(self, station: int, kind: str) -> list[str]:
        """The station's cars used by one kind of shift (overlapping shifts never share)."""
        return self.vehicles[station][SHIFT_KINDS.index(kind) :: 3]

    def spares_for(self, station: int, kind: str) -> list[str]:
        """The station's spare radios kept for one kind of shift."""
        return self.spare_radios[station][SHIFT_KINDS.index(kind) :: 3]

    def members(self, station: int, team: int) -> np.ndarray:
        """Officer indices of one team at one station."""
        return np.flatnonzero((self.station == station) & (self.team == team))


@dataclass(frozen=True)
class Shift:
    """One team's tour of duty: local date and kind, UTC start/end in epoch seconds."""

    day: int  # day index in the period
    kind: str
    station: int
    team: int
    start: float
    end: float


def shift_times(day: date, kind: str, timezone: str) -> tuple[float, float]:
    """UTC epoch seconds of a shift that starts on `day` (local wall-clock rota)."""
    hour, length = SHIFT_HOURS[kind]
    tz = ZoneInfo(timezone)
    start = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
    end_day = day + timedelta(days=(hour + length) // 24)
    end = datetime(end_day.year, end_day.month, end_day.day, (hour + length) % 24, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def shifts_on(config: SimConfig, force: Force, day: int) -> list[Shift]:
    """Every team's shift that starts on period day `day`."""
    local = config.start + timedelta(days=day)
    out = []
    for station in sorted(set(force.station.tolist())):
        for team in range(len(TEAMS)):
            kind = ROTA[(day + 2 * team) % len(ROTA)]
            if kind != "rest":
                s, e = shift_times(local, kind, config.timezone)
                out.append(Shift(day, kind, station, team, s, e))
    return out


def _registration(rng: np.random.Generator) -> str:
    letters = "ABCDEFGHJKLMNOPRSTUVWXY"
    pick = rng.integers(0, len(letters), 5)
    return (
        f"C{letters[pick[0]]}{int(rng.integers(15, 24))} "
        f"{letters[pick[2]]}{letters[pick[3]]}{letters[pick[4]]}"
    )


def build_force(config: SimConfig, geo: Geography, rng: np.random.Generator) -> Force:
    """Officers spread over stations and teams, with ranks, homes, radios and cars."""
    n = config.officers
    n_st = len(geo.stations)
    station = np.arange(n) % n_st
    team = (np.arange(n) // n_st) % len(TEAMS)
    order = np.lexsort((team, station))
    station, team = station[order], team[order]
    rank = ["PC"] * n
    for st in range(n_st):
        for tm in range(len(TEAMS)):
            idx = np.flatnonzero((station == st) & (team == tm))
            for k in idx[7::8]:  # one sergeant per eight
                rank[k] = "PS"
        rank[int(np.flatnonzero(station == st)[-1])] = "Insp"
    ids = [f"P{1001 + i}" for i in range(n)]
    names = [
        f"{FIRST[a]} {LAST[b]}"
        for a, b in zip(rng.integers(0, len(FIRST), n), rng.integers(0, len(LAST), n), strict=True)
    ]
    status = ["serving"] * n
    for k in rng.choice(n, size=max(1, n // 40), replace=False):
        if k >= 6:  # the first officers carry the planted cases; they stay serving
            status[k] = "resigned" if rng.random() < 0.7 else "retired"
    radios = [f"62{i + 1:05d}" for i in range(n)]
    home_pts = geo.random_points(rng, n, urban_share=0.75)
    homes = [
        Place(f"H-{oid}", "home", float(x), float(y), 40, f"Home address of {oid}", oid)
        for oid, (x, y) in zip(ids, home_pts, strict=True)
    ]
    spare: dict[int, list[str]] = {}
    vehicles: dict[int, list[str]] = {}
    labels: dict[str, str] = {}
    next_radio = n + 1
    for st in range(n_st):
        size = int((station == st).sum())
        k = max(6, size // 20)
        spare[st] = [f"62{next_radio + j:05d}" for j in range(k)]
        next_radio += k
        # Cars for each of the three overlapping shifts (earlies, lates, nights) apart.
        per_shift = int(np.ceil(size / len(TEAMS) * 0.7)) + 1
        prefix = geo.stations[st].place_id[4:6]
        vehicles[st] = [f"{prefix}{10 + j}" for j in range(3 * per_shift)]
        for cs in vehicles[st]:
            labels[cs] = f"{cs} response car ({_registration(rng)})"
    return Force(ids, names, rank, station, team, status, radios, homes, spare, vehicles, labels)


__all__ = [
    "ROTA",
    "SHIFT_HOURS",
    "TEAMS",
    "Force",
    "Shift",
    "build_force",
    "shift_times",
    "shifts_on",
]
