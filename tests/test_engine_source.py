"""Sources: Parquet days streamed through DuckDB give the same answer as one table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from whereabouts.engine import EncounterParams, find_encounters, within_periods
from whereabouts.schema import UTC_TS

MIDNIGHT = 1_707_177_600_000_000  # 2024-02-06 00:00 UTC, µs
PARAMS = EncounterParams(distance_m=60, max_gap_s=90, merge_gap_s=30, min_duration_s=60)


def walkers(n: int, hours: float, seed: int) -> pa.Table:
    """Random walkers from 3 h before midnight, every 20 s, in a 500 m square."""
    rng = np.random.default_rng(seed)
    steps = int(hours * 180)
    t = MIDNIGHT - 3 * 3_600_000_000 + np.arange(steps) * 20_000_000
    pos = rng.uniform(0, 500, (n, 1, 2)) + np.cumsum(rng.normal(0, 30, (n, steps, 2)), axis=1)
    keep = rng.random((n, steps)) > 0.05
    dev = np.repeat(np.arange(n), steps).reshape(n, steps)
    return pa.table(
        {
            "device_id": pa.array([f"W{i}" for i in dev[keep]], pa.string()),
            "time": pa.array(np.broadcast_to(t, (n, steps))[keep], pa.int64()).cast(UTC_TS),
            "x": 300_000.0 + pos[..., 0][keep],
            "y": 170_000.0 + pos[..., 1][keep],
        }
    )


def by_day(table: pa.Table, root: Path) -> Path:
    day = pc.strftime(table["time"], format="%Y-%m-%d")
    for d in pc.unique(day).to_pylist():
        folder = root / f"day={d}"
        folder.mkdir(parents=True)
        pq.write_table(table.filter(pc.equal(day, d)), folder / "fixes.parquet")
    return root


def test_parquet_days_match_one_table(tmp_path: Path) -> None:
    table = walkers(6, 30, seed=4)
    w0 = table.filter(pc.equal(table["device_id"], "W0"))
    shadow = w0.set_column(0, "device_id", pa.array(["Z0"] * w0.num_rows, pa.string()))
    shadow = shadow.set_column(2, "x", pc.add(w0["x"], 10.0))
    table = pa.concat_tables([table, shadow])  # Z0 follows W0 10 m away, across midnight
    root = by_day(table, tmp_path / "fixes")
    want = find_encounters(table, PARAMS)
    got = find_encounters(root, PARAMS)
    assert want.num_rows > 5
    assert got.equals(want)
    # the shadow's encounters span both midnights as one unless a gap > max_gap splits them
    shadow_enc = got.filter(pc.equal(got["device_b"], "Z0"))
    starts = shadow_enc["start"].cast(pa.int64()).to_numpy()
    ends = shadow_enc["end"].cast(pa.int64()).to_numpy()
    assert ((starts < MIDNIGHT) & (ends > MIDNIGHT)).any()


def test_devices_filter_on_parquet(tmp_path: Path) -> None:
    table = walkers(5, 6, seed=5)
    root = by_day(table, tmp_path / "fixes")
    want = within_periods(table, PARAMS, devices=["W1", "W3"])
    got = within_periods([root], PARAMS, devices=["W1", "W3"])
    assert got.equals(want)
    assert set(got["device_a"].to_pylist()) <= {"W1"}


def test_workspace_source(tmp_path: Path, examples: Path) -> None:
    from whereabouts.store import Workspace

    ws = Workspace.init(tmp_path / "ws")
    ws.ingest("fixes", [examples / "fixes.csv"])
    params = EncounterParams(distance_m=100, min_duration_s=0)
    by_object = within_periods(ws, params)
    by_path = within_periods(tmp_path / "ws", params)
    from_csv = within_periods(examples / "fixes.csv", params)
    assert by_object.num_rows == 1
    assert by_object.equals(by_path)
    assert by_object.select(["device_a", "device_b", "start", "end"]).equals(
        from_csv.select(["device_a", "device_b", "start", "end"])
    )
