"""What the `--engine spark` options of the CLI call: a session, then the Spark backend."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from whereabouts.engine.params import EncounterParams


def encounters_on_spark(master: str, inputs: Sequence[Path | str], params: EncounterParams,
                        *, devices: Sequence[str] | None = None,
                        one_to_many: Sequence[str] | None = None, crs: str | None = None,
                        raw: bool = False) -> pa.Table:
    """`whereabouts encounters --engine spark`: encounters (or raw periods) from Parquet
    fixes partitioned by day, or a workspace, on the Spark master given."""
    from whereabouts.spark.engine import find_encounters, session, within_periods

    spark = session(master, shuffle_partitions=int(os.environ.get(
        "WHEREABOUTS_SPARK_PARTITIONS", "8")))
    spark.sparkContext.setLogLevel("ERROR")
    source = [str(p) for p in inputs]
    if raw:
        return within_periods(spark, source, params, devices=devices,
                              one_to_many=one_to_many, crs=crs)
    return find_encounters(spark, source, params, devices=devices, one_to_many=one_to_many,
                           crs=crs)


__all__ = ["encounters_on_spark"]
