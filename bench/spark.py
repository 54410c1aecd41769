"""Spark backend benchmark (issue 9). A script, not a test.

  python bench/spark.py [--fixes 5000000 --devices 500 --runs 3 --partitions 1,2,4,8]

Generates a fleet (`whereabouts.spark.fleet`: devices at 30 s, a tenth of them parked at one
station) as Parquet partitioned by day, then in the same run:
  1. Spark local[2] once to warm up (JVM and Python workers; reported apart),
  2. the embedded engine and Spark local[2] alternately, --runs times each (so both see the
     same load on a shared machine): medians and the ratio of each adjacent pair, checking
     the tables are identical bit for bit, every column (`engine.same_table`),
  3. partition-count scaling: spark.sql.shuffle.partitions = 1, 2, 4, 8 (one run each,
     after warm-up; adaptive coalescing off so the count is what it says),
  4. shuffle bytes written per million fixes (from Spark's event log), the partition
     counts and largest partition, and the kernel's peak memory on the largest partition
     (tracemalloc, in this process).
Reading the input is included in every time. Results print as JSON (and --out FILE).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from whereabouts import engine
from whereabouts.engine import EncounterParams, same_table
from whereabouts.spark import find_encounters, session
from whereabouts.spark.fleet import fleet, write_days

PARAMS = EncounterParams(distance_m=50, max_gap_s=120, merge_gap_s=60, min_duration_s=120)


def shuffle_bytes(log_dir: str) -> list[int]:
    """Shuffle bytes written per job, in order, from the Spark event log."""
    per_job: dict[int, int] = {}
    stage_job: dict[int, int] = {}
    for path in glob.glob(os.path.join(log_dir, "**", "*"), recursive=True):
        if not os.path.isfile(path):
            continue
        for line in _lines(path):
            event = json.loads(line)
            kind = event.get("Event")
            if kind == "SparkListenerJobStart":
                for s in event.get("Stage IDs", []):
                    stage_job[s] = event["Job ID"]
            elif kind == "SparkListenerTaskEnd":
                m = event.get("Task Metrics") or {}
                w = (m.get("Shuffle Write Metrics") or {}).get("Shuffle Bytes Written", 0)
                job = stage_job.get(event["Stage ID"], -1)
                per_job[job] = per_job.get(job, 0) + int(w)
    return [per_job[j] for j in sorted(per_job)]


def _lines(path: str) -> list[str]:
    """Lines of an event log file, zstd-compressed (Spark's default) or not."""
    if path.endswith(".zstd"):
        with pa.CompressedInputStream(pa.OSFile(path), "zstd") as stream:
            try:
                data = stream.read()
            except OSError:  # a log still being written ends mid-frame
                data = b""
        return [x for x in data.decode("utf-8", "replace").splitlines() if x.startswith("{")]
    if path.endswith((".crc", ".inprogress")) and os.path.getsize(path) < 64:
        return []
    with open(path, encoding="utf-8", errors="replace") as fh:
        return [x for x in fh if x.startswith("{")]


def kernel_peak_mb(rows: int, seed: int = 0) -> float:
    """Peak Python memory of one kernel call on a partition of `rows` fixes (one hour)."""
    from whereabouts.spark import partition

    devices = max(2, rows // 120)
    t = fleet(devices, 120, step_s=30, area_m=10_000, seed=seed)
    table = pa.table(
        {
            "k": np.zeros(t.num_rows, np.int64),
            "cx": np.zeros(t.num_rows, np.int64),
            "cy": np.zeros(t.num_rows, np.int64),
            "gi": np.zeros(t.num_rows, np.int64),
            "gj": np.zeros(t.num_rows, np.int64),
            "grp": np.zeros(t.num_rows, np.int64),
            "device_id": t["device_id"],
            "t": t["time"].cast(pa.int64()),
            "x": t["x"],
            "y": t["y"],
            "acc": t["accuracy_m"],
        }
    )
    w = 3_600_000_000
    k = int(table["t"][0].as_py()) // w
    table = table.set_column(0, "k", pa.array(np.full(t.num_rows, k, np.int64)))
    tracemalloc.start()
    partition.run_cell(table, PARAMS, window_us=w, cell_m=1e9, crs="EPSG:27700")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--fixes", type=int, default=5_000_000)
    ap.add_argument("--devices", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--partitions", default="1,2,4,8")
    ap.add_argument("--cell-m", type=float, default=10_000.0)
    ap.add_argument("--data", type=Path, default=None, help="keep the fleet here")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    a.runs = max(1, a.runs)
    per = max(2, a.fixes // a.devices)
    tmp = tempfile.mkdtemp(prefix="wa-spark-")
    data = a.data or Path(tmp) / "fixes"
    table = fleet(a.devices, per, step_s=30, area_m=20_000, parked=a.devices // 10, seed=1)
    n = table.num_rows
    write_days(table, data)
    del table
    result: dict[str, Any] = {
        "fixes": n,
        "devices": a.devices,
        "params": PARAMS.as_metadata(),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    print(f"{n} fixes, {a.devices} devices → {data}", file=sys.stderr)

    log_dir = os.path.join(tmp, "events")
    os.makedirs(log_dir)
    spark = session(
        "local[2]",
        shuffle_partitions=8,
        conf={"spark.eventLog.enabled": "true", "spark.eventLog.dir": log_dir},
    )
    spark.sparkContext.setLogLevel("ERROR")

    def on_spark() -> tuple[float, pa.Table]:
        t = time.perf_counter()
        got = find_encounters(spark, str(data), PARAMS, cell_m=a.cell_m)
        return time.perf_counter() - t, got

    # Spark's first run warms the JVM and workers; then embedded and Spark alternate, so
    # that both see the same load on a shared machine, and each pair gives a ratio
    first_s, first = on_spark()
    print(f"spark first run: {first_s:.1f} s", file=sys.stderr)
    emb: list[float] = []
    times: list[float] = []
    loads: list[float] = []
    same, meta = True, {}
    for i in range(a.runs):
        loads.append(os.getloadavg()[0])
        t = time.perf_counter()
        want = engine.find_encounters(data, PARAMS)
        emb.append(time.perf_counter() - t)
        if i == 0:
            same = same_table(want, first)  # every column bit for bit, metadata aside
        spent, got = on_spark()
        times.append(spent)
        same = same and same_table(want, got)
        meta = json.loads(got.schema.metadata[b"whereabouts"])["backend"]
        print(
            f"run {i}: embedded {emb[-1]:.1f} s, spark {spent:.1f} s, identical={same}",
            file=sys.stderr,
        )
    result["embedded_s"] = emb
    result["spark_first_s"] = first_s
    result["spark_s"] = times
    result["load_at_runs"] = loads
    result["identical"] = same
    result["ratio_spark_to_embedded"] = statistics.median(times) / statistics.median(emb)
    result["ratio_per_pair"] = [s_ / e for s_, e in zip(times, emb, strict=True)]
    result["backend"] = meta
    result["encounters"] = want.num_rows

    spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
    scaling = {}
    for p in (int(x) for x in a.partitions.split(",")):
        spark.conf.set("spark.sql.shuffle.partitions", str(p))
        t = time.perf_counter()
        find_encounters(spark, str(data), PARAMS, cell_m=a.cell_m)
        scaling[p] = time.perf_counter() - t
        print(f"{p} shuffle partitions: {scaling[p]:.1f} s", file=sys.stderr)
    result["partition_scaling_s"] = scaling
    events = spark.sparkContext.getConf().get("spark.eventLog.dir")
    if events:
        per_run = shuffle_bytes(events.removeprefix("file:"))
        result["shuffle_bytes_all_jobs"] = sum(per_run)
        result["shuffle_mb_per_million_fixes_per_run"] = (
            sum(per_run) / (a.runs + 1 + len(scaling)) / (n / 1e6) / 1e6
        )
    spark.stop()
    largest = int(meta.get("largest_partition", 0))
    result["kernel_peak_mb_largest_partition"] = kernel_peak_mb(max(largest, 1000))
    result["kernel_peak_mb_per_100k_rows"] = kernel_peak_mb(100_000)
    result["load_after"] = os.getloadavg()[0]
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
