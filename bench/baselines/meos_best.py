"""Baseline: MEOS at its best (issue 20), through pymeos_cffi's C functions, no text parsing.

1. Each device's fixes (numpy, sorted by time) become one TGeomPointSeqSet: one
   `tpointseq_make_coords` sequence (linear) per run of fixes at most max_gap apart,
   joined with `tsequenceset_make`.
2. Its boxes: `tgeo_split_each_n_stboxes(track, 8)`, one STBox per 8 segments.
3. Candidate box pairs of different devices whose time spans meet and whose boxes meet
   once expanded by the distance: a DuckDB join on 500 m cells × 10-minute buckets (each box
   listed in every cell and bucket it touches; a pair kept once, by DISTINCT).
4. Per device pair, the union of the candidate boxes' common periods; both tracks are
   restricted to it (`temporal_at_tstzspanset`), then `tdwithin_tgeo_tgeo` and
   `tbool_when_true` give the within-distance spans; zero-length spans are dropped.
5. Merged across gaps ≤ merge_gap and kept when ≥ min_duration, in numpy.

Reading the Parquet input is included in the time. MEOS keeps times as µs from 2000-01-01.
"""

from __future__ import annotations

import itertools

import cffi
import numpy as np
import pyarrow.parquet as pq

PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix µs
CELL_M = 500.0
BUCKET_US = 600_000_000
BOXES_OF = 8

_STBOX = np.dtype({"names": ["tmin", "tmax", "xmin", "ymin", "xmax", "ymax"],
                   "formats": ["<i8", "<i8", "<f8", "<f8", "<f8", "<f8"],
                   "offsets": [8, 16, 24, 32, 48, 56], "itemsize": 80})
_SPAN = np.dtype({"names": ["lower", "upper"], "formats": ["<i8", "<i8"],
                  "offsets": [8, 16], "itemsize": 24})

_c = cffi.FFI()
_c.cdef("void free(void *);")
_libc = _c.dlopen(None)


def _free(ffi: object, ptr: object) -> None:
    if ptr is not None:
        _libc.free(_c.cast("void *", int(ffi.cast("uintptr_t", ptr))))  # type: ignore[attr-defined]


def _tracks(dev: np.ndarray, us: np.ndarray, x: np.ndarray, y: np.ndarray, gap_us: int
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
            seqs.append(_lib.tpointseq_make_coords(  # a TSequence *
                _ffi.cast("const double *", _ffi.from_buffer(xs)),
                _ffi.cast("const double *", _ffi.from_buffer(ys)), _ffi.NULL,
                _ffi.cast("const TimestampTz *", _ffi.from_buffer(ts)), b - a, 27700, False,
                True, True, _lib.LINEAR, True))
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
        part = np.empty(n, [("dev", "<i8"), *[(f, rec.dtype[f]) for f in rec.dtype.names]])
        part["dev"] = code
        for f in rec.dtype.names:
            part[f] = rec[f]
        parts.append(part)
    return np.concatenate(parts)


def _candidate_periods(boxes: np.ndarray, d: float) -> tuple[np.ndarray, ...]:
    """(device a, device b, common start, common end) of every candidate box pair (DuckDB)."""
    import duckdb

    con = duckdb.connect()
    con.sql("SET threads TO 2")
    cols = {f: boxes[f] for f in boxes.dtype.names}
    cols["id"] = np.arange(len(boxes))
    for name, lo_, hi_, unit in (("cx", "xmin", "xmax", CELL_M), ("cy", "ymin", "ymax", CELL_M)):
        cols[name + "0"] = np.floor((boxes[lo_] - d / 2) / unit).astype(np.int64)
        cols[name + "1"] = np.floor((boxes[hi_] + d / 2) / unit).astype(np.int64)
    cols["tb0"], cols["tb1"] = boxes["tmin"] // BUCKET_US, boxes["tmax"] // BUCKET_US
    con.register("boxes", cols)
    rows = con.sql(f"""
        WITH a AS (SELECT *, unnest(range(cx0, cx1 + 1)) AS cx FROM boxes),
             b AS (SELECT *, unnest(range(cy0, cy1 + 1)) AS cy FROM a),
             k AS (SELECT id, dev, tmin, tmax, xmin, ymin, xmax, ymax, cx, cy,
                          unnest(range(tb0, tb1 + 1)) AS tb FROM b),
             pairs AS (
               SELECT DISTINCT p.id AS i, q.id AS j, p.dev AS da, q.dev AS db,
                      greatest(p.tmin, q.tmin) AS lo, least(p.tmax, q.tmax) AS hi
               FROM k p JOIN k q
                 ON p.cx = q.cx AND p.cy = q.cy AND p.tb = q.tb AND p.dev < q.dev
               WHERE p.tmin <= q.tmax AND q.tmin <= p.tmax
                 AND p.xmin - {d} <= q.xmax AND q.xmin - {d} <= p.xmax
                 AND p.ymin - {d} <= q.ymax AND q.ymin - {d} <= p.ymax)
        SELECT da, db, lo, hi FROM pairs ORDER BY da, db, lo, hi""").fetchnumpy()
    con.close()
    return rows["da"], rows["db"], rows["lo"], rows["hi"]


def _union(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted spans joined where they meet or overlap."""
    reach = np.maximum.accumulate(hi)
    new = np.ones(len(lo), bool)
    new[1:] = lo[1:] > reach[:-1]
    starts = np.flatnonzero(new)
    return lo[starts], np.maximum.reduceat(hi, starts)


def _merge(spans: dict[tuple[int, int], list[tuple[int, int]]], merge_us: int, min_us: int,
           names: np.ndarray) -> list[tuple[str, str, float, float]]:
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
                out.append((str(names[a]), str(names[b]), (st + PG_EPOCH_US) / 1e6,
                            (en + PG_EPOCH_US) / 1e6))
    return sorted(out)


def encounters(path: str, distance_m: float, max_gap_s: float, merge_gap_s: float,
               min_duration_s: float) -> list[tuple[str, str, float, float]]:
    """(device_a, device_b, start s, end s) of every encounter, via MEOS at its best."""
    import pymeos
    from pymeos_cffi.functions import _ffi, _lib

    pymeos.pymeos_initialize("UTC")
    t = pq.read_table(path, columns=["device_id", "time", "x", "y"])
    names, codes = np.unique(np.asarray(t["device_id"].to_numpy(zero_copy_only=False)),
                             return_inverse=True)
    us = t["time"].cast("int64").to_numpy()
    x, y = t["x"].to_numpy(), t["y"].to_numpy()
    order = np.lexsort((us, codes))
    dev, us, x, y = codes[order], us[order], x[order], y[order]
    tracks = _tracks(dev, us, x, y, round(max_gap_s * 1e6))
    da, db, lo, hi = _candidate_periods(_boxes(tracks), distance_m)
    # one template span, so the span type codes are MEOS's own
    template = np.frombuffer(_ffi.buffer(_lib.tstzspan_make(0, 1, True, True), 24), np.uint8)
    pair_start = np.flatnonzero(np.diff(da * len(names) + db, prepend=-1))
    pair_end = np.append(pair_start[1:], len(da))
    spans: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for p0, p1 in zip(pair_start.tolist(), pair_end.tolist(), strict=True):
        ulo, uhi = _union(lo[p0:p1], hi[p0:p1])
        raw = np.zeros((len(ulo), 24), np.uint8)
        raw[:] = template
        view = raw.view(_SPAN).reshape(-1)
        view["lower"], view["upper"] = ulo, uhi
        ss = _lib.spanset_make_exp(_ffi.cast("Span *", _ffi.from_buffer(raw)), len(ulo),
                                   len(ulo), True, True)
        a, b = int(da[p0]), int(db[p0])
        ta = _lib.temporal_at_tstzspanset(tracks[a], ss)
        tb = _lib.temporal_at_tstzspanset(tracks[b], ss)
        _free(_ffi, ss)
        if ta == _ffi.NULL or tb == _ffi.NULL:
            _free(_ffi, ta)
            _free(_ffi, tb)
            continue
        within = _lib.tdwithin_tgeo_tgeo(ta, tb, distance_m, False, False)
        _free(_ffi, ta)
        _free(_ffi, tb)
        if within == _ffi.NULL:
            continue
        when = _lib.tbool_when_true(within)
        _free(_ffi, within)
        if when == _ffi.NULL:
            continue
        got = np.frombuffer(_ffi.buffer(_ffi.addressof(when.elems[0]), 24 * when.count),
                            _SPAN)
        keep = got["upper"] > got["lower"]  # zero-length spans dropped
        if keep.any():
            spans.setdefault((a, b), []).extend(
                zip(got["lower"][keep].tolist(), got["upper"][keep].tolist(), strict=True))
        _free(_ffi, when)
    for track in tracks:
        _free(_ffi, track)
    return _merge(spans, round(merge_gap_s * 1e6), round(min_duration_s * 1e6), names)
