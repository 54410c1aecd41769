"""Whether each reason and flag could be checked for an occasion, from its own inputs.

A reason or flag is assessed only where its inputs cover that time and place:
- same_incident, one_tasked: an incident log and attachments whose records span the
  occasion's days (from the day of the first record to the day of the last);
- premises: police stations or custody suites recorded, the occasion's point within the
  area the force's records cover (`area_box`);
- shared_duty: each officer's duty roster spans the occasion;
- crewed: assignments of officers to vehicles span the occasion's days;
- home: a home recorded for each officer (a home found is a flag however many are known);
- remote: incident history at that place (the point within `area_box`) of at least
  `remote_min_history_days` in the rule's look-back window, and recorded places to judge
  built-up areas by;
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

from whereabouts.analysis import reasons
from whereabouts.analysis.extent import DAY, OUTSIDE, area_box, quoted
from whereabouts.analysis.params import AnalysisParams
from whereabouts.vocabulary import flag_codes, reason_codes

FINDINGS = ("reason_found", "no_reason_found", "not_assessable")
FINDING_WORDS = {"reason_found": "policing reason found",
                 "no_reason_found": "no policing reason found",
                 "not_assessable": "not assessable"}


def assess(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str = "occw",
           flagged: str = "occw_flag", detail: str = "occw_detail") -> None:
    """`unassessed` for the reasons of every occasion of `target`, home and remote of
    `flagged` (the occasions find_flags checked for them), outside_area of `detail`; the
    remote flags of too little history removed from `evid`."""
    con.execute("CREATE OR REPLACE MACRO day_text(t) AS "
                "strftime(make_timestamp(t), '%-d %b %Y')")
    con.execute("CREATE OR REPLACE TABLE unassessed(occasion_id VARCHAR, label VARCHAR, "
                "why VARCHAR)")
    found = ("NOT EXISTS (SELECT 1 FROM evid e WHERE e.occasion_id = o.occasion_id "
             "AND e.label = '{label}')")
    # Each reason's own rule (reasons.ReasonStep.unassessable), for occasions without it.
    for step in reasons.STEPS.values():
        con.execute(f"""
            INSERT INTO unassessed
            SELECT o.occasion_id, {quoted(step.code)}, o.why
            FROM ({step.unassessable(con, params, target)}) o
            WHERE {found.format(label=step.code)}
        """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    _flags(con, params, flagged, detail, found)


def _flags(con: duckdb.DuckDBPyConnection, params: AnalysisParams, flagged: str,
           detail: str, found: str) -> None:
    con.execute(f"""
        INSERT INTO unassessed
        WITH h AS (SELECT DISTINCT owner_officer_id AS officer_id FROM places
                   WHERE kind = 'home' AND owner_officer_id IS NOT NULL),
        miss AS (
            SELECT o.occasion_id, side.officer_id
            FROM {flagged} o, LATERAL (SELECT o.officer_a AS officer_id UNION
                                       SELECT o.officer_b) side
            WHERE side.officer_id NOT IN (SELECT officer_id FROM h)
        )
        SELECT o.occasion_id, 'home', 'no home recorded for '
               || string_agg(m.officer_id, ' and ' ORDER BY m.officer_id)
        FROM {flagged} o JOIN miss m USING (occasion_id)
        WHERE {found.format(label="home")}
        GROUP BY o.occasion_id
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    withdraw_remote(con, params, flagged)
    con.execute("INSERT INTO unassessed SELECT occasion_id, 'remote', why FROM remote_na "
                "WHERE why IS NOT NULL")
    # Outside the area: the area of each officer's duty at the occasion's middle, and its
    # boundary (an officer not on duty then has no area to be outside of).
    con.execute(f"""
        INSERT INTO unassessed
        WITH side AS (
            SELECT o.occasion_id, d.officer_id, d.area_id
            FROM {detail} o JOIN duty d
              ON d.officer_id IN (o.officer_a, o.officer_b)
             AND d.start <= (o.start + o."end") // 2 AND d."end" > (o.start + o."end") // 2
        ), miss AS (
            SELECT occasion_id, CASE WHEN area_id IS NULL
                       THEN 'no duty area recorded for ' || officer_id
                       ELSE 'no boundary of area ' || area_id || ' was provided' END AS why
            FROM side WHERE area_id IS NULL
                         OR area_id NOT IN (SELECT area_id FROM areas)
        )
        SELECT o.occasion_id, 'outside_area', string_agg(DISTINCT m.why, '; ' ORDER BY m.why)
        FROM {detail} o JOIN miss m USING (occasion_id)
        WHERE {found.format(label="outside_area")}
        GROUP BY o.occasion_id
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text


def withdraw_remote(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str, *,
                    evidence: str = "evid", activity: str = "activity",
                    out: str = "remote_na") -> None:
    """`out(occasion_id, why)`: why the remote rule cannot be assessed for each occasion
    (or stop) of `target` (null where it can); the remote flags found there are withdrawn
    from `evidence`. Needs find_flags' `activity` table of the same target."""
    least = params.remote_min_history_days
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {out} AS
        WITH i AS (SELECT count(*) AS n FROM incidents WHERE x IS NOT NULL),
        b AS ({area_box(con, params)}),
        p AS (SELECT count(*) AS n FROM places WHERE kind <> 'home')
        SELECT o.occasion_id,
               CASE WHEN i.n = 0 THEN 'no incident history was provided'
                    WHEN o.x IS NULL THEN 'the occasion has no position'
                    WHEN o.x < b.x0 OR o.x > b.x1 OR o.y < b.y0 OR o.y > b.y1
                        THEN {quoted(OUTSIDE)}
                    WHEN coalesce(a.w1 - a.w0, 0) < {least * DAY}
                        THEN 'only ' || CAST(round(greatest(coalesce(a.w1 - a.w0, 0), 0)
                                                   / {DAY}, 1) AS VARCHAR)
                             || ' days of incident history (the rule needs at least '
                             || '{least:g})'
                    WHEN p.n = 0 THEN 'no places were provided to judge built-up areas by'
               END AS why
        FROM {target} o CROSS JOIN i CROSS JOIN p CROSS JOIN b
        LEFT JOIN {activity} a ON a.occasion_id = o.occasion_id
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.execute(f"DELETE FROM {evidence} WHERE label = 'remote' AND occasion_id IN "  # noqa: S608  # relation names and numbers of the analysis, no input text
                f"(SELECT occasion_id FROM {out} WHERE why IS NOT NULL)")


def not_assessed_sql() -> str:
    """A query of `(occasion_id, not_assessed)`: each occasion's items as 'label: why', in
    the order of the reasons, then the flags, and whether a reason was among them."""
    order = ", ".join(quoted(x) for x in (*reason_codes(), *flag_codes()))
    known = ", ".join(quoted(x) for x in reason_codes())
    return f"""
        SELECT occasion_id,
               list(label || ': ' || why ORDER BY list_position([{order}], label), why)
                   AS not_assessed,
               bool_or(label IN ({known})) AS reason_unassessed
        FROM unassessed GROUP BY occasion_id"""  # noqa: S608  # relation names and numbers of the analysis, no input text


__all__ = ["FINDINGS", "FINDING_WORDS", "assess", "not_assessed_sql", "withdraw_remote"]
