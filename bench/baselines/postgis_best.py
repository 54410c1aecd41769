"""Baseline: PostGIS at its best (issue 20).

Segments between consecutive fixes at most max_gap apart, as 2-D LINESTRINGs repeated once
per 120 s time bucket they touch; a GiST index on (bucket, geom) (btree_gist); a self-join
on the bucket with `ST_DWithin`, each pair kept only in the bucket of the later of the two
segment starts (so once); the exact within-distance sub-interval of each pair from the
relative-motion quadratic in SQL; encounters by a gaps-and-islands window query. Loading the
input (COPY) and building the table and index are included in the time.

Runs on the throwaway cluster of `postgis_baseline.Cluster` (initdb in a temporary folder,
fsync off, jit off).
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

BUCKET_S = 120.0

SETUP = """
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;
DROP TABLE IF EXISTS fixes, segb;
CREATE UNLOGGED TABLE fixes (dev text, t double precision, x double precision,
                             y double precision)
"""

BUILD = """
CREATE UNLOGGED TABLE segb AS
SELECT dev, t0, t1, x0, y0, x1, y1,
       ST_SetSRID(ST_MakeLine(ST_MakePoint(x0, y0), ST_MakePoint(x1, y1)), 27700) AS geom,
       generate_series(floor(t0 / {bucket})::int, floor(t1 / {bucket})::int) AS bucket
FROM (SELECT DISTINCT ON (dev, t) dev, t AS t0, x AS x0, y AS y0,
             lead(t) OVER w AS t1, lead(x) OVER w AS x1, lead(y) OVER w AS y1
      FROM fixes WINDOW w AS (PARTITION BY dev ORDER BY t)) s
WHERE t1 IS NOT NULL AND t1 > t0 AND t1 - t0 <= {gap};
CREATE INDEX segb_gist ON segb USING gist (bucket, geom);
ANALYZE segb
"""

QUERY = """
WITH c AS (
  SELECT a.dev AS da, b.dev AS db, greatest(a.t0, b.t0) AS lo, least(a.t1, b.t1) AS hi,
         a.x0 + (a.x1 - a.x0) / (a.t1 - a.t0) * (greatest(a.t0, b.t0) - a.t0)
           - b.x0 - (b.x1 - b.x0) / (b.t1 - b.t0) * (greatest(a.t0, b.t0) - b.t0) AS rx,
         a.y0 + (a.y1 - a.y0) / (a.t1 - a.t0) * (greatest(a.t0, b.t0) - a.t0)
           - b.y0 - (b.y1 - b.y0) / (b.t1 - b.t0) * (greatest(a.t0, b.t0) - b.t0) AS ry,
         (a.x1 - a.x0) / (a.t1 - a.t0) - (b.x1 - b.x0) / (b.t1 - b.t0) AS vx,
         (a.y1 - a.y0) / (a.t1 - a.t0) - (b.y1 - b.y0) / (b.t1 - b.t0) AS vy
  FROM segb a JOIN segb b
    ON a.bucket = b.bucket
   AND a.dev < b.dev
   AND ST_DWithin(a.geom, b.geom, %(d)s)
   AND a.t0 <= b.t1 AND b.t0 <= a.t1
   AND floor(greatest(a.t0, b.t0) / {bucket})::int = a.bucket
), q AS (
  SELECT da, db, lo, hi, vx * vx + vy * vy AS qa, 2 * (rx * vx + ry * vy) AS qb,
         rx * rx + ry * ry - %(d)s * %(d)s AS qc FROM c
), p AS (
  SELECT da, db,
         CASE WHEN qa < 1e-12 THEN lo
              ELSE greatest(lo, lo + (-qb - sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)) END AS s,
         CASE WHEN qa < 1e-12 THEN hi
              ELSE least(hi, lo + (-qb + sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)) END AS e
  FROM q
  WHERE (qa < 1e-12 AND qc <= 0) OR (qa >= 1e-12 AND qb * qb - 4 * qa * qc >= 0)
), v AS (
  SELECT * FROM p WHERE s <= e
), g AS (
  SELECT da, db, s, e,
         CASE WHEN s <= max(e) OVER (PARTITION BY da, db ORDER BY s, e ROWS BETWEEN
                                     UNBOUNDED PRECEDING AND 1 PRECEDING) + %(merge)s
              THEN 0 ELSE 1 END AS brk
  FROM v
), i AS (
  SELECT da, db, s, e, sum(brk) OVER (PARTITION BY da, db ORDER BY s, e) AS grp FROM g
)
SELECT da, db, min(s) AS s, max(e) AS e FROM i GROUP BY da, db, grp
HAVING max(e) - min(s) >= %(mindur)s
ORDER BY da, db, s
"""


def encounters(
    dsn: str,
    path: str,
    distance_m: float,
    max_gap_s: float,
    merge_gap_s: float,
    min_duration_s: float,
) -> list[tuple[str, str, float, float]]:
    """(device_a, device_b, start s, end s) of every encounter, via PostGIS at its best."""
    import psycopg

    t = pq.read_table(path, columns=["device_id", "time", "x", "y"])
    t = pa.table(
        {
            "dev": t["device_id"],
            "t": pc.divide(t["time"].cast(pa.int64()).cast(pa.float64()), 1e6),
            "x": t["x"],
            "y": t["y"],
        }
    )
    buf = io.BytesIO()
    pacsv.write_csv(t, buf, pacsv.WriteOptions(include_header=False))
    with psycopg.connect(dsn, autocommit=True) as con:
        for statement in SETUP.split(";"):
            con.execute(statement.encode())
        with con.cursor().copy("COPY fixes FROM STDIN (FORMAT csv)") as copy:
            copy.write(buf.getvalue())
        for statement in BUILD.format(gap=float(max_gap_s), bucket=BUCKET_S).split(";"):
            con.execute(statement.encode())
        rows = con.execute(
            QUERY.format(bucket=BUCKET_S).encode(),
            {"d": distance_m, "merge": merge_gap_s, "mindur": min_duration_s},
        ).fetchall()
    return [(str(a), str(b), float(s), float(e)) for a, b, s, e in rows]
