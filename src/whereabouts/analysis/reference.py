"""docs/pipeline.md: the analysis's steps, what each reads and writes, every relation's
columns, and the policing reasons, taken from the code as it runs (not copied by hand).

The labelling (`labelling.label_occasions`) and the subjects' stops (`stops.subject_stops`)
run on empty inputs inside `pipeline.recording()`, which notes every step with what it
declared; `Analysis.step` checks those declarations each time a step returns, so what is
written here is what the steps do. `whereabouts pipeline-reference` prints it;
tests/test_pipeline_reference.py keeps docs/pipeline.md equal to it.
"""

from __future__ import annotations

from whereabouts.analysis import context, reasons, stops
from whereabouts.analysis.inputs import Inputs
from whereabouts.analysis.labelling import label_occasions
from whereabouts.analysis.params import AnalysisParams
from whereabouts.analysis.pipeline import Relation, StepRecord, recording
from whereabouts.vocabulary import FLAG_TERMS, REASON_TERMS


def pipeline_steps() -> list[StepRecord]:
    """Every step of an investigation's labelling and stops, in the order they run."""
    from whereabouts.engine import PERIODS

    params = AnalysisParams()
    with recording() as log:
        label_occasions(Inputs(), PERIODS.empty_table(), None, params, workers=1)
        stops.subject_stops(Inputs(), params, ["A", "B"])
    return log


def _names(relations: tuple[Relation, ...]) -> str:
    return ", ".join(f"`{r.name}`" for r in relations) or "–"


def render() -> str:
    """The Markdown of docs/pipeline.md."""
    steps = pipeline_steps()
    out = [
        "# The analysis's steps",
        "",
        "Generated from the code by `whereabouts pipeline-reference` (analysis/reference.py):",
        "each step as it runs, with the relations it declares; `Analysis.step` checks every",
        "declared relation's columns (names, order, DuckDB types) when the step returns and",
        "drops whatever else the step made. Times are µs since 1970 (BIGINT).",
        "",
        "| # | step | reads | writes | returns |",
        "|---|---|---|---|---|",
    ]
    relations: dict[str, Relation] = {}
    for i, s in enumerate(steps, 1):
        returned = f"{len(s.returns)} columns" if s.returns is not None else "–"
        macros = f" (macros {', '.join(s.macros)})" if s.macros else ""
        out.append(
            f"| {i} | {s.name} | {_names(s.reads)} | {_names(s.writes)}{macros} | {returned} |"
        )
        for r in (*s.reads, *s.writes):
            relations.setdefault(r.name, r)
    out += ["", "## Relations", "", "| relation | columns |", "|---|---|"]
    for name in sorted(relations):
        cols = ", ".join(f"{c} {t}" for c, t in relations[name].columns.items())
        out.append(f"| `{name}` | {cols} |")
    out += ["", "## Returned tables", ""]
    for s in steps:
        if s.returns is not None:
            out.append(f"- {s.name}: " + ", ".join(f"{f.name} {f.type}" for f in s.returns))
    out += [
        "",
        "## Policing reasons",
        "",
        "Each is one `ReasonStep` in `analysis/reasons.py` (run as the step `reason <code>`)",
        "and one `Term` in `vocabulary.REASON_TERMS` (its words); nothing else names it.",
        "",
        "| reason | inputs | explains time | also reads | words |",
        "|---|---|---|---|---|",
    ]
    for code, step in reasons.STEPS.items():
        out.append(
            f"| {code} | {', '.join(step.inputs)} | {'yes' if step.explains else 'no'} "
            f"| {_names(step.reads)} | {REASON_TERMS[code].words} |"
        )
    out += [
        "",
        "## Context flags",
        "",
        "Each is one `FlagRule` in `analysis/context.py` (`FLAG_RULES`, in the order they",
        "are found; the stops run the same rules on their own tables) and one `Term` in",
        "`vocabulary.FLAG_TERMS`. Each runs as a step of its own (`flag <code>`) that may add",
        "rows of its own code, kind 'flag', to `evid` only.",
        "",
        "| flag | inputs | checked for | also leaves | words |",
        "|---|---|---|---|---|",
    ]
    for code, rule in context.FLAG_RULES.items():
        scope = "occasions described in full" if rule.detail_only else "flagged occasions"
        out.append(
            f"| {code} | {', '.join(rule.inputs)} | {scope} | {_names(rule.writes)} "
            f"| {FLAG_TERMS[code].words} |"
        )
    return "\n".join(out) + "\n"


__all__ = ["pipeline_steps", "render"]
