"""Track simplification for the map: bounded error, gaps kept, budgets met, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whereabouts.errors import ParameterError
from whereabouts.web.simplify import (
    max_deviation_m,
    segment_breaks,
    simplify_to_budget,
    simplify_track,
)


def _walk(n: int, seed: int, step_s: float = 15.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.5, 2.0, n) * step_s)
    x = 300_000 + np.cumsum(rng.normal(0, 40, n))
    y = 200_000 + np.cumsum(rng.normal(0, 40, n))
    return t, x, y


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 400), seed=st.integers(0, 10_000), tol=st.floats(0.5, 500))
def test_drawn_line_stays_within_one_cell_diagonal(n: int, seed: int, tol: float) -> None:
    t, x, y = _walk(n, seed)
    s = simplify_track(t, x, y, tolerance_m=tol, max_gap_s=60)
    assert s.n_input == n and s.n_kept <= n
    if n:
        assert s.keep[0] == 0 and s.keep[-1] == n - 1
        assert np.all(np.diff(s.keep) > 0)
        assert max_deviation_m(x, y, s, t_s=t) <= tol * np.sqrt(2) + 1e-6


def test_coarser_zoom_draws_fewer_points() -> None:
    t, x, y = _walk(5000, 1)
    kept = [simplify_track(t, x, y, tolerance_m=tol).n_kept for tol in (1, 10, 100, 1000)]
    assert kept == sorted(kept, reverse=True) and kept[-1] < kept[0] / 10


def test_segments_break_at_gaps_and_keep_both_ends() -> None:
    t = np.array([0, 10, 20, 1000, 1010, 1020, 5000], dtype=float)
    x = np.array([0, 1, 2, 3, 4, 5, 6], dtype=float)
    y = np.zeros(7)
    s = simplify_track(t, x, y, tolerance_m=100, max_gap_s=300)
    # all in one 100 m cell: only segment starts and ends survive
    assert s.keep.tolist() == [0, 2, 3, 5, 6]
    assert s.segment_starts.tolist() == [0, 2, 4]
    assert segment_breaks(t, max_gap_s=300).tolist() == [
        True,
        False,
        False,
        True,
        False,
        False,
        True,
    ]


def test_stationary_unit_collapses_to_segment_ends() -> None:
    t = np.arange(0, 3600, 10, dtype=float)
    x = np.full(t.size, 331_005.0)
    y = np.full(t.size, 191_005.0)
    s = simplify_track(t, x, y, tolerance_m=5)
    assert s.keep.tolist() == [0, t.size - 1]


def test_one_fix_and_empty_tracks() -> None:
    one = simplify_track(np.array([5.0]), np.array([1.0]), np.array([2.0]), tolerance_m=10)
    assert one.keep.tolist() == [0] and one.segment_starts.tolist() == [0]
    empty = simplify_track(np.zeros(0), np.zeros(0), np.zeros(0), tolerance_m=10)
    assert empty.n_kept == 0 and empty.segment_starts.size == 0


def test_budget_doubles_the_tolerance_until_it_fits() -> None:
    t, x, y = _walk(20_000, 2, step_s=5)
    s, tol = simplify_to_budget(t, x, y, tolerance_m=1, max_points=500, max_gap_s=1e9)
    assert s.n_kept <= 500 and tol >= 1
    assert tol == 1 * 2 ** round(np.log2(tol))
    finer = simplify_track(t, x, y, tolerance_m=tol / 2, max_gap_s=1e9)
    assert finer.n_kept > 500  # it stopped at the first tolerance that fits


def test_bad_parameters_are_refused_with_a_hint() -> None:
    t, x, y = _walk(10, 3)
    for tol in (0.0, -1.0, 5e-324, float("nan"), float("inf")):
        with pytest.raises(ParameterError, match="tolerance_m") as err:
            simplify_track(t, x, y, tolerance_m=tol)
        assert err.value.hint
    with pytest.raises(ParameterError, match="same length"):
        simplify_track(t, x[:5], y, tolerance_m=1)
    with pytest.raises(ParameterError, match="max_points"):
        simplify_to_budget(t, x, y, tolerance_m=1, max_points=1)
