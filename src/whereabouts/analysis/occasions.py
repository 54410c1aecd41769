"""Occasions: officer pairs' co-presence merged like encounters, and where each one was.

An occasion is a maximal run of a pair's co-presence pieces (attribution.py) after joining
pieces at most `merge_gap_s` apart, kept when it lasts at least `min_duration_s`. Its id is
stable: the first 16 hex of the MD5 of "officer_a|officer_b|start microseconds".

Where: both officers' devices are interpolated (linearly, never across a gap longer than
`max_gap_s`) every `sample_s` seconds along the occasion; the occasion's point is the
median of the pair midpoints, its separations the minimum and median device distances.
In words (`where_texts`): the nearest road within `road_distance_m` (when a roads layer was
ingested) and the nearest named place with its distance and compass direction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from whereabouts.analysis.attribution import device_gaps
from whereabouts.analysis.inputs import US, fetch, times_as_us
from whereabouts.analysis.intervals import group_codes, joined, sort_by
from whereabouts.analysis.params import AnalysisParams
from whereabouts.arrays import mask
from whereabouts.engine import native
from whereabouts.spans import run_starts
from whereabouts.tracks.projection import grid_references, to_wgs84
from whereabouts.tracks.track import id_runs

AT_PLACE_M = 30.0  # a point this close to a named place is "at" it
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
PIECE_COLUMNS = ("officer_a", "officer_b", "device_a", "device_b", "start", "end", "min_distance_m")


@dataclass(frozen=True)
class Occasions:
    """The occasions `build_occasions` leaves as `occ` and `occ_pieces` (Arrow tables DuckDB
    reads in place), and each one's officer pair as a number (`pair`: `occ` rows' and
    `pair_of_pieces`: `occ_pieces` rows'; equal exactly where both officers are)."""

    occ: pa.Table
    pieces: pa.Table
    pair: np.ndarray
    pair_of_pieces: np.ndarray

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Make these `occ` and `occ_pieces` on `con` (in place of any before)."""
        for name, table in (("occ", self.occ), ("occ_pieces", self.pieces)):
            con.unregister(name)
            con.execute(f"DROP TABLE IF EXISTS {name}")  # (made by an earlier labelling)
            con.register(name, table)

    def of_pairs(self, kept: np.ndarray) -> Occasions:
        """The occasions of the pairs whose number `kept` marks (a mask over pair numbers)."""
        mine, mine_pieces = kept[self.pair], kept[self.pair_of_pieces]
        return Occasions(
            self.occ.filter(mask(mine)),
            self.pieces.filter(mask(mine_pieces)),
            self.pair[mine],
            self.pair_of_pieces[mine_pieces],
        )


def build_occasions(
    con: duckdb.DuckDBPyConnection, params: AnalysisParams, pieces: pa.Table | None = None
) -> Occasions:
    """`occ` (one row per occasion) and `occ_pieces` from `pieces` (the relation, or the
    Arrow table it was made from): each pair's pieces joined into runs across gaps up to
    `merge_gap_s` (spans.run_starts), kept when a run lasts `min_duration_s`. Both are
    registered (Arrow, read in place) and returned."""
    if pieces is None:
        pieces = fetch(
            con,
            'SELECT officer_a, officer_b, device_a, device_b, start, "end", min_distance_m '
            "FROM pieces",
        )
    start = np.asarray(pieces.column("start").to_numpy(), np.int64)
    end = np.asarray(pieces.column("end").to_numpy(), np.int64)
    dist = np.asarray(pieces.column("min_distance_m").to_numpy(zero_copy_only=False), float)
    pair = group_codes(pieces.column("officer_a"), pieces.column("officer_b"))
    # by pair and start only: pieces tied on both may come in any order (a run's rows, its
    # start, latest end and nearest distance are the same whichever comes first)
    order = sort_by(pair, start)
    new = run_starts(pair[order], start[order], end[order], int(params.merge_gap_s * US))
    head = np.flatnonzero(new)
    run_start = start[order[head]]
    run_end = np.maximum.reduceat(end[order], head) if len(head) else end[:0]
    with np.errstate(invalid="ignore"):
        nearest = np.fmin.reduceat(dist[order], head) if len(head) else dist[:0]
    kept = run_end - run_start >= int(params.min_duration_s * US)
    at = pa.array(order[head[kept]], pa.int64())
    con.register(
        "occ_runs",
        pa.table(
            {
                "officer_a": pieces.column("officer_a").take(at),
                "officer_b": pieces.column("officer_b").take(at),
                "grp": np.flatnonzero(kept),
                "start": run_start[kept],
                "end": run_end[kept],
                "period_min_distance_m": pa.array(nearest[kept], pa.float64(), from_pandas=True),
            }
        ),
    )
    occ = fetch(
        con,
        f"""
        SELECT substr(md5(officer_a || '|' || officer_b || '|' || CAST(start AS VARCHAR)),
                      1, 16) AS occasion_id,
               officer_a, officer_b, grp, start, "end", ("end" - start) / {US}.0 AS duration_s,
               period_min_distance_m
        FROM occ_runs ORDER BY grp
    """,  # noqa: S608  # relation names and numbers of the analysis, no input text
    )
    con.unregister("occ_runs")
    # each piece of a kept run, in the pieces' own order, with its occasion's id
    number = np.full(len(head), -1, np.int64)
    number[kept] = np.arange(int(kept.sum()))
    run = np.empty(len(order), np.int64)
    run[order] = np.cumsum(new) - 1
    of_piece = number[run]
    rows = of_piece >= 0
    ids = occ.column("occasion_id").combine_chunks().take(pa.array(of_piece[rows]))
    occ_pieces = pieces.filter(mask(rows)).select(list(PIECE_COLUMNS))
    occ_pieces = pa.Table.from_arrays(
        [ids, *occ_pieces.columns], names=["occasion_id", *PIECE_COLUMNS]
    )
    found = Occasions(occ, occ_pieces, pair[order[head[kept]]], pair[rows])
    found.register(con)
    return found


def build_samples(
    con: duckdb.DuckDBPyConnection,
    params: AnalysisParams,
    fixes: CodedFixes,
    gaps: Mapping[str, float] | None = None,
) -> pa.Table:
    """Samples along every occasion (`occ` indexes `occ_map`): `pts(occ, t, mx, my, dt,
    stopped)`, one point per instant (`instants`), in (occ, t) order, and
    `occ_samples` (`sample_occasions`: per occasion, its samples' smallest and median
    distance and its median point). Returns the fixes of the occasions' devices
    (`coded_fixes`).

    gaps: a max gap (s) of their own for some devices (attribution.device_gaps); an
    occasion's instants then stand for at most its first device's gap."""
    step = int(params.sample_s * US)
    gap = int(params.max_gap_s * US)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE occ_devices AS
        SELECT DISTINCT device_a AS device_id FROM occ_pieces
        UNION SELECT DISTINCT device_b FROM occ_pieces
    """)
    # Devices and occasions as small integers (a sample holds no string); each occasion's
    # pieces of one device pair merged first, so every instant is sampled once.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE dev_code AS
        SELECT device_id, CAST(row_number() OVER (ORDER BY device_id) - 1 AS BIGINT) AS code
        FROM occ_devices
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE occ_map AS
        SELECT occasion_id, CAST(row_number() OVER (ORDER BY occasion_id) - 1 AS BIGINT) AS occ
        FROM (SELECT DISTINCT occasion_id FROM occ_pieces)
    """)
    raw = fetch(
        con,
        """
        SELECT m.occ, ca.code AS code_a, cb.code AS code_b, p.start, p."end"
        FROM occ_pieces p JOIN dev_code ca ON ca.device_id = p.device_a
        JOIN dev_code cb ON cb.device_id = p.device_b
        JOIN occ_map m ON m.occasion_id = p.occasion_id
        ORDER BY m.occ, code_a, code_b, p.start, p."end"
    """,
    )  # (in the order `joined` sorts them by: none of its sorting left to do)
    occ, code_a, code_b = (raw.column(c).to_numpy() for c in ("occ", "code_a", "code_b"))
    start, end = raw.column("start").to_numpy(), raw.column("end").to_numpy()
    n_devices = len(fetch(con, "SELECT code FROM dev_code"))
    j = joined((occ * n_devices + code_a) * n_devices + code_b, start, end)
    merged = (occ[j.first], code_a[j.first], code_b[j.first], j.start, j.end)
    by = np.lexsort((merged[2], merged[1], merged[3], merged[0]))  # occ, start, a, b
    pieces = pa.table(
        {
            name: v[by]
            for name, v in zip(("occ", "code_a", "code_b", "start", "end"), merged, strict=True)
        }
    )
    coded = coded_fixes(con, fixes)
    by_code = np.full(n_devices, gap, np.int64)
    if gaps:
        by_code = device_gaps(
            fetch(con, "SELECT device_id FROM dev_code ORDER BY code").column("device_id"),
            gaps,
            gap,
        )
    by_occ = np.full(int(occ.max()) + 1 if len(occ) else 0, gap, np.int64)
    by_occ[occ] = by_code[code_a]
    points, sampled = sample_occasions(
        pieces,
        coded,
        step,
        gap=by_code,
        occasion_gap=by_occ,
        distance_m=params.distance_m,
        stop_speed_mps=params.stop_speed_mps,
    )
    del pieces
    # Both stay Arrow tables that DuckDB reads in place (no copy into its own storage).
    con.register("occ_samples", sampled)
    con.register("pts", points)
    return coded


SAMPLED = pa.schema(
    [
        ("occ", pa.int64()),
        ("sample_min_m", pa.float64()),
        ("median_separation_m", pa.float64()),
        ("n_samples", pa.int64()),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("sampled_s", pa.float64()),
        ("stopped_s", pa.float64()),
    ]
)


def sample_occasions(
    pieces: pa.Table,
    fixes: pa.Table,
    step: int,
    *,
    gap: np.ndarray,
    occasion_gap: np.ndarray,
    distance_m: float,
    stop_speed_mps: float,
) -> tuple[pa.Table, pa.Table]:
    """The occasions' instants (`occ, t, mx, my, dt, stopped`, in (occ, t) order) and per
    occasion with samples its `occ, sample_min_m, median_separation_m, n_samples, x, y`
    (x, y: the median instant; null when none): `sample_pieces`, `instants` and the
    aggregates in SQL (`_aggregates`), or all three compiled in one pass over each occasion
    (engine/_native.c, `wa_sample_occasions`: the same bits, without holding the samples).

    pieces: occ, code_a, code_b, start, end (sample_pieces; sorted by occ); fixes: code,
    time, x, y sorted by code, time; gap: µs per device code; occasion_gap: µs per occ."""
    if native.enabled():
        p0, p1 = pieces.column("start").to_numpy(), pieces.column("end").to_numpy()
        first = -(-p0 // step) * step
        occ, code_a, code_b = (pieces.column(c).to_numpy() for c in ("occ", "code_a", "code_b"))
        found = native.sample_occasions(
            device_fixes(fixes, len(gap)),
            (occ, code_a, code_b, first, np.where(first <= p1, (p1 - first) // step + 1, 0)),
            device_gap=gap,
            occasion_gap=occasion_gap,
            step=step,
            distance=distance_m,
            stop_speed=stop_speed_mps,
        )
        if found is not None:
            (o, t, mx, my, dt, stopped), per = found
            n, low, mid, n_points, x, y, sum_dt, stopped_dt, n_stopped = per
            has = np.flatnonzero(n > 0)
            none = n_points[has] == 0
            return pa.table(
                {"occ": o, "t": t, "mx": mx, "my": my, "dt": dt, "stopped": stopped}
            ), pa.table(
                [
                    has,
                    low[has],
                    mid[has],
                    n[has],
                    pa.array(x[has], mask=none),
                    pa.array(y[has], mask=none),
                    pa.array(sum_dt[has] / US, mask=none),
                    pa.array(stopped_dt[has] / US, mask=n_stopped[has] == 0),
                ],
                schema=SAMPLED,
            )
    parts = list(sample_pieces(pieces, fixes.select(["code", "time", "x", "y"]), step, gap))
    empty = pa.table(
        {
            "occ": pa.array([], pa.int64()),
            "t": pa.array([], pa.int64()),
            "dist": pa.array([], pa.float64()),
            "mx": pa.array([], pa.float64()),
            "my": pa.array([], pa.float64()),
        }
    )
    samples = pa.concat_tables([empty, *parts])
    points = pa.concat_tables(
        [instants(part, distance_m, occasion_gap, stop_speed_mps) for part in [empty, *parts]]
    )
    return points, _aggregates(samples, points)


def _aggregates(samples: pa.Table, points: pa.Table) -> pa.Table:
    """Per occasion with samples: their smallest and median distance and count, the
    median x and y of its instants, their time and stopped time (null when none), as DuckDB
    computes them."""
    con = duckdb.connect()
    con.register("samples", samples)
    con.register("pts", points)
    found = con.sql(f"""
        WITH p AS (SELECT occ, median(mx) AS x, median(my) AS y, sum(dt) / {US}.0 AS sampled_s,
                          sum(dt) FILTER (WHERE stopped) / {US}.0 AS stopped_s
                   FROM pts GROUP BY occ),
        d AS (SELECT occ, min(dist) AS sample_min_m, median(dist) AS median_separation_m,
                     count(*) AS n_samples FROM samples GROUP BY occ)
        SELECT d.*, p.x, p.y, p.sampled_s, p.stopped_s FROM d LEFT JOIN p USING (occ)
        ORDER BY occ
    """).to_arrow_table()  # noqa: S608  # numbers of the analysis, no input text
    con.close()
    return found.cast(SAMPLED)


def device_bounds(fixes: pa.Table) -> np.ndarray:
    """Where each device code's rows start in `fixes` (sorted by code), and the end: the
    rows of code c are [b[c], b[c + 1]). Read a chunk at a time, each chunk's own codes
    searched (no copy of the column)."""
    chunks = [c.to_numpy() for c in fixes.column("code").chunks if len(c)]
    n = int(chunks[-1][-1]) + 1 if chunks else 0
    count = np.zeros(n, np.int64)
    for code in chunks:
        lo, hi = int(code[0]), int(code[-1])
        if lo == hi:
            count[lo] += len(code)
        else:
            count[lo : hi + 1] += np.diff(np.searchsorted(code, np.arange(lo, hi + 2)))
    bounds: np.ndarray = np.r_[0, np.cumsum(count)]
    return bounds


def device_fixes(fixes: pa.Table, n: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(time, x, y) of each device code 0..n-1 in `fixes` (sorted by code, time): views of
    the table's memory where a device's rows lie in one chunk."""
    bounds = device_bounds(fixes)
    bounds = np.r_[bounds, np.full(n + 1 - len(bounds), bounds[-1])] if n >= len(bounds) else bounds
    found = []
    for b0, b1 in zip(bounds[:n].tolist(), bounds[1 : n + 1].tolist(), strict=True):
        rows = fixes.slice(b0, b1 - b0)
        t, x, y = (rows.column(c).to_numpy() for c in ("time", "x", "y"))
        found.append((t, x, y))
    return found


@dataclass(frozen=True)
class CodedFixes:
    """An analysis's fixes with each device as a number: `names` (the device ids, sorted)
    and `table` (code: index in names, time µs, x, y, accuracy_m) in (code, time, x, y)
    order — one order whatever order the rows came in. Made once (`of`), then cut to the
    devices of each set of occasions (`of_devices`)."""

    names: pa.Array
    table: pa.Table

    @classmethod
    def of(cls, fixes: pa.Table) -> CodedFixes:
        """The fixes with their devices coded 0..n-1 in name order and times in µs."""
        fixes = times_as_us(fixes.select(["device_id", "time", "x", "y", "accuracy_m"]))
        # matched per run of one device (fixes sorted by device come as a few long runs)
        heads, lengths = id_runs(fixes.column("device_id"))
        names = pc.unique(heads)
        names = names.take(pc.sort_indices(names))
        at = np.asarray(pc.index_in(heads, value_set=names).to_numpy(), np.int64)
        code = np.repeat(at, lengths)
        fixes = fixes.set_column(0, "code", pa.array(code))
        fixed = fix_order(code, *(fixes.column(c).to_numpy() for c in ("time", "x", "y")))
        return cls(names, fixes if fixed is None else _permuted(fixes, fixed))

    def of_devices(self, devices: pa.Array) -> pa.Table:
        """The fixes of `devices` (sorted, distinct) with `code` their index in it: the same
        order, since both codes follow the names' order."""
        at = np.asarray(
            pc.fill_null(pc.index_in(devices, value_set=self.names), -1).to_numpy(
                zero_copy_only=False
            ),
            np.int64,
        )
        lut = np.full(len(self.names) + 1, -1, np.int64)
        lut[at] = np.arange(len(devices))  # (unknown devices: the spare last slot)
        lut[-1] = -1
        if np.array_equal(lut[:-1], np.arange(len(self.names))):
            return self.table  # these very devices (a half's, cut before it was forked)
        kept = np.flatnonzero(lut[:-1] >= 0)
        return self._rows_of(kept, lut[kept])

    def _rows_of(self, codes: np.ndarray, new: np.ndarray) -> pa.Table:
        """The rows of device codes `codes`, one device after another (each in its own
        order), coded `new`: slices of the table, which is sorted by code (no copy)."""
        bound = np.searchsorted(
            self.table.column("code").to_numpy(), np.arange(len(self.names) + 1)
        )
        lo, count = bound[codes], bound[codes + 1] - bound[codes]
        rows = pa.concat_tables(
            [self.table.slice(0, 0)]
            + [self.table.slice(a, n) for a, n in zip(lo.tolist(), count.tolist(), strict=True)]
        )
        return rows.set_column(0, "code", pa.array(np.repeat(new.astype(np.int64), count)))

    def copies(self, names: list[pa.Array]) -> CodedFixes:
        """`of` these fixes repeated once per array of `names`, device `self.names[k]`
        called `names[i][k]` in copy i (all the names distinct): the same as coding the
        copies one after another, without matching or sorting their rows' text again, and
        sharing their rows' memory."""
        every = pa.concat_arrays([pa.array(n, pa.string()) for n in names])
        order = np.asarray(pc.sort_indices(every).to_numpy(), np.int64)  # the new codes
        # new code j is copy order[j] // n of device order[j] % n
        table = self._rows_of(order % len(self.names), np.arange(len(order)))
        return CodedFixes(every.take(pa.array(order)), table)

    def cut(self, devices: pa.Array) -> CodedFixes:
        """These fixes of `devices` (sorted, distinct) only, coded by their index in it."""
        return CodedFixes(devices, self.of_devices(devices))


def _permuted(table: pa.Table, order: np.ndarray) -> pa.Table:
    """`table.take(order)`; where `order` moves only a few short stretches of rows (ties of
    a device at one instant in fixes otherwise in order), the rest as slices (no copy)."""
    moved = np.flatnonzero(order != np.arange(len(order)))
    if len(moved) == 0:
        return table
    cut = np.flatnonzero(np.diff(moved) > 1) + 1  # stretches of moved rows
    lo, hi = moved[np.r_[0, cut]], moved[np.r_[cut - 1, len(moved) - 1]] + 1
    if len(lo) > _FEW_STRETCHES:
        return table.take(pa.array(order))
    parts, at = [table.slice(0, 0)], 0
    for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
        parts += [table.slice(at, a - at), table.take(pa.array(order[a:b]))]
        at = b
    return pa.concat_tables([*parts, table.slice(at)])


_FEW_STRETCHES = 256  # rows moved in more stretches than this: one take of the whole table


def coded_fixes(con: duckdb.DuckDBPyConnection, fixes: CodedFixes) -> pa.Table:
    """`code, time, x, y, accuracy_m`: the fixes of the occasions' devices with their
    `dev_code`, in (code, time, x, y) order."""
    names = fetch(con, "SELECT device_id FROM dev_code ORDER BY code").column("device_id")
    return fixes.of_devices(names.combine_chunks())


def _fixes_of(fixes: pa.Table, wanted: np.ndarray) -> pa.Table:
    """`code, time, accuracy_m` of the devices coded `wanted` in `fixes` (`coded_fixes`),
    in the table's order: its slices of those devices (not a pass over every row)."""
    bounds = device_bounds(fixes)
    codes = np.unique(wanted[wanted < len(bounds) - 1])
    chosen = fixes.select(["code", "time", "accuracy_m"])
    return pa.concat_tables(
        [chosen.slice(0, 0)]
        + [chosen.slice(bounds[c], bounds[c + 1] - bounds[c]) for c in codes.tolist()]
    )


def fix_order(code: np.ndarray, t: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The order of fixes by (device code, time, x, y) — one order whatever order the rows
    came in — or None when they are in it already. Fixes read from the workspace come in
    (device, time) order, so usually only rows of one device at one instant need sorting;
    rows of several tables one after the other (the sensitivity ladder's copies of the
    data) come in time order per device, so a stable sort by device puts them in order
    (the same order as a lexsort: both are stable)."""

    def in_time_order(code: np.ndarray, t: np.ndarray) -> bool:
        return bool(np.all((code[1:] > code[:-1]) | ((code[1:] == code[:-1]) & (t[1:] >= t[:-1]))))

    by_device = None
    if not in_time_order(code, t):
        by_device = np.argsort(code, kind="stable")  # a merge of sorted runs: fast
        code, t, x, y = code[by_device], t[by_device], x[by_device], y[by_device]
        if not in_time_order(code, t):
            return by_device[np.lexsort((y, x, t, code))]
    tie = (code[1:] == code[:-1]) & (t[1:] == t[:-1])
    if not tie.any():
        return by_device
    rows = np.flatnonzero(np.r_[tie, False] | np.r_[False, tie])  # each tie's rows, in place
    order = np.arange(len(t))
    order[rows] = rows[np.lexsort((y[rows], x[rows], t[rows], code[rows]))]
    return order if by_device is None else by_device[order]


def instants(
    samples: pa.Table, distance_m: float, gap: int | np.ndarray, stop_speed_mps: float
) -> pa.Table:
    """One point per instant of each occasion (`occ, t, mx, my, dt, stopped`) from its
    samples (all of an occasion's samples must be in `samples`).

    The point is the mean midpoint of the device pairs within `distance_m` then (the pairs
    that make it an occasion, and robust to a device whose fixes jump about), summed in
    the samples' order so the bits never depend on threads; dt is how long it stands for
    (to the next instant, at most `gap` µs — or `gap[occ]`, one per occasion code; 0 for
    the last); stopped: the midpoint moves to the next instant slower than `stop_speed_mps`.
    """
    near = samples.column("dist").to_numpy() <= distance_m
    occ, t = samples.column("occ").to_numpy()[near], samples.column("t").to_numpy()[near]
    mx, my = samples.column("mx").to_numpy()[near], samples.column("my").to_numpy()[near]
    if len(t) == 0:
        return pa.table(
            {"occ": occ, "t": t, "mx": mx, "my": my, "dt": t, "stopped": np.zeros(0, bool)}
        )
    order = sort_by(occ, t)
    occ, t, mx, my = occ[order], t[order], mx[order], my[order]
    first = np.flatnonzero(np.r_[True, (occ[1:] != occ[:-1]) | (t[1:] != t[:-1])])
    count = np.diff(np.r_[first, len(t)])
    occ, t = occ[first], t[first]
    mx = np.add.reduceat(mx, first) / count
    my = np.add.reduceat(my, first) / count
    same = np.r_[occ[1:] == occ[:-1], False]  # the next instant is of the same occasion
    nxt = np.minimum(np.arange(1, len(t) + 1), len(t) - 1)
    step = np.where(same, t[nxt] - t, 1)
    speed = np.sqrt((mx[nxt] - mx) ** 2 + (my[nxt] - my) ** 2) * 1e6 / step
    return pa.table(
        {
            "occ": occ,
            "t": t,
            "mx": mx,
            "my": my,
            "dt": np.where(
                same, np.minimum(step, gap if np.isscalar(gap) else np.asarray(gap)[occ]), 0
            ),
            "stopped": same & (speed < stop_speed_mps),
        }
    )


SAMPLE_BATCH = 4_000_000  # instants interpolated at once: bounds the working arrays


def _occasion_cuts(count: np.ndarray, occ_code: np.ndarray) -> np.ndarray:
    """Where to cut the pieces (sorted by occasion, `count` instants each) into batches of
    whole occasions (instants() needs all of one), about SAMPLE_BATCH instants each."""
    npc = len(count)
    ends = np.cumsum(count)
    cuts = (
        np.searchsorted(ends, np.arange(SAMPLE_BATCH, int(ends[-1]), SAMPLE_BATCH), side="left") + 1
    )
    starts = np.r_[np.flatnonzero(occ_code[1:] != occ_code[:-1]) + 1, npc]
    cuts = np.unique(starts[np.searchsorted(starts, cuts, side="left")])
    result: np.ndarray = cuts[cuts < npc]
    return result


def sample_pieces(
    pieces: pa.Table, fixes: pa.Table, step: int, gap: int | np.ndarray
) -> Iterator[pa.Table]:
    """Both devices' interpolated positions on a common grid (multiples of `step` µs) along
    each piece, as batches of `occ, t, dist, mx, my` (distance apart and midpoint);
    instants where either position is unknown are left out. A batch holds whole
    occasions (pieces sorted by occ).

    pieces: occ, code_a, code_b (integer occasion and device codes), start, end (µs), not
    overlapping per occasion and device pair. fixes: code, time, x, y sorted by code, time.
    gap: µs, or one per device code.
    Vectorised with one binary search per device and instant (however many pairs the
    device is in): no loop over fixes or pieces, only over batches of about `SAMPLE_BATCH`
    instants, to bound the memory.
    """
    fdev = fixes.column("code").to_numpy()
    adev, bdev = pieces.column("code_a").to_numpy(), pieces.column("code_b").to_numpy()
    occ_code = pieces.column("occ").to_numpy()
    nf, npc = fixes.num_rows, pieces.num_rows
    ft = fixes.column("time").to_numpy()
    fx_, fy = fixes.column("x").to_numpy(), fixes.column("y").to_numpy()
    p0, p1 = pieces.column("start").to_numpy(), pieces.column("end").to_numpy()
    first = -(-p0 // step) * step
    count = np.where(first <= p1, (p1 - first) // step + 1, 0)
    if nf == 0 or npc == 0 or count.sum() == 0:
        return
    last_t = first + (count - 1) * step
    has = count > 0
    lo = int(min(ft.min(), first[has].min()))
    span = int(max(ft.max(), last_t[has].max())) - lo + 1
    fkey = fdev * span + (ft - lo)
    last = nf - 1

    def at(dev: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.searchsorted(fkey, dev * span + (t - lo), side="right") - 1
        i_ok = i >= 0
        i = np.clip(i, 0, last)
        i_ok &= fdev[i] == dev
        j = np.minimum(i + 1, last)
        j_ok = (i + 1 <= last) & (fdev[j] == dev)
        ti, tj = ft[i], ft[j]  # each fix column gathered once (random reads dominate)
        exact = i_ok & (ti == t)
        dt = tj - ti
        inside = (
            i_ok & j_ok & (dt > 0) & (dt <= (gap if np.isscalar(gap) else np.asarray(gap)[dev]))
        )
        w = (t - ti) / np.where(dt > 0, dt, 1)
        xi, yi = fx_[i], fy[i]
        x = np.where(exact, xi, np.where(inside, xi + (fx_[j] - xi) * w, np.nan))
        y = np.where(exact, yi, np.where(inside, yi + (fy[j] - yi) * w, np.nan))
        return x, y

    # Each device's instants are looked up once, however many pairs it is in: the pieces'
    # instant ranges of one device joined into runs (instants are global multiples of
    # step), every instant of a run interpolated once (in batches), and a piece's
    # positions then gathered from its run by index.
    side_dev = np.r_[adev[has], bdev[has]]
    side_first, side_last = np.r_[first[has], first[has]], np.r_[last_t[has], last_t[has]]
    j = joined(side_dev, side_first, side_last, step)
    r_dev, r_first = side_dev[j.first], j.start
    r_count = (j.end - r_first) // step + 1
    r_offset = np.cumsum(r_count) - r_count
    side_run = j.run_of_rows()
    run_a = np.full(npc, -1, np.int64)
    run_b = np.full(npc, -1, np.int64)
    run_a[has], run_b[has] = side_run[: int(has.sum())], side_run[int(has.sum()) :]
    base_a = np.where(has, r_offset[run_a] + (first - r_first[run_a]) // step, 0)
    base_b = np.where(has, r_offset[run_b] + (first - r_first[run_b]) // step, 0)
    px, py = np.empty(int(r_count.sum())), np.empty(int(r_count.sum()))
    for u0 in range(0, len(px), SAMPLE_BATCH):
        u = np.arange(u0, min(u0 + SAMPLE_BATCH, len(px)))
        r = np.searchsorted(r_offset, u, side="right") - 1
        px[u], py[u] = at(r_dev[r], r_first[r] + (u - r_offset[r]) * step)

    cuts = _occasion_cuts(count, occ_code)
    for b0, b1 in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [npc]]), strict=True):
        c = count[b0:b1]
        if c.sum() == 0:
            continue
        # per piece: where its first instant sits in each side's run; per instant: + offset
        offset = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
        ia = np.repeat(base_a[b0:b1], c) + offset
        ib = np.repeat(base_b[b0:b1], c) + offset
        ax, ay, bx, by = px[ia], py[ia], px[ib], py[ib]
        ok = np.isfinite(ax) & np.isfinite(bx)
        t = np.repeat(first[b0:b1], c) + offset * step
        yield pa.table(
            {
                "occ": np.repeat(occ_code[b0:b1], c)[ok],
                "t": t[ok],
                "dist": np.hypot(ax - bx, ay - by)[ok],
                "mx": ((ax + bx) / 2)[ok],
                "my": ((ay + by) / 2)[ok],
            }
        )


def fix_statistics(spans: pa.Table, fixes: pa.Table) -> pa.Table:
    """Per occasion: fixes of its devices inside it, how many devices, their mean accuracy
    and the longest gap between one device's consecutive fixes.

    spans: occasion_id, code, start, end; fixes: code, time, accuracy_m sorted by code, time.
    Binary searches in each device's times, then sums over each span's fixes gathered one
    span after another (only those fixes read); each span's figures depend only on its own
    fixes (not on which other fixes were read).
    """
    occ_ids = spans.column("occasion_id")
    if fixes.num_rows == 0 or spans.num_rows == 0:
        return pa.table(
            {
                "occasion_id": pa.array([], pa.string()),
                "n_fixes": pa.array([], pa.int64()),
                "n_devices": pa.array([], pa.int64()),
                "position_error_m": pa.array([], pa.float64()),
                "max_fix_gap_s": pa.array([], pa.float64()),
            }
        )
    sc = spans.column("code").to_numpy()
    s0, s1 = spans.column("start").to_numpy(), spans.column("end").to_numpy()
    bounds = device_bounds(fixes)
    i0, i1 = np.zeros(len(sc), np.int64), np.zeros(len(sc), np.int64)
    for c in np.unique(sc[sc < len(bounds) - 1]).tolist():
        mine = sc == c
        t_c = fixes.slice(bounds[c], bounds[c + 1] - bounds[c]).column("time").to_numpy()
        i0[mine] = bounds[c] + np.searchsorted(t_c, s0[mine], "left")
        i1[mine] = bounds[c] + np.searchsorted(t_c, s1[mine], "right")
    count = i1 - i0
    at = np.cumsum(count) - count  # where each span's fixes start in the gathered rows
    rows = pa.array(np.repeat(i0 - at, count) + np.arange(int(count.sum())))
    t = fixes.column("time").take(rows).to_numpy()
    acc = np.asarray(fixes.column("accuracy_m").take(rows).to_numpy(zero_copy_only=False), float)
    ok = np.isfinite(acc)
    has = count > 0
    heads = at[has]
    # Accuracy summed over each span's own fixes (a cumulative sum over all fixes read would
    # make the last digits depend on what else was read); gaps between a span's fixes
    # (none before its first; spans with fewer than two fixes have none).
    span_acc, span_gap, acc_n = np.zeros(len(sc)), np.zeros(len(sc)), np.zeros(len(sc), np.int64)
    if len(heads):
        span_acc[has] = np.add.reduceat(np.where(ok, acc, 0.0), heads)
        acc_n[has] = np.add.reduceat(ok.astype(np.int64), heads)
        gap = np.zeros(len(t))
        gap[1:] = np.diff(t) / US
        gap[heads] = 0.0
        span_gap[has] = np.maximum.reduceat(gap, heads)
    per = pa.table(
        {
            "occasion_id": occ_ids,
            "n": count.astype(np.int64),
            "dev": (count > 0).astype(np.int64),
            "acc_sum": span_acc,
            "acc_n": acc_n,
            "gap": span_gap,
        }
    )
    g = per.group_by("occasion_id", use_threads=False).aggregate(
        [("n", "sum"), ("dev", "sum"), ("acc_sum", "sum"), ("acc_n", "sum"), ("gap", "max")]
    )
    acc_n_total = g.column("acc_n_sum").to_numpy()
    return pa.table(
        {
            "occasion_id": g.column("occasion_id"),
            "n_fixes": g.column("n_sum"),
            "n_devices": g.column("dev_sum"),
            "position_error_m": pa.array(
                np.where(
                    acc_n_total > 0,
                    g.column("acc_sum_sum").to_numpy() / np.maximum(acc_n_total, 1),
                    np.nan,
                ),
                from_pandas=True,
            ),
            "max_fix_gap_s": g.column("gap_max"),
        }
    )


def describe_occasions(
    con: duckdb.DuckDBPyConnection,
    params: AnalysisParams,
    fixes: pa.Table,
    detail: str | None = None,
) -> None:
    """Add where, separation, movement and sampling to `occ` (as `occw`); `fixes` are the
    occasions' devices' (build_samples).

    Stationary: stopped (midpoint slower than `stop_speed_mps`) for at least
    `stationary_share` of the sampled time. detail: a table of the occasion_ids that need
    their spread and fix statistics (confidence); the others get nulls there (None: all)."""
    only = "" if detail is None else f"WHERE occasion_id IN (SELECT occasion_id FROM {detail})"  # noqa: S608  # relation names and numbers of the analysis, no input text
    con.execute("""
        CREATE OR REPLACE TEMP TABLE occ_geo AS
        SELECT m.occasion_id, s.* EXCLUDE (occ) FROM occ_samples s JOIN occ_map m USING (occ)
    """)  # (sampled_s and stopped_s: the pts' dt summed, in sample_occasions)
    # (by occasion code: the pts of the occasions described, found without matching text)
    chosen = (
        ""
        if detail is None
        else f"WHERE s.occ IN (SELECT occ FROM occ_map JOIN {detail} USING (occasion_id))"  # noqa: S608  # relation names of the analysis, no input text
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE occ_spread AS
        SELECT m.occasion_id, q.spread_m FROM (
            SELECT s.occ,
                   quantile_cont(sqrt((s.mx - g.x)^2 + (s.my - g.y)^2), 0.9) AS spread_m
            FROM pts s JOIN occ_samples g USING (occ) {chosen}
            GROUP BY s.occ) q JOIN occ_map m USING (occ)
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE occ_dev AS
        SELECT DISTINCT occasion_id, device_id FROM (
            SELECT occasion_id, device_a AS device_id FROM occ_pieces {only}
            UNION ALL SELECT occasion_id, device_b FROM occ_pieces {only})
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text
    # Each span's figures come from its own device's fixes alone (fix_statistics), so
    # reading only the devices of the occasions described changes none of them.
    con.register(
        "occ_fixes_arrow",
        fix_statistics(
            fetch(
                con,
                """SELECT d.occasion_id, c.code, o.start, o."end" FROM occ_dev d
                      JOIN occ o USING (occasion_id) JOIN dev_code c USING (device_id)
                      ORDER BY d.occasion_id, c.code""",
            ),
            _fixes_of(
                fixes,
                fetch(
                    con,
                    "SELECT c.code FROM dev_code c WHERE device_id IN "
                    "(SELECT device_id FROM occ_dev)",
                )
                .column("code")
                .to_numpy(),
            ),
        ),
    )
    con.execute("CREATE OR REPLACE TEMP TABLE occ_fixes AS SELECT * FROM occ_fixes_arrow")
    con.unregister("occ_fixes_arrow")
    con.execute(f"""
        CREATE OR REPLACE TABLE occw AS
        SELECT o.*, g.x, g.y,
               least(o.period_min_distance_m, g.sample_min_m) AS min_separation_m,
               g.median_separation_m, coalesce(sp.spread_m, 0) AS spread_m,
               coalesce(g.stopped_s, 0) AS stopped_s,
               coalesce(g.stopped_s, 0) >= {params.stationary_share} * greatest(g.sampled_s, 1)
                   AS stationary,
               coalesce(f.n_fixes, 0) AS n_fixes,
               coalesce(f.n_fixes, 0) * 3600.0 / greatest(o.duration_s, 1)
                   / greatest(coalesce(f.n_devices, 1), 1) AS fixes_per_hour,
               f.position_error_m, f.max_fix_gap_s
        FROM occ o LEFT JOIN occ_geo g USING (occasion_id)
        LEFT JOIN occ_spread sp USING (occasion_id)
        LEFT JOIN occ_fixes f USING (occasion_id)
    """)  # noqa: S608  # relation names and numbers of the analysis, no input text


def place_names(con: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
    """Nearest recorded place (name or id; homes are left to the home flag), its distance
    and the compass bearing from it to the point (degrees), for each row of `table` with a
    point. One STRtree query over all points; equally near places: by name, then id."""
    points = fetch(
        con,
        f"SELECT occasion_id, x, y FROM {table} WHERE x IS NOT NULL "  # noqa: S608  # relation names and numbers of the analysis, no input text
        "ORDER BY occasion_id",
    )
    places = fetch(
        con,
        "SELECT coalesce(name, place_id) AS label, place_id, x, y FROM places "
        "WHERE kind <> 'home' AND x IS NOT NULL AND y IS NOT NULL",
    )
    x = np.asarray(points.column("x").to_numpy(zero_copy_only=False), float)
    y = np.asarray(points.column("y").to_numpy(zero_copy_only=False), float)
    px = np.asarray(places.column("x").to_numpy(zero_copy_only=False), float)
    py = np.asarray(places.column("y").to_numpy(zero_copy_only=False), float)
    rank = _rank([_codes(places.column("place_id")), _codes(places.column("label"))])
    index, dist = nearest(shapely.points(px, py), rank, x, y)
    found = np.flatnonzero(index >= 0)
    at = index[found]
    return pa.table(
        {
            "occasion_id": points.column("occasion_id").take(pa.array(found)),
            "place": places.column("label").take(pa.array(at)),
            "place_distance_m": pa.array(dist[found], pa.float64()),
            "place_bearing_deg": pa.array(
                np.degrees(np.arctan2(x[found] - px[at], y[found] - py[at])) % 360, pa.float64()
            ),
        }
    )


def nearest(
    geoms: np.ndarray,
    rank: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    max_distance_m: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the index of the nearest of `geoms` (within `max_distance_m` when
    given; -1 when none) and its distance (NaN when none), by one STRtree query over all
    points. Geometries equally near are told apart by `rank` (lowest first), so the answer
    never depends on the order the rows were read."""
    n = len(x)
    index = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if not len(geoms) or not len(ok):
        return index, dist
    tree = shapely.STRtree(geoms)
    (pt, hit), d = tree.query_nearest(
        shapely.points(x[ok], y[ok]),
        max_distance=max_distance_m,
        return_distance=True,
        all_matches=True,
    )
    if not len(pt):
        return index, dist
    order = np.lexsort((rank[hit], d, pt))
    first = order[np.unique(pt[order], return_index=True)[1]]
    index[ok[pt[first]]] = hit[first]
    dist[ok[pt[first]]] = d[first]
    return index, dist


def _codes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Text values as integers in sorted order (null as the empty text)."""
    text = pc.fill_null(values.cast(pa.string()), "").to_numpy(zero_copy_only=False)
    return np.unique(text.astype(str), return_inverse=True)[1]


def _rank(keys: list[np.ndarray]) -> np.ndarray:
    """Each row's place in the order of `keys` (the last key sorts first, as np.lexsort)."""
    n = len(keys[0]) if keys else 0
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort(keys)] = np.arange(n)
    return rank


def road_label(name: pa.Array | pa.ChunkedArray, ref: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A road as people say it: "A4059 Heol y Felin", "A4059" or "Heol y Felin"."""
    ref, name = ref.cast(pa.string()), name.cast(pa.string())
    both = pc.binary_join_element_wise(ref, name, " ")  # null unless both are given
    label = pc.coalesce(both, ref, name)
    return label.combine_chunks() if isinstance(label, pa.ChunkedArray) else label


def nearest_roads(
    x: np.ndarray, y: np.ndarray, roads: pa.Table, max_distance_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each point (workspace-CRS metres), the index of the nearest road row within
    `max_distance_m` (-1 when none) and its distance in metres (NaN when none).

    Roads equally near (two roads meeting at a junction) are told apart by rank: numbered
    roads first, then by label, road_id and provenance.
    """
    if not roads.num_rows:
        return np.full(len(x), -1, dtype=np.int64), np.full(len(x), np.nan)
    geoms = shapely.from_wkb(roads.column("geometry_wkb").to_numpy(zero_copy_only=False))
    label = road_label(roads.column("name"), roads.column("ref"))
    rank = _rank(
        [
            np.asarray(roads.column("src_line").to_numpy(zero_copy_only=False), np.int64),
            _codes(roads.column("src_file")),
            _codes(roads.column("road_id")),
            _codes(label),
            np.asarray(pc.is_null(roads.column("ref")).to_numpy(zero_copy_only=False), bool),
        ]
    )
    return nearest(geoms, rank, x, y, max_distance_m)


def road_names(con: duckdb.DuckDBPyConnection, table: str, params: AnalysisParams) -> pa.Table:
    """Per row of `table` with a point: the nearest road within `road_distance_m` as
    `road` (label) and `road_distance_m`, both null when none is that close."""
    points = fetch(
        con,
        f"SELECT occasion_id, x, y FROM {table} WHERE x IS NOT NULL "  # noqa: S608  # relation names and numbers of the analysis, no input text
        "ORDER BY occasion_id",
    )
    has_roads = (
        fetch(con, "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'roads'")
        .column("n")[0]
        .as_py()
    )
    # Only roads with a name or number can name a place (a map source's unnamed ones are
    # drawn, never used here).
    roads = (
        fetch(
            con,
            "SELECT road_id, name, ref, geometry_wkb, src_file, src_line "
            "FROM roads WHERE name IS NOT NULL OR ref IS NOT NULL",
        )
        if has_roads
        else pa.table({})
    )
    if not roads.num_rows:
        return pa.table(
            {
                "occasion_id": points.column("occasion_id"),
                "road": pa.nulls(points.num_rows, pa.string()),
                "road_distance_m": pa.nulls(points.num_rows, pa.float64()),
            }
        )
    x = np.asarray(points.column("x").to_numpy(zero_copy_only=False), float)
    y = np.asarray(points.column("y").to_numpy(zero_copy_only=False), float)
    index, dist = nearest_roads(x, y, roads, params.road_distance_m)
    found = index >= 0
    labels = (
        road_label(roads.column("name"), roads.column("ref")).take(
            pa.array(np.where(found, index, 0))
        )
        if found.any()
        else pa.nulls(len(x), pa.string())
    )
    return pa.table(
        {
            "occasion_id": points.column("occasion_id"),
            "road": pc.if_else(pa.array(found), labels, pa.scalar(None, pa.string())),
            "road_distance_m": pa.array(dist, pa.float64(), from_pandas=True),
        }
    )


def where_texts(con: duckdb.DuckDBPyConnection, table: str, params: AnalysisParams) -> pa.Table:
    """Where each row of `table` was, in words: occasion_id, place, place_distance_m, road,
    road_distance_m and `where_text`, e.g. "on A4059 Heol y Felin (12 m), 350 m NE of
    Aberllyn police station"; just the place when no road is within `road_distance_m`,
    null when neither is known."""
    con.register("where_place_arrow", place_names(con, table))
    con.register("where_road_arrow", road_names(con, table, params))
    try:
        return fetch(
            con,
            f"""
            WITH j AS (
                SELECT t.occasion_id, p.place, p.place_distance_m, p.place_bearing_deg,
                       r.road, r.road_distance_m
                FROM {table} t LEFT JOIN where_place_arrow p USING (occasion_id)
                LEFT JOIN where_road_arrow r USING (occasion_id)
            )
            SELECT occasion_id, place, place_distance_m, road, road_distance_m,
                   nullif(concat_ws(', ',
                       CASE WHEN road IS NOT NULL THEN 'on ' || road || ' ('
                            || CAST(round(road_distance_m) AS INTEGER) || ' m)' END,
                       CASE WHEN place IS NULL THEN NULL
                            WHEN place_distance_m < {AT_PLACE_M} THEN 'at ' || place
                            ELSE (CASE WHEN place_distance_m < 1000
                                       THEN CAST(CAST(round(place_distance_m, -1) AS INTEGER)
                                                 AS VARCHAR) || ' m'
                                       ELSE CAST(round(place_distance_m / 1000, 1) AS VARCHAR)
                                            || ' km' END)
                                 || ' ' || {_compass_sql("place_bearing_deg")} || ' of '
                                 || place END), '') AS where_text
            FROM j ORDER BY occasion_id
        """,  # noqa: S608  # relation names and numbers of the analysis, no input text
        )
    finally:
        con.unregister("where_place_arrow")
        con.unregister("where_road_arrow")


def _compass_sql(degrees: str) -> str:
    """SQL: a bearing in degrees as one of the eight compass points."""
    points = ", ".join(f"'{c}'" for c in COMPASS)
    return f"([{points}])[(CAST(round({degrees} / 45) AS INTEGER) % 8) + 1]"


def wgs84_and_grid(
    x: np.ndarray, y: np.ndarray, crs: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """lat, lon and OS grid references (blank outside Great Britain or unknown)."""
    lat, lon = to_wgs84(x, y, crs)
    bng = crs.upper() == "EPSG:27700"
    refs = grid_references(x, y) if bng else [""] * len(x)
    return lat, lon, refs


__all__ = [
    "AT_PLACE_M",
    "COMPASS",
    "CodedFixes",
    "Occasions",
    "build_occasions",
    "build_samples",
    "describe_occasions",
    "nearest",
    "nearest_roads",
    "place_names",
    "road_label",
    "road_names",
    "wgs84_and_grid",
    "where_texts",
]
