"""Occasions: officer pairs' co-presence merged like encounters, and where each one was.

An occasion is a maximal run of a pair's co-presence pieces (attribution.py) after joining
pieces at most `merge_gap_s` apart, kept when it lasts at least `min_duration_s`. Its id is
stable: the first 16 hex of the MD5 of "officer_a|officer_b|start microseconds".

Where: both officers' devices are interpolated (linearly, never across a gap longer than
`max_gap_s`) every `sample_s` seconds along the occasion; the occasion's point is the
median of the pair midpoints, its separations the minimum and median device distances.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from whereabouts.analysis.inputs import US, fetch
from whereabouts.analysis.params import AnalysisParams
from whereabouts.tracks.projection import grid_reference, to_wgs84


def build_occasions(con: duckdb.DuckDBPyConnection, params: AnalysisParams) -> None:
    """`occ` (one row per occasion) and `occ_pieces` from `pieces`."""
    merge = int(params.merge_gap_s * US)
    order = 'ORDER BY start, "end", device_a, device_b'
    con.execute(f"""
        CREATE OR REPLACE TABLE occ_pieces_all AS
        WITH s AS (
            SELECT *, CASE WHEN start <= max("end") OVER (PARTITION BY officer_a, officer_b
                       {order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) + {merge}
                       THEN 0 ELSE 1 END AS brk
            FROM pieces
        )
        SELECT *, sum(brk) OVER (PARTITION BY officer_a, officer_b {order}
                                 ROWS UNBOUNDED PRECEDING) AS grp
        FROM s
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE occ AS
        SELECT substr(md5(officer_a || '|' || officer_b || '|' || CAST(min(start) AS VARCHAR)),
                      1, 16) AS occasion_id,
               officer_a, officer_b, grp, min(start) AS start, max("end") AS "end",
               (max("end") - min(start)) / {US}.0 AS duration_s,
               min(min_distance_m) AS period_min_distance_m
        FROM occ_pieces_all GROUP BY officer_a, officer_b, grp
        HAVING max("end") - min(start) >= {int(params.min_duration_s * US)}
    """)
    con.execute("""
        CREATE OR REPLACE TABLE occ_pieces AS
        SELECT o.occasion_id, p.* EXCLUDE (grp, brk)
        FROM occ_pieces_all p JOIN occ o USING (officer_a, officer_b, grp)
    """)


def build_samples(con: duckdb.DuckDBPyConnection, params: AnalysisParams) -> None:
    """`samples(occasion_id, t, ax, ay, bx, b_y, dist, mx, my)` along every occasion, and
    `pts(occasion_id, t, mx, my, dt, stopped)`: one point per instant."""
    step = int(params.sample_s * US)
    gap = int(params.max_gap_s * US)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE occ_devices AS
        SELECT DISTINCT device_a AS device_id FROM occ_pieces
        UNION SELECT DISTINCT device_b FROM occ_pieces
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE fx AS
        SELECT device_id, time, x, y, accuracy_m FROM fixes
        WHERE device_id IN (SELECT device_id FROM occ_devices)
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE samp AS
        SELECT DISTINCT occasion_id, device_a, device_b, t FROM (
            -- one grid for all pieces (multiples of the step), so pieces line up in time
            SELECT occasion_id, device_a, device_b,
                   unnest(range((start + {step} - 1) // {step} * {step}, "end" + 1, {step})) AS t
            FROM occ_pieces)
    """)
    interp = """
        CASE WHEN {p}.time IS NULL OR {n}.time IS NULL THEN NULL
             WHEN {n}.time = {p}.time THEN {p}.{c}
             WHEN {n}.time - {p}.time > {gap} THEN NULL
             ELSE {p}.{c} + ({n}.{c} - {p}.{c}) * (s.t - {p}.time) / ({n}.time - {p}.time)
        END"""

    def pos(p: str, n: str, c: str) -> str:
        return interp.format(p=p, n=n, c=c, gap=gap)

    con.execute(f"""
        CREATE OR REPLACE TABLE samples AS
        WITH j AS (
            SELECT s.occasion_id, s.t,
                   {pos('pa', 'na', 'x')} AS ax, {pos('pa', 'na', 'y')} AS ay,
                   {pos('pb', 'nb', 'x')} AS bx, {pos("pb", "nb", "y")} AS b_y
            FROM samp s
            ASOF LEFT JOIN fx pa ON pa.device_id = s.device_a AND s.t >= pa.time
            ASOF LEFT JOIN fx na ON na.device_id = s.device_a AND s.t <= na.time
            ASOF LEFT JOIN fx pb ON pb.device_id = s.device_b AND s.t >= pb.time
            ASOF LEFT JOIN fx nb ON nb.device_id = s.device_b AND s.t <= nb.time
        )
        SELECT occasion_id, t, ax, ay, bx, b_y, sqrt((ax - bx)^2 + (ay - b_y)^2) AS dist,
               (ax + bx) / 2 AS mx, (ay + b_y) / 2 AS my
        FROM j WHERE ax IS NOT NULL AND bx IS NOT NULL
    """)
    # One point per instant (the mean over device pairs), how long it stands for, and
    # whether the pair was stopped: the midpoint moving slower than stop_speed_mps.
    con.execute(f"""
        CREATE OR REPLACE TABLE pts AS
        WITH p AS (SELECT occasion_id, t, avg(mx) AS mx, avg(my) AS my
                   FROM samples GROUP BY occasion_id, t),
        q AS (SELECT *, lead(t) OVER w AS nt, lead(mx) OVER w AS nx, lead(my) OVER w AS ny
              FROM p WINDOW w AS (PARTITION BY occasion_id ORDER BY t))
        SELECT occasion_id, t, mx, my,
               CASE WHEN nt IS NULL THEN 0 ELSE least(nt - t, {gap}) END AS dt,
               coalesce(sqrt((nx - mx)^2 + (ny - my)^2) * {US} / (nt - t)
                        < {params.stop_speed_mps}, FALSE) AS stopped
        FROM q
    """)


def describe_occasions(con: duckdb.DuckDBPyConnection, params: AnalysisParams) -> None:
    """Add where, separation, movement and sampling to `occ` (as `occw`).

    Stationary: stopped (midpoint slower than `stop_speed_mps`) for at least
    `stationary_share` of the sampled time."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE occ_geo AS
        SELECT occasion_id, median(mx) AS x, median(my) AS y, min(dist) AS sample_min_m,
               median(dist) AS median_separation_m, count(*) AS n_samples
        FROM samples GROUP BY occasion_id
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE occ_spread AS
        SELECT s.occasion_id,
               quantile_cont(sqrt((s.mx - g.x)^2 + (s.my - g.y)^2), 0.9) AS spread_m
        FROM samples s JOIN occ_geo g USING (occasion_id) GROUP BY s.occasion_id
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE occ_motion AS
        SELECT occasion_id, sum(dt) / {US}.0 AS sampled_s,
               sum(dt) FILTER (WHERE stopped) / {US}.0 AS stopped_s
        FROM pts GROUP BY occasion_id
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE occ_dev AS
        SELECT DISTINCT occasion_id, device_a AS device_id FROM occ_pieces
        UNION SELECT DISTINCT occasion_id, device_b FROM occ_pieces
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE occ_fixes AS
        WITH f AS (
            SELECT d.occasion_id, f.device_id, f.time, f.accuracy_m,
                   f.time - lag(f.time) OVER (PARTITION BY d.occasion_id, f.device_id
                                              ORDER BY f.time) AS gap
            FROM occ_dev d JOIN occ o USING (occasion_id)
            JOIN fx f ON f.device_id = d.device_id AND f.time BETWEEN o.start AND o."end"
        )
        SELECT occasion_id, count(*) AS n_fixes, count(DISTINCT device_id) AS n_devices,
               median(accuracy_m) AS position_error_m, max(gap) / {US}.0 AS max_fix_gap_s
        FROM f GROUP BY occasion_id
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE occw AS
        SELECT o.*, g.x, g.y,
               least(o.period_min_distance_m, g.sample_min_m) AS min_separation_m,
               g.median_separation_m, coalesce(sp.spread_m, 0) AS spread_m,
               coalesce(m.stopped_s, 0) AS stopped_s,
               coalesce(m.stopped_s, 0) >= {params.stationary_share} * greatest(m.sampled_s, 1)
                   AS stationary,
               coalesce(f.n_fixes, 0) AS n_fixes,
               coalesce(f.n_fixes, 0) * 3600.0 / greatest(o.duration_s, 1)
                   / greatest(coalesce(f.n_devices, 1), 1) AS fixes_per_hour,
               f.position_error_m, f.max_fix_gap_s
        FROM occ o LEFT JOIN occ_geo g USING (occasion_id)
        LEFT JOIN occ_spread sp USING (occasion_id)
        LEFT JOIN occ_fixes f USING (occasion_id)
        LEFT JOIN occ_motion m USING (occasion_id)
    """)


def place_names(con: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
    """Nearest recorded place (name or id; homes are left to the home flag) and its distance."""
    return fetch(con, f"""
        SELECT t.occasion_id, arg_min(coalesce(p.name, p.place_id),
                                      sqrt((p.x - t.x)^2 + (p.y - t.y)^2)) AS place,
               min(sqrt((p.x - t.x)^2 + (p.y - t.y)^2)) AS place_distance_m
        FROM {table} t JOIN places p ON t.x IS NOT NULL AND p.kind <> 'home'
        GROUP BY t.occasion_id
    """)


def wgs84_and_grid(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray,
                                                                      list[str]]:
    """lat, lon and OS grid references (blank outside Great Britain or unknown)."""
    lat, lon = to_wgs84(x, y, crs)
    bng = crs.upper() == "EPSG:27700"
    # One call per occasion (not per fix): grid references are text.
    refs = [grid_reference(a, b) if bng and np.isfinite(a) and np.isfinite(b) else ""
            for a, b in zip(x.tolist(), y.tolist(), strict=True)]
    return lat, lon, refs


__all__ = ["build_occasions", "build_samples", "describe_occasions", "place_names",
           "wgs84_and_grid"]
