"""The kernel: exact within-distance periods for one partition of fixes. A pure function.

Both backends call it: the embedded engine once per time window, the Spark backend once per
(time window × spatial cell) partition. A partition's fixes must include every fix up to
`max_gap` before and after its window, so that each segment crossing the window is whole.
The periods it returns are clipped to the window, so the periods of adjacent windows touch
at the edge and `periods.union` stitches them into one seamless period. For spatial
partitions, pass `bounds`: a pair is then reported only by the cell holding the low corner of
the two segments' padded boxes' intersection, so no pair is counted twice.

Each candidate pair of segments is solved in coordinates that depend on the two segments
alone — never on the window, the partition's other fixes or a Spark cell — so its periods
are a pure function of the pair and the parameters, and the answer is the same bits however
time is cut into windows and space into cells:

- Time: integer µs from the pair's `t_lo`, the later of the two segments' starts (not
  clipped to the window), converted to float seconds once. An overlap lasts at most
  `max_gap` (a longer gap splits the track), so a root s ≤ max_gap (120 s, say) is held to
  about 2⁻⁵²·120 s ≈ 3·10⁻¹⁴ s before it is rounded to a µs (`t_lo` + round(s·10⁶)); a
  window's start, by contrast, could be a week away.
- Space: the input's own metres, no origin. A − B at `t_lo` is (x_a − x_b) + (v_a·τ_a −
  v_b·τ_b): the start points are subtracted first, which is exact when they lie within a
  factor of two of each other (Sterbenz's lemma: two BNG eastings a few km apart) and
  otherwise off by at most 2⁻⁵³·|x| ≤ 1.5·10⁻¹⁰ m for coordinates up to 1.3·10⁶ m — the
  resolution of the float64 input itself; the displacements are at most a segment's length
  and carry a relative error near 2⁻⁵². A 10⁻¹⁰ m error in the separation moves a boundary
  by 10⁻¹⁰ m over the closing speed: 10⁻¹⁰ s at 1 m/s, far below the µs. (A grazing pass,
  whose quadratic barely dips below d², is ill-conditioned in any coordinates; its answer is
  still a pure function of the pair.) The padded boxes that choose the candidates and the
  cell owning a pair are in the same metres, so every cell decides ownership alike.
- The window only clips: each found interval is rounded to µs, then clipped to the window in
  integer µs, so the pieces of one period in adjacent windows touch exactly. A piece's
  `min_distance` is that of the pair's whole interval, so the stitched period's minimum does
  not depend on where the window edges fall either.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from whereabouts.engine import native as _native
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


def kernel_arrays(
    fixes: Fixes,
    params: EncounterParams,
    *,
    window: tuple[int, int] | None = None,
    focus: np.ndarray | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    presorted: bool = False,
    kinds: tuple[int, ...] = (WITHIN, CERTAIN, POSSIBLE),
) -> Periods:
    """Periods (device codes of `fixes.ids`) for one partition; see the module docstring.

    window: (start, end) µs since the epoch; None for the whole partition.
    focus: bool per device code; only pairs with at least one focus device are computed.
    bounds: (xmin, ymin, xmax, ymax) of a spatial partition, half-open.
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
    t0, t1 = seg.t0[live], seg.t1[live]
    x0, y0, x1, y1 = seg.x0[live], seg.y0[live], seg.x1[live], seg.y1[live]
    e0, e1 = seg.e0[live], seg.e1[live]
    dur = (t1 - t0) / 1e6
    d = float(params.distance_m)
    # candidates: padded boxes in the input's own metres and times in µs, so whether two
    # segments meet (and which cell owns the pair) is a function of the two alone
    pad = d / 2 + np.maximum(e0, e1)
    xmin, xmax = np.minimum(x0, x1) - pad, np.maximum(x0, x1) + pad
    ymin, ymax = np.minimum(y0, y1) - pad, np.maximum(y0, y1) + pad
    extent = np.maximum(np.abs(x1 - x0), np.abs(y1 - y0))
    cell, bucket = grid_sizes(extent, dur, d)
    ia, ib = candidate_pairs(
        dev, t0, t1, xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax, cell=cell, bucket=bucket * 1e6
    )
    if focus is not None:
        keep = focus[dev[ia]] | focus[dev[ib]]
        ia, ib = ia[keep], ib[keep]
    if bounds is not None:
        rx = np.maximum(xmin[ia], xmin[ib])
        ry = np.maximum(ymin[ia], ymin[ib])
        keep = (rx >= bounds[0]) & (rx < bounds[2]) & (ry >= bounds[1]) & (ry < bounds[3])
        ia, ib = ia[keep], ib[keep]

    with np.errstate(divide="ignore", invalid="ignore"):
        vx = np.where(dur > 0, (x1 - x0) / dur, 0.0)
        vy = np.where(dur > 0, (y1 - y0) / dur, 0.0)
        ve = np.where(dur > 0, (e1 - e0) / dur, 0.0)
    exact = not ((e0 > 0).any() or (e1 > 0).any())  # no error: certain = possible = within
    if _native.enabled():  # the same operations compiled (engine/_native.c): the same bits
        return _compiled(
            dev,
            ia,
            ib,
            t0,
            t1,
            x0=x0,
            y0=y0,
            e0=e0,
            rates=(vx, vy, ve),
            window=(w0, w1),
            d=d,
            kinds=kinds,
            exact=exact,
        )

    # each pair's common time [t_lo, t_hi] (µs), and the part of it inside the window
    t_lo = np.maximum(t0[ia], t0[ib])
    t_hi = np.minimum(t1[ia], t1[ib])
    clip_lo, clip_hi = np.maximum(t_lo, w0), np.minimum(t_hi, w1)
    keep = clip_lo <= clip_hi
    ia, ib, t_lo, t_hi = ia[keep], ib[keep], t_lo[keep], t_hi[keep]
    clip_lo, clip_hi = clip_lo[keep], clip_hi[keep]
    # seconds from each segment's start to the pair's t_lo (exact µs, converted once)
    sa, sb = (t_lo - t0[ia]) / 1e6, (t_lo - t0[ib]) / 1e6
    ov = Overlaps(
        length=(t_hi - t_lo) / 1e6,
        # A − B at t_lo: the difference of the start points first (exact for nearby points:
        # Sterbenz), then the difference of the two displacements
        rx=(x0[ia] - x0[ib]) + (vx[ia] * sa - vx[ib] * sb),
        ry=(y0[ia] - y0[ib]) + (vy[ia] * sa - vy[ib] * sb),
        vx=vx[ia] - vx[ib],
        vy=vy[ia] - vy[ib],
        err0=(e0[ia] + ve[ia] * sa) + (e0[ib] + ve[ib] * sb),
        err_rate=ve[ia] + ve[ib],
    )
    a_code, b_code = dev[ia], dev[ib]
    span = (t_lo, clip_lo, clip_hi)
    parts = []
    plain = None
    if WITHIN in kinds or exact:
        start, end, found = within(ov, d)
        mind = min_distance(ov, start, end)
        plain = _pieces(WITHIN, a_code, b_code, span, start=start, end=end, found=found, mind=mind)
        if WITHIN in kinds:
            parts.append(plain)
    nan = np.full(len(ia), np.nan)
    for kind, solver in ((CERTAIN, certainly_within), (POSSIBLE, possibly_within)):
        if kind not in kinds:
            continue
        if plain is not None and exact:
            parts.append(
                Periods(
                    np.full(len(plain), kind, np.int8),
                    plain.a,
                    plain.b,
                    plain.start,
                    plain.end,
                    np.full(len(plain), np.nan),
                )
            )
        else:
            start, end, found = solver(ov, d)
            parts.append(
                _pieces(kind, a_code, b_code, span, start=start, end=end, found=found, mind=nan)
            )
    return union(Periods.concat(parts), 1)


def _compiled(
    dev: np.ndarray,
    ia: np.ndarray,
    ib: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    *,
    x0: np.ndarray,
    y0: np.ndarray,
    e0: np.ndarray,
    rates: tuple[np.ndarray, np.ndarray, np.ndarray],
    window: tuple[int, int],
    d: float,
    kinds: tuple[int, ...],
    exact: bool,
) -> Periods:
    """kernel_arrays' last part (overlaps, the three solvers, min_distance, `_pieces`) in C.

    Each pair's periods come out as the numpy code below computes them, operation for
    operation; with no position error, certain and possible are within's (as below).
    """
    vx, vy, ve = rates
    kind, pair, start, end, mind = _native.kernel(
        ia,
        ib,
        t0,
        t1,
        x0=x0,
        y0=y0,
        e0=e0,
        vx=vx,
        vy=vy,
        ve=ve,
        window=window,
        d=d,
        kinds=kinds,
        copied=tuple(k for k in kinds if k != WITHIN) if exact else (),
    )
    return union(Periods(kind, dev[ia[pair]], dev[ib[pair]], start, end, mind), 1)


def _pieces(
    kind: int,
    a: np.ndarray,
    b: np.ndarray,
    span: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    start: np.ndarray,
    end: np.ndarray,
    found: np.ndarray,
    mind: np.ndarray,
) -> Periods:
    """The found intervals (seconds from each pair's t_lo) in µs, clipped to the window.

    span: (t_lo, clip_lo, clip_hi) per pair, µs. Rounding happens before clipping, so a
    boundary is the same µs whichever window holds it; `mind` is the whole interval's.
    """
    t_lo, clip_lo, clip_hi = span
    i = np.flatnonzero(found)
    s = np.maximum(t_lo[i] + np.round(start[i] * 1e6).astype(np.int64), clip_lo[i])
    e = np.minimum(t_lo[i] + np.round(end[i] * 1e6).astype(np.int64), clip_hi[i])
    inside = s <= e
    i, s, e = i[inside], s[inside], e[inside]
    return Periods(np.full(len(i), kind, np.int8), a[i], b[i], s, e, mind[i])


def kernel(
    partition_fixes: pa.Table,
    params: EncounterParams,
    *,
    window: tuple[int, int] | None = None,
    crs: str | None = None,
    one_to_many: Sequence[str] | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> pa.Table:
    """Within/certain/possible periods (schema `PERIODS`) of one partition's fixes table.

    partition_fixes: device_id, time and x/y (or lat/lon) — all fixes of the partition's
    window plus `max_gap` either side. bounds: for a spatial partition of a window (see the
    module docstring). A period cut by the window edge keeps the min_distance_m of the
    pair's whole interval, so the stitched period's is the same whatever the cut. Example:
    ``kernel(fixes, EncounterParams(distance_m=50), window=(t0_us, t1_us), crs="EPSG:27700")``
    """
    fixes, _ = fixes_from_table(partition_fixes, crs)
    focus = None
    if one_to_many is not None:
        focus = np.isin(fixes.ids, np.asarray(list(one_to_many), dtype=object))
    p = kernel_arrays(fixes, params, window=window, focus=focus, bounds=bounds)
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
