"""Screening statistics, the Poisson test, the baseline statement and annotations."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from whereabouts.analysis.annotations import annotate, annotated_view
from whereabouts.analysis.baseline import baseline_summary
from whereabouts.analysis.labelling import OCCASIONS
from whereabouts.analysis.screening import SCREENING, pair_statistics, poisson_upper_tail
from whereabouts.errors import NoDataError, ParameterError

T0 = datetime(2024, 3, 4, tzinfo=UTC)


def naive_tail(k: int, lam: float) -> float:
    """P(X >= k) by the textbook sum, as an independent check."""
    return 1.0 - sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(k))


@pytest.mark.parametrize(
    ("k", "lam"),
    [(0, 2.0), (1, 1.0), (3, 0.5), (10, 4.2), (25, 30.0), (5, 0.0), (0, 0.0), (40, 12.5)],
)
def test_poisson_tail_matches_the_textbook_sum(k: int, lam: float) -> None:
    got = poisson_upper_tail(np.array([k]), np.array([lam]))[0]
    assert got == pytest.approx(naive_tail(k, lam), rel=1e-9, abs=1e-15)


def test_poisson_tail_is_tiny_far_out_without_cancelling() -> None:
    # 1 - CDF loses everything below ~1e-16; the upper sum keeps the magnitude.
    want = sum(math.exp(-2.0) * 2.0**i / math.factorial(i) for i in range(30, 90))
    got = poisson_upper_tail(np.array([30]), np.array([2.0]))[0]
    assert got == pytest.approx(want, rel=1e-9)
    assert 1e-25 < got < 1e-20
    assert naive_tail(30, 2.0) < 1e-15  # what the textbook form would have said


def occasions(rows: list[dict[str, Any]]) -> pa.Table:
    """Occasion rows with only what screening reads; the rest left null."""
    cols: dict[str, list[Any]] = {f.name: [] for f in OCCASIONS}
    for i, r in enumerate(rows):
        full = {
            "occasion_id": f"o{i}",
            "start": T0 + timedelta(hours=i),
            "end": T0 + timedelta(hours=i, minutes=30),
            "duration_s": 1800.0,
            "reasons": [],
            "flags": [],
            "unexplained_s": 0.0,
            "unexplained_stopped_s": 0.0,
            "unexplained_stop": False,
            **r,
        }
        for name, values in cols.items():
            values.append(full.get(name))
    return pa.table({f.name: pa.array(cols[f.name], f.type) for f in OCCASIONS})


def meeting(a: str, b: str, flags: list[str]) -> dict[str, Any]:
    return {
        "officer_a": a,
        "officer_b": b,
        "explained": False,
        "flags": flags,
        "unexplained_s": 1800.0,
        "unexplained_stopped_s": 1500.0,
        "unexplained_stop": True,
    }


def crewed(a: str, b: str) -> dict[str, Any]:
    return {"officer_a": a, "officer_b": b, "explained": True, "reasons": ["crewed"]}


def hours(pairs: dict[tuple[str, str], float]) -> pa.Table:
    return pa.table(
        {
            "officer_a": [a for a, _ in pairs],
            "officer_b": [b for _, b in pairs],
            "shared_duty_h": list(pairs.values()),
        }
    )


def test_the_pair_that_keeps_stopping_together_ranks_first() -> None:
    officers = [f"P{i}" for i in range(6)]
    shared = {(a, b): 100.0 for i, a in enumerate(officers) for b in officers[i + 1 :]}
    rows = [meeting("P0", "P1", ["remote"]) for _ in range(6)] + [meeting("P0", "P1", ["home"])]
    rows += [crewed("P2", "P3") for _ in range(20)]  # a decoy: often together, with reason
    rows += [meeting("P4", "P5", [])]  # one chance stop
    stats = pair_statistics(occasions(rows), hours(shared))
    assert stats.schema == SCREENING
    assert stats.num_rows == 15
    top = stats.to_pylist()[0]
    assert (top["officer_a"], top["officer_b"]) == ("P0", "P1")
    assert top["rank"] == 1
    assert (top["unexplained_stops"], top["home"], top["remote"]) == (7, 1, 6)
    # expected from the other 14 pairs: 1 stop (+ 0.5) in 1,400 shared hours, times 100 hours
    assert top["expected_stops"] == pytest.approx(1.5 * 100 / 1400)
    assert top["p_value"] == pytest.approx(naive_tail(7, 1.5 * 100 / 1400), rel=1e-6)
    assert top["p_adjusted"] == pytest.approx(min(1.0, top["p_value"] * 15))
    decoy = next(r for r in stats.to_pylist() if r["officer_a"] == "P2")
    assert decoy["explained"] == 20 and decoy["unexplained_stops"] == 0
    assert decoy["p_value"] == 1.0 and decoy["rank"] > 5
    assert sorted(stats["rank"].to_pylist()) == list(range(1, 16))


def test_baseline_statement_is_plain_and_names_the_test() -> None:
    officers = ["P0", "P1", "P2", "P3"]
    shared = {(a, b): 200.0 for i, a in enumerate(officers) for b in officers[i + 1 :]}
    rows = [meeting("P0", "P1", ["remote"]) for _ in range(5)] + [meeting("P2", "P3", [])]
    stats = pair_statistics(occasions(rows), hours(shared))
    summary = baseline_summary(stats, ["P1", "P0"], "team A")
    assert summary["pairs"] == 6
    assert "Poisson" in summary["test"] and summary["why_test"] and summary["assumptions"]
    assert summary["comparable"] is True
    (pair,) = summary["subject_pairs"]
    assert pair["rank"] == 1 and pair["unexplained_stops"] == 5 and pair["tied_with"] == 0
    text = pair["statement"]
    assert "P0 and P1 rank 1st of 6" in text and "they had 5" in text and "by chance" in text


def test_annotations_sit_beside_computed_results() -> None:
    occ = occasions([meeting("P0", "P1", ["remote"]), crewed("P0", "P1")])

    class Store:
        def __init__(self) -> None:
            self.rows: list[dict[str, Any]] = []

        def annotate(
            self,
            occasion_id: str,
            case_ref: str,
            author: Any,
            note: str,
            reason_added: str | None = None,
            reason_rejected: str | None = None,
        ) -> int:
            self.rows.append(
                {
                    "occasion_id": occasion_id,
                    "author": author,
                    "note": note,
                    "reason_added": reason_added,
                    "reason_rejected": reason_rejected,
                    "created_at": "2024-05-01T10:00Z",
                }
            )
            return len(self.rows)

        def annotations(self, case_ref: str) -> list[dict[str, Any]]:
            return self.rows

    store = Store()
    annotate(
        store,
        occ,
        "C1",
        "o0",
        "inv1",
        "rostered to an unrecorded course",
        reason_added="shared_duty",
    )
    annotate(store, occ, "C1", "o1", "inv1", "not crewed that day", reason_rejected="crewed")
    with pytest.raises(ParameterError):
        annotate(store, occ, "C1", "o0", "inv1", "x", reason_added="lunch")
    with pytest.raises(ParameterError):
        annotate(store, occ, "C1", "o0", "inv1", "x", reason_rejected="crewed")
    with pytest.raises(NoDataError):
        annotate(store, occ, "C1", "nope", "inv1", "x")
    view = annotated_view(occ, store.annotations("C1"))
    assert view["reasons"].to_pylist() == [[], ["crewed"]]  # computed results untouched
    assert view["explained"].to_pylist() == [False, True]
    assert view["reasons_as_annotated"].to_pylist() == [["shared_duty"], []]
    assert "inv1: rostered" in view["annotations"][0].as_py()[0]
