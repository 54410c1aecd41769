"""Encounters: the engine's embedded backend, streaming window by window.

Fixes arrive one chunk (a day) at a time; each time window is handed to the kernel with
`max_gap` of fixes either side, and the fixes still needed by the next window are carried
over, so memory stays flat however long the period. The kernel's periods, clipped to their
windows, are stitched with `periods.union` (an encounter spanning a window edge is one
encounter), merged across gaps of at most `merge_gap`, and kept when they last at least
`min_duration` (DESIGN.md "Semantics").

`certain_s` and `possible_s` are measured in integer µs (`periods.overlap_us`) and divided
by 10⁶ once, so they are the same bits however the stream was batched — and the same as the
Spark backend's, which uses `encounters_table`, `raw_periods_table`, `auto_window_us` and
`metadata` from here.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from whereabouts import __version__, progress
from whereabouts.engine.params import EncounterParams
from whereabouts.engine.partition import kernel_arrays
from whereabouts.engine.periods import (
    CERTAIN,
    KIND_NAMES,
    POSSIBLE,
    WITHIN,
    Periods,
    overlap_us,
    union,
)
from whereabouts.engine.source import FixesSource, open_source
from whereabouts.errors import NoDataError, ParameterError
from whereabouts.parallel import beside, can_fork
from whereabouts.schema import ENCOUNTERS, UTC_TS
from whereabouts.tracks.track import Fixes, clean, fixes_from_table

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

WINDOW_S = 3600.0
TARGET_FIXES = 250_000  # fixes per window worth one kernel call
FORK_FIXES = 500_000  # find_encounters runs a chunk's windows in two processes from here

RAW_PERIODS = pa.schema(
    [
        pa.field("device_a", pa.string(), nullable=False),
        pa.field("device_b", pa.string(), nullable=False),
        pa.field("start", UTC_TS, nullable=False),
        pa.field("end", UTC_TS, nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
        pa.field("min_distance_m", pa.float64()),
    ]
)


@dataclass(frozen=True)
class Run:
    """All periods of a run (device codes index `ids`), and what it was made from."""

    periods: Periods
    ids: np.ndarray
    crs: str
    fixes: int
    duplicates: int
    finished: Periods = field(default_factory=Periods.empty)  # encounters closed early
    finished_certain_us: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    finished_possible_us: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


def _concat_fixes(a: Fixes | None, b: Fixes) -> Fixes:
    if a is None or len(a) == 0:
        return b
    ids = np.union1d(a.ids.astype(str), b.ids.astype(str)).astype(object)
    ra = np.searchsorted(ids, a.ids.astype(str)).astype(np.int32)
    rb = np.searchsorted(ids, b.ids.astype(str)).astype(np.int32)
    return Fixes(
        ids,
        np.concatenate([ra[a.device], rb[b.device]]),
        *(np.concatenate([getattr(a, f), getattr(b, f)]) for f in ("t", "x", "y", "accuracy")),
    )


def _clean(fixes: Fixes) -> tuple[Fixes, int]:
    """`clean`, without its sorts of every fix when the fixes are already in (device, time)
    order, as a workspace returns them: the same fixes, order and count dropped.

    clean's first sort then keeps the order; its second, run when a device has two fixes at
    one instant, only reorders each such run of ties by (x, y, accuracy), so only the tied
    fixes are sorted here, and the first of each run is kept as clean keeps it.
    """
    d, t = fixes.device, fixes.t
    if len(t) < 2:
        return clean(fixes)
    same = d[1:] == d[:-1]
    if not bool(((d[1:] > d[:-1]) | (same & (t[1:] >= t[:-1]))).all()):
        return clean(fixes)
    tie = same & (t[1:] == t[:-1])
    if not tie.any():
        return fixes, 0
    tied = np.zeros(len(t), bool)
    tied[:-1] |= tie
    tied[1:] |= tie
    idx = np.flatnonzero(tied)  # runs of ties, each a contiguous block in (device, time) order
    order = np.arange(len(t))
    order[idx] = idx[np.lexsort((fixes.accuracy[idx], fixes.y[idx], fixes.x[idx], t[idx], d[idx]))]
    keep = np.ones(len(t), bool)
    keep[1:] = ~tie  # the runs of ties stay where they were: one take of the kept
    kept = order[keep]
    return fixes.take(kept), int(len(t) - len(kept))


def auto_window_us(fixes: int, first_us: int, last_us: int) -> int:
    """The automatic time window (µs) for data with `fixes` fixes from first_us to last_us.

    An hour; longer when the data are sparse (a few devices), so that a window holds about
    `TARGET_FIXES` fixes; at most a week. The embedded engine applies it to its first chunk
    (a day when the input is partitioned by day), the Spark backend to the same day.
    """
    per_hour = fixes / max((last_us - first_us) / 3.6e9, 1.0)
    return round(3.6e9 * min(max(TARGET_FIXES / per_hour, 1.0), 168.0))


def check_device_sets(devices: Sequence[str] | None, one_to_many: Sequence[str] | None) -> None:
    """Refuse a --devices set of fewer than two, or an empty --one-to-many."""
    if devices is not None and len(set(devices)) < 2:
        raise ParameterError(
            "--devices needs at least two devices to pair",
            hint="list two or more device ids, e.g. --devices RV21,RV34; "
            "or use --one-to-many RV21 to pair one device with all",
        )
    if one_to_many is not None and len(set(one_to_many)) < 1:
        raise ParameterError(
            "--one-to-many needs at least one device", hint="e.g. --one-to-many RV21"
        )


def _compact(
    parts: list[Periods], cutoff: int, params: EncounterParams
) -> tuple[Periods, Periods, np.ndarray, np.ndarray]:
    """Close the encounters that no later period can extend (they end before `cutoff`).

    Returns the periods still needed (those of open encounters, later ones, instants), and
    the closed encounters long enough to keep, with their certain and possible µs.
    Keeps memory flat: a month of brief passes is not held until the end.
    """
    p = union(Periods.concat(parts), 1)
    enc = encounters_from_run(Run(p, np.empty(0), "", 0, 0), params, keep_short=True)
    closed = enc.end < cutoff
    open_enc = enc.take(np.flatnonzero(~closed))
    long_enough = (enc.end - enc.start) >= round(params.min_duration_s * 1e6)
    done = enc.take(np.flatnonzero(closed & long_enough))
    certain = overlap_us(done, p.of_kind(CERTAIN))
    possible = overlap_us(done, p.of_kind(POSSIBLE))
    # widened by 1 µs so that instants inside an open encounter count as overlapping it
    widened = Periods(p.kind, p.a, p.b, p.start - 1, p.end + 1, p.min_distance)
    needed = (p.end >= cutoff) | (overlap_us(widened, open_enc) > 0)
    return p.take(np.flatnonzero(needed)), done, certain, possible


class _Rows:
    """The fixes of a time span, found in fixes sorted by (device, time): each device's are
    one run of rows, found by a binary search of a packed (device, time) key."""

    def __init__(self, data: Fixes) -> None:
        self.t = data.t
        self.key: np.ndarray | None = None
        if len(data) == 0:
            return
        self.t0 = int(data.t.min())
        self.span = int(data.t.max()) - self.t0 + 1
        codes = np.unique(data.device).astype(np.int64)
        if self.span * (int(codes[-1]) + 1) < 2**62:
            self.key = data.device.astype(np.int64) * self.span + (data.t - self.t0)
            self.base = codes * self.span

    def between(self, lo: int, hi: int) -> np.ndarray:
        """Indices (ascending: in (device, time) order) of the fixes with lo <= t <= hi."""
        if self.key is None:  # keys too wide to pack (or no fixes): a scan of every fix
            return np.flatnonzero((self.t >= lo) & (self.t <= hi))
        lo, hi = max(lo - self.t0, 0), min(hi - self.t0, self.span - 1)
        if lo > hi:
            return np.empty(0, np.int64)
        first = np.searchsorted(self.key, self.base + lo, side="left")
        count = np.searchsorted(self.key, self.base + hi, side="right") - first
        start = np.cumsum(count) - count  # where each device's rows go in the result
        rows: np.ndarray = np.arange(int(count.sum()), dtype=np.int64)
        rows += np.repeat(first - start, count)
        return rows


def _window_kernels(
    data: Fixes,
    rows: _Rows,
    tasks: list[tuple[int, int, int]],
    win: int,
    params: EncounterParams,
    *,
    focus: np.ndarray | None,
    kinds: tuple[int, ...],
    queue: Synchronized[int] | None = None,
) -> dict[int, Periods]:
    """The kernel over (window start, first, end) tasks, by their index in `tasks`.

    queue: a shared counter of the tasks taken (largest first); each process takes the next
    one until none is left. None: every task, here.
    """
    order = np.argsort([nxt - end for _, nxt, end in tasks], kind="stable")

    def taken() -> Iterator[int]:
        if queue is None:
            yield from range(len(tasks))
            return
        while True:
            with queue.get_lock():
                k = queue.value
                queue.value += 1
            if k >= len(tasks):
                return
            yield k

    out = {}
    gap = round(params.max_gap_s * 1e6)  # each window's fixes: max_gap either side
    for k in taken():
        i = int(order[k])
        w, _, _ = tasks[i]
        out[i] = kernel_arrays(
            data.take(rows.between(w - gap, w + win + gap)),
            params,
            window=(w, w + win),
            focus=focus,
            presorted=True,
            kinds=kinds,
        )
    return out


def _kernels(
    data: Fixes,
    rows: _Rows,
    tasks: list[tuple[int, int, int]],
    win: int,
    params: EncounterParams,
    *,
    focus: np.ndarray | None,
    workers: int,
    kinds: tuple[int, ...] = (WITHIN, CERTAIN, POSSIBLE),
) -> list[Periods]:
    """The kernel's periods of every window of `tasks`, in the order of `tasks`.

    workers = 2: this process and a forked one beside it take the windows in turn, the
    largest first, each the next one left when it is free, so both stay busy to the end.
    Each window's kernel sees the same fixes either way and the results are put back in
    window order, so the periods are the same bits.
    """
    if workers < 2 or len(tasks) < 2 or not can_fork():
        done = _window_kernels(data, rows, tasks, win, params, focus=focus, kinds=kinds)
    else:
        queue = multiprocessing.get_context("fork").Value("q", 0)
        turns = partial(  # both processes take windows from the same queue
            _window_kernels,
            data,
            rows,
            tasks,
            win,
            params,
            focus=focus,
            kinds=kinds,
            queue=queue,
        )
        with beside(turns) as theirs:
            done = turns()
            done.update(theirs())
    return [done[i] for i in range(len(tasks))]


def _window_tasks(
    times: np.ndarray, w: int, limit: int, win: int, gap: int
) -> tuple[list[tuple[int, int, int]], int]:
    """The windows from `w` up to `limit` that have fixes near them, as (window start, first
    fix, end fix) of the sorted `times`; and the next window's start."""
    tasks: list[tuple[int, int, int]] = []
    while w <= limit:
        nxt = int(np.searchsorted(times, w - gap))
        if nxt == len(times):  # nothing left here; later chunks skip ahead themselves
            break
        if times[nxt] > w + win + gap:  # nothing near this window: skip ahead
            w = max(w + win, int((times[nxt] - gap) // win * win) - win)
            continue
        end = int(np.searchsorted(times, w + win + gap, side="right"))
        tasks.append((w, nxt, end))
        w += win
    return tasks, w


def run(
    source: FixesSource,
    params: EncounterParams,
    *,
    devices: Sequence[str] | None = None,
    one_to_many: Sequence[str] | None = None,
    crs: str | None = None,
    window_s: float | None = None,
    compact: bool = False,
    workers: int = 1,
    kinds: tuple[int, ...] = (WITHIN, CERTAIN, POSSIBLE),
) -> Run:
    """Every within/certain/possible period of the source, stitched across windows.

    window_s: the time window (default: an hour, longer when the data are sparse).
    compact: close encounters as the stream passes them (for `find_encounters`), so that
    only open ones are held; `Run.periods` is then only what was left at the end.
    workers: 2 runs a chunk's windows in two processes (same result; for a large table on
    a machine with a spare core); 0: two for a chunk of at least `FORK_FIXES` fixes, one
    for smaller ones.
    kinds: the kinds of period to find (all three by default; `compact` needs all three).
    Each kind's periods are the same whichever others are found.
    """
    if compact and set(kinds) != {WITHIN, CERTAIN, POSSIBLE}:
        raise ParameterError(
            "compact needs every kind of period",
            hint="leave kinds out: encounters measure all three",
        )
    check_device_sets(devices, one_to_many)
    auto_window = window_s is None
    window_s = WINDOW_S if window_s is None else window_s
    if window_s <= 0:
        raise ParameterError("window must be > 0 seconds", hint="e.g. 3600")
    src = open_source(source, devices=devices, crs=crs)
    out_crs = src.crs
    gap = round(params.max_gap_s * 1e6)
    win = round(window_s * 1e6)
    registry: dict[str, int] = {}
    parts: list[Periods] = []
    finished: list[tuple[Periods, np.ndarray, np.ndarray]] = []
    carry: Fixes | None = None
    w: int | None = None
    n_fixes = dups = 0
    focus_set = None if one_to_many is None else np.asarray(list(one_to_many), dtype=object)
    for chunk in progress.track(src.chunks, "Finding encounters (days)"):
        if chunk.table.num_rows:
            fresh, out_crs = fixes_from_table(chunk.table, out_crs, where=src.label)
            n_fixes += len(fresh)
            data, dropped = _clean(_concat_fixes(carry, fresh))
            dups += dropped
        elif carry is None:
            continue
        else:
            data = carry
        if len(data) == 0:
            continue
        times = np.sort(data.t, kind="stable")  # each device's in order: a merge of runs
        if w is None:
            if auto_window:  # sparse data (a few devices): longer windows, fewer kernel calls
                win = auto_window_us(len(times), int(times[0]), int(times[-1]))
            w = int(times[0] // win * win)
        limit = int(times[-1]) if chunk.end is None else chunk.end - gap - win
        codes = np.array(
            [registry.setdefault(i, len(registry)) for i in data.ids.tolist()], dtype=np.int64
        )
        focus = None if focus_set is None else np.isin(data.ids, focus_set)
        tasks, w = _window_tasks(times, w, limit, win, gap)
        chunk_workers = workers if workers else (2 if len(data) >= FORK_FIXES else 1)
        found = _kernels(
            data, _Rows(data), tasks, win, params, focus=focus, workers=chunk_workers, kinds=kinds
        )
        for p in found:
            parts.append(Periods(p.kind, codes[p.a], codes[p.b], p.start, p.end, p.min_distance))
        carry = data.take(np.flatnonzero(data.t >= w - gap))
        if compact and parts:
            kept, done, certain, possible = _compact(
                parts, w - round(params.merge_gap_s * 1e6), params
            )
            parts = [kept]
            finished.append((done, certain, possible))
    if n_fixes == 0:
        raise NoDataError(
            "no fixes to compare" + (" for those devices" if devices else ""),
            hint="check the input and the device ids given",
        )
    names = np.array(list(registry), dtype=object)
    order = np.argsort(names.astype(str), kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))

    def ranked(p: Periods) -> Periods:
        a, b = rank[p.a], rank[p.b]
        return Periods(p.kind, np.minimum(a, b), np.maximum(a, b), p.start, p.end, p.min_distance)

    allp = ranked(Periods.concat(parts))
    done = ranked(Periods.concat([f[0] for f in finished]))
    return Run(
        union(allp, 1),
        names[order],
        out_crs or "",
        n_fixes,
        dups,
        done,
        np.concatenate([np.empty(0, np.int64), *[f[1] for f in finished]]),
        np.concatenate([np.empty(0, np.int64), *[f[2] for f in finished]]),
    )


def metadata(
    params: EncounterParams,
    what: str,
    *,
    crs: str,
    fixes_read: int,
    duplicates_dropped: int,
    devices: Sequence[str] | None = None,
    one_to_many: Sequence[str] | None = None,
    backend: dict[str, Any] | None = None,
) -> dict[bytes, bytes]:
    """The Parquet schema metadata of an engine table (parameters, CRS, counts, version).

    what: "encounters" or "<kind> periods"; backend: how a non-embedded backend cut the
    work (recorded under "backend"). Example:
    ``table.replace_schema_metadata(metadata(params, "encounters", crs=..., fixes_read=n,
    duplicates_dropped=0))``
    """
    meta: dict[str, Any] = {
        "table": what,
        "params": params.as_metadata(),
        "crs": crs,
        "software": f"whereabouts {__version__}",
        "fixes_read": fixes_read,
        "duplicates_dropped": duplicates_dropped,
        "devices": sorted(devices) if devices else None,
        "one_to_many": sorted(one_to_many) if one_to_many else None,
    }
    if backend is not None:
        meta["backend"] = backend
    return {
        b"whereabouts": json.dumps(meta, sort_keys=True).encode(),
        b"whereabouts.crs": crs.encode(),
        b"whereabouts.version": __version__.encode(),
        **{f"whereabouts.{k}".encode(): v.encode() for k, v in params.as_metadata().items()},
    }


def _names(ids: np.ndarray, codes: np.ndarray) -> pa.Array:
    return pa.array(ids.tolist(), pa.string()).take(pa.array(codes, pa.int64()))


def _ts(us: np.ndarray) -> pa.Array:
    return pa.array(us, pa.int64()).cast(UTC_TS)


def encounters_from_run(r: Run, params: EncounterParams, *, keep_short: bool = False) -> Periods:
    """Merge the within periods across gaps ≤ merge_gap and keep those ≥ min_duration."""
    merged = union(r.periods.of_kind(WITHIN), round(params.merge_gap_s * 1e6))
    if keep_short:
        return merged
    keep = (merged.end - merged.start) >= round(params.min_duration_s * 1e6)
    return merged.take(np.flatnonzero(keep))


def find_encounters(
    source: FixesSource,
    params: EncounterParams | None = None,
    *,
    devices: Sequence[str] | None = None,
    one_to_many: Sequence[str] | None = None,
    crs: str | None = None,
    window_s: float | None = None,
    workers: int = 0,
) -> pa.Table:
    """Encounters between devices (schema.ENCOUNTERS, sorted by device_a, device_b, start).

    source: a fixes table, paths of canonical fixes files, or a workspace.
    devices: only pairs within this set. one_to_many: only pairs with one of these devices.
    workers: 1 or 2 processes for the kernels; 0 (default): two for a day of at least
    `FORK_FIXES` fixes when the machine has a spare core. The result is the same bits.
    Example: ``find_encounters("fixes.parquet", EncounterParams(distance_m=50))``
    """
    params = params or EncounterParams()
    r = run(
        source,
        params,
        devices=devices,
        one_to_many=one_to_many,
        crs=crs,
        window_s=window_s,
        compact=True,
        workers=workers,
    )
    last = encounters_from_run(r, params)
    enc = Periods.concat([r.finished, last])
    certain = np.concatenate([r.finished_certain_us, overlap_us(last, r.periods.of_kind(CERTAIN))])
    possible = np.concatenate(
        [r.finished_possible_us, overlap_us(last, r.periods.of_kind(POSSIBLE))]
    )
    table = encounters_table(r.ids, enc, certain, possible)
    return table.replace_schema_metadata(
        metadata(
            params,
            "encounters",
            crs=r.crs,
            fixes_read=r.fixes,
            duplicates_dropped=r.duplicates,
            devices=devices,
            one_to_many=one_to_many,
        )
    )


def _period_columns(ids: np.ndarray, p: Periods) -> dict[str, Any]:
    """The columns every period table starts with, in `p`'s row order."""
    return {
        "device_a": _names(ids, p.a),
        "device_b": _names(ids, p.b),
        "start": _ts(p.start),
        "end": _ts(p.end),
        "duration_s": (p.end - p.start) / 1e6,
        "min_distance_m": p.min_distance,
    }


def encounters_table(
    ids: np.ndarray, enc: Periods, certain_us: np.ndarray, possible_us: np.ndarray
) -> pa.Table:
    """Encounters (device codes index `ids`, which are in name order) as a schema.ENCOUNTERS
    table sorted by device_a, device_b, start; certain_us / possible_us: exact µs per
    encounter, divided by 10⁶ here, once. No metadata (see `metadata`)."""
    order = np.lexsort((enc.start, enc.b, enc.a))
    return pa.table(
        {
            **_period_columns(ids, enc.take(order)),
            "certain_s": np.asarray(certain_us, np.int64)[order] / 1e6,
            "possible_s": np.asarray(possible_us, np.int64)[order] / 1e6,
        },
        schema=ENCOUNTERS,
    )


def raw_periods_table(ids: np.ndarray, p: Periods) -> pa.Table:
    """Periods of one kind (device codes index `ids`, in name order) as a `RAW_PERIODS`
    table sorted by device_a, device_b, start. No metadata (see `metadata`)."""
    return pa.table(
        _period_columns(ids, p.take(np.lexsort((p.start, p.b, p.a)))),
        schema=RAW_PERIODS,
    )


def within_periods(
    source: FixesSource,
    params: EncounterParams | None = None,
    *,
    devices: Sequence[str] | None = None,
    one_to_many: Sequence[str] | None = None,
    crs: str | None = None,
    kind: Literal["within", "certain", "possible"] = "within",
    window_s: float | None = None,
    workers: int = 1,
) -> pa.Table:
    """The raw within-distance periods, before merging and the minimum duration.

    kind="certain" / "possible": the periods within distance even at worst-case position
    error / possibly within it given the error (accuracy_m). Sorted like encounters.
    """
    params = params or EncounterParams()
    if kind not in KIND_NAMES:
        raise ParameterError(f"unknown kind {kind!r}", hint=f"one of {', '.join(KIND_NAMES)}")
    code = KIND_NAMES.index(kind)
    r = run(
        source,
        params,
        devices=devices,
        one_to_many=one_to_many,
        crs=crs,
        window_s=window_s,
        workers=workers,
        kinds=(code,),
    )
    table = raw_periods_table(r.ids, r.periods.of_kind(code))
    return table.replace_schema_metadata(
        metadata(
            params,
            f"{kind} periods",
            crs=r.crs,
            fixes_read=r.fixes,
            duplicates_dropped=r.duplicates,
            devices=devices,
            one_to_many=one_to_many,
        )
    )


def write_parquet(table: pa.Table, path: str | Path) -> Path:
    """Write an engine table with its metadata (parameters, CRS, version) to Parquet."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


__all__ = [
    "FORK_FIXES",
    "RAW_PERIODS",
    "TARGET_FIXES",
    "WINDOW_S",
    "EncounterParams",
    "Run",
    "auto_window_us",
    "check_device_sets",
    "encounters_from_run",
    "encounters_table",
    "find_encounters",
    "metadata",
    "raw_periods_table",
    "run",
    "within_periods",
    "write_parquet",
]
