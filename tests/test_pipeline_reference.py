"""docs/pipeline.md is what the analysis's steps declare as they run (analysis/reference.py)."""

from __future__ import annotations

from pathlib import Path

from whereabouts.analysis import context, reasons
from whereabouts.analysis.reference import pipeline_steps, render
from whereabouts.vocabulary import FLAG_TERMS

REPO = Path(__file__).resolve().parents[1]


def test_docs_pipeline_md_matches_the_code() -> None:
    doc = (REPO / "docs" / "pipeline.md").read_text(encoding="utf-8")
    assert doc == render(), (
        "docs/pipeline.md is stale: run `whereabouts pipeline-reference > docs/pipeline.md`"
    )


def test_every_reason_runs_as_its_own_step_before_the_cover() -> None:
    names = [s.name for s in pipeline_steps()]
    ran = [n.removeprefix("reason ") for n in names if n.startswith("reason ")]
    assert ran == list(reasons.STEPS)
    assert names.index("cover") > max(names.index(f"reason {r}") for r in ran)
    assert names[-1] == "stops" and "occasions table" in names


def test_every_flag_has_one_rule_and_one_term() -> None:
    assert sorted(context.FLAG_RULES) == sorted(FLAG_TERMS)
