"""The edge-case zoo: each case small enough to work out by hand."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from whereabouts.engine import EncounterParams, find_encounters, within_periods, write_parquet
from whereabouts.errors import NoDataError, ParameterError
from whereabouts.schema import ENCOUNTERS, UTC_TS

T0 = 1_707_120_000_000_000  # 2024-02-05 08:00 UTC, µs
ALL = EncounterParams(distance_m=100, max_gap_s=300, merge_gap_s=0, min_duration_s=0)


def fixes(
    rows: Sequence[tuple[str, float, float, float]], acc: list[float] | None = None
) -> pa.Table:
    """(device, seconds after T0, x, y) rows as a fixes table in metres."""
    cols = {
        "device_id": pa.array([r[0] for r in rows], pa.string()),
        "time": pa.array([T0 + round(r[1] * 1e6) for r in rows], pa.int64()).cast(UTC_TS),
        "x": pa.array([300_000.0 + r[2] for r in rows]),
        "y": pa.array([170_000.0 + r[3] for r in rows]),
    }
    if acc is not None:
        cols["accuracy_m"] = pa.array(acc, pa.float64())
    return pa.table(cols)


def spans(table: pa.Table) -> list[tuple[str, str, float, float]]:
    """(a, b, start s, end s after T0) of a periods or encounters table."""
    return [
        (
            r["device_a"],
            r["device_b"],
            round(r["start"].timestamp() - T0 / 1e6, 6),
            round(r["end"].timestamp() - T0 / 1e6, 6),
        )
        for r in table.to_pylist()
    ]


def test_no_fixes_is_an_error_with_a_hint() -> None:
    empty = fixes([("A", 0, 0, 0)]).slice(0, 0)
    with pytest.raises(NoDataError, match="How to fix"):
        find_encounters(empty, ALL)


def test_device_without_fixes_gives_no_encounters() -> None:
    t = fixes([("A", 0, 0, 0), ("A", 60, 0, 0), ("B", 0, 10, 0), ("B", 60, 10, 0)])
    out = find_encounters(t, ALL, devices=["A", "C"])
    assert out.num_rows == 0 and out.schema.equals(ENCOUNTERS)


def test_one_fix_each_meets_only_at_that_instant() -> None:
    t = fixes([("A", 30, 0, 0), ("B", 30, 50, 0)])
    assert spans(within_periods(t, ALL)) == [("A", "B", 30.0, 30.0)]
    t = fixes([("A", 30, 0, 0), ("B", 31, 50, 0)])  # never known at the same instant
    assert within_periods(t, ALL).num_rows == 0


def test_duplicate_rows_are_dropped_and_counted() -> None:
    rows = [("A", 0, 0, 0), ("A", 60, 0, 0), ("B", 0, 10, 0), ("B", 60, 10, 0)]
    out = find_encounters(fixes(rows + rows[:2]), ALL)
    meta = json.loads(out.schema.metadata[b"whereabouts"])
    assert meta["duplicates_dropped"] == 2 and meta["fixes_read"] == 6
    assert spans(out) == [("A", "B", 0.0, 60.0)]


def test_stationary_units_30_m_apart() -> None:
    t = fixes([("B", 0, 30, 0), ("A", 0, 0, 0), ("A", 600, 0, 0), ("B", 600, 30, 0)])
    params = EncounterParams(distance_m=50, max_gap_s=600, merge_gap_s=0, min_duration_s=300)
    out = find_encounters(t, params)
    assert spans(out) == [("A", "B", 0.0, 600.0)]
    assert out["duration_s"][0].as_py() == 600.0
    assert out["min_distance_m"][0].as_py() == pytest.approx(30.0)


def test_parallel_motion_at_exactly_the_distance_is_within() -> None:
    t = fixes([("A", 0, 0, 0), ("A", 100, 1000, 0), ("B", 0, 0, 100), ("B", 100, 1000, 100)])
    assert spans(within_periods(t, ALL)) == [("A", "B", 0.0, 100.0)]
    t = fixes([("A", 0, 0, 0), ("A", 100, 1000, 0), ("B", 0, 0, 101), ("B", 100, 1000, 101)])
    assert within_periods(t, ALL).num_rows == 0


def test_far_apart_devices_never_meet() -> None:
    t = fixes([("A", 0, 0, 0), ("A", 600, 500, 0), ("B", 0, 50_000, 0), ("B", 600, 50_500, 0)])
    assert find_encounters(t, ALL).num_rows == 0


def test_tangential_touch_is_one_instant() -> None:
    # A passes B's position at 100 m closest approach, at t = 100 s
    t = fixes([("A", 0, -100, 100), ("A", 200, 100, 100), ("B", 0, 0, 0), ("B", 200, 0, 0)])
    assert spans(within_periods(t, ALL)) == [("A", "B", 100.0, 100.0)]


def test_crossing_gives_the_exact_interval() -> None:
    # A at 1 m/s along y = 60 past B at the origin: within 100 m while |x| <= 80
    t = fixes([("A", 0, -200, 60), ("A", 400, 200, 60), ("B", 0, 0, 0), ("B", 400, 0, 0)])
    params = EncounterParams(distance_m=100, max_gap_s=400, merge_gap_s=0, min_duration_s=0)
    assert spans(within_periods(t, params)) == [("A", "B", 120.0, 280.0)]


@pytest.mark.parametrize(("gap", "linked"), [(300.0, True), (300.001, False), (299.999, True)])
def test_gap_at_max_gap(gap: float, linked: bool) -> None:
    t = fixes([("A", 0, 0, 0), ("A", gap, 0, 0), ("B", 0, 10, 0), ("B", gap, 10, 0)])
    got = spans(within_periods(t, ALL))
    want = [("A", "B", 0.0, gap)] if linked else [("A", "B", 0.0, 0.0), ("A", "B", gap, gap)]
    assert got == want


def test_encounter_across_window_edges_is_one() -> None:
    rows = [(d, s, x, 0.0) for s in range(0, 901, 30) for d, x in (("A", 0.0), ("B", 20.0))]
    params = EncounterParams(distance_m=50, max_gap_s=60, merge_gap_s=0, min_duration_s=0)
    out = find_encounters(fixes(rows), params, window_s=70.0)
    assert spans(out) == [("A", "B", 0.0, 900.0)]


def test_merge_gap_and_min_duration() -> None:
    # together 0–100 s, apart 100–150 s (gap ~50 s), together 150–250 s
    xs = {0: 0, 100: 0, 101: 500, 149: 500, 150: 0, 250: 0}
    rows = [("A", s, x, 0) for s, x in xs.items()] + [("B", s, 10, 0) for s in xs]
    t = fixes(rows)
    joined = EncounterParams(distance_m=50, max_gap_s=120, merge_gap_s=60, min_duration_s=200)
    assert len(spans(find_encounters(t, joined))) == 1
    apart = EncounterParams(distance_m=50, max_gap_s=120, merge_gap_s=30, min_duration_s=0)
    assert len(spans(find_encounters(t, apart))) == 2
    short = EncounterParams(distance_m=50, max_gap_s=120, merge_gap_s=30, min_duration_s=101)
    assert find_encounters(t, short).num_rows == 0


def test_certain_and_possible_with_position_error() -> None:
    # A at 1 m/s from x=0 to 200 past B at x=100; 10 m error each; d = 50:
    # within |x−100| <= 50 (100 s), certain <= 30 (60 s), possible <= 70 (140 s)
    t = fixes(
        [("A", 0, 0, 0), ("A", 200, 200, 0), ("B", 0, 100, 0), ("B", 200, 100, 0)],
        acc=[10, 10, 10, 10],
    )
    params = EncounterParams(distance_m=50, max_gap_s=300, merge_gap_s=0, min_duration_s=0)
    out = find_encounters(t, params).to_pylist()[0]
    assert out["duration_s"] == pytest.approx(100.0)
    assert out["certain_s"] == pytest.approx(60.0)
    assert out["possible_s"] == pytest.approx(100.0)  # clipped to the encounter itself
    possible = within_periods(t, params, kind="possible")
    assert spans(possible) == [("A", "B", 30.0, 170.0)]
    certain = within_periods(t, params, kind="certain")
    assert spans(certain) == [("A", "B", 70.0, 130.0)]


def test_error_growing_along_a_segment() -> None:
    # both stationary 40 m apart, error 0 → 20 m each over 100 s: certain while 40 + 2e <= 50
    t = fixes(
        [("A", 0, 0, 0), ("A", 100, 0, 0), ("B", 0, 40, 0), ("B", 100, 40, 0)], acc=[0, 20, 0, 20]
    )
    params = EncounterParams(distance_m=50, max_gap_s=300, merge_gap_s=0, min_duration_s=0)
    assert spans(within_periods(t, params, kind="certain")) == [("A", "B", 0.0, 25.0)]
    assert spans(within_periods(t, params, kind="possible")) == [("A", "B", 0.0, 100.0)]


def test_devices_and_one_to_many_restrict_pairs() -> None:
    rows = [(d, s, x, 0.0) for s in (0, 60) for d, x in (("A", 0), ("B", 5), ("C", 10))]
    t = fixes(rows)
    pairs = {(r[0], r[1]) for r in spans(find_encounters(t, ALL))}
    assert pairs == {("A", "B"), ("A", "C"), ("B", "C")}
    pairs = {(r[0], r[1]) for r in spans(find_encounters(t, ALL, devices=["B", "C"]))}
    assert pairs == {("B", "C")}
    pairs = {(r[0], r[1]) for r in spans(find_encounters(t, ALL, one_to_many=["C"]))}
    assert pairs == {("A", "C"), ("B", "C")}
    with pytest.raises(ParameterError):
        find_encounters(t, ALL, devices=["A"])


@pytest.mark.parametrize(
    "bad",
    [
        {"distance_m": 0},
        {"distance_m": -5},
        {"max_gap_s": 0},
        {"merge_gap_s": float("nan")},
        {"min_duration_s": -1},
        {"distance_m": "100"},
    ],
)
def test_nonsense_parameters_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ParameterError, match="How to fix"):
        EncounterParams(**bad)  # type: ignore[arg-type]


def test_output_carries_parameters_crs_and_version(tmp_path: object) -> None:
    t = fixes([("A", 0, 0, 0), ("A", 600, 0, 0), ("B", 0, 10, 0), ("B", 600, 10, 0)])
    params = EncounterParams(distance_m=25, max_gap_s=700)
    out = find_encounters(t, params, crs="EPSG:27700")
    path = write_parquet(out, f"{tmp_path}/enc.parquet")
    meta = pq.read_schema(path).metadata
    info = json.loads(meta[b"whereabouts"])
    assert info["params"]["distance_m"] == "25.0" and info["params"]["max_gap_s"] == "700.0"
    assert meta[b"whereabouts.crs"] == b"EPSG:27700"
    assert info["software"].startswith("whereabouts ")
    assert pq.read_table(path).num_rows == 1


def test_lat_lon_input_is_projected() -> None:
    lat = 51.48 + np.array([0.0, 0.0, 0.0, 0.0])
    lon = -3.18 + np.array([0.0, 0.0, 0.0005, 0.0005])  # ~35 m apart at this latitude
    t = pa.table(
        {
            "device_id": ["A", "A", "B", "B"],
            "time": pa.array([T0, T0 + 60_000_000] * 2, pa.int64()).cast(UTC_TS),
            "lat": lat,
            "lon": lon,
        }
    )
    out = find_encounters(t, EncounterParams(distance_m=50, min_duration_s=60))
    assert out.num_rows == 1
    assert out["min_distance_m"][0].as_py() == pytest.approx(34.7, abs=0.5)
    assert out.schema.metadata[b"whereabouts.crs"] == b"EPSG:27700"
