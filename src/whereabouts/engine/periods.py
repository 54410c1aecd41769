"""Periods: intervals per device pair, their union and their merging.

A `Periods` holds parallel columns (kind, device a, device b, start, end in integer µs, and
the smallest distance seen). Kinds: 0 within distance, 1 certainly within, 2 possibly
within (see engine.motion). `union` joins intervals of one kind and pair that are at most
`gap_us` apart — with a gap of 1 µs that stitches touching pieces (segment ends, window
edges), with `merge_gap` it builds encounters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from whereabouts.engine import native as _native
from whereabouts.spans import run_starts, running_max

WITHIN, CERTAIN, POSSIBLE = 0, 1, 2
KIND_NAMES = ("within", "certain", "possible")


@dataclass(frozen=True)
class Periods:
    """Encounter periods as columns: kind, device pair, start, end, closest distance."""

    kind: np.ndarray  # int8
    a: np.ndarray  # int64 device codes, a < b
    b: np.ndarray
    start: np.ndarray  # int64 µs since the epoch
    end: np.ndarray
    min_distance: np.ndarray  # float64 metres (NaN for certain/possible)

    def __len__(self) -> int:
        return len(self.start)

    def take(self, index: np.ndarray) -> Periods:
        """The periods at `index` (an integer or boolean array)."""
        return Periods(
            self.kind[index],
            self.a[index],
            self.b[index],
            self.start[index],
            self.end[index],
            self.min_distance[index],
        )

    def of_kind(self, kind: int) -> Periods:
        """The periods of one kind."""
        return self.take(np.flatnonzero(self.kind == kind))

    @staticmethod
    def empty() -> Periods:
        """No periods."""
        i = np.empty(0, np.int64)
        return Periods(np.empty(0, np.int8), i, i, i, i, np.empty(0, np.float64))

    @staticmethod
    def concat(parts: list[Periods]) -> Periods:
        """The periods of all parts, in order."""
        if not parts:
            return Periods.empty()
        return Periods(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("kind", "a", "b", "start", "end", "min_distance")
            )
        )


def _pair_time_order(p: Periods) -> tuple[np.ndarray, np.ndarray]:
    """An order of `p` by (kind, a, b, start), and a pair key (int64, equal exactly where
    kind, a and b are) per period in that order.

    Periods of one pair with the same start may come in any order: `union` joins them into
    one run whatever their order (its result depends only on the set of periods). kind, a
    and b are packed into one key, and start too when the spans allow: one sort.
    """
    lows = [int(v.min()) for v in (p.kind, p.a, p.b, p.start)]
    spans = [int(v.max()) - lo + 1 for v, lo in zip((p.kind, p.a, p.b, p.start), lows, strict=True)]
    if spans[0] * spans[1] * spans[2] >= 2**62:  # codes too wide to pack: sort on all five
        order = np.lexsort((p.end, p.start, p.b, p.a, p.kind))
        kind, a, b = p.kind[order], p.a[order], p.b[order]
        return order, np.cumsum(
            np.concatenate(
                [[True], (kind[1:] != kind[:-1]) | (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
            )
        )
    pair = ((p.kind.astype(np.int64) - lows[0]) * spans[1] + (p.a - lows[1])) * spans[2] + (
        p.b - lows[2]
    )
    if spans[0] * spans[1] * spans[2] * spans[3] < 2**62:
        # stable: a merge of the runs already in order (the kernel's pieces come largely in
        # pair and time order), about twice as fast here as the default quicksort
        order = np.argsort(pair * spans[3] + (p.start - lows[3]), kind="stable")
    else:
        order = np.lexsort((p.start, pair))
    return order, pair[order]


def union(p: Periods, gap_us: int) -> Periods:
    """Join intervals of the same kind and pair that overlap or are at most gap_us apart.

    Compiled (engine/_native.c) when installed: the same sort and runs, the same bits."""
    if len(p) == 0:
        return p
    if _native.enabled():
        found = _native.union(p.kind, p.a, p.b, p.start, p.end, p.min_distance, gap_us=gap_us)
        if found is not None:
            at, start, end, mind = found
            return Periods(p.kind[at], p.a[at], p.b[at], start, end, mind)
    order, pair = _pair_time_order(p)
    start, end, mind = p.start[order], p.end[order], p.min_distance[order]
    first = np.flatnonzero(run_starts(pair, start, end, gap_us))
    at = order[first]
    return Periods(
        p.kind[at],
        p.a[at],
        p.b[at],
        start[first],
        np.maximum.reduceat(end, first),
        np.fmin.reduceat(mind, first),
    )


def overlap_us(spans: Periods, parts: Periods) -> np.ndarray:
    """For each interval of `spans`, the µs covered by `parts` of the same pair (int64).

    Both are unions (disjoint, sorted per pair). Uses a cumulative measure per pair:
    covered(t) = µs of `parts` before t, so overlap = covered(end) − covered(start). All
    integer arithmetic, so the result is exact whichever other pairs are in the call and in
    whatever batches the periods came (the running sum may wrap past 2⁶³ on enormous inputs;
    differences of wrapped sums are still exact, as the true ones fit in int64).
    """
    out = np.zeros(len(spans), np.int64)
    if len(spans) == 0 or len(parts) == 0:
        return out
    # one int64 key per pair, the same on both sides, so (pair, time) can be searched with
    # one sorted key per side (any key that is equal exactly where the pair is will do)
    a, b = np.concatenate([spans.a, parts.a]), np.concatenate([spans.b, parts.b])
    a_lo, b_lo = int(a.min()), int(b.min())
    a_span, b_span = int(a.max()) - a_lo + 1, int(b.max()) - b_lo + 1
    if a_span * b_span < 2**62:
        pair_rank = (a - a_lo) * b_span + (b - b_lo)
    else:  # codes too wide to pack: rank the pairs
        _, pair_rank = np.unique(np.stack((a, b)), axis=1, return_inverse=True)
        pair_rank = pair_rank.ravel()
    span_rank, part_rank = pair_rank[: len(spans)], pair_rank[len(spans) :]
    order = np.lexsort((parts.start, part_rank))
    pr, ps, pe = part_rank[order], parts.start[order], parts.end[order]
    length = (pe - ps).astype(np.int64)
    before = np.concatenate([np.zeros(1, np.int64), np.cumsum(length)])  # µs of parts[:i]

    def covered(rank: np.ndarray, t: np.ndarray) -> np.ndarray:
        # index of the first part of this pair, and of the first part starting after t
        lo = np.searchsorted(pr, rank, side="left")
        hi = np.searchsorted(pr, rank, side="right")
        idx = lo + count_below(ps, lo, hi, t)
        has = idx > lo
        k = np.where(has, idx - 1, 0)
        inside = np.where(has, np.clip(t - ps[k], 0, length[k]) - length[k], 0)
        return np.asarray(before[idx] - before[lo] + inside, np.int64)

    with np.errstate(over="ignore"):
        result: np.ndarray = covered(span_rank, spans.end) - covered(span_rank, spans.start)
        return result


def overlap_seconds(spans: Periods, parts: Periods) -> np.ndarray:
    """`overlap_us` in seconds (float64): exact µs, divided once, so bit-for-bit stable."""
    return overlap_us(spans, parts) / 1e6


def count_below(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, limit: np.ndarray, strict: bool = False
) -> np.ndarray:
    """How many of values[lo:hi] (sorted within each range) are < limit (strict) or
    <= limit, per query: a vectorised binary search."""
    left, right = lo.copy(), hi.copy()
    while True:
        active = left < right
        if not active.any():
            result: np.ndarray = left - lo
            return result
        mid = (left + right) // 2
        v = values[np.minimum(mid, len(values) - 1)]
        go_right = active & ((v < limit) if strict else (v <= limit))
        left = np.where(go_right, mid + 1, left)
        right = np.where(active & ~go_right, mid, right)


__all__ = [
    "CERTAIN",
    "KIND_NAMES",
    "POSSIBLE",
    "WITHIN",
    "Periods",
    "count_below",
    "overlap_seconds",
    "overlap_us",
    "running_max",
    "union",
]
