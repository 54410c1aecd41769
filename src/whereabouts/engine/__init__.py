"""The encounter engine: exact within-distance periods between devices, and encounters.

`find_encounters` and `within_periods` are the embedded backend; `kernel` is the pure
per-partition function that both backends share (see engine.partition); `same_table` checks
two backends' tables are identical bit for bit; `write_result` / `read_result` write and read
a result folder (Parquet parts, manifest.json last), the layout both backends write.
"""

from whereabouts.engine.compare import same_table, table_differences
from whereabouts.engine.encounters import (
    RAW_PERIODS,
    find_encounters,
    within_periods,
    write_parquet,
)
from whereabouts.engine.params import EncounterParams
from whereabouts.engine.partition import PERIODS, kernel
from whereabouts.engine.results import read_result, write_result

__all__ = [
    "PERIODS",
    "RAW_PERIODS",
    "EncounterParams",
    "find_encounters",
    "kernel",
    "read_result",
    "same_table",
    "table_differences",
    "within_periods",
    "write_parquet",
    "write_result",
]
