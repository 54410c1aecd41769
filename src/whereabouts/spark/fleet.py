"""Synthetic fleets for the Spark backend's tests and benches (vectorised, seeded).

`fleet(...)` makes canonical fixes (device_id, time, x, y in EPSG:27700, accuracy_m): devices
on random walks over a square, a fix every `step_s`; `parked` of them sit at one station for
the whole period (the skew a busy station causes). `write_days` writes them as Parquet
partitioned by UTC day (``day=YYYY-MM-DD/``), the input the Spark backend reads.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from whereabouts.schema import UTC_TS

T0 = 1_707_170_400_000_000  # 2024-02-05 22:00 UTC: two hours to the day's edge
STATION = (338_000.0, 391_000.0)  # somewhere in Liverpool, EPSG:27700


def fleet(
    devices: int,
    fixes_per_device: int,
    *,
    step_s: float = 30.0,
    area_m: float = 20_000,
    speed_m_s: float = 4.0,
    parked: int = 0,
    seed: int = 0,
    start_us: int = T0,
) -> pa.Table:
    """Canonical fixes of a generated fleet, sorted by device then time.

    Example: ``fleet(200, 2880, step_s=30, parked=150)`` — a day of 200 devices, 150 of them
    at the station.
    """
    rng = np.random.default_rng(seed)
    n, m = devices, fixes_per_device
    step = round(step_s * 1e6)
    jitter = rng.integers(-step // 4, step // 4 + 1, (n, m)) if step >= 4 else 0
    t = start_us + np.arange(m, dtype=np.int64) * step + jitter
    walk = rng.normal(0, speed_m_s * step_s / np.sqrt(2), (n, m, 2)).cumsum(axis=1)
    home = rng.uniform(0, area_m, (n, 1, 2))
    x = STATION[0] - area_m / 2 + home[..., 0] + walk[..., 0]
    y = STATION[1] - area_m / 2 + home[..., 1] + walk[..., 1]
    if parked:  # at the station, within a few metres of each other
        x[:parked] = STATION[0] + rng.normal(0, 15.0, (parked, m))
        y[:parked] = STATION[1] + rng.normal(0, 15.0, (parked, m))
    names = np.array([f"R{i:05d}" for i in range(n)], dtype=object)
    return pa.table(
        {
            "device_id": pa.array(np.repeat(names, m), pa.string()),
            "time": pa.array(np.asarray(t, np.int64).ravel(), pa.int64()).cast(UTC_TS),
            "x": np.asarray(x, np.float64).ravel(),
            "y": np.asarray(y, np.float64).ravel(),
            "accuracy_m": rng.uniform(0, 12, n * m).round(1),
        }
    )


def write_days(table: pa.Table, folder: str | Path) -> Path:
    """Write fixes as Parquet partitioned by UTC day (replacing the folder)."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    day = pc.strftime(table["time"], format="%Y-%m-%d")
    pq.write_to_dataset(table.append_column("day", day), folder, partition_cols=["day"])
    return folder


__all__ = ["STATION", "T0", "fleet", "write_days"]
