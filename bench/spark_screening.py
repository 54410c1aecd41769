"""The whole Spark job on a standalone cluster, screening included (issue 21). A script.

  python bench/spark_screening.py [--officers 60 --days 2 --scale 1,4 --workers 2 --out FILE]

Starts a master and `--workers` workers (1 core each) as separate JVMs on this machine
(`whereabouts.spark.cluster`, as bench/spark_cluster.py). Per scale it simulates a force of
`--officers` officers over `--days` × scale days (the same officers, so the same pairs:
the input grows, the ranking's one row per pair does not) and ingests it into a workspace,
then runs a driver in a process of its own that submits, to the cluster, the encounters
of every device (`write_encounters`, the executors write them) and the screening of every
pair of officers (`spark.screening.write_screening`: the executors write the occasions and
pair counts, the driver ranks the pairs). It reports the driver's peak memory (VmHWM of the
driver's Python process and of its JVM) over the whole job, the seconds of each part, the
rows, and whether the screening equals the embedded one bit for bit
(`analysis.investigate.screen`, `engine.same_table`). Results print as JSON (and --out).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def peak_kb(pid: int | str = "self") -> int:
    """The peak resident memory (VmHWM) of a process, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _period(days: int) -> tuple[datetime, datetime]:
    start = datetime(2024, 3, 25, tzinfo=UTC)
    return start, start + timedelta(days=days)


def driver(master: str, ws: str, days: str, out: str) -> None:
    """The driver process: submit both jobs, report figures as one JSON line on stdout."""
    from whereabouts.spark.engine import session
    from whereabouts.spark.output import write_encounters
    from whereabouts.spark.screening import write_screening
    from whereabouts.store import Workspace

    spark = session(
        master, shuffle_partitions=int(os.environ.get("PARTITIONS", "8")), ui=False, quiet=True
    )
    jvm: Any = spark.sparkContext._jvm
    jvm_pid = int(jvm.java.lang.ProcessHandle.current().pid())
    w = Workspace.open(ws)
    officers = sorted({str(o) for o in w.table("officers").column("officer_id").to_pylist()})
    start, end = _period(int(days))
    t0 = time.monotonic()
    enc = write_encounters(spark, ws, Path(out) / "encounters")
    t1 = time.monotonic()
    got = write_screening(spark, w, officers, start, end, Path(out) / "screening")
    t2 = time.monotonic()
    print(
        json.dumps(
            {
                "encounters": enc.rows,
                "encounters_seconds": round(t1 - t0, 1),
                "pairs": got.ranked.num_rows,
                "occasions": got.occasions.rows,
                "occasion_parts": len(got.occasions.parts),
                "screening_seconds": round(t2 - t1, 1),
                "driver_python_peak_mb": round(peak_kb() / 1024, 1),
                "driver_jvm_peak_mb": round(peak_kb(jvm_pid) / 1024, 1),
            }
        ),
        flush=True,
    )
    spark.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--officers", type=int, default=60)
    ap.add_argument("--days", type=int, default=2, help="days at scale 1")
    ap.add_argument("--scale", default="1,4", help="comma-separated multiples of --days")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--no-embedded", action="store_true", help="skip the equality check")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--driver", nargs=4, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.driver:
        driver(*a.driver)
        return
    import pyarrow.parquet as pq

    from whereabouts.analysis.investigate import screen
    from whereabouts.engine import same_table
    from whereabouts.engine.results import read_result
    from whereabouts.simulate.config import SimConfig
    from whereabouts.simulate.demo import ingest_simulation
    from whereabouts.simulate.force import simulate
    from whereabouts.spark.cluster import StandaloneCluster
    from whereabouts.store import Workspace

    results: dict[str, Any] = {
        "workers": a.workers,
        "officers": a.officers,
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
            days = a.days * scale
            cfg = SimConfig(seed=7, officers=a.officers, days=days)
            root = Path(tmp) / f"force{scale}"
            simulate(cfg, root / "data")
            ws, _ = ingest_simulation(root / "data", root / "ws", cfg.timezone)
            fixes = sum(pq.read_metadata(f).num_rows for f in ws.files("fixes"))
            t0 = time.monotonic()
            job = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--driver",
                    cluster.url,
                    str(ws.path),
                    str(days),
                    str(root / "out"),
                ],
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
                days=days,
                fixes=fixes,
                process_seconds=round(time.monotonic() - t0, 1),
                load=os.getloadavg(),
            )
            if not a.no_embedded:
                w = Workspace.open(ws.path)
                officers = sorted(
                    {str(o) for o in w.table("officers").column("officer_id").to_pylist()}
                )
                t1 = time.monotonic()
                want, want_occ = screen(w, officers, *_period(days))
                run["embedded_screening_seconds"] = round(time.monotonic() - t1, 1)
                out = root / "out" / "screening"
                run["identical"] = same_table(want, read_result(out / "ranked")) and same_table(
                    want_occ, read_result(out / "occasions")
                )
            results["runs"].append(run)
            print(json.dumps(run), flush=True)
    text = json.dumps(results, indent=1)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
