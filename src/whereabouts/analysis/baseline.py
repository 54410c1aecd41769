"""Baseline: where the subjects stand among every pair of their team or station — only
when the group and its exposure support a comparison.

`baseline_summary(stats, subjects, group)` picks the subjects' pairs out of the screening
table of their group (screening.py: counts, unexplained stopping per shared duty hour, a
one-sided exact Poisson test against the other pairs' rate) and says it in words a panel
understands. The comparison is made only when `comparable` (the rule is `COMPARABLE_RULE`):
at least `MIN_OTHER_PAIRS` other pairs with duty time together, the subjects' pair with
some too, every occasion of the group assessable (a count of "no policing reason found"
means nothing where reasons could not be checked), and not every pair tied. Otherwise
`comparable` is false and `why` says which condition failed; no rank, rate or test is
stated. Ties are stated as ties ("joint 2nd of 12, with 3 other pairs"); no expected count
is given from a rate of zero.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pyarrow as pa

MIN_OTHER_PAIRS = 5
COMPARABLE_RULE = (
    f"a comparison is made only when at least {MIN_OTHER_PAIRS} other pairs "
    "in the group were on duty together for some time, the pair itself was, "
    "every occasion in the group could be assessed for a policing reason, and "
    "not every pair has the same rate (all tied)"
)
ASSUMPTIONS = (
    "each pair stops together with no policing reason found at a steady rate "
    "per hour on duty together, one occasion independently of another; the "
    "other pairs of the group share one rate, which stands for what is usual; "
    "the occasions counted are those the analysis found with its settings"
)


def _chance(p: float) -> str:
    if p >= 0.05:
        return f"would be unremarkable (about {p:.0%} of the time by chance alone)"
    if p < 1e-6:
        return "would arise by chance less than once in a million periods like this"
    return f"would arise by chance about once in {max(round(1 / p), 2):,} periods like this"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def rank_text(rank: int, tied: int, pairs: int) -> str:
    """'1st of 12', or 'joint 2nd of 12 (with 3 other pairs)' when tied."""
    if not tied:
        return f"{_ordinal(rank)} of {pairs}"
    return f"joint {_ordinal(rank)} of {pairs} (with {tied} other pair{'s' if tied > 1 else ''})"


def comparability(stats: pa.Table, pair: tuple[str, str]) -> tuple[bool, str]:
    """(comparable, why) for one pair of the group's screening table."""
    rows = {(r["officer_a"], r["officer_b"]): r for r in stats.to_pylist()}
    mine = rows.get(pair)
    others = [r for k, r in rows.items() if k != pair and r["shared_duty_h"] > 0]
    if mine is None or not mine["shared_duty_h"] > 0:
        return False, "the pair has no duty time together recorded in the period"
    if len(others) < MIN_OTHER_PAIRS:
        k = len(others)
        return False, (
            f"only {k} other pair{'s' if k != 1 else ''} in the group "
            f"{'was' if k == 1 else 'were'} on duty together; at least "
            f"{MIN_OTHER_PAIRS} are needed"
        )
    unassessed = int(sum(r.get("not_assessable") or 0 for r in rows.values()))
    if unassessed:
        return False, (
            f"{unassessed} occasion{'s' if unassessed != 1 else ''} in the group "
            "could not be assessed for a policing reason, so counts of occasions "
            "with no policing reason found would not be comparable"
        )
    rates = {r["stopped_min_per_100h"] for r in [*others, mine]}
    if len(rates) == 1:
        value = next(iter(rates))
        return False, (
            "every pair is tied: all "
            + str(len(others) + 1)
            + " pairs "
            + (
                "stopped together with no policing reason found at the same rate"
                if value
                else "had no stops together with no policing reason found"
            )
        )
    return True, COMPARABLE_RULE


def baseline_summary(stats: pa.Table, subjects: list[str], group: str) -> dict[str, Any]:
    """The subjects' pairs' standing, test and plain-words statement — or why not."""
    rows = {(r["officer_a"], r["officer_b"]): r for r in stats.to_pylist()}
    n = stats.num_rows
    rate = np.asarray([r["stopped_min_per_100h"] for r in rows.values()], float)
    out: dict[str, Any] = {
        "group": group,
        "pairs": n,
        "rule": COMPARABLE_RULE,
        "test": "one-sided exact Poisson test of the pair's unexplained stops together against "
        "the rate of all other pairs in the group per hour on duty together",
        "why_test": "occasions are counts of rare events over time at risk, which the Poisson "
        "model describes; the exact test needs no large-sample assumption; "
        "one-sided because the question is whether they met more often than "
        "others, not less",
        "assumptions": ASSUMPTIONS,
        "subject_pairs": [],
    }
    verdicts = []
    for a, b in combinations(sorted(set(subjects)), 2):
        r = rows.get((a, b))
        comparable, why = comparability(stats, (a, b))
        verdicts.append((comparable, why))
        if r is None:
            out["subject_pairs"].append(
                {
                    "officer_a": a,
                    "officer_b": b,
                    "comparable": False,
                    "why": why,
                    "statement": f"No comparison possible for {a} and {b}: {why}.",
                }
            )
            continue
        counts = {
            k: r[k]
            for k in (
                "officer_a",
                "officer_b",
                "unexplained",
                "unexplained_s",
                "unexplained_stops",
                "unexplained_stopped_s",
                "shared_duty_h",
            )
        }
        if not comparable:
            out["subject_pairs"].append(
                {
                    **counts,
                    "comparable": False,
                    "why": why,
                    "statement": f"No comparison possible for {a} and {b}: {why}.",
                }
            )
            continue
        mine = float(r["stopped_min_per_100h"])
        rank = int((rate > mine).sum()) + 1
        tied = int((rate == mine).sum()) - 1
        others_stops = int(sum(x["unexplained_stops"] for k, x in rows.items() if k != (a, b)))
        others_h = float(sum(x["shared_duty_h"] for k, x in rows.items() if k != (a, b)))
        place = rank_text(rank, tied, n)
        statement = (
            f"Among {n} pairs of officers in {group}, {a} and {b} rank {place} by "
            f"time stopped together with no policing reason found, per hour on "
            f"duty together. "
        )
        entry: dict[str, Any] = {
            **counts,
            "comparable": True,
            "why": why,
            "rank": rank,
            "tied_with": tied,
            "rank_text": place,
            "percentile": r["percentile"],
        }
        if others_stops == 0:
            statement += (
                f"No other pair stopped together with no policing reason found in "
                f"their {others_h:.0f} hours on duty together, so there is no rate "
                f"to test against; {a} and {b} did so {r['unexplained_stops']} "
                f"times in {r['shared_duty_h']:.0f} hours."
            )
            entry.update(expected_stops=None, p_value=None)
        else:
            expected = float(r["expected_stops"])
            statement += (
                f"Other pairs stopped together with no policing reason found "
                f"{others_stops} times in {others_h:.0f} hours on duty together, a rate that "
                f"(with half a stop added, which makes the test cautious) would give this "
                f"pair about {expected:.2g} such occasions in their "
                f"{r['shared_duty_h']:.0f} hours; they had {r['unexplained_stops']}. If they "
                f"met no more often than the other pairs, a count this high "
                f"{_chance(float(r['p_value']))} (p = {r['p_value']:.2g})."
            )
            entry.update(expected_stops=expected, p_value=r["p_value"])
        entry["statement"] = statement
        out["subject_pairs"].append(entry)
    out["comparable"] = bool(verdicts) and all(c for c, _ in verdicts)
    out["why"] = (
        next((w for c, w in verdicts if not c), COMPARABLE_RULE)
        if verdicts
        else "no pair of subjects"
    )
    return out


__all__ = [
    "ASSUMPTIONS",
    "COMPARABLE_RULE",
    "MIN_OTHER_PAIRS",
    "baseline_summary",
    "comparability",
    "rank_text",
]
