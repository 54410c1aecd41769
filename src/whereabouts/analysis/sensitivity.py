"""Sensitivity: would each occasion still be there, and still read the same, at other
settings?

`ladder(window, subjects, params, occasions)` evaluates the subjects' pairs again at every
rung of `LADDER` — distance, max gap, minimum duration, certain-only and possible under
position error, the home buffer and the remote rule's thresholds — one setting changed at
a time, through the same engine and labelling as the investigation, and returns
`SENSITIVITY`: per occasion and rung, whether an occasion of the same pair overlaps it
(`found`), for how long in all (`duration_s`), the weakest finding among them, and flags.
`robustness(table, occasions)` says it per occasion in plain words ("found at every
distance from 50 m to 200 m; not at 25 m; …").

The engine's work is reused: the widest rung (largest distance and gap, "possible" under
position error) runs on the subjects' fixes once; every within-distance period of a smaller
distance or gap lies inside one of its periods (a period at a larger distance contains
those at a smaller one; a larger gap only adds known positions), so the other rungs read
only the fixes within those periods, widened by the largest gap and merge gap. The
distance, gap, position and minimum-duration rungs are labelled in one pass over tagged
copies of the data (ids ending in `SEP` and the rung's number) at the smallest minimum
duration, then each cut to its own (the minimum is an occasion's last filter); a gap
rung's copy is labelled at its own gap (the gap also governs the labelling's track pieces
and interpolation: label_occasions(gaps=...)). That pass describes occasions as screening
does (times, finding, time accounting), so their `flags` are left null. The home and remote rungs change only flags: those are checked again on the
investigated occasions themselves. A rung at the investigation's own setting is the
investigation's occasions.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.analysis.extent import register_area
from whereabouts.analysis.inputs import US, Inputs, times_as_us
from whereabouts.analysis.occasions import CodedFixes
from whereabouts.analysis.params import AnalysisParams
from whereabouts.arrays import mask
from whereabouts.schema import FLAGS
from whereabouts.vocabulary import reason_codes

# (parameter, values): each rung changes one setting of the investigation's.
LADDER: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("distance_m", (25.0, 50.0, 100.0, 200.0)),
    ("max_gap_s", (120.0, 300.0, 600.0)),
    ("min_duration_s", (60.0, 300.0, 600.0, 900.0)),
    ("position", ("certain", "possible")),
    ("home_buffer_m", (25.0, 50.0, 100.0)),
    ("remote_max_incidents", (10.0, 20.0, 40.0)),
    ("remote_incident_radius_m", (250.0, 500.0, 1000.0)),
)
SENSITIVITY_RULE = (
    "each occasion is looked for again with one setting changed at a time; "
    "it counts as found at a setting when an occasion of the same pair "
    "there overlaps it in time, and its duration is theirs in all"
)
SENSITIVITY = pa.schema(
    [
        pa.field("occasion_id", pa.string(), nullable=False),
        pa.field("parameter", pa.string(), nullable=False),
        pa.field("value", pa.string(), nullable=False),
        pa.field("found", pa.bool_(), nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
        pa.field("finding", pa.string()),
        pa.field("flags", pa.list_(pa.string())),
    ]
)


def _with(params: AnalysisParams, **values: float) -> AnalysisParams:
    """`params` with some settings changed (the engine's among them)."""
    return AnalysisParams.of({**params.as_dict(), **values})


def _value_text(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def _periods(fixes: pa.Table, params: AnalysisParams, crs: str, kind: str = "within") -> pa.Table:
    from whereabouts.analysis.gather import device_periods
    from whereabouts.engine import EncounterParams, within_periods

    if kind == "within" or fixes.num_rows == 0:
        return device_periods(fixes, params, crs)
    ep = EncounterParams(
        distance_m=params.distance_m,
        max_gap_s=params.max_gap_s,
        merge_gap_s=params.merge_gap_s,
        min_duration_s=params.min_duration_s,
    )
    return within_periods(fixes, ep, crs=crs, kind=kind)  # type: ignore[arg-type]


def _kinds(fixes: pa.Table, params: AnalysisParams, crs: str) -> dict[str, pa.Table]:
    """The within, certain and possible periods of `fixes` in one engine run (each kind's
    periods are the same whichever others are found: engine.encounters.run)."""
    from whereabouts.engine.encounters import raw_periods_table, run
    from whereabouts.engine.periods import KIND_NAMES

    if fixes.num_rows == 0:
        empty = _periods(fixes, params, crs)
        return dict.fromkeys(KIND_NAMES, empty)
    r = run(fixes, params.encounter, crs=crs)
    return {
        name: raw_periods_table(r.ids, r.periods.of_kind(code))
        for code, name in enumerate(KIND_NAMES)
    }


def _within(fixes: pa.Table, periods: pa.Table, pad_s: float) -> pa.Table:
    """The fixes of each device inside some period of it (either side), widened by pad_s."""
    if fixes.num_rows == 0 or periods.num_rows == 0:
        return fixes.slice(0, 0)
    p = times_as_us(periods)
    dev = pa.concat_arrays(
        [p.column("device_a").combine_chunks(), p.column("device_b").combine_chunks()]
    )
    s = np.concatenate([p.column("start").to_numpy()] * 2) - int(pad_s * US)
    e = np.concatenate([p.column("end").to_numpy()] * 2) + int(pad_s * US)
    names = pc.unique(dev)
    names = names.take(pc.sort_indices(names))
    code = pc.index_in(dev, value_set=names).to_numpy()
    order = np.lexsort((s, code))
    code, s, e = code[order], s[order], e[order]
    # each device's spans merged: a running maximum of ends, a new span where one starts
    # after every earlier one ended
    f_code = pc.index_in(fixes.column("device_id").cast(pa.string()), value_set=names)
    known = pc.is_valid(f_code).to_numpy(zero_copy_only=False)
    fc = pc.fill_null(f_code, 0).to_numpy().astype(np.int64)
    t = times_as_us(fixes.select(["time"])).column("time").to_numpy()
    keep = np.zeros(fixes.num_rows, bool)
    for c in np.unique(code):  # per device (few: the subjects' radios and cars)
        sel = code == c
        cs, ce = s[sel], np.maximum.accumulate(e[sel])
        mine = known & (fc == c)
        i = np.searchsorted(cs, t[mine], side="right") - 1
        inside = (i >= 0) & (t[mine] <= ce[np.maximum(i, 0)])
        keep[np.flatnonzero(mine)[inside]] = True
    return fixes.filter(mask(keep))


def _span(inputs: Inputs) -> tuple[datetime, datetime]:
    """The fixes' time span (the analysis window they were read for), widened a second."""
    t = times_as_us(inputs.fixes.select(["time"])).column("time").to_numpy()
    if not len(t):
        return datetime.fromtimestamp(0, UTC), datetime.fromtimestamp(1, UTC)
    return (
        datetime.fromtimestamp(int(t.min()) // US - 1, UTC),
        datetime.fromtimestamp(int(t.max()) // US + 1, UTC),
    )


SEP = "#"  # joins a rung's number to the ids of its copy of the data (sorts before 0-9, A-z)


def _tagged(col: pa.ChunkedArray | pa.Array, tag: str) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    arr = arr.cast(pa.string())
    return pc.if_else(pc.is_valid(arr), pc.binary_join_element_wise(arr, tag, ""), arr)


def _copies(window: Inputs, n: int, subjects: list[str]) -> Inputs:
    """`window` with n copies of everything keyed by officer or device, the ids of copy i
    ending in SEP + i: the rungs of one batch are labelled in one pass, apart. Of the duty
    roster, only the subjects' entries: the labelling reads an officer's roster only for
    that officer's own pieces and occasions (the on-duty cut, shared duty, on duty, outside
    area and their assessability), unlike the logs, whose every record counts."""

    def each(table: pa.Table, columns: tuple[str, ...]) -> pa.Table:
        # each column's distinct ids tagged once per copy, then taken for its rows
        coded = {
            c: table.column(c).combine_chunks().cast(pa.string()).dictionary_encode()
            for c in columns
            if c in table.column_names
        }
        parts = []
        for i in range(n):
            t = table
            for c, ids in coded.items():
                tagged = _tagged(ids.dictionary, f"{SEP}{i}").take(ids.indices)
                t = t.set_column(t.schema.get_field_index(c), c, tagged)
            parts.append(t)
        return pa.concat_tables(parts) if parts else table.slice(0, 0)

    homes = pc.equal(window.places.column("kind"), "home")
    places = pa.concat_tables(
        [
            window.places.filter(pc.invert(homes)),
            each(window.places.filter(homes), ("owner_officer_id",)),
        ]
    )
    return replace(
        window,
        fixes=each(window.fixes, ("device_id",)),
        devices=each(window.devices, ("device_id",)),
        officers=each(window.officers, ("officer_id",)),
        assignments=each(window.assignments, ("officer_id", "device_id")),
        duty=each(
            window.duty.filter(
                pc.is_in(
                    window.duty.column("officer_id").cast(pa.string()),
                    value_set=pa.array(sorted(set(subjects)), pa.string()),
                )
            ),
            ("officer_id",),
        ),
        attachments=each(window.attachments, ("officer_id", "device_id")),
        places=places,
    )


def _near_rows(
    table: pa.Table, names: pa.Array, dev: pa.Array, s: np.ndarray, e: np.ndarray, pad: int
) -> np.ndarray:
    """The rows (ascending) of `table` (coded fixes: `code` an index in `names`, sorted by
    code) within `pad` µs of a span [s, e] of their device `dev` (ids)."""
    if not len(dev) or not table.num_rows:
        return np.zeros(0, np.int64)
    code, t = table.column("code").to_numpy(), table.column("time").to_numpy()
    bound = np.searchsorted(code, np.arange(len(names) + 1))
    pcode = np.asarray(
        pc.fill_null(pc.index_in(dev, value_set=names), -1).to_numpy(zero_copy_only=False),
        np.int64,
    )
    by = np.lexsort((s, pcode))
    pcode, s, e = pcode[by], s[by] - pad, e[by] + pad
    rows = [np.zeros(0, np.int64)]
    for k in np.unique(pcode[pcode >= 0]):  # per device (few: the subjects' own)
        sel = slice(*np.searchsorted(pcode, [k, k + 1]))
        ks, ke = s[sel], np.maximum.accumulate(e[sel])
        lo, hi = int(bound[k]), int(bound[k + 1])
        j = np.searchsorted(ks, t[lo:hi], side="right") - 1
        rows.append(np.flatnonzero((j >= 0) & (t[lo:hi] <= ke[np.maximum(j, 0)])) + lo)
    return np.concatenate(rows)


def _near_copies(
    one: CodedFixes, periods: list[pa.Table], crews: pa.Table, pad_s: float
) -> CodedFixes:
    """`one.copies` with copy i (its devices called `name + SEP + i`) holding only the fixes
    within `pad_s` of a period of copy i's `periods[i]` of their device (either side), or
    of a time two subjects held it at once (`crews`: `_crews`, `device_id, start, end` µs).

    All a copy's labelling interpolates from: its samples lie in its occasions' pieces,
    which lie inside its periods (joined at most a merge gap apart) or, for a device two
    officers held at once, inside those times (attribution.build_pieces); an instant is
    interpolated only between the fixes around it at most a max gap apart (or at a fix
    there), so pad_s = the largest max gap + the merge gap keeps every fix that is used and
    any fix left out would not have been (occasions.sample_pieces)."""
    n = len(one.names)
    every = pa.concat_arrays([_tagged(one.names, f"{SEP}{i}") for i in range(len(periods))])
    order = np.asarray(pc.sort_indices(every).to_numpy(), np.int64)
    new = np.empty_like(order)
    new[order] = np.arange(len(order))  # copy i's device k is new code new[i * n + k]
    pad = int(pad_s * US)
    spans = [
        (
            pa.concat_arrays(
                [p.column(c).combine_chunks().cast(pa.string()) for c in ("device_a", "device_b")]
                + [crews.column("device_id").combine_chunks().cast(pa.string())]
            ),
            np.concatenate([p.column("start").to_numpy()] * 2 + [crews.column("start").to_numpy()]),
            np.concatenate([p.column("end").to_numpy()] * 2 + [crews.column("end").to_numpy()]),
        )
        for p in (times_as_us(p) for p in periods)
    ]
    # the rows near any copy's spans first (one pass over every fix), then each copy's
    # among them
    some = _near_rows(
        one.table,
        one.names,
        pa.concat_arrays([pa.array([], pa.string())] + [d for d, _, _ in spans]),
        np.concatenate([np.zeros(0, np.int64)] + [s for _, s, _ in spans]),
        np.concatenate([np.zeros(0, np.int64)] + [e for _, _, e in spans]),
        pad,
    )
    near = one.table.take(pa.array(some))
    code = near.column("code").to_numpy()
    rows: list[np.ndarray] = [np.zeros(0, np.int64)]
    codes: list[np.ndarray] = [np.zeros(0, np.int64)]
    for i, (dev, s, e) in enumerate(spans):
        mine = _near_rows(near, one.names, dev, s, e, pad)
        rows.append(mine)
        codes.append(new[i * n + code[mine]])
    row, new_code = np.concatenate(rows), np.concatenate(codes)
    by = np.argsort(new_code, kind="stable")  # each device's rows stay in their order
    table = near.take(pa.array(row[by])).set_column(0, "code", pa.array(new_code[by]))
    return CodedFixes(every.take(pa.array(order)), table)


def _crews(assignments: pa.Table, officers: list[str]) -> pa.Table:
    """`device_id, start, end` (µs): the times two of `officers` held a device at once (as
    attribution.select_assignments and build_pieces read the assignments)."""
    con = duckdb.connect()
    con.register(
        "held", times_as_us(assignments.select(["officer_id", "device_id", "start", "end"]))
    )
    con.register("who", pa.table({"officer_id": pa.array(sorted(set(officers)), pa.string())}))
    spans = con.sql("""
        WITH a AS (SELECT * FROM held
                   WHERE officer_id IN (SELECT officer_id FROM who) AND "end" > start)
        SELECT CAST(x.device_id AS VARCHAR) AS device_id,
               CAST(greatest(x.start, y.start) AS BIGINT) AS start,
               CAST(least(x."end", y."end") AS BIGINT) AS "end"
        FROM a x JOIN a y ON x.device_id = y.device_id
            AND x.officer_id < y.officer_id AND x.start < y."end" AND y.start < x."end"
        ORDER BY ALL""").to_arrow_table()
    con.close()
    assert spans is not None
    return spans


def _batch(
    window: Inputs,
    subjects: list[str],
    label: AnalysisParams,
    periods: list[pa.Table],
    gaps: list[float | None],
) -> list[pa.Table]:
    """Label each of `periods` (device periods of one rung) with `label`, all in one pass
    over copies of the data, copy i's devices at max gap `gaps[i]` (None: label's); each
    rung's occasions with their own ids back."""
    from whereabouts.analysis.labelling import label_occasions

    devices = pc.unique(window.fixes.column("device_id").cast(pa.string())).to_pylist()
    own = {f"{d}{SEP}{i}": g for i, g in enumerate(gaps) if g is not None for d in devices}
    tagged = []
    for i, p in enumerate(periods):
        for c in ("device_a", "device_b"):
            p = p.set_column(p.schema.get_field_index(c), c, _tagged(p.column(c), f"{SEP}{i}"))
        tagged.append(p)
    officers = [f"{o}{SEP}{i}" for i in range(len(periods)) for o in subjects]
    one = CodedFixes.of(window.fixes)  # the copies' coding made from it
    # With the fixes coded (`coded`), the labelling reads the fixes table only for the
    # track pieces of devices two of its officers held at once (attribution.build_coverage):
    # only those devices' fixes are copied (a crewed car's, not 8 copies of every fix).
    crews = _crews(window.assignments, subjects)
    shared = window.with_fixes(
        window.fixes.filter(
            pc.is_in(
                window.fixes.column("device_id").cast(pa.string()),
                value_set=pc.unique(crews.column("device_id")),
            )
        )
    )
    # described only as far as screening describes (detail=[]): times, finding, time
    # accounting — what a rung is judged by; its flags are not all checked there
    occ = label_occasions(
        _copies(shared, len(periods), subjects),
        pa.concat_tables(tagged),
        officers,
        label,
        workers=1,
        detail=[],
        gaps=own or None,
        coded=_near_copies(
            one,
            periods,
            crews,
            max([label.max_gap_s, *(g for g in gaps if g is not None)]) + label.merge_gap_s,
        ),
    )
    occ = occ.set_column(
        occ.schema.get_field_index("flags"), "flags", pa.nulls(occ.num_rows, pa.list_(pa.string()))
    )
    a = occ.column("officer_a").to_pylist()
    which = np.array([int(x.rsplit(SEP, 1)[1]) for x in a], np.int64)
    rung = pa.array(which)
    for c in ("officer_a", "officer_b"):
        occ = occ.set_column(
            occ.schema.get_field_index(c),
            c,
            pa.array([x.rsplit(SEP, 1)[0] for x in occ.column(c).to_pylist()], pa.string()),
        )
    return [occ.filter(pc.equal(rung, i)) for i in range(len(periods))]


def _at_min_duration(occ: pa.Table, m: float) -> pa.Table:
    """Occasions labelled at a smaller minimum duration as they are at `m`: those lasting
    at least m (the minimum is the last filter of an occasion), with their finding again."""
    occ = occ.filter(pc.greater_equal(occ.column("duration_s"), m))
    explained = pc.less(occ.column("unexplained_s"), m)
    unassessed = pa.array(
        [
            any(x.split(":")[0] in reason_codes() for x in v or [])
            for v in occ.column("not_assessed").to_pylist()
        ],
        pa.bool_(),
    )
    finding = pc.if_else(
        explained, "reason_found", pc.if_else(unassessed, "not_assessable", "no_reason_found")
    )
    return occ.set_column(occ.schema.get_field_index("finding"), "finding", finding)


# The flag rules a flag rung changes, by its setting: each rule reads settings of its own
# only (the home rule the home buffer; the remote rule and its withdrawal the remote ones).
RULE_OF = {
    "home_buffer_m": "home",
    "remote_max_incidents": "remote",
    "remote_incident_radius_m": "remote",
}


def _flag_rungs(
    window: Inputs, params: AnalysisParams, occasions: pa.Table, rungs: list[tuple[str, float]]
) -> list[pa.Table]:
    """The investigated occasions with their home and remote flags again at each rung (a
    home buffer or remote threshold): only flags change there, not the occasions. Each
    rule runs once at the investigation's settings and once at each rung of its own
    settings (`RULE_OF`): at another rule's rung, what it finds is the same."""
    from whereabouts.analysis import context, reasons

    # the flags read no fixes (and the stationary and outside_area rules, which read the
    # occasions' own columns, are not run: `sens_none`)
    con = window.with_fixes(window.fixes.slice(0, 0)).connect()
    con.register(
        "sens_arrow",
        times_as_us(
            occasions.select(
                [
                    "occasion_id",
                    "officer_a",
                    "officer_b",
                    "start",
                    "end",
                    "x",
                    "y",
                    "stationary",
                    "stopped_s",
                ]
            )
        ),
    )
    con.execute("CREATE TABLE sens_w AS SELECT *, NULL::DOUBLE AS spread_m FROM sens_arrow")
    con.execute("CREATE VIEW sens_none AS SELECT * FROM sens_w WHERE false")
    # macros and evid (no flag rule reads the tasks)
    reasons.prepare_evidence(con)
    # the area the records cover, made once for every rung (the incident log's days and
    # silences too: extent.register_log_days keeps them for the connection)
    register_area(con, params, "sens_w", "sens_area")
    scope = context.Scope("sens_w", "sens_none")
    found: dict[tuple[str, str, float], dict[str, set[str]]] = {}
    # the settings the remote rule's activity table was last made at (all but
    # remote_max_incidents, which it does not read: context.remote_activity)
    activity_at: list[AnalysisParams] = []

    def flags_of(rule: str, name: str = "", value: float = 0.0) -> dict[str, set[str]]:
        """The occasions' flags of `rule` with setting `name` at `value` (no name: at the
        investigation's settings)."""
        key = (rule, name, value)
        if key not in found:
            variant = _with(params, **{name: value}) if name else params
            con.execute("DELETE FROM evid")
            if rule == "remote":
                made = replace(variant, remote_max_incidents=0.0)
                if activity_at != [made]:
                    context.remote_activity(con, variant, scope)
                    activity_at[:] = [made]
                context.remote_flags(con, variant, scope)
                context.withdraw_remote(con, variant, "sens_w", area="sens_area")
            else:
                context.FLAG_RULES[rule].find(con, variant, scope)
            got: dict[str, set[str]] = {}
            for r in con.sql("SELECT occasion_id, label FROM evid WHERE kind = 'flag'").fetchall():
                got.setdefault(r[0], set()).add(r[1])
            found[key] = got
        return found[key]

    out = []
    ids = occasions.column("occasion_id").to_pylist()
    kept = [
        {f for f in fs if f not in ("home", "remote")}
        for fs in occasions.column("flags").to_pylist()
    ]
    for name, value in rungs:
        by_rule = [
            flags_of(rule, name, value) if RULE_OF[name] == rule else flags_of(rule)
            for rule in ("home", "remote")
        ]
        flags = [
            sorted(k.union(*(got.get(o, ()) for got in by_rule)), key=FLAGS.index)
            for k, o in zip(kept, ids, strict=True)
        ]
        out.append(
            occasions.set_column(
                occasions.schema.get_field_index("flags"),
                "flags",
                pa.array(flags, pa.list_(pa.string())),
            )
        )
    con.close()
    return out


def _their_window(window: Inputs, subjects: list[str]) -> Inputs:
    """`window` with only the fixes of the subjects' devices: every rung labels only their
    pairs."""
    from whereabouts.analysis.gather import devices_of

    theirs = pa.array(devices_of(window, subjects, *_span(window)), pa.string())
    return window.with_fixes(
        window.fixes.filter(
            pc.is_in(window.fixes.column("device_id").cast(pa.string()), value_set=theirs)
        )
    )


Rungs = dict[tuple[str, str], pa.Table]  # (parameter, value as text) -> its occasions


def rung_occasions(window: Inputs, subjects: list[str], params: AnalysisParams) -> Rungs:
    """The subjects' occasions at each rung the engine and the labelling decide (distance,
    gap, minimum duration, position), by (parameter, value text): all the ladder needs
    besides the investigation's own occasions, so it may run before or beside their
    labelling (investigate runs it in a process of its own)."""
    from whereabouts.analysis.gather import engine_fixes

    window = _their_window(window, subjects)
    widest = _with(
        params,
        distance_m=max(params.distance_m, *LADDER[0][1]),
        max_gap_s=max(params.max_gap_s, *LADDER[1][1]),
    )
    fixes = engine_fixes(window, subjects, widest)
    wide = _periods(fixes, widest, window.crs, "possible")
    # the engine's fixes at the widest rung hold every fix any rung needs (engine_fixes: a
    # wider gap only widens them); more fixes than needed give periods outside the
    # assignments and duty, which the labelling clips
    near = _within(fixes, wide, widest.max_gap_s + widest.merge_gap_s)

    def periods_at(variant: AnalysisParams, kind: str = "within") -> pa.Table:
        return _periods(near, variant, window.crs, kind)

    at_base = _kinds(near, params, window.crs)  # within (the investigation's), certain, possible
    base_periods = at_base["within"]

    # One pass: the distance, gap and position rungs and the minimum durations, labelled
    # at the largest distance (the samples keep every instant within it) and the smallest
    # minimum duration, each gap rung's copy at its own gap, then each cut to its own
    # minimum.
    batch: list[tuple[str, Any, pa.Table, float, float | None]] = []
    for value in LADDER[0][1]:
        if value != params.distance_m:
            batch.append(
                (
                    "distance_m",
                    value,
                    periods_at(_with(params, distance_m=value)),
                    params.min_duration_s,
                    None,
                )
            )
    for value in LADDER[1][1]:
        if value != params.max_gap_s:
            batch.append(
                (
                    "max_gap_s",
                    value,
                    periods_at(_with(params, max_gap_s=value)),
                    params.min_duration_s,
                    float(value),
                )
            )
    for value in LADDER[3][1]:
        batch.append(("position", value, at_base[str(value)], params.min_duration_s, None))
    for value in LADDER[2][1]:
        if value != params.min_duration_s:
            batch.append(("min_duration_s", value, base_periods, float(value), None))
    least = min([params.min_duration_s, *LADDER[2][1]])
    label = _with(params, distance_m=widest.distance_m, min_duration_s=least)
    # rungs of the same periods at the same gap (the minimum durations) share one copy:
    # labelled apart, copies of the same data give the same occasions
    copies: list[tuple[pa.Table, float | None]] = []
    which = []
    for _, _, periods, _, gap in batch:
        same_copy = [i for i, (p, g) in enumerate(copies) if p is periods and g == gap]
        which.append(same_copy[0] if same_copy else len(copies))
        if not same_copy:
            copies.append((periods, gap))
    labelled = _batch(window, subjects, label, [p for p, _ in copies], [g for _, g in copies])
    return {
        (name, _value_text(value)): _at_min_duration(labelled[i], m)
        for (name, value, _, m, _), i in zip(batch, which, strict=True)
    }


def ladder(
    window: Inputs,
    subjects: list[str],
    params: AnalysisParams,
    occasions: pa.Table,
    *,
    rungs: Rungs | None = None,
) -> pa.Table:
    """`SENSITIVITY` rows for every occasion of `occasions` (of pairs among `subjects`) at
    every rung of `LADDER`; `window` holds the investigation's inputs and fixes.

    rungs: `rung_occasions(window, subjects, params)` when found already (None: found here).
    """
    if occasions.num_rows == 0:
        return SENSITIVITY.empty_table()
    results = dict(rung_occasions(window, subjects, params) if rungs is None else rungs)
    same = {name: getattr(params, name) for name, _ in LADDER if name != "position"}
    flag_rungs = [
        (name, float(v)) for name, values in LADDER[4:] for v in values if v != same[name]
    ]
    for (name, value), occ in zip(
        flag_rungs,
        _flag_rungs(window, params, occasions, flag_rungs),
        strict=True,
    ):
        results[(name, _value_text(value))] = occ
    ordered = [
        (name, _value_text(v), results.get((name, _value_text(v)), occasions))
        for name, values in LADDER
        for v in values
    ]
    return _match(occasions, ordered)


def _pairs(table: pa.Table) -> list[tuple[str, str]]:
    a, b = (table.column(c).to_pylist() for c in ("officer_a", "officer_b"))
    return list(zip(a, b, strict=True))


def _match(occasions: pa.Table, results: list[tuple[str, str, pa.Table]]) -> pa.Table:
    """Each investigated occasion against each rung's occasions of the same pair that
    overlap it: found, their total duration (summed in the rung's order), the weakest
    finding, their flags."""
    base = times_as_us(occasions.select(["occasion_id", "officer_a", "officer_b", "start", "end"]))
    ids = base.column("occasion_id").to_pylist()
    pairs: dict[tuple[str, str], int] = {}
    o_pair = np.array([pairs.setdefault(ab, len(pairs)) for ab in _pairs(base)], np.int64)
    o_start, o_end = base.column("start").to_numpy(), base.column("end").to_numpy()
    rank = {"no_reason_found": 0, "not_assessable": 1, "reason_found": 2}
    cols: dict[str, list[Any]] = {f.name: [] for f in SENSITIVITY}
    for name, value, occ in results:
        rows = times_as_us(
            occ.select(["officer_a", "officer_b", "start", "end", "duration_s", "finding", "flags"])
        )
        r_pair = np.array([pairs.get(ab, -1) for ab in _pairs(rows)], np.int64)
        # (occasion, row) of every overlap, in the rung's order per occasion
        hit_o, hit_r = np.nonzero(
            (o_pair[:, None] == r_pair[None, :])
            & (rows.column("start").to_numpy()[None, :] < o_end[:, None])
            & (o_start[:, None] < rows.column("end").to_numpy()[None, :])
        )
        durations = rows.column("duration_s").to_pylist()
        findings = rows.column("finding").to_pylist()
        flag_lists = rows.column("flags").to_pylist()
        hits: list[list[int]] = [[] for _ in ids]
        for o, r in zip(hit_o.tolist(), hit_r.tolist(), strict=True):
            hits[o].append(r)
        for oid, hit in zip(ids, hits, strict=True):
            cols["occasion_id"].append(oid)
            cols["parameter"].append(name)
            cols["value"].append(value)
            cols["found"].append(bool(hit))
            cols["duration_s"].append(float(sum(durations[r] for r in hit)))
            cols["finding"].append(
                min((findings[r] for r in hit), key=rank.__getitem__) if hit else None
            )
            cols["flags"].append(
                sorted({f for r in hit for f in flag_lists[r] or []})
                if hit and all(flag_lists[r] is not None for r in hit)
                else None
            )
    return pa.table(
        {f.name: pa.array(cols[f.name], f.type) for f in SENSITIVITY}, schema=SENSITIVITY
    )


WORDS = {
    "distance_m": ("distance", "m"),
    "max_gap_s": ("gap", "s"),
    "min_duration_s": ("minimum duration", "s"),
    "home_buffer_m": ("home buffer", "m"),
    "remote_max_incidents": ("remote incident limit", ""),
    "remote_incident_radius_m": ("remote radius", "m"),
}


def robustness(table: pa.Table, occasions: pa.Table) -> dict[str, str]:
    """One plain-words line per occasion id: where it is found and where not, and whether
    its finding or flags change with the home buffer or the remote rule."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for r in table.to_pylist():
        rows.setdefault(r["occasion_id"], []).append(r)
    own = {
        r["occasion_id"]: r
        for r in occasions.select(["occasion_id", "finding", "flags"]).to_pylist()
    }
    out = {}
    for oid, rs in rows.items():
        parts = []
        for name in ("distance_m", "max_gap_s", "min_duration_s"):
            word, unit = WORDS[name]
            mine = [r for r in rs if r["parameter"] == name]
            yes = [r["value"] for r in mine if r["found"]]
            no = [r["value"] for r in mine if not r["found"]]
            u = f" {unit}" if unit else ""
            if not no:
                parts.append(
                    f"found at every {word} from {mine[0]['value']}{u} to {mine[-1]['value']}{u}"
                )
            elif not yes:
                parts.append(f"not found at any {word} tried ({', '.join(no)}{u})")
            else:
                values = [r["value"] for r in mine]
                run = values[values.index(yes[0]) : values.index(yes[-1]) + 1] == yes
                found = (
                    f"found at every {word} from {yes[0]}{u} to {yes[-1]}{u}"
                    if run and len(yes) > 1
                    else f"found at {word} {', '.join(yes)}{u}"
                )
                parts.append(f"{found}; not at {', '.join(no)}{u}")
        pos = {r["value"]: r for r in rs if r["parameter"] == "position"}
        if "certain" in pos:
            parts.append(
                "found even counting only certain positions"
                if pos["certain"]["found"]
                else "not found when only certain positions count (it rests on "
                "positions within their error)"
            )
        base = own.get(oid, {})
        changed = []
        for name in ("home_buffer_m", "remote_max_incidents", "remote_incident_radius_m"):
            word, unit = WORDS[name]
            for r in rs:
                if r["parameter"] != name:
                    continue
                if r["finding"] != base.get("finding") or sorted(r["flags"] or []) != sorted(
                    base.get("flags") or []
                ):
                    what = ", ".join(r["flags"] or []) or "no flags"
                    changed.append(
                        f"{word} {r['value']}{' ' + unit if unit else ''}: "
                        f"{r['finding'] or 'not found'}, {what}"
                    )
        parts.append(
            "finding and flags the same at every home buffer and remote threshold"
            if not changed
            else "changes with " + "; ".join(changed)
        )
        out[oid] = "; ".join(parts) + "."
    return out


__all__ = [
    "LADDER",
    "SENSITIVITY",
    "SENSITIVITY_RULE",
    "Rungs",
    "ladder",
    "robustness",
    "rung_occasions",
]
