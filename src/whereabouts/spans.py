"""Intervals per group joined into runs: the one gaps-and-islands rule of whereabouts.

A run is a maximal chain of a group's intervals, taken in order of start, each starting at
most `gap` µs after the latest end so far (`gap=0`: overlapping or touching intervals).
The runs are a property of the set of intervals, not of the order rows came in. The engine
(its periods' union), the store (fixes of spans), the analysis (pieces into occasions,
assignments and duty into spans) and the report (duty time) all join intervals here. All
integer arithmetic: exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def running_max(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative maximum of int64 `values` restarting at each new `group` (sorted ids)."""
    if len(values) == 0:
        return values
    base = int(values.min())
    span = int(values.max()) - base + 1
    if span * (int(group[-1]) + 1) < 2**62:
        shifted = (values - base) + group * span
        result: np.ndarray = np.maximum.accumulate(shifted) - group * span + base
        return result
    # Too wide for one base (months of many short groups, e.g. an occasion's device pairs):
    # each group shifted from its own minimum, so only the widest group's range must fit.
    head = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    size = np.diff(np.r_[head, len(values)])
    low = np.repeat(np.minimum.reduceat(values, head), size)
    rank = np.repeat(np.arange(len(head), dtype=np.int64), size)
    span = int((values - low).max()) + 1
    if span * len(head) < 2**62:
        shifted = (values - low) + rank * span
        result = np.maximum.accumulate(shifted) - rank * span + low
        return result
    # still too wide to shift into one int64: loop over groups (rare: huge spans and many pairs)
    out = values.copy()
    starts = np.flatnonzero(np.diff(group, prepend=-1))
    for lo, hi in zip(starts, [*starts[1:], len(values)], strict=True):
        out[lo:hi] = np.maximum.accumulate(values[lo:hi])
    return out


def run_starts(group: np.ndarray, start: np.ndarray, end: np.ndarray, gap: int = 0) -> np.ndarray:
    """For rows already sorted by (group, start): True where a row begins a new run (a new
    group, or a start more than `gap` after the latest end of its group so far)."""
    if len(start) == 0:
        return np.zeros(0, bool)
    new_group = np.r_[True, group[1:] != group[:-1]]
    reach = running_max(end, np.cumsum(new_group) - 1)
    new = new_group.copy()
    new[1:] |= start[1:] > reach[:-1] + gap
    result: np.ndarray = new
    return result


def runs(
    group: np.ndarray, start: np.ndarray, end: np.ndarray, gap: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(order, run): the rows in order of (group, start, end) and each ordered row's run
    number (0, 1, ...; runs numbered in that order)."""
    if len(start) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    dg, ds = np.diff(group), np.diff(start)
    if np.all((dg > 0) | ((dg == 0) & ((ds > 0) | ((ds == 0) & (np.diff(end) >= 0))))):
        order = np.arange(len(start))  # already in order (what the stable sort would give)
    else:
        order = _order(group, start, end)
    new = run_starts(group[order], start[order], end[order], gap)
    return order, np.cumsum(new) - 1


def _order(group: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """np.lexsort((end, start, group)), the same permutation: one stable sort of a packed
    (group, start) key when it fits in int64 (a third of the work), then the rows that tie
    on both sorted by end (stable, so full ties keep the rows' order)."""
    if len(start) == 0 or group.dtype.kind not in "iu" or start.dtype.kind not in "iu":
        return np.lexsort((end, start, group))
    g0, s0 = int(group.min()), int(start.min())
    span = int(start.max()) - s0 + 1
    if (int(group.max()) - g0 + 1) * span >= 2**62:
        return np.lexsort((end, start, group))
    key = (group.astype(np.int64) - g0) * span + (start.astype(np.int64) - s0)
    order: np.ndarray = np.argsort(key, kind="stable")
    k = key[order]
    tie = k[1:] == k[:-1]
    if not tie.any():
        return order
    rows = np.flatnonzero(np.r_[tie, False] | np.r_[False, tie])  # each tie's rows, in place
    order[rows] = order[rows][np.lexsort((end[order[rows]], k[rows]))]
    return order


@dataclass(frozen=True)
class Joined:
    """Rows joined into runs (`joined`): the sort and run number per sorted row, and per
    run its first row (an index into the rows given), start, end and nearest distance."""

    order: np.ndarray
    run: np.ndarray
    first: np.ndarray
    start: np.ndarray
    end: np.ndarray
    nearest: np.ndarray | None

    def run_of_rows(self) -> np.ndarray:
        """Each given row's run number, in the rows' own order."""
        out = np.empty(len(self.run), np.int64)
        out[self.order] = self.run
        return out


def joined(
    group: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    gap: int = 0,
    distance: np.ndarray | None = None,
) -> Joined:
    """`runs`, then each run's start, end (the latest) and smallest `distance` (NaN
    ignored; NaN when a run has none)."""
    order, run = runs(group, start, end, gap)
    head = np.flatnonzero(np.r_[True, run[1:] != run[:-1]]) if len(run) else run
    ends = np.maximum.reduceat(end[order], head) if len(head) else end[:0]
    nearest = None
    if distance is not None:
        with np.errstate(invalid="ignore"):
            nearest = np.fmin.reduceat(distance[order], head) if len(head) else distance[:0]
    return Joined(order, run, order[head], start[order][head], ends, nearest)


__all__ = ["Joined", "joined", "run_starts", "running_max", "runs"]
