"""Engine benchmarks (issues 4 and 20). Scripts, not tests; every figure is a median of
several runs unless it says otherwise, and baselines run side by side with the engine in
the same run, alternating, so that the machine's load falls on all alike.

  python bench/engine.py compare [--fleets 500,2000 --hours 24 --runs 3,1]
      each fleet (N devices × 24 h at 30 s, in a town whose side grows with √N; 50 m, max
      gap 120 s, merge gap 60 s, min duration 120 s), all pairs, by whereabouts, by MEOS at
      its best (baselines/meos_best.py) and by PostGIS at its best
      (baselines/postgis_best.py, on a private throwaway cluster); each job in a fresh
      process (its peak RSS is its own), reading the Parquet input included. Prints the
      medians, the ratios baseline / whereabouts and the agreement (same pairs, every
      boundary within 1 ms). --skip meos,postgis leaves baselines out.
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
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import fleet as fleet_mod
from baselines import meos_best, postgis_baseline, postgis_best
from whereabouts.engine import EncounterParams, find_encounters

PARAMS = EncounterParams(distance_m=50, max_gap_s=120, merge_gap_s=60, min_duration_s=120)
Row = tuple[str, str, float, float]


def ours(path: str | list[str], **kw: object) -> list[Row]:
    t = find_encounters(path, PARAMS, crs="EPSG:27700", **kw)  # type: ignore[arg-type]
    return [
        (r["device_a"], r["device_b"], r["start"].timestamp(), r["end"].timestamp())
        for r in t.to_pylist()
    ]


def timed(fn: Callable[[], list[Row]]) -> tuple[float, list[Row]]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def agree(a: list[Row], b: list[Row]) -> str:
    if len(a) != len(b) or any(x[:2] != y[:2] for x, y in zip(a, b, strict=True)):
        return f"DIFFER: {len(a)} vs {len(b)} encounters"
    worst = max(
        (max(abs(x[2] - y[2]), abs(x[3] - y[3])) for x, y in zip(a, b, strict=True)), default=0.0
    )
    return f"agree: {len(a)} encounters, max boundary difference {worst * 1e3:.3f} ms"


def _job(kind: str, path: str, out: str) -> None:
    """In a fresh process: one timed run of `kind` on `path`; rows to `out`, figures printed."""
    import resource

    p = PARAMS
    args = (p.distance_m, p.max_gap_s, p.merge_gap_s, p.min_duration_s)
    # pyarrow imports pandas (≈ 0.3 s CPU) on its first array when pandas is installed (the
    # test extra): an import like the others, done before the timer for every job alike
    import importlib.util

    if importlib.util.find_spec("pandas") is not None:
        import pandas  # noqa: F401
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c = time.process_time()
    t = time.perf_counter()  # the modules are imported; reading the input is timed
    if kind == "whereabouts":
        rows = ours(path)
    elif kind == "meos":
        rows = meos_best.encounters(path, *args)
    elif kind == "postgis":
        rows = postgis_best.encounters(os.environ["WA_BENCH_DSN"], path, *args)
    else:
        raise SystemExit(f"unknown job {kind}")
    seconds = time.perf_counter() - t
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # a forked worker, if any
    cpu = time.process_time() - c + kids.ru_utime - kids0.ru_utime + kids.ru_stime - kids0.ru_stime
    Path(out).write_text(json.dumps(rows))
    print(json.dumps({"seconds": seconds, "peak_rss_gb": _peak_rss_gb(), "cpu_s": cpu}))


def _peak_rss_gb() -> float:
    """This process's peak RSS: VmHWM, whose count starts at exec (ru_maxrss keeps the
    forking parent's high-water mark across exec: 0.85 GB for every job of a compare run)."""
    import resource

    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _run_job(kind: str, path: Path, dsn: str | None) -> tuple[dict[str, float], list[Row]]:
    out = path.parent / f"{kind}.json"
    env = dict(os.environ, WHEREABOUTS_QUIET="1", WA_BENCH_DSN=dsn or "")
    done = subprocess.run(
        [sys.executable, __file__, "_job", kind, str(path), str(out)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    rows = [tuple(r) for r in json.loads(out.read_text())]
    return json.loads(done.stdout.strip().splitlines()[-1]), rows


def compare(a: argparse.Namespace) -> None:
    fleets = [int(n) for n in str(a.fleets).split(",")]
    runs = [int(n) for n in str(a.runs).split(",")]
    runs += [runs[-1]] * (len(fleets) - len(runs))
    skip = set(filter(None, str(a.skip).split(",")))
    kinds = [k for k in ("whereabouts", "meos", "postgis") if k not in skip]
    tmp = Path(tempfile.mkdtemp(prefix="wa-bench-"))
    # a `kill` runs the finally below too: the private cluster is stopped and removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster = None
    if "postgis" in kinds:
        try:
            cluster = postgis_baseline.Cluster().__enter__()
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            print(f"PostGIS baseline skipped: {exc}")
            kinds.remove("postgis")
    summary = []
    try:
        for devices, n_runs in zip(fleets, runs, strict=True):
            side = 8_000.0 * (devices / 500) ** 0.5  # the same density as the 500-device town
            table = fleet_mod.fleet_table(devices, a.hours, seed=a.seed, side_m=side)
            path = tmp / f"fleet_{devices}.parquet"
            pq.write_table(table, path)
            print(
                f"\nfleet: {devices} devices × {a.hours:g} h at 30 s = {table.num_rows:,} "
                f"fixes ({side / 1000:.0f} km town)",
                flush=True,
            )
            del table
            times: dict[str, list[float]] = {k: [] for k in kinds}
            cpu: dict[str, list[float]] = {k: [] for k in kinds}
            rss: dict[str, float] = dict.fromkeys(kinds, 0.0)
            rows: dict[str, list[Row]] = {}
            for i in range(n_runs):
                for kind in kinds:
                    fig, rows[kind] = _run_job(kind, path, cluster.dsn() if cluster else None)
                    times[kind].append(fig["seconds"])
                    cpu[kind].append(fig["cpu_s"])
                    rss[kind] = max(rss[kind], fig["peak_rss_gb"])
                    print(
                        f"  run {i + 1} {kind:11s} {fig['seconds']:8.2f} s "
                        f"({fig['cpu_s']:.1f} s CPU{' in the client' if kind == 'postgis' else ''}"
                        "), peak RSS "
                        f"{'(client) ' if kind == 'postgis' else ''}"
                        f"{fig['peak_rss_gb']:.2f} GB (load {os.getloadavg()[0]:.1f})",
                        flush=True,
                    )
            med = {k: statistics.median(v) for k, v in times.items()}
            med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
            for kind in kinds:
                line = f"  {kind:11s} median {med[kind]:8.2f} s of {n_runs}"
                if kind == "whereabouts":
                    line += f" (CPU {med_cpu[kind]:.1f} s)"
                if kind == "meos" and "whereabouts" in med:  # one process each: CPU compares
                    line += (
                        f" (CPU {med_cpu[kind]:.1f} s, "
                        f"{med_cpu[kind] / med_cpu['whereabouts']:.1f}× whereabouts' CPU)"
                    )
                if kind != "whereabouts" and "whereabouts" in med:
                    line += (
                        f" = {med[kind] / med['whereabouts']:5.1f}× whereabouts; "
                        f"{agree(rows['whereabouts'], rows[kind])}"
                    )
                print(line)
            summary.append(
                {
                    "devices": devices,
                    "medians_s": med,
                    "runs_s": times,
                    "cpu_s": cpu,
                    "peak_rss_gb": rss,
                    "load": os.getloadavg()[0],
                }
            )
    finally:
        if cluster is not None:
            cluster.__exit__(None, None, None)
        shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        print(json.dumps(summary))


def _child(paths: list[str], devices: list[str] | None) -> None:
    """Run in a fresh process: time one engine run; print seconds, CPU, encounters, peak RSS.

    The result is also appended to engine_runs.jsonl beside the data (a record of every run).
    """
    import resource

    t = time.perf_counter()
    n = len(ours(paths, devices=devices))
    seconds = time.perf_counter() - t
    use = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the forked workers (one a day)
    result = {
        "seconds": seconds,
        "cpu_s": use.ru_utime + use.ru_stime + kids.ru_utime + kids.ru_stime,
        "encounters": n,
        "peak_rss_gb": _peak_rss_gb(),
        "worker_peak_rss_gb": kids.ru_maxrss / 1024 / 1024,
        "days": len(paths),
        "devices": devices,
        "data": str(Path(paths[0]).parent),
    }
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
        print(f"wrote {devices} devices × {days} days in {time.perf_counter() - t:.0f} s to {data}")
        have = sorted(data.glob("day=*"))
    return have[:days]


def scale(a: argparse.Namespace) -> None:
    days = [int(d) for d in a.days.split(",")]
    folders = _ensure(Path(a.data), a.devices, max(days), a.seed)
    for n in days:
        r = _run_child(folders[:n])
        fixes = sum(
            pq.ParquetFile(next(f.glob("*.parquet"))).metadata.num_rows for f in folders[:n]
        )
        print(
            f"{a.devices} devices × {n} days ({fixes:,} fixes), all pairs: "
            f"{r['seconds']:.0f} s wall, {r['cpu_s']:.0f} s CPU (both processes), peak RSS "
            f"{r['peak_rss_gb']:.2f} GB (its forked worker's {r['worker_peak_rss_gb']:.2f} "
            f"GB, mostly pages shared with it), {int(r['encounters'])} encounters",
            flush=True,
        )


def pair(a: argparse.Namespace) -> None:
    folders = _ensure(Path(a.data), a.devices, a.days, a.seed)
    times = []
    for _ in range(a.runs):
        r = _run_child(folders, ["D0000", "D0001"])
        times.append(r["seconds"])
        print(
            f"  D0000 with D0001 over {a.days} days: {r['seconds']:.2f} s "
            f"({r['cpu_s']:.2f} s CPU), "
            f"{int(r['encounters'])} encounters, peak RSS {r['peak_rss_gb']:.2f} GB",
            flush=True,
        )
    print(
        f"median of {a.runs}: {statistics.median(times):.2f} s (fresh process each, "
        f"reading included)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--fleets", default="500,2000", help="devices per fleet, comma-separated")
    c.add_argument("--hours", type=float, default=24)
    c.add_argument("--runs", default="3,1", help="runs per fleet, comma-separated")
    c.add_argument("--skip", default="", help="meos and/or postgis, comma-separated")
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
    j = sub.add_parser("_job")
    j.add_argument("kind")
    j.add_argument("path")
    j.add_argument("out")
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
    elif a.cmd == "_job":
        _job(a.kind, a.path, a.out)
    else:
        _child(a.paths, a.pair.split(",") if a.pair else None)


if __name__ == "__main__":
    main()
