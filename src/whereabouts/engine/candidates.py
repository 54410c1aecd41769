"""Candidate segment pairs: a grid over space and time, so that work grows with the pairs of
segments actually near each other rather than with the square of the devices.

Each segment's bounding box, padded by half the distance plus its position error, is put in
every grid cell and time bucket it touches (a segment longer than a cell simply touches more
cells, so correctness never depends on the cell size). Two segments are a candidate when
they share a cell and a bucket; a pair that shares several is kept only in the one holding the
low corner of the two padded boxes' intersection (and of their common time), so each
candidate appears once. The pairing inside each cell is vectorised: no loop over cells.
"""

from __future__ import annotations

import numpy as np

from whereabouts.engine import native as _native


def grid_sizes(
    extent: np.ndarray, duration_s: np.ndarray, distance_m: float
) -> tuple[float, float]:
    """Cell size (m) and time bucket (s): at least the distance plus a typical segment's extent.

    The 99th percentile rather than the maximum keeps one fast outlier from making every
    cell huge; longer segments are placed in several cells. The bucket is an odd multiple
    of the typical sampling interval so that regularly timed fixes do not all sit on bucket
    edges (where each segment would touch two buckets).
    """
    if len(extent) == 0:
        return max(distance_m, 1.0), 60.0
    cell = distance_m + float(np.quantile(extent, 0.99))
    bucket = max(1.43 * float(np.median(duration_s)), 1.0)
    return max(cell, 1.0), bucket


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For integer ranges [lo, hi]: (owner index, value) for every value of every range."""
    counts = (hi - lo + 1).astype(np.int64)
    owner = np.repeat(np.arange(len(lo)), counts)
    first = np.cumsum(counts) - counts
    step = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(first, counts)
    return owner, lo[owner] + step


def _pairs_in_groups(keys_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j), i < j, of positions that hold equal keys in a sorted key array."""
    n = len(keys_sorted)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    bounds = np.flatnonzero(np.diff(keys_sorted)) + 1
    group_end = np.repeat(np.append(bounds, n), np.diff(np.concatenate([[0], bounds, [n]])))
    later = group_end - np.arange(n) - 1  # partners after each position in its group
    i = np.repeat(np.arange(n), later)
    first = np.cumsum(later) - later
    j = i + 1 + (np.arange(int(later.sum()), dtype=np.int64) - np.repeat(first, later))
    return i, j


def candidate_pairs(
    device: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    *,
    xmin: np.ndarray,
    ymin: np.ndarray,
    xmax: np.ndarray,
    ymax: np.ndarray,
    cell: float,
    bucket: float,
    native: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Segment index pairs (a, b) with device[a] < device[b] whose padded boxes and times meet.

    t0/t1: times in one unit (e.g. integer µs), `bucket` in the same unit; the boxes are
    already padded. The pairs are exactly those whose time spans and boxes meet: the grid
    only decides which ones are compared, never the answer. native: use the compiled search
    (engine.native; the same set of pairs, in another order); None: when it is installed
    and not switched off (WHEREABOUTS_NATIVE=0); False: the numpy code below.
    """
    if native is None:
        native = len(t0) >= 2 and _native.enabled()
    if native:
        found = _native.candidate_pairs(
            device, t0, t1, xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax, cell=cell, bucket=bucket
        )
        if found is not None:
            return found
    if len(t0) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ox, oy, ot = float(xmin.min()), float(ymin.min()), t0.min()
    cx0 = np.floor((xmin - ox) / cell).astype(np.int64)
    cx1 = np.floor((xmax - ox) / cell).astype(np.int64)
    cy0 = np.floor((ymin - oy) / cell).astype(np.int64)
    cy1 = np.floor((ymax - oy) / cell).astype(np.int64)
    tb0 = np.floor((t0 - ot) / bucket).astype(np.int64)
    tb1 = np.floor((t1 - ot) / bucket).astype(np.int64)
    nx, ny = int(cx1.max()) + 1, int(cy1.max()) + 1

    # every (segment, cell x, cell y, bucket) the padded box touches
    seg, cx = _expand(cx0, cx1)
    seg, cy, cx = _expand_with(seg, cy0, cy1, cx)
    seg, tb, cx, cy = _expand_with2(seg, tb0, tb1, cx, cy)
    keys = (tb * ny + cy) * nx + cx
    order = np.argsort(keys, kind="stable")
    keys, seg = keys[order], seg[order]
    pi, pj = _pairs_in_groups(keys)
    # gather per copy once (sorted), so the pair filters read nearby memory
    dev_s = device[seg]
    keep = np.flatnonzero(dev_s[pi] != dev_s[pj])
    pi, pj = pi[keep], pj[keep]
    # the time spans and padded boxes really meet …
    for lo, hi in ((t0, t1), (xmin, xmax), (ymin, ymax)):
        lo_s, hi_s = lo[seg], hi[seg]
        keep = np.flatnonzero(np.maximum(lo_s[pi], lo_s[pj]) <= np.minimum(hi_s[pi], hi_s[pj]))
        pi, pj = pi[keep], pj[keep]
    # … and this is the one cell/bucket that owns the pair
    a, b = seg[pi], seg[pj]
    rx = np.maximum(cx0[a], cx0[b])
    ry = np.maximum(cy0[a], cy0[b])
    rt = np.maximum(tb0[a], tb0[b])
    keep = np.flatnonzero(((rt * ny + ry) * nx + rx) == keys[pi])
    a, b = a[keep], b[keep]
    swap = device[a] > device[b]
    return np.where(swap, b, a), np.where(swap, a, b)


def _expand_with(
    owner: np.ndarray, lo: np.ndarray, hi: np.ndarray, carry: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx, value = _expand(lo[owner], hi[owner])
    return owner[idx], value, carry[idx]


def _expand_with2(
    owner: np.ndarray, lo: np.ndarray, hi: np.ndarray, c1: np.ndarray, c2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    idx, value = _expand(lo[owner], hi[owner])
    return owner[idx], value, c1[idx], c2[idx]


__all__ = ["candidate_pairs", "grid_sizes"]
