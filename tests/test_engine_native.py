"""The compiled engine (engine/_native.c) finds exactly the numpy path's candidate pairs and
periods, and the engine gives the same bits with it and without it (WHEREABOUTS_NATIVE=0)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from test_engine_workers import _walks
from whereabouts.engine import EncounterParams, find_encounters, native, same_table, within_periods
from whereabouts.engine.candidates import candidate_pairs
from whereabouts.engine.partition import kernel_arrays
from whereabouts.engine.periods import CERTAIN, POSSIBLE, WITHIN, Periods, union
from whereabouts.tracks.track import fixes_from_table

# scripts/test.sh sets WHEREABOUTS_REQUIRE_NATIVE=1: in CI a failed build fails these tests
needs_native = pytest.mark.skipif(
    not native.available() and not os.environ.get("WHEREABOUTS_REQUIRE_NATIVE"),
    reason="the compiled library is not built (pip install -e . with a C compiler)",
)


def _segments(seed: int, n: int, side: float, devices: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    dev = rng.integers(0, devices, n)
    t0 = rng.integers(0, 4 * 3600 * 10**6, n)
    t1 = t0 + rng.integers(0, 120 * 10**6, n)
    t1[::7] = t0[::7]  # instants
    x, y = rng.uniform(0, side, n), rng.uniform(0, side, n)
    w, h = rng.exponential(80, n), rng.exponential(80, n)
    w[::11] *= 20  # long segments cross many cells
    return dev, t0, t1, x, y, x + w, y + h


def _brute(
    dev: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    x0: np.ndarray,
    y0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
) -> set[tuple[int, int]]:
    found = set()
    for i in range(len(dev)):
        meet = (
            (dev != dev[i])
            & (np.maximum(t0, t0[i]) <= np.minimum(t1, t1[i]))
            & (np.maximum(x0, x0[i]) <= np.minimum(x1, x1[i]))
            & (np.maximum(y0, y0[i]) <= np.minimum(y1, y1[i]))
        )
        for j in np.flatnonzero(meet).tolist():
            if dev[i] < dev[j]:
                found.add((i, j))
    return found


@needs_native
@pytest.mark.parametrize(
    ("seed", "n", "side", "cell", "bucket"),
    [
        (1, 1500, 3000.0, 250.0, 43e6),
        (2, 1500, 800.0, 90.0, 5e6),
        (3, 1500, 4000.0, 5000.0, 1e9),
        (4, 2, 10.0, 1.0, 1e6),
    ],
)
def test_compiled_search_finds_exactly_the_meeting_pairs(
    seed: int, n: int, side: float, cell: float, bucket: float
) -> None:
    assert native.available()
    seg = _segments(seed, n, side, devices=max(n // 30, 2))
    dev, t0, t1, xmin, ymin, xmax, ymax = seg
    box = {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}
    a, b = candidate_pairs(dev, t0, t1, **box, cell=cell, bucket=bucket, native=True)
    ref_a, ref_b = candidate_pairs(dev, t0, t1, **box, cell=cell, bucket=bucket, native=False)
    got = set(zip(a.tolist(), b.tolist(), strict=True))
    assert len(got) == len(a)  # each pair once
    assert got == set(zip(ref_a.tolist(), ref_b.tolist(), strict=True)) == _brute(*seg)
    if n > 2:
        assert len(got) > 20
    assert (seg[0][a] < seg[0][b]).all()


def _periods_bits(p: Periods) -> tuple[bytes, ...]:
    order = np.lexsort((p.end, p.start, p.b, p.a, p.kind))
    return tuple(
        np.ascontiguousarray(getattr(p, f)[order]).tobytes()
        for f in ("kind", "a", "b", "start", "end", "min_distance")
    )


@needs_native
@pytest.mark.parametrize("errors", ["varied", "none", "constant"])
def test_compiled_kernel_gives_the_numpy_kernels_bits(
    monkeypatch: pytest.MonkeyPatch, errors: str
) -> None:
    rng = np.random.default_rng(7)
    table = _walks(6, devices=5, hours=3, step_s=20)
    acc = {
        "varied": rng.choice([0.0, 3.0, 25.0, 60.0], table.num_rows),
        "none": np.zeros(table.num_rows),
        "constant": np.full(table.num_rows, 10.0),
    }[errors]
    table = table.set_column(
        table.schema.get_field_index("accuracy_m"), "accuracy_m", pa.array(acc)
    )
    fixes, _ = fixes_from_table(table, "EPSG:27700")
    t_mid = int(np.median(fixes.t))
    params = EncounterParams(distance_m=60.0)
    focus = np.zeros(len(fixes.ids), bool)
    focus[1] = True
    calls = [
        dict(),
        dict(window=(t_mid - 3_600_000_000, t_mid)),
        dict(focus=focus),
        dict(kinds=(CERTAIN,)),
        dict(bounds=(0.0, 0.0, 400_010.0, 9e9)),
    ]
    for kw in calls:
        monkeypatch.setenv("WHEREABOUTS_NATIVE", "1")
        assert native.enabled()
        fast = kernel_arrays(fixes, params, **kw)  # type: ignore[arg-type]
        monkeypatch.setenv("WHEREABOUTS_NATIVE", "0")
        slow = kernel_arrays(fixes, params, **kw)  # type: ignore[arg-type]
        assert len(fast) > 20
        assert _periods_bits(fast) == _periods_bits(slow), kw
        if not kw:
            sizes = [
                int((p.end - p.start).sum())
                for p in (fast.of_kind(k) for k in (WITHIN, CERTAIN, POSSIBLE))
            ]
            # with position errors the three kinds differ: the error paths are exercised
            assert (sizes[1] < sizes[0] < sizes[2]) == (errors != "none"), sizes


@needs_native
def test_engine_gives_the_same_bits_with_and_without_the_compiled_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fixes = _walks(5, devices=6, hours=10)
    params = EncounterParams(distance_m=100.0, min_duration_s=120.0)
    monkeypatch.setenv("WHEREABOUTS_NATIVE", "1")
    assert native.enabled()
    fast = find_encounters(fixes, params, crs="EPSG:27700", window_s=3600)
    fast_p = within_periods(fixes, params, crs="EPSG:27700", kind="possible")
    monkeypatch.setenv("WHEREABOUTS_NATIVE", "0")
    assert not native.enabled()
    slow = find_encounters(fixes, params, crs="EPSG:27700", window_s=3600)
    slow_p = within_periods(fixes, params, crs="EPSG:27700", kind="possible")
    assert fast.num_rows > 10 and fast_p.num_rows > 50
    assert fast.equals(slow) and fast.schema.metadata == slow.schema.metadata
    assert same_table(fast_p, slow_p)


@needs_native
@pytest.mark.parametrize("pairs", [3, 40, 10**6, 2**40])
def test_compiled_union_gives_the_numpy_unions_bits(
    monkeypatch: pytest.MonkeyPatch, pairs: int
) -> None:
    """Few pairs (a window's: pieces absorbed in input order, then a counting sort) and
    many (a radix sort of the whole key); pieces touching, overlapping, out of order,
    repeated, without a distance, and a few with end < start."""
    rng = np.random.default_rng(pairs)
    joined = 0
    for trial in range(30):
        n = int(rng.integers(1, 4000))
        a = rng.integers(0, pairs, n)
        start = rng.integers(0, [10**3, 10**6, 10**12][trial % 3], n)
        end = start + rng.integers(0, 400, n)
        if trial % 2:  # consecutive pieces of a pair, as the kernel gives them
            start = np.sort(start)
            end = np.maximum(end, np.r_[start[1:], start[-1]])
        if trial % 5 == 4:
            end[rng.random(n) < 0.01] -= 500
        mind = rng.uniform(0, 50, n)
        mind[rng.random(n) < 0.3] = np.nan
        p = Periods(rng.integers(0, 3, n).astype(np.int8), a, a + 1, start, end, mind)
        gap = int(rng.choice([0, 1, 50, 10**6]))
        monkeypatch.setenv("WHEREABOUTS_NATIVE", "1")
        fast = union(p, gap)
        monkeypatch.setenv("WHEREABOUTS_NATIVE", "0")
        slow = union(p, gap)
        assert _periods_bits(fast) == _periods_bits(slow), (trial, gap)
        joined += n - len(fast)
    assert joined > 1000 or pairs > 4000  # runs were joined (with many pairs, few repeat)


@needs_native
def test_a_library_built_from_another_source_is_not_loaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The library carries the SHA-256 of the `_native.c` it was built from (setup.py):
    beside another version of the source (a build left from before it changed, whose
    functions may take other arguments) it is not loaded and the numpy path runs."""
    assert native.available()  # built from the source beside it
    other = tmp_path / "_native.c"
    other.write_bytes(native.SOURCE.read_bytes() + b"/* a later version */\n")
    monkeypatch.setattr(native, "SOURCE", other)
    native._library.cache_clear()
    try:
        assert not native.available()
        assert (
            native.candidate_pairs(
                *[np.zeros(2, np.int64)] * 3,
                **{k: np.zeros(2) for k in ("xmin", "ymin", "xmax", "ymax")},
                cell=1.0,
                bucket=1.0,
            )
            is None
        )
    finally:
        monkeypatch.undo()
        native._library.cache_clear()
    assert native.available()
