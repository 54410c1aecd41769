"""The engine's sort shortcuts give exactly what the plain sorts give."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from whereabouts.analysis.gather import inside_spans
from whereabouts.engine.encounters import _clean, _Rows
from whereabouts.engine.periods import Periods, union
from whereabouts.schema import UTC_TS
from whereabouts.tracks.track import Fixes, clean, id_runs


def _plain_union(p: Periods, gap_us: int) -> Periods:
    """union as a five-key lexsort, run by run (the reference)."""
    order = np.lexsort((p.end, p.start, p.b, p.a, p.kind))
    q = p.take(order)
    keep: list[int] = []
    ends: list[int] = []
    mins: list[float] = []
    for i in range(len(q)):
        same = keep and all(getattr(q, f)[i] == getattr(q, f)[keep[-1]] for f in ("kind", "a", "b"))
        if same and q.start[i] <= ends[-1] + gap_us:
            ends[-1] = max(ends[-1], int(q.end[i]))
            mins[-1] = float(np.fmin(mins[-1], q.min_distance[i]))
        else:
            keep.append(i)
            ends.append(int(q.end[i]))
            mins.append(float(q.min_distance[i]))
    k = np.array(keep, np.int64)
    return Periods(
        q.kind[k], q.a[k], q.b[k], q.start[k], np.array(ends, np.int64), np.array(mins, np.float64)
    )


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 2**32),
    st.integers(1, 200),
    st.sampled_from([1, 10**6, 10**14]),
    st.sampled_from([5, 2**40]),
    st.integers(0, 3),
)
def test_union_equals_plain_sort(seed: int, n: int, scale: int, codes: int, gap: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, codes, n)
    start = rng.integers(0, 40, n) * scale
    p = Periods(
        rng.integers(0, 3, n).astype(np.int8),
        a,
        a + rng.integers(0, 3, n),
        start,
        start + rng.integers(0, 20, n),
        np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 4, n) * 1.0),
    )
    got, want = union(p, gap), _plain_union(p, gap)
    for f in ("kind", "a", "b", "start", "end", "min_distance"):
        assert np.array_equal(getattr(got, f), getattr(want, f), equal_nan=True), f


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 200), st.booleans())
def test_clean_shortcut_equals_clean(seed: int, n: int, presorted: bool) -> None:
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 4, n).astype(np.int32)
    t = rng.integers(0, 30, n).astype(np.int64)
    if presorted:  # as a workspace returns fixes: (device, time) order, with tied instants
        o = np.lexsort((t, d))
        d, t = d[o], t[o]
    f = Fixes(
        np.array(["a", "b", "c", "d"], dtype=object),
        d,
        t,
        rng.integers(0, 3, n) * 1.0,
        rng.integers(0, 3, n) * 1.0,
        rng.integers(0, 2, n) * 1.0,
    )
    (got, dropped), (want, dropped_want) = _clean(f), clean(f)
    assert dropped == dropped_want
    for name in ("device", "t", "x", "y", "accuracy"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 300), st.sampled_from([1, 10**6, 2**56]))
def test_window_rows_are_the_fixes_inside(seed: int, n: int, scale: int) -> None:
    """_Rows.between (a binary search per device, or a scan when the key does not pack)
    gives the fixes with lo <= t <= hi in (device, time) order."""
    rng = np.random.default_rng(seed)
    d = np.sort(rng.integers(0, 5, n)).astype(np.int32)
    t = rng.integers(0, 50, n).astype(np.int64) * scale
    o = np.lexsort((t, d))
    f = Fixes(np.array(list("abcde"), dtype=object), d[o], t[o], t * 0.0, t * 0.0, t * 0.0)
    rows = _Rows(f)
    for lo, hi in rng.integers(-5, 55, (6, 2)) * scale:
        assert np.array_equal(rows.between(lo, hi), np.flatnonzero((f.t >= lo) & (f.t <= hi)))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "RV21", None]), max_size=40), st.integers(1, 4))
def test_id_runs_rebuild_the_ids(ids: list[str | None], chunks: int) -> None:
    """id_runs: each run's first id and length give back the column, and no two runs in
    a row hold the same id (nulls each a run of their own)."""
    step = max(len(ids) // chunks, 1)
    col = pa.chunked_array(
        [ids[i : i + step] for i in range(0, len(ids), step)] or [[]], pa.string()
    )
    heads, lengths = id_runs(col)
    assert np.repeat(np.array(heads.to_pylist(), dtype=object), lengths).tolist() == ids
    runs = heads.to_pylist()
    assert all(a != b or a is None for a, b in pairwise(runs))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 200), st.booleans(), st.integers(0, 12))
def test_fixes_inside_spans_as_a_plain_check(seed: int, n: int, ordered: bool, k: int) -> None:
    """gather.inside_spans (a binary search per span for fixes in (device, time) order, a
    search per fix otherwise) marks exactly the fixes inside a span of their device."""
    rng = np.random.default_rng(seed)
    dev = rng.choice(["a", "b", "c", "d"], n)
    t = rng.integers(0, 100, n) * 10**6
    if ordered:
        o = np.lexsort((t, dev))
        dev, t = dev[o], t[o]
    fixes = pa.table({"device_id": dev.astype(str), "time": pa.array(t, pa.int64()).cast(UTC_TS)})
    rows = []
    for d in ("a", "b", "c", "e"):  # d has no spans, e no fixes
        edges = np.sort(rng.choice(np.arange(-10, 110) * 10**6, 2 * (k // 4), replace=False))
        rows += [(d, int(lo), int(hi)) for lo, hi in edges.reshape(-1, 2)]
    spans = pa.table(
        {
            "device_id": pa.array([r[0] for r in rows], pa.string()),
            "s0": pa.array([r[1] for r in rows], pa.int64()),
            "s1": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
    want = [any(d == r[0] and r[1] <= x < r[2] for r in rows) for d, x in zip(dev, t, strict=True)]
    assert inside_spans(fixes, spans).tolist() == want
