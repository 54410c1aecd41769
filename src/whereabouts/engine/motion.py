"""Relative motion of two linearly moving points, solved in closed form, vectorised.

Over the time two segments overlap, device A's position minus device B's is
``r(s) = r0 + v·s`` (s seconds from the start of the overlap), so the squared distance is a
quadratic ``|v|²s² + 2(r0·v)s + |r0|²``. The instants within distance d are where that
quadratic is ≤ d²: one interval, found from its roots (what MobilityDB's ``tDwithin`` does).

With a position error e(s) at each end (interpolated along the segments, summed to
``E(s) = E0 + Ė·s``), the *possible* set is ``|r| ≤ d + E`` and the *certain* set is
``|r| ≤ d − E``. Both are sublevel sets of a convex function (a norm of an affine map plus or
minus a linear one), so each is again one interval, and squaring gives a quadratic as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# quadratic terms contributing less than this (m²) over the whole overlap are treated as linear
_FLAT_M2 = 1e-9


@dataclass(frozen=True)
class Overlaps:
    """Candidate segment pairs over their common time span, as relative motion."""

    length: np.ndarray  # L: seconds the overlap lasts (>= 0)
    rx: np.ndarray  # r0: A − B at the overlap's start (m)
    ry: np.ndarray
    vx: np.ndarray  # v: relative velocity (m/s)
    vy: np.ndarray
    err0: np.ndarray  # E0: summed position error at the start (m)
    err_rate: np.ndarray  # Ė: its rate of change (m/s)


def solve_le_zero(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``a·s² + b·s + c ≤ 0`` on ``[lo, hi]``, given that set is one interval there.

    Returns (start, end, found). With a < 0 the inequality holds outside the roots; the
    callers guarantee (by convexity) that at most one side meets [lo, hi], and the hull of
    what is found is taken so that rounding cannot split an interval in two.
    """
    a, b, c = (np.asarray(v, np.float64) for v in (a, b, c))
    flat = np.abs(a) * np.maximum(hi - lo, 1e-300) ** 2 <= _FLAT_M2
    disc = b * b - 4.0 * a * c
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        root = np.sqrt(np.maximum(disc, 0.0))
        q = -0.5 * (b + np.copysign(root, b))
        r_a = np.where(a != 0, q / a, np.nan)
        r_b = np.where(q != 0, c / q, r_a)
        r1, r2 = np.fmin(r_a, r_b), np.fmax(r_a, r_b)
        # linear: b·s + c <= 0
        cut = -c / b
    start = np.full(a.shape, np.inf)
    end = np.full(a.shape, -np.inf)

    # a > 0: between the roots
    up = ~flat & (a > 0) & (disc >= 0)
    start = np.where(up, np.maximum(r1, lo), start)
    end = np.where(up, np.minimum(r2, hi), end)

    # a < 0: outside the roots (or everywhere when there are none)
    down = ~flat & (a < 0)
    every = down & (disc < 0)
    start = np.where(every, lo, start)
    end = np.where(every, hi, end)
    two = down & (disc >= 0)
    left = two & (lo <= r1)
    right = two & (hi >= r2)
    start = np.where(left, lo, np.where(right, np.maximum(r2, lo), start))
    end = np.where(right, hi, np.where(left, np.minimum(r1, hi), end))

    # flat: linear or constant
    lin_up = flat & (b > 0)
    lin_down = flat & (b < 0)
    const = flat & (b == 0) & (c <= 0)
    start = np.where(lin_up, lo, np.where(lin_down, np.maximum(cut, lo), start))
    end = np.where(lin_up, np.minimum(cut, hi), np.where(lin_down, hi, end))
    start = np.where(const, lo, start)
    end = np.where(const, hi, end)
    found = start <= end
    return start, end, found


def within(ov: Overlaps, d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seconds (from each overlap's start) during which the two points are within d."""
    a = ov.vx * ov.vx + ov.vy * ov.vy
    b = 2.0 * (ov.rx * ov.vx + ov.ry * ov.vy)
    c = ov.rx * ov.rx + ov.ry * ov.ry - d * d
    return solve_le_zero(a, b, c, np.zeros_like(a), ov.length)


def possibly_within(ov: Overlaps, d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the points may be within d given their position errors: |r| ≤ d + E."""
    reach = d + ov.err0
    a = ov.vx * ov.vx + ov.vy * ov.vy - ov.err_rate**2
    b = 2.0 * (ov.rx * ov.vx + ov.ry * ov.vy) - 2.0 * reach * ov.err_rate
    c = ov.rx * ov.rx + ov.ry * ov.ry - reach * reach
    return solve_le_zero(a, b, c, np.zeros_like(a), ov.length)


def certainly_within(ov: Overlaps, d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the points are within d even at worst-case error: |r| ≤ d − E (and d − E ≥ 0)."""
    slack = d - ov.err0
    # d − E0 − Ė·s ≥ 0 limits s from one side
    with np.errstate(divide="ignore", invalid="ignore"):
        limit = slack / ov.err_rate
    lo = np.where(ov.err_rate < 0, np.maximum(limit, 0.0), 0.0)
    hi = np.where(ov.err_rate > 0, np.minimum(limit, ov.length), ov.length)
    hi = np.where((ov.err_rate == 0) & (slack < 0), -np.inf, hi)
    a = ov.vx * ov.vx + ov.vy * ov.vy - ov.err_rate**2
    b = 2.0 * (ov.rx * ov.vx + ov.ry * ov.vy) + 2.0 * slack * ov.err_rate
    c = ov.rx * ov.rx + ov.ry * ov.ry - slack * slack
    start, end, found = solve_le_zero(a, b, c, lo, hi)
    return start, end, found & (lo <= hi)


def min_distance(ov: Overlaps, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The smallest distance between the points over [start, end] (seconds from overlap start)."""
    vv = ov.vx * ov.vx + ov.vy * ov.vy
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(vv > 0, -(ov.rx * ov.vx + ov.ry * ov.vy) / vv, 0.0)
    ok = start <= end
    s = np.clip(s, np.where(ok, start, 0.0), np.where(ok, end, 0.0))
    result: np.ndarray = np.hypot(ov.rx + ov.vx * s, ov.ry + ov.vy * s)
    return result


__all__ = [
    "Overlaps",
    "certainly_within",
    "min_distance",
    "possibly_within",
    "solve_le_zero",
    "within",
]
