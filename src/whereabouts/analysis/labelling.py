"""From device periods to labelled occasions: the table investigators and screening read.

`label_occasions(inputs, periods, officers, params)` runs attribution → occasions → where →
reasons → flags → availability → confidence in one DuckDB session and returns one row per
occasion with the columns of `OCCASIONS` (docs/architecture.md, "analysis"), sorted by
officer_a, officer_b, start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.analysis import (
    assessability,
    attribution,
    availability,
    context,
    occasions,
    reasons,
)
from whereabouts.analysis.confidence import grade_table
from whereabouts.analysis.inputs import Inputs, fetch, to_utc
from whereabouts.analysis.params import AnalysisParams
from whereabouts.analysis.pipeline import (
    ACTIVITY,
    ASSIGNED,
    COVER,
    COVERAGE,
    DESCRIBED,
    DETAIL,
    DETAIL_VIEW,
    DEVICE_CODES,
    EVIDENCE,
    FLAG_VIEW,
    OCCASION_CODES,
    OCCASION_PIECES,
    OCCASION_ROWS,
    PERIODS,
    PIECES,
    POINTS,
    REASON_WINDOWS,
    REMOTE_NOT_ASSESSED,
    SAMPLES,
    TASKS,
    UNASSESSED,
    WANTED,
    Analysis,
)
from whereabouts.parallel import beside, can_fork
from whereabouts.schema import UTC_TS
from whereabouts.vocabulary import flag_codes, reason_codes

OCCASIONS = pa.schema(
    [
        pa.field("occasion_id", pa.string(), nullable=False),
        pa.field("officer_a", pa.string(), nullable=False),
        pa.field("officer_b", pa.string(), nullable=False),
        pa.field("start", UTC_TS, nullable=False),
        pa.field("end", UTC_TS, nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
        pa.field("explained", pa.bool_(), nullable=False),
        pa.field("reasons", pa.list_(pa.string())),
        pa.field("flags", pa.list_(pa.string())),
        pa.field("evidence", pa.string()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("x", pa.float64()),
        pa.field("y", pa.float64()),
        pa.field("grid_ref", pa.string()),
        pa.field("place", pa.string()),
        pa.field("place_distance_m", pa.float64()),
        pa.field("min_separation_m", pa.float64()),
        pa.field("median_separation_m", pa.float64()),
        pa.field("stationary", pa.bool_()),
        pa.field("fixes_per_hour", pa.float64()),
        pa.field("position_error_m", pa.float64()),
        pa.field("max_fix_gap_s", pa.float64()),
        pa.field("confidence", pa.string()),
        pa.field("confidence_basis", pa.string()),
        pa.field("on_duty", pa.string()),
        pa.field("incidents_p1", pa.int64()),
        pa.field("incidents_p2", pa.int64()),
        pa.field("incidents_p3", pa.int64()),
        pa.field("incidents_p4", pa.int64()),
        pa.field("dispatched", pa.bool_()),
        pa.field("dispatch_to_end_min", pa.float64()),
        pa.field("unavailable_min", pa.float64()),
        # Time accounting: what the reasons' windows cover, what they leave, and stopping.
        pa.field("explained_s", pa.float64()),
        pa.field("unexplained_s", pa.float64()),
        pa.field("stopped_s", pa.float64()),
        pa.field("unexplained_stopped_s", pa.float64()),
        pa.field("unexplained_stop", pa.bool_()),
        # Where in words: the nearest road within road_distance_m, and the sentence.
        pa.field("road", pa.string()),
        pa.field("road_distance_m", pa.float64()),
        pa.field("where_text", pa.string()),
        # What the inputs could support (assessability.py): the finding, and each reason or
        # flag not checked with why.
        pa.field("finding", pa.string(), nullable=False),
        pa.field("not_assessed", pa.list_(pa.string())),
    ]
)


SCREENING_COLUMNS = (
    "occasion_id",
    "officer_a",
    "officer_b",
    "start",
    "end",
    "duration_s",
    "explained",
    "reasons",
    "flags",
    "evidence",
    "x",
    "y",
    "lat",
    "lon",
    "grid_ref",
    "min_separation_m",
    "median_separation_m",
    "stationary",
    "explained_s",
    "unexplained_s",
    "stopped_s",
    "unexplained_stopped_s",
    "unexplained_stop",
    "unavailable_min",
    "finding",
    "not_assessed",
)


# What the occasions of pairs outside `detail` lack when labelled for their ranking only
# (label_occasions(ranked=True)): null.
RANKED_NULL = ("evidence", "not_assessed", "lat", "lon", "grid_ref")

SPLIT_PIECES = 100_000  # label in two processes from this many pieces of occasions
# What describing an occasion in full costs beyond sampling it, in mean occasions' time
# together (the six-month team: 0.29 CPU-s more for a half whose 256 described occasions of
# 59 k weigh about 1 % of its 2.6 CPU-s: each about 25 mean occasions).
DESCRIBED_WEIGHT = 25


def label_occasions(
    inputs: Inputs,
    periods: pa.Table,
    officers: list[str] | None,
    params: AnalysisParams,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    detail: list[str] | None = None,
    workers: int | None = None,
    gaps: Mapping[str, float] | None = None,
    keep: Callable[[pa.Table], pa.Array] | None = None,
    coded: occasions.CodedFixes | None = None,
    fixes_of: Callable[[pa.Array], pa.Table] | None = None,
    ranked: bool = False,
) -> pa.Table:
    """Every occasion of pairs among `officers` (all officers when None), labelled.

    detail: the officers whose pairs (both officers in it) are described in full; the other
    pairs' occasions carry only what screening counts (`SCREENING_COLUMNS`: times, explained
    and unexplained time, stopping, reasons, and the home and remote flags of unexplained
    ones), the rest null. None: every pair in full. A described occasion's figures are the
    same either way.
    workers: 2 labels the officer pairs in two halves, one in a forked process (`parallel`);
    every figure of an occasion comes from its own rows, so the table is the same (`con`
    then holds this process's half). None: two from `SPLIT_PIECES` pieces of occasions on
    a machine with a spare core.
    gaps: a max gap (s) of their own for some devices, in place of `params.max_gap_s` for
    their track pieces and interpolation (the sensitivity ladder labels copies of the data
    at several gaps in one pass).
    keep: which officer pairs to label, given their `officer_a, officer_b` (a mask); the
    others' occasions are dropped before they are described (Spark labels each group of
    pairs in its own task: `spark.screening`). Every figure of an occasion comes from its
    own rows, so a pair's occasions are the same with or without the others.
    coded: `occasions.CodedFixes.of(inputs.fixes)` when the caller has it (the ladder codes
    its copies of the data from one coding: `CodedFixes.copies`).
    fixes_of: reads the fixes of the occasions' devices (sorted ids) once the occasions are
    known, in place of `inputs.fixes` for describing them (a Spark task reads only its
    pairs' devices'); `inputs.fixes` then need hold only the devices two officers held at
    once (coverage). Each occasion is described from its own devices' fixes alone, so the
    same figures.
    ranked: with `detail`, the other pairs' occasions carry only what the pairs' ranking
    counts (screening.pair_counts reads times, explained and unexplained time, stopping,
    flags and finding): those a reason explains are not assessed, and none of them gets
    its evidence, not_assessed, lat, lon or grid_ref (`RANKED_NULL`: null) — the
    investigation keeps only its subjects' occasions. A described occasion's figures are
    the same either way.
    """
    con = con or inputs.connect()
    steps = Analysis.over(con)
    # the fixes coded once (devices as numbers, rows sorted): coverage finds the crewed
    # cars' fixes in them, the samples interpolate them
    own = occasions.CodedFixes.of(inputs.fixes) if coded is None and fixes_of is None else None
    joined_periods = steps.step(
        "periods",
        lambda c: attribution.register_periods(c, periods, params.merge_gap_s),
        writes=(PERIODS,),
    )
    steps.step(
        "assignments",
        lambda c: attribution.select_assignments(c, officers),
        writes=(ASSIGNED, WANTED),
    )
    steps.step(
        "coverage",
        lambda c: attribution.build_coverage(c, params, gaps, own),
        reads=(ASSIGNED,),
        writes=(COVERAGE,),
    )
    pieces = steps.step(
        "pieces",
        lambda c: attribution.build_pieces(c, params, joined_periods),
        reads=(PERIODS, ASSIGNED, COVERAGE),
        writes=(PIECES,),
    )
    found = steps.step(
        "occasions",
        lambda c: occasions.build_occasions(c, params, pieces),
        reads=(PIECES,),
        writes=(OCCASION_ROWS, OCCASION_PIECES),
    )
    if keep is not None:
        # each pair asked once (its first occasion's row)
        pair, first = np.unique(found.pair, return_index=True)
        asked = found.occ.select(["officer_a", "officer_b"]).take(pa.array(first))
        kept = np.zeros(int(pair.max()) + 1 if len(pair) else 0, bool)
        kept[pair] = np.asarray(keep(asked).to_numpy(zero_copy_only=False), bool)
        found = found.of_pairs(kept)
        found.register(con)
    if workers is None:
        workers = 2 if found.pieces.num_rows >= SPLIT_PIECES and can_fork() else 1
    if fixes_of is not None:
        devices = fetch(
            con,
            """SELECT device_a AS d FROM occ_pieces UNION SELECT device_b FROM occ_pieces
               ORDER BY d""",
        ).column("d")
        fixes = occasions.CodedFixes.of(fixes_of(devices.combine_chunks()))
    elif own is not None:
        fixes = own
    else:
        assert coded is not None  # (own is made when no coding is given)
        fixes = coded
    if workers < 2:
        return _label(con, fixes, inputs.crs, params, detail, gaps, ranked=ranked)
    # Officer pairs in two halves of about equal time together, one labelled beside this
    # process on a connection of its own.
    theirs = _halves(found, detail)
    mine, their = found.of_pairs(~theirs), found.of_pairs(theirs)
    # their devices' fixes cut here: in the fork, new memory is dearer (pages it shares
    # with this process are copied when written)
    their_devices = pc.unique(
        pa.concat_arrays(
            [their.pieces.column(c).combine_chunks() for c in ("device_a", "device_b")]
        )
    )
    their_fixes = fixes.cut(their_devices.take(pc.sort_indices(their_devices)))
    with beside(
        partial(
            _label_apart,
            inputs,
            their_fixes,
            their.occ,
            their.pieces,
            params,
            detail=detail,
            gaps=gaps,
            ranked=ranked,
        )
    ) as later:
        mine.register(con)
        both = pa.concat_tables(
            [_label(con, fixes, inputs.crs, params, detail, gaps, ranked=ranked), later()]
        )
    return both.take(
        pc.sort_indices(
            both, [(c, "ascending") for c in ("officer_a", "officer_b", "start", "occasion_id")]
        )
    )


def _halves(found: occasions.Occasions, detail: list[str] | None = None) -> np.ndarray:
    """Which officer pairs (a mask over `found`'s pair numbers) go to the second of two
    halves of about equal cost (`_half` of each pair's weight, the heaviest first, ties by
    the officers' ids). A pair weighs its summed piece time (what sampling it costs),
    and `DESCRIBED_WEIGHT` mean occasions' worth more for each of its occasions described
    in full (both officers in `detail`; all when None)."""
    pair = found.pair_of_pieces
    n = int(found.pair.max()) + 1 if len(found.pair) else 0
    span = found.pieces.column("end").to_numpy() - found.pieces.column("start").to_numpy()
    w = np.zeros(n, np.int64)
    np.add.at(w, pair, span)
    row = np.full(n, -1, np.int64)
    row[found.pair] = np.arange(len(found.pair))  # an occasion of each pair (its names)
    has = np.flatnonzero(row >= 0)
    at = pa.array(row[has])
    a, b = (found.occ.column(c).take(at) for c in ("officer_a", "officer_b"))
    described = np.ones(len(has), bool)
    if detail is not None:
        named = pa.array(sorted(set(detail)), pa.string())
        both = pc.and_(pc.is_in(a, value_set=named), pc.is_in(b, value_set=named))
        described = both.to_numpy(zero_copy_only=False)
    mean = int(w.sum()) // max(len(found.pair), 1)  # an occasion's mean time together
    extra = DESCRIBED_WEIGHT * mean * np.bincount(found.pair, minlength=n)[has]
    weight = pa.table(
        {
            "officer_a": a,
            "officer_b": b,
            "w": pa.array(w[has] + np.where(described, extra, 0), pa.int64()),
            "pair": pa.array(has, pa.int64()),
        }
    )
    weight = weight.take(
        pc.sort_indices(
            weight, [("w", "descending"), ("officer_a", "ascending"), ("officer_b", "ascending")]
        )
    )
    theirs = np.zeros(n, bool)
    theirs[_half(weight).column("pair").to_numpy()] = True
    return theirs


def _half(weight: pa.Table) -> pa.Table:
    """The rows of one of two halves of about equal total `w`: in the rows' order (the
    heaviest first), each row goes to the half lighter so far."""
    load, rows = [0, 0], []
    for row, w in enumerate(weight.column("w").to_pylist()):
        half = int(load[1] < load[0])
        load[half] += w
        if half:
            rows.append(row)
    return weight.take(pa.array(rows, pa.int64()))


def _label_apart(
    inputs: Inputs,
    fixes: occasions.CodedFixes,
    occ: pa.Table,
    pieces: pa.Table,
    params: AnalysisParams,
    *,
    detail: list[str] | None,
    gaps: Mapping[str, float] | None = None,
    ranked: bool = False,
) -> pa.Table:
    """`_label` of these occasions and their pieces, on a connection of its own (read in
    place, as this process's half is: occasions.Occasions.register)."""
    con = inputs.connect()
    con.register("occ", occ)
    con.register("occ_pieces", pieces)
    return _label(con, fixes, inputs.crs, params, detail, gaps, ranked=ranked)


def _label(
    con: duckdb.DuckDBPyConnection,
    fixes: occasions.CodedFixes,
    crs: str,
    params: AnalysisParams,
    detail: list[str] | None,
    gaps: Mapping[str, float] | None = None,
    *,
    ranked: bool = False,
) -> pa.Table:
    """Describe and label the occasions of `occ` and `occ_pieces` on `con`, in steps."""
    steps = Analysis.over(con, given=(OCCASION_ROWS, OCCASION_PIECES))
    ranked = ranked and detail is not None

    def chosen(con: duckdb.DuckDBPyConnection) -> None:
        if detail is None:
            con.execute("CREATE OR REPLACE TEMP VIEW occ_detail AS SELECT occasion_id FROM occ")
            return
        con.register(
            "detail_o", pa.table({"officer_id": pa.array(sorted(set(detail)), pa.string())})
        )
        con.execute("""CREATE OR REPLACE TEMP TABLE occ_detail AS SELECT occasion_id FROM occ
                       WHERE officer_a IN (SELECT officer_id FROM detail_o)
                         AND officer_b IN (SELECT officer_id FROM detail_o)""")
        con.unregister("detail_o")

    steps.step("detail", chosen, reads=(OCCASION_ROWS,), writes=(DETAIL,))
    theirs = steps.step(
        "samples",
        lambda c: occasions.build_samples(c, params, fixes, gaps),
        reads=(OCCASION_ROWS, OCCASION_PIECES),
        writes=(DEVICE_CODES, OCCASION_CODES, POINTS, SAMPLES),
    )
    assert theirs is not None
    steps.step(
        "describe",
        lambda c: occasions.describe_occasions(
            c, params, theirs, None if detail is None else "occ_detail"
        ),
        reads=(OCCASION_ROWS, OCCASION_PIECES, POINTS, SAMPLES, DETAIL),
        writes=(DESCRIBED,),
    )
    con.execute("DROP TABLE IF EXISTS evid")
    steps.step(
        "prepare_tasks",
        lambda c: reasons.prepare(c, params, "occ"),
        reads=(OCCASION_ROWS,),
        writes=(TASKS, EVIDENCE, REASON_WINDOWS),
        macros=("ts", "ref"),
    )
    reasons.find_reasons(steps, params)  # one step per reason (reasons.STEPS)
    steps.step("cover", reasons.coverage, reads=(DESCRIBED, REASON_WINDOWS), writes=(COVER,))

    def scope(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("""CREATE OR REPLACE TEMP VIEW occw_detail AS SELECT * FROM occw
                       WHERE occasion_id IN (SELECT occasion_id FROM occ_detail)""")
        # home and remote are counted for unexplained occasions only (screening.py)
        con.execute(f"""CREATE OR REPLACE TEMP VIEW occw_flag AS SELECT * FROM occw
                        WHERE occasion_id IN (SELECT occasion_id FROM occ_detail)
                           OR occasion_id IN (SELECT occasion_id FROM cover
                                              WHERE unexplained_s >= {params.min_duration_s})""")  # noqa: S608  # relation names and numbers of the analysis, no input text

    steps.step("scope", scope, reads=(DESCRIBED, DETAIL, COVER), writes=(DETAIL_VIEW, FLAG_VIEW))
    context.flag_steps(steps, params, "occw_flag", "occw_detail")  # one step per flag rule
    steps.step(
        "assess",
        # ranked: reasons assessed for the occasions flagged (described, or unexplained)
        lambda c: assessability.assess(
            c, params, "occw_flag" if ranked else "occw", "occw_flag", "occw_detail"
        ),
        reads=(DESCRIBED, FLAG_VIEW, DETAIL_VIEW, ACTIVITY, EVIDENCE),
        writes=(UNASSESSED, REMOTE_NOT_ASSESSED),
        macros=("day_text",),
    )

    def final(con: duckdb.DuckDBPyConnection) -> pa.Table:
        """The occasions table: every relation above joined, cast to OCCASIONS (the
        occasions not described in full keep only SCREENING_COLUMNS)."""
        con.register("avail_arrow", availability.availability(con, params, "occw_detail"))
        con.register("duty_arrow", context.on_duty(con, "occw_detail"))
        con.register("place_arrow", occasions.where_texts(con, "occw_detail", params))
        counts = ", ".join(
            f"CASE WHEN na.incidents_unknown THEN NULL ELSE a.incidents_p{p} END AS incidents_p{p}"
            for p in (1, 2, 3, 4)
        )
        # ranked: the evidence of the occasions described in full only (the others' is null)
        only = " WHERE occasion_id IN (SELECT occasion_id FROM occ_detail)" if ranked else ""
        table = fetch(
            con,
            f"""
            WITH e AS (
                SELECT occasion_id,
                       list_sort(list_distinct(list(label) FILTER (WHERE kind = 'reason')))
                           AS reasons,
                       list_sort(list_distinct(list(label) FILTER (WHERE kind = 'flag'))) AS flags
                FROM evid GROUP BY occasion_id
            ), ej AS (
                SELECT occasion_id,
                       to_json(list(struct_pack(label := label, kind := kind, detail := detail,
                                                "rows" := "rows")
                                    ORDER BY kind DESC, label, detail)) AS evidence
                FROM evid{only} GROUP BY occasion_id
            ), na AS ({assessability.not_assessed_sql()})
            SELECT o.occasion_id, o.officer_a, o.officer_b, o.start, o."end", o.duration_s,
                   c.unexplained_s < {params.min_duration_s} AS explained,
                   coalesce(e.reasons, []::VARCHAR[]) AS reasons,
                   coalesce(e.flags, []::VARCHAR[]) AS flags,
                   coalesce(CAST(ej.evidence AS VARCHAR), '[]') AS evidence,
                   o.x, o.y, p.place, p.place_distance_m, o.min_separation_m,
                   o.median_separation_m, o.stationary, o.fixes_per_hour, o.position_error_m,
                   o.max_fix_gap_s, d.on_duty,
                   -- unknown where the incident log or attachments do not cover it
                   {counts},
                   CASE WHEN na.dispatch_unknown THEN NULL ELSE a.dispatched END AS dispatched,
                   CASE WHEN na.dispatch_unknown THEN NULL ELSE a.dispatch_to_end_min END
                       AS dispatch_to_end_min,
                   c.explained_s, c.unexplained_s, o.stopped_s, c.unexplained_stopped_s,
                   c.unexplained_stopped_s >= {params.min_duration_s} AS unexplained_stop,
                   p.road, p.road_distance_m, p.where_text,
                   CASE WHEN c.unexplained_s < {params.min_duration_s} THEN 'reason_found'
                        WHEN coalesce(na.reason_unassessed, false) THEN 'not_assessable'
                        ELSE 'no_reason_found' END AS finding,
                   coalesce(na.not_assessed, []::VARCHAR[]) AS not_assessed
            FROM occw o JOIN cover c USING (occasion_id) LEFT JOIN e USING (occasion_id)
            LEFT JOIN ej USING (occasion_id)
            LEFT JOIN na USING (occasion_id)
            LEFT JOIN avail_arrow a USING (occasion_id)
            LEFT JOIN duty_arrow d USING (occasion_id)
            LEFT JOIN place_arrow p USING (occasion_id)
            ORDER BY o.officer_a, o.officer_b, o.start, o.occasion_id
        """,  # noqa: S608  # relation names and numbers of the analysis, no input text
        )
        for name in ("avail_arrow", "duty_arrow", "place_arrow"):
            con.unregister(name)
        if detail is None:
            return _finish(table, crs)
        full = pc.is_in(
            table.column("occasion_id"),
            value_set=fetch(con, "SELECT occasion_id FROM occ_detail")
            .column("occasion_id")
            .combine_chunks(),
        )
        # graded only where described in full (confidence is not a screening column)
        table = _finish(table, crs, full.to_numpy(zero_copy_only=False), ranked)
        kept = set(SCREENING_COLUMNS) - (set(RANKED_NULL) if ranked else set())
        cols = [
            c if f.name in kept else pc.if_else(full, c, pa.scalar(None, f.type))
            for c, f in zip(table.columns, table.schema, strict=True)
        ]
        return pa.Table.from_arrays(cols, schema=table.schema)

    table = steps.step(
        "occasions table",
        final,
        reads=(DESCRIBED, COVER, EVIDENCE, UNASSESSED, DETAIL, DETAIL_VIEW, OCCASION_CODES, POINTS),
        returns=OCCASIONS,
    )
    assert table is not None
    return table


def _order(lists: pa.ChunkedArray, vocab: tuple[str, ...]) -> pa.Array:
    """Sort each list by the vocabulary's order (the order a reader expects)."""
    arr = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    arr = arr.cast(pa.list_(pa.string()))
    if len(arr) == 0:
        return arr
    values = pc.list_flatten(arr)
    parent = pc.list_parent_indices(arr).to_numpy()
    rank = pc.index_in(values, value_set=pa.array(vocab, pa.string())).to_numpy(
        zero_copy_only=False
    )
    order = np.lexsort((rank, parent))  # within each list, by the vocabulary
    offsets = pc.list_value_length(arr).to_numpy(zero_copy_only=False)
    return pa.ListArray.from_arrays(
        pa.array(np.r_[0, np.cumsum(offsets)], pa.int32()), values.take(pa.array(order))
    )


def _finish(
    table: pa.Table, crs: str, graded: np.ndarray | None = None, ranked: bool = False
) -> pa.Table:
    """`OCCASIONS` from the labelling's table: confidence only for the `graded` rows (None:
    all), and lat, lon and grid_ref too when `ranked` (the others null)."""
    n = table.num_rows
    x = np.asarray(table.column("x").to_numpy(zero_copy_only=False), float)
    y = np.asarray(table.column("y").to_numpy(zero_copy_only=False), float)
    # ranked: the graded rows' only (the others' are made null: RANKED_NULL)
    at = np.flatnonzero(graded) if ranked and graded is not None else np.arange(n)
    lat, lon, refs = np.full(n, np.nan), np.full(n, np.nan), np.full(n, "", object)
    if len(at):
        lat[at], lon[at], refs[at] = occasions.wgs84_and_grid(x[at], y[at], crs)
    unavailable = pc.divide(table.column("unexplained_s"), 60.0)
    table = grade_table(table, graded)
    cols = {
        "start": to_utc(table.column("start")),
        "end": to_utc(table.column("end")),
        "reasons": _order(table.column("reasons"), reason_codes()),
        "flags": _order(table.column("flags"), flag_codes()),
        "lat": pa.array(lat, pa.float64()),
        "lon": pa.array(lon, pa.float64()),
        "grid_ref": pa.array(refs, pa.string()),
        "unavailable_min": unavailable,
    }
    arrays = [cols[f.name] if f.name in cols else table.column(f.name) for f in OCCASIONS]
    return pa.Table.from_arrays(
        [pc.cast(a, f.type) for a, f in zip(arrays, OCCASIONS, strict=True)], schema=OCCASIONS
    )


__all__ = ["DESCRIBED_WEIGHT", "OCCASIONS", "RANKED_NULL", "SPLIT_PIECES", "label_occasions"]
