"""Start-up benchmark: how long the light commands take, from a fresh process (issue 20).

    python bench/startup.py [--runs 7]

Each run starts a fresh `python -m whereabouts …` for `--help`, `--version`, `profiles` and
`status WS` (a new empty workspace), alternating with a bare `python -c pass` (the
interpreter's own start) in the same loop, and prints the medians, the target (≤ 0.3 s),
the heavy libraries each command imported, and the load average (the machine is shared:
the median CPU time, user + system, is the steadier figure under load).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "matplotlib",
    "weasyprint",
    "pyspark",
    "duckdb",
    "pyarrow",
    "numpy",
    "pyproj",
    "shapely",
    "jinja2",
)
TARGET_S = 0.3

PROBE = """
import runpy, sys, json
sys.argv = ["whereabouts", *json.loads(sys.argv[1])]
try:
    runpy.run_module("whereabouts", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def _seconds(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    env = dict(os.environ, WHEREABOUTS_QUIET="1")
    ws = Path(tempfile.mkdtemp(prefix="wa-startup-")) / "ws"
    subprocess.run(
        [sys.executable, "-m", "whereabouts", "init", str(ws)],
        check=True,
        capture_output=True,
        env=env,
    )
    commands = {
        "--help": ["--help"],
        "--version": ["--version"],
        "profiles": ["profiles"],
        "status WS": ["status", str(ws)],
    }
    times: dict[str, list[tuple[float, float]]] = {
        "python -c pass": [],
        **{k: [] for k in commands},
    }
    for _ in range(a.runs):  # alternate, so the machine's load falls on all alike
        times["python -c pass"].append(_seconds([sys.executable, "-c", "pass"], env))
        for name, args in commands.items():
            times[name].append(_seconds([sys.executable, "-m", "whereabouts", *args], env))
    print(
        f"medians of {a.runs} fresh processes (load average {os.getloadavg()[0]:.2f} on "
        f"{os.cpu_count()} cores):"
    )
    print(f"  {'':16s} {'wall':>8s} {'min':>7s} {'CPU':>7s}")
    for name, values in times.items():
        wall = [w for w, _ in values]
        med = statistics.median(wall)
        verdict = (
            ""
            if name == "python -c pass"
            else ("  ok" if med <= TARGET_S else f"  over the {TARGET_S} s target")
        )
        print(
            f"  {name:16s} {med:6.3f} s {min(wall):.3f} s "
            f"{statistics.median(c for _, c in values):.3f} s{verdict}"
        )
    print("heavy libraries imported:")
    for name, args in commands.items():
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(args)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        print(f"  {name:16s} {', '.join(json.loads(out.stderr.splitlines()[-1])) or 'none'}")


if __name__ == "__main__":
    main()
