"""How long the evidential report takes for a simulated case.

Simulates a force with a planted case (the demo's own steps: simulate, ingest, investigate),
then builds the report --repeat times and prints the median time, pages and sizes.

    .venv/bin/python bench/report.py --days 14            # the demo case
    .venv/bin/python bench/report.py --days 182 --out /tmp/six-months
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from whereabouts.report import ReportOptions, build_report
from whereabouts.simulate.demo import STEPS, run_demo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--officers", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="reuse or keep the simulated case here (default: a temporary folder)",
    )
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-report-"))
    t0 = time.perf_counter()
    state = run_demo(
        out,
        seed=args.seed,
        officers=args.officers,
        days=args.days,
        start=date(2024, 3, 4),
        say=lambda _: None,
        steps=STEPS[:-1],
    )  # no report
    print(
        f"case prepared in {time.perf_counter() - t0:.0f} s "
        f"({args.officers} officers, {args.days} days) in {out}"
    )
    times, cpu = [], []
    result = None
    for i in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        result = build_report(
            state.workspace_dir,
            out_dir=out / f"report-{i}",
            case_ref=state.case_ref,
            occasions_dir=state.run_dir,
            options=ReportOptions(),
        )
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    assert result is not None and result.pdf is not None
    same = len({(out / f"report-{i}" / "report.html").read_bytes() for i in range(args.repeat)})
    print(
        f"report: {result.occasions} occasions, {result.pages} pages, "
        f"HTML {result.html.stat().st_size / 1e6:.1f} MB, PDF {result.pdf.stat().st_size / 1e6:.1f} MB"
    )
    print(
        f"time: median {statistics.median(times):.1f} s wall, "
        f"{statistics.median(cpu):.1f} s CPU over {args.repeat} runs "
        f"(all: {', '.join(f'{t:.1f}' for t in times)}); identical HTML: {same == 1}"
    )


if __name__ == "__main__":
    main()
