"""Properties of the engine that hold for any fixes (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whereabouts.engine import EncounterParams, find_encounters, within_periods
from whereabouts.schema import UTC_TS

T0 = 1_707_120_000_000_000
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def fleets(draw: st.DrawFn) -> pa.Table:
    """2–4 devices, each 1–12 fixes at whole seconds in 0–900, positions on a 10 m lattice."""
    rows: list[tuple[str, int, float, float, float]] = []
    for name in draw(st.lists(st.sampled_from("ABCD"), min_size=2, max_size=4, unique=True)):
        n = draw(st.integers(1, 12))
        times = draw(st.lists(st.integers(0, 900), min_size=n, max_size=n, unique=True))
        for s in times:
            rows.append((name, s, draw(st.integers(0, 30)) * 10.0,
                         draw(st.integers(0, 30)) * 10.0, float(draw(st.integers(0, 20)))))
    return pa.table({
        "device_id": pa.array([r[0] for r in rows], pa.string()),
        "time": pa.array([T0 + r[1] * 1_000_000 for r in rows], pa.int64()).cast(UTC_TS),
        "x": [300_000.0 + r[2] for r in rows],
        "y": [170_000.0 + r[3] for r in rows],
        "accuracy_m": [r[4] for r in rows],
    })


PARAMS = EncounterParams(distance_m=75, max_gap_s=200, merge_gap_s=30, min_duration_s=0)


def rows(table: pa.Table) -> list[tuple[object, ...]]:
    """Rows with figures rounded to a micrometre / microsecond (float noise aside)."""
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in r.values())
            for r in table.to_pylist()]


@SETTINGS
@given(fleets())
def test_swapping_labels_gives_the_same_encounters(table: pa.Table) -> None:
    swap = {"A": "D", "B": "C", "C": "B", "D": "A"}
    relabelled = table.set_column(0, "device_id", pa.array(
        [swap[d] for d in table["device_id"].to_pylist()], pa.string()))
    want = {(tuple(sorted((swap[r[0]], swap[r[1]]))), *r[2:]) for r in
            rows(find_encounters(table, PARAMS))}
    got = {((r[0], r[1]), *r[2:]) for r in rows(find_encounters(relabelled, PARAMS))}
    assert got == want


@SETTINGS
@given(fleets(), st.randoms(use_true_random=False))
def test_row_order_and_duplicated_rows_do_not_matter(table: pa.Table, rnd: object) -> None:
    want = rows(find_encounters(table, PARAMS))
    order = list(range(table.num_rows))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    doubled = pa.concat_tables([table.take(order), table.take(order[: len(order) // 2])])
    assert rows(find_encounters(doubled, PARAMS)) == want


def _contained(inner: pa.Table, outer: pa.Table) -> bool:
    """Every period of `inner` lies inside a period of `outer` of the same pair (±1 µs)."""
    o = {}
    for r in outer.to_pylist():
        o.setdefault((r["device_a"], r["device_b"]), []).append((r["start"], r["end"]))
    one = np.timedelta64(1, "us").astype(object)
    for r in inner.to_pylist():
        spans = o.get((r["device_a"], r["device_b"]), [])
        if not any(s - one <= r["start"] and r["end"] <= e + one for s, e in spans):
            return False
    return True


@SETTINGS
@given(fleets(), st.floats(5, 150), st.floats(0, 150))
def test_monotonic_in_distance(table: pa.Table, d1: float, extra: float) -> None:
    p1 = EncounterParams(distance_m=d1, max_gap_s=200, merge_gap_s=0, min_duration_s=0)
    p2 = EncounterParams(distance_m=d1 + extra, max_gap_s=200, merge_gap_s=0, min_duration_s=0)
    assert _contained(within_periods(table, p1), within_periods(table, p2))


@SETTINGS
@given(fleets())
def test_certain_within_possible(table: pa.Table) -> None:
    certain = within_periods(table, PARAMS, kind="certain")
    within = within_periods(table, PARAMS)
    possible = within_periods(table, PARAMS, kind="possible")
    assert _contained(certain, within) and _contained(within, possible)
    enc = find_encounters(table, PARAMS)
    for r in enc.to_pylist():
        assert -1e-6 <= r["certain_s"] <= r["possible_s"] + 1e-6
        assert r["certain_s"] <= r["duration_s"] + 1e-6


@SETTINGS
@given(fleets(), st.sampled_from([37.0, 200.0, 3600.0]))
def test_window_length_does_not_change_the_answer(table: pa.Table, window: float) -> None:
    """Every encounter and figure is the same whatever the window length, but for
    certain_s/possible_s, which may move by a microsecond: their period boundaries are
    solved in each window's own coordinates (relative to its lowest x/y), so a boundary can
    round to the next microsecond (found by Hypothesis: 42.077317 against 42.077318 s)."""
    want = find_encounters(table, PARAMS)
    got = find_encounters(table, PARAMS, window_s=window)
    exact = ["certain_s", "possible_s"]
    assert rows(got.drop_columns(exact)) == rows(want.drop_columns(exact))
    for column in exact:
        assert np.allclose(got[column].to_numpy(), want[column].to_numpy(), rtol=0, atol=2e-6)


@SETTINGS
@given(fleets(), st.sampled_from(["within", "certain", "possible"]))
def test_one_kind_alone_is_the_same_as_all_three(table: pa.Table, kind: str) -> None:
    """within_periods finds only the kind asked for; those periods are the same bits as the
    ones a run finding every kind gives."""
    from whereabouts.engine import same_table
    from whereabouts.engine.encounters import raw_periods_table, run
    from whereabouts.engine.periods import KIND_NAMES

    alone = within_periods(table, PARAMS, kind=kind)  # type: ignore[arg-type]
    r = run(table, PARAMS)
    every = raw_periods_table(r.ids, r.periods.of_kind(KIND_NAMES.index(kind)))
    assert same_table(alone.replace_schema_metadata(None), every)
