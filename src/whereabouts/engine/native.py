"""The engine's compiled candidate search, kernel and union (engine/_native.c), through ctypes.

Built at install as an optional extension (setup.py; scripts/setup.sh installs gcc). When it
is missing, or WHEREABOUTS_NATIVE=0, the engine uses its numpy path: the same pairs, so the
same results bit for bit (tests/test_engine_native.py), only slower. A library built from
another version of `_native.c` than the one beside this module (a build left from before the
source changed: its functions may take other arguments) is not loaded: the numpy path
runs instead. Loading it costs a ctypes import, one dlopen and a hash of the source
(milliseconds), not a compiler or a JIT.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import os
from functools import cache
from pathlib import Path

import numpy as np

_I64 = ctypes.POINTER(ctypes.c_int64)
_F64 = ctypes.POINTER(ctypes.c_double)
_I8 = ctypes.POINTER(ctypes.c_int8)


@cache
def _library() -> ctypes.CDLL | None:
    spec = importlib.util.find_spec("whereabouts.engine._native")
    if spec is None or spec.origin is None:
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
    except OSError:
        return None
    if not _built_from_source(lib):
        return None
    fn = lib.wa_candidate_pairs
    fn.restype = ctypes.c_int64
    fn.argtypes = [
        ctypes.c_int64,
        _I64,
        _I64,
        _I64,
        _F64,
        _F64,
        _F64,
        _F64,
        ctypes.c_double,
        ctypes.c_double,
        _I64,
        _I64,
        ctypes.c_int64,
    ]
    fn = lib.wa_kernel
    fn.restype = ctypes.c_int64
    fn.argtypes = [
        ctypes.c_int64,
        *[_I64] * 4,
        *[_F64] * 6,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_double,
        ctypes.c_int,
        ctypes.c_int,
        _I8,
        _I64,
        _I64,
        _I64,
        _F64,
    ]
    fn = lib.wa_union
    fn.restype = ctypes.c_int64
    fn.argtypes = [
        ctypes.c_int64,
        _I8,
        *[_I64] * 4,
        _F64,
        ctypes.c_int64,
        _I64,
        _I64,
        _I64,
        _F64,
    ]
    if hasattr(lib, "wa_overlap_ranges"):  # (a library built before it lacks them)
        lib.wa_overlap_ranges.restype = ctypes.c_int64
        lib.wa_overlap_ranges.argtypes = [ctypes.c_int64, *[_I64] * 8]
        lib.wa_overlap_pairs.restype = ctypes.c_int64
        lib.wa_overlap_pairs.argtypes = [ctypes.c_int64, *[_I64] * 6]
    if hasattr(lib, "wa_sample_occasions"):  # (a library built before it lacks it)
        fn = lib.wa_sample_occasions
        fn.restype = ctypes.c_int64
        fn.argtypes = [
            *[_I64] * 5,
            ctypes.c_int64,
            *[_I64] * 5,
            ctypes.c_int64,
            ctypes.c_double,
            ctypes.c_double,
            _I64,
            ctypes.c_int64,
            _I64,
            _I64,
            _F64,
            _F64,
            _I64,
            _I8,
            _I64,
            _F64,
            _F64,
            _I64,
            _F64,
            _F64,
            _I64,
            _I64,
            _I64,
        ]
    if hasattr(lib, "wa_premises"):  # (a library built before it lacks it)
        fn = lib.wa_premises
        fn.restype = ctypes.c_int64
        fn.argtypes = [
            ctypes.c_int64,
            *[_I64] * 6,
            *[_F64] * 3,
            _I64,
            ctypes.c_int64,
            ctypes.c_double,
            ctypes.c_int64,
            *[_I64] * 7,
            ctypes.c_int64,
            *[_I64] * 5,
            _F64,
        ]
    return lib


SOURCE = Path(__file__).with_name("_native.c")


def _built_from_source(lib: ctypes.CDLL) -> bool:
    """Whether `lib` was built from the `_native.c` beside this module (setup.py gives the
    build its SHA-256); True where the source is not installed (a wheel: built from it)."""
    if not SOURCE.exists():
        return True
    if not hasattr(lib, "wa_source_sha256"):
        return False
    lib.wa_source_sha256.restype = ctypes.c_char_p
    built = lib.wa_source_sha256() or b""
    return bool(built.decode() == hashlib.sha256(SOURCE.read_bytes()).hexdigest())


def available() -> bool:
    """Whether the compiled library is installed (whatever WHEREABOUTS_NATIVE says)."""
    return _library() is not None


def enabled() -> bool:
    """Whether the engine uses the compiled library: installed and not WHEREABOUTS_NATIVE=0."""
    return os.environ.get("WHEREABOUTS_NATIVE", "1") != "0" and available()


def _ptr(a: np.ndarray, kind: type) -> object:
    return a.ctypes.data_as(kind)


def candidate_pairs(
    device: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    *,
    xmin: np.ndarray,
    ymin: np.ndarray,
    xmax: np.ndarray,
    ymax: np.ndarray,
    cell: float,
    bucket: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    """engine.candidates.candidate_pairs compiled (the same set of pairs, in another
    order); None when the library is missing or the grid too large for it."""
    lib = _library()
    if lib is None:
        return None
    ints = [np.ascontiguousarray(v, np.int64) for v in (device, t0, t1)]
    floats = [np.ascontiguousarray(v, np.float64) for v in (xmin, ymin, xmax, ymax)]
    args = [
        len(t0),
        *(_ptr(v, _I64) for v in ints),
        *(_ptr(v, _F64) for v in floats),
        float(cell),
        float(bucket),
    ]
    cap = 6 * len(t0) + 1024  # untouched pages cost nothing; a rerun costs the whole search
    while True:
        a, b = np.empty(cap, np.int64), np.empty(cap, np.int64)
        found = int(lib.wa_candidate_pairs(*args, _ptr(a, _I64), _ptr(b, _I64), cap))
        if found == -1:
            raise MemoryError("the compiled candidate search ran out of memory")
        if found < 0:
            return None
        if found <= cap:
            return a[:found], b[:found]
        cap = found


def kernel(
    ia: np.ndarray,
    ib: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    *,
    x0: np.ndarray,
    y0: np.ndarray,
    e0: np.ndarray,
    vx: np.ndarray,
    vy: np.ndarray,
    ve: np.ndarray,
    window: tuple[int, int],
    d: float,
    kinds: tuple[int, ...],
    copied: tuple[int, ...] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each candidate pair's pieces of each kind (engine.partition's numpy code, compiled).

    Returns (kind, pair index into ia/ib, start µs, end µs, smallest distance) per piece
    found inside the window (the distance NaN but for within pieces). copied: kinds that
    take the within piece unchanged (no position error: certain = possible = within).
    """
    lib = _library()
    if lib is None:
        raise RuntimeError("the compiled engine is not installed")
    n = len(ia)
    cap = len(set(kinds)) * n  # at most one piece per pair and kind
    kind, pair = np.empty(cap, np.int8), np.empty(cap, np.int64)
    start, end, mind = np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap)
    ints = [np.ascontiguousarray(v, np.int64) for v in (ia, ib, t0, t1)]
    floats = [np.ascontiguousarray(v, np.float64) for v in (x0, y0, e0, vx, vy, ve)]
    found = int(
        lib.wa_kernel(
            n,
            *(_ptr(v, _I64) for v in ints),
            *(_ptr(v, _F64) for v in floats),
            int(window[0]),
            int(window[1]),
            float(d),
            sum(1 << k for k in set(kinds)),
            sum(1 << k for k in set(copied)),
            _ptr(kind, _I8),
            _ptr(pair, _I64),
            _ptr(start, _I64),
            _ptr(end, _I64),
            _ptr(mind, _F64),
        )
    )
    return kind[:found], pair[:found], start[:found], end[:found], mind[:found]


def union(
    kind: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    mind: np.ndarray,
    *,
    gap_us: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """engine.periods.union compiled: (index of each run's first period, start, end,
    smallest distance), runs in (kind, a, b, start) order; None when the library is
    missing or the key too wide to pack (numpy's lexsort path)."""
    lib = _library()
    if lib is None:
        return None
    n = len(start)
    ints = [np.ascontiguousarray(v, np.int64) for v in (a, b, start, end)]
    kinds = np.ascontiguousarray(kind, np.int8)
    dist = np.ascontiguousarray(mind, np.float64)
    first, s, e = (np.empty(n, np.int64) for _ in range(3))
    m = np.empty(n, np.float64)
    found = int(
        lib.wa_union(
            n,
            _ptr(kinds, _I8),
            *(_ptr(v, _I64) for v in ints),
            _ptr(dist, _F64),
            int(gap_us),
            _ptr(first, _I64),
            _ptr(s, _I64),
            _ptr(e, _I64),
            _ptr(m, _F64),
        )
    )
    if found == -1:
        raise MemoryError("the compiled union ran out of memory")
    if found < 0:
        return None
    return first[:found], s[:found], e[:found], m[:found]


def overlap_pairs(
    g: np.ndarray,
    q0: np.ndarray,
    q1: np.ndarray,
    first: np.ndarray,
    s0: np.ndarray,
    s1: np.ndarray,
    *,
    reach: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """intervals.overlapping's search compiled: (query, row) of every row r of query i's key
    `g[i]` (-1: none; rows sorted by key, then start `s0`; `first[g]` a key's first row,
    `first[g + 1]` past its last; `reach` the running maximum of ends `s1` within a key)
    with s0[r] < q1[i] and s1[r] > q0[i], query by query, rows in order. None when the
    library lacks it."""
    lib = _library()
    if lib is None or not hasattr(lib, "wa_overlap_ranges"):
        return None
    ints = [np.ascontiguousarray(v, np.int64) for v in (g, q0, q1, first, s0, reach, s1)]
    g, q0, q1, first, s0, reach, s1 = ints
    lo, hi = np.empty(len(g), np.int64), np.empty(len(g), np.int64)
    total = int(
        lib.wa_overlap_ranges(
            len(g), *(_ptr(v, _I64) for v in (g, q0, q1, first, s0, reach, lo, hi))
        )
    )
    query, row = np.empty(total, np.int64), np.empty(total, np.int64)
    n = int(lib.wa_overlap_pairs(len(g), *(_ptr(v, _I64) for v in (q0, lo, hi, s1, query, row))))
    return query[:n], row[:n]


def sample_occasions(
    devices: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    pieces: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    device_gap: np.ndarray,
    occasion_gap: np.ndarray,
    step: int,
    distance: float,
    stop_speed: float,
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]] | None:
    """analysis.occasions' samples compiled (`wa_sample_occasions` in _native.c): the
    instants (occ, t, mx, my, dt, stopped) and per occasion code (n_samples, min and median
    distance, n_points, median x and y, dt summed, dt of stopped instants summed,
    n_stopped); None when the library (or this function in it) is missing.

    devices: per device code, its fixes' (time µs, x, y), time-sorted; pieces: (occ, code_a,
    code_b, first instant µs, count of instants `step` apart), sorted by occasion;
    device_gap, occasion_gap: µs per device code, per occasion code."""
    lib = _library()
    if lib is None or not hasattr(lib, "wa_sample_occasions"):
        return None
    cols = [
        [
            np.ascontiguousarray(d[0], np.int64),
            *(np.ascontiguousarray(v, np.float64) for v in d[1:]),
        ]
        for d in devices
    ]
    where = [np.array([c[k].ctypes.data for c in cols], np.int64) for k in range(3)]
    n_dev = np.array([len(c[0]) for c in cols], np.int64)
    gaps = np.ascontiguousarray(device_gap, np.int64)
    rows = [np.ascontiguousarray(v, np.int64) for v in pieces]
    og = np.ascontiguousarray(occasion_gap, np.int64)
    n_occ = len(og)
    cap = int(np.maximum(rows[4], 0).sum())  # at most one instant per sample
    i_occ, i_t, i_dt = (np.empty(cap, np.int64) for _ in range(3))
    i_mx, i_my = np.empty(cap), np.empty(cap)
    i_stopped = np.empty(cap, np.int8)
    n_samples, n_points, sum_dt, stopped_dt, n_stopped = (
        np.empty(n_occ, np.int64) for _ in range(5)
    )
    min_d, med_d, med_x, med_y = (np.empty(n_occ) for _ in range(4))
    found = int(
        lib.wa_sample_occasions(
            *(_ptr(v, _I64) for v in where),
            _ptr(n_dev, _I64),
            _ptr(gaps, _I64),
            len(rows[0]),
            *(_ptr(v, _I64) for v in rows),
            int(step),
            float(distance),
            float(stop_speed),
            _ptr(og, _I64),
            cap,
            _ptr(i_occ, _I64),
            _ptr(i_t, _I64),
            _ptr(i_mx, _F64),
            _ptr(i_my, _F64),
            _ptr(i_dt, _I64),
            _ptr(i_stopped, _I8),
            _ptr(n_samples, _I64),
            _ptr(min_d, _F64),
            _ptr(med_d, _F64),
            _ptr(n_points, _I64),
            _ptr(med_x, _F64),
            _ptr(med_y, _F64),
            _ptr(sum_dt, _I64),
            _ptr(stopped_dt, _I64),
            _ptr(n_stopped, _I64),
        )
    )
    if found == -1:
        raise MemoryError("the compiled samples ran out of memory")
    if found < 0:
        raise RuntimeError("the compiled samples found more instants than samples")
    points = (
        i_occ[:found],
        i_t[:found],
        i_mx[:found],
        i_my[:found],
        i_dt[:found],
        i_stopped[:found].view(bool),
    )
    return points, (n_samples, min_d, med_d, n_points, med_x, med_y, sum_dt, stopped_dt, n_stopped)


def premises(
    chunks: list[tuple[np.ndarray, ...]],
    places: tuple[np.ndarray, ...],
    cells: tuple[float, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]] | None:
    """analysis.reasons' premises finding compiled (`wa_premises` in _native.c): the runs
    (occ, start, end) and the visits (occ, place, t0, t1, dt summed, largest distance);
    None when the library (or this function in it) is missing or the instants are out of
    order (the numpy path then).

    chunks: the instants' (occ, t, dt, x, y), chunk after chunk, in (occ, t) order (read
    in place); places: x, y, reach, group; cells: size and (cell x, cell y, place) sorted."""
    lib = _library()
    if lib is None or not hasattr(lib, "wa_premises"):
        return None
    cols = [
        [np.ascontiguousarray(v, np.int64) for v in c[:3]]
        + [np.ascontiguousarray(v, np.float64) for v in c[3:]]
        for c in chunks
    ]
    where = [np.array([c[k].ctypes.data for c in cols], np.int64) for k in range(5)]
    sizes = np.array([len(c[0]) for c in cols], np.int64)
    px, py, reach = (np.ascontiguousarray(v, np.float64) for v in places[:3])
    group = np.ascontiguousarray(places[3], np.int64)
    cx, cy, cp = (np.ascontiguousarray(v, np.int64) for v in cells[1:])
    n = int(sizes.sum())
    counts = np.zeros(2, np.int64)
    runs = [np.empty(n, np.int64) for _ in range(3)]
    most = int(np.unique(np.stack([cx, cy]), axis=1, return_counts=True)[1].max()) if len(cx) else 1
    for cap in (n, n * most):  # (visits: at most one per instant and group it is at)
        visits = [np.empty(cap, np.int64) for _ in range(5)]
        v_max = np.empty(cap, np.float64)
        status = int(
            lib.wa_premises(
                len(cols),
                _ptr(sizes, _I64),
                *(_ptr(v, _I64) for v in where),
                *(_ptr(v, _F64) for v in (px, py, reach)),
                _ptr(group, _I64),
                int(group.max()) + 1 if len(group) else 0,
                float(cells[0]),
                len(cx),
                *(_ptr(v, _I64) for v in (cx, cy, cp)),
                _ptr(counts, _I64),
                *(_ptr(v, _I64) for v in runs),
                cap,
                *(_ptr(v, _I64) for v in visits),
                _ptr(v_max, _F64),
            )
        )
        if status != -2:
            break
    if status == -1:
        raise MemoryError("the compiled premises ran out of memory")
    if status < 0:
        return None
    n_runs, n_visits = int(counts[0]), int(counts[1])
    return (
        tuple(v[:n_runs] for v in runs),
        (*(v[:n_visits] for v in visits), v_max[:n_visits]),
    )


__all__ = [
    "available",
    "candidate_pairs",
    "enabled",
    "kernel",
    "overlap_pairs",
    "premises",
    "sample_occasions",
    "union",
]
