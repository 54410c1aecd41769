"""Benchmark: simulate a force-month in bounded memory; report fixes per second and peak RSS.

Usage: .venv/bin/python bench/simulate.py [--officers 1340] [--days 30] [--out DIR]
The default size is about 2,000 devices (1,340 personal radios, spares and cars) for 30 days.
Quick check while developing: --officers 200 --days 2.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.force import simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=1340)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write (default: a temporary folder, removed after)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("WHEREABOUTS_QUIET", "1")
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-simulate-"))
    try:
        began, cpu0 = time.perf_counter(), time.process_time()
        sim = simulate(SimConfig(seed=args.seed, officers=args.officers, days=args.days), out)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu0
        fixes = sim.realism["fixes"]
        assert isinstance(fixes, dict)
        total = int(sum(fixes.values()))
        devices = sim.rows.get("devices.csv", 0)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        size_mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
        result = {
            "officers": args.officers,
            "days": args.days,
            "devices": devices,
            "fixes": total,
            "seconds": round(elapsed, 1),
            "cpu_seconds": round(cpu, 1),
            "fixes_per_second": round(total / elapsed),
            # The machine is shared: CPU time says what the code costs regardless of load.
            "fixes_per_cpu_second": round(total / cpu),
            "peak_rss_mb": round(peak_mb),
            "output_mb": round(size_mb),
            "bounded_memory_ok": peak_mb < 4096,
        }
        print(json.dumps(result, indent=2))
        return 0 if peak_mb < 4096 else 1
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
