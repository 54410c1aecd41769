"""Benchmark: LIP decoding throughput (PDUs/s), vectorised vs a per-PDU Python baseline.

Generates N PDUs with the encoder (by default 80 % short reports with the 0x0A identifier,
10 % short without it, 10 % long reports with time of position, uncertainty circle and
velocity), then times `decode_pdus` (median of --runs) and, on a sample, a straightforward
per-PDU Python decoder of the short report as the baseline.

    .venv/bin/python bench/lip.py --n 1000000 --runs 3 [--csv]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

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
        out[m] = encode_short(lat[m], lon[m], time_elapsed_code=rng.integers(0, 4, m.sum()),
                              position_error_code=rng.integers(0, 6, m.sum()),
                              speed_kmh=kmh[m], heading_deg=hdg[m], protocol_id=pi)
    m = kind == 2
    t = np.datetime64("2024-02-05T07:00:00") + rng.integers(0, 86400, m.sum()).astype(
        "timedelta64[s]")
    out[m] = encode_long(lat[m], lon[m], time_of_position=t,
                         uncertainty_m=rng.uniform(2, 500, m.sum()), speed_kmh=kmh[m],
                         heading_deg=hdg[m])
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of PDUs")
    ap.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    ap.add_argument("--baseline-n", type=int, default=200_000,
                    help="PDUs for the per-PDU Python baseline")
    ap.add_argument("--csv", action="store_true",
                    help="also time read_lip on a LIP log of the same PDUs (CSV → fixes)")
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
    print(f"decode_pdus: median {med:.3f} s of {[round(t, 3) for t in times]} → "
          f"{args.n / med:,.0f} PDUs/s wall; {args.n / statistics.median(cpu):,.0f} PDUs/s "
          "per CPU second (less sensitive to other load on the machine)")

    sample = pdus.slice(0, min(args.baseline_n, args.n)).to_pylist()
    base = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        baseline_decode(sample)
        base.append(time.perf_counter() - t0)
    bmed = statistics.median(base)
    print(f"baseline (Python loop, short reports only): {len(sample) / bmed:,.0f} PDUs/s; "
          f"vectorised is {(args.n / med) / (len(sample) / bmed):.1f}x faster")
    print("target: >= 1,000,000 PDUs/s —", "met" if args.n / med >= 1e6 else "NOT met")
    if args.csv:
        rng = np.random.default_rng(1)
        t = np.datetime64("2024-02-05T07:00:00") + rng.integers(0, 86400, args.n).astype(
            "timedelta64[s]")
        log = pa.table({"issi": pa.array(rng.integers(6_200_000, 6_201_000, args.n).astype(str)),
                        "received_at": pa.array(np.char.add(np.datetime_as_string(t), "Z")),
                        "pdu_hex": pdus})
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "lip.csv"
            pacsv.write_csv(log, path, pacsv.WriteOptions(quoting_style="none"))
            reads = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                result = read_lip(path)
                reads.append(time.perf_counter() - t0)
        rmed = statistics.median(reads)
        print(f"read_lip (CSV → fixes, {result.counts}): median {rmed:.3f} s → "
              f"{args.n / rmed:,.0f} rows/s")


if __name__ == "__main__":
    main()
