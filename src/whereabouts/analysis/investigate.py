"""Investigation and screening runs over a workspace: gather, analyse, write the folder.

`investigate(ws, subjects, start, end, params=..., save=True)` writes a run through the run
store (store/runs.py; docs/architecture.md "analysis"): occasions.parquet/.csv,
tracks.parquet, stops.parquet, baseline.parquet, summary.json and run.json. `screen(ws, officers, start, end)` ranks every pair of a
set of officers. Both read only the tables they need, through the workspace, and leave the
inputs untouched. Who may run them is the case layer's business (cli/analysis.py asks it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts import __version__, schema
from whereabouts.analysis import attribution, reasons, stops
from whereabouts.analysis.baseline import baseline_summary
from whereabouts.analysis.coverage import input_coverage
from whereabouts.analysis.inputs import US, Inputs, fetch, times_as_us, to_us, to_utc
from whereabouts.analysis.intervals import last_at_or_before
from whereabouts.analysis.labelling import label_occasions
from whereabouts.analysis.params import AnalysisParams
from whereabouts.analysis.screening import pair_statistics
from whereabouts.analysis.sensitivity import (
    LADDER,
    SENSITIVITY,
    SENSITIVITY_RULE,
    ladder,
    robustness,
)
from whereabouts.errors import NoDataError, ParameterError
from whereabouts.parallel import beside
from whereabouts.store.runs import (
    Baseline,
    Counts,
    FixCoverage,
    InputRecord,
    Period,
    Run,
    RunStore,
    RunSummary,
    RunWriter,
)

TRACK_MARGIN = timedelta(minutes=30)
PARALLEL_FIXES = 5_000_000  # the engine's windows in two processes from this many fixes
# The subjects' stops and tracks in a process of their own from this many hours of their
# devices' assignments (two officers' radios and cars over about six weeks of shifts):
# below, the fork would cost more than it saves.
FORK_DEVICE_HOURS = 1_000.0
SMALL_TABLES = ("devices", "officers", "assignments", "duty", "incidents", "attachments",
                "places", "areas", "roads")
BaselineGroup = Literal["team", "station", "none"]


@dataclass
class Investigation:
    """What an investigation produced, and the run it was written as (if it was)."""

    out_dir: Path | None
    occasions: pa.Table
    stops: pa.Table
    baseline: pa.Table
    summary: RunSummary
    run: Run | None = None
    # every occasion at other settings (analysis/sensitivity.py)
    sensitivity: pa.Table = field(default_factory=SENSITIVITY.empty_table)


def _open(ws: Any) -> Any:
    from whereabouts.store import Workspace

    return ws if isinstance(ws, Workspace) else Workspace.open(ws)


LEAN_FIXES = ("device_id", "time", "x", "y", "accuracy_m")


def load_inputs(ws: Any, devices: list[str], start: datetime, end: datetime, *,
                lean: bool = False, tables_from: Inputs | None = None) -> Inputs:
    """The workspace's small tables whole, and the fixes of `devices` in [start, end).

    lean: only the fix columns the analysis reads (`LEAN_FIXES`), to keep a force-month of
    fixes in memory small; tracks for the output folder are read in full separately.
    """
    w = _open(ws)
    tables = ({name: getattr(tables_from, name) for name in SMALL_TABLES}
              if tables_from is not None else w.tables(SMALL_TABLES))
    if not devices:
        fixes = Inputs().fixes
    elif not lean:
        fixes = w.fixes(devices=sorted(set(devices)), start=start, end=end)
    else:
        con = w.connect()
        try:
            fixes = con.sql(
                f"SELECT {', '.join(LEAN_FIXES)} FROM fixes WHERE list_contains($devices, "
                "device_id) AND time >= $start AND time < $end ORDER BY device_id, time",
                params={"devices": sorted(set(devices)), "start": start, "end": end},
            ).to_arrow_table()
        finally:
            con.close()
        assert fixes is not None
        fixes = fixes.cast(pa.schema([schema.FIXES.field(c) for c in LEAN_FIXES]))
    return Inputs(fixes=fixes, crs=w.crs, **tables)


def devices_of(inputs: Inputs, officers: list[str], start: datetime, end: datetime
               ) -> list[str]:
    """Devices assigned to any of `officers` at some time in [start, end)."""
    con = inputs.connect()
    con.execute("CREATE TEMP TABLE o(officer_id VARCHAR)")
    con.executemany("INSERT INTO o VALUES (?)", [[x] for x in sorted(set(officers))])
    t = fetch(con, f"""
        SELECT DISTINCT device_id FROM assignments
        WHERE officer_id IN (SELECT officer_id FROM o)
          AND start < {to_us(end)} AND "end" > {to_us(start)} ORDER BY 1""")
    return [str(d) for d in t.column("device_id").to_pylist()]


def officers_in(officers: pa.Table, *, team: str | None = None, station: str | None = None
                ) -> list[str]:
    """Officer ids of a team or a station (as the officers table records them)."""
    column, value = ("team", team) if team is not None else ("station", station)
    if value is None:
        raise ParameterError("no team or station given", hint="give --team T or --station S")
    ids = sorted({str(o) for o, v in zip(officers.column("officer_id").to_pylist(),
                                         officers.column(column).to_pylist(), strict=True)
                  if v == value})
    if not ids:
        raise NoDataError(f"no officers recorded in {column} {value!r}",
                          hint=f"check the {column} name against the officers table")
    return ids


def baseline_group(officers: pa.Table, subjects: list[str], baseline: BaselineGroup
                   ) -> tuple[list[str], str]:
    """(officer ids, name) of the subjects' baseline group: their station, or their team —
    the same team name at the same station, since forces reuse team names ("Team A") at
    every station — with the subjects always in it. No group ([], "none") when the
    officers table does not say."""
    keys = ("team", "station") if baseline == "team" else ("station",)
    rows = {str(r["officer_id"]): r for r in officers.select(["officer_id", *keys]).to_pylist()}
    units = sorted({tuple(str(rows[s][k]) for k in keys) for s in subjects
                    if s in rows and rows[s][baseline] is not None})
    if not units:
        return [], "none"
    group = sorted({o for o, r in rows.items() if r[baseline] is not None
                    and tuple(str(r[k]) for k in keys) in units} | set(subjects))
    name = "; ".join(f"{baseline} {u[0]} at {u[1]}" if baseline == "team"
                     else f"{baseline} {u[0]}" for u in units)
    return group, name


def device_periods(fixes: pa.Table, params: AnalysisParams, crs: str) -> pa.Table:
    """The engine's raw within-distance periods of every device pair in `fixes`."""
    from whereabouts.engine import within_periods

    if fixes.num_rows == 0:
        return pa.table({"device_a": pa.array([], pa.string()),
                         "device_b": pa.array([], pa.string()),
                         "start": pa.array([], pa.timestamp("us", tz="UTC")),
                         "end": pa.array([], pa.timestamp("us", tz="UTC")),
                         "min_distance_m": pa.array([], pa.float64())})
    ep = params.encounter
    # Two processes over the time windows of a large table (the same periods, bit for bit)
    workers = 2 if fixes.num_rows >= PARALLEL_FIXES and (os.cpu_count() or 1) >= 2 else 1
    return within_periods(fixes, ep, crs=crs, workers=workers)


_MERGE = """
    WITH s AS (
        SELECT *, CASE WHEN s0 <= max(s1) OVER (PARTITION BY k ORDER BY rn ROWS
                       BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1
                  END AS brk
        FROM (SELECT *, row_number() OVER (PARTITION BY k ORDER BY s0, s1) AS rn FROM ({src}))
    ), g AS (
        SELECT *, sum(brk) OVER (PARTITION BY k ORDER BY rn ROWS UNBOUNDED PRECEDING)
               AS grp FROM s
    )
    SELECT k, min(s0) AS s0, max(s1) AS s1 FROM g GROUP BY k, grp"""


def engine_fixes(inputs: Inputs, officers: list[str], params: AnalysisParams) -> pa.Table:
    """The fixes the engine needs for pairs among `officers`: each device's fixes while it
    was assigned to one of them (and, with on_duty_only, while one of them was on duty),
    widened by `2 * (max_gap_s + merge_gap_s)` either side.

    Everything the analysis keeps of the engine's periods is clipped to those assignments
    and duty periods (attribution.build_pieces); the widening keeps every segment that
    reaches into them, and every period a device pair's merge could join to them
    (attribution.register_periods), so the periods kept are the same as from all fixes.
    The analysis itself still reads all fixes (tracks, sampling, fix statistics).
    """
    fixes = inputs.fixes
    if fixes.num_rows == 0:
        return fixes
    pad = int(2 * (params.max_gap_s + params.merge_gap_s) * US)
    con = inputs.connect()
    con.execute("CREATE TEMP TABLE eng_o(officer_id VARCHAR)")
    con.executemany("INSERT INTO eng_o VALUES (?)", [[o] for o in sorted(set(officers))])
    asg = (f'SELECT device_id AS k, start - {pad} AS s0, "end" + {pad} AS s1 FROM assignments '
           'WHERE officer_id IN (SELECT officer_id FROM eng_o) AND "end" > start')
    con.execute(f"CREATE TEMP TABLE eng_span AS {_MERGE.format(src=asg)}")
    if params.on_duty_only:
        duty = (f'SELECT 0 AS k, start - {pad} AS s0, "end" + {pad} AS s1 FROM duty '
                'WHERE officer_id IN (SELECT officer_id FROM eng_o) AND "end" > start')
        con.execute(f"CREATE TEMP TABLE eng_duty AS {_MERGE.format(src=duty)}")
        both = ("SELECT a.k, greatest(a.s0, d.s0) AS s0, least(a.s1, d.s1) AS s1 "
                "FROM eng_span a JOIN eng_duty d ON d.s0 < a.s1 AND a.s0 < d.s1")
        con.execute(f"CREATE OR REPLACE TEMP TABLE eng_span AS {_MERGE.format(src=both)}")
    spans = fetch(con, "SELECT k AS device_id, s0, s1 FROM eng_span ORDER BY k, s0")
    con.close()
    if spans.num_rows == 0:
        return fixes.slice(0, 0)
    # Each fix against the last span of its device starting at or before it (one device's
    # spans are disjoint after merging).
    names = pc.unique(spans.column("device_id"))  # sorted, as the spans are
    code = pc.index_in(fixes.column("device_id").cast(pa.string()), value_set=names)
    known = pc.is_valid(code).to_numpy(zero_copy_only=False)
    fcode = pc.fill_null(code, 0).to_numpy().astype(np.int64)
    t = pc.cast(pc.cast(fixes.column("time"), schema.UTC_TS), pa.int64()).to_numpy()
    scode = pc.index_in(spans.column("device_id"), value_set=names).to_numpy().astype(np.int64)
    s1 = spans.column("s1").to_numpy()
    i = last_at_or_before(scode, spans.column("s0").to_numpy(), fcode, t)
    keep = known & (i >= 0) & (t < s1[np.maximum(i, 0)])
    return fixes if keep.all() else fixes.filter(pa.array(keep, pa.bool_()))


def assigned_spans(inputs: Inputs, officers: list[str], start: datetime, end: datetime,
                   pad_s: float = 0.0) -> pa.Table:
    """`device_id, start, end`: each device's assignments to any of `officers`, widened by
    `pad_s` either side and cut to [start, end) — the fixes an analysis of them can use."""
    a = inputs.assignments
    keep = pc.and_(pc.is_in(a.column("officer_id"), pa.array(sorted(set(officers)),
                                                               pa.string())),
                   pc.greater(a.column("end"), a.column("start")))
    a = times_as_us(a.filter(keep))
    pad = int(pad_s * US)
    t0 = np.maximum(a.column("start").to_numpy() - pad, to_us(start))
    t1 = np.minimum(a.column("end").to_numpy() + pad, to_us(end))
    return pa.table({"device_id": a.column("device_id"), "start": to_utc(t0),
                     "end": to_utc(t1)})


def analysis_inputs(ws: Any, small: Inputs, officers: list[str], start: datetime,
                    end: datetime, params: AnalysisParams) -> Inputs:
    """`small` with the lean fixes an analysis of `officers` in [start, end) reads: each
    device's while assigned to one of them, widened by `2 * (max_gap_s + merge_gap_s)`.

    Every fix the analysis uses lies there: the engine's (engine_fixes keeps a subset),
    the samples and statistics of occasions (inside assignments, interpolating only across
    gaps up to max_gap_s), a crewed car's track pieces (cut to its assignments) and the
    vehicles' stops (while assigned); a fix further out is further than max_gap_s from any
    of them, so leaving it out changes no result.
    """
    pad = 2 * (params.max_gap_s + params.merge_gap_s)
    spans = assigned_spans(small, officers, start, end, pad)
    return small.with_fixes(_open(ws).fixes_within(spans, LEAN_FIXES))


def screen(ws: Any, officers: list[str], start: datetime, end: datetime, *,
           params: AnalysisParams | None = None, inputs: Inputs | None = None,
           detail: list[str] | None = None) -> tuple[pa.Table, pa.Table]:
    """(screening table ranked, labelled occasions) for every pair among `officers`.

    detail: only these officers' pairs' occasions are described in full (label_occasions);
    the ranking is the same either way."""
    params = params or AnalysisParams()
    check_period(start, end)
    if inputs is None:
        inputs = analysis_inputs(ws, load_inputs(ws, [], start, end), officers, start, end,
                                 params)
    periods = device_periods(engine_fixes(inputs, officers, params), params, inputs.crs)
    return rank_pairs(inputs, periods, officers, start, end, params, detail=detail)


def rank_pairs(inputs: Inputs, periods: pa.Table, officers: list[str], start: datetime,
               end: datetime, params: AnalysisParams, *, detail: list[str] | None = None
               ) -> tuple[pa.Table, pa.Table]:
    """Label the pairs' occasions from device periods and rank the pairs (any engine's periods)."""
    occ = label_occasions(inputs, periods, officers, params, detail=detail)
    con = inputs.connect()
    con.execute(f"""CREATE OR REPLACE TEMP TABLE duty_clip AS
        SELECT * REPLACE (greatest(start, {to_us(start)}) AS start,
                          least("end", {to_us(end)}) AS "end") FROM duty""")
    con.execute("DROP VIEW duty")
    con.execute("CREATE VIEW duty AS SELECT * FROM duty_clip")
    hours = attribution.build_shared_duty_hours(con, officers)
    return pair_statistics(occ, hours), occ


def check_period(start: datetime, end: datetime) -> None:
    """Refuse a period that ends before it starts."""
    if to_us(end) <= to_us(start):
        raise ParameterError("the period ends before it starts",
                             hint="give --from earlier than --to")


def investigate(ws: Any, subjects: list[str], start: datetime, end: datetime, *,
                params: AnalysisParams | None = None, out_dir: Path | str | None = None,
                case: str | None = None, baseline: BaselineGroup = "team",
                save: bool = False, sensitivity: bool = True) -> Investigation:
    """Occasions of the subjects, their vehicles' unexplained stops and their baseline.

    Written as a run (store/runs.py) when asked: `save=True` as the case's new run in the
    workspace (WS/runs/<case>/<run id>/, current once complete), or into `out_dir` itself.
    sensitivity: also evaluate every occasion at the other settings of
    `sensitivity.LADDER` (sensitivity.parquet, the occasions' `robustness`); False only to
    measure what that costs (bench/investigate.py).
    """
    params = params or AnalysisParams()
    if save and case is None:
        raise ParameterError("a run saved in the workspace needs a case",
                             hint="give case=REF, or out_dir=FOLDER instead of save=True")
    check_period(start, end)
    subjects = sorted(set(subjects))
    if len(subjects) < 2:
        raise ParameterError("an investigation needs at least two subjects",
                             hint="give --subjects A,B")
    w = _open(ws)
    small = load_inputs(w, [], start, end)
    known = set(small.officers.column("officer_id").to_pylist())
    unknown = [s for s in subjects if s not in known]
    if unknown and known:
        raise NoDataError(f"officers {unknown} are not in the officers table",
                          hint="check the ids, or ingest the officers file")
    group: list[str] = []
    group_name = "none"
    if baseline != "none":
        group, group_name = baseline_group(small.officers, subjects, baseline)
    everyone = group or subjects
    # The subjects' stops and tracks need no occasion: in a process of their own while
    # this one finds and labels the occasions (in a large analysis; the same tables here).
    with beside(_subjects_own, w, small, everyone, subjects, start, end, params,
                forked=_device_hours(small, subjects, start, end) >= FORK_DEVICE_HOURS
                ) as stops_and_tracks:
        # Only the fixes needed: the analysis window [start, end) in the lean columns here,
        # the subjects' own tracks in full with margins in _subjects_own.
        window = analysis_inputs(w, small, everyone, start, end, params)
        periods = device_periods(engine_fixes(window, everyone, params), params, window.crs)
        if len(everyone) > len(subjects):
            stats, all_occ = rank_pairs(window, periods, everyone, start, end, params,
                                        detail=subjects)
            mine = pa.array(subjects, pa.string())
            occ = all_occ.filter(pc.and_(
                pc.is_in(all_occ.column("officer_a"), value_set=mine),
                pc.is_in(all_occ.column("officer_b"), value_set=mine)))
            base = baseline_summary(stats, subjects, group_name)
        else:
            occ = label_occasions(window, periods, subjects, params)
            stats = pair_statistics(occ.slice(0, 0), pa.table({
                "officer_a": pa.array([], pa.string()), "officer_b": pa.array([], pa.string()),
                "shared_duty_h": pa.array([], pa.float64())}))
            base = ({"group": "none", "note": "no baseline was asked for",
                     "comparable": False, "why": "no comparison with other pairs was asked for"}
                    if baseline == "none"
                    else {"group": group_name, "note": f"no officers in the subjects' "
                          f"{baseline} besides them, so no baseline", "comparable": False,
                          "why": f"no officers in the subjects' {baseline} besides them"})
        sens = (ladder(window, subjects, params, occ) if sensitivity
                else SENSITIVITY.empty_table())
        lines = robustness(sens, occ)
        occ = occ.append_column(pa.field("robustness", pa.string()), pa.array(
            [lines.get(o) for o in occ.column("occasion_id").to_pylist()], pa.string()))
        stop_table, tracks = stops_and_tracks()
    summary = _summary(w, case, subjects, start, end, params, window.crs, occ, stop_table,
                       base, tracks, input_coverage(small, everyone, subjects, start, end))
    summary = replace(summary, sensitivity={
        "ladder": {name: [v if isinstance(v, str) else float(v) for v in values]
                   for name, values in LADDER},
        "rule": SENSITIVITY_RULE})
    result = Investigation(None, occ, stop_table, stats, summary, sensitivity=sens)
    if save:
        assert case is not None
        result.run = write(RunStore(w.path).writer(case), result, tracks)
    elif out_dir is not None:
        result.run = write(RunWriter.to_folder(out_dir), result, tracks)
    if result.run is not None:
        result.out_dir = result.run.path
    return result


def _device_hours(small: Inputs, officers: list[str], start: datetime, end: datetime
                  ) -> float:
    """Hours the devices of `officers` were assigned to them in [start, end)."""
    spans = times_as_us(assigned_spans(small, officers, start, end))
    length = spans.column("end").to_numpy() - spans.column("start").to_numpy()
    return float(np.maximum(length, 0).sum()) / US / 3600


def their_window(w: Any, small: Inputs, everyone: list[str], subjects: list[str],
                 start: datetime, end: datetime, params: AnalysisParams) -> Inputs:
    """The rows of `analysis_inputs(w, small, everyone, ...)` of the devices assigned to
    `subjects`, read on their own: each device's fixes there depend only on its own spans."""
    theirs = pc.unique(assigned_spans(small, subjects, start, end).column("device_id"))
    pad = 2 * (params.max_gap_s + params.merge_gap_s)
    spans = assigned_spans(small, everyone, start, end, pad)
    return small.with_fixes(w.fixes_within(
        spans.filter(pc.is_in(spans.column("device_id"), value_set=theirs)), LEAN_FIXES))


def _subjects_own(w: Any, small: Inputs, everyone: list[str], subjects: list[str],
                  start: datetime, end: datetime, params: AnalysisParams
                  ) -> tuple[pa.Table, pa.Table]:
    """(their vehicles' stops, their tracks) of the subjects.

    The stops are of vehicles while assigned to the subjects, from their devices' fixes of
    the analysis window (find_stops keeps a fix only while its vehicle is assigned to a
    subject); the tracks are of all their fixes, with margins."""
    window = their_window(w, small, everyone, subjects, start, end, params)
    con = window.connect()
    con.execute("CREATE TABLE IF NOT EXISTS evid(occasion_id VARCHAR, label VARCHAR, "
                "kind VARCHAR, detail VARCHAR, rows VARCHAR[])")
    reasons.prepare(con, params)
    stop_table = stops.find_stops(con, params, subjects, window.crs)
    con.close()
    inputs = small.with_fixes(w.fixes_within(assigned_spans(
        small, subjects, start - TRACK_MARGIN, end + TRACK_MARGIN)))
    return stop_table, _tracks(inputs, subjects, params)


def _tracks(inputs: Inputs, subjects: list[str], params: AnalysisParams) -> pa.Table:
    """Subjects' fixes while assigned to them and on duty (±30 minutes), with officer_id."""
    con = inputs.connect()
    con.execute("CREATE TEMP TABLE subj(officer_id VARCHAR)")
    con.executemany("INSERT INTO subj VALUES (?)", [[s] for s in subjects])
    m = int(TRACK_MARGIN.total_seconds() * US)
    # Each subject's duty periods widened by the margin and merged, so a fix joins once.
    con.execute(f"""
        CREATE TEMP TABLE on_duty AS
        WITH d AS (
            SELECT officer_id, start - {m} AS s, "end" + {m} AS e FROM duty
            WHERE officer_id IN (SELECT officer_id FROM subj)
        ), b AS (
            SELECT *, CASE WHEN s <= max(e) OVER (PARTITION BY officer_id ORDER BY rn
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1
                      END AS brk
            FROM (SELECT *, row_number() OVER (PARTITION BY officer_id ORDER BY s, e) AS rn
                  FROM d)
        ), g AS (
            SELECT *, sum(brk) OVER (PARTITION BY officer_id ORDER BY rn
                                     ROWS UNBOUNDED PRECEDING) AS grp FROM b
        )
        SELECT officer_id, min(s) AS s, max(e) AS e FROM g GROUP BY officer_id, grp
    """)
    duty_join = ('JOIN on_duty d ON d.officer_id = a.officer_id AND f.time >= d.s '
                 'AND f.time < d.e' if params.on_duty_only else "")
    table = fetch(con, f"""
        SELECT a.officer_id, f.* FROM fixes f
        JOIN assignments a ON a.device_id = f.device_id AND f.time >= a.start
             AND f.time < a."end" AND a.officer_id IN (SELECT officer_id FROM subj)
        {duty_join}
        ORDER BY a.officer_id, f.device_id, f.time, f.src_file, f.src_line
    """)
    t = table.column("time")
    return table.set_column(table.schema.get_field_index("time"), "time",
                            t.cast(pa.int64()).cast(pa.timestamp("us", tz="UTC")))


def _summary(w: Any, case: str | None, subjects: list[str], start: datetime, end: datetime,
             params: AnalysisParams, crs: str, occ: pa.Table, stop_table: pa.Table,
             base: dict[str, Any], tracks: pa.Table, input_cov: dict[str, Any]
             ) -> RunSummary:
    manifest = w.manifest
    counted = {str(v["values"]): int(v["counts"]) for v in
               pc.value_counts(tracks.column("officer_id")).to_pylist()}
    findings = occ.column("finding").to_pylist()
    return RunSummary(
        case=case, subjects=tuple(subjects), period=Period(start, end),
        params=params.as_dict(), remote_rule=params.remote_rule(),
        road_rule=params.road_rule(),
        explained_rule="explained = any reason other than one_tasked",
        finding_rule="reason_found when explained; no_reason_found when every reason "
                     "was assessable and none explains it; else not_assessable "
                     "(not_assessed says which reason or flag, and why)",
        crs=crs, version=__version__,
        inputs=tuple(InputRecord(e.get("name"), e.get("sha256"), e.get("kind"),
                                 (e.get("counts") or {}).get("accepted")) for e in manifest),
        coverage=tuple(FixCoverage(s, counted.get(s, 0)) for s in subjects),
        counts=Counts(occasions=occ.num_rows,
                      unexplained=findings.count("no_reason_found"),
                      not_assessable=findings.count("not_assessable"),
                      unexplained_stops_together=sum(
                          bool(v) and f == "no_reason_found" for v, f in zip(
                              occ.column("unexplained_stop").to_pylist(), findings,
                              strict=True)),
                      stops=stop_table.num_rows),
        baseline=Baseline.from_json(base),
        input_coverage=input_cov,
    )


def write(writer: RunWriter, result: Investigation, tracks: pa.Table) -> Run:
    """Write the run through `writer`; byte-identical for the same inputs and parameters."""
    with writer:
        writer.table("occasions", result.occasions)
        flat = result.occasions
        for name, sep in (("reasons", ";"), ("flags", ";"), ("not_assessed", " | ")):
            i = flat.schema.get_field_index(name)
            joined = pa.array([sep.join(v) for v in flat.column(name).to_pylist()],
                              pa.string())
            flat = flat.set_column(i, name, joined)
        writer.csv("occasions", flat)
        writer.table("tracks", tracks)
        writer.table("stops", result.stops)
        writer.table("baseline", result.baseline)
        writer.table("sensitivity", result.sensitivity)
        return writer.commit(result.summary)


__all__ = ["Investigation", "analysis_inputs", "assigned_spans", "baseline_group",
           "device_periods", "devices_of", "engine_fixes", "investigate", "load_inputs",
           "officers_in", "screen", "their_window", "write"]
