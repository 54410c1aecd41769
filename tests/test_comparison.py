"""Honest comparison with peers (analysis/baseline.py, screening.py): only where the group
and its exposure support it, ties as ties, no rate from nothing, false discoveries controlled."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_analysis_stats import crewed, hours, meeting, occasions
from whereabouts.analysis.baseline import MIN_OTHER_PAIRS, baseline_summary, rank_text
from whereabouts.analysis.screening import FDR_CONTROL, benjamini_hochberg, pair_statistics


def test_a_team_of_two_pairs_is_no_comparison() -> None:
    shared = {("P0", "P1"): 100.0, ("P0", "P2"): 100.0}
    stats = pair_statistics(occasions([meeting("P0", "P1", []) for _ in range(4)]), hours(shared))
    summary = baseline_summary(stats, ["P0", "P1"], "team A")
    assert summary["comparable"] is False
    assert summary["why"] == (
        f"only 1 other pair in the group was on duty together; at "
        f"least {MIN_OTHER_PAIRS} are needed"
    )
    (pair,) = summary["subject_pairs"]
    assert pair["statement"].startswith("No comparison possible for P0 and P1: only 1 other")
    assert "rank" not in pair and "p_value" not in pair and "expected_stops" not in pair


def test_a_team_where_every_pair_has_none_is_all_tied() -> None:
    officers = [f"P{i}" for i in range(5)]
    shared = {(a, b): 50.0 for i, a in enumerate(officers) for b in officers[i + 1 :]}
    stats = pair_statistics(occasions([crewed("P0", "P1"), crewed("P2", "P3")]), hours(shared))
    summary = baseline_summary(stats, ["P0", "P1"], "team A")
    assert summary["comparable"] is False
    assert summary["why"] == (
        "every pair is tied: all 10 pairs had no stops together with no policing reason found"
    )
    text = summary["subject_pairs"][0]["statement"]
    assert "rank" not in text and "percentile" not in text and "e+" not in text


def test_ties_are_ties_and_no_expected_count_from_zero() -> None:
    officers = [f"P{i}" for i in range(5)]
    shared = {(a, b): 100.0 for i, a in enumerate(officers) for b in officers[i + 1 :]}
    # two pairs with the same unexplained stopping, the rest with none
    rows = [meeting("P0", "P1", []) for _ in range(3)] + [meeting("P2", "P3", []) for _ in range(3)]
    stats = pair_statistics(occasions(rows), hours(shared))
    summary = baseline_summary(stats, ["P0", "P1"], "team A")
    assert summary["comparable"] is True
    (pair,) = summary["subject_pairs"]
    assert (pair["rank"], pair["tied_with"]) == (1, 1)
    assert "rank joint 1st of 10 (with 1 other pair)" in pair["statement"]
    # a pair alone in having any: no other pair's rate to test against, so no test
    alone = pair_statistics(occasions(rows[:3]), hours(shared))
    (only,) = baseline_summary(alone, ["P0", "P1"], "team A")["subject_pairs"]
    assert only["expected_stops"] is None and only["p_value"] is None
    assert "no rate to test against" in only["statement"] and "p =" not in only["statement"]


def test_not_assessable_occasions_are_not_counted_or_compared() -> None:
    officers = [f"P{i}" for i in range(5)]
    shared = {(a, b): 100.0 for i, a in enumerate(officers) for b in officers[i + 1 :]}
    rows = [{**meeting("P0", "P1", []), "finding": "not_assessable"} for _ in range(3)]
    rows += [{**meeting("P2", "P3", []), "finding": "no_reason_found"}]
    stats = pair_statistics(occasions(rows), hours(shared))
    mine = next(r for r in stats.to_pylist() if (r["officer_a"], r["officer_b"]) == ("P0", "P1"))
    assert (mine["unexplained"], mine["unexplained_stops"], mine["not_assessable"]) == (0, 0, 3)
    summary = baseline_summary(stats, ["P0", "P1"], "team A")
    assert summary["comparable"] is False and "could not be assessed" in summary["why"]


@given(st.lists(st.floats(0, 1, allow_nan=False), max_size=40))
def test_benjamini_hochberg_against_its_definition(p: list[float]) -> None:
    arr = np.array(p, float)
    q = benjamini_hochberg(arr)
    n = len(arr)
    for i in range(n):
        # the smallest p_(j) n / j over the p-values at least as large as this one
        bigger = np.sort(arr)[np.sort(arr) >= arr[i]]
        ranks = np.searchsorted(np.sort(arr), bigger, side="right")
        assert q[i] == pytest.approx(min(1.0, float(np.min(bigger * n / ranks))))
    assert (q >= arr - 1e-12).all()


def test_screening_states_its_false_discovery_control() -> None:
    officers = [f"P{i}" for i in range(6)]
    shared = {(a, b): 100.0 for i, a in enumerate(officers) for b in officers[i + 1 :]}
    rows = [meeting("P0", "P1", []) for _ in range(6)] + [meeting("P4", "P5", [])]
    stats = pair_statistics(occasions(rows), hours(shared))
    assert "Benjamini-Hochberg" in FDR_CONTROL
    q = stats["q_value"].to_numpy()
    assert np.allclose(q, benjamini_hochberg(stats["p_value"].to_numpy()))
    assert (q <= stats["p_adjusted"].to_numpy() + 1e-12).all()  # BH is never stricter
    assert stats.to_pylist()[0]["q_value"] < 0.05


def test_rank_text() -> None:
    assert rank_text(1, 0, 12) == "1st of 12"
    assert rank_text(2, 3, 12) == "joint 2nd of 12 (with 3 other pairs)"
    assert rank_text(11, 0, 13) == "11th of 13"
