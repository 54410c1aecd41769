"""The simulator's settings, declared once as data: size, period, sensors, planted misconduct."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from whereabouts.errors import ParameterError


@dataclass(frozen=True)
class Planting:
    """How much misconduct to plant; durations in minutes, counts per pair over the period."""

    remote_meetings: int = 6  # (a) two officers in separate cars at remote spots
    home_meetings: int = 3  # (b) at one officer's home while both are on duty
    secluded_stops: int = 5  # (c) a crewed pair parked at secluded spots, no tasking
    decoy_pairs: int = 1  # (d) pairs often together, always with a policing reason
    min_minutes: float = 25.0
    max_minutes: float = 75.0

    def __post_init__(self) -> None:
        counts = (self.remote_meetings, self.home_meetings, self.secluded_stops, self.decoy_pairs)
        if min(counts) < 0:
            raise ParameterError(
                "planted counts cannot be negative",
                hint="give 0 or more meetings, stops and decoy pairs",
            )
        if not 5 <= self.min_minutes <= self.max_minutes <= 240:
            raise ParameterError(
                f"planted occasions of {self.min_minutes:g}–"
                f"{self.max_minutes:g} minutes are not possible",
                hint="give --minutes LOW HIGH with 5 <= LOW <= HIGH <= 240",
            )


@dataclass(frozen=True)
class SimConfig:
    """Everything a simulation depends on; the same config and seed give the same files.

    Example: ``SimConfig(officers=40, days=14, start=date(2024, 3, 25))``.
    """

    seed: int = 1
    officers: int = 40
    days: int = 14
    start: date = date(2024, 3, 25)  # spans the spring clock change (31 March 2024)
    timezone: str = "Europe/London"
    # Geography (British National Grid metres): south Wales-like town and country.
    origin_e: float = 300_000.0
    origin_n: float = 170_000.0
    size_m: float = 30_000.0
    # Policing.
    incidents_per_officer_day: float = 0.9
    double_crewed_share: float = 0.3
    # Sensors.
    avl_interval_s: tuple[float, float] = (10.0, 30.0)
    lip_interval_s: float = 60.0
    avl_sigma_m: float = 4.0
    lip_sigma_m: float = 8.0
    multipath_rate: float = 0.002
    duplicate_rate: float = 0.003
    out_of_order_rate: float = 0.003
    dropouts_per_shift: float = 1.0
    vendor_share: float = 0.1  # share of vehicles whose AVL comes from a second supplier
    planting: Planting = field(default_factory=Planting)

    def __post_init__(self) -> None:
        if self.officers < 30:
            raise ParameterError(
                f"--officers {self.officers} is too few for a force",
                hint="give at least 30 officers (five teams of six)",
            )
        if self.days < 1:
            raise ParameterError(
                f"--days {self.days} must be at least 1",
                hint="give a whole number of days, e.g. --days 14",
            )
        lo, hi = self.avl_interval_s
        if not 1 <= lo <= hi:
            raise ParameterError(
                "AVL interval must satisfy 1 <= low <= high seconds", hint="use e.g. (10, 30)"
            )


__all__ = ["Planting", "SimConfig"]
