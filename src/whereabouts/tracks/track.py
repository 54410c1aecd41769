"""Tracks: each device's fixes sorted by time, exact duplicates dropped and counted, cut into
segments between consecutive fixes at most `max_gap` apart (DESIGN.md "Semantics").

Everything works on whole columns: devices are integer codes into a sorted array of ids, so
code order is id order, and times are integer microseconds since the epoch (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.errors import InputError, ParameterError
from whereabouts.schema import UTC_TS
from whereabouts.tracks.projection import BNG, crs_for, normalise_crs, to_projected


@dataclass(frozen=True)
class Fixes:
    """Fixes as parallel numpy columns; `device` indexes `ids` (sorted, so codes keep id order)."""

    ids: np.ndarray  # object array of device id strings, sorted, unique
    device: np.ndarray  # int32 code per fix
    t: np.ndarray  # int64 microseconds since the epoch, UTC
    x: np.ndarray  # float64 metres
    y: np.ndarray
    accuracy: np.ndarray  # float64 metres, 0 where unknown

    def __len__(self) -> int:
        return len(self.t)

    def take(self, index: np.ndarray | slice) -> Fixes:
        """The fixes at `index`."""
        return Fixes(
            self.ids,
            self.device[index],
            self.t[index],
            self.x[index],
            self.y[index],
            self.accuracy[index],
        )


@dataclass(frozen=True)
class Segments:
    """Linear pieces of tracks. An isolated fix is a segment of zero duration (t0 == t1)."""

    device: np.ndarray  # int32
    t0: np.ndarray  # int64 µs
    t1: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    e0: np.ndarray  # position error (m) at each end
    e1: np.ndarray

    def __len__(self) -> int:
        return len(self.t0)


def _column(table: pa.Table, *names: str) -> pa.ChunkedArray | None:
    for name in names:
        if name in table.column_names:
            return table[name]
    return None


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.float64()).to_numpy(), dtype=np.float64)


def fixes_from_table(
    table: pa.Table, crs: str | None = None, *, where: str = "fixes"
) -> tuple[Fixes, str]:
    """Canonical fixes (device_id, time, x/y, easting/northing or lat/lon) → (Fixes, crs).

    x/y and easting/northing are taken as metres in `crs` (default EPSG:27700); lat/lon are
    projected to `crs`, or to EPSG:27700 / the UTM zone of the data when `crs` is None.
    """
    missing = [c for c in ("device_id", "time") if c not in table.column_names]
    if missing:
        raise InputError(
            f"missing columns {missing}; found {table.column_names}",
            where=where,
            hint="fixes need device_id, time and lat/lon or easting/northing",
        )
    time = table["time"]
    if not pa.types.is_timestamp(time.type):
        raise InputError(
            f"time is {time.type}, not a timestamp",
            where=where,
            hint="parse text times first (whereabouts.io.times.parse_times; the "
            "engine's sources do), or give times with a zone",
        )
    t = np.asarray(pc.cast(time, UTC_TS).cast(pa.int64()).to_numpy(), dtype=np.int64)
    xs, ys = _column(table, "x", "easting"), _column(table, "y", "northing")
    if xs is not None and ys is not None:
        out_crs = normalise_crs(crs) if crs else BNG
        x, y = _floats(xs), _floats(ys)
    else:
        lat_c, lon_c = _column(table, "lat", "latitude"), _column(table, "lon", "longitude")
        if lat_c is None or lon_c is None:
            raise InputError(
                f"no positions; found columns {table.column_names}",
                where=where,
                hint="give lat/lon (WGS84) or easting/northing (EPSG:27700)",
            )
        lat, lon = _floats(lat_c), _floats(lon_c)
        out_crs = normalise_crs(crs) if crs else crs_for(lat, lon)
        x, y = to_projected(lat, lon, out_crs)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError(
            "some positions are missing or not finite",
            where=where,
            hint="ingest the file into a workspace, which quarantines such rows",
        )
    acc_c = _column(table, "accuracy_m")
    acc = np.zeros(len(t)) if acc_c is None else np.nan_to_num(_floats(acc_c), nan=0.0)
    if (acc < 0).any():
        raise InputError(
            "accuracy_m has negative values",
            where=where,
            hint="accuracy_m is a position error in metres, >= 0",
        )
    heads, lengths = id_runs(table["device_id"])
    dev = heads.dictionary_encode()
    names = np.asarray(dev.dictionary.to_pylist(), dtype=object)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    codes = rank[np.asarray(dev.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]
    return Fixes(names[order], np.repeat(codes, lengths), t, x, y, acc), out_crs


def id_runs(ids: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
    """(first id of each run of equal ids, as text; each run's length): ids matched per
    run, never one string per row (fixes sorted by device come as a few long runs)."""
    col = pc.cast(ids, pa.string())
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    n = len(col)
    if n == 0:
        return col, np.empty(0, np.int64)
    change = pc.fill_null(pc.not_equal(col.slice(1), col.slice(0, n - 1)), True)
    heads = np.r_[0, np.flatnonzero(change.to_numpy(zero_copy_only=False)) + 1]
    return col.take(pa.array(heads)), np.diff(np.r_[heads, n])


def clean(fixes: Fixes) -> tuple[Fixes, int]:
    """Sort by (device, time) and drop exact duplicates; return the fixes and the count dropped.

    Two fixes of one device at the same instant but different positions cannot both hold; the
    one with the smallest (x, y, accuracy) is kept so the result does not depend on row order.
    Both kinds of drop are counted in the returned number.
    """
    if len(fixes) == 0:
        return fixes, 0
    order = np.lexsort((fixes.t, fixes.device))
    f = fixes.take(order)
    tie = (f.device[1:] == f.device[:-1]) & (f.t[1:] == f.t[:-1])
    if tie.any():  # rare: settle same-instant fixes by position, independent of row order
        order = np.lexsort((f.accuracy, f.y, f.x, f.t, f.device))
        f = f.take(order)
    keep = np.ones(len(f), bool)
    keep[1:] = (f.device[1:] != f.device[:-1]) | (f.t[1:] != f.t[:-1])
    return f.take(keep), int(len(f) - keep.sum())


def segments(fixes: Fixes, max_gap_s: float) -> Segments:
    """Cut clean (sorted, deduplicated) fixes into segments; gaps > max_gap_s split a track."""
    if max_gap_s <= 0:
        raise ParameterError("max_gap_s must be > 0", hint="e.g. 300")
    d, t = fixes.device, fixes.t
    n = len(t)
    link = (d[1:] == d[:-1]) & ((t[1:] - t[:-1]) <= round(max_gap_s * 1e6))
    # a fix that is the end of no segment is an isolated instant: a zero-length segment
    touched = np.zeros(n, bool)
    touched[:-1] |= link
    touched[1:] |= link
    i0 = np.concatenate([np.flatnonzero(link), np.flatnonzero(~touched)])
    i1 = np.concatenate([np.flatnonzero(link) + 1, np.flatnonzero(~touched)])
    return Segments(
        d[i0],
        t[i0],
        t[i1],
        fixes.x[i0],
        fixes.y[i0],
        fixes.x[i1],
        fixes.y[i1],
        fixes.accuracy[i0],
        fixes.accuracy[i1],
    )


__all__ = ["Fixes", "Segments", "clean", "fixes_from_table", "id_runs", "segments"]
