"""Investigation and screening runs over a workspace: gather, analyse, write the folder.

`investigate(ws, subjects, start, end, params=..., save=True)` writes a run through the run
store (store/runs.py; docs/architecture.md "analysis"): occasions.parquet/.csv,
tracks.parquet, stops.parquet, baseline.parquet, summary.json and run.json. `screen(ws, officers, start, end)` ranks every pair of a
set of officers. Both read only the tables they need, through the workspace, and leave the
inputs untouched. Who may run them is the case layer's business (cli/analysis.py asks it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts import __version__
from whereabouts.analysis import attribution, stops
from whereabouts.analysis.baseline import baseline_summary
from whereabouts.analysis.coverage import input_coverage
from whereabouts.analysis.gather import (
    LEAN_FIXES,
    PARALLEL_FIXES,
    SMALL_TABLES,
    WorkspaceLike,
    analysis_inputs,
    assigned_spans,
    device_periods,
    devices_of,
    engine_fixes,
    load_inputs,
    merged,
    open_workspace,
    their_part,
    their_window,
    window_spans,
)
from whereabouts.analysis.inputs import US, Inputs, times_as_us, to_us
from whereabouts.analysis.intervals import overlapping
from whereabouts.analysis.labelling import label_occasions
from whereabouts.analysis.params import AnalysisParams
from whereabouts.analysis.screening import pair_statistics
from whereabouts.analysis.sensitivity import (
    LADDER,
    SENSITIVITY,
    SENSITIVITY_RULE,
    Rungs,
    ladder,
    robustness,
    rung_occasions,
)
from whereabouts.errors import NoDataError, ParameterError
from whereabouts.parallel import beside
from whereabouts.schema import UTC_TS
from whereabouts.store import Workspace
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
from whereabouts.vocabulary import BaselineGroup

TRACK_MARGIN = timedelta(minutes=30)
# The subjects' stops and tracks in a process of their own from this many hours of their
# devices' assignments (two officers' radios and cars over about six weeks of shifts):
# below, the fork would cost more than it saves.
FORK_DEVICE_HOURS = 1_000.0


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


def officers_in(
    officers: pa.Table, *, team: str | None = None, station: str | None = None
) -> list[str]:
    """Officer ids of a team or a station (as the officers table records them)."""
    column, value = ("team", team) if team is not None else ("station", station)
    if value is None:
        raise ParameterError("no team or station given", hint="give --team T or --station S")
    ids = sorted(
        {
            str(o)
            for o, v in zip(
                officers.column("officer_id").to_pylist(),
                officers.column(column).to_pylist(),
                strict=True,
            )
            if v == value
        }
    )
    if not ids:
        raise NoDataError(
            f"no officers recorded in {column} {value!r}",
            hint=f"check the {column} name against the officers table",
        )
    return ids


def baseline_group(
    officers: pa.Table, subjects: list[str], baseline: BaselineGroup
) -> tuple[list[str], str]:
    """(officer ids, name) of the subjects' baseline group: their station, or their team —
    the same team name at the same station, since forces reuse team names ("Team A") at
    every station — with the subjects always in it. No group ([], "none") when the
    officers table does not say."""
    keys = ("team", "station") if baseline == "team" else ("station",)
    rows = {str(r["officer_id"]): r for r in officers.select(["officer_id", *keys]).to_pylist()}
    units = sorted(
        {
            tuple(str(rows[s][k]) for k in keys)
            for s in subjects
            if s in rows and rows[s][baseline] is not None
        }
    )
    if not units:
        return [], "none"
    group = sorted(
        {
            o
            for o, r in rows.items()
            if r[baseline] is not None and tuple(str(r[k]) for k in keys) in units
        }
        | set(subjects)
    )
    name = "; ".join(
        f"{baseline} {u[0]} at {u[1]}" if baseline == "team" else f"{baseline} {u[0]}"
        for u in units
    )
    return group, name


def screen(
    ws: WorkspaceLike,
    officers: list[str],
    start: datetime,
    end: datetime,
    *,
    params: AnalysisParams | None = None,
    inputs: Inputs | None = None,
    detail: list[str] | None = None,
) -> tuple[pa.Table, pa.Table]:
    """(screening table ranked, labelled occasions) for every pair among `officers`.

    detail: only these officers' pairs' occasions are described in full (label_occasions);
    the ranking is the same either way."""
    params = params or AnalysisParams()
    check_period(start, end)
    if inputs is None:
        inputs = analysis_inputs(ws, load_inputs(ws, [], start, end), officers, start, end, params)
    periods = device_periods(engine_fixes(inputs, officers, params), params, inputs.crs)
    return rank_pairs(inputs, periods, officers, start, end, params, detail=detail)


def rank_pairs(
    inputs: Inputs,
    periods: pa.Table,
    officers: list[str],
    start: datetime,
    end: datetime,
    params: AnalysisParams,
    *,
    detail: list[str] | None = None,
    ranked: bool = False,
) -> tuple[pa.Table, pa.Table]:
    """Label the pairs' occasions from device periods and rank the pairs (any engine's periods).

    ranked: the occasions of pairs outside `detail` only as far as their ranking needs
    (label_occasions(ranked=True)); the ranking is the same."""
    occ = label_occasions(inputs, periods, officers, params, detail=detail, ranked=ranked)
    return pair_statistics(occ, shared_hours(inputs, officers, start, end)), occ


def shared_hours(inputs: Inputs, officers: list[str], start: datetime, end: datetime) -> pa.Table:
    """Per pair of `officers`, the hours both were on duty at once in [start, end)."""
    con = inputs.connect()
    con.execute(f"""CREATE TEMP VIEW duty_clip AS
        SELECT * REPLACE (greatest(start, {to_us(start)}) AS start,
                          least("end", {to_us(end)}) AS "end") FROM duty""")  # noqa: S608  # relation names and numbers of the analysis, no input text
    hours = attribution.build_shared_duty_hours(con, officers, duty="duty_clip")
    con.close()
    return hours


def check_period(start: datetime, end: datetime) -> None:
    """Refuse a period that ends before it starts."""
    if to_us(end) <= to_us(start):
        raise ParameterError(
            "the period ends before it starts", hint="give --from earlier than --to"
        )


def investigate(
    ws: WorkspaceLike,
    subjects: list[str],
    start: datetime,
    end: datetime,
    *,
    params: AnalysisParams | None = None,
    out_dir: Path | str | None = None,
    case: str | None = None,
    baseline: BaselineGroup = "team",
    save: bool = False,
    sensitivity: bool = True,
) -> Investigation:
    """Occasions of the subjects, their vehicles' unexplained stops and their baseline.

    Written as a run (store/runs.py) when asked: `save=True` as the case's new run in the
    workspace (WS/runs/<case>/<run id>/, current once complete), or into `out_dir` itself.
    sensitivity: also evaluate every occasion at the other settings of
    `sensitivity.LADDER` (sensitivity.parquet, the occasions' `robustness`); False only to
    measure what that costs (bench/investigate.py).
    """
    params = params or AnalysisParams()
    if save and case is None:
        raise ParameterError(
            "a run saved in the workspace needs a case",
            hint="give case=REF, or out_dir=FOLDER instead of save=True",
        )
    check_period(start, end)
    subjects = sorted(set(subjects))
    if len(subjects) < 2:
        raise ParameterError(
            "an investigation needs at least two subjects", hint="give --subjects A,B"
        )
    w = open_workspace(ws)
    small = load_inputs(w, [], start, end)
    known = set(small.officers.column("officer_id").to_pylist())
    unknown = [s for s in subjects if s not in known]
    if unknown and known:
        raise NoDataError(
            f"officers {unknown} are not in the officers table",
            hint="check the ids, or ingest the officers file",
        )
    group: list[str] = []
    group_name = "none"
    if baseline != "none":
        group, group_name = baseline_group(small.officers, subjects, baseline)
    everyone = group or subjects
    # The subjects' tracks, their vehicles' stops and the sensitivity ladder's engine runs
    # and labelling need no occasion: in processes of their own while this one finds and
    # labels the occasions (in a large analysis; the same tables here). The stops and the
    # ladder take the subjects' part of the analysis window.
    large = _device_hours(small, subjects, start, end) >= FORK_DEVICE_HOURS
    # Only the fixes needed, in one pass over the files (their row groups overlap): the
    # analysis window [start, end) in the lean columns, the subjects' own fixes in full
    # with margins for their tracks.
    window, own = _window_and_tracks(w, small, everyone, subjects, start, end, params=params)
    with beside(
        partial(_subjects_tracks, own, subjects, start, end, params=params), forked=large
    ) as tracks_later:
        with beside(
            partial(
                _beside_occasions,
                window,
                subjects,
                start,
                end,
                params,
                sensitivity=sensitivity,
                covered=partial(
                    input_coverage,
                    small,
                    everyone,
                    subjects,
                    start,
                    end,
                    share=params.log_day_min_share,
                    area_m=params.premises_area_m,
                    silence=(params.log_silence_factor, params.log_silence_min_h),
                ),
            ),
            forked=large,
        ) as theirs:
            occ, stats, base = _occasions(
                window,
                everyone,
                subjects,
                start=start,
                end=end,
                params=params,
                baseline=baseline,
                group_name=group_name,
            )
            rungs, stop_table, input_cov = theirs()
            sens = (
                ladder(window, subjects, params, occ, rungs=rungs)
                if rungs is not None
                else SENSITIVITY.empty_table()
            )
        lines = robustness(sens, occ)
        occ = occ.append_column(
            pa.field("robustness", pa.string()),
            pa.array([lines.get(o) for o in occ.column("occasion_id").to_pylist()], pa.string()),
        )
        tracks = tracks_later()
    summary = _summary(
        w,
        case,
        subjects,
        start,
        end,
        params=params,
        crs=window.crs,
        occ=occ,
        stop_table=stop_table,
        base=base,
        tracks=tracks,
        input_cov=input_cov,
    )
    summary = replace(
        summary,
        sensitivity={
            "ladder": {
                name: [v if isinstance(v, str) else float(v) for v in values]
                for name, values in LADDER
            },
            "rule": SENSITIVITY_RULE,
        },
    )
    result = Investigation(
        None, occ, stop_table, peers_as_figures(stats, subjects), summary, sensitivity=sens
    )
    if save:
        assert case is not None
        result.run = write(RunStore(w.path).writer(case), result, tracks)
    elif out_dir is not None:
        result.run = write(RunWriter.to_folder(out_dir), result, tracks)
    if result.run is not None:
        result.out_dir = result.run.path
    return result


def _occasions(
    window: Inputs,
    everyone: list[str],
    subjects: list[str],
    *,
    start: datetime,
    end: datetime,
    params: AnalysisParams,
    baseline: BaselineGroup,
    group_name: str,
) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    """(the subjects' occasions, the pairs' statistics, the baseline's summary): the
    engine's periods of `everyone`'s devices, labelled (all their pairs when they are more
    than the subjects: the baseline)."""
    periods = device_periods(engine_fixes(window, everyone, params), params, window.crs)
    if len(everyone) > len(subjects):
        # the other pairs' occasions are only counted: labelled as far as their ranking needs
        stats, all_occ = rank_pairs(
            window, periods, everyone, start, end, params, detail=subjects, ranked=True
        )
        mine = pa.array(subjects, pa.string())
        occ = all_occ.filter(
            pc.and_(
                pc.is_in(all_occ.column("officer_a"), value_set=mine),
                pc.is_in(all_occ.column("officer_b"), value_set=mine),
            )
        )
        return occ, stats, baseline_summary(stats, subjects, group_name)
    occ = label_occasions(window, periods, subjects, params)
    stats = pair_statistics(
        occ.slice(0, 0),
        pa.table(
            {
                "officer_a": pa.array([], pa.string()),
                "officer_b": pa.array([], pa.string()),
                "shared_duty_h": pa.array([], pa.float64()),
            }
        ),
    )
    base = (
        {
            "group": "none",
            "note": "no baseline was asked for",
            "comparable": False,
            "why": "no comparison with other pairs was asked for",
        }
        if baseline == "none"
        else {
            "group": group_name,
            "note": f"no officers in the subjects' {baseline} besides them, so no baseline",
            "comparable": False,
            "why": f"no officers in the subjects' {baseline} besides them",
        }
    )
    return occ, stats, base


def _device_hours(small: Inputs, officers: list[str], start: datetime, end: datetime) -> float:
    """Hours the devices of `officers` were assigned to them in [start, end)."""
    spans = times_as_us(assigned_spans(small, officers, start, end))
    length = spans.column("end").to_numpy() - spans.column("start").to_numpy()
    return float(np.maximum(length, 0).sum()) / US / 3600


def _window_and_tracks(
    w: Workspace,
    small: Inputs,
    everyone: list[str],
    subjects: list[str],
    start: datetime,
    end: datetime,
    *,
    params: AnalysisParams,
) -> tuple[Inputs, Inputs]:
    """(`analysis_inputs(w, small, everyone, ...)`, `small` with the subjects' fixes in every
    column while assigned to them, in the case's period widened by TRACK_MARGIN): both read
    in one pass over the fixes files (`Workspace.fixes_within_many`)."""
    lean, theirs = w.fixes_within_many(
        [
            (window_spans(small, everyone, start, end, params), LEAN_FIXES),
            (assigned_spans(small, subjects, start - TRACK_MARGIN, end + TRACK_MARGIN), None),
        ]
    )
    return small.with_fixes(lean), small.with_fixes(theirs)


def _subjects_tracks(
    inputs: Inputs,
    subjects: list[str],
    start: datetime,
    end: datetime,
    *,
    params: AnalysisParams,
) -> pa.Table:
    """The subjects' tracks from `inputs` (`_window_and_tracks`' second): all their fixes
    inside the case's period (read with margins, then cut to it)."""
    return _within(_tracks(inputs, subjects, params), start, end)


def _beside_occasions(
    window: Inputs,
    subjects: list[str],
    start: datetime,
    end: datetime,
    params: AnalysisParams,
    *,
    sensitivity: bool,
    covered: Callable[[], dict[str, Any]],
) -> tuple[Rungs | None, pa.Table, dict[str, Any]]:
    """(the sensitivity ladder's rungs, or None when not asked; their vehicles' stops; what
    the inputs cover, `covered()`): what needs no occasion.

    The stops are of vehicles while assigned to the subjects, from their devices' part of
    the window (`their_part`: their_window's rows, not read again; find_stops keeps a fix
    only while its vehicle is assigned to a subject)."""
    rungs = rung_occasions(window, subjects, params) if sensitivity else None
    return (
        rungs,
        stops.subject_stops(their_part(window, subjects, start, end), params, subjects),
        covered(),
    )


def _within(tracks: pa.Table, start: datetime, end: datetime) -> pa.Table:
    """Fixes inside the case's period only: its scope ends there (the inputs are read with
    margins so that movement across the period's edges is interpolated right)."""
    t = tracks.column("time")
    keep = pc.and_(
        pc.greater_equal(t, pa.scalar(start, t.type)), pc.less(t, pa.scalar(end, t.type))
    )
    return tracks.filter(keep)


def peers_as_figures(stats: pa.Table, subjects: list[str]) -> pa.Table:
    """The baseline as a case may show it: the subjects' own pairs by name, every other pair
    by its figures only — its officers replaced by `peer N a` / `peer N b` (N its row), so
    officers outside the case's scope are never named in its run."""
    if not stats.num_rows:
        return stats
    mine = pa.array(subjects, pa.string())
    own = pc.and_(
        pc.is_in(stats.column("officer_a"), value_set=mine),
        pc.is_in(stats.column("officer_b"), value_set=mine),
    )
    n = np.arange(1, stats.num_rows + 1).astype(str)
    for col, side in (("officer_a", " a"), ("officer_b", " b")):
        peer = pa.array(np.char.add(np.char.add("peer ", n), side).astype(object), pa.string())
        i = stats.schema.get_field_index(col)
        stats = stats.set_column(
            i, stats.schema.field(col), pc.if_else(own, stats.column(col), peer)
        )
    return stats


def _tracks(inputs: Inputs, subjects: list[str], params: AnalysisParams) -> pa.Table:
    """Subjects' fixes while assigned to them and on duty (±30 minutes), with officer_id:
    one row per fix and subject holding its device then (and per assignment, should one
    subject's assignments of a device overlap), sorted by officer_id, device_id, time,
    src_file, src_line; every column nullable, times in µs UTC (as a DuckDB join gave them)."""
    fixes = inputs.fixes
    a = times_as_us(inputs.assignments.select(["officer_id", "device_id", "start", "end"]))
    a = a.filter(pc.is_in(a.column("officer_id"), value_set=pa.array(subjects, pa.string())))
    t = np.asarray(times_as_us(fixes.select(["time"])).column("time").to_numpy(), np.int64)
    devices = pc.unique(a.column("device_id").combine_chunks())
    row, held = overlapping(
        _codes(fixes.column("device_id"), devices),
        t,
        t + 1,  # the assignments with start <= t < end
        _codes(a.column("device_id"), devices),
        np.asarray(a.column("start").to_numpy(), np.int64),
        np.asarray(a.column("end").to_numpy(), np.int64),
    )
    officers = pc.unique(a.column("officer_id").combine_chunks())
    officers = officers.take(pc.sort_indices(officers))  # codes in text order
    who = _codes(a.column("officer_id"), officers)[held]
    if params.on_duty_only:
        # each subject's duty periods widened by the margin and merged (disjoint)
        m = int(TRACK_MARGIN.total_seconds() * US)
        duty = times_as_us(inputs.duty.select(["officer_id", "start", "end"]))
        duty = duty.filter(pc.is_in(duty.column("officer_id"), value_set=officers))
        on = merged(
            pa.table(
                {
                    "k": duty.column("officer_id"),
                    "s0": pc.subtract(duty.column("start"), m),
                    "s1": pc.add(duty.column("end"), m),
                }
            )
        )
        at, _ = overlapping(
            who,
            t[row],
            t[row] + 1,
            _codes(on.column("k"), officers) if on.num_rows else np.empty(0, np.int64),
            np.asarray(on.column("s0").to_numpy(), np.int64),
            np.asarray(on.column("s1").to_numpy(), np.int64),
        )
        row, who = row[at], who[at]
    # by officer, device, time, src_file, src_line (text by its byte order, as DuckDB sorts)
    taken = fixes.take(pa.array(row, pa.int64()))
    keys = [
        np.asarray(taken.column("src_line").to_numpy(), np.int64),
        _ranks(taken.column("src_file")),
        t[row],
        _ranks(taken.column("device_id")),
        who,
    ]
    order = np.lexsort(keys)
    taken, who = taken.take(pa.array(order, pa.int64())), who[order]
    table = pa.table({"officer_id": officers.take(pa.array(who, pa.int64()))})
    for name, kind in zip(taken.column_names, taken.schema.types, strict=True):
        column = taken.column(name)
        if name == "time":
            column = pc.cast(pc.cast(column, UTC_TS), pa.int64()).cast(UTC_TS)
        table = table.append_column(pa.field(name, kind), column)  # (nullable)
    return table


def _codes(column: pa.ChunkedArray | pa.Array, names: pa.Array) -> np.ndarray:
    """Each value's index in `names` (-1: not there)."""
    found = pc.fill_null(pc.index_in(column, value_set=names), -1)
    return np.asarray(found.to_numpy(), np.int64)


def _ranks(column: pa.ChunkedArray) -> np.ndarray:
    """Each text value's rank in byte order among the column's values."""
    names = pc.unique(column.combine_chunks())
    return _codes(column, names.take(pc.sort_indices(names)))


def _summary(
    w: Workspace,
    case: str | None,
    subjects: list[str],
    start: datetime,
    end: datetime,
    *,
    params: AnalysisParams,
    crs: str,
    occ: pa.Table,
    stop_table: pa.Table,
    base: dict[str, Any],
    tracks: pa.Table,
    input_cov: dict[str, Any],
) -> RunSummary:
    manifest = w.manifest
    counted = {
        str(v["values"]): int(v["counts"])
        for v in pc.value_counts(tracks.column("officer_id")).to_pylist()
    }
    findings = occ.column("finding").to_pylist()
    return RunSummary(
        case=case,
        subjects=tuple(subjects),
        period=Period(start, end),
        params=params.as_dict(),
        remote_rule=params.remote_rule(),
        road_rule=params.road_rule(),
        explained_rule="explained = any reason other than one_tasked",
        finding_rule="reason_found when explained; no_reason_found when every reason "
        "was assessable and none explains it; else not_assessable "
        "(not_assessed says which reason or flag, and why)",
        crs=crs,
        version=__version__,
        inputs=tuple(
            InputRecord(
                e.get("name"),
                e.get("sha256"),
                e.get("kind"),
                (e.get("counts") or {}).get("accepted"),
            )
            for e in manifest
        ),
        coverage=tuple(FixCoverage(s, counted.get(s, 0)) for s in subjects),
        counts=Counts(
            occasions=occ.num_rows,
            unexplained=findings.count("no_reason_found"),
            not_assessable=findings.count("not_assessable"),
            unexplained_stops_together=sum(
                bool(v) and f == "no_reason_found"
                for v, f in zip(occ.column("unexplained_stop").to_pylist(), findings, strict=True)
            ),
            stops=stop_table.num_rows,
        ),
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
            joined = pa.array([sep.join(v) for v in flat.column(name).to_pylist()], pa.string())
            flat = flat.set_column(i, name, joined)
        writer.csv("occasions", flat)
        writer.table("tracks", tracks)
        writer.table("stops", result.stops)
        writer.table("baseline", result.baseline)
        writer.table("sensitivity", result.sensitivity)
        return writer.commit(result.summary)


__all__ = [
    "LEAN_FIXES",
    "PARALLEL_FIXES",
    "SMALL_TABLES",
    "BaselineGroup",
    "Investigation",
    "WorkspaceLike",
    "analysis_inputs",
    "assigned_spans",
    "baseline_group",
    "check_period",
    "device_periods",
    "devices_of",
    "engine_fixes",
    "investigate",
    "load_inputs",
    "officers_in",
    "rank_pairs",
    "screen",
    "shared_hours",
    "their_window",
    "write",
]
