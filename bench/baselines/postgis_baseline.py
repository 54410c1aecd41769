"""Baseline (b): PostGIS — a segments table with GiST indexes, a time-overlap + ST_DWithin
join, exact sub-intervals from the relative-motion quadratic in SQL, and encounters from a
gaps-and-islands window query. Loading the input into the database is included in the time.

`Cluster` starts a throwaway PostgreSQL cluster (initdb into a temporary folder, as the
postgres user when run as root, port 5499) and removes it afterwards.
"""

from __future__ import annotations

import io
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

PORT = 5499


def pg_bin() -> Path | None:
    """The newest PostgreSQL server binaries with PostGIS installed beside them, if any."""
    root = Path("/usr/lib/postgresql")
    for version in sorted(root.glob("*"), reverse=True):
        share = Path("/usr/share/postgresql") / version.name / "extension"
        if (version / "bin" / "initdb").exists() and list(share.glob("postgis.control")):
            return version / "bin"
    return None


class Cluster:
    """A throwaway PostgreSQL cluster on a Unix socket in a temporary folder."""

    def __init__(self) -> None:
        binary = pg_bin()
        if binary is None:
            raise RuntimeError(
                "PostGIS is not installed: run scripts/setup.sh --bench "
                "(Debian package postgresql-15-postgis-3)"
            )
        self.bin = binary
        self.dir = Path(tempfile.mkdtemp(prefix="wa-pg-"))
        self.user: str | None = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str | Path) -> None:
        cmd = [str(a) for a in args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    def __enter__(self) -> Cluster:
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        data = self.dir / "data"
        self._run(self.bin / "initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
        opts = (
            f"-p {PORT} -k {self.dir} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c jit=off -c shared_buffers=1GB "
            "-c work_mem=512MB -c maintenance_work_mem=1GB -c max_parallel_workers_per_gather=2"
        )
        self._run(
            self.bin / "pg_ctl",
            "-D",
            str(data),
            "-o",
            opts,
            "-w",
            "-l",
            str(self.dir / "log"),
            "start",
        )
        return self

    def dsn(self) -> str:
        return f"host={self.dir} port={PORT} user=postgres dbname=postgres"

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._run(self.bin / "pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


SQL = """
DROP TABLE IF EXISTS fixes, seg;
CREATE UNLOGGED TABLE fixes (dev text, t double precision, x double precision,
                             y double precision);
"""

BUILD = """
CREATE UNLOGGED TABLE seg AS
SELECT dev, t0, t1, x0, y0, x1, y1,
       ST_MakeLine(ST_MakePoint(x0, y0, t0), ST_MakePoint(x1, y1, t1)) AS g3,
       ST_SetSRID(ST_MakeLine(ST_MakePoint(x0, y0), ST_MakePoint(x1, y1)), 27700) AS geom
FROM (SELECT DISTINCT ON (dev, t) dev, t AS t0, x AS x0, y AS y0,
             lead(t) OVER w AS t1, lead(x) OVER w AS x1, lead(y) OVER w AS y1
      FROM fixes WINDOW w AS (PARTITION BY dev ORDER BY t)) s
WHERE t1 IS NOT NULL AND t1 > t0 AND t1 - t0 <= {gap};
CREATE INDEX seg_g3 ON seg USING gist (g3 gist_geometry_ops_nd);
CREATE INDEX seg_geom ON seg USING gist (geom);
ANALYZE seg;
"""

# exact within-distance sub-interval of each candidate segment pair, then encounters
QUERY = """
WITH c AS (
  SELECT a.dev AS da, b.dev AS db, greatest(a.t0, b.t0) AS lo, least(a.t1, b.t1) AS hi,
         a.x0 + (a.x1 - a.x0) / (a.t1 - a.t0) * (greatest(a.t0, b.t0) - a.t0)
           - b.x0 - (b.x1 - b.x0) / (b.t1 - b.t0) * (greatest(a.t0, b.t0) - b.t0) AS rx,
         a.y0 + (a.y1 - a.y0) / (a.t1 - a.t0) * (greatest(a.t0, b.t0) - a.t0)
           - b.y0 - (b.y1 - b.y0) / (b.t1 - b.t0) * (greatest(a.t0, b.t0) - b.t0) AS ry,
         (a.x1 - a.x0) / (a.t1 - a.t0) - (b.x1 - b.x0) / (b.t1 - b.t0) AS vx,
         (a.y1 - a.y0) / (a.t1 - a.t0) - (b.y1 - b.y0) / (b.t1 - b.t0) AS vy
  FROM seg a JOIN seg b
    ON a.dev < b.dev
   AND a.g3 &&& ST_Expand(b.g3, %(d)s, %(d)s, 0)
   AND a.t0 <= b.t1 AND b.t0 <= a.t1
   AND ST_DWithin(a.geom, b.geom, %(d)s)
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
    """(device_a, device_b, start s, end s) of every encounter, via PostGIS."""
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
        con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        for statement in SQL.split(";"):
            if statement.strip():
                con.execute(statement.encode())
        with con.cursor().copy("COPY fixes FROM STDIN (FORMAT csv)") as copy:
            copy.write(buf.getvalue())
        for statement in BUILD.format(gap=float(max_gap_s)).split(";"):
            if statement.strip():
                con.execute(statement.encode())
        rows = con.execute(
            QUERY,
            {
                "d": distance_m,
                "merge": merge_gap_s,
                "mindur": min_duration_s,
            },
        ).fetchall()
    return [(str(a), str(b), float(s), float(e)) for a, b, s, e in rows]
