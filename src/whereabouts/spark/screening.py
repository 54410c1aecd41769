"""Screening on Spark: the pairwise periods, the labelled occasions and each pair's counts
made and written by the executors; only the ranking (one row per pair) on the driver.

`write_screening(spark, ws, officers, start, end, out)` gives what
`analysis.investigate.screen` gives, bit for bit, as result folders (`engine.results`, read
back by `read_result`):

```
out/
  occasions/   the labelled occasions (analysis.labelling.OCCASIONS), written by executors
  pairs/       per pair: the counts of its occasions and its shared duty hours
               (analysis.screening.PAIR_COUNTS), written by executors
  ranked/      the screening table (SCREENING, by rank), written by the driver, last
```

`ranked/` is the screening's commit point: a screening is complete when its manifest is
there. A run into a folder holding an older screening removes the older `ranked/manifest.json`
first, so a run stopped part-way leaves no complete ranking beside newer occasions (the
occasions and pairs folders are each complete or not, as any result folder).

The plan:

1. The devices' within periods on the executors (`spark.engine`, kind "within"), never
   gathered.
2. Work is partitioned by *officer* pair: an officer pair's occasions come from every
   device pair its officers carried (assignments change over time) and from a device both
   carried at once (a crewed car). The assignments of the officers screened are small and
   broadcast; each device pair with periods is keyed by the partitions of every officer
   pair it can stand for (`pair_partition` of the two officers' places in the sorted list
   of officers, a fixed hash, so every process agrees), and all its periods go to each.
3. Per partition (every partition runs, even one with no periods: a crewed car's pair needs
   none): the labelling of `analysis.labelling.label_occasions` over the partition's
   periods, keeping the pairs the partition owns; then the fixes of those pairs'
   occasions' devices (read by the executor from the workspace's committed Parquet files:
   each device's fixes while assigned to one of the officers, widened as
   `analysis_inputs` widens them; its crewed cars' first, for their coverage). Every
   figure of an occasion comes from its own rows, so the occasions are the embedded ones.
   Occasion ids are global already (a hash of the pair and its start) and the rows are read
   back in `OCCASION_ORDER`.
4. Per partition: `pair_counts` of its pairs' occasions (in `OCCASION_ORDER`) and shared
   duty hours (the broadcast roster): every sum is over the pair's own rows, in the
   embedded order, so the same bits.
5. The driver reads the counts (one row per pair: it needs them all, since each pair is
   ranked against the pooled rate of all the others and the p-values are adjusted over all
   pairs) and ranks them with `rank_counts`, the embedded engine's own code. Its memory
   grows with the number of pairs (the officers screened), not with the fixes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.analysis.gather import (
    LEAN_FIXES,
    assigned_spans,
    devices_of,
    load_inputs,
    open_workspace,
)
from whereabouts.analysis.inputs import Inputs
from whereabouts.analysis.investigate import check_period, shared_hours
from whereabouts.analysis.labelling import OCCASIONS, label_occasions
from whereabouts.analysis.params import AnalysisParams
from whereabouts.analysis.screening import (
    OCCASION_ORDER,
    PAIR_COUNTS,
    PAIR_ORDER,
    pair_counts,
    rank_counts,
)
from whereabouts.engine.encounters import RAW_PERIODS
from whereabouts.engine.results import MANIFEST, Manifest, read_result, write_result
from whereabouts.errors import NoDataError
from whereabouts.schema import UTC_TS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from whereabouts.analysis.gather import WorkspaceLike
    from whereabouts.spark.engine import _Plan

OCCASIONS_DIR, PAIRS_DIR, RANKED_DIR = "occasions", "pairs", "ranked"


@dataclass(frozen=True)
class Screened:
    """A screening written by `write_screening`: the ranked table (also in out/ranked) and
    the manifests of the occasions and pair counts the executors wrote."""

    ranked: pa.Table
    occasions: Manifest
    pairs: Manifest


@dataclass(frozen=True)
class _Context:
    """What every executor task reads (broadcast once): the small tables, the officers
    screened (sorted), the workspace's fixes files, the period and parameters."""

    small: Inputs
    officers: tuple[str, ...]
    files: tuple[str, ...]
    start: datetime
    end: datetime
    params: AnalysisParams
    partitions: int

    def codes(self, officer: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Each officer's place in the sorted officers."""
        at = pc.index_in(officer, value_set=pa.array(self.officers, pa.string()))
        return np.asarray(pc.fill_null(at, -1).to_numpy(zero_copy_only=False), np.int64)

    def part_of(self, pairs: pa.Table) -> np.ndarray:
        """The partition of each `officer_a, officer_b` pair."""
        return pair_partition(
            self.codes(pairs.column("officer_a")),
            self.codes(pairs.column("officer_b")),
            self.partitions,
        )


def pair_partition(a: np.ndarray, b: np.ndarray, partitions: int) -> np.ndarray:
    """The partition of the officer pairs coded (a, b), either way round: a fixed hash
    (splitmix64's finaliser) of both codes, so every process puts a pair in the same
    partition."""
    lo, hi = np.minimum(a, b).astype(np.uint64), np.maximum(a, b).astype(np.uint64)
    x = (lo << np.uint64(32)) | hi
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    part: np.ndarray = (x % np.uint64(partitions)).astype(np.int64)
    return part


def _ddl(schema: pa.Schema) -> str:
    names = {
        pa.int64(): "long",
        pa.float64(): "double",
        pa.string(): "string",
        pa.bool_(): "boolean",
        UTC_TS: "timestamp",
        pa.list_(pa.string()): "array<string>",
    }
    return ", ".join(f"`{f.name}` {names[f.type]}" for f in schema)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Spark's Arrow rows as `schema` (its types; Spark's columns are all nullable)."""
    return pa.Table.from_arrays([table[f.name].cast(f.type) for f in schema], schema=schema)


def _sorted(table: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    return table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys]))


def _held_together(ctx: _Context) -> pa.Table:
    """`device_id, part`: a device two officers screened held at once (a crewed car), and
    the partition of each such pair — its occasions need the device's fixes, not periods."""
    a = ctx.small.assignments
    a = a.filter(
        pc.and_(
            pc.is_in(a.column("officer_id"), pa.array(ctx.officers, pa.string())),
            pc.greater(a.column("end"), a.column("start")),
        )
    ).select(["officer_id", "device_id", "start", "end"])
    both = a.join(
        a, "device_id", join_type="inner", left_suffix="_a", right_suffix="_b", use_threads=False
    )
    both = both.filter(
        pc.and_(
            pc.less(both.column("officer_id_a"), both.column("officer_id_b")),
            pc.and_(
                pc.less(both.column("start_a"), both.column("end_b")),
                pc.less(both.column("start_b"), both.column("end_a")),
            ),
        )
    )
    part = pair_partition(
        ctx.codes(both.column("officer_id_a")),
        ctx.codes(both.column("officer_id_b")),
        ctx.partitions,
    )
    return pa.table({"device_id": both.column("device_id"), "part": part})


def _key_device_pairs(ctx: _Context, pairs: pa.Table) -> pa.Table:
    """`device_a, device_b, part`: each device pair with every partition of an officer pair
    it can stand for (either device of either officer, at any time)."""
    a = ctx.small.assignments
    a = a.filter(
        pc.and_(
            pc.is_in(a.column("officer_id"), pa.array(ctx.officers, pa.string())),
            pc.greater(a.column("end"), a.column("start")),
        )
    )
    held = (
        pa.table({"device_id": a.column("device_id"), "code": ctx.codes(a.column("officer_id"))})
        .group_by(["device_id", "code"], use_threads=False)
        .aggregate([])
    )
    got = pairs.join(
        held.rename_columns(["device_a", "ca"]), "device_a", join_type="inner", use_threads=False
    ).join(
        held.rename_columns(["device_b", "cb"]), "device_b", join_type="inner", use_threads=False
    )
    ca, cb = got.column("ca").to_numpy(), got.column("cb").to_numpy()
    keep = ca != cb
    part = pair_partition(ca[keep], cb[keep], ctx.partitions)
    keyed = pa.table(
        {
            "device_a": got.column("device_a").filter(pa.array(keep)),
            "device_b": got.column("device_b").filter(pa.array(keep)),
            "part": pa.array(part, pa.int64()),
        }
    )
    return keyed.group_by(["device_a", "device_b", "part"], use_threads=False).aggregate([])


def _label_partition(ctx: _Context, part: int, periods: pa.Table) -> pa.Table:
    """The labelled occasions of the officer pairs of partition `part` (OCCASIONS), from
    the fixes of their devices alone: the crewed cars' first (coverage), then, once the
    occasions are known, their devices'."""
    from whereabouts.store.workspace import fixes_within_files

    periods = _sorted(_conform(periods, RAW_PERIODS), ("device_a", "device_b", "start", "end"))
    params = ctx.params
    pad = 2 * (params.max_gap_s + params.merge_gap_s)
    spans = assigned_spans(ctx.small, list(ctx.officers), ctx.start, ctx.end, pad)
    files = [Path(f) for f in ctx.files]

    def fixes_of(devices: pa.Array) -> pa.Table:
        # each device's fixes while assigned to an officer screened, as analysis_inputs
        mine = spans.filter(pc.is_in(spans.column("device_id"), value_set=devices))
        return fixes_within_files(files, mine, LEAN_FIXES)

    held = _held_together(ctx)
    cars = pc.unique(held.filter(pc.equal(held.column("part"), part)).column("device_id"))

    def mine(pairs: pa.Table) -> pa.Array:
        return pa.array(ctx.part_of(pairs) == part)

    return label_occasions(
        ctx.small.with_fixes(fixes_of(cars)),
        periods,
        list(ctx.officers),
        params,
        workers=1,
        keep=mine,
        fixes_of=fixes_of,
    )


def _count_partition(ctx: _Context, part: int, occasions: pa.Table) -> pa.Table:
    """PAIR_COUNTS of the officer pairs of partition `part`."""
    occ = _sorted(occasions, OCCASION_ORDER)
    hours = shared_hours(ctx.small, list(ctx.officers), ctx.start, ctx.end)
    hours = hours.filter(pa.array(ctx.part_of(hours) == part))
    return pair_counts(occ, hours)


def _periods(
    spark: SparkSession, files: list[str], devices: list[str], w_crs: str, ctx: _Context
) -> _Plan | None:
    """The plan of the within periods of every pair of the devices (RAW_PERIODS rows), on
    the executors; None when the devices have no fixes in the period."""
    from pyspark.sql import functions as F

    from whereabouts.spark.engine import JobOptions, _plan

    fixes = (
        spark.read.parquet(*files)
        .filter(F.col("device_id").isin(devices))
        .filter((F.col("time") >= F.lit(ctx.start)) & (F.col("time") < F.lit(ctx.end)))
    )
    try:
        plan = _plan(spark, fixes, ctx.params.encounter, JobOptions(crs=w_crs, kind="within"))
    except NoDataError:
        return None
    return plan


def write_screening(
    spark: SparkSession,
    ws: WorkspaceLike,
    officers: list[str],
    start: datetime,
    end: datetime,
    out: str | Path,
    *,
    params: AnalysisParams | None = None,
    partitions: int | None = None,
) -> Screened:
    """Screen every pair among `officers` in [start, end) on Spark, writing the occasions
    and pair counts from the executors and the ranked pairs from the driver into `out`
    (see the module's docstring); the same tables as `analysis.investigate.screen`.

    The workspace's files must be readable by every executor at the same path (a shared
    file system), as `out` must be writable by them. partitions: groups of officer pairs
    (default: the session's shuffle partitions).
    Example: ``write_screening(spark, "ws", officers, start, end, "ws/runs/screen-1")``
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from whereabouts.spark.output import write_frame

    params = params or AnalysisParams()
    check_period(start, end)
    w = open_workspace(ws)
    small = load_inputs(w, [], start, end, lean=True)
    devices = devices_of(small, officers, start, end)
    n = partitions or max(1, int(spark.conf.get("spark.sql.shuffle.partitions") or 8))
    files = [str(f.resolve()) for f in w.files("fixes")]
    ctx = _Context(small, tuple(sorted(set(officers))), tuple(files), start, end, params, n)
    out = Path(out)
    # ranked/ is the screening's commit point: an older screening's goes first, so a run
    # stopped part-way never leaves an old ranking beside new occasions
    (out / RANKED_DIR / MANIFEST).unlink(missing_ok=True)
    shared = spark.sparkContext.broadcast(ctx)
    key = spark.range(n).select(F.col("id").alias("part"))
    plan = _periods(spark, files, devices, w.crs, ctx) if devices and files else None
    # no fixes: the pairs may still have shared duty hours
    periods = (spark.createDataFrame([], _ddl(RAW_PERIODS)) if plan is None else plan.rows).persist(
        StorageLevel.MEMORY_AND_DISK
    )

    def keyed(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        got = [b for b in batches if b.num_rows]
        if got:
            yield from _key_device_pairs(shared.value, pa.Table.from_batches(got)).to_batches()

    pairs = periods.select("device_a", "device_b").distinct()
    parts = pairs.mapInArrow(keyed, "device_a string, device_b string, part long")
    # every partition is labelled, with its device pairs' periods or none
    rows = key.join(periods.join(parts, ["device_a", "device_b"]), "part", "left")

    def label(table: pa.Table) -> pa.Table:
        part = int(table.column("part")[0].as_py())
        got = table.filter(pc.is_valid(table.column("device_a")))
        occ = _label_partition(shared.value, part, got)
        return occ.append_column("part", pa.array(np.full(occ.num_rows, part), pa.int64()))

    labelled = (
        rows.groupBy("part")
        .applyInArrow(label, f"{_ddl(OCCASIONS)}, part long")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    counted = pa.schema([OCCASIONS.field(c) for c in _COUNTED])

    def count(table: pa.Table) -> pa.Table:
        part = int(table.column("part")[0].as_py())
        got = table.filter(pc.is_valid(table.column("occasion_id")))
        return _count_partition(shared.value, part, _conform(got, counted))

    try:
        occ_manifest = write_frame(
            spark,
            labelled,
            out / OCCASIONS_DIR,
            OCCASIONS,
            table="occasions",
            sort_by=OCCASION_ORDER,
        )
        counts = (
            key.join(labelled.select("part", *_COUNTED), "part", "left")
            .groupBy("part")
            .applyInArrow(count, _ddl(PAIR_COUNTS))
        )
        pairs_manifest = write_frame(
            spark, counts, out / PAIRS_DIR, PAIR_COUNTS, table="pair counts", sort_by=PAIR_ORDER
        )
    finally:
        labelled.unpersist()
        periods.unpersist()
        if plan is not None:
            plan.release()
        shared.unpersist()
    # the driver: every pair's counts (one row each), ranked; written last
    ranked = rank_counts(read_result(out / PAIRS_DIR))
    write_result(ranked, out / RANKED_DIR, sort_by=("rank",))
    return Screened(ranked, occ_manifest, pairs_manifest)


_COUNTED = (
    "officer_a",
    "officer_b",
    "start",
    "occasion_id",
    "explained",
    "unexplained_stop",
    "finding",
    "unexplained_s",
    "unexplained_stopped_s",
    "flags",
)


def screen(
    spark: SparkSession,
    ws: WorkspaceLike,
    officers: list[str],
    start: datetime,
    end: datetime,
    *,
    params: AnalysisParams | None = None,
    out: str | Path | None = None,
) -> tuple[pa.Table, pa.Table]:
    """(screening table ranked, labelled occasions), as `analysis.investigate.screen`:
    `write_screening` into `out` (default: a temporary folder on the driver, removed after:
    local mode only; on a cluster give a folder every executor can write), read back."""
    if out is not None:
        got = write_screening(spark, ws, officers, start, end, out, params=params)
        return got.ranked, read_result(Path(out) / OCCASIONS_DIR)
    with tempfile.TemporaryDirectory(prefix="screening-") as tmp:
        return screen(spark, ws, officers, start, end, params=params, out=tmp)


def screen_on_spark(
    master: str,
    ws: WorkspaceLike,
    officers: list[str],
    start: datetime,
    end: datetime,
    *,
    out: Path,
    verbose: bool = False,
) -> pa.Table:
    """`whereabouts screen --engine spark`: a session on `master`, then `write_screening`
    into `out`; the ranked pairs."""
    from whereabouts.spark.cli import cli_session, job_errors

    spark = cli_session(master, verbose=verbose)
    with job_errors():
        return write_screening(spark, ws, officers, start, end, out).ranked


__all__ = [
    "OCCASIONS_DIR",
    "PAIRS_DIR",
    "RANKED_DIR",
    "Screened",
    "pair_partition",
    "screen",
    "screen_on_spark",
    "write_screening",
]
