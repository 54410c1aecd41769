"""The method-validation report, quick: every section, measured figures that match
results.json, and a statement that refuses to validate on a quick run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from whereabouts.cli import app
from whereabouts.evidence import validation_runs as vr
from whereabouts.evidence.validation import QUICK, Results, criteria, find_real_data, render
from whereabouts.store.software import run_record

pytestmark = pytest.mark.slow


def test_quick_validation_report(tmp_path: Path) -> None:
    real_data = find_real_data()  # ../shared/data/real beside the repository
    assert real_data is not None
    out = tmp_path / "validation"
    result = CliRunner().invoke(
        app, ["validation", "--out", str(out), "--quick", "--real-data", str(real_data), "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    html = (out / "validation.html").read_text(encoding="utf-8")
    for heading in (
        "1. End-user requirements",
        "2. Specification",
        "3. Risk assessment",
        "4. Acceptance criteria",
        "5. Validation plan",
        "6. Results",
        "7. Known limitations",
        "8. Statement of validation completion",
    ):
        assert heading in html
    for risk in (
        "Sparse fixes",
        "Position error",
        "clock skew",
        "Radios lent",
        "Missing dispatch data",
        "Wrong time zone",
    ):
        assert risk in html
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    fleet = res["fleets"][0]
    assert fleet["pairs"] == 28 and fleet["pairs_agreeing"] == fleet["pairs"]
    assert res["buses"] and res["buses"][0]["pairs_agreeing"] == res["buses"][0]["pairs"]
    total = res["planted"]["total"]
    assert total["planted"] > 0
    assert f"{total['found_unexplained']} of {total['planted']}" in html
    assert res["degraded"]["no_dispatch"]["total"]["reported_unexplained"] == 0
    assert res["reproducibility"]["identical"] == res["reproducibility"]["files"] > 0
    assert "No statement is made on a quick run" in html
    assert f"source files SHA-256 <code>{run_record()['whereabouts']['source_sha256']}" in html
    assert "AC-1 met" in result.output


def test_a_failed_criterion_is_not_met_and_blocks_the_statement() -> None:
    res = Results(
        fleets=[{"seed": 1, "pairs": 3, "pairs_agreeing": 2, "periods": 5, "max_diff_ms": 0.0}]
    )
    res.planted = {
        "total": {
            "planted": 10,
            "found_unexplained": 8,
            "recall": 0.8,
            "recall_ci": (0.5, 0.95),
            "seeds": 1,
            "true_unexplained": 8,
            "reported_unexplained": 8,
            "precision": 1.0,
            "precision_ci": (0.6, 1.0),
            "decoy_wrong": 0,
            "decoy_occasions": 2,
        }
    }
    res.reproducibility = {"files": 2, "identical": 2, "different": []}
    got = {c.ref: c.met for c in criteria(res)}
    assert got["AC-1"] is False and got["AC-3"] is False and got["AC-4"] is True
    assert got["AC-2"] is None  # no real recordings: not assessed


def _scored(planted: int, found: int, reported: int) -> dict[str, object]:
    return {
        "planted": planted,
        "found": found,
        "found_unexplained": found,
        "reported_unexplained": reported,
        "true_unexplained": reported,
        "occasions": found,
        "decoy_occasions": 2,
        "decoy_wrong": 0,
        "not_assessable": 0,
        "start_err_s": [20.0] * found,
        "end_err_s": [30.0] * found,
    }


def test_the_statement_names_the_data_the_method_is_not_fit_for() -> None:
    runs = [{"seed": 1, **_scored(4, 4, 4)}]
    sparse = [{"seed": 1, **_scored(4, 0, 0)}]  # nothing found, nothing reported
    res = Results(
        fleets=[
            {
                "seed": 1,
                "devices": 8,
                "fixes": 800,
                "pairs": 28,
                "pairs_agreeing": 28,
                "periods": 20,
                "max_diff_ms": 0.001,
            }
        ],
        planted={"runs": runs, "total": vr.total(runs)},
        degraded={
            "very_sparse": {
                "words": "very sparse fixes",
                "runs": sparse,
                "total": vr.total(sparse),
            },
            "no_dispatch": {"words": "no dispatch data", "runs": sparse, "total": vr.total(sparse)},
        },
        reproducibility={"files": 2, "identical": 2, "names": ["a", "b"], "different": []},
    )
    html = render(res, QUICK, quick=False)
    statement = html[html.index("8. Statement") :]
    assert "not</strong> fit for data like the following" in statement
    assert "very sparse fixes (found with no policing reason: 0.0%)" in statement
    assert "no dispatch data" not in statement  # a missing input: not assessable by design
    assert "none reported" in html  # no precision of nothing reported
    runs_ok = [{"seed": 1, **_scored(4, 4, 4)}]
    res.degraded = {
        "very_sparse": {"words": "very sparse fixes", "runs": runs_ok, "total": vr.total(runs_ok)}
    }
    assert "fit for data like the following" not in render(res, QUICK, quick=False)
