"""Simulator realism where it would distort the analysis: independent patrols that stay in
their beats, cars that are in one place at a time, cars parked at a planted home meeting."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import shapely
from shapely.geometry import shape

from whereabouts.io.times import parse_times
from whereabouts.simulate.config import Planting, SimConfig
from whereabouts.simulate.force import Simulation, simulate
from whereabouts.simulate.roads import RURAL_SPEED_MPS
from whereabouts.tracks.projection import to_projected

CONFIG = SimConfig(
    seed=4,
    officers=30,
    days=6,
    start=date(2024, 5, 6),
    planting=Planting(remote_meetings=2, home_meetings=3, secluded_stops=1),
)
TOGETHER_M = 100.0  # the analysis' default co-location distance
GRID_S = 30.0


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Simulation:
    return simulate(CONFIG, tmp_path_factory.mktemp("realism"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _utc(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _local(texts: list[str]) -> np.ndarray:
    times = parse_times(pa.array(texts, pa.string()), CONFIG.timezone).times
    return np.asarray(times.cast(pa.int64()).to_numpy(zero_copy_only=False)) / 1e6


def _vehicle_truth(sim: Simulation) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """True (t, x, y) of every vehicle, in time order."""
    t = pq.read_table(sim.out / "truth" / "positions.parquet")
    t = t.filter(pc.invert(pc.equal(t["source"], "tetra")))
    dev = t["device_id"].to_numpy(zero_copy_only=False)
    secs = t["time"].cast(pa.int64()).to_numpy() / 1e6
    x, y = t["x"].to_numpy(), t["y"].to_numpy()
    out = {}
    for d in np.unique(dev):  # a loop per vehicle, each over all its fixes at once
        sel = np.flatnonzero(dev == d)
        order = sel[np.argsort(secs[sel], kind="stable")]
        out[str(d)] = (secs[order], x[order], y[order])
    return out


def test_a_car_is_in_one_place_at_a_time(sim: Simulation) -> None:
    """No step between a car's true positions is faster than the roads allow, and across a
    handover (a gap of over half an hour between uses) the car has not moved: the next crew
    picks it up in the yard where the last one left it."""
    handovers = 0
    for device, (t, x, y) in _vehicle_truth(sim).items():
        dt = np.diff(t)
        step = np.hypot(np.diff(x), np.diff(y))
        assert np.all(dt > 0), device
        assert np.all(step <= RURAL_SPEED_MPS * dt + 1.0), device
        idle = dt > 1800
        handovers += int(idle.sum())
        assert np.all(step[idle] < 150), device
    assert handovers > 10


def _areas(sim: Simulation) -> dict[str, shapely.Polygon]:
    data = json.loads((sim.out / "areas.geojson").read_text(encoding="utf-8"))
    out = {}
    for f in data["features"]:
        ring = np.asarray(shape(f["geometry"]).exterior.coords)
        x, y = to_projected(ring[:, 1], ring[:, 0])
        out[f["properties"]["area_id"]] = shapely.Polygon(np.column_stack([x, y]))
    return out


def _premises(sim: Simulation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = [r for r in _rows(sim.out / "places.csv") if r["kind"] in ("police_station", "custody")]
    x, y = to_projected(
        np.array([float(r["lat"]) for r in rows]), np.array([float(r["lon"]) for r in rows])
    )
    return x, y, np.array([float(r["radius_m"]) + 50 for r in rows])


def _tasked(sim: Simulation) -> dict[str, list[tuple[float, float]]]:
    """Each vehicle's incident attendances, dispatch to clearance (epoch seconds)."""
    att = [r for r in _rows(sim.out / "attachments.csv") if r["device_id"]]
    d = _local([r["dispatched_at"] for r in att])
    c = _local([r["cleared_at"] for r in att])
    out: dict[str, list[tuple[float, float]]] = {}
    for r, s, e in zip(att, d, c, strict=True):
        out.setdefault(r["device_id"], []).append((float(s), float(e)))
    return out


def _within(t: np.ndarray, spans: list[tuple[float, float]], pad: float = 0.0) -> np.ndarray:
    inside = np.zeros(len(t), bool)
    for s, e in spans:  # a loop per span (tens), each over every instant
        inside |= (t >= s - pad) & (t <= e + pad)
    return inside


def test_patrols_stay_inside_the_rostered_area(sim: Simulation) -> None:
    """On patrol (on response duty, not attending an incident, not at a station), a car is
    inside the crew's duty area most of the time; before, it was there about half of it."""
    areas = _areas(sim)
    assignments = _rows(sim.out / "assignments.csv")
    tasked = _tasked(sim)
    truth = _vehicle_truth(sim)
    px, py, pr = _premises(sim)
    planted = [
        (_utc(r["start"]) - 1800, _utc(r["end"]) + 1800, r["vehicles"].split(";"))
        for r in _rows(sim.out / "truth" / "occasions.csv")
        if r["vehicles"]
    ]
    inside = total = 0
    duties = [r for r in _rows(sim.out / "duty.csv") if r["duty_type"] == "response"]
    assert {r["area_id"] for r in duties} <= set(areas)
    assert len({r["area_id"] for r in duties}) >= 4  # beats, not one area for everyone
    for duty in duties:
        s, e = _utc(duty["start"]), _utc(duty["end"])
        car = next(
            a["device_id"]
            for a in assignments
            if a["officer_id"] == duty["officer_id"]
            and not a["device_id"].startswith("62")
            and _utc(a["end"]) > s
            and _utc(a["start"]) < e
        )
        t, x, y = truth[car]
        sel = (t >= s) & (t <= e) & ~_within(t, tasked.get(car, []), pad=900)
        sel &= ~_within(t, [(a, b) for a, b, cars in planted if car in cars])
        near = np.min(np.hypot(x[:, None] - px, y[:, None] - py) - pr, axis=1) < 1500
        sel &= ~near  # at a station or driving to or from it (briefings, breaks, custody)
        inside += int(shapely.contains_xy(areas[duty["area_id"]], x[sel], y[sel]).sum())
        total += int(sel.sum())
    assert total > 1000
    assert inside / total > 0.75


def _grid(
    t: np.ndarray, x: np.ndarray, y: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions on the grid, NaN where the car has no fix within five minutes."""
    gx, gy = np.interp(grid, t, x), np.interp(grid, t, y)
    k = np.clip(np.searchsorted(t, grid), 1, len(t) - 1)
    gap = np.minimum(np.abs(grid - t[k - 1]), np.abs(t[k] - grid))
    far = gap > 300
    gx[far] = np.nan
    gy[far] = np.nan
    return gx, gy


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def test_cars_together_without_a_reason_are_rare_and_in_the_truth(sim: Simulation) -> None:
    """Two cars within 100 m of each other for five minutes or more, away from police
    premises and with neither attending an incident, are a planted occasion or one the
    truth records as `incidental`; and incidental time is a sliver of the cars' time."""
    truth = _vehicle_truth(sim)
    tasked = _tasked(sim)
    px, py, pr = _premises(sim)
    t0 = min(float(t[0]) for t, _, _ in truth.values())
    t1 = max(float(t[-1]) for t, _, _ in truth.values())
    grid = np.arange(t0, t1, GRID_S)
    cars = sorted(truth)
    pos = {c: _grid(*truth[c], grid) for c in cars}
    free = {}
    for c in cars:
        gx, gy = pos[c]
        at_premises = (
            np.min(
                np.hypot(np.nan_to_num(gx)[:, None] - px, np.nan_to_num(gy)[:, None] - py) - pr,
                axis=1,
            )
            < 0
        )
        free[c] = ~at_premises & ~_within(grid, tasked.get(c, []))
    occasions = _rows(sim.out / "truth" / "occasions.csv")
    recorded = [
        (_utc(r["start"]), _utc(r["end"]), set(r["vehicles"].split(";")))
        for r in occasions
        if r["vehicles"]
    ]
    assert recorded
    found = []
    for i, a in enumerate(cars):  # a loop per pair of cars, each over the whole period
        for b in cars[i + 1 :]:
            d = np.hypot(pos[a][0] - pos[b][0], pos[a][1] - pos[b][1])
            together = (d < TOGETHER_M) & free[a] & free[b]
            for lo, hi in _runs(together):
                if (hi - lo) * GRID_S < 300:
                    continue
                s, e = grid[lo], grid[hi - 1]
                if not any(ps < e and pe > s and {a, b} <= cars_ for ps, pe, cars_ in recorded):
                    found.append((a, b, datetime.fromtimestamp(s, UTC), (e - s) / 60))
    assert found == [], found
    # Before patrols were independent, cars kept company for about 7 % of their time.
    episodes = {
        (r["vehicles"], r["start"], r["end"]) for r in occasions if r["kind"] == "incidental"
    }
    incidental_s = sum(_utc(e) - _utc(s) for _, s, e in episodes)
    car_s = sum(float(np.diff(t)[np.diff(t) < 1800].sum()) for t, _, _ in truth.values())
    assert incidental_s / car_s < 0.005


def test_at_a_home_meeting_the_cars_are_parked_at_the_home(sim: Simulation) -> None:
    truth = _vehicle_truth(sim)
    homes = [r for r in _rows(sim.out / "truth" / "occasions.csv") if r["kind"] == "home_meeting"]
    assert homes
    for r in homes:
        hx, hy = to_projected(np.array([float(r["lat"])]), np.array([float(r["lon"])]))
        s, e = _utc(r["start"]), _utc(r["end"])
        cars = r["vehicles"].split(";")
        assert len(cars) == 2, r["place"]
        for car in cars:
            t, x, y = truth[car]
            sel = (t >= s) & (t <= e)
            assert sel.sum() >= 5, car
            assert np.max(np.hypot(x[sel] - hx[0], y[sel] - hy[0])) < 30, car
