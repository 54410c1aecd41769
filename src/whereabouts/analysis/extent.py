"""What the force's records cover: the area (`register_area`) and the days of its logs
(`LogDays`, `register_log_days`), as the reasons and flags judge whether their inputs
could assess an occasion.

- A log — the incident log, the attachments, the vehicle assignments — covers the days
  (the force's local days, in the workspace's time zone) from its first record's to its
  last record's, except a day strictly between them holding fewer records than
  `log_day_min_share` of its median day's, and fewer than one: a gap such as a CAD outage.
  The first and last days are partial by nature (a log starts and ends within a day), so
  only the days between are judged by their count. A log with fewer than 4 records on its
  median day (a sparse or hand-made one) therefore leaves every day without a record
  uncovered: at that rate a quiet day cannot be told from a missing one.
- A silence in the incident log or the attachments — no record (distinct times) where
  the log, at its own rate for those hours of the local day (`expected_records`), would
  have held more than `log_silence_factor` records, and for at least `log_silence_min_h`
  hours — is not covered either, from the record before it to the record after: an outage
  of hours inside a day. A silence that long is most unlikely by chance (a Poisson log at a
  quarter of its rate: e^-12 at the default 48); measured against the rate of those hours,
  a log busy by day and quiet at night is not taken to stop at night. The vehicle
  assignments (spans, not events) have no silences.
- The area the records cover: inside a duty area's boundary, or within `premises_area_m`
  of a recorded police station, custody suite or incident. A point far from all of them
  may lie beyond the force's records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

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
    """A day (whole days since 1970-01-01, a local date) as YYYY-MM-DD."""
    return datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def local_days(timezone: str, lo_us: int, hi_us: int) -> tuple[np.ndarray, np.ndarray]:
    """The local days of `timezone` from the one holding `lo_us` to the one holding
    `hi_us` (days since 1970-01-01 of the local date), and the UTC µs at which each begins,
    with one more start after the last (day i is [starts[i], starts[i + 1])). Exact under
    daylight saving: each day begins at its local midnight (or, where a change of clocks
    skips midnight, at the first local time there is)."""
    zone = ZoneInfo(timezone)
    first = datetime.fromtimestamp(lo_us / US, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(hi_us / US, zone).date() + timedelta(days=1)
    days = np.arange(first.toordinal(), last.toordinal() + 2, dtype=np.int64)
    starts = np.array(
        [
            int(datetime.combine(date.fromordinal(int(d)), datetime.min.time(), zone).timestamp())
            * US
            for d in days
        ],
        np.int64,
    )
    return days[:-1] - EPOCH_ORDINAL, starts


def local_day(t_us: np.ndarray, timezone: str) -> np.ndarray:
    """The local day (days since 1970-01-01 of the local date) of each time (µs UTC)."""
    t = np.asarray(t_us, np.int64)
    if not len(t):
        return np.zeros(0, np.int64)
    days, starts = local_days(timezone, int(t.min()), int(t.max()))
    return days[np.searchsorted(starts, t, side="right") - 1]


def local_time_text(t_us: int, timezone: str) -> str:
    """A time as '26 Jan 2026 14:05 GMT' in the force's time zone."""
    return datetime.fromtimestamp(t_us / US, ZoneInfo(timezone)).strftime("%-d %b %Y %H:%M %Z")


def day_rule(share: float, factor: float = 48.0, min_h: float = 2.0, timezone: str = "UTC") -> str:
    """The rule for a day (and a time) covered by a log, in words (`LogDays`)."""
    return (
        f"a log covers the days ({timezone}) from its first record's to its last record's, "
        f"except a day in between with fewer records than {share:g} of its median "
        f"day's (and at least one) — a gap in the records such as a system outage; so "
        f"in a log with fewer than {1 / share:g} records on its median day (a sparse or "
        f"hand-made one) a day without records is not covered, as a quiet day cannot be "
        f"told from a missing one. Nor does the incident log or the attachments cover a "
        f"silence: no record where, at the log's own rate for those hours of the day, it "
        f"would have held more than {factor:g} records, for at least {min_h:g} hours (an "
        f"outage of hours), from the record before it to the record after"
    )


def expected_records(times: np.ndarray, timezone: str) -> np.ndarray:
    """For each of `times` (µs UTC, sorted, distinct: a log's records), how many records
    the log would hold from its first record to that time at its own rate for each hour of
    the (local) day: its records in each hour of the day divided by the hours of that hour
    of the day from its first record to its last, summed hour by hour (linearly within an
    hour). The difference at the two ends of a gap is the number of records the log would
    have had in it: a log busy by day and quiet at night is not silent at night. (A day of
    25 hours counts its last hour as its 24th.)"""
    _, starts = local_days(timezone, int(times[0]), int(times[-1]))
    index = np.searchsorted(starts, times, side="right") - 1
    hours = np.minimum((times - starts[index]) / (3600 * US), 24.0)
    bins = np.arange(24.0)
    # the time each hour of the day was watched: the first and last days in part
    first = np.clip(bins + 1 - hours[0], 0, 1)
    last = np.clip(hours[-1] - bins, 0, 1)
    whole = index[-1] - index[0] - 1
    watched = (
        first + last + whole
        if whole >= 0
        else np.clip(np.minimum(bins + 1, hours[-1]) - np.maximum(bins, hours[0]), 0, 1)
    )
    counts = np.bincount(np.minimum(hours.astype(np.int64), 23), minlength=24)
    per_hour = np.divide(counts, watched, out=np.zeros(24), where=watched > 0)
    knots = np.concatenate([[0.0], np.cumsum(per_hour)])  # by the end of each hour
    days_before = (index - index[0]).astype(np.float64)
    return np.asarray(days_before * knots[-1] + np.interp(hours, np.arange(25.0), knots))


@dataclass(frozen=True)
class LogDays:
    """Which local days (and times) a log of records covers (days as whole days since
    1970-01-01 of the local date; the module says the rule). A record of an interval (an
    assignment) counts on every day it overlaps."""

    lo: int | None  # first covered day; None when the log is empty
    hi: int | None  # last
    uncovered: np.ndarray  # int64 days between lo and hi that it does not cover, sorted
    median: float  # records on the median day from lo to hi
    # (k, 2) int64 µs: silences, from the record before to the record after; sorted
    silences: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    timezone: str = "UTC"

    @classmethod
    def of(
        cls,
        start_us: np.ndarray,
        end_us: np.ndarray | None = None,
        *,
        share: float,
        timezone: str = "UTC",
        silence: tuple[float, float] | None = None,
    ) -> LogDays:
        """The days covered by records at `start_us` (µs; or spans to `end_us`);
        silence: (log_silence_factor, log_silence_min_h) to find silences (events only)."""
        s = np.asarray(start_us, np.int64)
        if not len(s):
            return cls(None, None, np.zeros(0, np.int64), 0.0, timezone=timezone)
        first = local_day(s, timezone)
        last = (
            first
            if end_us is None
            else np.maximum(
                local_day(np.maximum(np.asarray(end_us, np.int64) - 1, s), timezone), first
            )
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
        quiet = np.zeros((0, 2), np.int64)
        times = s[:0]
        if silence is not None and end_us is None:
            # the distinct times, sorted (a stable sort: fast on the runs of sorted times a
            # log comes in, e.g. the ladder's copies of one log; np.unique sorts from scratch)
            times = np.sort(s, kind="stable")
            times = times[np.r_[True, times[1:] != times[:-1]]]
        if len(times) > 1:
            assert silence is not None
            factor, min_h = silence
            expected = np.diff(expected_records(times, timezone))
            at = np.flatnonzero((np.diff(times) > min_h * 3600 * US) & (expected > factor))
            quiet = np.stack([times[at], times[at + 1]], axis=1)
        return cls(lo, hi, (np.flatnonzero(low) + lo).astype(np.int64), median, quiet, timezone)

    def days_text(self, start_us: int, end_us: int) -> list[str]:
        """The uncovered days in [start_us, end_us), as YYYY-MM-DD."""
        d = self.uncovered
        if len(d):
            span = local_day(np.array([start_us, end_us - 1]), self.timezone)
            d = d[(d >= span[0]) & (d <= span[1])]
        return [day_text(int(x)) for x in d]

    def silence_text(self, k: int) -> str:
        """Silence k in words: '27 Mar 2024 22:31 GMT to 30 Mar 2024 00:12 GMT (no
        record for 49.7 hours)'."""
        a, b = (int(x) for x in self.silences[k])
        return (
            f"{local_time_text(a, self.timezone)} to {local_time_text(b, self.timezone)} "
            f"(no record for {(b - a) / US / 3600:.1f} hours)"
        )

    def silences_text(self, start_us: int, end_us: int) -> list[str]:
        """The silences overlapping [start_us, end_us), in words."""
        q = self.silences
        return [
            self.silence_text(k)
            for k in np.flatnonzero((q[:, 0] < end_us) & (q[:, 1] > start_us)).tolist()
        ]

    def lost(self) -> np.ndarray:
        """(k, 2) µs: the times the log does not cover between its first and last day —
        its uncovered days and silences, merged into disjoint spans, sorted."""
        if self.lo is None:
            return np.zeros((0, 2), np.int64)
        parts = list(self.silences)
        if len(self.uncovered):
            days, starts = local_days(
                self.timezone,
                int(_day_start(self.uncovered.min(), self.timezone)),
                int(_day_start(self.uncovered.max(), self.timezone)),
            )
            i = np.searchsorted(days, self.uncovered)
            parts.extend(np.stack([starts[i], starts[i + 1]], axis=1))
        if not parts:
            return np.zeros((0, 2), np.int64)
        spans = np.array(sorted(map(tuple, parts)), np.int64)
        out = [list(spans[0])]
        for a, b in spans[1:]:
            if a <= out[-1][1]:
                out[-1][1] = max(out[-1][1], b)
            else:
                out.append([a, b])
        return np.array(out, np.int64)


def _day_start(day: int, timezone: str) -> int:
    """The UTC µs at which local day `day` begins."""
    d = date.fromordinal(int(day) + EPOCH_ORDINAL)
    return int(datetime.combine(d, datetime.min.time(), ZoneInfo(timezone)).timestamp()) * US


# The logs whose days an occasion needs (`register_log_days`): the times of their records.
LOGS = {
    "incidents": "SELECT created_at AS t0, NULL::BIGINT AS t1 FROM incidents",
    "attachments": "SELECT dispatched_at AS t0, NULL::BIGINT AS t1 FROM attachments",
    "vehicles": 'SELECT g.start AS t0, g."end" AS t1 FROM assignments g '
    "JOIN devices d USING (device_id) WHERE d.kind = 'vehicle'",
}


def zone_of(con: duckdb.DuckDBPyConnection) -> str:
    """The force's time zone that `Inputs.connect` recorded in `con` (UTC when none)."""
    if not _exists(con, "analysis_zone"):
        return "UTC"
    rows = con.execute("SELECT timezone FROM analysis_zone").fetchall()
    return str(rows[0][0]) if rows else "UTC"


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `con` holds a table of that name."""
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]
    ).fetchall()
    return bool(rows[0][0])


def register_log_days(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, logs: tuple[str, ...] = tuple(LOGS)
) -> dict[str, LogDays]:
    """`log_span(log, lo, hi, n)`, `gap_days(log, day)`, `log_silences(log, t0, t1, why)`
    and `log_lost(log, t0, t1)` of `logs` (names in `LOGS`): the first and last local day
    each covers (null when empty), its rows, the days between that it does not cover, its
    silences and, merged, every time between its first and last day it does not cover
    (`LogDays` at `log_day_min_share`, `log_silence_factor`, `log_silence_min_h`). Made
    once per connection and rule (a later call for the same logs reuses them)."""
    zone = zone_of(con)
    key = f"{zone}|{params.log_day_min_share}|{params.log_silence_factor}|" + (
        f"{params.log_silence_min_h}|{','.join(logs)}"
    )
    if _exists(con, "log_days_key") and con.execute("SELECT key FROM log_days_key").fetchall() == [
        (key,)
    ]:
        return {}
    spans: list[tuple[str, int | None, int | None, int]] = []
    gaps: list[tuple[str, int]] = []
    quiet: list[tuple[str, int, int, str]] = []
    lost: list[tuple[str, int, int]] = []
    out: dict[str, LogDays] = {}
    for name in logs:
        t = fetch(con, f"SELECT * FROM ({LOGS[name]}) WHERE t0 IS NOT NULL")  # noqa: S608  # our own SQL
        t0 = t.column("t0").to_numpy()
        t1 = np.asarray(pc.coalesce(t.column("t1"), t.column("t0")).to_numpy(), np.int64)
        days = LogDays.of(
            t0,
            t1 if name == "vehicles" else None,
            share=params.log_day_min_share,
            timezone=zone,
            silence=(params.log_silence_factor, params.log_silence_min_h),
        )
        out[name] = days
        spans.append((name, days.lo, days.hi, t.num_rows))
        gaps.extend((name, int(d)) for d in days.uncovered)
        quiet.extend(
            (name, int(a), int(b), days.silence_text(k))
            for k, (a, b) in enumerate(days.silences.tolist())
        )
        lost.extend((name, int(a), int(b)) for a, b in days.lost().tolist())
    for table, cols, rows in (
        ("log_span", "log VARCHAR, lo BIGINT, hi BIGINT, n BIGINT", spans),
        ("gap_days", "log VARCHAR, day BIGINT", gaps),
        ("log_silences", "log VARCHAR, t0 BIGINT, t1 BIGINT, why VARCHAR", quiet),
        ("log_lost", "log VARCHAR, t0 BIGINT, t1 BIGINT", lost),
    ):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table}({cols})")
        if rows:
            con.executemany(
                f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})",  # noqa: S608  # our own names
                rows,
            )
    con.execute("CREATE OR REPLACE TEMP TABLE log_days_key AS SELECT ? AS key", [key])
    return out


def register_local_days(con: duckdb.DuckDBPyConnection, target: str) -> None:
    """`local_days(day, t0, t1, text, iso)`: the force's local days (`local_days`) over the
    times of `target` (start, end) and of the logs, each as [t0, t1) µs, '26 Jan 2026' and
    '2026-01-26'. The logs' span is read once per connection (`local_days_logs`: an
    analysis does not change its inputs), and the table is made again only for another
    span (the reasons' and flags' rules ask for it several times over one target)."""
    zone = zone_of(con)
    if not _exists(con, "local_days_logs"):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE local_days_logs AS SELECT min(lo) AS lo,
                       max(hi) AS hi FROM (
                    SELECT min(t0) AS lo, max(coalesce(t1, t0)) AS hi FROM ({LOGS["incidents"]})
                    UNION ALL SELECT min(t0), max(coalesce(t1, t0)) FROM ({LOGS["attachments"]})
                    UNION ALL SELECT min(t0), max(coalesce(t1, t0)) FROM ({LOGS["vehicles"]}))"""  # noqa: S608  # our own SQL
        )
    (row,) = con.execute(
        f"""SELECT min(lo), max(hi) FROM (
                SELECT min(start) AS lo, max("end") AS hi FROM {target}
                UNION ALL SELECT lo, hi FROM local_days_logs)"""  # noqa: S608  # our own SQL
    ).fetchall()
    key = f"{zone}|{row[0]}|{row[1]}"
    if (
        _exists(con, "local_days_key")
        and _exists(con, "local_days")
        and con.execute("SELECT key FROM local_days_key").fetchall() == [(key,)]
    ):
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE local_days"
        "(day BIGINT, t0 BIGINT, t1 BIGINT, text VARCHAR, iso VARCHAR)"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE local_days_key AS SELECT ? AS key", [key])
    if row[0] is None:
        return
    days, starts = local_days(zone, int(row[0]), int(row[1]))
    texts = [date.fromordinal(int(d) + EPOCH_ORDINAL).strftime("%-d %b %Y") for d in days.tolist()]
    con.register(
        "local_days_arrow",
        pa.table(
            {
                "day": days,
                "t0": starts[:-1],
                "t1": starts[1:],
                "text": texts,
                "iso": [day_text(int(d)) for d in days.tolist()],
            }
        ),
    )
    con.execute("INSERT INTO local_days SELECT * FROM local_days_arrow")
    con.unregister("local_days_arrow")


def log_misses(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str, logs: tuple[str, ...]
) -> str:
    """A query of `(occasion_id, log, n, gap)`: for each occasion of `target` and each of
    `logs` that does not cover all of it, the first time it does not cover, in words — a
    local day ('26 Jan 2026') or a silence ('… to … (no record for 5.2 hours)') (n: the
    log's rows; 0 when none was provided)."""
    register_log_days(con, params, logs)
    register_local_days(con, target)
    names = ", ".join(quoted(x) for x in logs)
    return f"""
        WITH od AS (
            SELECT o.occasion_id, d.day, d.t0, d.text
            FROM {target} o JOIN local_days d ON d.t0 < o."end" AND d.t1 > o.start
        ), miss AS (
            SELECT od.occasion_id, s.log, s.n, od.t0 AS from_us, od.text AS gap
            FROM od CROSS JOIN log_span s
            LEFT JOIN gap_days g ON g.log = s.log AND g.day = od.day
            WHERE s.log IN ({names})
              AND (s.n = 0 OR od.day < s.lo OR od.day > s.hi OR g.day IS NOT NULL)
            UNION ALL
            SELECT o.occasion_id, q.log, s.n, greatest(q.t0, o.start) AS from_us, q.why AS gap
            FROM {target} o JOIN log_silences q ON q.t0 < o."end" AND q.t1 > o.start
            JOIN log_span s ON s.log = q.log
            WHERE q.log IN ({names})
        )
        SELECT occasion_id, log, any_value(n) AS n, arg_min(gap, from_us) AS gap
        FROM miss GROUP BY occasion_id, log"""  # noqa: S608  # relation names and numbers of the analysis, no input text


def register_area(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str, name: str
) -> None:
    """`name(occasion_id, inside)`: whether each located occasion (or stop) of `target` lies
    in the area the force's records cover (the module says the rule). A point is judged
    once per connection and reach (`area_seen`: an analysis does not change its inputs),
    so the premises reason and the remote flag, asking for the same occasions, judge them
    once."""
    pts = fetch(
        con,
        f"SELECT occasion_id, x::DOUBLE AS x, y::DOUBLE AS y FROM {target} "  # noqa: S608  # relation names of the analysis
        "WHERE x IS NOT NULL AND y IS NOT NULL",
    )
    x, y = pts.column("x").to_numpy(), pts.column("y").to_numpy()
    reach = float(params.premises_area_m)
    inside = np.zeros(len(x), bool)
    todo = np.ones(len(x), bool)
    if not _exists(con, "area_seen"):
        con.execute("CREATE TEMP TABLE area_seen(x DOUBLE, y DOUBLE, reach DOUBLE, inside BOOLEAN)")
    elif len(x):
        con.register("area_ask", pa.table({"i": np.arange(len(x)), "x": x, "y": y}))
        seen = fetch(
            con,
            "SELECT a.i, s.inside FROM area_ask a JOIN area_seen s "
            "ON s.x = a.x AND s.y = a.y AND s.reach = ?",
            [reach],
        )
        con.unregister("area_ask")
        i = seen.column("i").to_numpy()
        inside[i] = seen.column("inside").to_numpy(zero_copy_only=False)
        todo[i] = False
    if todo.any():
        inside[todo] = _inside(con, reach, x[todo], y[todo])
        con.register(
            "area_new",
            pa.table({"x": x[todo], "y": y[todo], "inside": inside[todo]}),
        )
        con.execute("INSERT INTO area_seen SELECT DISTINCT x, y, ?, inside FROM area_new", [reach])
        con.unregister("area_new")
    con.register(
        f"{name}_arrow",
        pa.table({"occasion_id": pts.column("occasion_id"), "inside": pa.array(inside)}),
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")  # noqa: S608  # relation names of the analysis
    con.unregister(f"{name}_arrow")


def _inside(
    con: duckdb.DuckDBPyConnection, reach: float, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Whether each point lies in the area the force's records cover (`register_area`)."""
    police = ", ".join(quoted(k) for k in POLICE_PLACE_KINDS)
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
        inside[at[metres <= reach]] = True
    wkb = fetch(con, "SELECT geometry_wkb FROM areas").column("geometry_wkb").to_pylist()
    if wkb and len(x) and not inside.all():
        areas = shapely.union_all(shapely.make_valid(shapely.from_wkb(wkb)))
        shapely.prepare(areas)
        rest = ~inside
        inside[rest] = shapely.intersects_xy(areas, x[rest], y[rest])
    return inside


__all__ = [
    "DAY",
    "LOGS",
    "OUTSIDE",
    "LogDays",
    "day_rule",
    "day_text",
    "local_day",
    "local_days",
    "local_time_text",
    "log_misses",
    "quoted",
    "register_area",
    "register_local_days",
    "register_log_days",
    "zone_of",
]
