"""Occasions, reasons and flags on a small hand-built day whose answers are known by design.

Three officers on one day shift. P1 and P2 (radios R1, R2) meet five times: a briefing at
the station, a stop at a remote lay-by far outside their area, a shared incident, and a
visit to P2's home; P1 and P3 are crewed in vehicle V1 (P3's radio is off). Each scene is
written down with its expected labels, independently of the code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
import shapely

from whereabouts import schema
from whereabouts.analysis.inputs import Inputs
from whereabouts.analysis.labelling import OCCASIONS, label_occasions
from whereabouts.analysis.params import AnalysisParams

DAY = datetime(2024, 3, 4, tzinfo=UTC)
STATION = (1000.0, 1000.0)
REMOTE = (20000.0, 20000.0)
INCIDENT = (3000.0, 3000.0)
HOME = (4000.0, 1000.0)


def at(h: float) -> datetime:
    return DAY + timedelta(hours=h)


def table(name: str, rows: Sequence[Mapping[str, object]]) -> pa.Table:
    sch = schema.TABLES[name]
    cols = {f.name: [r.get(f.name) for r in rows] for f in sch}
    n = len(rows)
    cols["src_file"] = [name] * n
    cols["src_line"] = list(range(1, n + 1))
    return pa.table({f.name: pa.array(cols[f.name], f.type) for f in sch}, schema=sch)


def track(
    device: str, legs: list[tuple[float, float, tuple[float, float]]], step_s: float = 30.0
) -> list[dict[str, object]]:
    """Fixes every step_s seconds, standing at each leg's point from its start to end hour
    (a leg after the first begins one step later: the unit moves off in that step)."""
    rows: list[dict[str, object]] = []
    for i, (h0, h1, (x, y)) in enumerate(legs):
        for t in np.arange(h0 * 3600 + (step_s if i else 0), h1 * 3600 + 1, step_s):
            rows.append(
                {
                    "device_id": device,
                    "time": DAY + timedelta(seconds=float(t)),
                    "lat": 0.0,
                    "lon": 0.0,
                    "x": x,
                    "y": y,
                    "accuracy_m": 8.0,
                }
            )
    return rows


def world() -> tuple[Inputs, pa.Table]:
    apart = {"R1": (8000.0, 8000.0), "R2": (12000.0, 8000.0), "V1": (8000.0, 12000.0)}
    fixes = (
        track(
            "R1",
            [
                (8, 8.5, STATION),
                (8.5, 9, apart["R1"]),
                (9, 9.75, REMOTE),
                (9.75, 10, apart["R1"]),
                (10, 10.5, INCIDENT),
                (10.5, 11, apart["R1"]),
                (11, 11.5, HOME),
                (11.5, 16, apart["R1"]),
            ],
        )
        + track(
            "R2",
            [
                (8, 8.5, STATION),
                (8.5, 9, apart["R2"]),
                (9, 9.75, REMOTE),
                (9.75, 10, apart["R2"]),
                (10, 10.5, INCIDENT),
                (10.5, 11, apart["R2"]),
                (11, 11.5, HOME),
                (11.5, 16, apart["R2"]),
            ],
        )
        + track("V1", [(12, 12.75, (6000.0, 6000.0))])
    )
    inputs = Inputs(
        fixes=table("fixes", fixes),
        devices=table(
            "devices",
            [
                {"device_id": d, "kind": k}
                for d, k in [("R1", "radio"), ("R2", "radio"), ("V1", "vehicle")]
            ],
        ),
        officers=table(
            "officers", [{"officer_id": o, "team": "T", "station": "S"} for o in ("P1", "P2", "P3")]
        ),
        assignments=table(
            "assignments",
            [
                {"officer_id": "P1", "device_id": "R1", "start": at(8), "end": at(16)},
                {"officer_id": "P2", "device_id": "R2", "start": at(8), "end": at(16)},
                {"officer_id": "P1", "device_id": "V1", "start": at(12), "end": at(13)},
                {"officer_id": "P3", "device_id": "V1", "start": at(12), "end": at(13)},
            ],
        ),
        duty=table(
            "duty",
            [
                {"officer_id": "P1", "start": at(8), "end": at(8.5), "duty_type": "briefing"},
                {"officer_id": "P2", "start": at(8), "end": at(8.5), "duty_type": "briefing"},
                *[
                    {
                        "officer_id": o,
                        "start": at(8.5),
                        "end": at(16),
                        "duty_type": "response",
                        "area_id": "A1",
                    }
                    for o in ("P1", "P2", "P3")
                ],
            ],
        ),
        incidents=table(
            "incidents",
            [
                {
                    "incident_id": "INC1",
                    "created_at": at(9.9),
                    "x": INCIDENT[0],
                    "y": INCIDENT[1],
                    "lat": 0.0,
                    "lon": 0.0,
                    "priority": 2,
                    "closed_at": at(11),
                },
                # a busy town around P2's home and the incident: five incidents by each in the
                # 20 days the records cover (the remote rule allows 20 × 20/90 ≈ 4.4)
                *[
                    {
                        "incident_id": f"OLD{i}{k}",
                        "created_at": at(-24 * (20 - k)),
                        "x": px + 50 * k,
                        "y": py,
                        "lat": 0.0,
                        "lon": 0.0,
                        "priority": 3,
                    }
                    for i, (px, py) in enumerate([HOME, INCIDENT])
                    for k in range(5)
                ],
                # the rest of the force: an incident every day far from every scene (a log
                # with a day of no records in its span does not cover that day)
                *[
                    {
                        "incident_id": f"ELSE{d}",
                        "created_at": at(12 - 24 * d),
                        "x": 14000.0,
                        "y": 14000.0,
                        "lat": 0.0,
                        "lon": 0.0,
                        "priority": 3,
                    }
                    for d in range(1, 20)
                ],
                # raised near the remote lay-by while they were there: availability
                {
                    "incident_id": "INC2",
                    "created_at": at(9.2),
                    "x": REMOTE[0] + 1500,
                    "y": REMOTE[1],
                    "lat": 0.0,
                    "lon": 0.0,
                    "priority": 1,
                },
            ],
        ),
        attachments=table(
            "attachments",
            [
                {
                    "incident_id": "INC1",
                    "officer_id": "P1",
                    "dispatched_at": at(9.95),
                    "cleared_at": at(10.6),
                },
                {
                    "incident_id": "INC1",
                    "device_id": "R2",
                    "dispatched_at": at(9.95),
                    "cleared_at": at(10.6),
                },
            ],
        ),
        places=table(
            "places",
            [
                {
                    "place_id": "STN",
                    "kind": "police_station",
                    "x": STATION[0],
                    "y": STATION[1],
                    "lat": 0.0,
                    "lon": 0.0,
                    "radius_m": 80.0,
                    "name": "Station",
                },
                {
                    "place_id": "H2",
                    "kind": "home",
                    "x": HOME[0],
                    "y": HOME[1],
                    "lat": 0.0,
                    "lon": 0.0,
                    "radius_m": 40.0,
                    "owner_officer_id": "P2",
                },
            ],
        ),
        areas=table(
            "areas",
            [
                {
                    "area_id": "A1",
                    "geometry_geojson": "{}",
                    "geometry_wkb": shapely.to_wkb(shapely.box(0, 0, 15000, 15000)),
                }
            ],
        ),
    )
    periods = pa.table(
        {
            "device_a": ["R1"] * 4,
            "device_b": ["R2"] * 4,
            # they stand together from one step after each leg begins (first leg: at once)
            "start": pa.array(
                [at(8), *(at(h) + timedelta(seconds=30) for h in (9, 10, 11))], schema.UTC_TS
            ),
            "end": pa.array([at(8.5), at(9.75), at(10.5), at(11.5)], schema.UTC_TS),
            "min_distance_m": [0.0] * 4,
        }
    )
    return inputs, periods


@pytest.fixture(scope="module")
def occasions() -> pa.Table:
    inputs, periods = world()
    return label_occasions(inputs, periods, None, AnalysisParams())


def row(occ: pa.Table, pair: tuple[str, str], hour: float) -> dict[str, object]:
    rows: list[dict[str, object]] = [
        r
        for r in occ.to_pylist()
        if (r["officer_a"], r["officer_b"]) == pair
        and abs(r["start"] - at(hour)) <= timedelta(seconds=30)
    ]
    assert len(rows) == 1, f"expected one occasion of {pair} at {hour}"
    return rows[0]


def test_schema_and_order(occasions: pa.Table) -> None:
    assert occasions.schema == OCCASIONS
    assert occasions.num_rows == 5
    keys = list(
        zip(occasions["officer_a"].to_pylist(), occasions["start"].to_pylist(), strict=True)
    )
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("pair", "hour", "hours", "reasons", "flags", "explained"),
    [
        (("P1", "P2"), 8, 0.5, ["premises", "shared_duty"], ["stationary"], True),
        (("P1", "P2"), 9, 0.75, [], ["remote", "outside_area", "stationary"], False),
        (("P1", "P2"), 10, 0.5, ["same_incident"], ["stationary"], True),
        (("P1", "P2"), 11, 0.5, [], ["home", "stationary"], False),
        # the car parks 7 km from any place or incident: remote by the rule, yet crewed
        (("P1", "P3"), 12, 0.75, ["crewed"], ["remote", "stationary"], True),
    ],
)
def test_each_scene_is_labelled(
    occasions: pa.Table,
    pair: tuple[str, str],
    hour: float,
    hours: float,
    reasons: list[str],
    flags: list[str],
    explained: bool,
) -> None:
    r = row(occasions, pair, hour)
    assert r["duration_s"] == pytest.approx(hours * 3600, abs=30)
    assert r["reasons"] == reasons
    assert r["flags"] == flags
    assert r["explained"] is explained
    evidence = json.loads(str(r["evidence"]))
    assert sorted(e["label"] for e in evidence) == sorted(reasons + flags)
    assert r["unavailable_min"] == (0.0 if explained else pytest.approx(hours * 60, abs=0.5))


def test_evidence_names_whose_home_and_the_incident(occasions: pa.Table) -> None:
    home = json.loads(str(row(occasions, ("P1", "P2"), 11)["evidence"]))
    assert "home of P2" in home[0]["detail"]
    inc = json.loads(str(row(occasions, ("P1", "P2"), 10)["evidence"]))
    same = next(e for e in inc if e["label"] == "same_incident")
    assert "INC1" in same["detail"] and "incidents:incidents:1" in same["rows"]


def test_where_and_availability(occasions: pa.Table) -> None:
    r = row(occasions, ("P1", "P2"), 9)
    assert (r["x"], r["y"]) == REMOTE
    assert r["min_separation_m"] == 0.0
    assert r["incidents_p1"] == 1 and r["incidents_p2"] == 0
    assert r["dispatched"] is False
    assert r["confidence"] == "high"
    assert r["on_duty"] == "P1, P2"
    inc = row(occasions, ("P1", "P2"), 10)
    assert inc["dispatched"] is False  # dispatched before it began
    assert inc["place"] == "Station"  # homes are not named as places


def test_off_duty_time_is_not_analysed() -> None:
    inputs, periods = world()
    no_duty = Inputs(**{**inputs.__dict__, "duty": inputs.duty.slice(0, 0)})
    assert label_occasions(no_duty, periods, None, AnalysisParams()).num_rows == 0
    everything = label_occasions(no_duty, periods, None, AnalysisParams(on_duty_only=False))
    assert everything.num_rows == 5
    assert set(everything["on_duty"].to_pylist()) == {"neither"}
