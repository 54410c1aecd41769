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

from whereabouts.engine import native
from whereabouts.engine.periods import count_below
from whereabouts.errors import ParameterError
from whereabouts.spans import Joined, joined, running_max, runs


def group_codes(*columns: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An int64 code per row, equal exactly where every column is equal (nulls equal)."""
    n = len(columns[0]) if columns else 0
    code, top = np.zeros(n, np.int64), 1
    for col in columns:
        whole = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        enc = pc.dictionary_encode(whole, null_encoding="encode")
        size = max(len(enc.dictionary), 1)
        if top * size >= 2**62:  # renumber the codes so far densely before they overflow
            _, code = np.unique(code, return_inverse=True)
            code, top = code.astype(np.int64).ravel(), int(code.max()) + 1
        code = code * size + enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        top *= size
    return code


def sort_by(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """The stable order of rows by (major, minor) integers — np.lexsort((minor, major)) —
    as one stable sort of a packed key when it fits in int64 (rows that come in sorted
    runs, as samples and fixes do, sort in about linear time)."""
    if len(major) == 0:
        return np.empty(0, np.int64)
    lo_a, lo_b = int(major.min()), int(minor.min())
    span = int(minor.max()) - lo_b + 1
    if (int(major.max()) - lo_a + 1) * span >= 2**62:
        return np.lexsort((minor, major))
    return np.argsort((major - lo_a) * span + (minor - lo_b), kind="stable")


def last_at_or_before(k: np.ndarray, s: np.ndarray, qk: np.ndarray, qt: np.ndarray) -> np.ndarray:
    """For each query (qk, qt), the index of the row of (k, s) — sorted by k, then s; k
    small non-negative codes — with key qk and the largest s <= qt; -1 when none.

    One binary search over keys offset per k by the extent of the k before it (exact
    integers; the total is the summed extent of each k's rows, not k × all time), query
    times clamped to just outside their k's rows."""
    if len(k) == 0 or len(qk) == 0:
        return np.full(len(qk), -1, np.int64)
    codes = np.arange(int(max(k.max(), qk.max())) + 1)
    first = np.searchsorted(k, codes, side="left")
    last = np.searchsorted(k, codes, side="right") - 1
    has = last >= first  # (a k without rows: base 0, top -1, no extent)
    base = np.where(has, s[np.minimum(first, len(s) - 1)] - 1, 0)
    top = np.where(has, s[np.maximum(last, 0)], -1)
    width = top - base + 1
    if float(width.sum()) >= 2.0**62:
        raise ParameterError(
            "the times reach over too long a span to search at once",
            hint="analyse a shorter period, or fewer officers, at a time",
        )
    offset = np.cumsum(width) - width
    b = base[qk]
    i = (
        np.searchsorted(
            offset[k] + (s - base[k]),
            offset[qk] + (np.minimum(np.maximum(qt, b), top[qk]) - b),
            side="right",
        )
        - 1
    )
    ok = (i >= 0) & (k[np.maximum(i, 0)] == qk)
    return np.where(ok, i, -1)


def overlapping(
    qk: np.ndarray, q0: np.ndarray, q1: np.ndarray, k: np.ndarray, s0: np.ndarray, s1: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every (query, row) with the same key and s0 < q1 and s1 > q0, as index arrays.

    Keys are int64 codes. Each key's rows are sorted by start with a running maximum of
    their ends, so the candidates of a query are one contiguous range found by two binary
    searches (a superset when rows nest; the exact test then decides); no comparison of
    every query with every row of its key.
    """
    none = np.empty(0, np.int64), np.empty(0, np.int64)
    if len(qk) == 0 or len(k) == 0:
        return none
    order = np.lexsort((s0, k))
    k, s0, s1 = k[order], s0[order], s1[order]
    group = np.cumsum(np.r_[True, k[1:] != k[:-1]]) - 1
    reach = running_max(s1, group)
    # keys as codes of the rows' keys; queries of other keys find nothing
    head = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    keys = k[head]
    qg = _key_codes(keys, qk)
    known = (qg < len(keys)) & (keys[np.minimum(qg, len(keys) - 1)] == qk)
    # compiled: the same pairs, in the same order, by two binary searches each (int64 times)
    if native.enabled() and all(np.asarray(v).dtype.kind == "i" for v in (q0, q1, s0, s1)):
        found = native.overlap_pairs(
            np.where(known, qg, -1), q0, q1, np.r_[head, len(k)], s0, s1, reach=reach
        )
        if found is not None:
            return found[0], order[found[1]]
    first = np.r_[head, len(k)][qg]  # (each key's first row; len(k) past the last)
    # within a key: rows starting before q1, and from the first whose reach passes q0
    hi, lo = _below(group, s0, qg, q1, strict=True), _below(group, reach, qg, q0)
    if hi is None or lo is None:
        last = np.searchsorted(group, qg, side="right")
        hi = first + count_below(s0, first, last, q1, strict=True)
        lo = first + count_below(reach, first, last, q0)
    count = np.where(known, np.maximum(hi - lo, 0), 0)
    query = np.repeat(np.arange(len(qk)), count)
    row = (
        np.repeat(lo, count)
        + np.arange(int(count.sum()))
        - np.repeat(np.cumsum(count) - count, count)
    )
    keep = s1[row] > q0[query]
    return query[keep], order[row[keep]]


def _key_codes(keys: np.ndarray, qk: np.ndarray) -> np.ndarray:
    """np.searchsorted(keys, qk) for sorted distinct int64 `keys`: by a table of the keys'
    values when they are small non-negative codes (an index each, no search), else by the
    search. Only a query equal to a key needs its exact place (the others find nothing)."""
    low, high = int(keys[0]), int(keys[-1])
    if low < 0 or high > 4 * (len(keys) + len(qk)):
        found: np.ndarray = np.searchsorted(keys, qk)
        return found
    table = np.searchsorted(keys, np.arange(high + 2))  # (high + 1: past the last key)
    found = table[np.clip(qk, 0, high + 1)]
    return found


def _below(
    group: np.ndarray, values: np.ndarray, qg: np.ndarray, limit: np.ndarray, strict: bool = False
) -> np.ndarray | None:
    """Per query, the end of the rows of its group `qg` (rows sorted by group, then values)
    with values < limit (strict) or <= limit: one binary search of a packed (group, value)
    key, each limit clamped to just outside the values. None when the key does not fit in
    int64 (then count_below searches each query's range)."""
    if len(values) == 0:
        return np.zeros(len(qg), np.int64)
    low, high = int(values.min()), int(values.max())
    width = high - low + 3  # values, and one below and one above them
    if (int(group[-1]) + 2) * width >= 2**62:
        return None
    key = group * width + (values - (low - 1))
    at = qg * width + (np.clip(limit, low - 1, high + 1) - (low - 1))
    found: np.ndarray = np.searchsorted(key, at, side="left" if strict else "right")
    return found


__all__ = ["Joined", "group_codes", "joined", "last_at_or_before", "overlapping", "runs", "sort_by"]
