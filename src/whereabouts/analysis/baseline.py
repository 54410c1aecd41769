"""Baseline: where the subjects stand among every pair of their team or station.

`baseline_summary(stats, subjects, group)` picks the subjects' pairs out of the screening
table of their group (screening.py: counts, unexplained time per shared duty hour, a
one-sided exact Poisson test against the other pairs' rate) and says it in words a panel
understands.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pyarrow as pa


def _chance(p: float) -> str:
    if p >= 0.05:
        return f"would be unremarkable (about {p:.0%} of the time by chance alone)"
    if p < 1e-6:
        return "would arise by chance less than once in a million periods like this"
    return f"would arise by chance about once in {max(round(1 / p), 2):,} periods like this"


def baseline_summary(stats: pa.Table, subjects: list[str], group: str) -> dict[str, Any]:
    """The subjects' pairs' rank, percentile and test, with a plain-words statement."""
    rows = {(r["officer_a"], r["officer_b"]): r for r in stats.to_pylist()}
    n = stats.num_rows
    out: dict[str, Any] = {
        "group": group, "pairs": n,
        "test": "one-sided exact Poisson test of the pair's unexplained stops together against "
                "the rate of all other pairs in the group per hour on duty together",
        "why": "occasions are counts of rare events over time at risk, which the Poisson model "
               "describes; the exact test needs no large-sample assumption; one-sided because "
               "the question is whether they met more often than others, not less",
        "subject_pairs": [],
    }
    for a, b in combinations(sorted(set(subjects)), 2):
        r = rows.get((a, b))
        if r is None:
            out["subject_pairs"].append({"officer_a": a, "officer_b": b,
                                         "statement": "No shared duty or occasions recorded."})
            continue
        statement = (
            f"Among {n} pairs of officers in {group}, {a} and {b} rank {r['rank']} by time "
            f"stopped together with no policing reason, per hour on duty together "
            f"(percentile {r['percentile']:.0f}). Other pairs stopped together with no "
            f"policing reason found at a rate that would give this pair "
            f"{r['expected_stops']:.2g} such occasions in their {r['shared_duty_h']:.0f} hours "
            f"on duty together; they had {r['unexplained_stops']}. If they met no more often "
            f"than a typical pair, a count this high {_chance(float(r['p_value']))} "
            f"(p = {r['p_value']:.2g})."
        )
        out["subject_pairs"].append({**{k: r[k] for k in (
            "officer_a", "officer_b", "rank", "percentile", "unexplained", "unexplained_s",
            "unexplained_stops", "unexplained_stopped_s", "expected_stops", "shared_duty_h",
            "p_value")}, "statement": statement})
    return out


__all__ = ["baseline_summary"]
