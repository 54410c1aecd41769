"""Track simplification for drawing: fewer points at coarse zoom, vectorised.

Six months of two units is a few hundred thousand fixes; a screen is about two thousand
pixels wide. We snap every fix to a grid whose cell is the map's ground size of one
pixel (`tolerance_m`) and keep only the fixes that enter a new cell, plus the first and
last fix of every segment. The drawn line never strays more than one cell diagonal
(`tolerance_m * sqrt(2)`) from the full track, so the picture is unchanged at that zoom.
A track is cut into segments where consecutive fixes are more than `max_gap_s` apart:
across such a gap the position is unknown (DESIGN.md), so no line is drawn there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from whereabouts.errors import ParameterError
from whereabouts.settings import default

MIN_TOLERANCE_M = 0.01  # finer than any position fix; keeps x / tolerance far from overflow

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Simplified:
    """A simplified track: kept fix indices and where each drawn segment starts."""

    keep: IntArray  # indices into the input arrays, ascending
    segment_starts: IntArray  # positions in `keep` where a new segment begins
    n_input: int

    @property
    def n_kept(self) -> int:
        """The number of points kept."""
        return int(self.keep.size)


def segment_breaks(t_s: FloatArray, *, max_gap_s: float) -> npt.NDArray[np.bool_]:
    """True at every fix that starts a segment (first fix, or a gap above `max_gap_s` before it)."""
    starts = np.ones(t_s.size, dtype=bool)
    if t_s.size > 1:
        starts[1:] = np.diff(t_s) > max_gap_s
    return starts


def simplify_track(
    t_s: FloatArray,
    x: FloatArray,
    y: FloatArray,
    *,
    tolerance_m: float,
    max_gap_s: float = default("max_gap_s"),
) -> Simplified:
    """Keep the fixes that enter a new `tolerance_m` grid cell; segments break at gaps.

    Parameters: `t_s` seconds (sorted ascending), `x`, `y` metres in a projected CRS.
    Example: ``simplify_track(t, x, y, tolerance_m=20.0).keep`` are the fixes to draw.
    """
    if not tolerance_m >= MIN_TOLERANCE_M or not np.isfinite(tolerance_m):
        raise ParameterError(
            f"tolerance_m must be at least {MIN_TOLERANCE_M} m, got {tolerance_m!r}",
            hint="pass the ground size of one screen pixel, e.g. tolerance_m=10",
        )
    n = int(t_s.size)
    if not (x.size == n and y.size == n):
        raise ParameterError(
            "t_s, x and y must have the same length",
            hint="pass whole columns of one track",
        )
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Simplified(empty, empty, 0)
    starts = segment_breaks(t_s, max_gap_s=max_gap_s)
    ends = np.zeros(n, dtype=bool)
    ends[:-1] = starts[1:]
    ends[-1] = True
    cx = np.floor(x / tolerance_m).astype(np.int64)
    cy = np.floor(y / tolerance_m).astype(np.int64)
    new_cell = np.ones(n, dtype=bool)
    new_cell[1:] = (cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1])
    mask = starts | ends | new_cell
    keep = np.flatnonzero(mask).astype(np.int64)
    seg_starts = np.flatnonzero(starts[keep]).astype(np.int64)
    return Simplified(keep, seg_starts, n)


def simplify_to_budget(
    t_s: FloatArray,
    x: FloatArray,
    y: FloatArray,
    *,
    tolerance_m: float,
    max_points: int,
    max_gap_s: float = default("max_gap_s"),
) -> tuple[Simplified, float]:
    """Simplify at `tolerance_m`, doubling it until at most `max_points` remain.

    Returns the result and the tolerance used. Segment ends are always kept, so a track
    with very many short segments may stay above the budget at any tolerance; we stop
    doubling once the count no longer falls.
    """
    if max_points < 2:
        raise ParameterError(
            f"max_points must be at least 2, got {max_points}",
            hint="ask for a few thousand points per track",
        )
    tol = float(tolerance_m)
    result = simplify_track(t_s, x, y, tolerance_m=tol, max_gap_s=max_gap_s)
    while result.n_kept > max_points:
        bigger = simplify_track(t_s, x, y, tolerance_m=tol * 2, max_gap_s=max_gap_s)
        if bigger.n_kept >= result.n_kept:
            break
        tol *= 2
        result = bigger
    return result, tol


def max_deviation_m(
    x: FloatArray, y: FloatArray, simplified: Simplified, *, t_s: FloatArray
) -> float:
    """Largest distance from any input fix to the drawn polyline of its segment (for tests).

    Each dropped fix lies between two kept fixes of the same segment; we measure its
    distance to that chord. Vectorised over all fixes.
    """
    keep = simplified.keep
    if keep.size == 0:
        return 0.0
    idx = np.arange(x.size)
    after = np.searchsorted(keep, idx, side="left")  # first kept index >= i
    after = np.clip(after, 0, keep.size - 1)
    before = np.clip(np.searchsorted(keep, idx, side="right") - 1, 0, keep.size - 1)
    a, b = keep[before], keep[after]
    ax, ay, bx, by = x[a], y[a], x[b], y[b]
    dx, dy = bx - ax, by - ay
    seg_len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(seg_len2 > 0, ((x - ax) * dx + (y - ay) * dy) / seg_len2, 0.0)
    u = np.clip(u, 0.0, 1.0)
    px, py = ax + u * dx, ay + u * dy
    return float(np.max(np.hypot(x - px, y - py)))


__all__ = [
    "MIN_TOLERANCE_M",
    "Simplified",
    "max_deviation_m",
    "segment_breaks",
    "simplify_to_budget",
    "simplify_track",
]
