"""Policing reasons for an occasion, each with its evidence and the time it covers.

- crewed: both officers assigned to one vehicle (covers the shared assignment);
- same_incident: both attached to one incident, the occasion passing within
  `incident_radius_m` of it (covers the latest dispatch to the earliest clearance);
- premises: at a police station or custody suite, within its `radius_m` (else
  `default_place_radius_m`) plus `premises_buffer_m` (covers the instants there);
- shared_duty: both rostered on the same joint duty, e.g. a briefing (covers the overlap);
- one_tasked: only one of them attached to an incident as for same_incident (partial: it
  covers nothing, because one officer's tasking does not say why the other was there).

Each reason's windows go to `rwin`; `coverage` turns them into the occasion's explained and
unexplained seconds. An occasion is *explained* when the reasons leave less than
`min_duration_s` of it uncovered — so a briefing followed by an hour's drive together is
not explained by the briefing.

Each reason is one `ReasonStep` in `STEPS` (its code's words are one `vocabulary.Term`): the
function that finds it, the query of the occasions its inputs cannot assess, the inputs it
reads, whether it explains time. `find_reasons` runs each as a declared step of the
analysis, `assessability.assess` asks each for its unassessable occasions, and the
occasions' order, the report, the web app and the exports word them from the vocabulary:
a new reason is one `ReasonStep` (here, or `register`ed from elsewhere) and one `Term`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.analysis.extent import (
    OUTSIDE,
    log_misses,
    quoted,
    register_area,
)
from whereabouts.analysis.inputs import US, fetch
from whereabouts.analysis.intervals import joined, last_at_or_before, overlapping, sort_by
from whereabouts.analysis.params import JOINT_DUTY_TYPES, AnalysisParams
from whereabouts.analysis.pipeline import (
    DESCRIBED,
    EVIDENCE,
    OCCASION_CODES,
    POINTS,
    REASON_WINDOWS,
    TASKS,
    Analysis,
    Relation,
    StepError,
)
from whereabouts.engine import native
from whereabouts.schema import POLICE_PLACE_KINDS
from whereabouts.vocabulary import REASON_TERMS, Term

Find = Callable[[duckdb.DuckDBPyConnection, AnalysisParams, str], None]
Unassessable = Callable[[duckdb.DuckDBPyConnection, AnalysisParams, str], str]


@dataclass(frozen=True)
class ReasonStep:
    """One policing reason, declared once.

    code: its vocabulary code (a `vocabulary.Term` in REASON_TERMS: its words).
    find(con, params, target): inserts its evidence into `evid` (label = code, kind
      'reason') and, when it `explains`, the windows it covers into `rwin`, for the
      occasions of `target` (columns of DESCRIBED; their instants in `pts`, codes in
      `occ_map`; the officers' taskings in `tasks`).
    unassessable(con, params, target): a query of `(occasion_id, why)`: the occasions of
      `target` its inputs do not cover, and why (an occasion where it was found is
      assessed whatever this says).
    inputs: the canonical tables it reads (and whose coverage `unassessable` judges).
    explains: whether its windows explain time (a partial reason writes none).
    reads: relations of earlier steps it reads besides those every reason may read
      (`BASE`), e.g. `NEAR_TASKS` (made once, by `SHARED`, when some reason reads it).
    """

    code: str
    find: Find
    unassessable: Unassessable
    inputs: tuple[str, ...]
    explains: bool = True
    reads: tuple[Relation, ...] = ()


# What every reason step may read; and what some share, made once before them.
BASE = (DESCRIBED, POINTS, OCCASION_CODES, TASKS, EVIDENCE, REASON_WINDOWS)
NEAR_TASKS = Relation(
    "near_tasks",
    {
        "occasion_id": "VARCHAR",
        "officer_a": "VARCHAR",
        "officer_b": "VARCHAR",
        "o0": "BIGINT",
        "o1": "BIGINT",
        **TASKS.columns,
    },
)


def prepare(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, occasions: str | None = None
) -> None:
    """Macros, the evidence and window tables (`prepare_evidence`), and `tasks`
    (attachments → officers): of every officer, or only the officers of the occasions in
    table `occasions` (every use of `tasks` joins it on an occasion's officers)."""
    prepare_evidence(con)
    # An attachment by device counts for whoever was assigned that device when dispatched.
    among = (
        ""
        if occasions is None
        else f"SELECT officer_a FROM {occasions} UNION SELECT officer_b FROM {occasions}"  # noqa: S608  # relation names and numbers of the analysis, no input text
    )
    only_a = "" if occasions is None else f"AND (a.officer_id IS NULL OR a.officer_id IN ({among}))"
    only_g = "" if occasions is None else f"AND g.officer_id IN ({among})"
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
             AND g.start <= a.dispatched_at AND g."end" > a.dispatched_at {only_g}
        WHERE coalesce(a.officer_id, g.officer_id) IS NOT NULL {only_a}
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text


def prepare_evidence(con: duckdb.DuckDBPyConnection) -> None:
    """The macros `ts` and `ref`, the evidence table `evid` and the windows table `rwin`:
    what the flag rules need (the reasons need `tasks` too: `prepare`)."""
    con.execute("CREATE OR REPLACE MACRO ts(t) AS strftime(make_timestamp(t), '%Y-%m-%d %H:%MZ')")
    con.execute("CREATE OR REPLACE MACRO ref(tbl, f, l) AS tbl || ':' || f || ':' || l")
    con.execute("""
        CREATE TABLE IF NOT EXISTS evid(occasion_id VARCHAR, label VARCHAR, kind VARCHAR,
                                        detail VARCHAR, rows VARCHAR[])
    """)
    con.execute(
        "CREATE OR REPLACE TABLE rwin(occasion_id VARCHAR, label VARCHAR, w0 BIGINT, w1 BIGINT)"
    )


def find_reasons(analysis: Analysis, params: AnalysisParams, target: str = "occw") -> None:
    """Each reason of `STEPS` as a declared step of `analysis`: its rows into `evid`, its
    covered windows into `rwin` (after the relations some of them share, made once)."""
    wanted = {r.name for step in STEPS.values() for r in step.reads}
    for rel, make in SHARED:
        if rel.name in wanted:
            analysis.step(rel.name, partial(_run, make, params, target), reads=BASE, writes=(rel,))
    counts = _label_counts(analysis.con)
    for step in STEPS.values():
        analysis.step(
            f"reason {step.code}",
            partial(_run, step.find, params, target),
            reads=(*BASE, *step.reads),
        )
        # each reason writes rows of its own label only (and windows only if it explains)
        after = _label_counts(analysis.con)
        mine = {(table, step.code) for table in ("evid", "rwin")}
        if not step.explains:
            mine.discard(("rwin", step.code))
        stray = sorted(
            k for k in set(counts) | set(after) if k not in mine and counts.get(k) != after.get(k)
        )
        if stray:
            raise StepError(
                f"reason {step.code} wrote rows to {stray[0][0]} labelled {stray[0][1]}",
                hint="a reason writes rows of its own code only, and windows "
                "only when it explains (explains=True)",
            )
        counts = after
    for name in sorted(wanted):
        analysis.con.execute(f'DROP TABLE IF EXISTS "{name}"')
        analysis.declared.pop(name, None)


def _label_counts(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """Rows of `evid` and `rwin` per label."""
    rows = con.execute(
        "SELECT 'evid', label, count(*) FROM evid GROUP BY label UNION ALL "
        "SELECT 'rwin', label, count(*) FROM rwin GROUP BY label"
    ).fetchall()
    return {(str(t), str(label)): int(n) for t, label, n in rows}


def _run(find: Find, params: AnalysisParams, target: str, con: duckdb.DuckDBPyConnection) -> None:
    find(con, params, target)


def _crewed(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> None:
    # The officers' crews first (two of them assigned one vehicle at overlapping times: a
    # few per shift), then joined to the occasions on both officers: joining an occasion
    # with all its officers' assignments would meet every shift of the period.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE crew_w AS
        WITH held AS (
            SELECT * FROM assignments
            WHERE officer_id IN (SELECT officer_a FROM {target} UNION SELECT officer_b FROM {target})
              AND device_id IN (SELECT device_id FROM devices WHERE kind = 'vehicle')
        ), crew AS (
            SELECT a.officer_id AS oa, b.officer_id AS ob, a.device_id,
                   a.start AS a0, a."end" AS a1, b.start AS b0, b."end" AS b1,
                   a.src_file AS fa, a.src_line AS la, b.src_file AS fb, b.src_line AS lb
            FROM held a JOIN held b ON b.device_id = a.device_id
                 AND a.officer_id <> b.officer_id AND a.start < b."end" AND b.start < a."end"
        )
        SELECT o.occasion_id, c.device_id, d.label,
               greatest(c.a0, c.b0, o.start) AS w0, least(c.a1, c.b1, o."end") AS w1,
               ref('assignments', c.fa, c.la) AS ra, ref('assignments', c.fb, c.lb) AS rb
        FROM {target} o
        JOIN crew c ON c.oa = o.officer_a AND c.ob = o.officer_b
        JOIN devices d ON d.device_id = c.device_id AND d.kind = 'vehicle'
        WHERE least(c.a1, c.b1, o."end") > greatest(c.a0, c.b0, o.start)
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.execute("INSERT INTO rwin SELECT occasion_id, 'crewed', w0, w1 FROM crew_w")
    con.execute("""
        INSERT INTO evid
        SELECT occasion_id, 'crewed', 'reason',
               'both assigned to vehicle ' || device_id || coalesce(' (' || any_value(label) || ')', '')
                   || ', ' || ts(min(w0)) || ' to ' || ts(max(w1)),
               list_sort(list_distinct(list(ra) || list(rb)))
        FROM crew_w GROUP BY occasion_id, device_id
    """)


def _near_tasks(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> None:
    """`near_tasks`: incidents either officer was attached to while the occasion lasted,
    and near it (same_incident and one_tasked read it)."""
    r2 = params.incident_radius_m**2
    # Per side, each occasion with its officer's tasks overlapping it in time
    # (intervals.overlapping: a search per occasion among its officer's tasks, not a join
    # of each occasion with all of them); officer_a < officer_b, so no task is met twice.
    sql = f"""SELECT occasion_id, officer_a, officer_b, start AS o0, "end" AS o1, m.occ
              FROM {target} JOIN occ_map m USING (occasion_id)"""  # noqa: S608  # relation names of the analysis
    occ = fetch(con, sql)
    tasks = fetch(
        con, "SELECT * FROM tasks WHERE dispatched_at IS NOT NULL AND cleared IS NOT NULL"
    )
    names = pc.unique(tasks.column("officer_id").combine_chunks())
    who = np.asarray(pc.fill_null(pc.index_in(tasks.column("officer_id"), value_set=names), -1))
    o0, o1 = (np.asarray(occ.column(c).to_numpy(), np.int64) for c in ("o0", "o1"))
    d0 = np.asarray(tasks.column("dispatched_at").to_numpy(), np.int64)
    d1 = np.asarray(tasks.column("cleared").to_numpy(), np.int64)
    parts = []
    for officer in ("officer_a", "officer_b"):
        mine = pc.fill_null(pc.index_in(occ.column(officer), value_set=names), -1)
        at, row = overlapping(np.asarray(mine, np.int64), o0, o1, who.astype(np.int64), d0, d1)
        side, task = occ.take(pa.array(at, pa.int64())), tasks.take(pa.array(row, pa.int64()))
        parts.append(
            pa.Table.from_arrays(
                [*side.columns, *task.columns], names=[*side.column_names, *task.column_names]
            )
        )
    con.register("near_candidates", pa.concat_tables(parts))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE near_tasks AS
        SELECT * EXCLUDE (occ) FROM near_candidates c
        WHERE EXISTS (SELECT 1 FROM pts s WHERE s.occ = c.occ
                      AND (s.mx - c.x)^2 + (s.my - c.y)^2 <= {r2})
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.unregister("near_candidates")


def _same_incident(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> None:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE same_w AS
        SELECT a.occasion_id, a.incident_id, a.priority, a.created_at, a.inc_ref,
               a.officer_id AS oa, a.dispatched_at AS da, a.cleared AS ca, a.att_ref AS ra,
               b.officer_id AS ob, b.dispatched_at AS db, b.cleared AS cb, b.att_ref AS rb,
               greatest(a.dispatched_at, b.dispatched_at, a.o0) AS w0,
               least(a.cleared, b.cleared, a.o1) AS w1
        FROM near_tasks a JOIN near_tasks b
          ON a.occasion_id = b.occasion_id AND a.incident_id = b.incident_id
         AND a.officer_id = a.officer_a AND b.officer_id = a.officer_b
        WHERE greatest(a.dispatched_at, b.dispatched_at) < least(a.cleared, b.cleared)
    """)
    con.execute(
        "INSERT INTO rwin SELECT occasion_id, 'same_incident', w0, w1 FROM same_w WHERE w1 > w0"
    )
    con.execute("""
        INSERT INTO evid
        SELECT occasion_id, 'same_incident', 'reason',
               'both attached to incident ' || incident_id || ' (priority '
                   || coalesce(CAST(priority AS VARCHAR), '?') || ', raised ' || ts(created_at)
                   || '): ' || oa || ' dispatched ' || ts(da) || ', cleared ' || ts(ca) || '; '
                   || ob || ' dispatched ' || ts(db) || ', cleared ' || ts(cb),
               [inc_ref, ra, rb]
        FROM same_w
        QUALIFY row_number() OVER (PARTITION BY occasion_id, incident_id
                                   ORDER BY da, db, ra, rb) = 1
    """)


def _one_tasked(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> None:
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
                                   ORDER BY t.dispatched_at, t.att_ref) = 1
    """)


def _premises(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> None:
    police = ", ".join(f"'{k}'" for k in POLICE_PLACE_KINDS)
    reach = f"coalesce(radius_m, {params.default_place_radius_m}) + {params.premises_buffer_m}"
    places = fetch(
        con,
        f"""
        SELECT place_id, kind, name, ref('places', src_file, src_line) AS rp, x, y,
               {reach} AS reach,
               CAST(dense_rank() OVER (ORDER BY kind, place_id) - 1 AS BIGINT) AS g
        FROM places WHERE kind IN ({police}) AND x IS NOT NULL AND y IS NOT NULL
        ORDER BY kind, place_id, rp""",  # noqa: S608  # relation names and numbers of the analysis, no input text
    )
    (run_occ, w0, w1), visits = premises_found(
        fetch(con, f"SELECT occ, t, dt, mx, my FROM pts WHERE {_of_target(con, target)}"),  # noqa: S608  # relation names of the analysis
        tuple(places.column(c).to_numpy() for c in ("x", "y", "reach", "g")),
    )
    con.register("prem_runs", pa.table({"occ": run_occ, "w0": w0, "w1": w1}))
    con.execute("""INSERT INTO rwin SELECT m.occasion_id, 'premises', r.w0, r.w1
                   FROM prem_runs r JOIN occ_map m USING (occ)""")
    con.unregister("prem_runs")
    con.register("prem_visits", visits)
    con.register(
        "prem_places",
        places.append_column("place", pa.array(np.arange(places.num_rows), pa.int64())),
    )
    con.execute(f"""
        INSERT INTO evid
        SELECT m.occasion_id, 'premises', 'reason',
               'at ' || p.kind || ' ' || p.place_id || coalesce(' (' || p.name || ')', '')
                   || ' from ' || ts(v.t0) || ' to ' || ts(v.t1) || ' ('
                   || CAST(round(v.sum_dt / 60e6) AS INTEGER) || ' min), within '
                   || CAST(round(v.max_d) AS INTEGER) || ' m of it (radius + '
                   || '{params.premises_buffer_m:.0f} m)',
               [p.rp]
        FROM prem_visits v JOIN prem_places p USING (place) JOIN occ_map m USING (occ)
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.unregister("prem_visits")
    con.unregister("prem_places")


def _of_target(con: duckdb.DuckDBPyConnection, target: str) -> str:
    """A condition keeping the instants (`pts`) of the occasions of `target`: `true` when
    it holds every occasion (a plain scan, in the instants' (occ, t) order)."""
    (row,) = con.execute(
        f"SELECT count(*) FROM occ_map WHERE occasion_id NOT IN (SELECT occasion_id FROM {target})"  # noqa: S608  # relation names of the analysis
    ).fetchall()
    if row[0] == 0:
        return "true"
    return f"occ IN (SELECT occ FROM occ_map JOIN {target} USING (occasion_id))"  # noqa: S608  # relation names of the analysis


def _runs(
    occ: np.ndarray, w0: np.ndarray, w1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows [w0, w1) in (occ, w0) order joined per occasion into runs (spans.joined):
    (occ, start, end) per run. Instants in order never overlap (an instant ends at or
    before the next begins), so a run begins where its window starts after the one before
    it ends; otherwise joined decides."""
    if not len(occ):
        return occ, w0, w1
    same = occ[1:] == occ[:-1]
    if not np.all(~same | (w1[:-1] <= w0[1:]) & (w0[:-1] < w0[1:])):
        visit = joined(occ, w0, w1)
        return occ[visit.first], visit.start, visit.end
    first = np.flatnonzero(np.r_[True, ~same | (w0[1:] > w1[:-1])])
    last = np.r_[first[1:], len(occ)] - 1
    return occ[first], w0[first], w1[last]


def premises_found(
    points: pa.Table, places: tuple[np.ndarray, ...]
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], pa.Table]:
    """The premises reason from the instants (`occ, t, dt, mx, my`; in (occ, t) order as
    pts are stored, else sorted first) and the police places (x, y, reach, group: a
    place's kind and id ranked, nondecreasing):

    - the covered windows: each occasion's instants at some place (`at_places`) with
      dt > 0, each standing for [t, t + dt), joined into runs (occ, start, end);
    - the visits: per occasion and group (in that order), the place of its first
      (instant, place) pair, the first and last time (t0, t1: the largest t + dt), dt
      summed over the pairs and the largest distance (`occ, place, t0, t1, sum_dt, max_d`).

    Compiled when the library is there (engine/_native.c, `wa_premises`: the same bits in
    one pass over the instants' chunks where they lie, without the pairs); this numpy path
    is the reference."""
    names = ("occ", "t", "dt", "mx", "my")
    px, py, reach, group = places
    if native.enabled() and len(px) and points.num_rows and np.isfinite(_cell_size(reach)):
        found = native.premises(
            [
                tuple(b.column(c).to_numpy(zero_copy_only=False) for c in names)
                for b in points.select(list(names)).to_batches()
            ],
            places,
            place_cells(px, py, reach),
        )
        if found is not None:
            runs, (v_occ, v_place, t0, t1, sum_dt, max_d) = found
            return (runs[0], runs[1], runs[2]), pa.table(
                {
                    "occ": v_occ,
                    "place": v_place,
                    "t0": t0,
                    "t1": t1,
                    "sum_dt": sum_dt,
                    "max_d": max_d,
                }
            )
    occ, t = points.column("occ").to_numpy(), points.column("t").to_numpy()
    if not np.all((occ[1:] > occ[:-1]) | ((occ[1:] == occ[:-1]) & (t[1:] > t[:-1]))):
        # (occ, t) order: each visit's evidence names its first row's place
        points = points.take(pa.array(np.lexsort((t, occ))))
    occ, t, dt, x, y = (points.column(c).to_numpy() for c in names)
    pi, d = at_places(x, y, px, py, reach)
    # The covered windows: an occasion's instants at premises joined into runs (each
    # instant stands for [t, t + dt) and t + dt <= the next instant's t), the same union
    # as one window per instant in a few rows per visit.
    hit = pi[0][np.r_[True, pi[0][1:] != pi[0][:-1]]] if len(pi[0]) else pi[0]  # sorted
    hit = hit[dt[hit] > 0]
    runs = _runs(occ[hit], t[hit], t[hit] + dt[hit])
    # The visits: per occasion and place (kind and id), when, how long and how near.
    point, place = pi
    g = np.asarray(group, np.int64)[place]
    key = sort_by(occ[point], g)
    point, place, g, near = point[key], place[key], g[key], d[key]
    p_occ, p_t, p_dt = occ[point], t[point], dt[point]
    start = (
        np.flatnonzero(np.r_[True, (p_occ[1:] != p_occ[:-1]) | (g[1:] != g[:-1])])
        if len(key)
        else key
    )
    if len(start):
        return runs, pa.table(
            {
                "occ": p_occ[start],
                "place": place[start],
                "t0": np.minimum.reduceat(p_t, start),
                "t1": np.maximum.reduceat(p_t + p_dt, start),
                "sum_dt": np.add.reduceat(p_dt, start),
                "max_d": np.maximum.reduceat(near, start),
            }
        )
    return runs, pa.table(
        {
            "occ": occ[:0],
            "place": place[:0],
            "t0": t[:0],
            "t1": t[:0],
            "sum_dt": dt[:0],
            "max_d": d[:0],
        }
    )


def _cell_size(reach: np.ndarray) -> float:
    """at_places' cells: a little wider than the longest reach (rounding cannot move a
    point within a place's reach two cells away from the place's own)."""
    return float(np.max(reach)) * 1.01 + 1.0


def place_cells(
    px: np.ndarray, py: np.ndarray, reach: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """at_places' cells as (size, cell x, cell y, place): each place listed in its own
    cell, floor(x / size) and floor(y / size), and the eight around it, sorted by cell
    then place."""
    size = _cell_size(reach)
    step = np.arange(-1, 2)
    cx = (np.floor(px / size).astype(np.int64)[:, None] + np.repeat(step, 3)).ravel()
    cy = (np.floor(py / size).astype(np.int64)[:, None] + np.tile(step, 3)).ravel()
    place = np.repeat(np.arange(len(px)), 9)
    order = np.lexsort((place, cy, cx))
    return size, cx[order], cy[order], place[order]


def at_places(
    x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray, reach: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Every (point, place) with the point within the place's reach, as index arrays in
    point order (then place order), and their distances.

    Points and places meet in square cells a little wider than the longest reach: a point
    within a place's reach lies in the place's cell or one of the eight around it, so each
    place is listed in those nine cells and each point looks up its own cell (a sorted
    search, no comparison of every point with every place); the distance decides.
    """
    none = (np.empty(0, np.int64), np.empty(0, np.int64)), np.empty(0)
    if len(px) == 0 or len(x) == 0:
        return none
    size = _cell_size(reach)
    cx, cy = np.floor(px / size).astype(np.int64), np.floor(py / size).astype(np.int64)
    qx, qy = np.floor(x / size).astype(np.int64), np.floor(y / size).astype(np.int64)
    lo_x = int(min(cx.min() - 1, qx.min()))
    lo_y = int(min(cy.min() - 1, qy.min()))
    width = int(max(cx.max() + 1, qx.max())) - lo_x + 1
    dx, dy = np.meshgrid(np.arange(-1, 2), np.arange(-1, 2))
    cell = ((cx[:, None] + dx.ravel() - lo_x) * width + (cy[:, None] + dy.ravel() - lo_y)).ravel()
    owner = np.repeat(np.arange(len(px)), 9)
    order = np.lexsort((owner, cell))
    cell, owner = cell[order], owner[order]
    key = (qx - lo_x) * width + (qy - lo_y)
    # each listed cell once: where its places begin in `owner`, and how many
    head = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
    listed, many = cell[head], np.diff(np.r_[head, len(cell)])
    at = np.minimum(np.searchsorted(listed, key), len(listed) - 1)
    count = np.where(listed[at] == key, many[at], 0)
    first = head[at]
    if int(count.max()) <= 1:  # no cell of a point lists two places (places far apart)
        point = np.flatnonzero(count)
        place = owner[first[point]]
    else:
        point = np.repeat(np.arange(len(x)), count)
        place = owner[
            np.repeat(first, count)
            + np.arange(int(count.sum()))
            - np.repeat(np.cumsum(count) - count, count)
        ]
    d = np.sqrt((px[place] - x[point]) ** 2 + (py[place] - y[point]) ** 2)
    keep = d <= reach[place]
    return (point[keep], place[keep]), d[keep]


def _shared_duty(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> None:
    joint = ", ".join(f"'{k}'" for k in JOINT_DUTY_TYPES)
    # Each officer's joint roster entries overlapping the occasion first (intervals.
    # overlapping: a search per occasion among its officer's entries, not a join of each
    # occasion with all of them), then the two sides paired per occasion and duty type:
    # joining the two roster sides on the duty type alone would pair every entry of that
    # type in the force.
    occ = fetch(con, f'SELECT occasion_id, officer_a, officer_b, start, "end" FROM {target}')  # noqa: S608  # relation names of the analysis
    duty = fetch(
        con,
        f"""SELECT officer_id, lower(duty_type) AS duty_type, start AS s0, "end" AS s1,
                   src_file, src_line
            FROM duty WHERE lower(duty_type) IN ({joint}) AND officer_id IN
                      (SELECT officer_a FROM {target} UNION SELECT officer_b FROM {target})
                  AND start IS NOT NULL AND "end" IS NOT NULL""",  # noqa: S608  # relation names of the analysis
    )
    names = pc.unique(duty.column("officer_id").combine_chunks())
    who = np.asarray(pc.index_in(duty.column("officer_id"), value_set=names), np.int64)
    o0, o1 = (np.asarray(occ.column(c).to_numpy(), np.int64) for c in ("start", "end"))
    d0, d1 = (np.asarray(duty.column(c).to_numpy(), np.int64) for c in ("s0", "s1"))
    for side, officer in (("a", "officer_a"), ("b", "officer_b")):
        mine = pc.fill_null(pc.index_in(occ.column(officer), value_set=names), -1)
        at, row = overlapping(np.asarray(mine, np.int64), o0, o1, who, d0, d1)
        entries = duty.take(pa.array(row, pa.int64())).drop_columns(["officer_id"])
        con.register(
            f"duty_{side}",
            entries.add_column(
                0, "occasion_id", occ.column("occasion_id").take(pa.array(at, pa.int64()))
            ),
        )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE duty_w AS
        SELECT o.occasion_id, o.officer_a, o.officer_b, a.duty_type,
               a.s0 AS a0, a.s1 AS a1, b.s0 AS b0, b.s1 AS b1,
               greatest(a.s0, b.s0, o.start) AS w0, least(a.s1, b.s1, o."end") AS w1,
               ref('duty', a.src_file, a.src_line) AS ra, ref('duty', b.src_file, b.src_line) AS rb
        FROM duty_a a JOIN duty_b b USING (occasion_id, duty_type)
        JOIN {target} o USING (occasion_id)
        WHERE least(a.s1, b.s1, o."end") > greatest(a.s0, b.s0, o.start)
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.execute("INSERT INTO rwin SELECT occasion_id, 'shared_duty', w0, w1 FROM duty_w")
    con.execute("""
        INSERT INTO evid
        SELECT occasion_id, 'shared_duty', 'reason',
               'both rostered for ' || duty_type || ': ' || officer_a || ' ' || ts(a0) || ' to '
                   || ts(a1) || ', ' || officer_b || ' ' || ts(b0) || ' to ' || ts(b1),
               [ra, rb]
        FROM duty_w
        QUALIFY row_number() OVER (PARTITION BY occasion_id ORDER BY w0, ra, rb) = 1
    """)
    con.unregister("duty_a")
    con.unregister("duty_b")


def coverage(con: duckdb.DuckDBPyConnection, target: str = "occw") -> None:
    """`cover(occasion_id, explained_s, unexplained_s, unexplained_stopped_s)`.

    Explained time is the union of the reasons' windows within the occasion; the rest is
    unexplained (including any stretch without positions). Unexplained stopped time counts
    the sampled instants that are stopped and in no window.
    """
    w = fetch(
        con,
        f"""
        SELECT m.occ, greatest(r.w0, o.start) AS w0, least(r.w1, o."end") AS w1
        FROM rwin r JOIN {target} o USING (occasion_id) JOIN occ_map m USING (occasion_id)
        WHERE least(r.w1, o."end") > greatest(r.w0, o.start)
    """,  # noqa: S608  # relation names and numbers of the analysis, no input text
    )
    occ, w0, w1 = (w.column(c).to_numpy() for c in ("occ", "w0", "w1"))
    merged = joined(occ, w0, w1)  # each occasion's windows merged: disjoint, sorted
    m_occ, m0, m1 = occ[merged.first], merged.start, merged.end
    stopped = fetch(con, f"SELECT occ, t, dt FROM pts WHERE stopped AND {_of_target(con, target)}")  # noqa: S608  # relation names of the analysis
    # µs per occasion code (float sums of integers are exact below 2**53 µs: 285 years, so
    # summed a chunk of instants at a time, where DuckDB put them, the same)
    total = np.zeros(0)
    for chunk in stopped.to_batches():
        s_occ, t, dt = (chunk.column(c).to_numpy(zero_copy_only=False) for c in ("occ", "t", "dt"))
        # An instant is in some window when it is in the merged window of its occasion
        # starting last at or before it (windows cut to the occasion; its instants lie
        # inside it); searched among the windows of the chunk's occasions only.
        inside = np.zeros(len(t), bool)
        if len(m1) and len(t):
            lo, hi = int(s_occ.min()), int(s_occ.max())
            a = int(np.searchsorted(m_occ, lo, side="left"))
            b = int(np.searchsorted(m_occ, hi, side="right"))
            if b > a:
                i = last_at_or_before(m_occ[a:b] - lo, m0[a:b], s_occ - lo, t)
                inside = (i >= 0) & (m1[a:b][np.maximum(i, 0)] > t)
        keep = ~inside
        if keep.any():
            part = np.bincount(s_occ[keep], weights=dt[keep])
            total = np.pad(total, (0, max(len(part) - len(total), 0)))
            total[: len(part)] += part
    us = total.astype(np.int64)
    some = np.flatnonzero(us)
    con.register("cover_parts", pa.table({"occ": m_occ, "len": m1 - m0}))
    con.register("cover_stops", pa.table({"occ": some, "us": us[some]}))
    con.execute(f"""
        CREATE OR REPLACE TABLE cover AS
        WITH u AS (SELECT occ, sum(len) / {US}.0 AS explained_s FROM cover_parts
                   GROUP BY occ),
        st AS (SELECT occ, us / {US}.0 AS unexplained_stopped_s FROM cover_stops)
        SELECT o.occasion_id, coalesce(u.explained_s, 0) AS explained_s,
               greatest(o.duration_s - coalesce(u.explained_s, 0), 0) AS unexplained_s,
               coalesce(st.unexplained_stopped_s, 0) AS unexplained_stopped_s
        FROM {target} o JOIN occ_map m USING (occasion_id)
        LEFT JOIN u USING (occ) LEFT JOIN st USING (occ)
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.unregister("cover_parts")
    con.unregister("cover_stops")


# Whether each reason's inputs cover an occasion (assessability.assess): a query of
# `(occasion_id, why)` for the occasions of `target` they do not cover.


def _incident_log_uncovered(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str
) -> str:
    """An incident log and attachments that cover each of the occasion's days
    (extent.LogDays: an outage inside their span is a day not covered)."""
    return f"""
        WITH m AS (
            SELECT occasion_id, any_value(gap) FILTER (WHERE log = 'incidents') AS inc,
                   any_value(gap) FILTER (WHERE log = 'attachments') AS att,
                   bool_or(log = 'incidents' AND n = 0) AS no_inc,
                   bool_or(log = 'attachments' AND n = 0) AS no_att
            FROM ({log_misses(con, params, target, ("incidents", "attachments"))})
            GROUP BY occasion_id
        )
        SELECT occasion_id,
               CASE WHEN no_inc THEN 'no incident log was provided'
                    WHEN no_att THEN 'no attachments (who was sent to which incident) '
                                     || 'were provided'
                    WHEN inc IS NOT NULL THEN 'no incident log covers ' || inc
                    ELSE 'no attachments cover ' || att END AS why
        FROM m"""  # noqa: S608  # relation names and numbers of the analysis, no input text


def _premises_uncovered(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> str:
    """Police stations or custody suites recorded, the occasion's point in the area the
    force's records cover (extent.register_area)."""
    police = ", ".join(f"'{k}'" for k in POLICE_PLACE_KINDS)
    register_area(con, params, target, "premises_area")
    return f"""
        WITH p AS (SELECT count(*) AS n FROM places WHERE kind IN ({police})
                   AND x IS NOT NULL)
        SELECT o.occasion_id,
               CASE WHEN p.n = 0 THEN 'no police stations or custody suites were provided'
                    WHEN o.x IS NULL THEN 'the occasion has no position'
                    ELSE {quoted(OUTSIDE)} END AS why
        FROM {target} o CROSS JOIN p LEFT JOIN premises_area a USING (occasion_id)
        WHERE p.n = 0 OR o.x IS NULL OR NOT coalesce(a.inside, false)"""  # noqa: S608  # relation names and numbers of the analysis, no input text


def _roster_uncovered(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> str:
    """Each officer's duty roster spans the occasion (named by its local day)."""
    return f"""
        WITH r AS (SELECT officer_id, min(start) AS lo, max("end") AS hi FROM duty
                   GROUP BY officer_id),
        miss AS (
            SELECT o.occasion_id, o.start, side.officer_id
            FROM {target} o, LATERAL (SELECT o.officer_a AS officer_id UNION ALL
                                      SELECT o.officer_b) side
            LEFT JOIN r ON r.officer_id = side.officer_id
            WHERE r.officer_id IS NULL OR o.start < r.lo OR o."end" > r.hi
        )
        SELECT o.occasion_id,
               'no duty roster for ' || string_agg(DISTINCT m.officer_id, ' and '
                                                   ORDER BY m.officer_id)
                   || ' covers ' || day_text(any_value(m.start)) AS why
        FROM {target} o JOIN miss m USING (occasion_id)
        GROUP BY o.occasion_id"""  # noqa: S608  # relation names and numbers of the analysis, no input text


def _vehicles_uncovered(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> str:
    """Assignments of officers to vehicles that cover each of the occasion's days
    (extent.LogDays: an assignment counts on every day it overlaps)."""
    return f"""
        SELECT occasion_id,
               CASE WHEN n = 0 THEN 'no assignments of officers to vehicles were provided'
                    ELSE 'no vehicle assignments cover ' || gap END AS why
        FROM ({log_misses(con, params, target, ("vehicles",))})"""  # noqa: S608  # relation names and numbers of the analysis, no input text


# The policing reasons, in the vocabulary's order (REASON_TERMS); and the relations some of
# them share, each made once before them (find_reasons) when a reason reads it.
STEPS: dict[str, ReasonStep] = {
    s.code: s
    for s in (
        ReasonStep("crewed", _crewed, _vehicles_uncovered, ("assignments", "devices")),
        ReasonStep(
            "same_incident",
            _same_incident,
            _incident_log_uncovered,
            ("incidents", "attachments", "assignments"),
            reads=(NEAR_TASKS,),
        ),
        ReasonStep("premises", _premises, _premises_uncovered, ("places", "incidents", "areas")),
        ReasonStep("shared_duty", _shared_duty, _roster_uncovered, ("duty",)),
        ReasonStep(
            "one_tasked",
            _one_tasked,
            _incident_log_uncovered,
            ("incidents", "attachments", "assignments"),
            explains=False,
            reads=(NEAR_TASKS,),
        ),
    )
}
SHARED: tuple[tuple[Relation, Find], ...] = ((NEAR_TASKS, _near_tasks),)


def explaining() -> tuple[str, ...]:
    """The reasons whose windows explain time (the others are partial)."""
    return tuple(code for code, step in STEPS.items() if step.explains)


def register(step: ReasonStep, term: Term | None = None) -> None:
    """Add a policing reason: its step, and its words (`term`) unless the vocabulary
    already has them. It then runs with the others, is assessed, ordered and worded."""
    if term is not None:
        if term.code != step.code:
            raise StepError(
                f"the reason {step.code} was given the words of {term.code}",
                hint="give the Term of the same code",
            )
        REASON_TERMS[term.code] = term
    if step.code not in REASON_TERMS:
        raise StepError(
            f"the reason {step.code} has no words in the vocabulary",
            hint="add a Term to vocabulary.REASON_TERMS or pass term=",
        )
    STEPS[step.code] = step


@contextmanager
def registered(step: ReasonStep, term: Term | None = None) -> Iterator[ReasonStep]:
    """`register` for the time of a `with` block (then the reasons are as before)."""
    had_step, had_term = STEPS.get(step.code), REASON_TERMS.get(step.code)
    register(step, term)
    try:
        yield step
    finally:  # (a replaced entry goes back in its place: the order is the vocabulary's)
        if had_step is None:
            STEPS.pop(step.code, None)
        else:
            STEPS[step.code] = had_step
        if had_term is None:
            REASON_TERMS.pop(step.code, None)
        else:
            REASON_TERMS[step.code] = had_term


__all__ = [
    "BASE",
    "NEAR_TASKS",
    "SHARED",
    "STEPS",
    "ReasonStep",
    "coverage",
    "explaining",
    "find_reasons",
    "prepare",
    "register",
    "registered",
]
