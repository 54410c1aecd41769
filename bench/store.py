"""Benchmark: `Workspace.fixes_within` against the method before it, same run, same data.

Usage:
    .venv/bin/python bench/store.py [--devices 300] [--days 21] [--every 60] [--files 3]
        [--repeat 3] [--dir D]

Generates a workspace whose fixes tables are written as ingest writes them (each file in
time order, sorted by device and time in runs of SORT_ROWS rows, row groups of
ROW_GROUP_ROWS, the same encodings): `--devices` devices, a fix every `--every` seconds
each (jittered) over `--days` days, split by time into `--files` files. Then reads, each
read in a child process so its peak RSS (VmHWM) is its own, `--repeat` times:
  team:     every 17th device's shifts (10 h, most days, padded 1 h), lean columns — as the
            investigation's team baseline reads them;
  subjects: two devices' shifts (padded 30 min), every column.
The baseline is the method before (commit 7bcecb1, kept below as `previous_fixes_within`):
a DuckDB range join picking row groups, device and time of every candidate row group read
as strings, then all columns of those with a hit, matched by `pc.index_in` on strings,
sorted by `pc.sort_indices` on (device_id, time). The results must be equal (checked
first, `pyarrow.Table.equals`, same row order). Prints medians, ratios and peak RSS.

Measured 24 Nov 2026 on the shared 2-core machine, load average 2-2.5, defaults (9.1 M
fixes, 555 row groups): team 0.41 -> 0.18 s (2.3x), subjects 0.11 -> 0.05 s (2.4x). On the
six-month workspace of bench/investigate.py (250 M fixes in 11 files, 15,341 row groups;
medians of 5 child runs each, same run, identical tables): the team's 117 devices, 6.6 M
fixes in lean columns 5.50 -> 2.05 s, peak RSS 1.9 -> 1.2 GB; the two subjects' devices,
0.49 M fixes in every column 1.75 -> 0.80 s, 1.24 -> 0.94 GB. Threads were tried and
dropped: pyarrow's over a read's columns and two over files were both slower here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from whereabouts import schema
from whereabouts.errors import WorkspaceError
from whereabouts.store import Workspace
from whereabouts.store import workspace as store

LEAN = ["device_id", "time", "x", "y", "accuracy_m"]
START_S = 1_704_067_200  # 2024-01-01T00:00:00Z


# -- data ---------------------------------------------------------------------------------
def generate(path: Path, devices: int, days: int, every: int, files: int, seed: int = 5) -> None:
    """A workspace at `path` with fixes files written as ingest writes them."""
    rng = np.random.default_rng(seed)
    ws = Workspace.init(path)
    folder = ws.path / "tables" / "fixes"
    folder.mkdir(parents=True, exist_ok=True)
    names = np.array([f"62{i:05d}" for i in range(devices)], dtype=object)
    jitter = rng.integers(0, every, devices)  # each device reports at its own second
    steps = days * 86_400 // every
    per_run = max(1, store.SORT_ROWS // devices)  # time steps per sorted run
    floats = [f.name for f in schema.FIXES if pa.types.is_floating(f.type)]
    line = 0
    for k in range(files):
        first, last = steps * k // files, steps * (k + 1) // files
        file_id = f"{k:016x}"
        with pq.ParquetWriter(
            folder / f"{file_id}.parquet",
            schema.FIXES,
            compression="zstd",
            compression_level=1,
            use_dictionary=store._DICTIONARY,
            use_byte_stream_split=floats,
        ) as writer:
            for a in range(first, last, per_run):
                step = np.repeat(np.arange(a, min(a + per_run, last)), devices)
                dev = np.tile(np.arange(devices), len(step) // devices)
                n = len(step)
                seconds = START_S + step * every + jitter[dev] + rng.integers(0, 3, n)
                x = 310_000 + rng.random(n) * 20_000
                y = 170_000 + rng.random(n) * 12_000
                rows = pa.table(
                    {
                        "device_id": pa.array(names[dev], pa.string()),
                        "time": pa.array(seconds * 1_000_000, pa.int64()).cast(schema.UTC_TS),
                        "lat": 51.4 + (y - 170_000) / 111_000,
                        "lon": -3.3 + (x - 310_000) / 70_000,
                        "x": x,
                        "y": y,
                        "accuracy_m": rng.integers(3, 30, n).astype(float),
                        "speed_mps": np.round(rng.random(n) * 20, 1),
                        "heading_deg": rng.integers(0, 360, n).astype(float),
                        "time_uncertainty_s": pa.nulls(n, pa.float64()),
                        "source": pa.array(np.full(n, "avl", dtype=object), pa.string()),
                        "src_file": pa.array(np.full(n, file_id, dtype=object), pa.string()),
                        "src_line": np.arange(line, line + n),
                    }
                ).cast(schema.FIXES)
                line += n
                rows = rows.take(
                    pc.sort_indices(
                        rows, sort_keys=[("device_id", "ascending"), ("time", "ascending")]
                    )
                )
                writer.write_table(rows, row_group_size=store.ROW_GROUP_ROWS)


def shifts(devices: Sequence[int], days: int, pad_s: int, seed: int) -> pa.Table:
    """Each device's 10-hour shifts on about 70 % of days, widened by pad_s either side."""
    rng = np.random.default_rng(seed)
    dev = np.repeat(np.asarray(devices), days)
    day = np.tile(np.arange(days), len(devices))
    on = rng.random(len(dev)) < 0.7
    begin = START_S + day * 86_400 + (dev % 3) * 8 * 3600 + 6 * 3600 - pad_s
    end = begin + 10 * 3600 + 2 * pad_s
    return pa.table(
        {
            "device_id": pa.array([f"62{i:05d}" for i in dev[on]], pa.string()),
            "start": pa.array(begin[on] * 1_000_000, pa.int64()).cast(schema.UTC_TS),
            "end": pa.array(end[on] * 1_000_000, pa.int64()).cast(schema.UTC_TS),
        }
    )


def cases(devices: int, days: int) -> dict[str, tuple[pa.Table, list[str] | None]]:
    return {
        "team": (shifts(range(0, devices, 17), days, 3600, 1), LEAN),
        "subjects": (shifts([3, devices // 2], days, 1800, 2), None),
    }


# -- the method before, kept as the baseline ---------------------------------------------
def previous_fixes_within(
    ws: Workspace, spans: pa.Table, columns: Sequence[str] | None = None
) -> pa.Table:
    """`Workspace.fixes_within` as it was at commit 7bcecb1."""
    names = list(columns) if columns is not None else list(schema.FIXES.names)
    out = pa.schema([schema.FIXES.field(c) for c in names])
    files = sorted((ws.path / "tables" / "fixes").glob("*.parquet"))
    merged = store._merge_spans(spans)
    if not files or merged.num_rows == 0:
        return out.empty_table()
    con = duckdb.connect()
    try:
        con.register("spans_arrow", merged)
        con.register("groups_arrow", _previous_row_group_ranges(files))
        groups = con.sql("""
            SELECT DISTINCT m.file_name, m.row_group_id FROM groups_arrow m
            JOIN spans_arrow s
              ON s.device_id >= coalesce(m.dmin, s.device_id)
             AND s.device_id <= coalesce(m.dmax, s.device_id)
             AND s.s1 > coalesce(m.tmin, s.s1 - 1) AND s.s0 <= coalesce(m.tmax, s.s0)
            ORDER BY 1, 2""").to_arrow_table()
    finally:
        con.close()
    want = list(dict.fromkeys([*names, "device_id", "time"]))
    parts = []
    for path in files:
        ids = np.asarray(
            pc.filter(groups["row_group_id"], pc.equal(groups["file_name"], str(path))).to_numpy(),
            dtype=np.int64,
        )
        if len(ids) == 0:
            continue
        source = pq.ParquetFile(path)
        inside = np.asarray(
            _previous_inside(
                source.read_row_groups(ids.tolist(), columns=["device_id", "time"]), merged
            ),
            dtype=bool,
        )
        sizes = np.array([source.metadata.row_group(int(i)).num_rows for i in ids])
        bounds = np.r_[0, np.cumsum(sizes)]
        if len(inside) == 0:
            continue
        hit = (np.add.reduceat(inside, np.minimum(bounds[:-1], len(inside) - 1)) > 0) & (sizes > 0)
        if not hit.any():
            continue
        keep = np.concatenate(
            [inside[a:b] for a, b, h in zip(bounds[:-1], bounds[1:], hit, strict=True) if h]
        )
        rows = source.read_row_groups(ids[hit].tolist(), columns=want)
        parts.append(rows.filter(pa.array(keep)).select(names))
    if not parts:
        return out.empty_table()
    found = pa.concat_tables(parts).cast(out)
    if "device_id" in names and "time" in names:
        found = found.take(
            pc.sort_indices(found, sort_keys=[("device_id", "ascending"), ("time", "ascending")])
        )
    return found


def _previous_row_group_ranges(files: Sequence[Path]) -> pa.Table:
    rows: dict[str, list[Any]] = {
        k: [] for k in ("file_name", "row_group_id", "dmin", "dmax", "tmin", "tmax")
    }
    for path in files:
        meta = pq.read_metadata(path)
        leaves = [meta.schema.column(i).path for i in range(meta.num_columns)]
        dev, tim = leaves.index("device_id"), leaves.index("time")
        mul, div = store._PER_US[meta.schema.to_arrow_schema().field("time").type.unit]
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            d, t = group.column(dev).statistics, group.column(tim).statistics
            dok = d is not None and d.has_min_max
            tok = t is not None and t.has_min_max
            rows["file_name"].append(str(path))
            rows["row_group_id"].append(i)
            rows["dmin"].append(store._text(d.min_raw) if dok else None)
            rows["dmax"].append(store._text(d.max_raw) if dok else None)
            if rows["dmin"][-1] is None or rows["dmax"][-1] is None:
                rows["dmin"][-1] = rows["dmax"][-1] = None
            rows["tmin"].append(t.min_raw * mul // div if tok else None)
            rows["tmax"].append(-(-t.max_raw * mul // div) if tok else None)
    return pa.table(
        {
            "file_name": pa.array(rows["file_name"], pa.string()),
            "row_group_id": pa.array(rows["row_group_id"], pa.int64()),
            "dmin": pa.array(rows["dmin"], pa.string()),
            "dmax": pa.array(rows["dmax"], pa.string()),
            "tmin": pa.array(rows["tmin"], pa.int64()),
            "tmax": pa.array(rows["tmax"], pa.int64()),
        }
    )


def _previous_inside(rows: pa.Table, spans: pa.Table) -> pa.Array:
    names = pc.unique(spans.column("device_id"))
    scode = np.asarray(
        pc.index_in(spans.column("device_id"), value_set=names).to_numpy(), dtype=np.int64
    )
    s0 = np.asarray(spans.column("s0").to_numpy(), dtype=np.int64)
    s1 = np.asarray(spans.column("s1").to_numpy(), dtype=np.int64)
    code = pc.index_in(rows.column("device_id").cast(pa.string()), value_set=names)
    known = np.asarray(pc.is_valid(code).to_numpy(zero_copy_only=False), dtype=bool)
    fcode = np.asarray(pc.fill_null(code, 0).to_numpy(), dtype=np.int64)
    t = store._micros(rows.column("time"))
    lo = np.minimum.reduceat(s0, np.r_[0, np.flatnonzero(np.diff(scode)) + 1]) - 1
    hi = np.maximum.reduceat(s1, np.r_[0, np.flatnonzero(np.diff(scode)) + 1])
    width = hi - lo + 1
    if float(width.sum()) >= 2.0**62:
        raise WorkspaceError(
            "the spans reach over too long a time to read at once",
            hint="read fewer devices or a shorter period at a time",
        )
    base = np.r_[0, np.cumsum(width)[:-1]]
    skey = base[scode] + (s0 - lo[scode])
    fkey = base[fcode] + (np.clip(t, lo[fcode], hi[fcode]) - lo[fcode])
    i = np.searchsorted(skey, fkey, side="right") - 1
    ic = np.clip(i, 0, max(len(s0) - 1, 0))
    return pa.array(known & (i >= 0) & (scode[ic] == fcode) & (t >= s0[ic]) & (t < s1[ic]))


# -- measuring ----------------------------------------------------------------------------
def _child(method: str, case: str, ws_dir: str, devices: int, days: int) -> None:
    """Inside the child process: one read, its figures as JSON on stdout."""
    ws = Workspace.open(ws_dir)
    spans, columns = cases(devices, days)[case]
    if method == "check":  # both methods once: the same table, the same row order
        new, old = ws.fixes_within(spans, columns), previous_fixes_within(ws, spans, columns)
        print(json.dumps({"equal": new.equals(old), "rows": new.num_rows}))
        return
    read = ws.fixes_within if method == "new" else lambda s, c: previous_fixes_within(ws, s, c)
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    rows = read(spans, columns).num_rows
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": rows,
                "peak_rss_mb": _peak_rss_mb(),
                "cpu_seconds": usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime,
            }
        )
    )


def _peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, as ru_maxrss would count the parent's
    (which holds the generated data) from before the child's exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "WHEREABOUTS_QUIET": "1"},
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--every", type=int, default=60, help="seconds between fixes")
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="scratch folder (default: a temporary one, removed after)",
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, case, ws_dir, devices, days = args.child
        _child(method, case, ws_dir, int(devices), int(days))
        return
    scratch = Path(args.dir or tempfile.mkdtemp(prefix="whereabouts-bench-store-"))
    ws_dir = scratch / "ws"
    size = [str(args.devices), str(args.days)]
    try:
        t0 = time.perf_counter()
        if not (ws_dir / "workspace.json").exists():
            generate(ws_dir, args.devices, args.days, args.every, args.files)
        files = sorted((ws_dir / "tables" / "fixes").glob("*.parquet"))
        total = sum(pq.read_metadata(p).num_rows for p in files)
        groups = sum(pq.read_metadata(p).num_row_groups for p in files)
        print(
            f"workspace: {total:,} fixes of {args.devices} devices over {args.days} days "
            f"in {len(files)} files, {groups:,} row groups ({time.perf_counter() - t0:.1f} s)"
        )
        for case in ("team", "subjects"):
            check = run("check", case, str(ws_dir), *size)
            if not check["equal"]:
                raise SystemExit(f"{case}: the two methods differ")
            times: dict[str, list[dict[str, Any]]] = {"previous": [], "new": []}
            for _ in range(args.repeat):  # interleaved, so load changes hit both alike
                for method, runs in times.items():
                    runs.append(run(method, case, str(ws_dir), *size))
            med = {m: statistics.median(r["seconds"] for r in rs) for m, rs in times.items()}
            for method, rs in times.items():
                print(
                    f"{case:8} {method:8}: median {med[method]:.2f} s "
                    f"({min(r['seconds'] for r in rs):.2f}-"
                    f"{max(r['seconds'] for r in rs):.2f}), CPU "
                    f"{statistics.median(r['cpu_seconds'] for r in rs):.2f} s, "
                    f"peak RSS {max(r['peak_rss_mb'] for r in rs):,.0f} MB, "
                    f"{check['rows']:,} rows"
                )
            print(
                f"{case:8} previous / new = {med['previous'] / med['new']:.2f}x (identical tables)"
            )
        print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        if args.dir is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
