"""A synthetic fleet for the engine benchmarks: vehicles wandering a town, some parked, some
crewed in convoy pairs, sampled every `step_s` seconds in British National Grid metres.

Vectorised over devices × time; each day continues the previous day's motion, so days can
be written one at a time (Parquet partitioned by day) without holding the period in memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ORIGIN = (312_000.0, 170_000.0)  # Cardiff-ish, BNG metres
EPOCH = dt.datetime(2024, 2, 5, tzinfo=dt.UTC)
UTC_TS = pa.timestamp("us", tz="UTC")


@dataclass
class Fleet:
    """The motion state carried from one day to the next."""

    n: int
    side_m: float = 8_000.0
    step_s: int = 30
    seed: int = 1
    rng: np.random.Generator = field(init=False)
    u: np.ndarray = field(init=False)  # unreflected positions (n, 2)
    heading: np.ndarray = field(init=False)
    phase: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.u = self.rng.uniform(0, self.side_m, (self.n, 2))
        self.heading = self.rng.uniform(0, 2 * np.pi, self.n)
        self.phase = self.rng.uniform(0, np.pi, self.n)

    def day(self, day: int, hours: float = 24.0) -> pa.Table:
        """Fixes of day `day` (0-based from EPOCH), `hours` long, sorted by device and time."""
        rng, n = self.rng, self.n
        steps = int(hours * 3600 // self.step_s)
        turn = rng.normal(0, 0.25, (n, steps))
        heading = self.heading[:, None] + np.cumsum(turn, axis=1)
        phase = self.phase[:, None] + np.cumsum(rng.normal(0, 0.08, (n, steps)), axis=1)
        speed = 12.0 * np.abs(np.sin(phase))
        block = 30  # parking decided per 15 minutes at 30 s
        parked = rng.random((n, steps // block + 1)) < 0.3
        speed = np.where(np.repeat(parked, block, axis=1)[:, :steps], 0.0, speed)
        dx = np.cumsum(speed * np.cos(heading) * self.step_s, axis=1)
        dy = np.cumsum(speed * np.sin(heading) * self.step_s, axis=1)
        ux = self.u[:, :1] + dx
        uy = self.u[:, 1:] + dy
        self.u = np.stack([ux[:, -1], uy[:, -1]], axis=1)
        self.heading, self.phase = heading[:, -1], phase[:, -1]
        x, y = _reflect(ux, self.side_m), _reflect(uy, self.side_m)
        # convoy pairs: every tenth device follows the one before it, 15 m behind
        follow = np.arange(1, n, 10)
        x[follow] = x[follow - 1] + 15.0 + rng.normal(0, 2, (len(follow), steps))
        y[follow] = y[follow - 1] + rng.normal(0, 2, (len(follow), steps))
        t0 = int((EPOCH + dt.timedelta(days=day)).timestamp() * 1e6)
        t = t0 + np.arange(steps, dtype=np.int64) * self.step_s * 1_000_000
        # a few fixes lost (radio shadow): about 1 in 200
        keep = rng.random((n, steps)) > 0.005
        dev = np.repeat(np.arange(n), steps).reshape(n, steps)
        ids = np.array([f"D{i:04d}" for i in range(n)], dtype=object)
        k = keep.ravel()
        return pa.table(
            {
                "device_id": pa.array(ids[dev.ravel()[k]].tolist(), pa.string()),
                "time": pa.array(np.broadcast_to(t, (n, steps)).ravel()[k], pa.int64()).cast(
                    UTC_TS
                ),
                "x": ORIGIN[0] + x.ravel()[k],
                "y": ORIGIN[1] + y.ravel()[k],
                "accuracy_m": rng.uniform(3.0, 15.0, int(k.sum())),
            }
        )


def _reflect(u: np.ndarray, side: float) -> np.ndarray:
    out: np.ndarray = side - np.abs(np.mod(u, 2 * side) - side)
    return out


def fleet_table(
    n: int, hours: float, *, step_s: int = 30, seed: int = 1, side_m: float = 8_000.0
) -> pa.Table:
    """One period of `hours` (≤ 24) for `n` devices, in memory."""
    return Fleet(n, side_m=side_m, step_s=step_s, seed=seed).day(0, hours)


def write_days(
    out: Path, n: int, days: int, *, step_s: int = 30, seed: int = 1, side_m: float = 8_000.0
) -> Path:
    """Write `days` days as OUT/day=YYYY-MM-DD/fixes.parquet (sorted by device, then time)."""
    fleet = Fleet(n, side_m=side_m, step_s=step_s, seed=seed)
    for d in range(days):
        name = (EPOCH + dt.timedelta(days=d)).strftime("%Y-%m-%d")
        folder = out / f"day={name}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(fleet.day(d), folder / "fixes.parquet", row_group_size=64_000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--devices", type=int, default=500)
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    write_days(a.out, a.devices, a.days, seed=a.seed)


if __name__ == "__main__":
    main()
