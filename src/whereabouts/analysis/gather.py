"""What an analysis reads: the workspace's small tables, the fixes of the officers'
devices while assigned (and the engine's subset of them), and the engine's periods.

Each function takes what it needs and returns tables; none leaves state behind. The
investigation (investigate.py), the screening and the sensitivity ladder (sensitivity.py)
gather their inputs here.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts import schema
from whereabouts.analysis.inputs import (
    TABLE_NAMES,
    US,
    Inputs,
    fetch,
    times_as_us,
    to_us,
    to_utc,
)
from whereabouts.analysis.intervals import last_at_or_before
from whereabouts.analysis.params import AnalysisParams
from whereabouts.arrays import mask
from whereabouts.spans import joined
from whereabouts.store import Workspace
from whereabouts.tracks.track import id_runs

PARALLEL_FIXES = 5_000_000  # the engine's windows in two processes from this many fixes
SMALL_TABLES = tuple(name for name in TABLE_NAMES if name != "fixes")  # all but the fixes

WorkspaceLike = Workspace | Path | str  # a Workspace, or the folder of one


def open_workspace(ws: WorkspaceLike) -> Workspace:
    """The workspace itself, or the one opened at the path given."""
    return ws if isinstance(ws, Workspace) else Workspace.open(ws)


LEAN_FIXES = ("device_id", "time", "x", "y", "accuracy_m")


def load_inputs(
    ws: WorkspaceLike,
    devices: list[str],
    start: datetime,
    end: datetime,
    *,
    lean: bool = False,
    tables_from: Inputs | None = None,
) -> Inputs:
    """The workspace's small tables whole, and the fixes of `devices` in [start, end).

    lean: only the fix columns the analysis reads (`LEAN_FIXES`), to keep a force-month of
    fixes in memory small; tracks for the output folder are read in full separately.
    """
    w = open_workspace(ws)
    tables = (
        {name: getattr(tables_from, name) for name in SMALL_TABLES}
        if tables_from is not None
        else w.tables(SMALL_TABLES)
    )
    if not devices:
        fixes = Inputs().fixes
    elif not lean:
        fixes = w.fixes(devices=sorted(set(devices)), start=start, end=end)
    else:
        con = w.connect()
        try:
            fixes = con.sql(
                f"SELECT {', '.join(LEAN_FIXES)} FROM fixes WHERE list_contains($devices, "  # noqa: S608  # relation names and numbers of the analysis, no input text
                "device_id) AND time >= $start AND time < $end ORDER BY device_id, time",
                params={"devices": sorted(set(devices)), "start": start, "end": end},
            ).to_arrow_table()
        finally:
            con.close()
        assert fixes is not None
        fixes = fixes.cast(pa.schema([schema.FIXES.field(c) for c in LEAN_FIXES]))
    return Inputs(fixes=fixes, crs=w.crs, timezone=w.timezone, **tables)


def devices_of(inputs: Inputs, officers: list[str], start: datetime, end: datetime) -> list[str]:
    """Devices assigned to any of `officers` at some time in [start, end)."""
    con = inputs.connect()
    con.execute("CREATE TEMP TABLE o(officer_id VARCHAR)")
    con.executemany("INSERT INTO o VALUES (?)", [[x] for x in sorted(set(officers))])
    t = fetch(
        con,
        """
        SELECT DISTINCT device_id FROM assignments
        WHERE officer_id IN (SELECT officer_id FROM o)
          AND start < $end AND "end" > $start ORDER BY 1""",
        {"start": to_us(start), "end": to_us(end)},
    )
    return [str(d) for d in t.column("device_id").to_pylist()]


def device_periods(fixes: pa.Table, params: AnalysisParams, crs: str) -> pa.Table:
    """The engine's raw within-distance periods of every device pair in `fixes`."""
    from whereabouts.engine import within_periods

    if fixes.num_rows == 0:
        return pa.table(
            {
                "device_a": pa.array([], pa.string()),
                "device_b": pa.array([], pa.string()),
                "start": pa.array([], pa.timestamp("us", tz="UTC")),
                "end": pa.array([], pa.timestamp("us", tz="UTC")),
                "min_distance_m": pa.array([], pa.float64()),
            }
        )
    ep = params.encounter
    # Two processes over the time windows of a large table (the same periods, bit for bit)
    workers = 2 if fixes.num_rows >= PARALLEL_FIXES and (os.cpu_count() or 1) >= 2 else 1
    return within_periods(fixes, ep, crs=crs, workers=workers)


def merged(rows: pa.Table) -> pa.Table:
    """`k, s0, s1` rows (µs) joined per key `k` into disjoint runs, overlapping or touching
    ones joined (spans.joined), sorted by k, s0."""
    if rows.num_rows == 0:
        return rows
    keys = pc.unique(rows.column("k")).sort()
    code = pc.index_in(rows.column("k"), value_set=keys).to_numpy().astype(np.int64)
    j = joined(code, rows.column("s0").to_numpy(), rows.column("s1").to_numpy())
    return pa.table({"k": keys.take(pa.array(code[j.first])), "s0": j.start, "s1": j.end})


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
    con.register("_mine", pa.table({"officer_id": pa.array(sorted(set(officers)), pa.string())}))
    mine = 'officer_id IN (SELECT officer_id FROM _mine) AND "end" > start'
    span = merged(
        fetch(
            con,
            f"""SELECT device_id AS k, start - {pad} AS s0,
                                   "end" + {pad} AS s1 FROM assignments WHERE {mine}""",  # noqa: S608  # relation names and numbers of the analysis, no input text
        )
    )
    if params.on_duty_only:
        con.register("_span", span)
        con.register(
            "_duty",
            merged(
                fetch(
                    con,
                    f"""SELECT 0 AS k, start - {pad} AS s0,
                                                  "end" + {pad} AS s1 FROM duty WHERE {mine}""",  # noqa: S608  # relation names and numbers of the analysis, no input text
                )
            ),
        )
        span = merged(
            fetch(
                con,
                """SELECT a.k, greatest(a.s0, d.s0) AS s0,
                                           least(a.s1, d.s1) AS s1
                                    FROM _span a JOIN _duty d ON d.s0 < a.s1 AND a.s0 < d.s1""",
            )
        )
    con.close()
    spans = span.rename_columns(["device_id", "s0", "s1"])
    if spans.num_rows == 0:
        return fixes.slice(0, 0)
    keep = inside_spans(fixes, spans)
    return fixes if keep.all() else fixes.filter(mask(keep))


def inside_spans(fixes: pa.Table, spans: pa.Table) -> np.ndarray:
    """Whether each fix (device_id, time) lies in a span of its device: `spans` are
    `device_id, s0, s1` (µs, s0 <= t < s1), disjoint per device and sorted by device_id, s0
    (as `merged` gives them).

    Fixes in (device, time) order, each device's in one run, as a workspace returns them:
    each span's fixes found by a binary search of a packed (run, time) key. Otherwise each
    fix is searched against the last span of its device starting at or before it."""
    if fixes.num_rows == 0 or spans.num_rows == 0:
        return np.zeros(fixes.num_rows, bool)
    names = pc.unique(spans.column("device_id"))  # sorted, as the spans are
    heads, lengths = id_runs(fixes.column("device_id"))  # matched per run of one device
    code = pc.index_in(heads, value_set=names)
    t = pc.cast(pc.cast(fixes.column("time"), schema.UTC_TS), pa.int64()).to_numpy()
    scode = pc.index_in(spans.column("device_id"), value_set=names).to_numpy().astype(np.int64)
    s0, s1 = spans.column("s0").to_numpy(), spans.column("s1").to_numpy()
    known = pc.is_valid(code).to_numpy(zero_copy_only=False)
    rcode = pc.fill_null(code, -1).to_numpy().astype(np.int64)
    n = len(t)
    first = np.cumsum(lengths) - lengths  # each run's first fix
    fresh = np.zeros(n, bool)
    fresh[first] = True
    t_lo, t_span = int(t.min()), int(t.max()) - int(t.min()) + 1
    runs = rcode[known]
    if (
        len(np.unique(runs)) == len(runs)  # a device in one run at most
        and t_span * len(lengths) < 2**62
        and bool(((t[1:] >= t[:-1]) | fresh[1:]).all())
    ):
        run_of = np.full(len(names), -1, np.int64)
        run_of[runs] = np.flatnonzero(known)
        r = run_of[scode]
        has = r >= 0
        r, lo, hi = r[has], s0[has], s1[has]
        key = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths) * t_span + (t - t_lo)
        a = np.searchsorted(key, r * t_span + np.clip(lo - t_lo, 0, t_span), side="left")
        b = np.searchsorted(key, r * t_span + np.clip(hi - t_lo, 0, t_span), side="left")
        b = np.maximum(a, b)
        delta = np.bincount(a, minlength=n + 1) - np.bincount(b, minlength=n + 1)
        inside: np.ndarray = np.cumsum(delta)[:n] > 0
        return inside
    fcode = np.repeat(np.maximum(rcode, 0), lengths)
    i = last_at_or_before(scode, s0, fcode, t)
    result: np.ndarray = np.repeat(known, lengths) & (i >= 0) & (t < s1[np.maximum(i, 0)])
    return result


def assigned_spans(
    inputs: Inputs, officers: list[str], start: datetime, end: datetime, pad_s: float = 0.0
) -> pa.Table:
    """`device_id, start, end`: each device's assignments to any of `officers`, widened by
    `pad_s` either side and cut to [start, end) — the fixes an analysis of them can use."""
    a = inputs.assignments
    keep = pc.and_(
        pc.is_in(a.column("officer_id"), pa.array(sorted(set(officers)), pa.string())),
        pc.greater(a.column("end"), a.column("start")),
    )
    a = times_as_us(a.filter(keep))
    pad = int(pad_s * US)
    t0 = np.maximum(a.column("start").to_numpy() - pad, to_us(start))
    t1 = np.minimum(a.column("end").to_numpy() + pad, to_us(end))
    return pa.table({"device_id": a.column("device_id"), "start": to_utc(t0), "end": to_utc(t1)})


def analysis_inputs(
    ws: WorkspaceLike,
    small: Inputs,
    officers: list[str],
    start: datetime,
    end: datetime,
    params: AnalysisParams,
) -> Inputs:
    """`small` with the lean fixes an analysis of `officers` in [start, end) reads: each
    device's while assigned to one of them, widened by `2 * (max_gap_s + merge_gap_s)`.

    Every fix the analysis uses lies there: the engine's (engine_fixes keeps a subset),
    the samples and statistics of occasions (inside assignments, interpolating only across
    gaps up to max_gap_s), a crewed car's track pieces (cut to its assignments) and the
    vehicles' stops (while assigned); a fix further out is further than max_gap_s from any
    of them, so leaving it out changes no result.
    """
    spans = window_spans(small, officers, start, end, params)
    return small.with_fixes(open_workspace(ws).fixes_within(spans, LEAN_FIXES))


def window_spans(
    small: Inputs, officers: list[str], start: datetime, end: datetime, params: AnalysisParams
) -> pa.Table:
    """The spans whose fixes `analysis_inputs` reads (in `LEAN_FIXES`): each device's
    assignments to `officers` widened by `2 * (max_gap_s + merge_gap_s)`, cut to [start, end)."""
    return assigned_spans(small, officers, start, end, 2 * (params.max_gap_s + params.merge_gap_s))


def their_window(
    w: Workspace,
    small: Inputs,
    everyone: list[str],
    subjects: list[str],
    start: datetime,
    end: datetime,
    *,
    params: AnalysisParams,
) -> Inputs:
    """The rows of `analysis_inputs(w, small, everyone, ...)` of the devices assigned to
    `subjects`, read on their own: each device's fixes there depend only on its own spans."""
    theirs = pc.unique(assigned_spans(small, subjects, start, end).column("device_id"))
    pad = 2 * (params.max_gap_s + params.merge_gap_s)
    spans = assigned_spans(small, everyone, start, end, pad)
    return small.with_fixes(
        w.fixes_within(
            spans.filter(pc.is_in(spans.column("device_id"), value_set=theirs)), LEAN_FIXES
        )
    )


def their_part(window: Inputs, subjects: list[str], start: datetime, end: datetime) -> Inputs:
    """The rows of `window` (an `analysis_inputs`) of the devices assigned to `subjects` in
    [start, end): `their_window`'s rows, taken from the window instead of read again."""
    theirs = pc.unique(assigned_spans(window, subjects, start, end).column("device_id"))
    fixes = window.fixes
    return window.with_fixes(fixes.filter(pc.is_in(fixes.column("device_id"), value_set=theirs)))


__all__ = [
    "LEAN_FIXES",
    "PARALLEL_FIXES",
    "SMALL_TABLES",
    "WorkspaceLike",
    "analysis_inputs",
    "assigned_spans",
    "device_periods",
    "devices_of",
    "engine_fixes",
    "inside_spans",
    "load_inputs",
    "open_workspace",
    "their_part",
    "their_window",
    "window_spans",
]
