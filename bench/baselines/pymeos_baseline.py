"""Baseline (a): pymeos (MobilityDB's engine) with a bounding-box prefilter.

Each device's fixes become a TGeomPointSeqSet (split at gaps > max_gap), cut into hourly
tiles; a tile pair is compared with `within_distance` (tDwithin) only when their bounding
boxes, expanded by the distance, overlap in space and time (numpy, vectorised). Periods are
then joined per pair, merged across gaps ≤ merge_gap and kept when ≥ min_duration, as the
engine does. Reading the Parquet input is included in the time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow.parquet as pq

TILE_US = 3_600_000_000


def _ts(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def encounters(
    path: str, distance_m: float, max_gap_s: float, merge_gap_s: float, min_duration_s: float
) -> list[tuple[str, str, float, float]]:
    """(device_a, device_b, start s, end s) of every encounter, via pymeos."""
    import pymeos

    pymeos.pymeos_initialize()
    t = pq.read_table(path, columns=["device_id", "time", "x", "y"])
    dev = np.asarray(t["device_id"].to_pylist(), dtype=object)
    us = t["time"].cast("int64").to_numpy()
    x, y = t["x"].to_numpy(), t["y"].to_numpy()
    order = np.lexsort((us, dev))
    dev, us, x, y = dev[order], us[order], x[order], y[order]
    gap = max_gap_s * 1e6
    # hourly tiles per device: a tile holds the segments starting in its hour (+ next fix)
    tiles: list[tuple[str, int, object]] = []
    boxes = []
    names = np.unique(dev)
    bounds = np.searchsorted(dev, names), np.searchsorted(dev, names, side="right")
    for name, lo, hi in zip(names, *bounds, strict=True):
        tu, tx, ty = us[lo:hi], x[lo:hi], y[lo:hi]
        when, xs, ys = [_ts(int(v)) for v in tu], tx.tolist(), ty.tolist()
        hour = tu // TILE_US
        for h in np.unique(hour):
            i = np.flatnonzero(hour == h)
            j = min(i[-1] + 1, len(tu) - 1)  # the next fix closes the last segment
            idx = np.arange(i[0], j + 1)
            cut = np.flatnonzero(np.diff(tu[idx]) > gap) + 1
            seqs = [
                "[" + ", ".join(f"POINT({xs[k]!r} {ys[k]!r})@{when[k]}" for k in part) + "]"
                for part in np.split(idx, cut)
            ]
            tiles.append((str(name), int(h), pymeos.TGeomPointSeqSet("{" + ", ".join(seqs) + "}")))
            boxes.append(
                (
                    tx[idx].min(),
                    ty[idx].min(),
                    tx[idx].max(),
                    ty[idx].max(),
                    tu[idx].min(),
                    tu[idx].max(),
                )
            )
    b = np.array(boxes)
    hours = np.array([h for _, h, _ in tiles])
    devs = np.array([n for n, _, _ in tiles], dtype=object)
    periods: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for h in np.unique(hours):
        # tiles of neighbouring hours overlap only at their shared fix; comparing within an
        # hour and with the next hour's tiles covers every segment pair
        i = np.flatnonzero((hours == h) | (hours == h + 1))
        bi = b[i]
        ov = (
            (bi[:, None, 0] - distance_m <= bi[None, :, 2])
            & (bi[None, :, 0] - distance_m <= bi[:, None, 2])
            & (bi[:, None, 1] - distance_m <= bi[None, :, 3])
            & (bi[None, :, 1] - distance_m <= bi[:, None, 3])
            & (bi[:, None, 4] <= bi[None, :, 5])
            & (bi[None, :, 4] <= bi[:, None, 5])
        )
        ov &= devs[i][:, None] < devs[i][None, :]
        ov &= (hours[i][:, None] == h) | (hours[i][None, :] == h)
        for p, q in zip(*np.nonzero(ov), strict=True):
            ta, tb = tiles[i[p]][2], tiles[i[q]][2]
            r = ta.within_distance(tb, distance_m)
            met: Any = r.when_true() if r is not None else None
            if met is None:
                continue
            for s in met.spans():
                periods[(devs[i[p]], devs[i[q]])].append(
                    (s.lower().timestamp(), s.upper().timestamp())
                )
    out = []
    for (a, bb), spans in periods.items():
        spans.sort()
        cur_s, cur_e = spans[0]
        for s, e in spans[1:]:
            if s <= cur_e + merge_gap_s:
                cur_e = max(cur_e, e)
            else:
                if cur_e - cur_s >= min_duration_s:
                    out.append((a, bb, cur_s, cur_e))
                cur_s, cur_e = s, e
        if cur_e - cur_s >= min_duration_s:
            out.append((a, bb, cur_s, cur_e))
    return sorted(out)
