"""The realism summary: how the simulated data compare with what forces hold."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from whereabouts.simulate.sensors import Samples

MAX_GAP_S = 300.0  # the engine's default: beyond this gap a position is unknown


@dataclass
class Tally:
    """Running totals, added to day by day."""

    fixes: dict[str, int] = field(default_factory=dict)
    device_hours: dict[str, float] = field(default_factory=dict)
    incidents: int = 0
    shifts: int = 0
    officer_shifts: int = 0
    together_s: float = 0.0
    together_reason_s: float = 0.0
    duty_s: float = 0.0
    known_s: float = 0.0

    def add_samples(self, source: str, s: Samples, on_seconds: float) -> None:
        """Count fixes and on-time of one source (avl, tetra, vendor)."""
        self.fixes[source] = self.fixes.get(source, 0) + len(s.t)
        self.device_hours[source] = self.device_hours.get(source, 0.0) + on_seconds / 3600

    def add_coverage(self, s: Samples, duty_seconds: float) -> None:
        """Duty time with a known position: gaps of at most MAX_GAP_S between radio reports."""
        self.duty_s += duty_seconds
        if len(s.t) < 2:
            return
        order = np.lexsort((s.t, s.device))
        dev, t = s.device[order], s.t[order]
        gap = np.diff(t)
        same = dev[1:] == dev[:-1]
        self.known_s += float(gap[same & (gap <= MAX_GAP_S)].sum())

    def add_together(self, seconds: np.ndarray, with_reason: np.ndarray) -> None:
        """Pairwise co-location seconds from the truth, and those with a policing reason."""
        self.together_s += float(seconds.sum())
        self.together_reason_s += float(seconds[with_reason].sum())

    def summary(self) -> dict[str, object]:
        """The four figures the simulate command prints, plus their bases."""
        per_hour = {k: round(self.fixes[k] / h, 1) for k, h in self.device_hours.items() if h}
        return {
            "fixes_per_device_hour": per_hour,
            "fixes": dict(self.fixes),
            "incidents_per_shift": round(self.incidents / self.shifts, 2) if self.shifts else 0.0,
            "incidents": self.incidents,
            "team_shifts": self.shifts,
            "colocation_with_reason_share": round(self.together_reason_s / self.together_s, 4)
            if self.together_s
            else 0.0,
            "colocation_pair_hours": round(self.together_s / 3600, 1),
            "duty_known_position_share": round(self.known_s / self.duty_s, 4)
            if self.duty_s
            else 0.0,
            "bases": {
                "fixes_per_device_hour": "reports per hour a device is switched on (AVL: "
                "vehicle in use; TETRA: radio on duty)",
                "colocation_with_reason_share": "pair-seconds together in the truth (crewed, "
                "same incident, premises, shared duty) over all "
                "pair-seconds together, summed over records",
                "duty_known_position_share": f"duty seconds between radio reports at most "
                f"{MAX_GAP_S:.0f} s apart over all duty seconds",
            },
        }


__all__ = ["MAX_GAP_S", "Tally"]
