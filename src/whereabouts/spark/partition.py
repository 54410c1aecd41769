"""What runs on the executors: pure functions of one group's Arrow table, no Spark in here.

Three steps, each a function of one group's rows:

1. `assign_cells` — one device's fixes in one time window (the window plus `max_gap` either
   side, exactly the rows the embedded engine hands the kernel). Each segment between
   consecutive fixes (and each isolated fix) is sent to every spatial cell its padded box
   touches; a cell receives the device's *whole run* of fixes from the first to the last
   one it needs, so the kernel never sees two fixes as consecutive that are not.
2. `run_cell` — one (window × cell × salt) partition: the engine's kernel, with the cell's
   bounds (a pair is reported only by the cell holding the low corner of its segments'
   padded boxes' intersection, so no pair is counted twice).
3. `merge_pairs` — all periods of some device pairs: stitched (`periods.union`), then merged
   into encounters exactly as `engine.encounters` does.

A cell sees fewer fixes than the embedded engine's whole window, but the kernel solves each
pair in coordinates of the pair alone (`engine.partition`), so a cell's periods are the
embedded engine's bits and every cell agrees on which one holds a pair.

The driver's last step, `encounter_table` / `periods_table`, builds the embedded engine's
tables with the engine's own `encounters_table` / `raw_periods_table`, with certain and
possible time measured in exact integer µs (`periods.overlap_us`): identical bits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.engine.encounters import (
    Run,
    encounters_from_run,
    encounters_table,
    raw_periods_table,
)
from whereabouts.engine.params import EncounterParams
from whereabouts.engine.partition import kernel
from whereabouts.engine.periods import (
    CERTAIN,
    KIND_NAMES,
    POSSIBLE,
    Periods,
    overlap_us,
    union,
)
from whereabouts.schema import UTC_TS

MARGIN_M = 1.0  # extra padding of segment boxes: rounding never drops a needed segment

CELL_ROWS = pa.schema(
    [
        ("k", pa.int64()),
        ("cx", pa.int64()),
        ("cy", pa.int64()),
        ("device_id", pa.string()),
        ("t", pa.int64()),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("acc", pa.float64()),
    ]
)
PERIOD_ROWS = pa.schema(
    [
        ("device_a", pa.string()),
        ("device_b", pa.string()),
        ("kind", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("min_distance_m", pa.float64()),
    ]
)
MERGED_ROWS = pa.schema(
    [  # kind: encounter | within | certain | possible
        ("device_a", pa.string()),
        ("device_b", pa.string()),
        ("kind", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("min_distance_m", pa.float64()),
    ]
)


def _f64(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table[name].to_numpy(), dtype=np.float64)


def assign_cells(table: pa.Table, *, gap_us: int, distance_m: float, cell_m: float) -> pa.Table:
    """Fixes (k, device_id, t, x, y, acc) of whole (window, device) groups → rows per cell.

    Every fix of a (k, device) group must be in `table` (several groups at once are fine:
    one Spark partition's worth). Fixes must be free of duplicate times (the Spark side
    deduplicates like `clean`).
    """
    if table.num_rows == 0:
        return CELL_ROWS.empty_table()
    dev = table["device_id"].combine_chunks().cast(pa.string()).dictionary_encode()
    codes = np.asarray(dev.indices.to_numpy(zero_copy_only=False), np.int64)
    kk = np.asarray(table["k"].to_numpy(), np.int64)
    t = np.asarray(table["t"].to_numpy(), np.int64)
    order = np.lexsort((t, codes, kk))
    kk, codes, t = kk[order], codes[order], t[order]
    x, y, acc = (_f64(table, c)[order] for c in ("x", "y", "acc"))
    n = len(t)
    same = (kk[1:] == kk[:-1]) & (codes[1:] == codes[:-1])
    group = np.r_[0, np.cumsum(~same)]
    link = same & ((t[1:] - t[:-1]) <= gap_us)
    touched = np.zeros(n, bool)
    touched[:-1] |= link
    touched[1:] |= link
    i0 = np.concatenate([np.flatnonzero(link), np.flatnonzero(~touched)])
    i1 = np.concatenate([np.flatnonzero(link) + 1, np.flatnonzero(~touched)])
    pad = distance_m / 2 + np.maximum(acc[i0], acc[i1]) + MARGIN_M
    cx0 = np.floor((np.minimum(x[i0], x[i1]) - pad) / cell_m).astype(np.int64)
    cx1 = np.floor((np.maximum(x[i0], x[i1]) + pad) / cell_m).astype(np.int64)
    cy0 = np.floor((np.minimum(y[i0], y[i1]) - pad) / cell_m).astype(np.int64)
    cy1 = np.floor((np.maximum(y[i0], y[i1]) + pad) / cell_m).astype(np.int64)
    nx, ny = cx1 - cx0 + 1, cy1 - cy0 + 1
    count = nx * ny
    seg = np.repeat(np.arange(len(i0)), count)
    j = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    cx = cx0[seg] + j % nx[seg]
    cy = cy0[seg] + j // nx[seg]
    g = group[i0][seg]
    # each (group, cell) needs the run from the first to the last fix of its segments
    key = np.lexsort((cy, cx, g))
    g, cx, cy, lo, hi = g[key], cx[key], cy[key], i0[seg][key], i1[seg][key]
    first = np.flatnonzero(
        np.r_[True, (g[1:] != g[:-1]) | (cx[1:] != cx[:-1]) | (cy[1:] != cy[:-1])]
    )
    run_lo = np.minimum.reduceat(lo, first)
    run_hi = np.maximum.reduceat(hi, first)
    length = run_hi - run_lo + 1
    cell = np.repeat(np.arange(len(first)), length)
    idx = (
        run_lo[cell] + np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    )
    names = dev.dictionary
    return pa.table(
        {
            "k": kk[idx],
            "cx": cx[first][cell],
            "cy": cy[first][cell],
            "device_id": names.take(pa.array(codes[idx])),
            "t": t[idx],
            "x": x[idx],
            "y": y[idx],
            "acc": acc[idx],
        },
        schema=CELL_ROWS,
    )


def run_cell(
    table: pa.Table,
    params: EncounterParams,
    *,
    window_us: int,
    cell_m: float,
    crs: str,
    one_to_many: Sequence[str] | None = None,
) -> pa.Table:
    """The kernel on one (window × cell × salt) partition; times as µs (schema PERIOD_ROWS).

    table: k, cx, cy, gi, gj, grp, device_id, t, x, y, acc. For a salted hot cell (gi < gj)
    only pairs with a device of group gi are computed; pairs inside one group may be found
    by several partitions, which the stitching joins (they are identical).
    """
    if table.num_rows == 0:
        return PERIOD_ROWS.empty_table()
    k = int(table["k"][0].as_py())
    cx, cy = int(table["cx"][0].as_py()), int(table["cy"][0].as_py())
    gi, gj = int(table["gi"][0].as_py()), int(table["gj"][0].as_py())
    w0 = k * window_us
    fixes = pa.table(
        {
            "device_id": table["device_id"].combine_chunks().cast(pa.string()),
            "time": table["t"].combine_chunks().cast(pa.int64()).cast(UTC_TS),
            "x": _f64(table, "x"),
            "y": _f64(table, "y"),
            "accuracy_m": _f64(table, "acc"),
        }
    )
    focus: list[str] | None = None
    if gi < gj:
        grp = pc.equal(table["grp"], gi)
        focus = pc.unique(table["device_id"].filter(grp)).to_pylist()
    elif one_to_many is not None:
        focus = list(one_to_many)
    bounds = (cx * cell_m, cy * cell_m, (cx + 1) * cell_m, (cy + 1) * cell_m)
    out = kernel(
        fixes, params, window=(w0, w0 + window_us), crs=crs, one_to_many=focus, bounds=bounds
    )
    if gi < gj and one_to_many is not None:
        wanted = pa.array(list(one_to_many), pa.string())
        out = out.filter(
            pc.or_(
                pc.is_in(out["device_a"], value_set=wanted),
                pc.is_in(out["device_b"], value_set=wanted),
            )
        )
    return pa.table(
        {
            "device_a": out["device_a"],
            "device_b": out["device_b"],
            "kind": out["kind"],
            "start": out["start"].cast(pa.int64()),
            "end": out["end"].cast(pa.int64()),
            "min_distance_m": out["min_distance_m"],
        },
        schema=PERIOD_ROWS,
    )


def _periods(table: pa.Table) -> tuple[Periods, np.ndarray]:
    """Period rows (names) → Periods with codes in name order, and the names."""
    a = np.asarray(table["device_a"].to_numpy(zero_copy_only=False), dtype=object)
    b = np.asarray(table["device_b"].to_numpy(zero_copy_only=False), dtype=object)
    names = np.unique(np.concatenate([a, b]).astype(str)).astype(object)
    kinds = np.asarray(
        pc.index_in(table["kind"], value_set=pa.array(KIND_NAMES)).to_numpy(), np.int8
    )
    ca = np.searchsorted(names.astype(str), a.astype(str)).astype(np.int64)
    cb = np.searchsorted(names.astype(str), b.astype(str)).astype(np.int64)
    p = Periods(
        kinds,
        np.minimum(ca, cb),
        np.maximum(ca, cb),
        np.asarray(table["start"].to_numpy(), np.int64),
        np.asarray(table["end"].to_numpy(), np.int64),
        np.asarray(table["min_distance_m"].to_numpy(zero_copy_only=False), np.float64),
    )
    return p, names


def _names(names: np.ndarray, codes: np.ndarray) -> pa.Array:
    return pa.array(names.tolist(), pa.string()).take(pa.array(codes, pa.int64()))


def merge_pairs(table: pa.Table, params: EncounterParams, *, kind: str | None = None) -> pa.Table:
    """Stitch all periods of the pairs in `table` (every period of each pair must be here).

    kind None: the encounters (kind "encounter"), as `engine.encounters_from_run` merges
    them, and the stitched certain and possible periods (for `encounter_table`, which needs
    them all at once); a kind name: only that kind's stitched periods. Schema MERGED_ROWS.
    """
    if table.num_rows == 0:
        return MERGED_ROWS.empty_table()
    p, names = _periods(table)
    stitched = union(p, 1)
    if kind is not None:
        parts = [(kind, stitched.of_kind(KIND_NAMES.index(kind)))]
    else:
        enc = encounters_from_run(Run(stitched, names, "", 0, 0), params)
        parts = [
            ("encounter", enc),
            ("certain", stitched.of_kind(CERTAIN)),
            ("possible", stitched.of_kind(POSSIBLE)),
        ]
    return pa.concat_tables(
        [
            pa.table(
                {
                    "device_a": _names(names, q.a),
                    "device_b": _names(names, q.b),
                    "kind": pa.array([name] * len(q), pa.string()),
                    "start": q.start,
                    "end": q.end,
                    "min_distance_m": q.min_distance,
                },
                schema=MERGED_ROWS,
            )
            for name, q in parts
        ]
    )


def encounter_table(merged: pa.Table) -> pa.Table:
    """The encounters (schema.ENCOUNTERS, no metadata) from all of `merge_pairs`' output.

    certain_s / possible_s: the µs of the stitched certain / possible periods inside each
    encounter, summed as integers (`periods.overlap_us`), so they are the embedded engine's
    bits whatever the partitioning. Sorted by device_a, device_b, start.
    """
    if merged.num_rows == 0:
        merged = MERGED_ROWS.empty_table()
    p, names = _periods(merged.filter(pc.not_equal(merged["kind"], "encounter")))
    is_enc = pc.equal(merged["kind"], "encounter")
    rows = merged.filter(is_enc)
    enc, enc_names = _periods(
        rows.set_column(2, "kind", pa.array(["within"] * rows.num_rows, pa.string()))
    )
    # one code space for both sides
    allnames = np.union1d(names.astype(str), enc_names.astype(str))
    remap = np.searchsorted(allnames, names.astype(str)) if len(names) else np.empty(0, int)
    emap = np.searchsorted(allnames, enc_names.astype(str)) if len(enc_names) else remap
    p = Periods(
        p.kind,
        remap[p.a].astype(np.int64),
        remap[p.b].astype(np.int64),
        p.start,
        p.end,
        p.min_distance,
    )
    enc = Periods(
        enc.kind,
        emap[enc.a].astype(np.int64),
        emap[enc.b].astype(np.int64),
        enc.start,
        enc.end,
        enc.min_distance,
    )
    certain = overlap_us(enc, _sorted(p.of_kind(CERTAIN)))
    possible = overlap_us(enc, _sorted(p.of_kind(POSSIBLE)))
    return encounters_table(allnames.astype(object), enc, certain, possible)


def periods_table(merged: pa.Table) -> pa.Table:
    """Stitched periods of one kind (`merge_pairs` with a kind) as the embedded engine's
    `RAW_PERIODS` table (no metadata), sorted by device_a, device_b, start."""
    if merged.num_rows == 0:
        merged = MERGED_ROWS.empty_table()
    p, names = _periods(merged)
    return raw_periods_table(names, p)


def _sorted(p: Periods) -> Periods:
    return p.take(np.lexsort((p.start, p.b, p.a)))


__all__ = [
    "CELL_ROWS",
    "MARGIN_M",
    "MERGED_ROWS",
    "PERIOD_ROWS",
    "assign_cells",
    "encounter_table",
    "merge_pairs",
    "periods_table",
    "run_cell",
]
