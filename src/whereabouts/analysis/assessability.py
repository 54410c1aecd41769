"""Whether each reason and flag could be checked for an occasion, from its own inputs.

A reason or flag is assessed only where its inputs cover that time and place:
- same_incident, one_tasked: an incident log and attachments that cover each of the
  occasion's UTC days (coverage.LogDays: from the day of the first record to the day of
  the last, less any day in between with fewer than `log_day_min_share` of the median
  day's records — an outage);
- premises: police stations or custody suites recorded, the occasion's point within the
  area the force's records cover (`register_area`: inside a duty area's boundary, or
  within `premises_area_m` of a recorded police station, custody suite or incident);
- shared_duty: each officer's duty roster spans the occasion;
- crewed: assignments of officers to vehicles that cover the occasion's days (LogDays);
- home: a home recorded for each officer (a home found is a flag however many are known);
- remote: incident history at that place (the point within `register_area`) of at least
  `remote_min_history_days` in the rule's look-back window, not counting days the
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
import numpy as np
import pyarrow as pa
import shapely

from whereabouts.analysis.coverage import LogDays
from whereabouts.analysis.inputs import US, fetch
from whereabouts.analysis.params import AnalysisParams
from whereabouts.schema import FLAGS, POLICE_PLACE_KINDS, REASONS

FINDINGS = ("reason_found", "no_reason_found", "not_assessable")
FINDING_WORDS = {"reason_found": "policing reason found",
                 "no_reason_found": "no policing reason found",
                 "not_assessable": "not assessable"}
DAY = 86_400 * US
OUTSIDE = "outside the area the force's records cover"


def _sql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


LOGS = (("incidents", "SELECT created_at AS t0, NULL::BIGINT AS t1 FROM incidents"),
        ("attachments", "SELECT dispatched_at AS t0, NULL::BIGINT AS t1 FROM attachments"),
        ("vehicles", "SELECT g.start AS t0, g.\"end\" AS t1 FROM assignments g JOIN devices d "
                     "USING (device_id) WHERE d.kind = 'vehicle'"))


def register_log_days(con: duckdb.DuckDBPyConnection, params: AnalysisParams,
                      logs: tuple[str, ...] = ("incidents", "attachments", "vehicles")
                      ) -> None:
    """`log_span(log, lo, hi, n)` and `gap_days(log, day)`: for the incident log, the
    attachments and the vehicle assignments, the first and last UTC day they cover (days
    since 1970-01-01; null when empty), their rows, and the days between that they do not
    cover (coverage.LogDays, at `log_day_min_share`)."""
    spans: list[tuple[str, int | None, int | None, int]] = []
    gaps: list[tuple[str, int]] = []
    for name, sql in LOGS:
        if name not in logs:
            continue
        t = fetch(con, f"SELECT * FROM ({sql}) WHERE t0 IS NOT NULL")
        t1 = t.column("t1").to_numpy(zero_copy_only=False)
        t0 = t.column("t0").to_numpy()
        days = LogDays.of(t0, None if name != "vehicles" else
                          np.where(np.isnan(t1.astype(float)), t0, t1).astype(np.int64),
                          share=params.log_day_min_share)
        spans.append((name, days.lo, days.hi, t.num_rows))
        gaps.extend((name, int(d)) for d in days.uncovered)
    con.execute("CREATE OR REPLACE TEMP TABLE log_span(log VARCHAR, lo BIGINT, hi BIGINT, "
                "n BIGINT)")
    con.executemany("INSERT INTO log_span VALUES (?, ?, ?, ?)", spans)
    con.execute("CREATE OR REPLACE TEMP TABLE gap_days(log VARCHAR, day BIGINT)")
    if gaps:
        con.executemany("INSERT INTO gap_days VALUES (?, ?)", gaps)


def register_area(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str,
                  name: str) -> None:
    """`name(occasion_id, inside)`: whether each located occasion (or stop) of `target` lies
    in the area the force's records cover — inside a duty area's boundary, or within
    `premises_area_m` of a recorded police station, custody suite or incident (a point far
    from all of them may lie beyond the force's records: police premises and the remote
    rule cannot be judged there)."""
    police = ", ".join(f"'{k}'" for k in POLICE_PLACE_KINDS)
    pts = fetch(con, f"SELECT occasion_id, x::DOUBLE AS x, y::DOUBLE AS y FROM {target} "
                     "WHERE x IS NOT NULL AND y IS NOT NULL")
    x, y = pts.column("x").to_numpy(), pts.column("y").to_numpy()
    inside = np.zeros(len(x), bool)
    known = fetch(con, f"""
        SELECT DISTINCT x::DOUBLE AS x, y::DOUBLE AS y FROM (
            SELECT x, y FROM places WHERE kind IN ({police})
            UNION ALL SELECT x, y FROM incidents) WHERE x IS NOT NULL AND y IS NOT NULL""")
    if known.num_rows and len(x):
        tree = shapely.STRtree(shapely.points(known.column("x").to_numpy(),
                                              known.column("y").to_numpy()))
        near = tree.query_nearest(shapely.points(x, y), max_distance=params.premises_area_m)
        inside[near[0]] = True
    wkb = fetch(con, "SELECT geometry_wkb FROM areas").column("geometry_wkb").to_pylist()
    if wkb and len(x) and not inside.all():
        areas = shapely.union_all(shapely.make_valid(shapely.from_wkb(wkb)))
        shapely.prepare(areas)
        rest = ~inside
        inside[rest] = shapely.intersects_xy(areas, x[rest], y[rest])
    con.register(f"{name}_arrow", pa.table({"occasion_id": pts.column("occasion_id"),
                                            "inside": pa.array(inside)}))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")


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
    register_log_days(con, params)
    # Each occasion's UTC days, and the first of them a log does not cover (coverage.LogDays)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE occ_log_miss AS
        WITH od AS (
            SELECT occasion_id, unnest(generate_series(start // {DAY}, ("end" - 1) // {DAY}))
                   AS day FROM {target}
        )
        SELECT od.occasion_id, s.log, s.n, min(od.day) AS day
        FROM od CROSS JOIN log_span s
        LEFT JOIN gap_days g ON g.log = s.log AND g.day = od.day
        WHERE s.n = 0 OR od.day < s.lo OR od.day > s.hi OR g.day IS NOT NULL
        GROUP BY ALL
    """)
    for label in ("same_incident", "one_tasked"):
        con.execute(f"""
            INSERT INTO unassessed
            WITH m AS (
                SELECT occasion_id, min(day) FILTER (WHERE log = 'incidents') AS inc,
                       min(day) FILTER (WHERE log = 'attachments') AS att,
                       bool_or(log = 'incidents' AND n = 0) AS no_inc,
                       bool_or(log = 'attachments' AND n = 0) AS no_att
                FROM occ_log_miss WHERE log IN ('incidents', 'attachments')
                GROUP BY occasion_id
            )
            SELECT o.occasion_id, '{label}',
                   CASE WHEN m.no_inc THEN 'no incident log was provided'
                        WHEN m.no_att THEN 'no attachments (who was sent to which incident) '
                                           || 'were provided'
                        WHEN m.inc IS NOT NULL
                            THEN 'no incident log covers ' || day_text(m.inc * {DAY})
                        ELSE 'no attachments cover ' || day_text(m.att * {DAY}) END
            FROM {target} o JOIN m USING (occasion_id)
            WHERE {found.format(label=label)}
        """)
    police = ", ".join(f"'{k}'" for k in POLICE_PLACE_KINDS)
    register_area(con, params, target, "occ_area")
    con.execute(f"""
        INSERT INTO unassessed
        WITH p AS (SELECT count(*) AS n FROM places WHERE kind IN ({police})
                   AND x IS NOT NULL)
        SELECT o.occasion_id, 'premises',
               CASE WHEN p.n = 0 THEN 'no police stations or custody suites were provided'
                    WHEN o.x IS NULL THEN 'the occasion has no position'
                    ELSE {_sql(OUTSIDE)} END
        FROM {target} o CROSS JOIN p LEFT JOIN occ_area a USING (occasion_id)
        WHERE (p.n = 0 OR o.x IS NULL OR NOT coalesce(a.inside, false))
          AND {found.format(label="premises")}
    """)
    # Shared duty: each officer's roster spans the occasion.
    con.execute(f"""
        INSERT INTO unassessed
        WITH r AS (SELECT officer_id, min(start) AS lo, max("end") AS hi FROM duty
                   GROUP BY officer_id),
        miss AS (
            SELECT o.occasion_id, o.start, side.officer_id
            FROM {target} o, LATERAL (SELECT o.officer_a AS officer_id UNION ALL
                                      SELECT o.officer_b) side
            LEFT JOIN r ON r.officer_id = side.officer_id
            WHERE r.officer_id IS NULL OR o.start < r.lo OR o."end" > r.hi
        )
        SELECT o.occasion_id, 'shared_duty',
               'no duty roster for ' || string_agg(DISTINCT m.officer_id, ' and '
                                                   ORDER BY m.officer_id)
                   || ' covers ' || day_text(any_value(m.start))
        FROM {target} o JOIN miss m USING (occasion_id)
        WHERE {found.format(label="shared_duty")}
        GROUP BY o.occasion_id
    """)
    con.execute(f"""
        INSERT INTO unassessed
        SELECT o.occasion_id, 'crewed',
               CASE WHEN m.n = 0 THEN 'no assignments of officers to vehicles were provided'
                    ELSE 'no vehicle assignments cover ' || day_text(m.day * {DAY}) END
        FROM {target} o JOIN occ_log_miss m ON m.occasion_id = o.occasion_id
                                           AND m.log = 'vehicles'
        WHERE {found.format(label="crewed")}
    """)
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
    """)
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
    """)


def withdraw_remote(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str
                    ) -> None:
    """`remote_na(occasion_id, why)`: why the remote rule cannot be assessed for each
    occasion (or stop) of `target` (null where it can); the remote flags found there are
    withdrawn from `evid`. Needs find_flags' `activity` table of the same target."""
    least = params.remote_min_history_days
    register_area(con, params, target, "remote_area")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE remote_na AS
        WITH i AS (SELECT count(*) AS n FROM incidents WHERE x IS NOT NULL),
        p AS (SELECT count(*) AS n FROM places WHERE kind <> 'home')
        SELECT o.occasion_id,
               CASE WHEN i.n = 0 THEN 'no incident history was provided'
                    WHEN o.x IS NULL THEN 'the occasion has no position'
                    WHEN NOT coalesce(b.inside, false) THEN {_sql(OUTSIDE)}
                    WHEN coalesce(a.history_us, 0) < {least * DAY}
                        THEN 'only ' || CAST(round(greatest(coalesce(a.history_us, 0), 0)
                                                   / {DAY}, 1) AS VARCHAR)
                             || ' days of incident history (the rule needs at least '
                             || '{least:g})'
                    WHEN p.n = 0 THEN 'no places were provided to judge built-up areas by'
               END AS why
        FROM {target} o CROSS JOIN i CROSS JOIN p
        LEFT JOIN remote_area b ON b.occasion_id = o.occasion_id
        LEFT JOIN activity a ON a.occasion_id = o.occasion_id
    """)
    con.execute("DELETE FROM evid WHERE label = 'remote' AND occasion_id IN "
                "(SELECT occasion_id FROM remote_na WHERE why IS NOT NULL)")


def not_assessed_sql() -> str:
    """A query of `(occasion_id, not_assessed)`: each occasion's items as 'label: why', in
    the order of the reasons, then the flags, and whether a reason was among them."""
    order = ", ".join(f"'{x}'" for x in (*REASONS, *FLAGS))
    reasons = ", ".join(f"'{x}'" for x in REASONS)
    return f"""
        SELECT occasion_id,
               list(label || ': ' || why ORDER BY list_position([{order}], label), why)
                   AS not_assessed,
               bool_or(label IN ({reasons})) AS reason_unassessed
        FROM unassessed GROUP BY occasion_id"""


__all__ = ["FINDINGS", "FINDING_WORDS", "assess", "not_assessed_sql", "register_area",
           "register_log_days", "withdraw_remote"]
