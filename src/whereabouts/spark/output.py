"""Results written by the executors: the engine's tables as a result folder (engine.results).

`write_encounters(spark, source, out)` and `write_periods(...)` run the plan of
`spark.engine` and let each executor write its own pairs' rows as one Parquet part (Spark's
file commit protocol: a retried or lost task leaves no stray part); the driver then lists
the parts, counts the rows from the files' footers and writes `manifest.json` last. The
driver holds counts and metadata only, so its memory does not grow with the input.

`out` is a local folder (or one on a shared file system every executor mounts at the same
path) or a URI the cluster's Hadoop file system reads (hdfs://, s3a://).
`engine.results.read_result(out)` reads it back: the embedded engine's table, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

from whereabouts.engine.params import EncounterParams
from whereabouts.engine.results import (
    GENERATION,
    MANIFEST,
    PAIR_ORDER,
    Manifest,
    Part,
    drop_old_generations,
    manifest_bytes,
    next_generation,
    write_manifest_file,
)
from whereabouts.spark.engine import CELL_M, MAX_CELL_FIXES, JobOptions, SparkRun, _plan

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from whereabouts.spark.engine import SparkSource


def _local(out: str | Path) -> Path | None:
    """The local path of `out`, or None for a URI of another file system."""
    text = str(out)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return Path(parsed.path)
    if parsed.scheme and len(parsed.scheme) > 1:  # not a Windows drive letter
        return None
    return Path(text)


class _HadoopFolder:
    """A folder of the cluster's file system, through the driver's JVM (hdfs://, s3a://)."""

    def __init__(self, spark: SparkSession, uri: str) -> None:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        self._jvm = jvm
        self.path = jvm.org.apache.hadoop.fs.Path(uri)
        self.fs = self.path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())

    def child(self, name: str) -> Any:  # noqa: ANN401  # a JVM object through py4j (untyped)
        return self._jvm.org.apache.hadoop.fs.Path(self.path, name)

    def parts(self, generation: str) -> list[Part]:
        return [
            Part(f"{generation}/{s.getPath().getName()}", int(s.getLen()))
            for s in self.fs.listStatus(self.child(generation))
            if s.isFile() and s.getPath().getName().startswith("part-")
        ]

    def _names(self) -> list[str]:
        if not self.fs.exists(self.path):
            return []
        return [s.getPath().getName() for s in self.fs.listStatus(self.path)]

    def _current(self) -> set[str]:
        """The generation the complete result's manifest uses (none without a manifest)."""
        if not self.fs.exists(self.child(MANIFEST)):
            return set()
        stream = self.fs.open(self.child(MANIFEST))
        try:
            text = bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)).decode()
        finally:
            stream.close()
        manifest = Manifest.from_json(text, where=str(self.path))
        return {MANIFEST} | {p.path.split("/")[0] for p in manifest.parts}

    def next_generation(self) -> str:
        """As engine.results.next_generation, on the cluster's file system."""
        keep = self._current()
        for name in self._names():
            if name not in keep and name.startswith((GENERATION, "_", ".manifest")):
                self.fs.delete(self.child(name), True)
        numbers = [
            int(n[len(GENERATION) :])
            for n in keep
            if n.startswith(GENERATION) and n[len(GENERATION) :].isdigit()
        ]
        return f"{GENERATION}{max(numbers, default=0) + 1}"

    def drop_old_generations(self) -> None:
        keep = self._current()
        for name in self._names():
            if keep and name not in keep and name.startswith(GENERATION):
                self.fs.delete(self.child(name), True)

    def write_manifest(self, manifest: Manifest) -> None:
        tmp = self.child(".manifest.tmp")
        stream = self.fs.create(tmp, True)
        try:
            stream.write(bytearray(manifest_bytes(manifest)))
            stream.hsync()
        finally:
            stream.close()
        self.fs.delete(self.child(MANIFEST), False)
        if not self.fs.rename(tmp, self.child(MANIFEST)):
            raise OSError(f"could not rename the manifest into {self.path}")


def write_frame(
    spark: SparkSession,
    rows: DataFrame,
    out: str | Path,
    schema: pa.Schema,
    *,
    table: str,
    sort_by: Sequence[str],
) -> Manifest:
    """The executors write `rows` (the columns of `schema`) as the result folder `out`: a new
    generation of parts, each sorted by `sort_by`; the driver then counts rows from the
    footers, lists the parts and writes the manifest (with `schema` and its metadata) last."""
    local = _local(out)
    remote = None if local is not None else _HadoopFolder(spark, str(out))
    # the new rows go into a generation of their own beside the old result, which stays
    # complete until the new manifest replaces its manifest (engine.results)
    if local is not None:
        generation = next_generation(local)
    else:
        assert remote is not None
        generation = remote.next_generation()
    uri = (
        str(local.resolve() / generation)
        if local is not None
        else f"{str(out).rstrip('/')}/{generation}"
    )
    (
        rows.select(*schema.names)
        .sortWithinPartitions(*sort_by)
        .write.mode("overwrite")
        .option("compression", "snappy")
        .parquet(uri)
    )
    # the driver reads footers only: the row count, and each part's name and size
    count = spark.read.parquet(uri).count()
    if local is not None:
        parts = [
            Part(f"{generation}/{p.name}", p.stat().st_size)
            for p in sorted((local / generation).iterdir())
            if p.is_file() and p.name.startswith("part-")
        ]
    else:
        assert remote is not None
        parts = sorted(remote.parts(generation), key=lambda p: p.path)
    manifest = Manifest(table, int(count), tuple(parts), tuple(sort_by), schema, "spark")
    if local is not None:
        write_manifest_file(local, manifest)
        drop_old_generations(local)
    else:
        assert remote is not None
        remote.write_manifest(manifest)
        remote.drop_old_generations()
    return manifest


def _write(
    spark: SparkSession,
    out: str | Path,
    source: SparkSource,
    params: EncounterParams,
    job: JobOptions,
) -> tuple[Manifest, SparkRun]:
    plan = _plan(spark, source, params, job)
    table = "encounters" if job.kind is None else f"{job.kind} periods"
    try:
        manifest = write_frame(spark, plan.rows, out, plan.schema, table=table, sort_by=PAIR_ORDER)
    finally:
        plan.release()
    return manifest, plan.info


def write_encounters(
    spark: SparkSession,
    source: SparkSource,
    out: str | Path,
    params: EncounterParams | None = None,
    *,
    devices: Sequence[str] | None = None,
    one_to_many: Sequence[str] | None = None,
    crs: str | None = None,
    window_s: float | None = None,
    cell_m: float = CELL_M,
    max_cell_fixes: int = MAX_CELL_FIXES,
) -> Manifest:
    """Encounters written by the executors into the result folder `out` (manifest last).

    The same rows as `find_encounters` (read them with `engine.results.read_result`).
    Example: ``write_encounters(spark, "s3a://force/fixes/", "s3a://force/encounters/")``
    """
    job = JobOptions(
        devices=devices,
        one_to_many=one_to_many,
        crs=crs,
        window_s=window_s,
        cell_m=cell_m,
        max_cell_fixes=max_cell_fixes,
    )
    return _write(spark, out, source, params or EncounterParams(), job)[0]


def write_periods(
    spark: SparkSession,
    source: SparkSource,
    out: str | Path,
    params: EncounterParams | None = None,
    *,
    devices: Sequence[str] | None = None,
    one_to_many: Sequence[str] | None = None,
    crs: str | None = None,
    kind: Literal["within", "certain", "possible"] = "within",
    window_s: float | None = None,
    cell_m: float = CELL_M,
    max_cell_fixes: int = MAX_CELL_FIXES,
) -> Manifest:
    """Raw periods of one kind written by the executors into `out` (`within_periods`' rows)."""
    job = JobOptions(
        devices=devices,
        one_to_many=one_to_many,
        crs=crs,
        window_s=window_s,
        cell_m=cell_m,
        max_cell_fixes=max_cell_fixes,
        kind=kind,
    )
    return _write(spark, out, source, params or EncounterParams(), job)[0]


__all__ = ["write_encounters", "write_frame", "write_periods"]
