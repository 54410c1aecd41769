"""The analysis settings, declared once as data: name, default, unit and meaning."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from whereabouts.errors import ParameterError

# Duty types that put officers together on purpose (a briefing, a course, a court day).
JOINT_DUTY_TYPES = ("briefing", "training", "meeting", "court", "operation", "event", "parade")


@dataclass(frozen=True)
class AnalysisParams:
    """Every threshold the analysis uses; all distances in metres, times in seconds.

    Example: ``AnalysisParams(distance_m=50, remote_lookback_days=60)``.
    """

    # Co-presence (the engine's contract, applied to officers).
    distance_m: float = 100.0
    max_gap_s: float = 300.0
    merge_gap_s: float = 120.0
    min_duration_s: float = 300.0
    on_duty_only: bool = True
    # Where an occasion is: positions sampled along it at this step.
    sample_s: float = 30.0
    stationary_radius_m: float = 75.0  # spread reported beside the flag
    stop_speed_mps: float = 1.0  # the pair's midpoint slower than this: stopped together
    stationary_share: float = 0.8  # stopped for this share of the occasion: "stationary"
    road_distance_m: float = 50.0  # the nearest road named only when this close
    # Reasons.
    incident_radius_m: float = 400.0  # "near the incident's location"
    incident_open_s: float = 7200.0  # attachment window when neither cleared nor closed
    premises_buffer_m: float = 50.0  # added to a place's radius_m
    default_place_radius_m: float = 100.0
    # Premises are assessed only within this distance of the police places recorded
    # (their bounding box widened by it): the area the places list is taken to cover.
    premises_area_m: float = 5000.0
    # Flags.
    home_buffer_m: float = 50.0
    remote_incident_radius_m: float = 500.0
    remote_lookback_days: float = 90.0
    remote_max_incidents: float = 20.0  # per lookback period within the radius: "little"
    remote_place_distance_m: float = 1500.0
    # Remote is not assessed on less incident history than this in its look-back window.
    remote_min_history_days: float = 7.0
    # Availability.
    availability_radius_m: float = 3000.0
    # Unexplained stops of vehicles.
    stop_min_s: float = 600.0
    stop_radius_m: float = 30.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not value >= 0:
                raise ParameterError(f"{f.name}={value} must be zero or more",
                                     hint=f"give a non-negative number for {f.name}")
        if self.distance_m <= 0 or self.sample_s <= 0:
            raise ParameterError("distance_m and sample_s must be positive",
                                 hint="use e.g. distance_m=100, sample_s=30")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def road_rule(self) -> str:
        """How an occasion's road is chosen, in words, as every output states it."""
        return (f"the nearest road (by name and number) within {self.road_distance_m:.0f} m "
                f"of the occasion's point; none is named when no road is that close, or when "
                f"no roads layer was ingested")

    def remote_rule(self) -> str:
        """The remote rule in words, as every output states it."""
        return (f"at most {self.remote_max_incidents:g} incidents raised within "
                f"{self.remote_incident_radius_m:.0f} m in the {self.remote_lookback_days:.0f} "
                f"days before (pro rata when the incident records begin later: then their "
                f"first days are used; not assessed on less than "
                f"{self.remote_min_history_days:g} days of incident records or where they "
                f"hold none near the place), and no police station, custody "
                f"suite, hospital, court or other recorded place (homes excepted) within "
                f"{self.remote_place_distance_m:.0f} m")


__all__ = ["JOINT_DUTY_TYPES", "AnalysisParams"]
