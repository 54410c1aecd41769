"""Policing reasons for an occasion, each with its evidence (input rows cited).

- crewed: both officers assigned to one vehicle for at least half the occasion;
- same_incident: both attached to one incident, the occasion overlapping both attachments'
  dispatched→cleared windows and passing within `incident_radius_m` of the incident;
- premises: the occasion's point within a police station's or custody suite's radius
  (`radius_m`, else `default_place_radius_m`) plus `premises_buffer_m`;
- shared_duty: both rostered on the same joint duty (briefing, training, …) covering at
  least half the occasion;
- one_tasked: only one of them attached to an incident as for same_incident (partial).

An occasion is *explained* when it has any reason other than one_tasked: one officer's
tasking does not explain why the other was there.
"""

from __future__ import annotations

import duckdb

from whereabouts.analysis.inputs import US
from whereabouts.analysis.params import JOINT_DUTY_TYPES, AnalysisParams
from whereabouts.schema import POLICE_PLACE_KINDS

EXPLAINING = ("crewed", "same_incident", "premises", "shared_duty")


def prepare(con: duckdb.DuckDBPyConnection, params: AnalysisParams) -> None:
    """Macros, the evidence table and `tasks` (attachments resolved to officers)."""
    con.execute("CREATE OR REPLACE MACRO ts(t) AS strftime(make_timestamp(t), '%Y-%m-%d %H:%MZ')")
    con.execute("CREATE OR REPLACE MACRO ref(tbl, f, l) AS tbl || ':' || f || ':' || l")
    con.execute("""
        CREATE TABLE IF NOT EXISTS evid(occasion_id VARCHAR, label VARCHAR, kind VARCHAR,
                                        detail VARCHAR, rows VARCHAR[])
    """)
    # An attachment by device counts for whoever was assigned that device when dispatched.
    con.execute(f"""
        CREATE OR REPLACE TABLE tasks AS
        SELECT a.incident_id, coalesce(a.officer_id, g.officer_id) AS officer_id,
               a.device_id, a.dispatched_at, a.arrived_at,
               coalesce(a.cleared_at, i.closed_at,
                        a.dispatched_at + {int(params.incident_open_s * US)}) AS cleared,
               i.x, i.y, i.priority, i.created_at,
               ref('attachments', a.src_file, a.src_line) AS att_ref,
               ref('incidents', i.src_file, i.src_line) AS inc_ref
        FROM attachments a JOIN incidents i USING (incident_id)
        LEFT JOIN assignments g ON a.officer_id IS NULL AND g.device_id = a.device_id
             AND g.start <= a.dispatched_at AND g."end" > a.dispatched_at
        WHERE coalesce(a.officer_id, g.officer_id) IS NOT NULL
    """)


def find_reasons(con: duckdb.DuckDBPyConnection, params: AnalysisParams,
                 target: str = "occw") -> None:
    """Insert reason evidence rows for every occasion of `target` into `evid`."""
    police = ", ".join(f"'{k}'" for k in POLICE_PLACE_KINDS)
    joint = ", ".join(f"'{k}'" for k in JOINT_DUTY_TYPES)
    r2 = params.incident_radius_m ** 2
    con.execute(f"""
        INSERT INTO evid
        SELECT o.occasion_id, 'crewed', 'reason',
               'both assigned to vehicle ' || a.device_id
                   || coalesce(' (' || any_value(d.label) || ')', '') || ', '
                   || ts(min(greatest(a.start, b.start))) || ' to '
                   || ts(max(least(a."end", b."end"))),
               list(DISTINCT ref('assignments', a.src_file, a.src_line)
                    ORDER BY ref('assignments', a.src_file, a.src_line))
                 || list(DISTINCT ref('assignments', b.src_file, b.src_line)
                    ORDER BY ref('assignments', b.src_file, b.src_line))
        FROM {target} o
        JOIN assignments a ON a.officer_id = o.officer_a AND a.start < o."end" AND a."end" > o.start
        JOIN assignments b ON b.officer_id = o.officer_b AND b.device_id = a.device_id
             AND b.start < o."end" AND b."end" > o.start
        JOIN devices d ON d.device_id = a.device_id AND d.kind = 'vehicle'
        WHERE least(a."end", b."end", o."end") > greatest(a.start, b.start, o.start)
        GROUP BY o.occasion_id, a.device_id, o.start, o."end"
        HAVING sum(least(a."end", b."end", o."end") - greatest(a.start, b.start, o.start))
               >= 0.5 * (o."end" - o.start)
    """)
    # Incidents either officer was attached to while the occasion lasted, and near it.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE near_tasks AS
        SELECT o.occasion_id, o.officer_a, o.officer_b, t.*
        FROM {target} o JOIN tasks t
          ON t.officer_id IN (o.officer_a, o.officer_b)
         AND t.dispatched_at < o."end" AND t.cleared > o.start
        WHERE EXISTS (SELECT 1 FROM samples s WHERE s.occasion_id = o.occasion_id
                      AND (s.mx - t.x)^2 + (s.my - t.y)^2 <= {r2})
    """)
    con.execute("""
        INSERT INTO evid
        SELECT a.occasion_id, 'same_incident', 'reason',
               'both attached to incident ' || a.incident_id || ' (priority '
                   || coalesce(CAST(a.priority AS VARCHAR), '?') || ', raised '
                   || ts(a.created_at) || '): ' || a.officer_id || ' dispatched '
                   || ts(a.dispatched_at) || ', cleared ' || ts(a.cleared) || '; '
                   || b.officer_id || ' dispatched ' || ts(b.dispatched_at) || ', cleared '
                   || ts(b.cleared),
               [a.inc_ref, a.att_ref, b.att_ref]
        FROM near_tasks a JOIN near_tasks b
          ON a.occasion_id = b.occasion_id AND a.incident_id = b.incident_id
         AND a.officer_id = a.officer_a AND b.officer_id = a.officer_b
         AND greatest(a.dispatched_at, b.dispatched_at) < least(a.cleared, b.cleared)
        QUALIFY row_number() OVER (PARTITION BY a.occasion_id, a.incident_id
                                   ORDER BY a.dispatched_at, b.dispatched_at) = 1
    """)
    con.execute("""
        INSERT INTO evid
        SELECT t.occasion_id, 'one_tasked', 'reason',
               t.officer_id || ' attached to incident ' || t.incident_id || ' (priority '
                   || coalesce(CAST(t.priority AS VARCHAR), '?') || ') dispatched '
                   || ts(t.dispatched_at) || ', cleared ' || ts(t.cleared) || '; '
                   || CASE WHEN t.officer_id = t.officer_a THEN t.officer_b ELSE t.officer_a END
                   || ' not attached',
               [t.inc_ref, t.att_ref]
        FROM near_tasks t
        WHERE NOT EXISTS (SELECT 1 FROM tasks u WHERE u.incident_id = t.incident_id
              AND u.officer_id = CASE WHEN t.officer_id = t.officer_a THEN t.officer_b
                                      ELSE t.officer_a END)
        QUALIFY row_number() OVER (PARTITION BY t.occasion_id, t.incident_id, t.officer_id
                                   ORDER BY t.dispatched_at) = 1
    """)
    con.execute(f"""
        INSERT INTO evid
        SELECT o.occasion_id, 'premises', 'reason',
               'at ' || p.kind || ' ' || p.place_id || coalesce(' (' || p.name || ')', '')
                   || ', ' || CAST(round(sqrt((p.x - o.x)^2 + (p.y - o.y)^2)) AS INTEGER)
                   || ' m from its point (radius '
                   || CAST(round(coalesce(p.radius_m, {params.default_place_radius_m}))
                           AS INTEGER) || ' m + {params.premises_buffer_m:.0f} m)',
               [ref('places', p.src_file, p.src_line)]
        FROM {target} o JOIN places p ON p.kind IN ({police})
         AND sqrt((p.x - o.x)^2 + (p.y - o.y)^2)
             <= coalesce(p.radius_m, {params.default_place_radius_m}) + {params.premises_buffer_m}
        QUALIFY row_number() OVER (PARTITION BY o.occasion_id
                                   ORDER BY (p.x - o.x)^2 + (p.y - o.y)^2, p.place_id) = 1
    """)
    con.execute(f"""
        INSERT INTO evid
        SELECT o.occasion_id, 'shared_duty', 'reason',
               'both rostered for ' || lower(a.duty_type) || ': ' || o.officer_a || ' '
                   || ts(a.start) || ' to ' || ts(a."end") || ', ' || o.officer_b || ' '
                   || ts(b.start) || ' to ' || ts(b."end"),
               [ref('duty', a.src_file, a.src_line), ref('duty', b.src_file, b.src_line)]
        FROM {target} o
        JOIN duty a ON a.officer_id = o.officer_a AND lower(a.duty_type) IN ({joint})
        JOIN duty b ON b.officer_id = o.officer_b AND lower(b.duty_type) = lower(a.duty_type)
        WHERE least(a."end", b."end", o."end") - greatest(a.start, b.start, o.start)
              >= 0.5 * (o."end" - o.start)
        QUALIFY row_number() OVER (PARTITION BY o.occasion_id ORDER BY a.start, b.start) = 1
    """)


__all__ = ["EXPLAINING", "find_reasons", "prepare"]
