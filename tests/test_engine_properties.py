"""Properties of the engine that hold for any fixes (Hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whereabouts.engine import EncounterParams, find_encounters, same_table, within_periods
from whereabouts.schema import UTC_TS

T0 = 1_707_120_000_000_000
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def fleets(draw: st.DrawFn) -> pa.Table:
    """2–4 devices, each 1–12 fixes at whole seconds in 0–900, positions on a 10 m lattice."""
    rows: list[tuple[str, int, float, float, float]] = []
    for name in draw(st.lists(st.sampled_from("ABCD"), min_size=2, max_size=4, unique=True)):
        n = draw(st.integers(1, 12))
        times = draw(st.lists(st.integers(0, 900), min_size=n, max_size=n, unique=True))
        for s in times:
            rows.append(
                (
                    name,
                    s,
                    draw(st.integers(0, 30)) * 10.0,
                    draw(st.integers(0, 30)) * 10.0,
                    float(draw(st.integers(0, 20))),
                )
            )
    return pa.table(
        {
            "device_id": pa.array([r[0] for r in rows], pa.string()),
            "time": pa.array([T0 + r[1] * 1_000_000 for r in rows], pa.int64()).cast(UTC_TS),
            "x": [300_000.0 + r[2] for r in rows],
            "y": [170_000.0 + r[3] for r in rows],
            "accuracy_m": [r[4] for r in rows],
        }
    )


PARAMS = EncounterParams(distance_m=75, max_gap_s=200, merge_gap_s=30, min_duration_s=0)


def rows(table: pa.Table) -> list[tuple[object, ...]]:
    """Rows with figures rounded to a micrometre / microsecond (float noise aside)."""
    return [
        tuple(round(v, 6) if isinstance(v, float) else v for v in r.values())
        for r in table.to_pylist()
    ]


@SETTINGS
@given(fleets())
def test_swapping_labels_gives_the_same_encounters(table: pa.Table) -> None:
    swap = {"A": "D", "B": "C", "C": "B", "D": "A"}
    relabelled = table.set_column(
        0, "device_id", pa.array([swap[d] for d in table["device_id"].to_pylist()], pa.string())
    )
    want = {
        (tuple(sorted((swap[str(r[0])], swap[str(r[1])]))), *r[2:])
        for r in rows(find_encounters(table, PARAMS))
    }
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
    o: dict[tuple[str, str], list[tuple[Any, Any]]] = {}
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
    """Every column is the same bits whatever the window length, certain_s, possible_s and
    min_distance_m included: the kernel solves each pair of segments in coordinates of the
    two segments alone (µs from the later start, the input's metres), rounds each boundary
    to a µs and only then clips it to the window, in integer µs; a piece carries its whole
    interval's minimum distance. So a window edge changes where a period is cut, never a
    bit of it, and the stitched periods are the same."""
    want = find_encounters(table, PARAMS)
    got = find_encounters(table, PARAMS, window_s=window)
    assert same_table(got.replace_schema_metadata(None), want.replace_schema_metadata(None))
    for kind in ("within", "certain", "possible"):
        assert same_table(
            within_periods(
                table,
                PARAMS,
                kind=kind,
                window_s=window,
            ).replace_schema_metadata(None),
            within_periods(
                table,
                PARAMS,
                kind=kind,
            ).replace_schema_metadata(None),
        )


def _follow(
    rng: np.random.Generator, hours: float, lag: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Irregular fixes (5–15 s apart, at odd µs) along one slow path, offset from it by up to
    ~50 m (a Lissajous curve with phase `lag`), so two such devices come and go within 40 m."""
    t = 600.0 + np.cumsum(rng.uniform(5, 15, int(hours * 360)))
    path_x = 412_345.6 + 300 * np.sin(t / 1_100)
    path_y = 287_654.3 + 300 * np.cos(t / 1_300)
    return (
        (T0 + np.round(t * 1e6)).astype(np.int64),
        path_x + 35 * np.cos(t / 97 + lag),
        path_y + 35 * np.sin(t / 61 + lag),
    )


def test_other_devices_do_not_change_a_pairs_answer() -> None:
    """The automatic window depends on how dense the data are: the pair alone gets a week's
    window, the pair among 40 busy devices (1 Hz, far away) one under two hours, cutting the
    pair's time at odd µs. The pair's encounters and raw periods are the same bits either way
    — evidence must not change because other devices were loaded."""
    from whereabouts.engine.encounters import auto_window_us

    rng = np.random.default_rng(41)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("device_id", "time", "x", "y", "acc")}

    def add(name: str, t: np.ndarray, x: np.ndarray, y: np.ndarray, acc: np.ndarray) -> None:
        for k, v in (
            ("device_id", np.full(len(t), name, object)),
            ("time", t),
            ("x", x),
            ("y", y),
            ("acc", acc),
        ):
            cols[k].append(v)

    for name, lag in (("A", 0.0), ("B", 2.0)):  # two devices on one path for 2.5 h
        t, x, y = _follow(rng, 2.5, lag)
        add(name, t, x, y, rng.uniform(0, 15, len(t)))
    pair = pa.table(
        {
            "device_id": pa.array(np.concatenate(cols["device_id"]), pa.string()),
            "time": pa.array(np.concatenate(cols["time"])).cast(UTC_TS),
            "x": np.concatenate(cols["x"]),
            "y": np.concatenate(cols["y"]),
            "accuracy_m": np.concatenate(cols["acc"]),
        }
    )
    seconds = np.arange(0, 3 * 3600)
    for i in range(40):  # busy devices 2 km apart, 50 km from the pair
        n = len(seconds)
        add(
            f"Z{i:02d}",
            T0 + seconds * 1_000_000 + 1_000_000 * 300,
            np.full(n, 460_000.0 + 2_000.0 * i),
            np.full(n, 300_000.0),
            np.full(n, 5.0),
        )
    crowd = pa.table(
        {
            "device_id": pa.array(np.concatenate(cols["device_id"]), pa.string()),
            "time": pa.array(np.concatenate(cols["time"])).cast(UTC_TS),
            "x": np.concatenate(cols["x"]),
            "y": np.concatenate(cols["y"]),
            "accuracy_m": np.concatenate(cols["acc"]),
        }
    )
    us = [t.column("time").cast(pa.int64()).to_numpy() for t in (pair, crowd)]
    alone, among = (auto_window_us(len(u), int(u.min()), int(u.max())) for u in us)
    assert alone == 168 * 3_600_000_000 and among < 2 * 3_600_000_000

    def only_pair(t: pa.Table) -> pa.Table:
        keep = pa.compute.and_(
            pa.compute.equal(t["device_a"], "A"), pa.compute.equal(t["device_b"], "B")
        )
        return t.filter(keep).replace_schema_metadata(None)

    params = EncounterParams(distance_m=40, max_gap_s=60, merge_gap_s=0, min_duration_s=0)
    want = only_pair(find_encounters(pair, params))
    assert want.num_rows > 20 and (want["certain_s"].to_numpy() > 0).any()
    assert same_table(only_pair(find_encounters(crowd, params)), want)
    for kind in ("within", "certain"):
        assert same_table(
            only_pair(within_periods(crowd, params, kind=kind)),
            only_pair(within_periods(pair, params, kind=kind)),
        )


@SETTINGS
@given(fleets(), st.sampled_from(["within", "certain", "possible"]))
def test_one_kind_alone_is_the_same_as_all_three(table: pa.Table, kind: str) -> None:
    """within_periods finds only the kind asked for; those periods are the same bits as the
    ones a run finding every kind gives."""
    from whereabouts.engine.encounters import raw_periods_table, run
    from whereabouts.engine.periods import KIND_NAMES

    alone = within_periods(table, PARAMS, kind=kind)  # type: ignore[arg-type]
    r = run(table, PARAMS)
    every = raw_periods_table(r.ids, r.periods.of_kind(KIND_NAMES.index(kind)))
    assert same_table(alone.replace_schema_metadata(None), every)
