"""The force simulator: determinism, canonical shapes, and truth consistent with the data."""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from whereabouts.io.read import read
from whereabouts.io.times import parse_times
from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.force import Simulation, simulate
from whereabouts.tracks.projection import to_projected

# Spans the spring clock change (Sunday 31 March 2024, 01:00 UTC).
CONFIG = SimConfig(seed=3, officers=30, days=10, start=date(2024, 3, 26))


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Simulation:
    return simulate(CONFIG, tmp_path_factory.mktemp("force"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _utc(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_files_other_seed_other_fixes(tmp_path: Path) -> None:
    small = SimConfig(seed=5, officers=30, days=2)
    a = _digests(simulate(small, tmp_path / "a").out)
    b = _digests(simulate(small, tmp_path / "b").out)
    c = _digests(simulate(SimConfig(seed=6, officers=30, days=2), tmp_path / "c").out)
    assert a == b
    assert len(a) >= 15
    assert a["fixes.parquet"] != c["fixes.parquet"]


def test_headers_match_the_canonical_examples(sim: Simulation, examples: Path) -> None:
    for name in (
        "officers",
        "devices",
        "assignments",
        "duty",
        "incidents",
        "attachments",
        "places",
        "lip",
    ):
        with (examples / f"{name}.csv").open(encoding="utf-8") as fh:
            expected = fh.readline().strip()
        with (sim.out / f"{name}.csv").open(encoding="utf-8") as fh:
            assert fh.readline().strip() == expected, name
    with (examples / "fixes.csv").open(encoding="utf-8") as fh:
        assert pq.read_schema(sim.out / "fixes.parquet").names == fh.readline().strip().split(",")


def test_every_file_reads_cleanly_through_the_real_readers(sim: Simulation) -> None:
    kinds = {
        "officers.csv": "officers",
        "devices.csv": "devices",
        "duty.csv": "duty",
        "assignments.csv": "assignments",
        "incidents.csv": "incidents",
        "attachments.csv": "attachments",
        "places.csv": "places",
        "areas.geojson": "areas",
        "fixes.parquet": "fixes",
        "lip.csv": "lip",
    }
    for name, kind in kinds.items():
        result = read(kind, sim.out / name)
        assert result.counts["quarantined"] == 0, (name, result.quarantine.slice(0, 3))
        assert result.counts["accepted"] > 0, name
    for name, profile in (("avl_generic.csv", "generic-avl"), ("traccar_positions.csv", "traccar")):
        vendor = read("fixes", sim.out / "vendor" / name, profile=profile)
        assert vendor.counts["quarantined"] == 0 and vendor.counts["accepted"] > 0, name
    # The exports are as messy as real ones: exact duplicates and rows out of order.
    fixes = read("fixes", sim.out / "fixes.parquet")
    assert fixes.counts["duplicates"] > 0
    t = pq.read_table(sim.out / "fixes.parquet")
    dev = t["device_id"].to_numpy(zero_copy_only=False)
    us = t["time"].cast(pa.int64()).to_numpy()
    assert np.any((dev[1:] == dev[:-1]) & (np.diff(us) < 0))


def test_cad_times_are_naive_local_and_agree_with_the_tracks(sim: Simulation) -> None:
    """An arrival in CAD (local time, across the clock change) finds the car at the scene."""
    incidents = {r["incident_id"]: r for r in _rows(sim.out / "incidents.csv")}
    att = [r for r in _rows(sim.out / "attachments.csv") if r["device_id"]]
    assert all(not r["arrived_at"].endswith("Z") and "+" not in r["arrived_at"] for r in att)
    arrived = parse_times(pa.array([r["arrived_at"] for r in att]), "Europe/London").times
    arrived_s = arrived.cast(pa.int64()).to_numpy() / 1e6
    change = datetime(2024, 3, 31, 1, tzinfo=UTC).timestamp()
    assert (arrived_s < change).any() and (arrived_s > change + 86400).any()
    truth = pq.read_table(sim.out / "truth" / "positions.parquet")
    tdev = truth["device_id"].to_numpy(zero_copy_only=False)
    tt = truth["time"].cast(pa.int64()).to_numpy() / 1e6
    tx, ty = truth["x"].to_numpy(), truth["y"].to_numpy()
    checked = 0
    for r, t in list(zip(att, arrived_s, strict=True))[::7]:
        inc = incidents[r["incident_id"]]
        near = (tdev == r["device_id"]) & (tt > t + 30) & (tt < t + 300)
        if near.sum() == 0:
            continue  # the car's fixes there fell in a dropout
        d = np.hypot(tx[near] - float(inc["easting"]), ty[near] - float(inc["northing"]))
        assert np.median(d) < 80, r["incident_id"]
        checked += 1
    assert checked >= 10


def _intervals(rows: list[dict[str, str]], officer: str) -> list[tuple[float, float]]:
    return [(_utc(r["start"]), _utc(r["end"])) for r in rows if r["officer_id"] == officer]


def _covered(spans: list[tuple[float, float]], start: float, end: float) -> bool:
    """[start, end] lies inside the union of spans (touching spans join)."""
    t = start
    for s, e in sorted(spans):
        if s <= t + 1 and e > t:
            t = e
    return t >= end - 1


def test_planted_occasions_lie_in_duty(sim: Simulation) -> None:
    duty = _rows(sim.out / "duty.csv")
    occasions = [
        r
        for r in _rows(sim.out / "truth" / "occasions.csv")
        if r["kind"] not in ("decoy", "incidental")
    ]
    kinds = {r["kind"] for r in occasions}
    assert kinds == {"remote_meeting", "home_meeting", "crewed_secluded"}
    for r in occasions:
        for officer in (r["officer_a"], r["officer_b"]):
            assert _covered(_intervals(duty, officer), _utc(r["start"]), _utc(r["end"])), r


def _officer_fixes(
    sim: Simulation,
    officer: str,
    start: float,
    end: float,
    assignments: list[dict[str, str]],
    fixes: pa.Table,
) -> np.ndarray:
    devices = [
        a["device_id"]
        for a in assignments
        if a["officer_id"] == officer and _utc(a["start"]) <= start and _utc(a["end"]) >= end
    ]
    t = fixes["time"].cast(pa.int64()).to_numpy() / 1e6
    mask = np.isin(fixes["device_id"].to_numpy(zero_copy_only=False), devices)
    mask &= (t >= start) & (t <= end)
    x, y = to_projected(fixes["lat"].to_numpy()[mask], fixes["lon"].to_numpy()[mask])
    return np.column_stack([x, y])


def test_planted_meetings_show_in_the_fixes_within_the_noise(sim: Simulation) -> None:
    """Each meeting's two officers' fixes sit at the truth's place and with each other."""
    assignments = _rows(sim.out / "assignments.csv")
    fixes = pa.concat_tables(
        [
            read("fixes", sim.out / "fixes.parquet").accepted.select(
                ["device_id", "time", "lat", "lon"]
            ),
            read(
                "fixes", sim.out / "vendor" / "avl_generic.csv", profile="generic-avl"
            ).accepted.select(["device_id", "time", "lat", "lon"]),
            read(
                "fixes", sim.out / "vendor" / "traccar_positions.csv", profile="traccar"
            ).accepted.select(["device_id", "time", "lat", "lon"]),
            read("lip", sim.out / "lip.csv").accepted.select(["device_id", "time", "lat", "lon"]),
        ]
    )
    meetings = [
        r
        for r in _rows(sim.out / "truth" / "occasions.csv")
        if r["kind"] in ("remote_meeting", "home_meeting", "crewed_secluded")
    ]
    assert len(meetings) >= 6
    for r in meetings:
        start, end = _utc(r["start"]) + 60, _utc(r["end"]) - 60
        px, py = to_projected(np.array([float(r["lat"])]), np.array([float(r["lon"])]))
        a = _officer_fixes(sim, r["officer_a"], start, end, assignments, fixes)
        b = _officer_fixes(sim, r["officer_b"], start, end, assignments, fixes)
        assert len(a) >= 5 and len(b) >= 5, r
        ma, mb = np.median(a, axis=0), np.median(b, axis=0)
        # Parking (σ 4 m a side), GPS noise (4–8 m) and multipath jumps (rare): the medians
        # sit within ~25 m of the place and 30 m of each other; 90 % of fixes within 60 m.
        assert np.hypot(*(ma - [px[0], py[0]])) < 25, r
        assert np.hypot(*(ma - mb)) < 30, r
        d = np.hypot(a[:, 0] - px[0], a[:, 1] - py[0])
        assert np.mean(d < 60) > 0.9, r


def test_decoys_always_have_their_reason_in_the_records(sim: Simulation) -> None:
    decoys = [r for r in _rows(sim.out / "truth" / "occasions.csv") if r["kind"] == "decoy"]
    assert {r["reason"] for r in decoys} == {"crewed", "same_incident"}
    assignments = _rows(sim.out / "assignments.csv")
    attachments = _rows(sim.out / "attachments.csv")
    vehicles = {r["device_id"] for r in _rows(sim.out / "devices.csv") if r["kind"] == "vehicle"}
    local = parse_times(pa.array([r["arrived_at"] for r in attachments])).times
    arrived = local.cast(pa.int64()).to_numpy() / 1e6
    cleared = (
        parse_times(pa.array([r["cleared_at"] for r in attachments]))
        .times.cast(pa.int64())
        .to_numpy()
        / 1e6
    )
    for r in decoys:
        a, b, s, e = r["officer_a"], r["officer_b"], _utc(r["start"]), _utc(r["end"])
        if r["reason"] == "crewed":
            cars = [
                {
                    x["device_id"]
                    for x in assignments
                    if x["officer_id"] == o
                    and x["device_id"] in vehicles
                    and _utc(x["start"]) <= s + 1
                    and _utc(x["end"]) >= e - 1
                }
                for o in (a, b)
            ]
            assert cars[0] & cars[1], r
        else:
            inc = [
                {
                    x["incident_id"]
                    for x, t0, t1 in zip(attachments, arrived, cleared, strict=True)
                    if x["officer_id"] == o and t0 <= s + 1 and t1 >= e - 1
                }
                for o in (a, b)
            ]
            assert inc[0] & inc[1], r


def test_crewed_pair_stops_have_no_tasking(sim: Simulation) -> None:
    stops = [
        r for r in _rows(sim.out / "truth" / "occasions.csv") if r["kind"] == "crewed_secluded"
    ]
    attachments = _rows(sim.out / "attachments.csv")
    disp = parse_times(pa.array([x["dispatched_at"] for x in attachments])).times
    clr = parse_times(pa.array([x["cleared_at"] for x in attachments])).times
    d = disp.cast(pa.int64()).to_numpy() / 1e6
    c = clr.cast(pa.int64()).to_numpy() / 1e6
    assignments = _rows(sim.out / "assignments.csv")
    assert stops
    for r in stops:
        s, e = _utc(r["start"]), _utc(r["end"])
        who = np.isin([x["officer_id"] for x in attachments], [r["officer_a"], r["officer_b"]])
        assert not np.any(who & (d < e) & (c > s)), r
        # Both were crewed in the one car named in the truth, for the whole stop.
        for officer in (r["officer_a"], r["officer_b"]):
            assert any(
                x["officer_id"] == officer
                and x["device_id"] == r["vehicles"]
                and _utc(x["start"]) <= s
                and _utc(x["end"]) >= e
                for x in assignments
            )


def test_gps_noise_matches_its_setting(sim: Simulation) -> None:
    """AVL error is 2-D Gaussian (σ = 4 m): its median is σ√(2 ln 2) ≈ 4.7 m."""
    t = pq.read_table(sim.out / "truth" / "positions.parquet")
    avl = t.filter(pc.and_(pc.equal(t["source"], "avl"), pc.invert(t["multipath"])))
    err = np.hypot(
        avl["observed_x"].to_numpy() - avl["x"].to_numpy(),
        avl["observed_y"].to_numpy() - avl["y"].to_numpy(),
    )
    expected = CONFIG.avl_sigma_m * np.sqrt(2 * np.log(2))
    assert abs(np.median(err) - expected) < 0.3
    jumps = t.filter(t["multipath"])
    assert 0 < jumps.num_rows < 0.01 * t.num_rows


def test_radios_report_only_on_duty(sim: Simulation) -> None:
    lip = read("lip", sim.out / "lip.csv").accepted
    assign = [r for r in _rows(sim.out / "assignments.csv") if r["device_id"].startswith("62")]
    t = lip["time"].cast(pa.int64()).to_numpy() / 1e6
    # A buffered report's time is its reception; its position may be up to the stated
    # time uncertainty older.
    earliest = t - lip["time_uncertainty_s"].to_numpy()
    issi = lip["device_id"].to_numpy(zero_copy_only=False)
    ok = np.zeros(len(t), bool)
    for r in assign:  # a loop over assignments (hundreds), not fixes
        ok |= (
            (issi == r["device_id"])
            & (t >= _utc(r["start"]) - 5)
            & (earliest <= _utc(r["end"]) + 5)
        )
    assert ok.all()
    assert (lip["time_uncertainty_s"].to_numpy() > 5).any()


def test_realism_figures_are_plausible(sim: Simulation) -> None:
    r = sim.realism
    per_hour = r["fixes_per_device_hour"]
    assert isinstance(per_hour, dict)
    assert 120 < per_hour["avl"] < 360  # one fix every 10–30 s, less dropouts
    assert 55 < per_hour["tetra"] < 90  # every 60 s plus events
    share = r["colocation_with_reason_share"]
    assert isinstance(share, float) and 0.9 < share < 1.0
    known = r["duty_known_position_share"]
    assert isinstance(known, float) and 0.85 < known <= 1.0


def test_no_radio_or_car_is_in_two_places_at_once(sim: Simulation) -> None:
    """A radio has one holder at a time; a car's overlapping assignments are one crew."""
    spans: dict[str, list[tuple[float, float, str]]] = {}
    for r in _rows(sim.out / "assignments.csv"):
        spans.setdefault(r["device_id"], []).append(
            (_utc(r["start"]), _utc(r["end"]), r["officer_id"])
        )
    cars = {r["device_id"] for r in _rows(sim.out / "devices.csv") if r["kind"] == "vehicle"}
    assert cars & set(spans)
    for device, rows in spans.items():
        rows.sort()
        for (s1, e1, o1), (s2, e2, o2) in pairwise(rows):
            if s2 < e1:
                assert device in cars and (s1, e1) == (s2, e2) and o1 != o2, device
