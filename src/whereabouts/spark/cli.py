"""What the `--engine spark` options of the CLI call: a session, then the Spark backend.

A person running it sees the Spark UI's address, the stages as they go and a summary at the
end (`watch`); Spark's own log stays off the terminal unless `verbose`. A job that fails on
the cluster ends in a message naming the cause and the fix, not a Java stack trace.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from whereabouts import progress
from whereabouts.engine.params import EncounterParams
from whereabouts.errors import WhereaboutsError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkJobError(WhereaboutsError):
    """A Spark job failed on the cluster (the cause's first line, never the data)."""


def cli_session(master: str, *, verbose: bool = False) -> SparkSession:
    """The session a command uses: the UI on (its address is printed), Spark's log quiet
    unless `verbose`, WHEREABOUTS_SPARK_PARTITIONS shuffle partitions (default 8)."""
    from whereabouts.spark.engine import session

    spark = session(
        master,
        shuffle_partitions=int(os.environ.get("WHEREABOUTS_SPARK_PARTITIONS", "8")),
        ui=True,
        quiet=not verbose,
    )
    if not verbose:
        spark.sparkContext.setLogLevel("ERROR")
    url = spark.sparkContext.uiWebUrl
    print(
        f"Spark {spark.version} on {master}" + (f"; its UI: {url}" if url else ""),
        file=sys.stderr,
        flush=True,
    )
    return spark


@contextmanager
def job_errors() -> Iterator[None]:
    """Turn a failed Spark job into a SparkJobError (what failed, and what to check)."""
    try:
        yield
    except WhereaboutsError:
        raise
    except Exception as exc:
        names = {c.__name__ for c in type(exc).__mro__}
        if not names & {"Py4JJavaError", "Py4JError", "PySparkException", "CapturedException"}:
            raise
        text = str(exc).strip().splitlines()
        cause = next(
            (line.strip() for line in text if "Error" in line or "Exception" in line),
            text[0] if text else type(exc).__name__,
        )
        hint = (
            "check that every worker has whereabouts installed (pip install "
            "'whereabouts[spark]') with the same Python, and that every worker can read "
            "the input and write the output path; the Spark UI's failed stage shows the "
            "executor's log"
        )
        if "ModuleNotFoundError" in str(exc):
            hint = (
                "install whereabouts on every worker (pip install 'whereabouts[spark]') "
                "for the Python that PYSPARK_PYTHON names"
            )
        raise SparkJobError(f"the Spark job failed: {cause[:300]}", hint=hint) from exc


def encounters_on_spark(
    master: str,
    inputs: Sequence[Path | str],
    params: EncounterParams,
    *,
    devices: Sequence[str] | None = None,
    one_to_many: Sequence[str] | None = None,
    crs: str | None = None,
    raw: bool = False,
    out: Path | None = None,
    verbose: bool = False,
) -> pa.Table | None:
    """`whereabouts encounters --engine spark`: with `out` a result folder the executors
    write (None returned), else the table gathered on the driver (for a .parquet file)."""
    from whereabouts.spark.engine import find_encounters, within_periods
    from whereabouts.spark.output import write_encounters, write_periods
    from whereabouts.spark.watch import Watch

    spark = cli_session(master, verbose=verbose)
    source = [str(p) for p in inputs]
    live = progress.enabled()
    quiet = bool(os.environ.get("WHEREABOUTS_QUIET")) and not live
    with (
        job_errors(),
        Watch(spark, stream=io.StringIO() if quiet else sys.stderr, live=live) as watch,
    ):
        if out is not None:
            if raw:
                manifest = write_periods(
                    spark, source, out, params, devices=devices, one_to_many=one_to_many, crs=crs
                )
            else:
                manifest = write_encounters(
                    spark, source, out, params, devices=devices, one_to_many=one_to_many, crs=crs
                )
            rows, parts, table = manifest.rows, len(manifest.parts), None
        else:
            table = (
                within_periods(
                    spark, source, params, devices=devices, one_to_many=one_to_many, crs=crs
                )
                if raw
                else find_encounters(
                    spark, source, params, devices=devices, one_to_many=one_to_many, crs=crs
                )
            )
            rows, parts = table.num_rows, None
    print(watch.summary(rows=rows, parts=parts).line(), file=sys.stderr, flush=True)
    if out is not None:
        what = "within-distance periods" if raw else "encounters"
        print(f"{rows} {what} written to {out} (manifest.json last)", file=sys.stderr)
    return table


__all__ = ["SparkJobError", "cli_session", "encounters_on_spark", "job_errors"]
