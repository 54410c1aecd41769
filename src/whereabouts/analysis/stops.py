"""Unexplained stops: a vehicle stationary for a while with no tasking, away from premises.

The crewed-pair pattern: two officers crewed together are explained as a pair, so what
stands out is where the car stops. A stop is a run of a vehicle's fixes each within
`stop_radius_m` of the one before (and at most `max_gap_s` after it); runs at most
`merge_gap_s` apart with points within twice the radius are joined (a stray fix splits a
stop), and the result must last `stop_min_s`. It is unexplained when at least `stop_min_s`
of it lies outside every dispatched→cleared window of its crew's incidents, it is not at a
police station or custody suite, and (by default) one of its crew was on duty. Home,
remote and outside-area flags are added as for occasions.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.analysis import context, occasions, reasons
from whereabouts.analysis.gather import merged
from whereabouts.analysis.inputs import US, Inputs, fetch, to_utc
from whereabouts.analysis.params import AnalysisParams
from whereabouts.analysis.pipeline import EVIDENCE, REASON_WINDOWS, TASKS, Analysis
from whereabouts.arrays import mask
from whereabouts.schema import FLAGS, POLICE_PLACE_KINDS, UTC_TS

STOPS = pa.schema(
    [
        pa.field("stop_id", pa.string(), nullable=False),
        pa.field("device_id", pa.string(), nullable=False),
        pa.field("vehicle", pa.string()),
        pa.field("officers", pa.list_(pa.string())),
        pa.field("start", UTC_TS, nullable=False),
        pa.field("end", UTC_TS, nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("x", pa.float64()),
        pa.field("y", pa.float64()),
        pa.field("grid_ref", pa.string()),
        pa.field("place", pa.string()),
        pa.field("place_distance_m", pa.float64()),
        pa.field("flags", pa.list_(pa.string())),
        pa.field("evidence", pa.string()),
        pa.field("on_duty", pa.string()),
        pa.field("n_fixes", pa.int64()),
        # Where in words, as for occasions: the nearest road within road_distance_m.
        pa.field("road", pa.string()),
        pa.field("road_distance_m", pa.float64()),
        pa.field("where_text", pa.string()),
    ]
)


def subject_stops(window: Inputs, params: AnalysisParams, subjects: list[str]) -> pa.Table:
    """The stops of the subjects' vehicles in `window`, as two declared steps: the taskings
    (reasons.prepare), then `find_stops` on them."""
    with Analysis(window) as analysis:
        analysis.step(
            "prepare_tasks",
            lambda con: _prepare_crews_tasks(con, params, subjects),
            writes=(TASKS, EVIDENCE, REASON_WINDOWS),
            macros=("ts", "ref"),
        )
        table = analysis.step(
            "stops",
            lambda con: find_stops(con, params, subjects, window.crs),
            reads=(TASKS,),
            returns=STOPS,
        )
    assert table is not None
    return table


def _prepare_crews_tasks(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, subjects: list[str]
) -> None:
    """reasons.prepare, with the tasks of the officers who ever held a vehicle the subjects
    held: a stop's crew is among them, and find_stops reads the tasks of its crew only."""
    con.register(
        "stop_subjects", pa.table({"officer_id": pa.array(sorted(set(subjects)), pa.string())})
    )
    con.execute("""
        CREATE OR REPLACE TEMP VIEW stop_crews AS
        SELECT DISTINCT b.officer_id AS officer_a, b.officer_id AS officer_b
        FROM assignments a JOIN devices d ON d.device_id = a.device_id AND d.kind = 'vehicle'
        JOIN assignments b ON b.device_id = a.device_id
        WHERE a.officer_id IN (SELECT officer_id FROM stop_subjects)
    """)
    reasons.prepare(con, params, "stop_crews")
    con.execute("DROP VIEW stop_crews")
    con.unregister("stop_subjects")


def _while_assigned(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """`device_id, time, x, y`: the fixes of the vehicles of `veh_span` while one of its
    spans lasts — as an as-of join (the latest span starting at or before the fix, if it
    has not ended), by one binary search on (vehicle, time) keys (DuckDB's ASOF JOIN sorts
    every fix of the vehicles: ten times those kept on the six-month bench)."""
    spans = fetch(con, 'SELECT device_id, start, "end" FROM veh_span ORDER BY device_id, start')
    names = spans.column("device_id").combine_chunks()
    devices = pc.unique(names)  # sorted, as the spans
    con.register(
        "veh_code_arrow",
        pa.table({"device_id": devices, "code": pa.array(np.arange(len(devices)), pa.int64())}),
    )
    fixes = fetch(
        con,
        "SELECT v.code, f.time, f.x, f.y FROM fixes f JOIN veh_code_arrow v USING (device_id)",
    )
    con.unregister("veh_code_arrow")
    code, t = fixes.column("code").to_numpy(), fixes.column("time").to_numpy()
    s_code = np.asarray(pc.index_in(names, value_set=devices).to_numpy(), np.int64)
    s0, s1 = spans.column("start").to_numpy(), spans.column("end").to_numpy()
    keep = np.zeros(len(t), bool)
    if len(t):
        # keys: vehicle * width + time from the first fix, the starts clipped to the fixes'
        # times (in order still: a fix's latest start at or before it is the same span)
        lo, hi = int(t.min()), int(t.max())
        width = hi - lo + 2
        at = np.searchsorted(
            s_code * width + (np.clip(s0, lo, hi + 1) - lo), code * width + (t - lo), "right"
        )
        i = np.maximum(at - 1, 0)
        keep = (at > 0) & (s_code[i] == code) & (t < s1[i])
    kept = fixes.filter(mask(keep))
    return pa.table(
        {
            "device_id": devices.take(kept.column("code")),
            "time": kept.column("time"),
            "x": kept.column("x"),
            "y": kept.column("y"),
        }
    )


def find_stops(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, officers: list[str], crs: str
) -> pa.Table:
    """Unexplained stops of vehicles assigned to any of `officers` (schema `STOPS`).

    Needs the `tasks` table and macros of `reasons.prepare` on `con`. The stops' flags,
    remote measure and place in words are the occasions' rules (context.find_flags,
    context.withdraw_remote, occasions.where_texts) run on the stops' own tables.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE stop_crew_wanted(officer_id VARCHAR)")
    con.executemany("INSERT INTO stop_crew_wanted VALUES (?)", [[o] for o in sorted(set(officers))])
    gap, r = int(params.max_gap_s * US), params.stop_radius_m
    police = ", ".join(f"'{k}'" for k in POLICE_PLACE_KINDS)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE veh_asg AS
        SELECT a.* FROM assignments a JOIN devices d ON d.device_id = a.device_id
        WHERE d.kind = 'vehicle' AND a.officer_id IN (SELECT officer_id FROM stop_crew_wanted)
    """)
    # A vehicle's assignments to them merged into disjoint spans (spans.joined), so that
    # "a fix while it was assigned" is one as-of join (the latest span starting at or
    # before the fix).
    con.register(
        "veh_span_arrow",
        merged(
            fetch(
                con,
                """
        SELECT device_id AS k, start AS s0, "end" AS s1 FROM veh_asg WHERE "end" > start
    """,
            )
        ).rename_columns(["device_id", "start", "end"]),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE veh_span AS SELECT * FROM veh_span_arrow")
    con.unregister("veh_span_arrow")
    con.register("veh_fix_arrow", _while_assigned(con))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE runs0 AS
        WITH f AS (
            SELECT f.device_id, f.time, f.x, f.y,
                   CASE WHEN f.time - lag(f.time) OVER w <= {gap}
                         AND (f.x - lag(f.x) OVER w)^2 + (f.y - lag(f.y) OVER w)^2 <= {r * r}
                        THEN 0 ELSE 1 END AS brk
            FROM veh_fix_arrow f
            WINDOW w AS (PARTITION BY f.device_id ORDER BY f.time, f.x, f.y)
        ), g AS (
            SELECT *, sum(brk) OVER (PARTITION BY device_id ORDER BY time, x, y
                                     ROWS UNBOUNDED PRECEDING) AS grp FROM f
        )
        SELECT device_id, min(time) AS start, max(time) AS "end", median(x) AS x,
               median(y) AS y, count(*) AS n_fixes
        FROM g GROUP BY device_id, grp
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.unregister("veh_fix_arrow")
    # (These runs, and their joining below, are not interval merges (spans.py): a fix or
    # run joins the one before it by its distance from that one, not by overlapping the
    # latest end so far, so they stay window functions over each vehicle's order.)
    # A stray fix (multipath) splits a stop in two: join runs of one vehicle that are at
    # most merge_gap_s apart and whose points lie within twice the radius.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE runs AS
        WITH s AS (
            SELECT *, CASE WHEN start - lag("end") OVER w <= {int(params.merge_gap_s * US)}
                            AND (x - lag(x) OVER w)^2 + (y - lag(y) OVER w)^2 <= {4 * r * r}
                           THEN 0 ELSE 1 END AS brk
            FROM runs0 WHERE n_fixes >= 2  -- single fixes are movement (or strays)
            WINDOW w AS (PARTITION BY device_id ORDER BY start)
        ), g AS (
            SELECT *, sum(brk) OVER (PARTITION BY device_id ORDER BY start
                                     ROWS UNBOUNDED PRECEDING) AS grp FROM s
        )
        SELECT device_id, min(start) AS start, max("end") AS "end",
               sum(x * n_fixes) / sum(n_fixes) AS x, sum(y * n_fixes) / sum(n_fixes) AS y,
               sum(n_fixes) AS n_fixes,
               greatest(max(x) - min(x), max(y) - min(y)) AS extent_m
        FROM g
        GROUP BY device_id, grp
        HAVING max("end") - min(start) >= {int(params.stop_min_s * US)}
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    duty_join = ("JOIN" if params.on_duty_only else "LEFT JOIN") + (
        ' duty d ON d.officer_id = a.officer_id AND d.start < a."end" AND d."end" > a.start'
    )
    # Stops at a police station or custody suite are never unexplained: left out first,
    # so that the crew and tasking joins below see only the others.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE runs_away AS
        SELECT * FROM runs s
        WHERE NOT EXISTS (SELECT 1 FROM places p WHERE p.kind IN ({police})
                          AND sqrt((p.x - s.x)^2 + (p.y - s.y)^2)
                              <= coalesce(p.radius_m, {params.default_place_radius_m})
                                 + {params.premises_buffer_m})
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    # Crew, then their taskings, in steps: each a hash join on the device or officer (in
    # one statement the planner may pair every stop with every task by time alone).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE stop_asg AS
        SELECT s.device_id, s.start, s."end", a.officer_id
        FROM runs_away s JOIN assignments a ON a.device_id = s.device_id
             AND a.start < s."end" AND a."end" > s.start
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stop_crew AS
        SELECT a.device_id, a.start, any_value(a."end") AS "end",
               list(DISTINCT a.officer_id ORDER BY a.officer_id) AS officers,
               coalesce(string_agg(DISTINCT d.officer_id, ', ' ORDER BY d.officer_id),
                        'neither') AS on_duty
        FROM stop_asg a {duty_join}
        GROUP BY a.device_id, a.start
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    # the crew's taskings overlapping the stop: one equi-join per crew member (a
    # list_contains would compare every stop with every task)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE stop_tasked AS
        SELECT c.device_id, c.start,
               sum(DISTINCT least(t.cleared, c."end") - greatest(t.dispatched_at, c.start))
                   AS tasked_us
        FROM (SELECT device_id, start, "end", unnest(officers) AS officer_id
              FROM stop_crew) c
        JOIN tasks t ON t.officer_id = c.officer_id
         AND t.dispatched_at < c."end" AND t.cleared > c.start
        GROUP BY c.device_id, c.start
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE stopw AS
        SELECT 'S' || substr(md5('stop|' || s.device_id || '|' || CAST(s.start AS VARCHAR)), 1, 15)
                   AS occasion_id,
               s.*, c.officers, c.on_duty, list_min(c.officers) AS officer_a,
               list_max(c.officers) AS officer_b, TRUE AS stationary, s.extent_m AS spread_m,
               (s."end" - s.start) / {US}.0 AS stopped_s
        FROM runs_away s JOIN stop_crew c USING (device_id, start)
        LEFT JOIN stop_tasked k USING (device_id, start)
        -- tasking explains the stop unless stop_min_s of it remain untasked (a stop that
        -- ends when the crew is dispatched is still a stop: they moved when called)
        WHERE s."end" - s.start - coalesce(k.tasked_us, 0) >= {int(params.stop_min_s * US)}
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    # The occasions' flags and place in words, on the stops' own tables.
    EVIDENCE.create(con, "stop_evid")
    context.find_flags(con, params, target="stopw", evidence="stop_evid", activity="stop_activity")
    context.withdraw_remote(
        con, params, "stopw", evidence="stop_evid", activity="stop_activity", out="stop_remote_na"
    )
    con.register("stop_place_arrow", occasions.where_texts(con, "stopw", params))
    table = fetch(
        con,
        """
        WITH e AS (
            SELECT occasion_id,
                   list_sort(list(DISTINCT label) FILTER (WHERE kind = 'flag')) AS flags,
                   to_json(list(struct_pack(label := label, kind := kind, detail := detail,
                                            "rows" := "rows") ORDER BY label, detail))
                       AS evidence
            FROM stop_evid GROUP BY occasion_id
        )
        SELECT s.occasion_id AS stop_id, s.device_id, d.label AS vehicle, s.officers,
               s.start, s."end", (s."end" - s.start) / 1e6 AS duration_s, s.x, s.y,
               p.place, p.place_distance_m,
               coalesce(e.flags, []::VARCHAR[]) AS flags,
               coalesce(CAST(e.evidence AS VARCHAR), '[]') AS evidence, s.on_duty, s.n_fixes,
               p.road, p.road_distance_m, p.where_text
        FROM stopw s LEFT JOIN e USING (occasion_id)
        LEFT JOIN stop_place_arrow p USING (occasion_id)
        LEFT JOIN devices d ON d.device_id = s.device_id
        ORDER BY s.device_id, s.start
    """,
    )
    con.unregister("stop_place_arrow")
    x = np.asarray(table.column("x").to_numpy(zero_copy_only=False), float)
    y = np.asarray(table.column("y").to_numpy(zero_copy_only=False), float)
    lat, lon, refs = occasions.wgs84_and_grid(x, y, crs)
    rank = {v: i for i, v in enumerate(FLAGS)}
    cols = {
        "start": to_utc(table.column("start")),
        "end": to_utc(table.column("end")),
        "lat": pa.array(lat, pa.float64()),
        "lon": pa.array(lon, pa.float64()),
        "grid_ref": pa.array(refs, pa.string()),
        "flags": pa.array(
            [sorted(f, key=rank.__getitem__) for f in table.column("flags").to_pylist()],
            pa.list_(pa.string()),
        ),
    }
    arrays = [cols[f.name] if f.name in cols else table.column(f.name) for f in STOPS]
    return pa.Table.from_arrays(
        [a.cast(f.type) for a, f in zip(arrays, STOPS, strict=True)], schema=STOPS
    )


__all__ = ["STOPS", "find_stops", "subject_stops"]
