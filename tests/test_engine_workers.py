"""The engine's time windows in two processes give the same periods, bit for bit."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from whereabouts.engine import EncounterParams, find_encounters, within_periods
from whereabouts.engine import encounters as enc


def _walks(seed: int, devices: int, hours: int, step_s: int = 30) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = hours * 3600 // step_s
    base = np.datetime64("2024-03-25T00:00:00", "us").astype(np.int64)
    ids, times, xs, ys = [], [], [], []
    for d in range(devices):
        t = base + np.arange(n, dtype=np.int64) * step_s * 1_000_000
        keep = rng.random(n) > 0.1  # irregular sampling, some gaps
        # all near one point, drifting apart and back: many short periods within 100 m
        x = 400_000 + np.cumsum(rng.normal(0, 15, n)) * 0.2 + rng.normal(0, 40, n)
        y = 200_000 + np.cumsum(rng.normal(0, 15, n)) * 0.2 + rng.normal(0, 40, n)
        ids += [f"D{d}"] * int(keep.sum())
        times.append(t[keep])
        xs.append(x[keep])
        ys.append(y[keep])
    return pa.table(
        {
            "device_id": ids,
            "time": pa.array(np.concatenate(times), pa.timestamp("us", tz="UTC")),
            "x": np.concatenate(xs),
            "y": np.concatenate(ys),
            "accuracy_m": np.full(len(ids), 10.0),
        }
    )


def test_two_processes_give_the_same_periods() -> None:
    fixes = _walks(3, devices=5, hours=30)
    params = EncounterParams(distance_m=100.0)
    one = within_periods(fixes, params, crs="EPSG:27700", window_s=3600)
    two = within_periods(fixes, params, crs="EPSG:27700", window_s=3600, workers=2)
    assert one.num_rows > 100  # many periods across many windows
    assert two.equals(one)
    assert two.schema.metadata == one.schema.metadata


def test_encounters_in_two_processes_are_the_same_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    fixes = _walks(4, devices=6, hours=30)
    params = EncounterParams(distance_m=100.0, min_duration_s=120.0)
    one = find_encounters(fixes, params, crs="EPSG:27700", window_s=3600, workers=1)
    two = find_encounters(fixes, params, crs="EPSG:27700", window_s=3600, workers=2)
    monkeypatch.setattr(enc, "FORK_FIXES", 1)  # the automatic choice forks this small table
    auto = find_encounters(fixes, params, crs="EPSG:27700", window_s=3600)
    assert one.num_rows > 10
    assert two.equals(one) and auto.equals(one)
    assert two.schema.metadata == one.schema.metadata == auto.schema.metadata
