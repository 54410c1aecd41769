"""The kernel's partition contract, which the Spark backend relies on: windows and spatial
cells each computed alone, then unioned, give exactly the whole partition's periods."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.engine import PERIODS, EncounterParams, kernel, table_differences
from whereabouts.engine.partition import kernel_arrays
from whereabouts.engine.periods import Periods, union
from whereabouts.schema import UTC_TS
from whereabouts.tracks.track import fixes_from_table

T0 = 1_707_120_000_000_000
PARAMS = EncounterParams(distance_m=70, max_gap_s=60, merge_gap_s=0, min_duration_s=0)


def fleet(seed: int = 11) -> pa.Table:
    rng = np.random.default_rng(seed)
    n, steps = 10, 120
    t = T0 + np.arange(steps) * 15_000_000
    pos = rng.uniform(0, 800, (n, 1, 2)) + np.cumsum(rng.normal(0, 25, (n, steps, 2)), axis=1)
    acc = rng.uniform(0, 10, (n, steps))
    dev = np.repeat(np.arange(n), steps).reshape(n, steps)
    return pa.table(
        {
            "device_id": pa.array([f"K{i}" for i in dev.ravel()], pa.string()),
            "time": pa.array(np.broadcast_to(t, (n, steps)).ravel(), pa.int64()).cast(UTC_TS),
            "x": 400_000.0 + pos[..., 0].ravel(),
            "y": 200_000.0 + pos[..., 1].ravel(),
            "accuracy_m": acc.ravel(),
        }
    )


def union_rows(tables: list[pa.Table]) -> list[tuple[object, ...]]:
    """Join touching periods of the same pair and kind, like the engine's stitching."""
    rows = sorted(
        (r["kind"], r["device_a"], r["device_b"], r["start"], r["end"])
        for t in tables
        for r in t.to_pylist()
    )
    out: list[list[object]] = []
    for r in rows:
        if out and out[-1][:3] == list(r[:3]) and r[3] <= out[-1][4]:
            out[-1][4] = max(out[-1][4], r[4])
        else:
            out.append(list(r))
    return [tuple(r) for r in out]


def test_kernel_schema_and_kinds() -> None:
    out = kernel(fleet(), PARAMS, crs="EPSG:27700")
    assert out.schema.equals(PERIODS)
    assert set(out["kind"].to_pylist()) == {"within", "certain", "possible"}


def test_windows_union_to_the_whole() -> None:
    table = fleet()
    whole = kernel(table, PARAMS, crs="EPSG:27700")
    cuts = [T0, T0 + 397_000_000, T0 + 1_111_000_000, T0 + 1_800_000_000]
    parts = []
    for lo, hi in itertools.pairwise(cuts):
        us = table["time"].cast(pa.int64())
        gap = 60_000_000
        near = pc.and_(pc.greater_equal(us, lo - gap), pc.less_equal(us, hi + gap))
        parts.append(kernel(table.filter(near), PARAMS, window=(lo, hi), crs="EPSG:27700"))
    assert union_rows(parts) == union_rows([whole])


def test_spatial_cells_report_each_pair_once() -> None:
    table = fleet()
    whole = kernel(table, PARAMS, crs="EPSG:27700")
    mid_x = float(pc.mean(table["x"]).as_py())
    mid_y = float(pc.mean(table["y"]).as_py())
    inf = float("inf")
    cells = [
        (-inf, -inf, mid_x, mid_y),
        (mid_x, -inf, inf, mid_y),
        (-inf, mid_y, mid_x, inf),
        (mid_x, mid_y, inf, inf),
    ]
    parts = [kernel(table, PARAMS, crs="EPSG:27700", bounds=c) for c in cells]
    assert union_rows(parts) == union_rows([whole])

    def seconds(t: pa.Table) -> float:
        return (
            float(
                pc.sum(pc.subtract(t["end"].cast(pa.int64()), t["start"].cast(pa.int64()))).as_py()
                or 0
            )
            / 1e6
        )

    # no segment pair is counted by two cells: the cells' periods do not overlap
    assert abs(sum(seconds(p) for p in parts) - seconds(whole)) < 1e-3


def test_certain_and_possible_against_dense_sampling() -> None:
    """An independent check of the uncertainty intervals: sample every 0.7 s, interpolate
    positions and errors with np.interp, classify each instant, and compare."""
    table = fleet(seed=5)
    out = kernel(table, PARAMS, crs="EPSG:27700")
    dev = np.asarray(table["device_id"].to_pylist())
    us = table["time"].cast(pa.int64()).to_numpy()
    x, y, acc = (table[c].to_numpy() for c in ("x", "y", "accuracy_m"))
    probe = np.arange(us.min(), us.max(), 700_000)
    track = {}
    for d in np.unique(dev):
        i = dev == d
        track[d] = [np.interp(probe, us[i], v[i]) for v in (x, y, acc)]
    names = sorted(track)
    d = PARAMS.distance_m
    checked = 0
    for kind, sign in (("certain", -1.0), ("possible", 1.0), ("within", 0.0)):
        periods = out.filter(pc.equal(out["kind"], kind))
        for ai, a in enumerate(names):
            for b in names[ai + 1 :]:
                xa, ya, ea = track[a]
                xb, yb, eb = track[b]
                margin = np.hypot(xa - xb, ya - yb) - (d + sign * (ea + eb))
                rows = periods.filter(
                    pc.and_(pc.equal(periods["device_a"], a), pc.equal(periods["device_b"], b))
                )
                s = rows["start"].cast(pa.int64()).to_numpy()
                e = rows["end"].cast(pa.int64()).to_numpy()
                inside = (
                    (probe[:, None] >= s[None, :] - 1) & (probe[:, None] <= e[None, :] + 1)
                ).any(axis=1)
                clear = np.abs(margin) > 1e-3  # away from the boundary
                assert np.array_equal(inside[clear], margin[clear] < 0), (kind, a, b)
                checked += int((inside & clear).sum())
    assert checked > 1000


def test_a_subset_computes_its_pairs_like_the_whole() -> None:
    """A spatial partition sees fewer fixes; each pair is solved in coordinates of its two
    segments alone, so its pairs' periods are the same bits as the whole's, min_distance_m
    included. Devices' fixes at their own instants, and one device 330 km away, so that any
    arithmetic relative to the lowest x/y of the partition would round differently."""
    table = fleet(seed=7)
    rng = np.random.default_rng(7)
    t = table["time"].cast(pa.int64()).to_numpy() + rng.integers(0, 7_000_000, table.num_rows)
    table = table.set_column(1, "time", pa.array(t).cast(UTC_TS))
    far = table.filter(pc.equal(table["device_id"], "K0"))
    far = far.set_column(0, "device_id", pa.array(["Z"] * far.num_rows))
    far = far.set_column(2, "x", pc.subtract(far["x"], 330_000.0))
    table = pa.concat_tables([table, far])
    window = (T0, T0 + 1_800_000_000)
    whole = kernel(table, PARAMS, crs="EPSG:27700", window=window)
    some = pa.array(["K2", "K3", "K5", "K7", "K8"])
    subset = table.filter(pc.is_in(table["device_id"], value_set=some))
    want = whole.filter(
        pc.and_(
            pc.is_in(whole["device_a"], value_set=some), pc.is_in(whole["device_b"], value_set=some)
        )
    )
    assert want.num_rows > 10
    got = kernel(subset, PARAMS, crs="EPSG:27700", window=window)
    assert table_differences(want, got) == []


def test_a_pair_is_the_same_bits_in_any_window() -> None:
    """Windows cut at random µs, each its own partition of its own fixes: the stitched
    windows give every period of the whole partition bit for bit, min_distance_m included
    (each pair is solved in its own coordinates; the window only clips, in integer µs)."""
    table = fleet(seed=3)
    rng = np.random.default_rng(3)
    t = table["time"].cast(pa.int64()).to_numpy() + rng.integers(0, 7_000_000, table.num_rows)
    fixes, _ = fixes_from_table(table.set_column(1, "time", pa.array(t).cast(UTC_TS)), "EPSG:27700")
    whole = kernel_arrays(fixes, PARAMS)
    assert len(whole) > 50
    us = fixes.t
    inner = np.sort(rng.integers(int(us.min()), int(us.max()), 12))
    cuts = [int(us.min()), *inner.tolist(), int(us.max())]
    gap = round(PARAMS.max_gap_s * 1e6)
    parts = []
    for lo, hi in itertools.pairwise(cuts):
        near = np.flatnonzero((us >= lo - gap) & (us <= hi + gap))
        parts.append(kernel_arrays(fixes.take(near), PARAMS, window=(lo, hi)))
    got = union(Periods.concat(parts), 1)
    for f in ("kind", "a", "b", "start", "end"):
        assert np.array_equal(getattr(got, f), getattr(whole, f)), f
    assert np.array_equal(got.min_distance, whole.min_distance, equal_nan=True)
