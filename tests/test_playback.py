"""analysis.playback: positions at an instant, separation, stops, who was near, timeline bands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from whereabouts import schema
from whereabouts.analysis.playback import near, positions_at, separation, stops, timeline_bands
from whereabouts.errors import ParameterError


def _two_units() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # unit 0 drives east 10 m/s from t=0 to 100 (fixes every 10 s), then nothing until 1000
    # (a gap: unknown), then parks at (5000, 0) for 20 minutes; unit 1 stands at (500, 300)
    t0 = np.arange(0, 101, 10.0)
    park = np.arange(1000, 2201, 15.0)
    t_a = np.concatenate([t0, park])
    x_a = np.concatenate([t0 * 10, 5000 + np.resize([0.0, 3.0, -2.0], park.size)])
    y_a = np.zeros(t_a.size)
    t_b = np.arange(0, 2201, 20.0)
    x_b, y_b = np.full(t_b.size, 500.0), np.full(t_b.size, 300.0)
    t = np.concatenate([t_a, t_b])
    offsets = np.array([0, t_a.size, t.size])
    return t, np.concatenate([x_a, x_b]), np.concatenate([y_a, y_b]), offsets


def test_positions_are_interpolated_and_unknown_across_gaps() -> None:
    t, x, y, off = _two_units()
    px, py = positions_at(t, x, y, off, np.array([-1, 0, 45, 100, 500, 1000]), max_gap_s=300)
    assert np.isnan(px[0, 0]) and px[0, 1] == 0 and px[0, 2] == pytest.approx(450)
    assert px[0, 3] == 1000 and np.isnan(px[0, 4]) and px[0, 5] == 5000
    assert np.all(py[1, 1:] == 300)
    d = separation(t, x, y, off, 0, 1, at=np.array([50.0, 500.0]), max_gap_s=300)
    assert d[0] == pytest.approx(300) and np.isnan(d[1])
    assert np.array_equal(
        d, separation(t, x, y, off, 1, 0, at=np.array([50.0, 500.0]), max_gap_s=300), equal_nan=True
    )


def test_stops_are_runs_of_still_fixes_lasting_the_minimum() -> None:
    t, x, y, off = _two_units()
    found = stops(t, x, y, off, ["A", "B"], radius_m=30, min_s=600, max_gap_s=300)
    a = [s for s in found if s.unit == "A"]
    assert len(a) == 1 and a[0].start_s == 1000 and a[0].end_s == 2200
    assert abs(a[0].x - 5000) <= 3 and a[0].fixes == 81
    assert [s.unit for s in found].count("B") == 1  # standing still the whole time
    assert not stops(t, x, y, off, ["A", "B"], radius_m=30, min_s=3000, max_gap_s=300)
    # a window picks the stops overlapping it, whole
    late = stops(
        t, x, y, off, ["A", "B"], radius_m=30, min_s=600, max_gap_s=300, within=(2100.0, 3000.0)
    )
    assert [(s.unit, s.start_s) for s in late] == [("A", 1000.0), ("B", 0.0)]
    assert not [
        s
        for s in stops(
            t, x, y, off, ["A", "B"], radius_m=30, min_s=600, max_gap_s=300, within=(100.0, 900.0)
        )
        if s.unit == "A"
    ]


def test_near_lists_units_within_the_distance_nearest_first() -> None:
    t, x, y, off = _two_units()
    got = near(t, x, y, off, ["A", "B"], at=50.0, point=(500.0, 0.0), distance_m=400, max_gap_s=300)
    assert [g["unit"] for g in got] == ["A", "B"]
    assert got[0]["distance_m"] == 0 and got[1]["distance_m"] == 300
    assert [
        g["unit"]
        for g in near(
            t, x, y, off, ["A", "B"], at=50.0, point=(500.0, 0.0), distance_m=100, max_gap_s=300
        )
    ] == ["A"]
    # in A's gap only B is known
    assert [
        g["unit"]
        for g in near(
            t, x, y, off, ["A", "B"], at=500.0, point=(500.0, 0.0), distance_m=10_000, max_gap_s=300
        )
    ] == ["B"]
    with pytest.raises(ParameterError):
        near(t, x, y, off, ["A", "B"], at=50.0, point=(0.0, 0.0), distance_m=-1, max_gap_s=300)


def test_timeline_bands_hold_duty_and_incidents_attended_by_officer_or_device() -> None:
    t0 = datetime(2024, 3, 25, 7, tzinfo=UTC)
    h = timedelta(hours=1)

    def table(name: str, rows: dict[str, list[object]]) -> pa.Table:
        n = len(next(iter(rows.values())))
        full = {f.name: rows.get(f.name, [None] * n) for f in schema.TABLES[name]}
        return pa.table(full, schema=schema.TABLES[name])

    tables = {
        "duty": table(
            "duty",
            {
                "officer_id": ["P1", "P2", "P9"],
                "start": [t0, t0, t0],
                "end": [t0 + 8 * h] * 3,
                "duty_type": ["patrol", None, "patrol"],
            },
        ),
        "incidents": table(
            "incidents",
            {
                "incident_id": ["I1", "I2"],
                "created_at": [t0, t0],
                "lat": [0.0, 0.0],
                "lon": [0.0, 0.0],
                "x": [0.0, 0.0],
                "y": [0.0, 0.0],
                "category": ["theft", None],
                "priority": [2, 1],
                "closed_at": [t0 + h, None],
            },
        ),
        "attachments": table(
            "attachments",
            {
                "incident_id": ["I1", "I2", "I2"],
                "officer_id": ["P1", None, "P9"],
                "device_id": [None, "CAR-1", None],
                "dispatched_at": [t0 + h, t0 + 2 * h, t0],
                "cleared_at": [t0 + 2 * h, t0 + 3 * h, t0 + h],
            },
        ),
        "assignments": table(
            "assignments",
            {"officer_id": ["P2"], "device_id": ["CAR-1"], "start": [t0], "end": [t0 + 8 * h]},
        ),
    }
    bands = timeline_bands(tables, ["P1", "P2"], t0, t0 + 4 * h)
    got = [(b["officer_id"], b["kind"], b["label"], b["end"] - b["start"]) for b in bands]
    assert got == [
        ("P1", "duty", "patrol", 4 * h),
        ("P1", "incident", "I1 P2 theft", h),
        ("P2", "duty", "duty", 4 * h),
        ("P2", "incident", "I2 P1", h),
    ]
