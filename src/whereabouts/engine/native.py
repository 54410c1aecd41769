"""The engine's compiled candidate search and kernel (engine/_native.c), through ctypes.

Built at install as an optional extension (setup.py; scripts/setup.sh installs gcc). When it
is missing, or WHEREABOUTS_NATIVE=0, the engine uses its numpy path: the same pairs, so the
same results bit for bit (tests/test_engine_native.py), only slower. Loading it costs a
ctypes import and one dlopen (milliseconds), not a compiler or a JIT.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from functools import cache

import numpy as np

_I64 = ctypes.POINTER(ctypes.c_int64)
_F64 = ctypes.POINTER(ctypes.c_double)
_U8 = ctypes.POINTER(ctypes.c_uint8)


@cache
def _library() -> ctypes.CDLL | None:
    spec = importlib.util.find_spec("whereabouts.engine._native")
    if spec is None or spec.origin is None:
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
    except OSError:
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
    fn.restype = None
    fn.argtypes = [
        ctypes.c_int64,
        _I64,
        _I64,
        _I64,
        _I64,
        _F64,
        _F64,
        _F64,
        _F64,
        _F64,
        _F64,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_double,
        ctypes.c_int,
        _I64,
        _I64,
        _U8,
        _F64,
    ]
    return lib


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
    cap = 4 * len(t0) + 1024
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each candidate pair's piece of each kind (engine.partition's numpy code, compiled).

    Returns (start µs, end µs, found) with one column per kind (0 within, 1 certain,
    2 possible; only `kinds` are computed), and the within piece's smallest distance.
    """
    lib = _library()
    if lib is None:
        raise RuntimeError("the compiled engine is not installed")
    n = len(ia)
    start, end = np.zeros((n, 3), np.int64), np.zeros((n, 3), np.int64)
    found, mind = np.zeros((n, 3), np.uint8), np.empty(n, np.float64)
    ints = [np.ascontiguousarray(v, np.int64) for v in (ia, ib, t0, t1)]
    floats = [np.ascontiguousarray(v, np.float64) for v in (x0, y0, e0, vx, vy, ve)]
    lib.wa_kernel(
        n,
        *(_ptr(v, _I64) for v in ints),
        *(_ptr(v, _F64) for v in floats),
        int(window[0]),
        int(window[1]),
        float(d),
        sum(1 << k for k in set(kinds)),
        _ptr(start, _I64),
        _ptr(end, _I64),
        _ptr(found, _U8),
        _ptr(mind, _F64),
    )
    return start, end, found.view(bool), mind


__all__ = ["available", "candidate_pairs", "enabled", "kernel"]
