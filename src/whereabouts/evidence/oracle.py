"""Each occasion's device periods, re-derived by an independent implementation (pymeos,
MobilityDB's temporal types) and compared with the engine's.

For an occasion of officers A and B, every pair of a device assigned to A and one assigned
to B during it is checked: the fixes of the two devices from `max_gap` before to `max_gap`
after the occasion go to the engine (`engine.within_periods`) and, as pymeos temporal
points split at gaps longer than `max_gap`, to pymeos' `within_distance`; both sets of
periods are clipped to the occasion and must agree in number, and at every boundary to
within `TOLERANCE_US`. pymeos is an optional dependency (`pip install 'whereabouts[verify]'`).
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.errors import WhereaboutsError

if TYPE_CHECKING:
    from types import ModuleType

TOLERANCE_US = 1000  # 1 ms


class OracleMissing(WhereaboutsError):
    """pymeos, the independent implementation, is not installed."""


@dataclass(frozen=True)
class OccasionCheck:
    """The engine and pymeos on one occasion's device pairs."""

    occasion_id: str
    pairs: int
    periods: int  # pymeos' periods inside the occasion
    agree: bool
    max_diff_ms: float
    detail: str


def pymeos_module() -> ModuleType:
    """pymeos, initialised; OracleMissing when it is not installed."""
    try:
        pymeos = importlib.import_module("pymeos")
    except ImportError as exc:
        raise OracleMissing(
            "the independent implementation (pymeos) is not installed",
            hint="pip install 'whereabouts[verify]' (or pymeos)",
        ) from exc
    pymeos.pymeos_initialize()
    return pymeos


def _ts(us: int) -> str:
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def _track(
    pymeos: ModuleType, t: np.ndarray, x: np.ndarray, y: np.ndarray, max_gap_s: float
) -> Any:  # noqa: ANN401  # a pymeos TGeomPointSeqSet (untyped)
    """A pymeos sequence set of one device's fixes, split at gaps longer than max_gap."""
    # Same-instant fixes: the smallest (x, y) is kept (the documented rule of the engine's
    # contract, docs/architecture.md), so both sides read the same positions.
    order = np.lexsort((y, x, t))
    t, x, y = t[order], x[order], y[order]
    first = np.r_[True, t[1:] != t[:-1]]
    t, x, y = t[first], x[first], y[first]
    cut = np.flatnonzero(np.diff(t) > round(max_gap_s * 1e6)) + 1
    seqs = []
    for part in np.split(np.arange(len(t)), cut):
        pts = ", ".join(f"POINT({float(x[k])!r} {float(y[k])!r})@{_ts(int(t[k]))}" for k in part)
        seqs.append(f"[{pts}]")
    return pymeos.TGeomPointSeqSet("{" + ", ".join(seqs) + "}")


Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


def pymeos_periods(
    pymeos: ModuleType, a: Arrays, b: Arrays, distance_m: float, max_gap_s: float
) -> np.ndarray:
    """(n, 2) µs: when two devices (t, x, y arrays each) are within `distance_m`."""
    if len(a[0]) == 0 or len(b[0]) == 0:
        return np.zeros((0, 2))
    ta = _track(pymeos, a[0], a[1], a[2], max_gap_s)
    tb = _track(pymeos, b[0], b[1], b[2], max_gap_s)
    r = ta.within_distance(tb, distance_m)
    spans = r.when_true() if r is not None else None
    if spans is None:
        return np.zeros((0, 2))
    return np.array(
        [
            (round(s.lower().timestamp() * 1e6), round(s.upper().timestamp() * 1e6))
            for s in spans.spans()
        ],
        dtype=np.float64,
    ).reshape(-1, 2)


def _clip(p: np.ndarray, lo: int, hi: int) -> np.ndarray:
    if len(p) == 0:
        return p
    c = np.column_stack([np.maximum(p[:, 0], lo), np.minimum(p[:, 1], hi)])
    # Slivers shorter than the tolerance at the occasion's edges are left out on both sides:
    # a boundary 0.5 ms either side of the edge would otherwise count as a period or not.
    result: np.ndarray = c[c[:, 1] - c[:, 0] > TOLERANCE_US]
    return result


def compare(ours: np.ndarray, theirs: np.ndarray) -> tuple[bool, float]:
    """(agree, largest boundary difference in ms) of two sorted (n, 2) period arrays."""
    if ours.shape != theirs.shape:
        return False, float("inf")
    if len(ours) == 0:
        return True, 0.0
    diff = float(np.abs(ours - theirs).max())
    return diff <= TOLERANCE_US, diff / 1000


def check_occasions(
    fixes: pa.Table, assignments: pa.Table, occasions: pa.Table, params: dict[str, Any], crs: str
) -> list[OccasionCheck]:
    """One OccasionCheck per occasion. `fixes`: device_id, time, x, y of the workspace;
    `assignments`: officer_id, device_id, start, end; `params`: the analysis settings."""
    from whereabouts.engine import EncounterParams, within_periods

    pymeos = pymeos_module()
    distance, max_gap = float(params["distance_m"]), float(params["max_gap_s"])
    ep = EncounterParams(distance_m=distance, max_gap_s=max_gap, merge_gap_s=0, min_duration_s=0)
    dev = np.asarray(fixes.column("device_id").cast(pa.string()).to_pylist(), dtype=object)
    t = pc.cast(fixes.column("time"), pa.int64()).to_numpy()
    x, y = fixes.column("x").to_numpy(), fixes.column("y").to_numpy()
    a_off = np.asarray(assignments.column("officer_id").to_pylist(), dtype=object)
    a_dev = np.asarray(assignments.column("device_id").to_pylist(), dtype=object)
    a_s = pc.cast(assignments.column("start"), pa.int64()).to_numpy()
    a_e = pc.cast(assignments.column("end"), pa.int64()).to_numpy()
    out = []
    for occ in occasions.select(
        ["occasion_id", "officer_a", "officer_b", "start", "end"]
    ).to_pylist():
        lo = round(occ["start"].timestamp() * 1e6)
        hi = round(occ["end"].timestamp() * 1e6)
        pad = round(max_gap * 1e6) + 1_000_000

        def devices(officer: str, lo: int = lo, hi: int = hi) -> list[str]:
            m = (a_off == officer) & (a_s < hi) & (a_e > lo)
            return sorted({str(d) for d in a_dev[m]})

        pairs = [
            (da, db)
            for da in devices(occ["officer_a"])
            for db in devices(occ["officer_b"])
            if da != db
        ]
        near = (t >= lo - pad) & (t <= hi + pad)
        worst, agree, total, notes = 0.0, True, 0, []
        for da, db in pairs:
            ma, mb = near & (dev == da), near & (dev == db)
            theirs = _clip(
                pymeos_periods(
                    pymeos, (t[ma], x[ma], y[ma]), (t[mb], x[mb], y[mb]), distance, max_gap
                ),
                lo,
                hi,
            )
            sub = pa.table(
                {
                    "device_id": pa.array(np.r_[dev[ma], dev[mb]].tolist(), pa.string()),
                    "time": pa.array(np.r_[t[ma], t[mb]], pa.int64()).cast(
                        pa.timestamp("us", tz="UTC")
                    ),
                    "x": np.r_[x[ma], x[mb]],
                    "y": np.r_[y[ma], y[mb]],
                }
            )
            p = within_periods(sub, ep, crs=crs) if sub.num_rows else None
            ours = np.zeros((0, 2))
            if p is not None and p.num_rows:
                ours = np.column_stack(
                    [
                        pc.cast(p.column("start"), pa.int64()).to_numpy(),
                        pc.cast(p.column("end"), pa.int64()).to_numpy(),
                    ]
                ).astype(np.float64)
                ours = ours[np.argsort(ours[:, 0], kind="stable")]
            ours = _clip(ours, lo, hi)
            ok, diff = compare(ours, theirs)
            total += len(theirs)
            if not ok:
                agree = False
                notes.append(
                    f"{da}–{db}: engine {len(ours)} periods, pymeos {len(theirs)}"
                    + (f", boundaries up to {diff:.3f} ms apart" if np.isfinite(diff) else "")
                )
            else:
                worst = max(worst, diff)
        if not pairs:
            agree = False
            notes.append("no device of each officer was assigned during it")
        detail = (
            "; ".join(notes)
            if notes
            else f"{len(pairs)} device pair(s), {total} period(s), boundaries within {worst:.3f} ms"
        )
        out.append(
            OccasionCheck(
                str(occ["occasion_id"]),
                len(pairs),
                total,
                agree,
                worst if agree else float("inf"),
                detail,
            )
        )
    return out


__all__ = [
    "TOLERANCE_US",
    "OccasionCheck",
    "OracleMissing",
    "check_occasions",
    "compare",
    "pymeos_module",
    "pymeos_periods",
]
