"""Intervals per group joined into runs, in numpy: the gaps-and-islands step the analysis
does many times (a pair's pieces into occasions, an occasion's device pieces into spans).

A run is a maximal chain of a group's intervals, taken in order of start, each starting at
most `gap` µs after the latest end so far. The runs are a property of the set of intervals
(not of the order rows came in), so any correct ordering gives the same runs. All integer
arithmetic: exact.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def group_codes(*columns: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An int64 code per row, equal exactly where every column is equal (nulls equal)."""
    n = len(columns[0]) if columns else 0
    code = np.zeros(n, np.int64)
    for col in columns:
        whole = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        enc = pc.dictionary_encode(whole, null_encoding="encode")
        size = max(len(enc.dictionary), 1)
        _, code = np.unique(code * size + enc.indices.to_numpy(zero_copy_only=False)
                            .astype(np.int64), return_inverse=True)
        code = code.astype(np.int64).ravel()
    return code


def runs(group: np.ndarray, start: np.ndarray, end: np.ndarray, gap: int = 0
         ) -> tuple[np.ndarray, np.ndarray]:
    """(order, run): the rows in order of (group, start, end) and each ordered row's run
    number (0, 1, ...; runs numbered in that order)."""
    if len(start) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.lexsort((end, start, group))
    g, s, e = group[order], start[order], end[order]
    new_group = np.r_[True, g[1:] != g[:-1]]
    reach = _running_max(e, np.cumsum(new_group) - 1)
    new = new_group.copy()
    new[1:] |= s[1:] > reach[:-1] + gap
    return order, np.cumsum(new) - 1


def _running_max(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative maximum of int64 `values` restarting at each new `group` (sorted ids,
    0, 1, ...), as one accumulate over values shifted by group."""
    base = int(values.min())
    span = int(values.max()) - base + 1
    if span * (int(group[-1]) + 1) < 2**62:
        shifted = (values - base) + group * span
        return np.asarray(np.maximum.accumulate(shifted) - group * span + base, np.int64)
    out = values.copy()  # too wide to shift into one int64: per group
    starts = np.flatnonzero(np.diff(group, prepend=-1))
    for lo, hi in zip(starts, [*starts[1:], len(values)], strict=True):
        out[lo:hi] = np.maximum.accumulate(values[lo:hi])
    return out


__all__ = ["group_codes", "runs"]
