"""The engine against an independent oracle: pymeos (MobilityDB's `tDwithin`) on generated
fleets and on a real bus sample, agreeing to within 1 ms on every period boundary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyarrow import csv

from whereabouts.engine import EncounterParams, within_periods
from whereabouts.schema import UTC_TS
from whereabouts.tracks.projection import to_projected

pymeos = pytest.importorskip("pymeos")
pymeos.pymeos_initialize()

T0 = 1_707_120_000_000_000  # 2024-02-05 08:00 UTC, in µs


def small_fleet(
    n: int, minutes: int, *, seed: int, side: float = 600.0, step: int = 20
) -> pa.Table:
    """Random walkers in a small square, with jittered times, lost fixes and long gaps."""
    rng = np.random.default_rng(seed)
    steps = minutes * 60 // step
    t = (
        T0
        + (np.arange(steps) * step * 1_000_000)[None, :]
        + rng.integers(-4_000_000, 4_000_000, (n, steps))
    )
    t = np.sort(t, axis=1)
    v = rng.normal(0, 4.0, (n, steps, 2)) * step
    v[rng.random((n, steps)) < 0.3] = 0.0  # stationary spells
    pos = rng.uniform(0, side, (n, 1, 2)) + np.cumsum(v, axis=1)
    keep = rng.random((n, steps)) > 0.1  # lost fixes make gaps, some longer than max_gap
    dev = np.repeat(np.arange(n), steps).reshape(n, steps)
    ids = np.array([f"V{i:02d}" for i in range(n)], dtype=object)
    return pa.table(
        {
            "device_id": pa.array(ids[dev[keep]].tolist(), pa.string()),
            "time": pa.array(t[keep], pa.int64()).cast(UTC_TS),
            "x": 300_000.0 + pos[..., 0][keep],
            "y": 170_000.0 + pos[..., 1][keep],
        }
    )


def _ts(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def oracle(table: pa.Table, params: EncounterParams) -> dict[tuple[str, str], np.ndarray]:
    """pymeos: per device a sequence set split at gaps > max_gap; periods of tdwithin = true."""
    dev = np.asarray(table["device_id"].to_pylist(), dtype=object)
    t = table["time"].cast(pa.int64()).to_numpy()
    x, y = table["x"].to_numpy(), table["y"].to_numpy()
    tracks = {}
    for d in sorted(set(dev)):
        i = np.flatnonzero(dev == d)
        i = i[np.argsort(t[i], kind="stable")]
        _, first = np.unique(t[i], return_index=True)  # tests give no conflicting duplicates
        i = i[first]
        cut = np.flatnonzero(np.diff(t[i]) > params.max_gap_s * 1e6) + 1
        seqs = []
        for part in np.split(i, cut):
            pts = ", ".join(
                f"POINT({float(x[k])!r} {float(y[k])!r})@{_ts(int(t[k]))}" for k in part
            )
            seqs.append(f"[{pts}]")
        tracks[d] = pymeos.TGeomPointSeqSet("{" + ", ".join(seqs) + "}")
    out = {}
    names = sorted(tracks)
    for ai, a in enumerate(names):
        for b in names[ai + 1 :]:
            r = tracks[a].within_distance(tracks[b], params.distance_m)
            if r is None:
                continue
            spans = r.when_true()
            if spans is None:
                continue
            bounds = [
                (s.lower().timestamp() * 1e6, s.upper().timestamp() * 1e6) for s in spans.spans()
            ]
            out[(a, b)] = np.array(bounds)
    return out


def engine(
    table: pa.Table, params: EncounterParams, **kw: object
) -> dict[tuple[str, str], np.ndarray]:
    p = within_periods(table, params, crs="EPSG:27700", **kw)  # type: ignore[arg-type]
    out: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in p.to_pylist():
        out.setdefault((r["device_a"], r["device_b"]), []).append(
            (r["start"].timestamp() * 1e6, r["end"].timestamp() * 1e6)
        )
    return {k: np.array(v) for k, v in out.items()}


def assert_agree(
    ours: dict[tuple[str, str], np.ndarray],
    theirs: dict[tuple[str, str], np.ndarray],
    tol_us: float = 1000.0,
) -> None:
    assert sorted(ours) == sorted(theirs)
    for pair, want in theirs.items():
        got = ours[pair]
        assert got.shape == want.shape, (pair, got, want)
        assert np.abs(got - want).max() <= tol_us, (pair, got, want)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_fleet_matches_pymeos(seed: int) -> None:
    table = small_fleet(8, 40, seed=seed)
    params = EncounterParams(distance_m=80, max_gap_s=45, merge_gap_s=0, min_duration_s=0)
    want = oracle(table, params)
    assert sum(len(v) for v in want.values()) > 10  # the fleet does meet
    assert_agree(engine(table, params), want)


def test_windows_stitch_like_one_partition() -> None:
    table = small_fleet(6, 90, seed=7)
    params = EncounterParams(distance_m=100, max_gap_s=60, merge_gap_s=0, min_duration_s=0)
    want = oracle(table, params)
    got = within_periods(table, params, crs="EPSG:27700", window_s=317.0)
    ours: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in got.to_pylist():
        ours.setdefault((r["device_a"], r["device_b"]), []).append(
            (r["start"].timestamp() * 1e6, r["end"].timestamp() * 1e6)
        )
    assert_agree({k: np.array(v) for k, v in ours.items()}, want)


def liverpool(real_data: Path) -> pa.Table:
    raw = csv.read_csv(
        real_data / "liverpool_bus_route14_outbound.csv",
        convert_options=csv.ConvertOptions(
            column_types={"vehicle_id": pa.string(), "timestamp": pa.string()}
        ),
    )
    naive = pc.strptime(raw["timestamp"], format="%Y-%m-%d %H:%M:%S", unit="us")
    time = pc.cast(naive.cast(pa.int64()), pa.int64()).cast(UTC_TS)  # naive UTC as recorded
    x, y = to_projected(raw["latitude"].to_numpy(), raw["longitude"].to_numpy(), "EPSG:27700")
    return pa.table({"device_id": raw["vehicle_id"], "time": time, "x": x, "y": y})


@pytest.mark.parametrize("distance", [50.0, 300.0])
def test_liverpool_buses_match_pymeos(real_data: Path, distance: float) -> None:
    table = liverpool(real_data)
    params = EncounterParams(distance_m=distance, max_gap_s=120, merge_gap_s=0, min_duration_s=0)
    want = oracle(table, params)
    assert want  # buses on one route do pass each other
    assert_agree(engine(table, params), want)
