"""Context flags of an occasion, each with its measured basis.

- home: the occasion's point within a home's radius (`radius_m`, else
  `default_place_radius_m`) plus `home_buffer_m`; the evidence says whose home;
- remote: `AnalysisParams.remote_rule()` — little policing activity nearby (at most
  `remote_max_incidents` raised within `remote_incident_radius_m` per `remote_lookback_days`
  before it) and away from built-up places (no recorded non-home place within
  `remote_place_distance_m`);
- outside_area: the point lies outside the area of an officer's duty at the time;
- stationary: stopped together (midpoint slower than `stop_speed_mps`) for at least
  `stationary_share` of the occasion.
On duty is a text column naming which of the two were on the roster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from whereabouts.analysis.extent import (
    DAY,
    OUTSIDE,
    quoted,
    register_area,
    register_local_days,
    register_log_days,
)
from whereabouts.analysis.inputs import US, fetch
from whereabouts.analysis.params import AnalysisParams
from whereabouts.analysis.pipeline import (
    ACTIVITY,
    EVIDENCE,
    REMOTE_NOT_ASSESSED,
    Analysis,
    Relation,
    StepError,
)


@dataclass(frozen=True)
class Scope:
    """Where the flags' rules read and write: `flagged`, the occasions checked for home and
    remote; `detail`, those checked for stationary and outside_area (a table or view of the
    same columns); `evidence`, the table of `evid`'s columns their rows go to; `activity`
    and `remote_na`, the remote rule's measure and what it could not assess."""

    flagged: str
    detail: str
    evidence: str = "evid"
    activity: str = "activity"
    remote_na: str = "remote_na"

    def own(self, rel: Relation) -> Relation:
        """`rel`, a relation the labelling's rules write (evid, activity, remote_na), under
        this scope's name for it."""
        names = {
            EVIDENCE.name: self.evidence,
            ACTIVITY.name: self.activity,
            REMOTE_NOT_ASSESSED.name: self.remote_na,
        }
        return Relation(names.get(rel.name, rel.name), rel.columns)


Rule = Callable[[duckdb.DuckDBPyConnection, AnalysisParams, Scope], None]
Unassessable = Callable[[duckdb.DuckDBPyConnection, AnalysisParams, Scope], str | None]


@dataclass(frozen=True)
class FlagRule:
    """One context flag, declared once: its code (a `vocabulary.Term` of FLAG_TERMS),
    `find` (inserts its rows, kind 'flag', into `scope.evidence`), `unassessable` (a query
    of `(occasion_id, why)` for the occasions its inputs cannot judge, or None when it is
    always assessable; it may first withdraw the flags found there), the inputs it reads,
    whether it is checked for the occasions described in full only (`detail`), and the
    relations it leaves besides its rows (`writes`, under the labelling's names: a scope
    names its own, `Scope.own`)."""

    code: str
    find: Rule
    unassessable: Unassessable
    inputs: tuple[str, ...]
    detail_only: bool = False
    writes: tuple[Relation, ...] = ()


def find_flags(
    con: duckdb.DuckDBPyConnection,
    params: AnalysisParams,
    target: str = "occw",
    detail: str | None = None,
    *,
    evidence: str = "evid",
    activity: str = "activity",
) -> None:
    """Insert flag evidence rows for every occasion of `target` into `evidence` (a table of
    the columns of `evid`): home and remote for all of them; stationary and outside_area
    for those of `detail` (a table or view of the same columns; default `target`). The
    remote rule's measure per occasion goes to the table `activity` (withdraw_remote reads
    it). The stops use the same rules on their own tables (stops.find_stops). Each rule
    adds rows of its own code only (StepError otherwise)."""
    at = Scope(target, detail or target, evidence, activity)
    for rule in FLAG_RULES.values():
        before = _flag_counts(con, at)
        rule.find(con, params, at)
        _check_own_rows(con, at, rule, before)


def flag_steps(
    analysis: Analysis, params: AnalysisParams, target: str, detail: str | None = None
) -> None:
    """find_flags as declared steps of `analysis`, one per rule (`flag home`, ...): each
    reads its occasions (`target`, or `detail` for a rule of `detail_only`) and `evid`
    (relations declared earlier), leaves `evid` and the relations it declares
    (`FlagRule.writes`) with their declared columns, and adds rows of its own code, kind
    'flag', only (StepError otherwise)."""
    at = Scope(target, detail or target)
    for rule in FLAG_RULES.values():
        occasions = at.detail if rule.detail_only else at.flagged
        before = _flag_counts(analysis.con, at)
        analysis.step(
            f"flag {rule.code}",
            partial(_run, rule.find, params, at),
            reads=tuple(
                analysis.declared.get(name, Relation(name)) for name in (occasions, at.evidence)
            ),
            writes=(at.own(EVIDENCE), *(at.own(r) for r in rule.writes)),
        )
        _check_own_rows(analysis.con, at, rule, before)


def _run(find: Rule, params: AnalysisParams, at: Scope, con: duckdb.DuckDBPyConnection) -> None:
    find(con, params, at)


def _flag_counts(con: duckdb.DuckDBPyConnection, at: Scope) -> dict[tuple[str, str], int]:
    """Rows of the scope's evidence per (label, kind)."""
    rows = con.execute(
        f"SELECT label, kind, count(*) FROM {at.evidence} GROUP BY label, kind"  # noqa: S608  # a relation name of the analysis
    ).fetchall()
    return {(str(label), str(kind)): int(n) for label, kind, n in rows}


def _check_own_rows(
    con: duckdb.DuckDBPyConnection, at: Scope, rule: FlagRule, before: dict[tuple[str, str], int]
) -> None:
    """Stop a rule that changed rows of the evidence other than its own flags."""
    after = _flag_counts(con, at)
    stray = sorted(
        k
        for k in set(before) | set(after)
        if k != (rule.code, "flag") and before.get(k) != after.get(k)
    )
    if stray:
        label, kind = stray[0]
        raise StepError(
            f"flag {rule.code} wrote rows to {at.evidence} labelled {label} (kind {kind})",
            hint="a flag rule adds rows of its own code, kind 'flag', only",
        )


def _home(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: Scope) -> None:
    r = params.default_place_radius_m
    # Homes and points meet in square cells a little wider than the longest reach (a home
    # within reach lies in the point's cell or one of the eight around it): one hash join
    # on the cell, then the distance decides, not every point against every home. A point
    # or home without finite coordinates is within no reach.
    reach = f"coalesce(radius_m, {r}) + {params.home_buffer_m}"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE home_places AS
        WITH h AS (SELECT * FROM places WHERE kind = 'home' AND isfinite(x) AND isfinite(y)),
        s AS (SELECT greatest(max({reach}) * 1.01 + 1.0, 1.0) AS size FROM h)
        SELECT h.*, s.size, CAST(floor(h.x / s.size) AS BIGINT) AS cx,
               CAST(floor(h.y / s.size) AS BIGINT) AS cy
        FROM h, s
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE home_cells AS
        SELECT o.occasion_id, o.x, o.y, CAST(floor(o.x / s.size) AS BIGINT) + dx AS cx,
               CAST(floor(o.y / s.size) AS BIGINT) + dy AS cy
        FROM {at.flagged} o, (SELECT any_value(size) AS size FROM home_places) s,
             range(-1, 2) tx(dx), range(-1, 2) ty(dy)
        WHERE isfinite(o.x) AND isfinite(o.y) AND s.size IS NOT NULL
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.execute(f"""
        INSERT INTO {at.evidence}
        SELECT o.occasion_id, 'home', 'flag',
               'at the home of ' || coalesce(p.owner_officer_id, 'an unknown officer')
                   || ' (place ' || p.place_id || '), '
                   || CAST(round(sqrt((p.x - o.x)^2 + (p.y - o.y)^2)) AS INTEGER)
                   || ' m from its point (radius '
                   || CAST(round(coalesce(p.radius_m, {r})) AS INTEGER)
                   || ' m + {params.home_buffer_m:.0f} m)',
               [ref('places', p.src_file, p.src_line)]
        FROM home_cells o JOIN home_places p ON p.cx = o.cx AND p.cy = o.cy
         AND sqrt((p.x - o.x)^2 + (p.y - o.y)^2) <= coalesce(p.radius_m, {r}) + {params.home_buffer_m}
        QUALIFY row_number() OVER (PARTITION BY o.occasion_id
                                   ORDER BY (p.x - o.x)^2 + (p.y - o.y)^2, p.place_id) = 1
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.execute("DROP TABLE home_places; DROP TABLE home_cells")


def _remote(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: Scope) -> None:
    remote_activity(con, params, at)
    remote_flags(con, params, at)


def remote_activity(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: Scope) -> None:
    """The remote rule's measure per occasion of `at.flagged` into `at.activity`: incidents
    within the radius in the look-back window, and how much of it the log covers. Reads
    every setting of the rule but `remote_max_incidents` (`remote_flags` applies it)."""
    ri = params.remote_incident_radius_m
    size = ri * 1.01 + 1.0
    look = int(params.remote_lookback_days * 86400 * US)
    register_log_days(con, params, ("incidents",))
    # The look-back window is the days before the occasion; where the incident records
    # begin later than that, it is the first days of the records instead (same length, or
    # all there is), so an occasion early in the data is not called remote for want of data.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {at.activity} AS
        WITH span AS (SELECT min(created_at) AS lo, max(created_at) AS hi FROM incidents),
        w AS (
            SELECT o.occasion_id, o.x, o.y,
                   greatest(o.start - {look}, coalesce(s.lo, o.start - {look})) AS w0,
                   least(greatest(o.start, coalesce(s.lo, 0) + {look}),
                         greatest(o.start, coalesce(s.hi, o.start))) AS w1
            FROM {at.flagged} o, span s WHERE o.x IS NOT NULL
        ),
        -- incidents and points meet in square cells a little wider than the radius (an
        -- incident within it lies in the point's cell or one of the eight around it): one
        -- hash join on the cell, then the distance and the window decide
        inc AS (
            SELECT x, y, created_at, CAST(floor(x / {size}) AS BIGINT) AS cx,
                   CAST(floor(y / {size}) AS BIGINT) AS cy
            FROM incidents WHERE x IS NOT NULL AND y IS NOT NULL
        ), wc AS (
            SELECT w.*, CAST(floor(w.x / {size}) AS BIGINT) + dx AS cx,
                   CAST(floor(w.y / {size}) AS BIGINT) + dy AS cy
            FROM w, range(-1, 2) tx(dx), range(-1, 2) ty(dy)
        ), n AS (
            SELECT wc.occasion_id, count(*) AS n_inc
            FROM wc JOIN inc i ON i.cx = wc.cx AND i.cy = wc.cy
            WHERE (i.x - wc.x)^2 + (i.y - wc.y)^2 <= {ri**2}
              AND i.created_at >= wc.w0 AND i.created_at < wc.w1
            GROUP BY wc.occasion_id
        ), lost AS (
            -- times inside the window that the incident log does not cover (an outage:
            -- its uncovered days and silences, extent.LogDays.lost)
            SELECT w.occasion_id, sum(least(w.w1, g.t1) - greatest(w.w0, g.t0)) AS us
            FROM w JOIN log_lost g ON g.log = 'incidents' AND g.t0 < w.w1 AND g.t1 > w.w0
            GROUP BY w.occasion_id
        )
        SELECT w.occasion_id, w.w0, w.w1, coalesce(n.n_inc, 0) AS n_inc,
               (SELECT min(sqrt((p.x - w.x)^2 + (p.y - w.y)^2)) FROM places p
                 WHERE p.kind <> 'home') AS place_m,
               CAST(w.w1 - w.w0 - coalesce(lost.us, 0) AS BIGINT) AS history_us,
               coalesce(lost.us, 0) / {DAY} AS lost_days
        FROM w LEFT JOIN n USING (occasion_id) LEFT JOIN lost USING (occasion_id)
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text


def remote_flags(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: Scope) -> None:
    """The remote flags into `at.evidence`, from `remote_activity`'s table: an occasion
    with no more incidents than allowed (`remote_max_incidents` over the history the log
    covers) and no place within `remote_place_distance_m`."""
    ri = params.remote_incident_radius_m
    register_local_days(con, at.flagged)

    def local_date(t: str) -> str:
        """The force's local date of time `t` (µs) as YYYY-MM-DD."""
        return (
            f"coalesce((SELECT any_value(d.iso) FROM local_days d WHERE d.t0 <= {t} "  # noqa: S608  # a column name of the analysis
            f"AND {t} < d.t1), strftime(make_timestamp({t}), '%Y-%m-%d'))"
        )

    con.execute(f"""
        INSERT INTO {at.evidence}
        SELECT occasion_id, 'remote', 'flag',
               'rule: {params.remote_rule()}; measured: ' || n_inc || ' incidents within '
                   || '{ri:.0f} m raised ' || {local_date("w0")} || ' to ' || {local_date("w1")}
                   || CASE WHEN lost_days > 0 THEN ', less '
                           || CASE WHEN lost_days = round(lost_days)
                                   THEN CAST(CAST(lost_days AS BIGINT) AS VARCHAR)
                                   ELSE CAST(round(lost_days, 1) AS VARCHAR) END || ' day'
                           || CASE WHEN lost_days = 1 THEN '' ELSE 's' END
                           || ' the incident log does not cover' ELSE '' END || ' (allowed '
                   || CAST(round(allowed, 1) AS VARCHAR) || '), nearest place '
                   || coalesce(CAST(round(place_m) AS INTEGER) || ' m', 'none recorded'),
               []::VARCHAR[]
        FROM (SELECT *, {params.remote_max_incidents} * history_us
                        / {params.remote_lookback_days * 86400 * US} AS allowed
              FROM {at.activity})
        WHERE n_inc <= allowed AND coalesce(place_m, 1e18) > {params.remote_place_distance_m}
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text


def _stationary(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: Scope) -> None:
    con.execute(f"""
        INSERT INTO {at.evidence}
        SELECT occasion_id, 'stationary', 'flag',
               'stopped together (moving under {params.stop_speed_mps:g} m/s) for '
                   || CAST(round(stopped_s / 60) AS INTEGER) || ' of '
                   || CAST(round(("end" - start) / 60e6) AS INTEGER) || ' minutes; positions within '
                   || CAST(round(spread_m) AS INTEGER) || ' m of its point (90th percentile)',
               []::VARCHAR[]
        FROM {at.detail} WHERE stationary AND x IS NOT NULL
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text


def _outside(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: Scope) -> None:
    _outside_area(con, at.detail, at.evidence)


def _outside_area(con: duckdb.DuckDBPyConnection, target: str, evidence: str) -> None:
    # One equi-join per officer of the pair (an IN over both would compare every occasion
    # with every roster entry); a stop's crew of one has officer_a = officer_b, met once.
    side = """SELECT o.occasion_id, d.officer_id, d.area_id, o.x, o.y,
               ref('duty', d.src_file, d.src_line) AS duty_ref
        FROM {target} o JOIN duty d ON d.officer_id = o.{officer}
         AND d.start <= (o.start + o."end") // 2 AND d."end" > (o.start + o."end") // 2
        WHERE d.area_id IS NOT NULL AND o.x IS NOT NULL"""
    rows = fetch(
        con,
        f"""
        SELECT * FROM ({side.format(target=target, officer="officer_a")}
                       UNION ALL {side.format(target=target, officer="officer_b")}
                       AND o.officer_b <> o.officer_a)
        ORDER BY occasion_id, officer_id
    """,  # noqa: S608  # relation names and numbers of the analysis, no input text
    )
    areas = fetch(con, "SELECT area_id, geometry_wkb, src_file, src_line FROM areas")
    if not rows.num_rows or not areas.num_rows:
        return
    ids = areas.column("area_id").to_pylist()
    geoms = shapely.from_wkb(areas.column("geometry_wkb").to_pylist())
    area_of = dict(zip(ids, geoms, strict=True))
    x = rows.column("x").to_numpy()
    y = rows.column("y").to_numpy()
    area_ids = np.asarray(rows.column("area_id").to_pylist(), dtype=object)
    outside = np.zeros(rows.num_rows, bool)
    metres = np.zeros(rows.num_rows)
    for aid in sorted(set(area_ids.tolist()) & set(area_of)):  # one pass per area, not per fix
        sel = area_ids == aid
        outside[sel] = ~shapely.contains_xy(area_of[aid], x[sel], y[sel])
        metres[sel] = shapely.distance(area_of[aid], shapely.points(x[sel], y[sel]))
    if not outside.any():
        return
    out = rows.filter(pa.array(outside)).append_column("metres", pa.array(metres[outside]))
    con.register("outside_arrow", out)
    con.execute(f"""
        INSERT INTO {evidence}
        SELECT occasion_id, 'outside_area', 'flag',
               string_agg(officer_id || ' on duty for area ' || area_id || ', point '
                          || CAST(round(metres) AS INTEGER) || ' m outside it', '; '
                          ORDER BY officer_id),
               list(duty_ref ORDER BY officer_id)
        FROM outside_arrow GROUP BY occasion_id
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.unregister("outside_arrow")


def _home_unassessable(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: Scope) -> str:
    """A home recorded for each officer (a home found is a flag however many are known)."""
    return f"""
        WITH h AS (SELECT DISTINCT owner_officer_id AS officer_id FROM places
                   WHERE kind = 'home' AND owner_officer_id IS NOT NULL),
        miss AS (
            SELECT o.occasion_id, side.officer_id
            FROM {at.flagged} o, LATERAL (SELECT o.officer_a AS officer_id UNION
                                          SELECT o.officer_b) side
            WHERE side.officer_id NOT IN (SELECT officer_id FROM h)
        )
        SELECT o.occasion_id, 'no home recorded for '
               || string_agg(m.officer_id, ' and ' ORDER BY m.officer_id) AS why
        FROM {at.flagged} o JOIN miss m USING (occasion_id)
        GROUP BY o.occasion_id"""  # noqa: S608  # relation names of the analysis, no input text


def _remote_unassessable(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: Scope) -> str:
    """Incident history at that place of at least `remote_min_history_days`, and places
    to judge built-up areas by (the remote flags found without them withdrawn first)."""
    withdraw_remote(
        con, params, at.flagged, evidence=at.evidence, activity=at.activity, out=at.remote_na
    )
    return f"SELECT occasion_id, why FROM {at.remote_na} WHERE why IS NOT NULL"  # noqa: S608  # a relation name


def _outside_unassessable(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: Scope) -> str:
    """For each officer on duty at its middle, the duty's area and its boundary (an
    officer not on duty then has no area to be outside of)."""
    # one equi-join per officer (an IN over both would compare every occasion with every
    # roster entry); an officer met twice (a stop's crew of one) gives the same reason twice,
    # and the reasons are distinct
    side = """SELECT o.occasion_id, d.officer_id, d.area_id
            FROM {target} o JOIN duty d ON d.officer_id = o.{officer}
             AND d.start <= (o.start + o."end") // 2 AND d."end" > (o.start + o."end") // 2"""
    return f"""
        WITH side AS (
            {side.format(target=at.detail, officer="officer_a")}
            UNION ALL {side.format(target=at.detail, officer="officer_b")}
        ), miss AS (
            SELECT occasion_id, CASE WHEN area_id IS NULL
                       THEN 'no duty area recorded for ' || officer_id
                       ELSE 'no boundary of area ' || area_id || ' was provided' END AS why
            FROM side WHERE area_id IS NULL
                         OR area_id NOT IN (SELECT area_id FROM areas)
        )
        SELECT o.occasion_id, string_agg(DISTINCT m.why, '; ' ORDER BY m.why) AS why
        FROM {at.detail} o JOIN miss m USING (occasion_id)
        GROUP BY o.occasion_id"""  # noqa: S608  # relation names of the analysis, no input text


def _always(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: Scope) -> None:
    """The positions alone decide: always assessable."""
    return None


def withdraw_remote(
    con: duckdb.DuckDBPyConnection,
    params: AnalysisParams,
    target: str,
    *,
    evidence: str = "evid",
    activity: str = "activity",
    out: str = "remote_na",
    area: str | None = None,
) -> None:
    """`out(occasion_id, why)`: why the remote rule cannot be assessed for each occasion
    (or stop) of `target` (null where it can); the remote flags found there are withdrawn
    from `evidence`. Needs find_flags' `activity` table of the same target; `area`: the
    table register_area made of it already, if any (else made here)."""
    least = params.remote_min_history_days
    if area is None:
        area = f"{out}_area"
        register_area(con, params, target, area)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {out} AS
        WITH i AS (SELECT count(*) AS n FROM incidents WHERE x IS NOT NULL),
        p AS (SELECT count(*) AS n FROM places WHERE kind <> 'home')
        SELECT o.occasion_id,
               CASE WHEN i.n = 0 THEN 'no incident history was provided'
                    WHEN o.x IS NULL THEN 'the occasion has no position'
                    WHEN NOT coalesce(b.inside, false) THEN {quoted(OUTSIDE)}
                    WHEN coalesce(a.history_us, 0) < {least * DAY}
                        THEN 'only ' || CAST(round(greatest(coalesce(a.history_us, 0), 0)
                                                   / {DAY}, 1) AS VARCHAR)
                             || ' days of incident history (the rule needs at least '
                             || '{least:g})'
                    WHEN p.n = 0 THEN 'no places were provided to judge built-up areas by'
               END AS why
        FROM {target} o CROSS JOIN i CROSS JOIN p
        LEFT JOIN {area} b ON b.occasion_id = o.occasion_id
        LEFT JOIN {activity} a ON a.occasion_id = o.occasion_id
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.execute(
        f"DELETE FROM {evidence} WHERE label = 'remote' AND occasion_id IN "  # noqa: S608  # relation names and numbers of the analysis, no input text
        f"(SELECT occasion_id FROM {out} WHERE why IS NOT NULL)"
    )


# The context flags, in the order they are found; each judged assessable by its own rule.
FLAG_RULES: dict[str, FlagRule] = {
    r.code: r
    for r in (
        FlagRule("home", _home, _home_unassessable, ("places",)),
        FlagRule(
            "remote",
            _remote,
            _remote_unassessable,
            ("incidents", "places", "areas"),
            writes=(ACTIVITY,),
        ),
        FlagRule("stationary", _stationary, _always, ("fixes",), detail_only=True),
        FlagRule(
            "outside_area", _outside, _outside_unassessable, ("duty", "areas"), detail_only=True
        ),
    )
}


def on_duty(con: duckdb.DuckDBPyConnection, target: str = "occw") -> pa.Table:
    """Which of the two officers were rostered on duty during each occasion."""
    side = """SELECT o.occasion_id, d.officer_id FROM {target} o JOIN duty d
        ON d.officer_id = o.{officer} AND d.start < o."end" AND d."end" > o.start"""
    return fetch(
        con,
        f"""
        WITH d AS ({side.format(target=target, officer="officer_a")}
                   UNION ALL {side.format(target=target, officer="officer_b")})
        SELECT o.occasion_id,
               coalesce(string_agg(DISTINCT d.officer_id, ', ' ORDER BY d.officer_id), 'neither')
                   AS on_duty
        FROM {target} o LEFT JOIN d USING (occasion_id)
        GROUP BY o.occasion_id
    """,  # noqa: S608  # relation names and numbers of the analysis, no input text
    )


__all__ = [
    "FLAG_RULES",
    "FlagRule",
    "Scope",
    "find_flags",
    "flag_steps",
    "on_duty",
    "withdraw_remote",
]
