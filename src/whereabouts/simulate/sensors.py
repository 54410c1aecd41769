"""Sensors: vehicle AVL and TETRA LIP reports sampled from the true tracks.

Sampling, noise, multipath jumps, dropouts, depots without signal, duplicated and
out-of-order rows are all whole-column numpy operations; the only loop is per device-shift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.io.lip import encode_short
from whereabouts.schema import UTC_TS
from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.movement import position, velocity
from whereabouts.simulate.policing import DeviceTrack
from whereabouts.tracks.projection import to_wgs84

REASON_POWER_ON, REASON_POWER_OFF, REASON_EMERGENCY = 0, 1, 2
REASON_PERIODIC, REASON_DISTANCE = 33, 34
LIP_DISTANCE_M = 2000.0  # a distance-travelled report every 2 km


@dataclass
class Samples:
    """Sampled fixes of many devices: true and observed positions, one row per report."""

    device: np.ndarray  # int: index of the device-shift's track in `names`
    t: np.ndarray  # true time of the position, epoch seconds
    x: np.ndarray = field(repr=False)  # true position (never in a repr)
    y: np.ndarray = field(repr=False)
    ox: np.ndarray = field(repr=False)  # observed (noisy) position
    oy: np.ndarray = field(repr=False)
    speed: np.ndarray
    heading: np.ndarray
    multipath: np.ndarray  # bool
    reason: np.ndarray  # int: LIP reason code (AVL: -1)
    delay: np.ndarray  # seconds between position and reception (LIP)
    names: np.ndarray  # device id of each track (str)

    def device_ids(self) -> pa.Array:
        """The device id of every row, as an Arrow string column."""
        codes = pa.array(self.device.astype(np.int32), pa.int32())
        return pa.DictionaryArray.from_arrays(codes, pa.array(self.names, pa.string())).cast(
            pa.string()
        )


def _gaps(start: float, end: float, rate: float, rng: np.random.Generator) -> np.ndarray:
    n = rng.poisson(rate)
    lo = rng.uniform(start, end, n)
    return np.column_stack([lo, lo + rng.uniform(120, 900, n)])


def _keep(t: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    inside = (t[:, None] >= gaps[None, :, 0]) & (t[:, None] < gaps[None, :, 1])
    return np.asarray(~inside.any(axis=1), dtype=bool)


def _sample(
    tracks: list[DeviceTrack],
    times: list[np.ndarray],
    reasons: list[np.ndarray],
    sigma: float,
    config: SimConfig,
    rng: np.random.Generator,
) -> Samples:
    """Positions of every track at its sample times, with noise and multipath jumps."""
    parts = []
    names = np.array([tr.device_id for tr in tracks], dtype=str)
    for k, (tr, t, r) in enumerate(zip(tracks, times, reasons, strict=True)):  # per device-shift
        x, y = position(t, tr.t, tr.x, tr.y)
        sp, hd = velocity(t, tr.t, tr.x, tr.y)
        parts.append((np.full(len(t), k, dtype=np.int32), t, x, y, sp, hd, r))
    if not parts:
        e = np.zeros(0)
        return Samples(
            np.zeros(0, np.int32),
            e,
            e,
            e,
            e,
            e,
            e,
            e,
            np.zeros(0, bool),
            np.zeros(0, np.int64),
            e,
            names,
        )
    dev, t, x, y, sp, hd, r = (np.concatenate([p[k] for p in parts]) for k in range(7))
    n = len(t)
    ox = x + rng.normal(0, sigma, n)
    oy = y + rng.normal(0, sigma, n)
    jump = rng.random(n) < config.multipath_rate
    dist = rng.uniform(40, 300, int(jump.sum()))
    ang = rng.uniform(0, 2 * np.pi, int(jump.sum()))
    ox[jump] += dist * np.cos(ang)
    oy[jump] += dist * np.sin(ang)
    return Samples(dev, t, x, y, ox, oy, sp, hd, jump, r.astype(np.int64), np.zeros(n), names)


def sample_avl(
    tracks: list[DeviceTrack], config: SimConfig, rng: np.random.Generator, depots: np.ndarray
) -> Samples:
    """AVL fixes every 10–30 s (per vehicle) while the vehicle is in use."""
    lo, hi = config.avl_interval_s
    times, reasons = [], []
    for tr in tracks:
        step = float(rng.uniform(lo, hi))
        t = tr.start + np.arange(0.0, tr.end - tr.start, step) + rng.uniform(-0.5, 0.5)
        t = t[(t >= tr.start) & (t <= tr.end)]
        t = t[_keep(t, _gaps(tr.start, tr.end, config.dropouts_per_shift, rng))]
        times.append(np.round(t))
        reasons.append(np.full(len(t), -1))
    s = _sample(tracks, times, reasons, config.avl_sigma_m, config, rng)
    # In the station yard and garage the receiver often has no sky: fixes are lost.
    in_yard = np.zeros(len(s.t), bool)
    for sx, sy in depots:  # a loop per station, each over every fix at once
        in_yard |= (s.x - sx) ** 2 + (s.y - sy) ** 2 < 60.0**2
    lost = in_yard & (rng.random(len(s.t)) < 0.6)
    return subset(s, ~lost)


def sample_lip(tracks: list[DeviceTrack], config: SimConfig, rng: np.random.Generator) -> Samples:
    """TETRA reports: power on/off, every interval, every 2 km travelled, rare emergencies."""
    times, reasons = [], []
    for tr in tracks:
        periodic = (
            tr.start
            + np.arange(config.lip_interval_s, tr.end - tr.start, config.lip_interval_s)
            + rng.uniform(-3, 3)
        )
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(tr.x), np.diff(tr.y)))])
        marks = np.arange(LIP_DISTANCE_M, cum[-1], LIP_DISTANCE_M)
        by_distance = np.interp(marks, cum, tr.t)
        emergency = rng.uniform(tr.start, tr.end, int(rng.random() < 0.002))
        t = np.concatenate([[tr.start], periodic, by_distance, emergency, [tr.end]])
        r = np.concatenate(
            [
                [REASON_POWER_ON],
                np.full(len(periodic), REASON_PERIODIC),
                np.full(len(marks), REASON_DISTANCE),
                np.full(len(emergency), REASON_EMERGENCY),
                [REASON_POWER_OFF],
            ]
        )
        keep = _keep(t, _gaps(tr.start, tr.end, config.dropouts_per_shift, rng))
        keep[0] = keep[-1] = True
        order = np.argsort(t[keep], kind="stable")
        times.append(np.round(t[keep][order], 1))
        reasons.append(r[keep][order])
    s = _sample(tracks, times, reasons, config.lip_sigma_m, config, rng)
    # Most reports arrive within a second or two; a few are buffered for minutes.
    late = rng.random(len(s.t)) < 0.03
    s.delay = np.where(late, rng.uniform(6, 240, len(s.t)), rng.uniform(0.2, 2.5, len(s.t)))
    return s


def subset(s: Samples, keep: np.ndarray) -> Samples:
    """The rows of `s` where `keep` is true."""
    fields = {f: getattr(s, f)[keep] for f in Samples.__dataclass_fields__ if f != "names"}
    return Samples(**fields, names=s.names)


def _mess(n: int, config: SimConfig, rng: np.random.Generator) -> np.ndarray:
    """Row order with exact duplicates and neighbours swapped, as exports have them."""
    order = np.arange(n)
    dup = np.flatnonzero(rng.random(n) < config.duplicate_rate)
    order = np.sort(np.concatenate([order, dup]), kind="stable")
    if len(order) > 1:
        k = np.flatnonzero(rng.random(len(order) - 1) < config.out_of_order_rate)
        k = k[np.diff(np.concatenate([[-2], k])) > 1]  # pairs that do not overlap
        order[k], order[k + 1] = order[k + 1], order[k].copy()
    return order


def _us(t: np.ndarray) -> pa.Array:
    return pa.array(np.round(t * 1e6).astype(np.int64), pa.int64()).cast(UTC_TS)


def avl_table(s: Samples, config: SimConfig, rng: np.random.Generator) -> pa.Table:
    """Canonical fixes rows (fixes.parquet) of AVL samples, messed up like a real export."""
    lat, lon = to_wgs84(s.ox, s.oy)
    acc = np.where(s.multipath, rng.uniform(8, 25, len(s.t)), rng.uniform(3, 8, len(s.t)))
    speed = np.maximum(0, s.speed + rng.normal(0, 0.3, len(s.t)))
    table = pa.table(
        {
            "device_id": s.device_ids(),
            "time": _us(s.t),
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
            "accuracy_m": np.round(acc, 1),
            "speed_mps": np.round(speed, 1),
            "heading_deg": pa.array(np.round(s.heading), pa.float64(), from_pandas=True),
            "source": pa.array(np.full(len(s.t), "avl"), pa.string()),
        }
    )
    return table.take(_mess(len(s.t), config, rng))


def lip_table(s: Samples, config: SimConfig, rng: np.random.Generator) -> pa.Table:
    """lip.csv rows: issi, received_at (UTC, ms), pdu_hex (short reports with 0x0A)."""
    lat, lon = to_wgs84(s.ox, s.oy)
    elapsed = np.where(s.delay < 5, 0, np.where(s.delay < 300, 1, 2))
    pdu = encode_short(
        lat,
        lon,
        time_elapsed_code=elapsed,
        position_error_code=np.where(s.multipath, 2, 1),
        speed_kmh=np.where(np.isnan(s.heading), 0.0, s.speed * 3.6),
        heading_deg=np.nan_to_num(s.heading),
        reason_code=s.reason,
    )
    received = pa.array(np.round((s.t + s.delay) * 1000).astype(np.int64)).cast(
        pa.timestamp("ms", tz="UTC")
    )
    table = pa.table(
        {
            "issi": s.device_ids(),
            # %S of a millisecond timestamp prints seconds with three decimals.
            "received_at": pc.strftime(received, format="%Y-%m-%dT%H:%M:%SZ"),
            "pdu_hex": pa.array(pdu, pa.string()),
        }
    )
    return table.take(_mess(len(s.t), config, rng))


def truth_table(s: Samples, source: str) -> pa.Table:
    """The true position behind every report (before duplication): truth/positions.parquet.

    Positions are British National Grid metres (EPSG:27700): true `x`,`y` and the
    `observed_x`,`observed_y` the sensor reported (noise, multipath jumps).
    """
    return pa.table(
        {
            "device_id": s.device_ids(),
            "time": _us(s.t),
            "x": s.x,
            "y": s.y,
            "observed_x": s.ox,
            "observed_y": s.oy,
            "source": pa.array(np.full(len(s.t), source), pa.string()),
            "multipath": s.multipath,
        }
    )


__all__ = ["Samples", "avl_table", "lip_table", "sample_avl", "sample_lip", "subset", "truth_table"]
