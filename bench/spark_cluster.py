"""Spark on a standalone cluster (issue 21). A script, not a test.

  python bench/spark_cluster.py [--fixes 1000000 --scale 1,4 --workers 2 --out FILE]

Starts a master and `--workers` workers (1 core, 1 GB each) as separate JVMs on this
machine (`whereabouts.spark.cluster`), generates a fleet (`spark.fleet`: devices at 30 s for
17 hours, a tenth parked at one station, so 4× the fixes is 4× the devices) at each scale of `--fixes` (as Parquet by day), and for each
runs a driver in a process of its own that submits `write_encounters` to the cluster (the
executors write the result folder). Per scale it reports: wall time of the job, fixes per
second per worker core, bytes shuffled (the Spark UI's REST API) per million fixes, the
driver's peak memory (VmHWM of the driver's Python process and of its JVM), the rows, and
whether the result equals the embedded engine's bit for bit (`engine.same_table`).
Results print as JSON (and --out FILE).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PARAMS = dict(distance_m=50, max_gap_s=120, merge_gap_s=60, min_duration_s=120)


def peak_kb(pid: int | str = "self") -> int:
    """The peak resident memory (VmHWM) of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def driver(master: str, fixes: str, out: str) -> None:
    """The driver process: submit, write, report figures as one JSON line on stdout."""
    from whereabouts.engine import EncounterParams
    from whereabouts.spark.engine import session
    from whereabouts.spark.output import write_encounters
    from whereabouts.spark.watch import Watch

    spark = session(
        master, shuffle_partitions=int(os.environ.get("PARTITIONS", "8")), ui=True, quiet=True
    )
    jvm: Any = spark.sparkContext._jvm
    jvm_pid = int(jvm.java.lang.ProcessHandle.current().pid())
    t0 = time.monotonic()
    with Watch(spark, stream=sys.stderr, live=False) as watch:
        manifest = write_encounters(spark, fixes, out, EncounterParams(**PARAMS))
    seconds = time.monotonic() - t0
    summary = watch.summary(rows=manifest.rows, parts=len(manifest.parts))
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "rows": manifest.rows,
                "parts": len(manifest.parts),
                "stages": summary.stages,
                "tasks": summary.tasks,
                "shuffle_bytes": summary.shuffle_bytes,
                "driver_python_peak_mb": round(peak_kb() / 1024, 1),
                "driver_jvm_peak_mb": round(peak_kb(jvm_pid) / 1024, 1),
            }
        ),
        flush=True,
    )
    spark.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixes", type=int, default=1_000_000, help="fixes at scale 1")
    ap.add_argument("--scale", default="1,4", help="comma-separated multiples of --fixes")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--no-embedded", action="store_true", help="skip the equality check")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--driver", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.driver:
        driver(*a.driver)
        return
    from whereabouts import engine
    from whereabouts.engine import EncounterParams, same_table
    from whereabouts.engine.results import read_result
    from whereabouts.spark.cluster import StandaloneCluster
    from whereabouts.spark.fleet import fleet, write_days

    results: dict[str, Any] = {
        "workers": a.workers,
        "cores": a.workers,
        "params": PARAMS,
        "load_before": os.getloadavg(),
        "runs": [],
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        StandaloneCluster(Path(tmp) / "cluster", workers=a.workers) as cluster,
    ):
        env = cluster.env()
        env["PARTITIONS"] = str(a.partitions)
        for scale in (int(s) for s in a.scale.split(",")):
            n = a.fixes * scale
            devices = max(50, n // 2_000)  # 2 000 fixes a device: 17 h at 30 s
            data = write_days(
                fleet(
                    devices,
                    n // devices,
                    step_s=30,
                    area_m=20_000,
                    parked=devices // 10,
                    seed=scale,
                ),
                Path(tmp) / f"fixes{scale}",
            )
            out = Path(tmp) / f"enc{scale}"
            t0 = time.monotonic()
            job = subprocess.run(
                [sys.executable, __file__, "--driver", cluster.url, str(data), str(out)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if job.returncode != 0:
                sys.exit(f"the driver failed:\n{job.stderr[-3000:]}")
            run = json.loads(job.stdout.strip().splitlines()[-1])
            run.update(
                scale=scale,
                fixes=devices * (n // devices),
                devices=devices,
                process_seconds=round(time.monotonic() - t0, 1),
                load=os.getloadavg(),
            )
            run["fixes_per_s_per_core"] = round(run["fixes"] / run["seconds"] / a.workers)
            if run["shuffle_bytes"] is not None:
                run["shuffle_mb_per_million_fixes"] = round(
                    run["shuffle_bytes"] / 1e6 / (run["fixes"] / 1e6), 1
                )
            if not a.no_embedded:
                t1 = time.monotonic()
                want = engine.find_encounters(data, EncounterParams(**PARAMS))
                run["embedded_seconds"] = round(time.monotonic() - t1, 1)
                run["identical"] = same_table(want, read_result(out))
            results["runs"].append(run)
            print(json.dumps(run), flush=True)
    text = json.dumps(results, indent=1)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
