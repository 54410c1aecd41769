"""The analysis settings: the engine's `EncounterParams` and the analysis's own thresholds,
with their defaults, units and meaning declared once in `whereabouts.settings`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from whereabouts.engine.params import EncounterParams
from whereabouts.errors import ParameterError
from whereabouts.settings import BY_NAME, ENCOUNTER_SETTINGS, default

# Duty types that put officers together on purpose (a briefing, a course, a court day).
JOINT_DUTY_TYPES = ("briefing", "training", "meeting", "court", "operation", "event", "parade")


@dataclass(frozen=True)
class AnalysisParams:
    """Every threshold the analysis uses; all distances in metres, times in seconds.

    `encounter` holds the engine's contract (distance, gaps, minimum duration), applied to
    officers; it is read as `params.distance_m` and so on. Each field's meaning, unit and
    default are in `whereabouts.settings.SETTINGS`.
    Example: ``AnalysisParams.of({"distance_m": 50, "remote_lookback_days": 60})``.
    """

    encounter: EncounterParams = field(default_factory=EncounterParams)
    on_duty_only: bool = bool(BY_NAME["on_duty_only"].default)
    # Where an occasion is.
    sample_s: float = default("sample_s")
    stationary_radius_m: float = default("stationary_radius_m")
    stop_speed_mps: float = default("stop_speed_mps")
    stationary_share: float = default("stationary_share")
    road_distance_m: float = default("road_distance_m")
    # Reasons.
    incident_radius_m: float = default("incident_radius_m")
    incident_open_s: float = default("incident_open_s")
    premises_buffer_m: float = default("premises_buffer_m")
    default_place_radius_m: float = default("default_place_radius_m")
    premises_area_m: float = default("premises_area_m")
    log_day_min_share: float = default("log_day_min_share")
    log_silence_factor: float = default("log_silence_factor")
    log_silence_min_h: float = default("log_silence_min_h")
    # Flags.
    home_buffer_m: float = default("home_buffer_m")
    remote_incident_radius_m: float = default("remote_incident_radius_m")
    remote_lookback_days: float = default("remote_lookback_days")
    remote_max_incidents: float = default("remote_max_incidents")
    remote_place_distance_m: float = default("remote_place_distance_m")
    remote_min_history_days: float = default("remote_min_history_days")
    # Availability.
    availability_radius_m: float = default("availability_radius_m")
    # Unexplained stops of vehicles.
    stop_min_s: float = default("stop_min_s")
    stop_radius_m: float = default("stop_radius_m")

    @classmethod
    def of(cls, values: Mapping[str, Any], *, strict: bool = True) -> AnalysisParams:
        """Settings by their names (as SETTINGS, summary.json and the CLI name them); the
        rest default. strict=False ignores names this version does not know (a run written
        by a later one)."""
        unknown = sorted(set(values) - set(BY_NAME))
        if unknown and strict:
            raise ParameterError(
                f"unknown settings {unknown}", hint=f"use some of {', '.join(BY_NAME)}"
            )
        engine = {k: float(values[k]) for k in ENCOUNTER_SETTINGS if k in values}
        own = {k: values[k] for k in BY_NAME if k in values and k not in ENCOUNTER_SETTINGS}
        return cls(EncounterParams(**engine), **own)

    @property
    def distance_m(self) -> float:
        """The engine's encounter distance, in metres."""
        return self.encounter.distance_m

    @property
    def max_gap_s(self) -> float:
        """The engine's longest gap between fixes to interpolate across, in seconds."""
        return self.encounter.max_gap_s

    @property
    def merge_gap_s(self) -> float:
        """The engine's gap below which periods of a pair merge, in seconds."""
        return self.encounter.merge_gap_s

    @property
    def min_duration_s(self) -> float:
        """The engine's shortest period kept, in seconds."""
        return self.encounter.min_duration_s

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, f.name, value := float(value))
            if isinstance(value, float) and not value >= 0:
                raise ParameterError(
                    f"{f.name}={value} must be zero or more",
                    hint=f"give a non-negative number for {f.name}",
                )
        if self.distance_m <= 0 or self.sample_s <= 0:
            raise ParameterError(
                "distance_m and sample_s must be positive",
                hint="use e.g. distance_m=100, sample_s=30",
            )

    def as_dict(self) -> dict[str, Any]:
        """Every setting by name, flat (the engine's among them), as summary.json records it."""
        own = asdict(self)
        del own["encounter"]
        return {**asdict(self.encounter), **own}

    def road_rule(self) -> str:
        """How an occasion's road is chosen, in words, as every output states it."""
        return (
            f"the nearest road (by name and number) within {self.road_distance_m:.0f} m "
            f"of the occasion's point; none is named when no road is that close, or when "
            f"no roads layer was ingested"
        )

    def remote_rule(self) -> str:
        """The remote rule in words, as every output states it."""
        return (
            f"at most {self.remote_max_incidents:g} incidents raised within "
            f"{self.remote_incident_radius_m:.0f} m in the {self.remote_lookback_days:.0f} "
            f"days before (pro rata when the incident records begin later: then their "
            f"first days are used; not assessed on less than "
            f"{self.remote_min_history_days:g} days of incident records or where they "
            f"hold none near the place), and no police station, custody "
            f"suite, hospital, court or other recorded place (homes excepted) within "
            f"{self.remote_place_distance_m:.0f} m"
        )


__all__ = ["JOINT_DUTY_TYPES", "AnalysisParams"]
