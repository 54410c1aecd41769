"""Screening with the pairwise work on Spark: the analysis layer's screening, unchanged,
fed with within-distance periods that Spark computes for every pair of the set's devices.

`screen(spark, ws, officers, start, end)` returns what `analysis.investigate.screen` returns
(the ranked pairs and the labelled occasions), row for row: the devices and fixes are chosen
the same way (the officers' devices in [start, end)), Spark reads those fixes from the
workspace's Parquet tables and runs the engine's kernel on window × cell partitions; the
labelling, duty hours and statistics are the analysis layer's own functions.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from whereabouts.analysis.gather import devices_of, load_inputs
from whereabouts.analysis.investigate import check_period, rank_pairs
from whereabouts.analysis.params import AnalysisParams

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from whereabouts.analysis.gather import WorkspaceLike


def device_periods(
    spark: SparkSession,
    ws: WorkspaceLike,
    devices: list[str],
    start: datetime,
    end: datetime,
    *,
    params: AnalysisParams,
    crs: str,
) -> pa.Table:
    """Within periods of every pair of `devices` from the workspace's fixes in [start, end)."""
    from pyspark.sql import functions as F

    from whereabouts.spark.engine import within_periods

    root = Path(ws) if isinstance(ws, str | Path) else Path(ws.path)
    fixes = (
        spark.read.parquet(str(root / "tables" / "fixes"))
        .filter(F.col("device_id").isin(sorted(set(devices))))
        .filter((F.col("time") >= F.lit(start)) & (F.col("time") < F.lit(end)))
    )
    ep = params.encounter
    return within_periods(spark, fixes, ep, crs=crs)


def screen(
    spark: SparkSession,
    ws: WorkspaceLike,
    officers: list[str],
    start: datetime,
    end: datetime,
    *,
    params: AnalysisParams | None = None,
) -> tuple[pa.Table, pa.Table]:
    """(screening table ranked, labelled occasions), as `analysis.investigate.screen`."""
    params = params or AnalysisParams()
    check_period(start, end)
    small = load_inputs(ws, [], start, end, lean=True)
    devices = devices_of(small, officers, start, end)
    inputs = load_inputs(ws, devices, start, end, lean=True, tables_from=small)
    if inputs.fixes.num_rows == 0:
        from whereabouts.analysis.gather import device_periods as embedded_periods

        periods = embedded_periods(inputs.fixes, params, inputs.crs)
    else:
        periods = device_periods(spark, ws, devices, start, end, params=params, crs=inputs.crs)
    return rank_pairs(inputs, periods, officers, start, end, params)


def screen_on_spark(
    master: str,
    ws: WorkspaceLike,
    officers: list[str],
    start: datetime,
    end: datetime,
    *,
    verbose: bool = False,
) -> tuple[pa.Table, pa.Table]:
    """`whereabouts screen --engine spark`: a session on `master`, then `screen`."""
    from whereabouts.spark.cli import cli_session, job_errors

    spark = cli_session(master, verbose=verbose)
    with job_errors():
        return screen(spark, ws, officers, start, end)


__all__ = ["device_periods", "screen", "screen_on_spark"]
