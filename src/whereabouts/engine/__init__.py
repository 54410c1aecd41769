"""The encounter engine: exact within-distance periods between devices, and encounters.

`find_encounters` and `within_periods` are the embedded backend; `kernel` is the pure
per-partition function that both backends share (see engine.partition); `same_table` checks
two backends' tables are identical bit for bit.
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

__all__ = ["PERIODS", "RAW_PERIODS", "EncounterParams", "find_encounters", "kernel",
           "same_table", "table_differences", "within_periods", "write_parquet"]
