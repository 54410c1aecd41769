"""What the force's records cover: the area (`register_area`) and the days of its logs
(`LogDays`, `register_log_days`), as the reasons and flags judge whether their inputs
could assess an occasion.

- A log — the incident log, the attachments, the vehicle assignments — covers the UTC days
  from its first record's to its last record's, except a day strictly between them holding
  fewer records than `log_day_min_share` of its median day's, and fewer than one: a gap
  such as a CAD outage. The first and last days are partial by nature (a log starts and
  ends within a day), so only the days between are judged by their count.
- The area the records cover: inside a duty area's boundary, or within `premises_area_m`
  of a recorded police station, custody suite or incident. A point far from all of them
  may lie beyond the force's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from whereabouts.analysis.inputs import US, fetch
from whereabouts.analysis.params import AnalysisParams
from whereabouts.schema import POLICE_PLACE_KINDS

DAY = 86_400 * US
OUTSIDE = "outside the area the force's records cover"


def quoted(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def day_text(day: int) -> str:
    """A day (whole days since 1970-01-01 UTC) as YYYY-MM-DD."""
    return datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")


def day_rule(share: float) -> str:
    """The rule for a day covered by a log, in words (`LogDays`)."""
    return (
        f"a log covers the UTC days from its first record's to its last record's, "
        f"except a day in between with fewer records than {share:g} of its median "
        f"day's (and at least one) — a gap in the records such as a system outage"
    )


@dataclass(frozen=True)
class LogDays:
    """Which UTC days a log of records covers (days as whole days since 1970-01-01; the
    module says the rule). A record of an interval (an assignment) counts on every day it
    overlaps."""

    lo: int | None  # first covered day; None when the log is empty
    hi: int | None  # last
    uncovered: np.ndarray  # int64 days between lo and hi that it does not cover, sorted
    median: float  # records on the median day from lo to hi

    @classmethod
    def of(cls, start_us: np.ndarray, end_us: np.ndarray | None = None, *, share: float) -> LogDays:
        """The days covered by records at `start_us` (µs; or spans to `end_us`)."""
        s = np.asarray(start_us, np.int64)
        if not len(s):
            return cls(None, None, np.zeros(0, np.int64), 0.0)
        first = s // DAY
        last = (
            first
            if end_us is None
            else np.maximum((np.asarray(end_us, np.int64) - 1) // DAY, first)
        )
        lo, hi = int(first.min()), int(last.max())
        # records per day: +1 from a record's first day, -1 after its last (a running sum)
        steps = np.bincount(first - lo, minlength=hi - lo + 2) - np.bincount(
            last - lo + 1, minlength=hi - lo + 2
        )
        per_day = np.cumsum(steps)[: hi - lo + 1]
        median = float(np.median(per_day))
        low = per_day < max(1.0, share * median)
        low[0] = low[-1] = False
        return cls(lo, hi, (np.flatnonzero(low) + lo).astype(np.int64), median)

    def days_text(self, start_us: int, end_us: int) -> list[str]:
        """The uncovered days in [start_us, end_us), as YYYY-MM-DD."""
        d = self.uncovered
        d = d[(d >= start_us // DAY) & (d <= (end_us - 1) // DAY)]
        return [day_text(int(x)) for x in d]


# The logs whose days an occasion needs (`register_log_days`): the times of their records.
LOGS = {
    "incidents": "SELECT created_at AS t0, NULL::BIGINT AS t1 FROM incidents",
    "attachments": "SELECT dispatched_at AS t0, NULL::BIGINT AS t1 FROM attachments",
    "vehicles": 'SELECT g.start AS t0, g."end" AS t1 FROM assignments g '
    "JOIN devices d USING (device_id) WHERE d.kind = 'vehicle'",
}


def register_log_days(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, logs: tuple[str, ...] = tuple(LOGS)
) -> None:
    """`log_span(log, lo, hi, n)` and `gap_days(log, day)` of `logs` (names in `LOGS`): the
    first and last UTC day each covers (null when empty), its rows, and the days between
    that it does not cover (`LogDays` at `log_day_min_share`)."""
    spans: list[tuple[str, int | None, int | None, int]] = []
    gaps: list[tuple[str, int]] = []
    for name in logs:
        t = fetch(con, f"SELECT * FROM ({LOGS[name]}) WHERE t0 IS NOT NULL")  # noqa: S608  # our own SQL
        t0 = t.column("t0").to_numpy()
        t1 = np.asarray(pc.coalesce(t.column("t1"), t.column("t0")).to_numpy(), np.int64)
        days = LogDays.of(t0, t1 if name == "vehicles" else None, share=params.log_day_min_share)
        spans.append((name, days.lo, days.hi, t.num_rows))
        gaps.extend((name, int(d)) for d in days.uncovered)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE log_span(log VARCHAR, lo BIGINT, hi BIGINT, n BIGINT)"
    )
    con.executemany("INSERT INTO log_span VALUES (?, ?, ?, ?)", spans)
    con.execute("CREATE OR REPLACE TEMP TABLE gap_days(log VARCHAR, day BIGINT)")
    if gaps:
        con.executemany("INSERT INTO gap_days VALUES (?, ?)", gaps)


def log_misses(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str, logs: tuple[str, ...]
) -> str:
    """A query of `(occasion_id, log, n, day)`: for each occasion of `target` and each of
    `logs` that does not cover one of its UTC days, the first such day (n: the log's rows;
    0 when none was provided)."""
    register_log_days(con, params, logs)
    names = ", ".join(quoted(x) for x in logs)
    return f"""
        WITH od AS (
            SELECT occasion_id, unnest(generate_series(start // {DAY}, ("end" - 1) // {DAY}))
                   AS day FROM {target}
        )
        SELECT od.occasion_id, s.log, s.n, min(od.day) AS day
        FROM od CROSS JOIN log_span s
        LEFT JOIN gap_days g ON g.log = s.log AND g.day = od.day
        WHERE s.log IN ({names})
          AND (s.n = 0 OR od.day < s.lo OR od.day > s.hi OR g.day IS NOT NULL)
        GROUP BY ALL"""  # noqa: S608  # relation names and numbers of the analysis, no input text


def register_area(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str, name: str
) -> None:
    """`name(occasion_id, inside)`: whether each located occasion (or stop) of `target` lies
    in the area the force's records cover (the module says the rule)."""
    police = ", ".join(quoted(k) for k in POLICE_PLACE_KINDS)
    pts = fetch(
        con,
        f"SELECT occasion_id, x::DOUBLE AS x, y::DOUBLE AS y FROM {target} "  # noqa: S608  # relation names of the analysis
        "WHERE x IS NOT NULL AND y IS NOT NULL",
    )
    x, y = pts.column("x").to_numpy(), pts.column("y").to_numpy()
    inside = np.zeros(len(x), bool)
    known = fetch(
        con,
        f"""
        SELECT DISTINCT x::DOUBLE AS x, y::DOUBLE AS y FROM (
            SELECT x, y FROM places WHERE kind IN ({police})
            UNION ALL SELECT x, y FROM incidents) WHERE x IS NOT NULL AND y IS NOT NULL""",  # noqa: S608  # our own words
    )
    if known.num_rows and len(x):
        tree = shapely.STRtree(
            shapely.points(known.column("x").to_numpy(), known.column("y").to_numpy())
        )
        # the nearest known point and its distance, then the reach (inclusive, as
        # query_nearest's max_distance): the same points, but GEOS gathers every point
        # within a max_distance of 5 km before it chooses (13x slower here)
        (at, _), metres = tree.query_nearest(
            shapely.points(x, y), return_distance=True, all_matches=False
        )
        inside[at[metres <= params.premises_area_m]] = True
    wkb = fetch(con, "SELECT geometry_wkb FROM areas").column("geometry_wkb").to_pylist()
    if wkb and len(x) and not inside.all():
        areas = shapely.union_all(shapely.make_valid(shapely.from_wkb(wkb)))
        shapely.prepare(areas)
        rest = ~inside
        inside[rest] = shapely.intersects_xy(areas, x[rest], y[rest])
    con.register(
        f"{name}_arrow",
        pa.table({"occasion_id": pts.column("occasion_id"), "inside": pa.array(inside)}),
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")  # noqa: S608  # relation names of the analysis
    con.unregister(f"{name}_arrow")


__all__ = [
    "DAY",
    "LOGS",
    "OUTSIDE",
    "LogDays",
    "day_rule",
    "day_text",
    "log_misses",
    "quoted",
    "register_area",
    "register_log_days",
]
