"""Engine benchmarks (issue 4). Scripts, not tests; every figure is a median of >= 3 runs
unless it says otherwise, and baselines run side by side with the engine in the same run.

  python bench/engine.py compare [--devices 500 --hours 24 --baseline-hours 2 --runs 3]
      the 500-device × 24 h fleet at 30 s (50 m, max gap 120 s, merge gap 60 s, min
      duration 120 s), all pairs, against (a) pymeos with a bounding-box prefilter and
      (b) PostGIS. Baselines run on the first --baseline-hours of the same fleet (work per
      hour is stationary); the engine runs on both the subset and the full day, so the
      report gives the like-for-like ratio on the subset and the full-day extrapolation.
      --baseline-hours 24 runs the baselines on the whole day.
  python bench/engine.py scale [--devices 2000 --days 7,30 --data DIR]
      writes the fleet as Parquet partitioned by day (if DIR lacks it), then times all
      pairs over each number of days in a fresh process, with its peak memory (max RSS).
  python bench/engine.py pair [--devices 200 --days 180 --data DIR]
      two named devices over the whole period of a day-partitioned fleet.
Reading the input (Parquet) is included in every time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import fleet as fleet_mod
from baselines import postgis_baseline, pymeos_baseline
from whereabouts.engine import EncounterParams, find_encounters

PARAMS = EncounterParams(distance_m=50, max_gap_s=120, merge_gap_s=60, min_duration_s=120)
Row = tuple[str, str, float, float]


def ours(path: str | list[str], **kw: object) -> list[Row]:
    t = find_encounters(path, PARAMS, crs="EPSG:27700", **kw)  # type: ignore[arg-type]
    return [(r["device_a"], r["device_b"], r["start"].timestamp(), r["end"].timestamp())
            for r in t.to_pylist()]


def timed(fn: Callable[[], list[Row]]) -> tuple[float, list[Row]]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def agree(a: list[Row], b: list[Row]) -> str:
    if len(a) != len(b) or any(x[:2] != y[:2] for x, y in zip(a, b, strict=True)):
        return f"DIFFER: {len(a)} vs {len(b)} encounters"
    worst = max((max(abs(x[2] - y[2]), abs(x[3] - y[3])) for x, y in zip(a, b, strict=True)),
                default=0.0)
    return f"agree: {len(a)} encounters, max boundary difference {worst * 1e3:.3f} ms"


def compare(a: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="wa-bench-"))
    full = fleet_mod.fleet_table(a.devices, a.hours, seed=a.seed)
    end = pc.min(full["time"]).cast(pa.int64()).as_py() + int(a.baseline_hours * 3.6e9)
    subset = full.filter(pc.less(full["time"].cast(pa.int64()), end))
    pq.write_table(full, tmp / "full.parquet")
    pq.write_table(subset, tmp / "subset.parquet")
    print(f"fleet: {a.devices} devices × {a.hours} h at 30 s = {full.num_rows:,} fixes; "
          f"baseline subset: first {a.baseline_hours} h = {subset.num_rows:,} fixes")
    sub, whole = str(tmp / "subset.parquet"), str(tmp / "full.parquet")
    p = PARAMS
    runs: dict[str, list[float]] = {"engine full": [], "engine subset": [], "pymeos subset": [],
                                    "postgis subset": []}
    results: dict[str, list[Row]] = {}
    cluster = None
    try:
        cluster = postgis_baseline.Cluster().__enter__()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"PostGIS baseline skipped: {exc}")
    try:
        for i in range(a.runs):
            jobs: dict[str, Callable[[], list[Row]]] = {
                "engine full": lambda: ours(whole),
                "engine subset": lambda: ours(sub),
                "pymeos subset": lambda: pymeos_baseline.encounters(
                    sub, p.distance_m, p.max_gap_s, p.merge_gap_s, p.min_duration_s),
            }
            if cluster is not None:
                jobs["postgis subset"] = lambda dsn=cluster.dsn(): postgis_baseline.encounters(
                    dsn, sub, p.distance_m, p.max_gap_s, p.merge_gap_s, p.min_duration_s)
            for name, job in jobs.items():
                seconds, out = timed(job)
                runs[name].append(seconds)
                results[name] = out
                print(f"  run {i + 1} {name}: {seconds:.2f} s", flush=True)
    finally:
        if cluster is not None:
            cluster.__exit__(None, None, None)
    print("\ncorrectness on the subset:")
    for name in ("pymeos subset", "postgis subset"):
        if name in results:
            print(f"  engine vs {name.split()[0]}: {agree(results['engine subset'], results[name])}")
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    scale = a.hours / a.baseline_hours
    print(f"\nmedians of {a.runs} runs (seconds):")
    for k, v in med.items():
        print(f"  {k:16s} {v:8.2f}")
    for name in ("pymeos subset", "postgis subset"):
        if name in med:
            base = name.split()[0]
            print(f"  {base}: {med[name] / med['engine subset']:.1f}× slower on the subset; "
                  f"full day extrapolated {med[name] * scale:.0f} s = "
                  f"{med[name] * scale / med['engine full']:.1f}× the engine's full day")
    if a.json:
        print(json.dumps({"medians_s": med, "runs_s": runs, "fixes": full.num_rows,
                          "subset_fixes": subset.num_rows, "baseline_hours": a.baseline_hours}))


def _child(paths: list[str], devices: list[str] | None) -> None:
    """Run in a fresh process: time one engine run; print seconds, CPU, encounters, peak RSS.

    The result is also appended to engine_runs.jsonl beside the data (a record of every run).
    """
    import resource

    t = time.perf_counter()
    n = len(ours(paths, devices=devices))
    seconds = time.perf_counter() - t
    use = resource.getrusage(resource.RUSAGE_SELF)
    result = {"seconds": seconds, "cpu_s": use.ru_utime + use.ru_stime, "encounters": n,
              "peak_rss_gb": use.ru_maxrss / 1024 / 1024, "days": len(paths),
              "devices": devices, "data": str(Path(paths[0]).parent)}
    with open(Path(paths[0]).parent / "engine_runs.jsonl", "a") as log:
        log.write(json.dumps(result) + "\n")
    print(json.dumps(result))


def _run_child(paths: list[Path], devices: list[str] | None = None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "_child", *map(str, paths)]
    if devices:
        cmd += ["--pair", ",".join(devices)]
    env = dict(os.environ, WHEREABOUTS_QUIET="1")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _ensure(data: Path, devices: int, days: int, seed: int) -> list[Path]:
    have = sorted(data.glob("day=*"))
    if len(have) < days:
        side = 8_000.0 * (devices / 500) ** 0.5  # same density as the 500-device town
        t = time.perf_counter()
        fleet_mod.write_days(data, devices, days, seed=seed, side_m=side)
        print(f"wrote {devices} devices × {days} days in {time.perf_counter() - t:.0f} s "
              f"to {data}")
        have = sorted(data.glob("day=*"))
    return have[:days]


def scale(a: argparse.Namespace) -> None:
    days = [int(d) for d in a.days.split(",")]
    folders = _ensure(Path(a.data), a.devices, max(days), a.seed)
    for n in days:
        r = _run_child(folders[:n])
        fixes = sum(pq.ParquetFile(next(f.glob("*.parquet"))).metadata.num_rows
                    for f in folders[:n])
        print(f"{a.devices} devices × {n} days ({fixes:,} fixes), all pairs: "
              f"{r['seconds']:.0f} s wall, {r['cpu_s']:.0f} s CPU, peak RSS "
              f"{r['peak_rss_gb']:.2f} GB, {int(r['encounters'])} encounters", flush=True)


def pair(a: argparse.Namespace) -> None:
    folders = _ensure(Path(a.data), a.devices, a.days, a.seed)
    times = []
    for _ in range(a.runs):
        r = _run_child(folders, ["D0000", "D0001"])
        times.append(r["seconds"])
        print(f"  D0000 with D0001 over {a.days} days: {r['seconds']:.2f} s "
              f"({r['cpu_s']:.2f} s CPU), "
              f"{int(r['encounters'])} encounters, peak RSS {r['peak_rss_gb']:.2f} GB",
              flush=True)
    print(f"median of {a.runs}: {statistics.median(times):.2f} s (fresh process each, "
          f"reading included)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--devices", type=int, default=500)
    c.add_argument("--hours", type=float, default=24)
    c.add_argument("--baseline-hours", type=float, default=2)
    c.add_argument("--runs", type=int, default=3)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--json", action="store_true")
    s = sub.add_parser("scale")
    s.add_argument("--devices", type=int, default=2000)
    s.add_argument("--days", default="7,30")
    s.add_argument("--data", default="/tmp/wa-bench-scale")
    s.add_argument("--seed", type=int, default=2)
    p = sub.add_parser("pair")
    p.add_argument("--devices", type=int, default=200)
    p.add_argument("--days", type=int, default=180)
    p.add_argument("--data", default="/tmp/wa-bench-6months")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seed", type=int, default=3)
    ch = sub.add_parser("_child")
    ch.add_argument("paths", nargs="+")
    ch.add_argument("--pair", default=None)
    a = ap.parse_args()
    if a.cmd == "compare":
        compare(a)
    elif a.cmd == "scale":
        scale(a)
    elif a.cmd == "pair":
        pair(a)
    else:
        _child(a.paths, a.pair.split(",") if a.pair else None)


if __name__ == "__main__":
    main()
