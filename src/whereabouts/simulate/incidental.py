"""Incidental co-location: cars that happen to be together with no policing reason.

Ordinary patrols are independent (own beats, own patrol points, staggered departures,
varied pace), so two cars are rarely together for long without a reason. The few times
they are — a car parked near another's patrol point, a planted meeting held near a
colleague's beat — are measured from the true tracks, not assumed, and written to the
truth as `incidental` occasions so that an analysis can be scored against them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from whereabouts.simulate.movement import position
from whereabouts.simulate.policing import DeviceTrack

TOGETHER_M = 100.0  # the analysis' default co-location distance
GRID_S = 30.0
MIN_S = 300.0  # the analysis' default shortest occasion


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def incidental(
    cars: Sequence[DeviceTrack],
    tasked: dict[str, list[tuple[float, float]]],
    premises: np.ndarray,
    planted: Sequence[tuple[float, float, set[str]]],
) -> list[tuple[str, str, float, float, float, float]]:
    """Pairs of cars within TOGETHER_M for MIN_S or more with neither attending an incident,
    not at police premises and outside the planted occasions of those two cars.

    `premises` is rows of (x, y, radius); `tasked` each car's dispatch–clearance spans.
    Returns (car_a, car_b, start, end, x, y) with car_a < car_b.
    """
    if len(cars) < 2:
        return []
    grid = np.arange(min(c.start for c in cars), max(c.end for c in cars), GRID_S)
    n = len(cars)
    xs = np.full((n, len(grid)), np.nan)
    ys = np.full((n, len(grid)), np.nan)
    free = np.zeros((n, len(grid)), bool)
    for k, c in enumerate(cars):  # a loop per car, each over the whole grid
        on = (grid >= c.start) & (grid <= c.end)
        xs[k, on], ys[k, on] = position(grid[on], c.t, c.x, c.y)
        away = np.ones(len(grid), bool)
        for px, py, pr in premises:
            away &= np.hypot(xs[k] - px, ys[k] - py) > pr
        for s, e in tasked.get(c.device_id, []):
            away &= (grid < s) | (grid > e)
        free[k] = on & away
    out = []
    for k in range(n - 1):  # a loop per car against all later cars at once
        d = np.hypot(xs[k + 1 :] - xs[k], ys[k + 1 :] - ys[k])
        near = (d < TOGETHER_M) & free[k] & free[k + 1 :]
        for j in np.flatnonzero(near.any(axis=1)).tolist():  # only the pairs ever together
            a, b = cars[k].device_id, cars[k + 1 + j].device_id
            for lo, hi in _runs(near[j]):
                s, e = float(grid[lo]), float(grid[hi - 1])
                if e - s < MIN_S - GRID_S:
                    continue
                if any(ps < e and pe > s and {a, b} <= vs for ps, pe, vs in planted):
                    continue
                mid = (lo + hi) // 2
                first, second = sorted((a, b))
                out.append((first, second, s, e, float(xs[k, mid]), float(ys[k, mid])))
    return out


__all__ = ["GRID_S", "MIN_S", "TOGETHER_M", "incidental"]
