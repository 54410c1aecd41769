"""Availability: what happened nearby while an occasion lasted, and what it cost.

For each occasion: incidents raised within `availability_radius_m` of its point between its
start and end, counted by priority (1 = immediate); whether either officer was dispatched
meanwhile and how long after the first dispatch the occasion ended (minutes before they
moved on). `unavailable_min` (added by labelling.py) is the occasion's minutes that no
policing reason covers.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from whereabouts.analysis.inputs import US, fetch
from whereabouts.analysis.params import AnalysisParams


def availability(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str = "occw"
) -> pa.Table:
    """One row per occasion: incidents_p1..p4, dispatched, dispatch_to_end_min."""
    ra = params.availability_radius_m
    side = (
        "SELECT o.occasion_id, t.dispatched_at FROM {target} o JOIN tasks t "
        "ON t.officer_id = o.{officer} AND t.dispatched_at >= o.start "
        'AND t.dispatched_at < o."end"'
    )
    return fetch(
        con,
        f"""
        WITH near AS (
            SELECT o.occasion_id, i.priority
            FROM {target} o JOIN incidents i
              ON i.created_at >= o.start AND i.created_at < o."end"
             AND i.x BETWEEN o.x - {ra} AND o.x + {ra} AND i.y BETWEEN o.y - {ra} AND o.y + {ra}
            WHERE (i.x - o.x)^2 + (i.y - o.y)^2 <= {ra**2}
        ), counts AS (
            SELECT occasion_id,
                   count(*) FILTER (WHERE priority = 1) AS incidents_p1,
                   count(*) FILTER (WHERE priority = 2) AS incidents_p2,
                   count(*) FILTER (WHERE priority = 3) AS incidents_p3,
                   count(*) FILTER (WHERE priority >= 4 OR priority IS NULL) AS incidents_p4
            FROM near GROUP BY occasion_id
        ), disp AS (
            -- one equi-join per officer of the pair (not an IN over both)
            SELECT occasion_id, min(dispatched_at) AS first_dispatch FROM (
                {side.format(target=target, officer="officer_a")}
                UNION ALL {side.format(target=target, officer="officer_b")})
            GROUP BY occasion_id
        )
        SELECT o.occasion_id,
               coalesce(c.incidents_p1, 0)::BIGINT AS incidents_p1,
               coalesce(c.incidents_p2, 0)::BIGINT AS incidents_p2,
               coalesce(c.incidents_p3, 0)::BIGINT AS incidents_p3,
               coalesce(c.incidents_p4, 0)::BIGINT AS incidents_p4,
               d.first_dispatch IS NOT NULL AS dispatched,
               (o."end" - d.first_dispatch) / {60 * US}.0 AS dispatch_to_end_min
        FROM {target} o LEFT JOIN counts c USING (occasion_id)
        LEFT JOIN disp d USING (occasion_id)
    """,  # noqa: S608  # relation names and numbers of the analysis, no input text
    )


__all__ = ["availability"]
