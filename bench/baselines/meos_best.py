"""Baseline: MEOS at its best (issue 20), through pymeos_cffi's C functions, no text parsing.

1. Each device's fixes (numpy, sorted by time) become one TGeomPointSeqSet: one
   `tpointseq_make_coords` sequence (linear) per run of fixes at most max_gap apart,
   joined with `tsequenceset_make`.
2. Its boxes: `tgeo_split_each_n_stboxes(track, 8)`, one STBox per 8 segments.
3. Candidate box pairs of different devices whose time spans meet and whose boxes meet
   once expanded by the distance: a grid join in numpy (each box listed in every cell and
   bucket it touches, each pair kept once). A box of 8 segments spans about 1.5 km here, so
   1 km cells × 5-minute buckets were the fastest (500 m × 10 min took 3× longer; a DuckDB
   join on the same keys took longer still).
4. Per device pair, the union of the candidate boxes' common periods; both tracks are
   restricted to it (`temporal_at_tstzspanset`), then `tdwithin_tgeo_tgeo` and
   `tbool_when_true` give the within-distance spans; zero-length spans are dropped.
5. Merged across gaps ≤ merge_gap and kept when ≥ min_duration, in numpy.

Reading the Parquet input is included in the time. MEOS keeps times as µs from 2000-01-01.
"""

from __future__ import annotations

import ctypes
import itertools

import numpy as np
import pyarrow.parquet as pq

PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix µs
CELL_M = 1000.0
BUCKET_US = 300_000_000
BOXES_OF = 8

_STBOX = np.dtype(
    {
        "names": ["tmin", "tmax", "xmin", "ymin", "xmax", "ymax"],
        "formats": ["<i8", "<i8", "<f8", "<f8", "<f8", "<f8"],
        "offsets": [8, 16, 24, 32, 48, 56],
        "itemsize": 80,
    }
)
_SPAN = np.dtype(
    {"names": ["lower", "upper"], "formats": ["<i8", "<i8"], "offsets": [8, 16], "itemsize": 24}
)

_libc_free = ctypes.CDLL(None).free
_libc_free.argtypes = [ctypes.c_void_p]
_libc_free.restype = None


def _free(ffi: object, ptr: object) -> None:
    """free() a MEOS result (pymeos_cffi's own FFI declares no free)."""
    _libc_free(int(ffi.cast("uintptr_t", ptr)))  # type: ignore[attr-defined]


def _tracks(
    dev: np.ndarray, us: np.ndarray, x: np.ndarray, y: np.ndarray, gap_us: int
) -> list[object]:
    """One TGeomPointSeqSet per device (codes 0..n-1), sequences split at gaps > max gap."""
    from pymeos_cffi.functions import _ffi, _lib

    tracks = []
    t = us - PG_EPOCH_US
    starts = np.flatnonzero(np.diff(dev, prepend=-1))
    ends = np.append(starts[1:], len(dev))
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        cut = np.flatnonzero(np.diff(t[lo:hi]) > gap_us) + 1 + lo
        bounds = [lo, *cut.tolist(), hi]
        seqs = []
        for a, b in itertools.pairwise(bounds):
            xs, ys, ts = (np.ascontiguousarray(v[a:b]) for v in (x, y, t))
            seqs.append(
                _lib.tpointseq_make_coords(  # a TSequence *
                    _ffi.cast("const double *", _ffi.from_buffer(xs)),
                    _ffi.cast("const double *", _ffi.from_buffer(ys)),
                    _ffi.NULL,
                    _ffi.cast("const TimestampTz *", _ffi.from_buffer(ts)),
                    b - a,
                    27700,
                    False,
                    True,
                    True,
                    _lib.LINEAR,
                    True,
                )
            )
        arr = _ffi.new("TSequence *[]", seqs)
        tracks.append(_ffi.cast("Temporal *", _lib.tsequenceset_make(arr, len(seqs), True)))
        for s in seqs:
            _free(_ffi, s)
    return tracks


def _boxes(tracks: list[object]) -> np.ndarray:
    """Every track's STBoxes (one per BOXES_OF segments) with the device code."""
    from pymeos_cffi.functions import _ffi, _lib

    parts = []
    for code, track in enumerate(tracks):
        count = _ffi.new("int *")
        ptr = _lib.tgeo_split_each_n_stboxes(track, BOXES_OF, count)
        n = count[0]
        rec = np.frombuffer(_ffi.buffer(ptr, _STBOX.itemsize * n), _STBOX).copy()
        _free(_ffi, ptr)
        names = rec.dtype.names or ()
        part = np.empty(n, [("dev", "<i8"), *[(f, rec.dtype[f]) for f in names]])
        part["dev"] = code
        for f in names:
            part[f] = rec[f]
        parts.append(part)
    return np.concatenate(parts)


def _candidate_periods(boxes: np.ndarray, d: float) -> tuple[np.ndarray, ...]:
    """(device a, device b, common start, common end) of every candidate box pair, sorted.

    A grid join on CELL_M cells × BUCKET_US buckets, vectorised in numpy (whereabouts'
    own `candidate_pairs`, which lists each pair of boxes that meet exactly once); it was
    several times faster than the same join in DuckDB here.
    """
    from whereabouts.engine.candidates import candidate_pairs

    half = d / 2
    i, j = candidate_pairs(
        boxes["dev"],
        boxes["tmin"],
        boxes["tmax"],
        xmin=boxes["xmin"] - half,
        ymin=boxes["ymin"] - half,
        xmax=boxes["xmax"] + half,
        ymax=boxes["ymax"] + half,
        cell=CELL_M,
        bucket=BUCKET_US,
    )
    da, db = boxes["dev"][i], boxes["dev"][j]
    lo = np.maximum(boxes["tmin"][i], boxes["tmin"][j])
    hi = np.minimum(boxes["tmax"][i], boxes["tmax"][j])
    order = np.lexsort((hi, lo, db, da))
    return da[order], db[order], lo[order], hi[order]


def _union_per_pair(
    pair: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spans sorted by (pair, lo) joined where they meet, per pair, all pairs at once."""
    base = int(lo.min()) if len(lo) else 0
    width = int(hi.max()) - base + 1 if len(hi) else 1
    shift = pair.astype(np.int64) * width  # pairs apart, so one running max serves all
    reach = np.maximum.accumulate(hi - base + shift)
    new = np.ones(len(lo), bool)
    new[1:] = (lo[1:] - base + shift[1:]) > reach[:-1]
    starts = np.flatnonzero(new)
    return pair[starts], lo[starts], np.maximum.reduceat(hi, starts)


def _merge(
    spans: dict[tuple[int, int], list[tuple[int, int]]],
    merge_us: int,
    min_us: int,
    names: np.ndarray,
) -> list[tuple[str, str, float, float]]:
    out = []
    for (a, b), sp in spans.items():
        s = np.array(sorted(sp), np.int64)
        reach = np.maximum.accumulate(s[:, 1])
        new = np.ones(len(s), bool)
        new[1:] = s[1:, 0] > reach[:-1] + merge_us
        first = np.flatnonzero(new)
        starts, ends = s[first, 0], np.maximum.reduceat(s[:, 1], first)
        for st, en in zip(starts.tolist(), ends.tolist(), strict=True):
            if en - st >= min_us:
                out.append(
                    (
                        str(names[a]),
                        str(names[b]),
                        (st + PG_EPOCH_US) / 1e6,
                        (en + PG_EPOCH_US) / 1e6,
                    )
                )
    return sorted(out)


def encounters(
    path: str, distance_m: float, max_gap_s: float, merge_gap_s: float, min_duration_s: float
) -> list[tuple[str, str, float, float]]:
    """(device_a, device_b, start s, end s) of every encounter, via MEOS at its best."""
    import pymeos
    from pymeos_cffi.functions import _ffi, _lib

    pymeos.pymeos_initialize("UTC")
    t = pq.read_table(path, columns=["device_id", "time", "x", "y"])
    names, codes = np.unique(
        np.asarray(t["device_id"].to_numpy(zero_copy_only=False)), return_inverse=True
    )
    us = t["time"].cast("int64").to_numpy()
    x, y = t["x"].to_numpy(), t["y"].to_numpy()
    order = np.lexsort((us, codes))
    dev, us, x, y = codes[order], us[order], x[order], y[order]
    tracks = _tracks(dev, us, x, y, round(max_gap_s * 1e6))
    da, db, lo, hi = _candidate_periods(_boxes(tracks), distance_m)
    pair = np.cumsum(np.diff(da * len(names) + db, prepend=-1) != 0) - 1
    upair, ulo, uhi = _union_per_pair(pair, lo, hi)
    # every pair's spans in one buffer of MEOS Spans (type codes copied from a real one)
    template = np.frombuffer(_ffi.buffer(_lib.tstzspan_make(0, 1, True, True), 24), np.uint8)
    raw = np.empty((len(ulo), 24), np.uint8)
    raw[:] = template
    view = raw.view(_SPAN).reshape(-1)
    view["lower"], view["upper"] = ulo, uhi
    all_spans = _ffi.cast("Span *", _ffi.from_buffer(raw))
    first = np.flatnonzero(np.diff(upair, prepend=-1))
    counts = np.diff(np.append(first, len(upair)))
    pa_, pb_ = da[np.searchsorted(pair, upair[first])], db[np.searchsorted(pair, upair[first])]
    spans: dict[tuple[int, int], list[tuple[int, int]]] = {}
    null = _ffi.NULL
    at, dwithin, when_true = (
        _lib.temporal_at_tstzspanset,
        _lib.tdwithin_tgeo_tgeo,
        _lib.tbool_when_true,
    )
    for f, n, a, b in zip(first.tolist(), counts.tolist(), pa_.tolist(), pb_.tolist(), strict=True):
        ss = _lib.spanset_make_exp(all_spans + f, n, n, True, True)
        ta = at(tracks[a], ss)
        tb = at(tracks[b], ss)
        _free(_ffi, ss)
        within = null
        if null not in (ta, tb):
            within = dwithin(ta, tb, distance_m, False, False)
        for p in (ta, tb):
            if p != null:
                _free(_ffi, p)
        if within == null:
            continue
        when = when_true(within)
        _free(_ffi, within)
        if when == null:
            continue
        got = np.frombuffer(_ffi.buffer(_ffi.addressof(when.elems[0]), 24 * when.count), _SPAN)
        keep = got["upper"] > got["lower"]  # zero-length spans dropped
        if keep.any():
            spans.setdefault((a, b), []).extend(
                zip(got["lower"][keep].tolist(), got["upper"][keep].tolist(), strict=True)
            )
        _free(_ffi, when)
    for track in tracks:
        _free(_ffi, track)
    return _merge(spans, round(merge_gap_s * 1e6), round(min_duration_s * 1e6), names)
