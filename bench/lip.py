"""Benchmark: LIP decoding throughput (PDUs/s), and ingest of long LIP logs in bounded memory.

decode (the default): generates N PDUs with the encoder (by default 80 % short reports with
the 0x0A identifier, 10 % short without it, 10 % long reports with time of position,
uncertainty circle and velocity), then times `decode_pdus` (median of --runs) and, on a
sample, a straightforward per-PDU Python decoder of the short report as the baseline.

    .venv/bin/python bench/lip.py --n 1000000 --runs 3 [--csv]

ingest: writes a LIP log of --rows rows with the encoder (a 2,000-radio force over 30 days;
short and long reports, 0.2 % exact duplicates up to 400 k rows apart so many fall in
different chunks, 0.05 % bad PDUs), then ingests it into a fresh workspace in a child
process (the streaming reader, chunks of `BLOCK_BYTES`), reporting rows/s and the child's
peak RSS (ru_maxrss). The baseline, in the same run, is the previous whole-file reader —
the same reader given the whole log as one piece, as `read_lip` did before it streamed —
on --baseline-rows rows, next to the streaming reader on the same log, so the two peaks
compare on equal input (the whole-file reader was killed at 18 GB on a 79 M-row log).

    .venv/bin/python bench/lip.py ingest --rows 10000000 --baseline-rows 2000000 --runs 3
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
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from whereabouts.io.lip import decode_pdus, encode_long, encode_short, read_lip


def generate(n: int, seed: int = 7) -> pa.Array:
    """N PDUs around Great Britain: short with and without the identifier, and long."""
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(50.0, 58.0, n), rng.uniform(-6.0, 2.0, n)
    kmh, hdg = rng.uniform(0, 130, n), rng.uniform(0, 360, n)
    kind = rng.choice(3, size=n, p=[0.8, 0.1, 0.1])
    out = np.empty(n, dtype=object)
    for k, pi in ((0, True), (1, False)):
        m = kind == k
        out[m] = encode_short(
            lat[m],
            lon[m],
            time_elapsed_code=rng.integers(0, 4, m.sum()),
            position_error_code=rng.integers(0, 6, m.sum()),
            speed_kmh=kmh[m],
            heading_deg=hdg[m],
            protocol_id=pi,
        )
    m = kind == 2
    t = np.datetime64("2024-02-05T07:00:00") + rng.integers(0, 86400, m.sum()).astype(
        "timedelta64[s]"
    )
    out[m] = encode_long(
        lat[m],
        lon[m],
        time_of_position=t,
        uncertainty_m=rng.uniform(2, 500, m.sum()),
        speed_kmh=kmh[m],
        heading_deg=hdg[m],
    )
    return pa.array(out, pa.string())


def baseline_decode(pdus: list[str]) -> list[tuple[float, float]]:
    """A per-PDU Python decoder of the short report (what a naive reader would do)."""
    out = []
    for h in pdus:
        if len(h) in (21, 22):
            h = h[2:]
        if len(h) not in (19, 20) or h[0] not in "0123":
            out.append((float("nan"), float("nan")))
            continue
        v = int(h[:19], 16)
        lon = (v >> 47) & (2**25 - 1)
        lat = (v >> 23) & (2**24 - 1)
        lon -= (lon >= 2**24) << 25
        lat -= (lat >= 2**23) << 24
        out.append((lat * 180 / 2**24, lon * 360 / 2**25))
    return out


DEVICES = 2_000
DAYS = 30
WHOLE_FILE = 1 << 62  # a piece larger than any file: the whole log at once, as before


def write_log(path: Path, rows: int, seed: int = 11, block: int = 1_000_000) -> None:
    """A LIP log of `rows` rows in time order, written block by block with the encoder."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-03-01T00:00:00", "s")
    step = DAYS * 86400 / max(rows, 1)
    with pacsv.CSVWriter(
        path,
        pa.schema([("issi", pa.string()), ("received_at", pa.string()), ("pdu_hex", pa.string())]),
        write_options=pacsv.WriteOptions(quoting_style="none"),
    ) as writer:
        for first in range(0, rows, block):
            n = min(block, rows - first)
            received = start + (np.arange(first, first + n) * step).astype("timedelta64[s]")
            lat, lon = rng.uniform(51.3, 51.8, n), rng.uniform(-3.6, -2.9, n)
            kmh, hdg = rng.uniform(0, 130, n), rng.uniform(0, 360, n)
            kind = rng.choice(3, size=n, p=[0.85, 0.05, 0.10])
            pdus = np.empty(n, dtype=object)
            for k, pi in ((0, True), (1, False)):
                m = kind == k
                pdus[m] = encode_short(
                    lat[m],
                    lon[m],
                    time_elapsed_code=rng.integers(0, 4, m.sum()),
                    position_error_code=rng.integers(0, 6, m.sum()),
                    speed_kmh=kmh[m],
                    heading_deg=hdg[m],
                    protocol_id=pi,
                )
            m = kind == 2
            pdus[m] = encode_long(
                lat[m],
                lon[m],
                time_of_position=received[m]
                - rng.integers(0, 60, m.sum()).astype("timedelta64[s]"),
                uncertainty_m=rng.uniform(2, 500, m.sum()),
                speed_kmh=kmh[m],
                heading_deg=hdg[m],
            )
            pdus[rng.random(n) < 0.0005] = "0AZZ"  # bad PDUs: quarantined
            issi = rng.integers(6_200_000, 6_200_000 + DEVICES, n).astype(str).astype(object)
            when = np.char.add(np.datetime_as_string(received), "Z").astype(object)
            dup = np.flatnonzero(rng.random(n) < 0.002)
            dup = dup[dup > 0]
            src = dup - rng.integers(1, np.minimum(dup, 400_000) + 1)
            for col in (issi, when, pdus):  # exact copies of earlier rows
                col[dup] = col[src]
            writer.write_table(
                pa.table(
                    {
                        "issi": pa.array(issi, pa.string()),
                        "received_at": pa.array(when, pa.string()),
                        "pdu_hex": pa.array(pdus, pa.string()),
                    }
                )
            )


def _child(log: str, ws: str, block: int) -> None:
    """Inside the child process: ingest the log into a new workspace; JSON on stdout."""
    from whereabouts.io.lip import reader
    from whereabouts.store import Workspace

    if block:
        reader.BLOCK_BYTES = block
    t0 = time.perf_counter()
    report = Workspace.init(ws).ingest("lip", [log])[0]
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "counts": report.counts,
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            }
        )
    )


def ingest_once(log: Path, ws: Path, block: int) -> dict[str, Any]:
    """Ingest `log` in a child process reading pieces of `block` bytes (0: the default)."""
    shutil.rmtree(ws, ignore_errors=True)
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(log), str(ws), str(block)],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "WHEREABOUTS_QUIET": "1"},
    )
    shutil.rmtree(ws, ignore_errors=True)
    if out.returncode != 0:
        return {"failed": f"exit {out.returncode}: {out.stderr.strip()[-300:]}"}
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def ingest_bench(rows: int, baseline_rows: int, runs: int, tmp: str | None, block: int = 0) -> None:
    """Streaming ingest of `rows` rows; both readers on `baseline_rows` rows."""
    with tempfile.TemporaryDirectory(dir=tmp) as d:
        plan = [("streaming", rows, False)]
        if baseline_rows:
            plan = [
                ("streaming", baseline_rows, False),
                ("whole file", baseline_rows, True),
                *([("streaming", rows, False)] if rows != baseline_rows else []),
            ]
        logs: dict[int, Path] = {}
        for n in sorted({n for _, n, _ in plan}):
            t0 = time.perf_counter()
            logs[n] = Path(d) / f"lip_{n}.csv"
            write_log(logs[n], n)
            print(
                f"wrote {n:,}-row log ({logs[n].stat().st_size / 2**20:,.0f} MB) in "
                f"{time.perf_counter() - t0:.1f} s"
            )
        results: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for r in range(runs):  # alternating, so load on the machine hits every reader alike
            for name, n, whole in plan:
                got = ingest_once(logs[n], Path(d) / "ws", WHOLE_FILE if whole else block)
                results.setdefault((name, n), []).append(got)
                print(
                    f"  run {r + 1} {name:10} {n:>12,} rows: "
                    + (
                        str(got["failed"])
                        if "failed" in got
                        else f"{got['seconds']:.1f} s, peak RSS {got['peak_rss_mb']:,.0f} MB"
                    )
                )
        print("\nreader      rows          median s   rows/s      rows/CPU-s  peak RSS MB  counts")
        peaks: dict[tuple[str, int], float] = {}
        for (name, n), tries in results.items():
            ok = [g for g in tries if "failed" not in g]
            if not ok:
                print(f"{name:11} {n:<13,} failed: {tries[0]['failed']}")
                continue
            sec = statistics.median([float(g["seconds"]) for g in ok])
            cpu = statistics.median([float(g["cpu_seconds"]) for g in ok])
            peaks[(name, n)] = max(float(g["peak_rss_mb"]) for g in ok)
            print(
                f"{name:11} {n:<13,} {sec:<10.1f} {n / sec:<11,.0f} {n / cpu:<11,.0f} "
                f"{peaks[(name, n)]:<12,.0f} {ok[0]['counts']}"
            )
        big = peaks.get(("streaming", rows))
        if big is not None:
            print(
                f"\ntarget: peak RSS < 2,048 MB at {rows:,} rows — "
                + ("met" if big < 2048 else "NOT met")
            )
        base, new = (
            peaks.get(("whole file", baseline_rows)),
            peaks.get(("streaming", baseline_rows)),
        )
        if base and new:
            print(
                f"at {baseline_rows:,} rows the whole-file reader peaks at {base:,.0f} MB, "
                f"streaming at {new:,.0f} MB ({base / new:.1f}x less)"
            )
        if big and new and rows != baseline_rows:
            print(
                f"streaming peak grows {big / new:.2f}x for {rows / baseline_rows:.0f}x the "
                "rows (the whole-file reader grows with the log: a 79 M-row log was killed "
                "at 18 GB)"
            )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "ingest":
        ip = argparse.ArgumentParser(
            prog="bench/lip.py ingest", description="ingest a long LIP log in bounded memory"
        )
        ip.add_argument("--rows", type=int, default=10_000_000, help="rows of the LIP log")
        ip.add_argument(
            "--baseline-rows",
            type=int,
            default=2_000_000,
            help="rows for the whole-file reader and the streaming one side by "
            "side (0: skip the baseline)",
        )
        ip.add_argument("--runs", type=int, default=3, help="runs of each (median reported)")
        ip.add_argument("--tmp", default=None, help="folder for the log and workspace")
        ip.add_argument(
            "--block-mb",
            type=float,
            default=0,
            help="bytes of the log per chunk, in MB (default: the reader's)",
        )
        a = ip.parse_args(sys.argv[2:])
        ingest_bench(a.rows, a.baseline_rows, a.runs, a.tmp, int(a.block_mb * 2**20))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of PDUs")
    ap.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    ap.add_argument(
        "--baseline-n", type=int, default=200_000, help="PDUs for the per-PDU Python baseline"
    )
    ap.add_argument(
        "--csv",
        action="store_true",
        help="also time read_lip on a LIP log of the same PDUs (CSV → fixes)",
    )
    args = ap.parse_args()

    t0 = time.perf_counter()
    pdus = generate(args.n)
    print(f"generated {args.n:,} PDUs in {time.perf_counter() - t0:.2f} s (encoder)")
    times, cpu = [], []
    for _ in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        table = decode_pdus(pdus)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert table["error"].null_count == args.n, "every generated PDU must decode"
    med = statistics.median(times)
    print(
        f"decode_pdus: median {med:.3f} s of {[round(t, 3) for t in times]} → "
        f"{args.n / med:,.0f} PDUs/s wall; {args.n / statistics.median(cpu):,.0f} PDUs/s "
        "per CPU second (less sensitive to other load on the machine)"
    )

    sample = pdus.slice(0, min(args.baseline_n, args.n)).to_pylist()
    base = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        baseline_decode(sample)
        base.append(time.perf_counter() - t0)
    bmed = statistics.median(base)
    print(
        f"baseline (Python loop, short reports only): {len(sample) / bmed:,.0f} PDUs/s; "
        f"vectorised is {(args.n / med) / (len(sample) / bmed):.1f}x faster"
    )
    print("target: >= 1,000,000 PDUs/s —", "met" if args.n / med >= 1e6 else "NOT met")
    if args.csv:
        rng = np.random.default_rng(1)
        t = np.datetime64("2024-02-05T07:00:00") + rng.integers(0, 86400, args.n).astype(
            "timedelta64[s]"
        )
        log = pa.table(
            {
                "issi": pa.array(rng.integers(6_200_000, 6_201_000, args.n).astype(str)),
                "received_at": pa.array(np.char.add(np.datetime_as_string(t), "Z")),
                "pdu_hex": pdus,
            }
        )
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "lip.csv"
            pacsv.write_csv(log, path, pacsv.WriteOptions(quoting_style="none"))
            reads = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                result = read_lip(path)
                reads.append(time.perf_counter() - t0)
        rmed = statistics.median(reads)
        print(
            f"read_lip (CSV → fixes, {result.counts}): median {rmed:.3f} s → "
            f"{args.n / rmed:,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
