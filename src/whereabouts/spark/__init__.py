"""The Spark backend: the embedded engine's kernel on window × cell partitions of a cluster.

`find_encounters(spark, source, params)` and `within_periods(...)` give the embedded
engine's tables row for row, gathered on the driver; `write_encounters(spark, source, out)`
and `write_periods(...)` have the executors write them as a result folder (manifest last,
read back by `engine.read_result`); `session(master)` makes a suitable SparkSession.
"""

from whereabouts.spark.engine import (
    CELL_M,
    MAX_CELL_FIXES,
    SparkRun,
    find_encounters,
    read_fixes,
    session,
    within_periods,
)
from whereabouts.spark.output import write_encounters, write_periods

__all__ = [
    "CELL_M",
    "MAX_CELL_FIXES",
    "SparkRun",
    "find_encounters",
    "read_fixes",
    "session",
    "within_periods",
    "write_encounters",
    "write_periods",
]
