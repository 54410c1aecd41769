"""certain_s / possible_s are exact: integer µs, the same bits however the work is batched."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from whereabouts.engine import EncounterParams, find_encounters, table_differences
from whereabouts.engine.periods import Periods, overlap_seconds, overlap_us, union
from whereabouts.spark.fleet import fleet


def random_periods(rng: np.random.Generator, n: int, pairs: int, span: int) -> Periods:
    a = rng.integers(0, pairs, n)
    start = rng.integers(0, span, n)
    end = start + rng.integers(0, span // 10, n)
    return union(Periods(np.zeros(n, np.int8), a, a + pairs, start, end, np.full(n, np.nan)), 1)


def brute_overlap(spans: Periods, parts: Periods, span: int) -> np.ndarray:
    """µs covered, from a timeline of unit cells per pair: cell t is [t, t+1)."""
    out = np.zeros(len(spans), np.int64)
    for pair in np.unique(spans.a):
        cover = np.zeros(2 * span, bool)
        for s, e in zip(parts.start[parts.a == pair], parts.end[parts.a == pair], strict=True):
            cover[s:e] = True
        for i in np.flatnonzero(spans.a == pair):
            out[i] = cover[spans.start[i] : spans.end[i]].sum()
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_overlap_us_against_a_timeline(seed: int) -> None:
    rng = np.random.default_rng(seed)
    parts = random_periods(rng, 300, 5, 5_000)
    spans = random_periods(rng, 80, 5, 5_000)
    got = overlap_us(spans, parts)
    assert got.dtype == np.int64
    want = brute_overlap(spans, parts, 5_000)
    assert np.array_equal(got, want)
    assert (want > 0).sum() > 20 and (want < spans.end - spans.start).any()

    # device codes too wide to pack into one key: the same answer by ranking the pairs
    def wide(p: Periods) -> Periods:
        return Periods(p.kind, p.a * 2**40, p.b * 2**40 + 1, p.start, p.end, p.min_distance)

    assert np.array_equal(overlap_us(wide(spans), wide(parts)), want)


def test_overlap_is_the_same_in_any_batches_of_pairs() -> None:
    rng = np.random.default_rng(4)
    # a month of µs, so float running sums would lose the last bits
    span = 2_600_000_000_000
    parts = random_periods(rng, 20_000, 400, span)
    spans = random_periods(rng, 3_000, 400, span)
    whole = overlap_us(spans, parts)
    for batch in (7, 50, 133):
        got = np.empty_like(whole)
        for lo in range(0, 400, batch):
            keep = (spans.a >= lo) & (spans.a < lo + batch)
            mine = (parts.a >= lo) & (parts.a < lo + batch)
            got[keep] = overlap_us(
                spans.take(np.flatnonzero(keep)), parts.take(np.flatnonzero(mine))
            )
        assert np.array_equal(got, whole), batch
    assert np.array_equal(overlap_seconds(spans, parts), whole / 1e6)


def test_window_length_gives_the_same_bits() -> None:
    """The embedded engine sums in streaming batches whose shape follows the window; the
    uncertain seconds no longer depend on it (min_distance_m may: each window computes
    relative to its own start)."""
    table = fleet(12, 300, step_s=30, area_m=1_500, seed=3)
    params = EncounterParams(distance_m=100, max_gap_s=120, merge_gap_s=60, min_duration_s=60)
    cols = ["device_a", "device_b", "start", "end", "duration_s", "certain_s", "possible_s"]
    want = find_encounters(table, params, window_s=3_600).select(cols)
    certain = want["certain_s"].to_numpy()
    assert want.num_rows > 10 and ((certain > 0) & (certain < want["duration_s"].to_numpy())).any()
    for window in (317.0, 900.0, 86_400.0):
        got = find_encounters(table, params, window_s=window).select(cols)
        assert table_differences(want, got) == [], window


def test_seconds_are_whole_microseconds() -> None:
    table = fleet(10, 200, step_s=30, area_m=1_000, seed=6)
    out = find_encounters(
        table, EncounterParams(distance_m=100, max_gap_s=120, merge_gap_s=60, min_duration_s=0)
    )
    for name in ("certain_s", "possible_s"):
        seconds = out[name].to_numpy()
        us = np.round(seconds * 1e6).astype(np.int64)
        assert np.array_equal(us / 1e6, seconds), name  # one division of an exact integer
    assert isinstance(out, pa.Table) and out.num_rows > 0
