"""The kernel: exact within-distance periods for one partition of fixes. A pure function.

Both backends call it: the embedded engine once per time window, the Spark backend once per
(time window × spatial cell) partition. A partition's fixes must include every fix up to
`max_gap` before and after its window, so that each segment crossing the window is whole.
The periods it returns are clipped to the window, so the periods of adjacent windows touch
at the edge and `periods.union` stitches them into one seamless period. For spatial
partitions, pass `bounds`: a pair is then reported only by the cell holding the low corner of
the two segments' padded boxes' intersection, so no pair is counted twice.

Times inside are seconds (float64) from the window's start, positions metres from an
origin: sub-microsecond precision for windows up to days long. The origin is the lowest x/y
of the fixes given unless `origin` says otherwise; a backend that splits one window into
spatial cells passes the whole window's lowest x/y to every cell, so each cell's arithmetic
is bit for bit the whole window's, and neighbouring cells agree on which one owns a pair.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from whereabouts.engine.candidates import candidate_pairs, grid_sizes
from whereabouts.engine.motion import (
    Overlaps,
    certainly_within,
    min_distance,
    possibly_within,
    within,
)
from whereabouts.engine.params import EncounterParams
from whereabouts.engine.periods import CERTAIN, KIND_NAMES, POSSIBLE, WITHIN, Periods, union
from whereabouts.schema import UTC_TS
from whereabouts.tracks.track import Fixes, clean, fixes_from_table, segments

PERIODS = pa.schema(
    [
        pa.field("device_a", pa.string(), nullable=False),
        pa.field("device_b", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),  # within | certain | possible
        pa.field("start", UTC_TS, nullable=False),
        pa.field("end", UTC_TS, nullable=False),
        pa.field("min_distance_m", pa.float64()),
    ]
)


def kernel_arrays(fixes: Fixes, params: EncounterParams, *,
                  window: tuple[int, int] | None = None,
                  focus: np.ndarray | None = None,
                  bounds: tuple[float, float, float, float] | None = None,
                  origin: tuple[float, float] | None = None,
                  presorted: bool = False,
                  kinds: tuple[int, ...] = (WITHIN, CERTAIN, POSSIBLE)) -> Periods:
    """Periods (device codes of `fixes.ids`) for one partition; see the module docstring.

    window: (start, end) µs since the epoch; None for the whole partition.
    focus: bool per device code; only pairs with at least one focus device are computed.
    bounds: (xmin, ymin, xmax, ymax) of a spatial partition, half-open.
    origin: (x, y) the positions are taken relative to; None: the lowest x and y of `fixes`.
    presorted: the fixes are already sorted by (device, time) and free of duplicates.
    kinds: the kinds of period to find (engine.periods WITHIN, CERTAIN, POSSIBLE); each
    kind's periods are the same whichever others are asked for.
    """
    if not presorted:
        fixes, _ = clean(fixes)
    seg = segments(fixes, params.max_gap_s)
    if len(seg) < 2:
        return Periods.empty()
    w0 = int(seg.t0.min()) if window is None else int(window[0])
    w1 = int(seg.t1.max()) if window is None else int(window[1])
    live = np.flatnonzero((seg.t1 >= w0) & (seg.t0 <= w1))
    dev = seg.device[live].astype(np.int64)
    s0 = (seg.t0[live] - w0) / 1e6
    s1 = (seg.t1[live] - w0) / 1e6
    ox, oy = ((float(fixes.x.min()), float(fixes.y.min())) if origin is None
              else (float(origin[0]), float(origin[1])))
    x0, y0 = seg.x0[live] - ox, seg.y0[live] - oy
    x1, y1 = seg.x1[live] - ox, seg.y1[live] - oy
    e0, e1 = seg.e0[live], seg.e1[live]
    d = float(params.distance_m)
    pad = d / 2 + np.maximum(e0, e1)
    xmin, xmax = np.minimum(x0, x1) - pad, np.maximum(x0, x1) + pad
    ymin, ymax = np.minimum(y0, y1) - pad, np.maximum(y0, y1) + pad
    extent = np.maximum(np.abs(x1 - x0), np.abs(y1 - y0))
    cell, bucket = grid_sizes(extent, s1 - s0, d)
    ia, ib = candidate_pairs(dev, s0, s1, xmin, ymin, xmax, ymax, cell=cell, bucket=bucket)
    if focus is not None:
        keep = focus[dev[ia]] | focus[dev[ib]]
        ia, ib = ia[keep], ib[keep]
    if bounds is not None:
        rx = np.maximum(xmin[ia], xmin[ib]) + ox
        ry = np.maximum(ymin[ia], ymin[ib]) + oy
        keep = (rx >= bounds[0]) & (rx < bounds[2]) & (ry >= bounds[1]) & (ry < bounds[3])
        ia, ib = ia[keep], ib[keep]

    # the common time of each candidate pair, clipped to the window
    t_lo = np.maximum(np.maximum(s0[ia], s0[ib]), 0.0)
    t_hi = np.minimum(np.minimum(s1[ia], s1[ib]), (w1 - w0) / 1e6)
    keep = t_lo <= t_hi
    ia, ib, t_lo, t_hi = ia[keep], ib[keep], t_lo[keep], t_hi[keep]
    dur = s1 - s0
    with np.errstate(divide="ignore", invalid="ignore"):
        vx = np.where(dur > 0, (x1 - x0) / dur, 0.0)
        vy = np.where(dur > 0, (y1 - y0) / dur, 0.0)
        ve = np.where(dur > 0, (e1 - e0) / dur, 0.0)

    def at(i: np.ndarray, base: np.ndarray, rate: np.ndarray) -> np.ndarray:
        return base[i] + rate[i] * (t_lo - s0[i])

    ov = Overlaps(
        length=t_hi - t_lo,
        rx=at(ia, x0, vx) - at(ib, x0, vx),
        ry=at(ia, y0, vy) - at(ib, y0, vy),
        vx=vx[ia] - vx[ib], vy=vy[ia] - vy[ib],
        err0=at(ia, e0, ve) + at(ib, e0, ve),
        err_rate=ve[ia] + ve[ib],
    )
    a_code, b_code = dev[ia], dev[ib]
    parts = []
    exact = not ((e0 > 0).any() or (e1 > 0).any())  # no error: certain = possible = within
    plain = None
    if WITHIN in kinds or exact:
        start, end, found = within(ov, d)
        mind = min_distance(ov, start, end)
        plain = _pieces(WITHIN, a_code, b_code, t_lo, start, end, found, mind, w0)
        if WITHIN in kinds:
            parts.append(plain)
    nan = np.full(len(ia), np.nan)
    for kind, solver in ((CERTAIN, certainly_within), (POSSIBLE, possibly_within)):
        if kind not in kinds:
            continue
        if plain is not None and exact:
            parts.append(Periods(np.full(len(plain), kind, np.int8), plain.a, plain.b,
                                 plain.start, plain.end, np.full(len(plain), np.nan)))
        else:
            start, end, found = solver(ov, d)
            parts.append(_pieces(kind, a_code, b_code, t_lo, start, end, found, nan, w0))
    return union(Periods.concat(parts), 1)


def _pieces(kind: int, a: np.ndarray, b: np.ndarray, t_lo: np.ndarray, start: np.ndarray,
            end: np.ndarray, found: np.ndarray, mind: np.ndarray, w0: int) -> Periods:
    i = np.flatnonzero(found)
    s = w0 + np.round((t_lo[i] + start[i]) * 1e6).astype(np.int64)
    e = w0 + np.round((t_lo[i] + end[i]) * 1e6).astype(np.int64)
    return Periods(np.full(len(i), kind, np.int8), a[i], b[i], s, e, mind[i])


def kernel(partition_fixes: pa.Table, params: EncounterParams, *,
           window: tuple[int, int] | None = None, crs: str | None = None,
           one_to_many: Sequence[str] | None = None,
           bounds: tuple[float, float, float, float] | None = None,
           origin: tuple[float, float] | None = None) -> pa.Table:
    """Within/certain/possible periods (schema `PERIODS`) of one partition's fixes table.

    partition_fixes: device_id, time and x/y (or lat/lon) — all fixes of the partition's
    window plus `max_gap` either side. bounds, origin: for a spatial partition of a window
    (see the module docstring). Example:
    ``kernel(fixes, EncounterParams(distance_m=50), window=(t0_us, t1_us), crs="EPSG:27700")``
    """
    fixes, _ = fixes_from_table(partition_fixes, crs)
    focus = None
    if one_to_many is not None:
        focus = np.isin(fixes.ids, np.asarray(list(one_to_many), dtype=object))
    p = kernel_arrays(fixes, params, window=window, focus=focus, bounds=bounds, origin=origin)
    return periods_table(p, fixes.ids)


def periods_table(p: Periods, ids: np.ndarray) -> pa.Table:
    """Periods with device codes turned back into ids, as an Arrow table (schema `PERIODS`)."""
    names = pa.array(ids.tolist(), pa.string())
    kinds = pa.array(KIND_NAMES, pa.string())
    return pa.table(
        {
            "device_a": names.take(pa.array(p.a)),
            "device_b": names.take(pa.array(p.b)),
            "kind": kinds.take(pa.array(p.kind.astype(np.int64))),
            "start": pa.array(p.start, pa.int64()).cast(UTC_TS),
            "end": pa.array(p.end, pa.int64()).cast(UTC_TS),
            "min_distance_m": pa.array(p.min_distance, pa.float64(), from_pandas=True),
        },
        schema=PERIODS,
    )


__all__ = ["PERIODS", "kernel", "kernel_arrays", "periods_table"]
