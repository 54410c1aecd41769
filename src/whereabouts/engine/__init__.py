"""The encounter engine: exact within-distance periods between devices, and encounters.

`find_encounters` and `within_periods` are the embedded backend; `kernel` is the pure
per-partition function that both backends share (see engine.partition).
"""

from whereabouts.engine.encounters import (
    RAW_PERIODS,
    find_encounters,
    within_periods,
    write_parquet,
)
from whereabouts.engine.params import EncounterParams
from whereabouts.engine.partition import PERIODS, kernel

__all__ = ["PERIODS", "RAW_PERIODS", "EncounterParams", "find_encounters", "kernel",
           "within_periods", "write_parquet"]
