"""Attribution: which officer carried which device when, and officer pairs' co-presence.

Officer A is with officer B at instant t when some device assigned to A at t and some
device assigned to B at t are within the distance (DESIGN.md, "Officers"). The engine gives
device-pair periods; here they are cut to the assignments of both devices, and a device
assigned to two officers at once (a double-crewed car) counts as distance 0 while it has
fixes. On-duty clipping keeps only the time at least one of the two is on the roster.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.analysis.gather import merged
from whereabouts.analysis.inputs import US, fetch, times_as_us
from whereabouts.analysis.intervals import group_codes, joined, last_at_or_before, overlapping
from whereabouts.analysis.params import AnalysisParams
from whereabouts.errors import ParameterError
from whereabouts.spans import run_starts

if TYPE_CHECKING:
    from whereabouts.analysis.occasions import CodedFixes

PERIOD_COLUMNS = ("device_a", "device_b", "start", "end")
PIECE_SCHEMA = pa.schema(
    [
        ("officer_a", pa.string()),
        ("officer_b", pa.string()),
        ("device_a", pa.string()),
        ("device_b", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("min_distance_m", pa.float64()),
    ]
)  # the pieces table (build_pieces)


def register_periods(
    con: duckdb.DuckDBPyConnection, periods: pa.Table, merge_gap_s: float = 0.0
) -> pa.Table:
    """Make the engine's device-pair periods the `periods` relation (times as microseconds;
    an Arrow table DuckDB reads in place, returned too), joining a pair's periods at most
    `merge_gap_s` apart."""
    missing = [c for c in PERIOD_COLUMNS if c not in periods.column_names]
    if missing:
        raise ParameterError(
            f"device periods lack columns {missing}",
            hint="pass the engine's within_periods or find_encounters output",
        )
    cols = [*PERIOD_COLUMNS]
    table = times_as_us(periods.select(cols))
    dist = (
        periods.column("min_distance_m")
        if "min_distance_m" in periods.column_names
        else pa.nulls(periods.num_rows, pa.float64())
    )
    table = table.append_column("min_distance_m", dist.cast(pa.float64()))
    # Join a device pair's periods at most merge_gap apart first, as occasions will be: the
    # engine's raw periods are many and short (position noise near the distance), and the
    # officer-level merge below gives the same union either way.
    start, end = table.column("start").to_numpy(), table.column("end").to_numpy()
    dist = np.asarray(table.column("min_distance_m").to_numpy(zero_copy_only=False), float)
    j = joined(
        group_codes(table.column("device_a"), table.column("device_b")),
        start,
        end,
        int(merge_gap_s * US),
        dist,
    )
    at = pa.array(j.first, pa.int64())
    joined_periods = pa.table(
        {
            "device_a": table.column("device_a").take(at),
            "device_b": table.column("device_b").take(at),
            "start": j.start,
            "end": j.end,
            "min_distance_m": pa.array(j.nearest, pa.float64(), from_pandas=True),
        }
    )
    con.unregister("periods")
    con.execute("DROP TABLE IF EXISTS periods")
    con.register("periods", joined_periods)  # read in place, not copied into DuckDB's storage
    return joined_periods


def build_coverage(
    con: duckdb.DuckDBPyConnection,
    params: AnalysisParams,
    gaps: Mapping[str, float] | None = None,
    coded: CodedFixes | None = None,
) -> None:
    """`coverage(device_id, start, end, n)`: track pieces (gaps ≤ max_gap) of the devices
    two of the officers analysed held at once, from their fixes near those times (n: the
    fixes read). Needs `asg` (select_assignments).

    gaps: a max gap (s) of their own for some devices (device_gaps).
    coded: the `fixes` table coded (`CodedFixes.of`): those devices' fixes then found as
    slices of it (sorted by device), not by a scan matching every fix's device id; the
    same pieces."""
    gap = int(params.max_gap_s * US)
    reach = max([gap, *(int(v * US) for v in (gaps or {}).values())])
    crews = fetch(
        con,
        """
        SELECT a.device_id, greatest(a.start, b.start) AS s, least(a."end", b."end") AS e
        FROM asg a JOIN asg b ON a.device_id = b.device_id AND a.officer_id < b.officer_id
             AND a.start < b."end" AND b.start < a."end"
        """,
    )
    if coded is not None:
        # only the fixes of devices that two of the officers analysed held at once (crewed
        # cars), near those times: slices of the coded fixes
        names, code, t = _crewed_fixes(coded, crews, reach)
    else:
        fixes = fetch(
            con,
            """
        SELECT device_id, time FROM fixes
        WHERE device_id IN (SELECT a.device_id FROM asg a JOIN asg b
                            ON a.device_id = b.device_id AND a.officer_id < b.officer_id
                            AND a.start < b."end" AND b.start < a."end")""",
        )
        names = pc.unique(fixes.column("device_id").combine_chunks())
        code = np.asarray(
            pc.index_in(fixes.column("device_id"), value_set=names).to_numpy(), np.int64
        )
        t = np.asarray(fixes.column("time").to_numpy(), np.int64)
        keep = _near_crews(crews, names, code, t, reach)
        code, t = code[keep], t[keep]
    if coded is not None and not gaps:
        # fixes in (device, time) order: a piece ends at a new device or a gap over max_gap
        # (the runs `joined(code, t, t, gap)` finds, without sorting)
        new = run_starts(code, t, t, gap)
        first = np.flatnonzero(new)
        last = np.r_[first[1:], len(t)] - 1 if len(t) else first
        start, ends, n = t[first], t[last], last - first + 1
    elif gaps:
        # each fix reaching its device's gap ahead: a fix more than that after the latest
        # reach starts a new piece, as with one gap for all (then the reach taken off)
        own = device_gaps(names, gaps, gap)[code]
        pieces = joined(code, t, t + own, 0)
        first, start, ends = pieces.first, pieces.start, pieces.end - own[pieces.first]
        n = np.bincount(pieces.run, minlength=len(first))
    else:
        pieces = joined(code, t, t, gap)
        first, start, ends = pieces.first, pieces.start, pieces.end
        n = np.bincount(pieces.run, minlength=len(first))
    con.register(
        "coverage_arrow",
        pa.table(
            {
                "device_id": names.take(pa.array(code[first], pa.int64())),
                "start": start,
                "end": ends,
                "n": n.astype(np.int64),
            }
        ),
    )
    con.execute("CREATE OR REPLACE TABLE coverage AS SELECT * FROM coverage_arrow")
    con.unregister("coverage_arrow")


def _crewed_fixes(
    coded: CodedFixes, crews: pa.Table, reach: int
) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(names, code, time µs) of the fixes in `coded` of the devices in `crews` (device_id,
    s, e: times two officers held them at once) within `reach` µs of such a time: the
    distinct devices with fixes (sorted), each fix's index in them and its time, in
    (device, time) order. The fixes `_near_crews` keeps of all the devices' fixes, found
    as slices: each device's widened times merged, then two binary searches each."""
    wanted = pc.unique(crews.column("device_id").combine_chunks())
    at = pc.index_in(wanted, value_set=coded.names).drop_null().to_numpy()
    at = np.sort(np.asarray(at, np.int64))
    names = coded.names.take(pa.array(at, pa.int64()))
    crew = np.asarray(
        pc.fill_null(pc.index_in(crews.column("device_id"), value_set=names), -1).to_numpy(),
        np.int64,
    )
    has = crew >= 0  # (a crewed device without fixes: none to keep)
    s = crews.column("s").to_numpy()[has] - reach
    e = crews.column("e").to_numpy()[has] + reach
    near = joined(crew[has], s, e)  # each device's widened times merged, in (device, start) order
    near_device = crew[has][near.first]
    rows = np.asarray(coded.table.column("code").to_numpy(), np.int64)
    bound = np.searchsorted(rows, np.concatenate([at, at + 1]))
    lo, hi = bound[: len(at)], bound[len(at) :]
    window = np.searchsorted(near_device, np.arange(len(at) + 1))  # each device's windows
    time = coded.table.column("time")
    parts, codes = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for i in np.flatnonzero(window[1:] > window[:-1]).tolist():
        t = np.asarray(time.slice(lo[i], hi[i] - lo[i]).to_numpy(), np.int64)
        w0, w1 = near.start[window[i] : window[i + 1]], near.end[window[i] : window[i + 1]]
        a = np.searchsorted(t, w0, side="left")
        count = np.maximum(np.searchsorted(t, w1, side="right") - a, 0)
        # each window's fixes (disjoint windows in order: the rows stay in time order)
        rows = np.repeat(a - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
        parts.append(t[rows])
        codes.append(np.full(len(rows), i, np.int64))
    return names, np.concatenate(codes), np.concatenate(parts)


def _near_crews(
    crews: pa.Table, names: pa.Array, code: np.ndarray, t: np.ndarray, reach: int
) -> np.ndarray:
    """Which fixes (device `names[code]`, time `t`) lie within `reach` µs of a time two
    officers held their device at once (`crews`: device_id, s, e): a piece's part inside
    such a time (all build_pieces keeps of it) is the same as from every fix, since a
    piece crossing its edge has a fix within one max gap of it."""
    if crews.num_rows == 0 or len(t) == 0:
        return np.ones(len(t), bool)
    crew = np.asarray(
        pc.fill_null(pc.index_in(crews.column("device_id"), value_set=names), -1).to_numpy(),
        np.int64,
    )
    s, e = crews.column("s").to_numpy() - reach, crews.column("e").to_numpy() + reach
    has = crew >= 0  # (a crewed device without fixes: none to keep)
    crew, s, e = crew[has], s[has], e[has]
    if len(crew) == 0:
        return np.zeros(len(t), bool)
    near = joined(crew, s, e)  # each device's widened times merged, in (device, start) order
    i = last_at_or_before(crew[near.first], near.start, code, t)
    keep: np.ndarray = (i >= 0) & (t <= near.end[np.maximum(i, 0)])
    return keep


def device_gaps(
    devices: pa.Array | pa.ChunkedArray, gaps: Mapping[str, float], default_us: int
) -> np.ndarray:
    """The max gap (µs) of each row's device: its own in `gaps` (s), else `default_us`."""
    own = pa.array(list(gaps), pa.string())
    at = pc.fill_null(pc.index_in(devices, value_set=own), len(own)).to_numpy()
    us = np.array([int(v * US) for v in gaps.values()] + [default_us], np.int64)
    out: np.ndarray = us[at.astype(np.int64)]
    return out


def select_assignments(con: duckdb.DuckDBPyConnection, officers: list[str] | None) -> None:
    """`asg`: the assignments of the officers analysed (all officers when None)."""
    con.execute("CREATE OR REPLACE TEMP TABLE wanted(officer_id VARCHAR)")
    if officers is not None:
        con.executemany("INSERT INTO wanted VALUES (?)", [[o] for o in sorted(set(officers))])
        keep = "officer_id IN (SELECT officer_id FROM wanted)"
    else:
        keep = "TRUE"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE asg AS
        SELECT officer_id, device_id, start, "end" FROM assignments
        WHERE {keep} AND "end" > start
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text


def build_pieces(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, periods: pa.Table | None = None
) -> pa.Table:
    """`pieces`: officer-pair co-presence cut from device periods and shared devices (an
    Arrow table DuckDB reads in place; returned too).

    Columns: officer_a < officer_b, device_a, device_b, start, end, min_distance_m.
    Needs `periods` (or the table register_periods returned), `asg` (select_assignments)
    and `coverage`.
    """
    # one device assigned to both officers at once: together wherever it has fixes
    shared = fetch(
        con,
        """
        SELECT least(a.officer_id, b.officer_id) AS officer_a,
               greatest(a.officer_id, b.officer_id) AS officer_b,
               a.device_id AS device_a, a.device_id AS device_b,
               greatest(a.start, b.start, c.start) AS start,
               least(a."end", b."end", c."end") AS "end", CAST(0.0 AS DOUBLE) AS min_distance_m
        FROM asg a JOIN asg b ON a.device_id = b.device_id AND a.officer_id < b.officer_id
             AND a.start < b."end" AND b.start < a."end"
        JOIN coverage c ON c.device_id = a.device_id
             AND c.start < least(a."end", b."end") AND c."end" > greatest(a.start, b.start)
        WHERE least(a."end", b."end", c."end") > greatest(a.start, b.start, c.start)
    """,
    ).cast(PIECE_SCHEMA)
    p = (
        fetch(con, 'SELECT device_a, device_b, start, "end", min_distance_m FROM periods')
        if periods is None
        else periods
    )
    a = fetch(con, 'SELECT officer_id, device_id, start, "end" FROM asg')
    officers = pc.unique(a.column("officer_id").combine_chunks())
    officers = officers.take(pc.sort_indices(officers))  # least / greatest as text compares
    # The pieces as numbers until the end: each one's row of its source (the periods, then
    # the shared devices' rows), its officers (indices in `officers`), start and end.
    row, oa, ob, r0, r1 = _period_pieces(p, a, officers)
    row = np.r_[row, p.num_rows + np.arange(shared.num_rows)]
    oa, ob = (
        np.r_[o, _codes(shared.column(c), officers)]
        for o, c in ((oa, "officer_a"), (ob, "officer_b"))
    )
    r0 = np.r_[r0, np.asarray(shared.column("start").to_numpy(), np.int64)]
    r1 = np.r_[r1, np.asarray(shared.column("end").to_numpy(), np.int64)]
    if params.on_duty_only:
        # Cut each piece to the duty periods of either officer (one row per piece and roster
        # entry of officer_a, then of officer_b but for the rows officer_a's gave already:
        # both on duty throughout); overlaps merge later.
        duty = fetch(
            con,
            'SELECT officer_id, start, "end" FROM duty '
            "WHERE officer_id IN (SELECT officer_id FROM asg)",  # (the pieces' officers)
        )
        dk = _codes(duty.column("officer_id"), officers)
        d0 = np.asarray(duty.column("start").to_numpy(), np.int64)
        d1 = np.asarray(duty.column("end").to_numpy(), np.int64)
        cuts = []
        for side in (oa, ob):
            piece, entry = overlapping(side, r0, r1, dk, d0, d1)
            cuts.append((piece, np.maximum(r0[piece], d0[entry]), np.minimum(r1[piece], d1[entry])))
        again = _same_cuts(cuts[0], cuts[1], r0)
        piece, r0, r1 = (
            np.concatenate([a, b[~again]]) for a, b in zip(cuts[0], cuts[1], strict=True)
        )
        row, oa, ob = row[piece], oa[piece], ob[piece]
    at = pa.array(row, pa.int64())
    raw = pa.Table.from_arrays(
        [
            officers.take(pa.array(oa, pa.int64())),
            officers.take(pa.array(ob, pa.int64())),
            *(
                pa.concat_arrays(
                    [p.column(c).combine_chunks().cast(f.type), shared.column(c).combine_chunks()]
                ).take(at)
                for c, f in ((c, PIECE_SCHEMA.field(c)) for c in ("device_a", "device_b"))
            ),
            pa.array(r0, pa.int64()),
            pa.array(r1, pa.int64()),
            pa.concat_arrays(
                [
                    p.column("min_distance_m").combine_chunks().cast(pa.float64()),
                    shared.column("min_distance_m").combine_chunks(),
                ]
            ).take(at),
        ],
        schema=PIECE_SCHEMA,
    )
    con.unregister("pieces")  # (an earlier labelling's, on this connection)
    con.execute("DROP TABLE IF EXISTS pieces")
    con.register("pieces", raw)  # read in place, not copied into DuckDB's storage
    return raw


def _codes(col: pa.ChunkedArray | pa.Array, names: pa.Array) -> np.ndarray:
    """Each value's index in `names`; -1 where it is not there."""
    found = pc.fill_null(pc.index_in(col, value_set=names), -1)
    return np.asarray(found.to_numpy(), np.int64)


def _same_cuts(
    first: tuple[np.ndarray, np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray, np.ndarray],
    r0: np.ndarray,
) -> np.ndarray:
    """Which of the `second` cuts (piece, start, end) are rows of `first` too. Both come in
    order of piece, then start (intervals.overlapping's order): each one's rows of `first`
    with its piece and start found by binary search of a packed key, then their ends
    compared. When the key does not fit in int64 none is found: the duplicates stay, and
    the runs merge them (never a wrong piece)."""
    (pa_, sa, ea), (pb, sb, eb) = first, second
    if len(pa_) == 0 or len(pb) == 0:
        return np.zeros(len(pb), bool)
    oa, ob = sa - r0[pa_], sb - r0[pb]  # (a cut starts inside its piece: >= 0)
    span = int(max(oa.max(), ob.max())) + 1
    if len(r0) * span >= 2**62:
        return np.zeros(len(pb), bool)
    key_a, key_b = pa_ * span + oa, pb * span + ob
    lo = np.searchsorted(key_a, key_b, side="left")
    count = np.searchsorted(key_a, key_b, side="right") - lo
    row = np.repeat(np.arange(len(pb)), count)  # each candidate: (row of second, of first)
    at = np.repeat(lo, count) + np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    found: np.ndarray = np.bincount(row[ea[at] == eb[row]], minlength=len(pb)) > 0
    return found


def _period_pieces(
    p: pa.Table, a: pa.Table, officers: pa.Array
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each device-pair period of `p` cut to an assignment of device_a to one officer and of
    device_b to another at once (`a`: the assignments, `asg`): (period row, officer_a,
    officer_b as indices in `officers` (sorted: officer_a < officer_b), start, end), the
    rows a join of periods with asg twice would give (overlaps strict, only non-empty
    pieces), found by interval search (intervals.overlapping): each period's device_a
    assignments overlapping it, then its device_b ones overlapping that."""
    if p.num_rows == 0 or a.num_rows == 0:
        return tuple(np.empty(0, np.int64) for _ in range(5))  # type: ignore[return-value]
    devices = pc.unique(a.column("device_id").combine_chunks())
    ak, ao = _codes(a.column("device_id"), devices), _codes(a.column("officer_id"), officers)
    a0 = np.asarray(a.column("start").to_numpy(), np.int64)
    a1 = np.asarray(a.column("end").to_numpy(), np.int64)
    p0 = np.asarray(p.column("start").to_numpy(), np.int64)
    p1 = np.asarray(p.column("end").to_numpy(), np.int64)
    period, first = overlapping(_codes(p.column("device_a"), devices), p0, p1, ak, a0, a1)
    s, e = np.maximum(p0[period], a0[first]), np.minimum(p1[period], a1[first])
    at, second = overlapping(_codes(p.column("device_b"), devices)[period], s, e, ak, a0, a1)
    period, first = period[at], first[at]
    s, e = np.maximum(s[at], a0[second]), np.minimum(e[at], a1[second])
    oa, ob = ao[first], ao[second]
    keep = (oa != ob) & (e > s)  # (a period of one instant overlaps, but leaves nothing)
    oa, ob = oa[keep], ob[keep]
    return period[keep], np.minimum(oa, ob), np.maximum(oa, ob), s[keep], e[keep]


def build_shared_duty_hours(
    con: duckdb.DuckDBPyConnection, officers: list[str], duty: str = "duty"
) -> pa.Table:
    """Per officer pair, hours both were on duty at once (overlapping roster entries), from
    the roster relation `duty` (e.g. one cut to the period)."""
    con.register("_grp", pa.table({"officer_id": pa.array(sorted(set(officers)), pa.string())}))
    # each officer's own overlapping roster entries joined first (spans.joined)
    con.register(
        "_u",
        merged(
            fetch(
                con,
                f"""
        SELECT officer_id AS k, start AS s0, "end" AS s1 FROM {duty}
        WHERE officer_id IN (SELECT officer_id FROM _grp) AND "end" > start""",  # noqa: S608  # relation names and numbers of the analysis, no input text
            )
        ).rename_columns(["officer_id", "start", "end"]),
    )
    hours = fetch(
        con,
        f"""
        SELECT a.officer_id AS officer_a, b.officer_id AS officer_b,
               sum(least(a."end", b."end") - greatest(a.start, b.start)) / {US * 3600}.0
                   AS shared_duty_h
        FROM _u a JOIN _u b ON a.officer_id < b.officer_id
             AND a.start < b."end" AND b.start < a."end"
        GROUP BY 1, 2 ORDER BY 1, 2
    """,  # noqa: S608  # relation names and numbers of the analysis, no input text
    )
    con.unregister("_u")
    con.unregister("_grp")
    return hours


__all__ = [
    "build_coverage",
    "build_pieces",
    "build_shared_duty_hours",
    "device_gaps",
    "register_periods",
    "select_assignments",
]
