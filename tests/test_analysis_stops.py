"""Unexplained vehicle stops, and time coverage when a reason explains only part of an occasion."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from test_analysis import DAY, STATION, at, table, track, world
from whereabouts import schema
from whereabouts.analysis import reasons, stops
from whereabouts.analysis.inputs import Inputs
from whereabouts.analysis.labelling import label_occasions
from whereabouts.analysis.params import AnalysisParams

LAYBY = (9000.0, 9000.0)


def drive(
    device: str,
    h0: float,
    h1: float,
    a: tuple[float, float],
    b: tuple[float, float],
    step_s: float = 15.0,
) -> list[dict[str, object]]:
    """Fixes moving in a straight line from a to b between the two hours (end excluded)."""
    t = np.arange(h0 * 3600, h1 * 3600, step_s)
    f = (t - t[0]) / (h1 * 3600 - t[0])
    return [
        {
            "device_id": device,
            "time": DAY + timedelta(seconds=float(s)),
            "lat": 0.0,
            "lon": 0.0,
            "x": a[0] + (b[0] - a[0]) * k,
            "y": a[1] + (b[1] - a[1]) * k,
            "accuracy_m": 5.0,
        }
        for s, k in zip(t, f, strict=True)
    ]


def car_world() -> Inputs:
    """Car V1 crewed by P1 and P2 from 8:00 to 14:00: a parked hour at a lay-by (with one
    stray fix), 30 minutes at the station, 40 minutes at a job, and driving in between."""
    base, _ = world()
    inc = (4000.0, 6000.0)
    legs = (
        drive("V1", 8, 9, STATION, LAYBY)
        + track("V1", [(9, 10, LAYBY)], 15)
        + drive("V1", 10, 10.5, LAYBY, STATION)
        + track("V1", [(10.5, 11, STATION)], 15)
        + drive("V1", 11, 11.5, STATION, inc)
        + track("V1", [(11.5, 12.2, inc)], 15)
        + drive("V1", 12.2, 14, inc, (-20000.0, 0.0))
    )
    stray = next(i for i, r in enumerate(legs) if r["time"] == at(9.5))
    legs[stray] = {**legs[stray], "x": LAYBY[0] + 400.0}  # multipath: 400 m off for one fix
    return Inputs(
        **{
            **base.__dict__,
            "fixes": table("fixes", legs),
            "assignments": table(
                "assignments",
                [
                    {"officer_id": o, "device_id": "V1", "start": at(8), "end": at(14)}
                    for o in ("P1", "P2")
                ],
            ),
            "incidents": table(
                "incidents",
                [
                    {
                        "incident_id": "J1",
                        "created_at": at(11.2),
                        "x": inc[0],
                        "y": inc[1],
                        "lat": 0.0,
                        "lon": 0.0,
                        "priority": 3,
                        "closed_at": at(13),
                    }
                ],
            ),
            "attachments": table(
                "attachments",
                [
                    {
                        "incident_id": "J1",
                        "device_id": "V1",
                        "dispatched_at": at(11.25),
                        "cleared_at": at(12.25),
                    }
                ],
            ),
        }
    )


def test_the_parked_hour_is_the_one_unexplained_stop() -> None:
    inputs = car_world()
    con = inputs.connect()
    con.execute(
        "CREATE TABLE evid(occasion_id VARCHAR, label VARCHAR, kind VARCHAR, "
        "detail VARCHAR, rows VARCHAR[])"
    )
    reasons.prepare(con, AnalysisParams())
    got = stops.find_stops(con, AnalysisParams(), ["P1"], inputs.crs)
    assert got.schema == stops.STOPS
    assert got.num_rows == 1  # station and tasked stops are explained; the stray fix heals
    stop = got.to_pylist()[0]
    assert stop["device_id"] == "V1" and stop["officers"] == ["P1", "P2"]
    assert abs(stop["start"] - at(9)) <= timedelta(seconds=15)
    assert abs(stop["end"] - at(10)) <= timedelta(seconds=15)
    assert (stop["x"], stop["y"]) == pytest.approx(LAYBY, abs=20)
    assert "stationary" in stop["flags"] and "outside_area" not in stop["flags"]
    assert stop["on_duty"] == "P1, P2"


def test_stops_of_other_officers_vehicles_are_not_shown() -> None:
    inputs = car_world()
    con = inputs.connect()
    con.execute(
        "CREATE TABLE evid(occasion_id VARCHAR, label VARCHAR, kind VARCHAR, "
        "detail VARCHAR, rows VARCHAR[])"
    )
    reasons.prepare(con, AnalysisParams())
    assert stops.find_stops(con, AnalysisParams(), ["P3"], inputs.crs).num_rows == 0


def test_the_vehicles_fixes_while_assigned_are_an_as_of_join() -> None:
    """stops._while_assigned (a binary search per fix) keeps the fixes DuckDB's ASOF JOIN
    keeps: the latest span of the vehicle starting at or before the fix, if not ended."""
    rng = np.random.default_rng(5)
    n = 4000
    fixes = pa.table(
        {
            "device_id": rng.choice(["V1", "V2", "V3", "R1"], n),
            "time": rng.integers(0, 2_000, n) * 1_000_000,
            "x": rng.random(n),
            "y": rng.random(n),
        }
    )
    spans = []
    for dev in ("V1", "V2", "V9"):  # V9 has no fixes; R1 no span
        cut = np.sort(rng.choice(np.arange(-100, 2_100), 16, replace=False)) * 1_000_000
        spans += [(dev, int(a), int(b)) for a, b in zip(cut[::2], cut[1::2], strict=True)]
    con = duckdb.connect()
    con.register("fixes", fixes)
    con.register(
        "veh_span_arrow",
        pa.table(
            dict(
                zip(("device_id", "start", "end"), map(list, zip(*spans, strict=True)), strict=True)
            )
        ),
    )
    con.execute("CREATE TABLE veh_span AS SELECT * FROM veh_span_arrow")
    want = con.sql("""
        SELECT f.device_id, f.time, f.x, f.y FROM fixes f
        ASOF JOIN veh_span v ON v.device_id = f.device_id AND f.time >= v.start
        WHERE f.time < v."end" ORDER BY ALL""").fetchall()
    con.register("got", stops._while_assigned(con))
    got = con.sql("SELECT * FROM got ORDER BY ALL").fetchall()
    assert 0 < len(want) < n  # some fixes kept, some not: the test can fail
    assert got == want


def test_the_stops_need_only_their_crews_tasks() -> None:
    """subject_stops prepares the tasks of the officers who held the subjects' vehicles
    only: the same stops as with every officer's tasks — here P1's crewmate P2, tasked
    on their own for the parked hour, explains it."""
    car = car_world()
    inputs = replace(
        car,
        attachments=pa.concat_tables(
            [
                car.attachments,
                table(
                    "attachments",
                    [
                        {
                            "incident_id": "J1",
                            "officer_id": "P2",
                            "dispatched_at": at(8.9),
                            "cleared_at": at(10.1),
                        }
                    ],
                ),
            ]
        ),
    )
    for world_, n in ((car, 1), (inputs, 0)):  # P2's task explains the stop
        con = world_.connect()
        con.execute(
            "CREATE TABLE evid(occasion_id VARCHAR, label VARCHAR, kind VARCHAR, "
            "detail VARCHAR, rows VARCHAR[])"
        )
        reasons.prepare(con, AnalysisParams())
        want = stops.find_stops(con, AnalysisParams(), ["P1"], world_.crs)
        assert want.num_rows == n
        assert stops.subject_stops(world_, AnalysisParams(), ["P1"]).equals(want)


def test_a_briefing_does_not_explain_the_drive_after_it() -> None:
    """P1 and P2 are briefed at the station 8:00–8:30, then drive off side by side for
    30 minutes: one occasion, partly explained, not explained overall, never stopped."""
    base, _ = world()
    far = (STATION[0] + 18000.0, STATION[1])
    fixes = []
    for dev, dy in (("R1", 0.0), ("R2", 20.0)):
        fixes += track(dev, [(8, 8.5, (STATION[0], STATION[1] + dy))], 15)
        fixes += drive(
            dev, 8.5 + 15 / 3600, 9, (STATION[0], STATION[1] + dy), (far[0], far[1] + dy)
        )
    inputs = Inputs(**{**base.__dict__, "fixes": table("fixes", fixes)})
    periods = pa.table(
        {
            "device_a": ["R1"],
            "device_b": ["R2"],
            "start": pa.array([at(8)], schema.UTC_TS),
            "end": pa.array([at(9) - timedelta(seconds=15)], schema.UTC_TS),
            "min_distance_m": [20.0],
        }
    )
    (occ,) = label_occasions(inputs, periods, None, AnalysisParams()).to_pylist()
    assert occ["reasons"] == ["premises", "shared_duty"]
    assert occ["explained"] is False
    assert occ["unexplained_s"] == pytest.approx(1800, abs=60)
    assert occ["explained_s"] == pytest.approx(1800, abs=60)
    assert occ["stopped_s"] == pytest.approx(1800, abs=60)  # the briefing
    assert occ["unexplained_stopped_s"] == pytest.approx(0, abs=60)
    assert occ["unexplained_stop"] is False
    assert "stationary" not in occ["flags"]
