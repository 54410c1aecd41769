"""Ingest's sort of fixes by (device_id, time): the same permutation as Arrow's stable
sort_indices, ties (same device and time) kept in the file's order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.schema import UTC_TS
from whereabouts.store.workspace import _device_time_order


def test_device_time_order_is_arrows_stable_sort() -> None:
    rng = np.random.default_rng(20)
    for n, devices in ((1, 1), (50, 3), (5_000, 40), (20_000, 700)):
        names = np.array([f"D{i}" for i in rng.permutation(devices)] + ["", "é", "D10"])
        rows = pa.table(
            {
                "device_id": pa.array(names[rng.integers(0, len(names), n)], pa.string()),
                # few distinct times, so many rows tie on (device, time)
                "time": pa.array(rng.integers(0, 30, n) * 1_000_000, pa.int64()).cast(UTC_TS),
                "line": np.arange(n),
            }
        )
        rows = pa.Table.from_batches(rows.to_batches(max_chunksize=max(n // 3, 1)))
        expected = pc.sort_indices(
            rows, sort_keys=[("device_id", "ascending"), ("time", "ascending")]
        ).to_numpy()
        assert np.array_equal(_device_time_order(rows), expected)
