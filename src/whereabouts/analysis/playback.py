"""Review of a case's tracks as AVL playback and i2 timelines do it: where each officer
likely was at an instant, how far apart two were over time, where each stopped, who was
near a point at a time, and each officer's duty, incidents, occasions and stops as bands.

Tracks are numpy columns grouped by unit (`offsets[i]:offsets[i + 1]` are unit i's fixes,
sorted by time; times epoch seconds, x/y metres in the workspace CRS). Between two fixes at
most `max_gap_s` apart the position is interpolated linearly (DESIGN.md "Semantics");
elsewhere it is unknown (NaN). Every function is vectorised over time.

    px, py = positions_at(t, x, y, offsets, np.array([t0, t1]), max_gap_s=300)
    d = separation(t, x, y, offsets, 0, 1, at=grid, max_gap_s=300)
    found = near(t, x, y, offsets, units, at=at, point=(x0, y0), distance_m=200, max_gap_s=300)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from whereabouts.errors import ParameterError

BAND_KINDS = ("duty", "incident", "occasion", "stop")  # a timeline's rows, in this order


@dataclass(frozen=True)
class Stop:
    """A unit stationary for a while: fixes each within `radius_m` of the one before."""

    unit: str
    start_s: float
    end_s: float
    x: float
    y: float
    fixes: int


def _unit(offsets: np.ndarray, i: int) -> slice:
    return slice(int(offsets[i]), int(offsets[i + 1]))


def positions_at(
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    offsets: np.ndarray,
    at: np.ndarray,
    *,
    max_gap_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's likely position at the instants `at`: arrays (units, len(at)), NaN where
    the position is unknown (before the first fix, after the last, across a gap above
    `max_gap_s`). At a fix itself the position is that fix's."""
    at = np.asarray(at, dtype=np.float64)
    n = len(offsets) - 1
    px = np.full((n, at.size), np.nan)
    py = np.full((n, at.size), np.nan)
    for i in range(n):  # a case has a few units; the work per unit is vectorised
        s = _unit(offsets, i)
        tu, xu, yu = t[s], x[s], y[s]
        if tu.size == 0:
            continue
        hi = np.searchsorted(tu, at, "left")
        exact = (hi < tu.size) & (tu[np.minimum(hi, tu.size - 1)] == at)
        lo = hi - 1
        inside = (lo >= 0) & (hi < tu.size)
        lo_c, hi_c = np.clip(lo, 0, tu.size - 1), np.clip(hi, 0, tu.size - 1)
        span = tu[hi_c] - tu[lo_c]
        ok = inside & (span <= max_gap_s)
        u = np.where(span > 0, (at - tu[lo_c]) / np.where(span > 0, span, 1), 0.0)
        px[i] = np.where(ok, xu[lo_c] + u * (xu[hi_c] - xu[lo_c]), np.nan)
        py[i] = np.where(ok, yu[lo_c] + u * (yu[hi_c] - yu[lo_c]), np.nan)
        px[i, exact] = xu[hi_c[exact]]
        py[i, exact] = yu[hi_c[exact]]
    return px, py


def separation(
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    offsets: np.ndarray,
    a: int,
    b: int,
    *,
    at: np.ndarray,
    max_gap_s: float,
) -> np.ndarray:
    """Metres between units `a` and `b` at the instants `at` (NaN where either is unknown)."""
    px, py = positions_at(t, x, y, offsets, at, max_gap_s=max_gap_s)
    metres: np.ndarray = np.hypot(px[a] - px[b], py[a] - py[b])
    return metres


def time_grid(start_s: float, end_s: float, samples: int) -> np.ndarray:
    """`samples` evenly spaced instants from start to end, both included."""
    if not end_s > start_s:
        raise ParameterError("the period's end must be after its start", hint="swap from and to")
    if not 2 <= samples <= 20_000:
        raise ParameterError(
            f"samples must be 2 to 20000, got {samples}",
            hint="ask for a few hundred: one per pixel of the chart",
        )
    return np.linspace(start_s, end_s, samples)


def stops(
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    offsets: np.ndarray,
    units: list[str],
    *,
    radius_m: float,
    min_s: float,
    max_gap_s: float,
    within: tuple[float, float] | None = None,
) -> list[Stop]:
    """Each unit's stops: runs of fixes each within `radius_m` of the one before and at most
    `max_gap_s` after it, lasting at least `min_s` (the analysis's own stop rule, before
    its merging and tasking), at the run's median point. `within` (start, end): only the
    stops overlapping it, whole (found over all the fixes, so one begun before is not cut)."""
    found: list[Stop] = []
    for i, unit in enumerate(units):
        s = _unit(offsets, i)
        tu, xu, yu = t[s], x[s], y[s]
        if tu.size < 2:
            continue
        still = (np.diff(tu) <= max_gap_s) & (np.hypot(np.diff(xu), np.diff(yu)) <= radius_m)
        brk = np.concatenate([[True], ~still])
        starts = np.flatnonzero(brk)
        ends = np.concatenate([starts[1:], [tu.size]])  # exclusive
        keep = (tu[ends - 1] - tu[starts]) >= min_s
        if within is not None:
            keep &= (tu[ends - 1] >= within[0]) & (tu[starts] <= within[1])
        for a, e in zip(starts[keep].tolist(), ends[keep].tolist(), strict=True):
            found.append(
                Stop(
                    unit,
                    float(tu[a]),
                    float(tu[e - 1]),
                    float(np.median(xu[a:e])),
                    float(np.median(yu[a:e])),
                    e - a,
                )
            )
    return found


def near(
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    offsets: np.ndarray,
    units: list[str],
    *,
    at: float,
    point: tuple[float, float],
    distance_m: float,
    max_gap_s: float,
) -> list[dict[str, Any]]:
    """Units whose likely position at `at` is within `distance_m` of `point`, nearest first:
    unit, distance_m, x, y. A unit whose position is unknown then is not listed."""
    if not (np.isfinite(distance_m) and distance_m > 0):
        raise ParameterError(
            f"distance_m must be a positive number of metres, got {distance_m}",
            hint="e.g. distance_m=200",
        )
    px, py = positions_at(t, x, y, offsets, np.array([float(at)]), max_gap_s=max_gap_s)
    d = np.hypot(px[:, 0] - point[0], py[:, 0] - point[1])
    hit = np.flatnonzero(np.isfinite(d) & (d <= distance_m))
    hit = hit[np.argsort(d[hit], kind="stable")]
    return [
        {
            "unit": units[i],
            "distance_m": round(float(d[i]), 1),
            "x": round(float(px[i, 0]), 1),
            "y": round(float(py[i, 0]), 1),
        }
        for i in hit
    ]


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return [dict(r) for r in table.to_pylist()]


def timeline_bands(
    tables: dict[str, pa.Table], officers: list[str], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Each officer's duty and incidents attended in [start, end) as bands: officer_id,
    kind ("duty" | "incident"), start, end, label. `tables`: the workspace's duty,
    attachments, incidents and assignments (an attachment by device is the officer's when
    the device was assigned to them at dispatch)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for name in ("duty", "attachments", "incidents", "assignments"):
            con.register(name, tables[name])
        con.register("wanted", pa.table({"officer_id": pa.array(officers, pa.string())}))
        args = {"start": start, "end": end}
        duty = con.sql(
            """
            SELECT officer_id, 'duty' AS kind, greatest(start, $start) AS start,
                   least("end", $end) AS "end", coalesce(duty_type, 'duty') AS label
            FROM duty WHERE officer_id IN (SELECT officer_id FROM wanted)
              AND start < $end AND "end" > $start
        """,
            params=args,
        ).to_arrow_table()
        attended = con.sql(
            """
            WITH a AS (
                SELECT coalesce(t.officer_id, s.officer_id) AS officer_id, t.*
                FROM attachments t LEFT JOIN assignments s
                  ON t.officer_id IS NULL AND s.device_id = t.device_id
                 AND s.start <= t.dispatched_at AND s."end" > t.dispatched_at
            )
            SELECT DISTINCT a.officer_id, 'incident' AS kind,
                   greatest(a.dispatched_at, $start) AS start,
                   least(coalesce(a.cleared_at, i.closed_at, a.dispatched_at
                                  + INTERVAL 1 HOUR), $end) AS "end",
                   a.incident_id || coalesce(' P' || CAST(i.priority AS VARCHAR), '')
                       || coalesce(' ' || i.category, '') AS label
            FROM a LEFT JOIN incidents i USING (incident_id)
            WHERE a.officer_id IN (SELECT officer_id FROM wanted)
              AND a.dispatched_at < $end
              AND coalesce(a.cleared_at, i.closed_at, a.dispatched_at + INTERVAL 1 HOUR) > $start
        """,
            params=args,
        ).to_arrow_table()
    finally:
        con.close()
    rows = _rows(duty) + _rows(attended)
    rows.sort(
        key=lambda r: (
            officers.index(r["officer_id"]),
            BAND_KINDS.index(r["kind"]),
            r["start"],
            r["label"],
        )
    )
    return rows


__all__ = [
    "BAND_KINDS",
    "Stop",
    "near",
    "positions_at",
    "separation",
    "stops",
    "time_grid",
    "timeline_bands",
]
