"""Whether each reason and flag could be checked for an occasion, from its own inputs.

A reason or flag is assessed only where its inputs cover that time and place:
- same_incident, one_tasked: an incident log and attachments that cover each of the
  occasion's local days and times (extent.LogDays: from the day of the first record to
  the day of the last, less any day in between with fewer than `log_day_min_share` of the
  median day's records, and any silence in which the log, at its own rate for those hours
  of the day, would have held more than `log_silence_factor` records, of at least
  `log_silence_min_h` — an outage);
- premises: police stations or custody suites recorded, the occasion's point within the
  area the force's records cover (extent.register_area: inside a duty area's boundary, or
  within `premises_area_m` of a recorded police station, custody suite or incident);
- shared_duty: each officer's duty roster spans the occasion;
- crewed: assignments of officers to vehicles that cover the occasion's days (LogDays);
- home: a home recorded for each officer (a home found is a flag however many are known);
- remote: incident history at that place (the point within register_area's area) of at
  least `remote_min_history_days` in the rule's look-back window, not counting days the
  incident log does not cover, and recorded places to judge built-up areas by;
- outside_area: for each officer on duty at its middle, the duty's area and its boundary;
- stationary: the positions alone, always.
A reason or flag found was assessed (its evidence is in the records). Each one neither
found nor assessable gets a row in `unassessed(occasion_id, label, why)`; a remote flag whose
rule ran on too little history is withdrawn from `evid`. The occasion's `finding` follows
(`FINDINGS`): reason_found when its reasons explain it, no_reason_found when every reason
was assessable and none explains it, else not_assessable.
"""

from __future__ import annotations

import duckdb

from whereabouts.analysis import context, reasons
from whereabouts.analysis.extent import quoted, register_local_days
from whereabouts.analysis.params import AnalysisParams
from whereabouts.vocabulary import flag_codes, reason_codes

FINDINGS = ("reason_found", "no_reason_found", "not_assessable")
FINDING_WORDS = {
    "reason_found": "policing reason found",
    "no_reason_found": "no policing reason found",
    "not_assessable": "not assessable",
}


def assess(
    con: duckdb.DuckDBPyConnection,
    params: AnalysisParams,
    target: str = "occw",
    flagged: str = "occw_flag",
    detail: str = "occw_detail",
) -> None:
    """`unassessed` for the reasons of every occasion of `target`, home and remote of
    `flagged` (the occasions find_flags checked for them), outside_area of `detail`; the
    remote flags of too little history removed from `evid`."""
    # day_text(t): the force's local day of a time (µs) as '26 Jan 2026', for the rules' words
    register_local_days(con, target)
    con.execute(
        "CREATE OR REPLACE MACRO day_text(t) AS "
        "(SELECT any_value(d.text) FROM local_days d WHERE d.t0 <= t AND t < d.t1)"
    )
    con.execute(
        "CREATE OR REPLACE TABLE unassessed(occasion_id VARCHAR, label VARCHAR, why VARCHAR)"
    )
    found = (
        "NOT EXISTS (SELECT 1 FROM evid e WHERE e.occasion_id = o.occasion_id "
        "AND e.label = '{label}')"
    )
    # Each reason's own rule (reasons.ReasonStep.unassessable), for occasions without it.
    for step in reasons.STEPS.values():
        con.execute(f"""
            INSERT INTO unassessed
            SELECT o.occasion_id, {quoted(step.code)}, o.why
            FROM ({step.unassessable(con, params, target)}) o
            WHERE {found.format(label=step.code)}
        """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    _flags(con, params, flagged, detail, found)


def _flags(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, flagged: str, detail: str, found: str
) -> None:
    """Each flag's own rule (context.FlagRule.unassessable), for occasions without it."""
    at = context.Scope(flagged, detail)
    for rule in context.FLAG_RULES.values():
        query = rule.unassessable(con, params, at)
        if query is None:
            continue
        con.execute(f"""
            INSERT INTO unassessed
            SELECT o.occasion_id, {quoted(rule.code)}, o.why FROM ({query}) o
            WHERE {found.format(label=rule.code)}
        """)  # noqa: S608  # relation names and numbers of the analysis, no input text


def not_assessed_sql() -> str:
    """A query of `(occasion_id, not_assessed)`: each occasion's items as 'label: why', in
    the order of the reasons, then the flags, and whether a reason was among them; whether
    the incidents raised nearby (the incident log) and a dispatch (the attachments) are
    known."""
    order = ", ".join(quoted(x) for x in (*reason_codes(), *flag_codes()))
    known = ", ".join(quoted(x) for x in reason_codes())
    return f"""
        SELECT occasion_id,
               list(label || ': ' || why ORDER BY list_position([{order}], label), why)
                   AS not_assessed,
               bool_or(label IN ({known})) AS reason_unassessed,
               -- the incidents raised nearby, and whether one was dispatched, are not known
               bool_or(label = 'same_incident' AND why LIKE 'no incident log%')
                   AS incidents_unknown,
               bool_or(label IN ('same_incident', 'one_tasked')) AS dispatch_unknown
        FROM unassessed GROUP BY occasion_id"""  # noqa: S608  # relation names and numbers of the analysis, no input text


__all__ = ["FINDINGS", "FINDING_WORDS", "assess", "not_assessed_sql"]
