"""The encounter parameters: distance, gaps and minimum duration, validated once."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from whereabouts.errors import ParameterError
from whereabouts.settings import default


@dataclass(frozen=True)
class EncounterParams:
    """What counts as an encounter (DESIGN.md "Semantics"; defaults in whereabouts.settings).

    distance_m: two devices are within distance when at most this far apart (metres).
    max_gap_s: consecutive fixes further apart than this leave the position unknown between.
    merge_gap_s: within-distance periods at most this far apart join into one encounter.
    min_duration_s: encounters shorter than this are dropped.
    Example: ``EncounterParams(distance_m=50, max_gap_s=120, merge_gap_s=60, min_duration_s=120)``
    """

    distance_m: float = default("distance_m")
    max_gap_s: float = default("max_gap_s")
    merge_gap_s: float = default("merge_gap_s")
    min_duration_s: float = default("min_duration_s")

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParameterError(
                    f"{name} must be a number, not {type(value).__name__}",
                    hint=f"give {name} in {_unit(name)}, e.g. 100",
                )
            if not math.isfinite(value) or value < 0:
                raise ParameterError(
                    f"{name} must be a finite number >= 0, got {value}",
                    hint=f"give {name} in {_unit(name)}, e.g. 100",
                )
        if self.distance_m <= 0:
            raise ParameterError(
                f"distance_m must be > 0, got {self.distance_m}",
                hint="give the distance in metres, e.g. --distance 50",
            )
        if self.max_gap_s <= 0:
            raise ParameterError(
                f"max_gap_s must be > 0, got {self.max_gap_s}",
                hint="give the largest gap to interpolate across, e.g. 300",
            )
        if self.distance_m > 100_000:
            raise ParameterError(
                f"distance_m of {self.distance_m} m is not a meeting distance",
                hint="use a distance under 100 km (typically 10–200 m)",
            )

    def as_metadata(self) -> dict[str, str]:
        """The parameters as text, for Arrow/Parquet metadata."""
        return {k: repr(float(v)) for k, v in asdict(self).items()}


def _unit(name: str) -> str:
    return "metres" if name.endswith("_m") else "seconds"


__all__ = ["EncounterParams"]
