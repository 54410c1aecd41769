"""The Spark backend: the embedded engine's kernel on time window × spatial cell partitions.

The plan (every step is columnar; the kernel is `engine.kernel`, unchanged):

1. Read the fixes (Parquet partitioned by day, any URI the session can read, or a Spark
   DataFrame); drop duplicate (device, time) fixes keeping the smallest (x, y, accuracy),
   as `tracks.track.clean` does; count what was read and dropped.
2. Choose the time window with the embedded engine's `auto_window_us` (an hour, longer
   when the first day's data are sparse), on the same grid (multiples of the window since
   the epoch). Each fix goes to every window whose reach (window ± max_gap) holds it, as the
   kernel requires; the window's lowest x/y is every cell's `origin`.
3. Per (window, device): `partition.assign_cells` sends runs of fixes to spatial cells.
4. Skew: a cell holding more than `max_cell_fixes` rows in a window (a busy station) is
   salted: its devices are hashed into s groups and each pair of groups (i ≤ j) is one
   partition computing the pairs with a device of group i; no partition exceeds about
   2/s of the cell.
5. Per (window, cell, salt): `partition.run_cell` runs the kernel with the cell's bounds
   (the kernel solves each pair in the pair's own coordinates, so a cell computes the
   embedded engine's bits).
6. Per group of device pairs: `partition.merge_pairs` stitches window and cell edges and
   merges encounters, and the same task builds its pairs' rows with the embedded engine's
   own table builders. The executors write them (`spark.output`: a result folder, its
   manifest last) or, for `find_encounters`, the driver gathers and sorts them; the table's
   metadata is the embedded engine's `metadata`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.engine.encounters import (
    RAW_PERIODS,
    auto_window_us,
    check_device_sets,
    metadata,
)
from whereabouts.engine.params import EncounterParams
from whereabouts.engine.periods import KIND_NAMES
from whereabouts.engine.results import PAIR_ORDER
from whereabouts.errors import InputError, NoDataError, NotInstalledError, ParameterError
from whereabouts.schema import ENCOUNTERS, UTC_TS
from whereabouts.spark import partition as part
from whereabouts.tracks.projection import (
    BNG,
    in_great_britain,
    normalise_crs,
    to_projected,
    utm_crs_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from pyspark.sql import Column, DataFrame, SparkSession

# Where fixes come from: Parquet paths or URIs (folders with day= partitions welcome), a
# workspace folder, or a Spark DataFrame of canonical fixes.
SparkSource = Union[str, Path, Sequence[str | Path], "DataFrame"]

DAY_US = 86_400_000_000
_WINDOWED = pa.schema(
    [
        ("k", pa.int64()),
        ("device_id", pa.string()),
        ("t", pa.int64()),
        ("x", pa.float64()),
        ("y", pa.float64()),
        ("acc", pa.float64()),
    ]
)
CELL_M = 10_000.0
MAX_CELL_FIXES = 200_000


@dataclass(frozen=True)
class SparkRun:
    """What a Spark run found besides its rows: for the table's metadata and for benches."""

    crs: str
    fixes: int
    duplicates: int
    window_us: int
    windows: int
    cells: int
    hot_cells: int
    partitions: int
    largest_partition: int


@dataclass(frozen=True, kw_only=True)
class JobOptions:
    """What one Spark job computes, besides the encounter parameters.

    devices: only these devices; one_to_many: only pairs with one of these; crs: the
    projection (None: as the embedded engine chooses); window_s: the time window (None:
    `auto_window_us`); cell_m: spatial cell size; max_cell_fixes: rows above which a
    cell's window is salted (skew); kind: None for encounters, else the raw periods of
    this kind (`periods.KIND_NAMES`).
    """

    devices: Sequence[str] | None = None
    one_to_many: Sequence[str] | None = None
    crs: str | None = None
    window_s: float | None = None
    cell_m: float = CELL_M
    max_cell_fixes: int = MAX_CELL_FIXES
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in KIND_NAMES:
            raise ParameterError(
                f"unknown kind {self.kind!r}", hint=f"one of {', '.join(KIND_NAMES)}"
            )


def session(
    master: str = "local[2]",
    *,
    shuffle_partitions: int = 8,
    app_name: str = "whereabouts",
    driver_memory: str = "2g",
    ui: bool = False,
    quiet: bool = False,
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """A Spark session for the engine: UTC, Arrow on. Finds Java if needed.

    ui: Spark's web UI on (its address is `spark.sparkContext.uiWebUrl`); quiet: Spark's
    own log shows errors only, from the JVM's start (see `watch.quiet_logging`).
    Example: ``spark = session("local[2]")``; ``session("spark://host:7077")`` for a cluster.
    """
    require_spark()
    # local workers run this interpreter (and so find this package); clusters set their own
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from whereabouts.spark.watch import quiet_logging

    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "true" if ui else "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.execution.pyspark.udf.faulthandler.enabled", "true")
        # results written by the executors: timestamps as Parquet's own µs type
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    )
    for key, value in {**(quiet_logging() if quiet else {}), **(conf or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def require_spark() -> None:
    """Check PySpark and a Java runtime are there (setting JAVA_HOME from `java` on PATH);
    a NotInstalledError saying how to install them otherwise."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise NotInstalledError(
            "--engine spark needs PySpark, which is not installed",
            hint="pip install 'whereabouts[spark]' (PySpark and pandas), and a Java runtime "
            "17 or later (Debian: apt-get install default-jre-headless); "
            "see docs/scale.md",
        ) from exc
    if os.environ.get("JAVA_HOME"):
        if not (Path(os.environ["JAVA_HOME"]) / "bin" / "java").exists():
            raise NotInstalledError(
                f"JAVA_HOME is {os.environ['JAVA_HOME']}, which holds no bin/java",
                hint="point JAVA_HOME at a Java 17+ runtime, or unset it to use java on PATH",
            )
        return
    java = shutil.which("java")
    if java is None:
        raise NotInstalledError(
            "--engine spark needs a Java runtime (17 or later), and none was found",
            hint="install one (Debian: apt-get install default-jre-headless; macOS: brew "
            "install openjdk@17) or set JAVA_HOME; see docs/scale.md",
        )
    os.environ["JAVA_HOME"] = str(Path(java).resolve().parent.parent)


def _column(df: DataFrame, *names: str) -> str | None:
    return next((n for n in names if n in df.columns), None)


def read_fixes(
    spark: SparkSession,
    source: SparkSource,
    *,
    devices: Sequence[str] | None = None,
    crs: str | None = None,
) -> tuple[DataFrame, str, bool]:
    """(fixes as device_id, t µs, x, y, acc; the CRS; whether chunks are days).

    source: Parquet paths or URIs (folders with day= partitions welcome), a workspace
    folder, or a Spark DataFrame of canonical fixes.
    """
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    by_day = True
    if isinstance(source, DataFrame):
        df, by_day = source, False
    else:
        paths = [str(p) for p in ([source] if isinstance(source, str | Path) else source)]
        if len(paths) == 1 and (Path(paths[0]) / "workspace.json").is_file():
            meta = json.loads((Path(paths[0]) / "workspace.json").read_text())
            crs = crs or meta.get("crs")
            paths = [str(Path(paths[0]) / "tables" / "fixes")]
        try:
            df = spark.read.option("mergeSchema", "true").parquet(*paths)
        except Exception as exc:  # AnalysisException: path not found, not Parquet
            raise InputError(
                f"Spark cannot read the fixes: {str(exc).splitlines()[0][:200]}",
                where=paths[0],
                hint="give Parquet fixes (files or folders, "
                "day= partitions welcome) or a workspace folder",
            ) from exc
        by_day = devices is None
    missing = [c for c in ("device_id", "time") if c not in df.columns]
    if missing:
        raise InputError(
            f"missing columns {missing}; found {df.columns}",
            where="fixes",
            hint="fixes need device_id, time and x/y, easting/northing or lat/lon",
        )
    if devices is not None:
        df = df.filter(F.col("device_id").cast("string").isin(list(devices)))
    acc_name = _column(df, "accuracy_m")
    acc = (
        F.lit(0.0)
        if acc_name is None
        else F.coalesce(F.nanvl(F.col(acc_name).cast("double"), F.lit(0.0)), F.lit(0.0))
    )
    xs, ys = _column(df, "x", "easting"), _column(df, "y", "northing")
    base = df.select(
        F.col("device_id").cast("string").alias("device_id"),
        F.unix_micros(F.col("time").cast("timestamp")).alias("t"),
        *(
            [F.col(xs).cast("double").alias("x"), F.col(ys).cast("double").alias("y")]
            if xs and ys
            else []
        ),
        *(
            []
            if xs and ys
            else [
                F.col(c).cast("double").alias(c)
                for c in (_column(df, "lat", "latitude"), _column(df, "lon", "longitude"))
                if c
            ]
        ),
        acc.alias("acc"),
    )
    if xs and ys:
        return base, normalise_crs(crs) if crs else BNG, by_day
    lat, lon = _column(df, "lat", "latitude"), _column(df, "lon", "longitude")
    if lat is None or lon is None:
        raise InputError(
            f"no positions; found columns {df.columns}",
            where="fixes",
            hint="give lat/lon (WGS84) or easting/northing (EPSG:27700)",
        )
    if crs is None:
        crs = _auto_crs(base, lat, lon, first_day=not isinstance(source, DataFrame))
    out_crs = normalise_crs(crs)

    def project(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            x, y = to_projected(
                b.column(lat).to_numpy(zero_copy_only=False),
                b.column(lon).to_numpy(zero_copy_only=False),
                out_crs,
            )
            yield pa.RecordBatch.from_arrays(
                [b.column("device_id"), b.column("t"), pa.array(x), pa.array(y), b.column("acc")],
                names=["device_id", "t", "x", "y", "acc"],
            )

    schema = "device_id string, t long, x double, y double, acc double"
    return base.mapInArrow(project, schema), out_crs, by_day


def _auto_crs(base: DataFrame, lat: str, lon: str, *, first_day: bool) -> str:
    """The embedded engine's choice (`tracks.projection.crs_for`) from the same fixes: its
    first chunk, the first UTC day of a Parquet source (a table is one chunk). EPSG:27700
    when all lie in Great Britain, else the UTM zone of their median position."""
    from pyspark.sql import functions as F

    rows = base
    if first_day:
        t0 = base.agg(F.min("t")).first()
        if t0 is None or t0[0] is None:
            return BNG  # no fixes: the run stops with NoDataError before it projects any
        day = int(t0[0]) // DAY_US
        rows = base.filter((F.col("t") >= day * DAY_US) & (F.col("t") < (day + 1) * DAY_US))
    box = rows.agg(
        F.min(lat),
        F.max(lat),
        F.min(lon),
        F.max(lon),
        F.expr(f"percentile(`{lat}`, 0.5)"),
        F.expr(f"percentile(`{lon}`, 0.5)"),
        F.count(F.lit(1)),
    ).first()
    if box is None or not box[6]:
        return BNG
    if in_great_britain(np.array(box[:2], float), np.array(box[2:4], float)):
        return BNG
    return utm_crs_for(np.array([box[4]], float), np.array([box[5]], float))


def _plan_rows(
    spark: SparkSession, source: SparkSource, params: EncounterParams, job: JobOptions
) -> tuple[DataFrame, SparkRun, list[Any]]:
    """The periods of every partition (a DataFrame of PERIOD_ROWS), before stitching."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    devices, window_s = job.devices, job.window_s
    cell_m, max_cell_fixes = job.cell_m, job.max_cell_fixes
    check_device_sets(devices, job.one_to_many)
    if cell_m <= 0 or max_cell_fixes < 2:
        raise ParameterError(
            "cell size must be > 0 m and max_cell_fixes >= 2",
            hint="e.g. cell_m=10000, max_cell_fixes=200000",
        )
    df, out_crs, by_day = read_fixes(spark, source, devices=devices, crs=job.crs)
    cached: list[Any] = []
    # 1. duplicates: keep the smallest (x, y, accuracy) of a device's fixes at one instant
    fixes = (
        df.groupBy("device_id", "t")
        .agg(F.count(F.lit(1)).alias("n"), F.min(F.struct("x", "y", "acc")).alias("p"))
        .select("device_id", "t", "n", "p.x", "p.y", "p.acc")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    cached.append(fixes)
    row = fixes.agg(F.sum("n"), F.count(F.lit(1)), F.min("t"), F.max("t")).first()
    if row is None or not row[0]:
        raise NoDataError(
            "no fixes to compare" + (" for those devices" if devices else ""),
            hint="check the input and the device ids given",
        )
    n_read, n_kept, t_lo, t_hi = int(row[0]), int(row[1]), int(row[2]), int(row[3])
    gap = round(params.max_gap_s * 1e6)
    if window_s is not None:
        if window_s <= 0:
            raise ParameterError("window must be > 0 seconds", hint="e.g. 3600")
        win = round(window_s * 1e6)
    else:
        # as the embedded engine: from its first chunk, the first day when read by day
        n_first, first_lo, first_hi = n_kept, t_lo, t_hi
        if by_day:
            end = (t_lo // DAY_US + 1) * DAY_US
            first = (
                fixes.filter(F.col("t") < end)
                .agg(F.count(F.lit(1)), F.min("t"), F.max("t"))
                .first()
            )
            if first is not None and first[0]:  # it holds the first fix, so never empty
                n_first, first_lo, first_hi = int(first[0]), int(first[1]), int(first[2])
        win = auto_window_us(n_first, first_lo, first_hi)
    # 2. windows: k with [k·win − gap, (k+1)·win + gap] holding the fix
    k_lo = F.expr(f"(t - {gap} + {win - 1}) div {win} - 1")
    k_hi = F.expr(f"(t + {gap}) div {win}")
    windowed = fixes.withColumn("k", F.explode(F.sequence(k_lo, k_hi))).drop("n")
    # 3. runs of fixes per spatial cell
    d, cell = float(params.distance_m), float(cell_m)

    def assign(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # a whole Spark partition: every (window, device) group in it, vectorised at once
        table = _table(batches, _WINDOWED)
        yield from part.assign_cells(table, gap_us=gap, distance_m=d, cell_m=cell).to_batches()

    n_parts = max(1, int(spark.conf.get("spark.sql.shuffle.partitions") or 8))
    cells = (
        windowed.select("k", "device_id", "t", "x", "y", "acc")
        .repartition(n_parts, "k", "device_id")
        .mapInArrow(assign, _ddl(part.CELL_ROWS))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    cached.append(cells)
    # 4. skew: salt cells holding more rows than an executor should take at once
    sizes = cells.groupBy("k", "cx", "cy").count()
    # every (window, device) group has a segment, so every window holds a cell
    stat = sizes.agg(F.count(F.lit(1)), F.max("count"), F.countDistinct("k")).first()
    hot_rows = sizes.filter(F.col("count") > max_cell_fixes).collect()
    hot = [
        (int(r["k"]), int(r["cx"]), int(r["cy"]), math.ceil(2 * int(r["count"]) / max_cell_fixes))
        for r in hot_rows
    ]
    rows = cells.withColumn("s", F.lit(1))
    if hot:
        salt = spark.createDataFrame(hot, "k long, cx long, cy long, s long")
        rows = cells.join(F.broadcast(salt), ["k", "cx", "cy"], "left").withColumn(
            "s", F.coalesce(F.col("s"), F.lit(1))
        )
    grp: Column = F.pmod(F.xxhash64("device_id"), F.col("s"))
    rows = (
        rows.withColumn("grp", grp)
        .withColumn("j", F.explode(F.sequence(F.lit(0), F.col("s") - 1)))
        .withColumn("gi", F.least("grp", "j"))
        .withColumn("gj", F.greatest("grp", "j"))
        .drop("j", "s")
    )
    # 5. the kernel per (window, cell, salt)
    focus = None if job.one_to_many is None else sorted(set(job.one_to_many))

    def run(table: pa.Table) -> pa.Table:
        return part.run_cell(
            table, params, window_us=win, cell_m=cell, crs=out_crs, one_to_many=focus
        )

    periods = rows.groupBy("k", "cx", "cy", "gi", "gj").applyInArrow(run, _ddl(part.PERIOD_ROWS))
    n_cells = int(stat[0]) if stat else 0
    salted = sum(s * (s + 1) // 2 for *_, s in hot)
    largest = int(stat[1]) if stat and stat[1] is not None else 0
    if hot:  # a salted partition holds two of the s groups: about 2/s of the cell
        cool = sizes.filter(F.col("count") <= max_cell_fixes).agg(F.max("count")).first()
        largest = max(
            [int(cool[0]) if cool and cool[0] is not None else 0]
            + [math.ceil(2 * int(r["count"]) / s) for r, (*_, s) in zip(hot_rows, hot, strict=True)]
        )
    n_windows = int(stat[2]) if stat else 0
    info = SparkRun(
        out_crs,
        n_read,
        n_read - n_kept,
        win,
        n_windows,
        n_cells,
        len(hot),
        n_cells - len(hot) + salted,
        largest,
    )
    return periods, info, cached


def _table(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> pa.Table:
    """A Spark partition's Arrow batches as one table of `schema` (names, types, order)."""
    got = list(batches)
    if not got:
        return schema.empty_table()
    table = pa.Table.from_batches(got)
    return pa.table([table[f.name].cast(f.type) for f in schema], schema=schema)


def _ddl(schema: pa.Schema) -> str:
    names = {pa.int64(): "long", pa.float64(): "double", pa.string(): "string", UTC_TS: "timestamp"}
    return ", ".join(f"`{f.name}` {names[f.type]}" for f in schema)


@dataclass(frozen=True)
class _Plan:
    """The final rows (a DataFrame of the engine's table, each partition holding whole
    pairs and sorted), the run's counts, and what to unpersist when done."""

    rows: DataFrame
    schema: pa.Schema  # the engine's table schema, with its metadata
    info: SparkRun
    cached: list[Any]

    def release(self) -> None:
        for df in self.cached:
            df.unpersist()


def _plan(
    spark: SparkSession, source: SparkSource, params: EncounterParams, job: JobOptions
) -> _Plan:
    """Every step up to the final table's rows, which the executors build per group of
    pairs: all periods of a pair meet in one partition, are stitched and merged there, and
    become the engine's rows with `encounter_table` / `periods_table` (the same bits as the
    whole table's, since every figure is a pair's own)."""
    from pyspark.sql import functions as F

    periods, info, cached = _plan_rows(spark, source, params, job)
    kind = job.kind
    target = ENCOUNTERS if kind is None else RAW_PERIODS

    def merge(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # the whole Spark partition (all periods of its pairs) in one go
        merged = part.merge_pairs(_table(batches, part.PERIOD_ROWS), params, kind=kind)
        rows = part.encounter_table(merged) if kind is None else part.periods_table(merged)
        yield from rows.to_batches()

    n = max(1, int(spark.conf.get("spark.sql.shuffle.partitions") or 8))
    rows = periods.repartition(n, F.col("device_a"), F.col("device_b")).mapInArrow(
        merge, _ddl(target)
    )
    what = "encounters" if kind is None else f"{kind} periods"
    backend = {
        "engine": "spark",
        "window_s": info.window_us / 1e6,
        "windows": info.windows,
        "cells": info.cells,
        "hot_cells": info.hot_cells,
        "partitions": info.partitions,
        "largest_partition": info.largest_partition,
    }
    schema = target.with_metadata(
        metadata(
            params,
            what,
            crs=info.crs,
            fixes_read=info.fixes,
            duplicates_dropped=info.duplicates,
            devices=job.devices,
            one_to_many=job.one_to_many,
            backend=backend,
        )
    )
    return _Plan(rows, schema, info, cached)


def _merged(
    spark: SparkSession, source: SparkSource, params: EncounterParams, job: JobOptions
) -> tuple[pa.Table, SparkRun]:
    """The whole table gathered on the driver (for a case-sized run)."""
    plan = _plan(spark, source, params, job)
    try:
        got = plan.rows.toArrow()
    finally:
        plan.release()
    table = pa.Table.from_arrays(
        [got[f.name].cast(f.type) for f in plan.schema], schema=plan.schema.remove_metadata()
    )
    out = table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in PAIR_ORDER]))
    return out.replace_schema_metadata(plan.schema.metadata), plan.info


def find_encounters(
    spark: SparkSession,
    source: SparkSource,
    params: EncounterParams | None = None,
    *,
    devices: Sequence[str] | None = None,
    one_to_many: Sequence[str] | None = None,
    crs: str | None = None,
    window_s: float | None = None,
    cell_m: float = CELL_M,
    max_cell_fixes: int = MAX_CELL_FIXES,
) -> pa.Table:
    """Encounters on Spark: the same table as `engine.find_encounters`, row for row.

    source: Parquet fixes partitioned by day (paths or URIs the session can read), a
    workspace folder, or a Spark DataFrame of canonical fixes. cell_m: spatial cell size;
    max_cell_fixes: rows above which a cell's window is salted (skew).
    Example: ``find_encounters(session("local[2]"), "s3a://force/fixes/", EncounterParams())``
    """
    job = JobOptions(
        devices=devices,
        one_to_many=one_to_many,
        crs=crs,
        window_s=window_s,
        cell_m=cell_m,
        max_cell_fixes=max_cell_fixes,
    )
    return _merged(spark, source, params or EncounterParams(), job)[0]


def within_periods(
    spark: SparkSession,
    source: SparkSource,
    params: EncounterParams | None = None,
    *,
    devices: Sequence[str] | None = None,
    one_to_many: Sequence[str] | None = None,
    crs: str | None = None,
    kind: Literal["within", "certain", "possible"] = "within",
    window_s: float | None = None,
    cell_m: float = CELL_M,
    max_cell_fixes: int = MAX_CELL_FIXES,
) -> pa.Table:
    """The raw within-distance periods on Spark: `engine.within_periods`, row for row."""
    job = JobOptions(
        devices=devices,
        one_to_many=one_to_many,
        crs=crs,
        window_s=window_s,
        cell_m=cell_m,
        max_cell_fixes=max_cell_fixes,
        kind=kind,
    )
    return _merged(spark, source, params or EncounterParams(), job)[0]


__all__ = [
    "CELL_M",
    "MAX_CELL_FIXES",
    "JobOptions",
    "SparkRun",
    "find_encounters",
    "read_fixes",
    "require_spark",
    "session",
    "within_periods",
]
