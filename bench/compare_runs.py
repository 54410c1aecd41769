"""Compare the investigation of a bench force made by this checkout's code and by another
revision's, on the same workspace: every table both runs write by pyarrow Table.equals on
the columns both have, and summary.json on the keys both have.

A refactor must leave the outputs identical. Between two revisions that also changed the
outputs on purpose (a new column, a new table, a new summary key), the comparison is of
what both write; what only one of them writes is listed, so a reader sees exactly what
was and was not compared.

usage: python bench/compare_runs.py WORKDIR REV [--baseline team|none] [--keep DIR]
    WORKDIR: a folder made by bench/investigate.py (its ws/ and data/truth/cast.json);
    the two subjects are its planted meeting pair, the period its whole simulation.
Exit status 1 when anything both write differs.
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

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent

RUN = """
import sys, json
from datetime import datetime
from pathlib import Path
from whereabouts.analysis.investigate import investigate
ws, who, a, b, out, base = sys.argv[1:]
investigate(ws, who.split(","), datetime.fromisoformat(a), datetime.fromisoformat(b),
            out_dir=Path(out), baseline=base)
import whereabouts
print(json.dumps({"code": whereabouts.__file__}))
"""


def run(
    src: Path, ws: Path, who: list[str], t0: datetime, t1: datetime, out: Path, base: str
) -> float:
    """Investigate with the whereabouts in `src`; returns its wall time in seconds."""
    env = dict(os.environ, PYTHONPATH=str(src), WHEREABOUTS_QUIET="1")
    began = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN,
            str(ws),
            ",".join(who),
            t0.isoformat(),
            t1.isoformat(),
            str(out),
            base,
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    code = json.loads(done.stdout.strip().splitlines()[-1])["code"]
    if not code.startswith(str(src)):
        raise SystemExit(f"the run imported {code}, not the code in {src}")
    return time.perf_counter() - began


def common_keys(old: Any, new: Any, path: str, diffs: list[str], only: list[str]) -> None:
    """Compare two JSON values on what both have; note keys only one has."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            if k not in new or k not in old:
                only.append(f"{path}.{k} only in {'old' if k in old else 'new'}")
            else:
                common_keys(old[k], new[k], f"{path}.{k}", diffs, only)
    elif old != new:
        diffs.append(f"{path}: {str(old)[:80]} != {str(new)[:80]}")


def compare(old: Path, new: Path) -> int:
    diffs: list[str] = []
    only: list[str] = []
    for a in sorted(old.glob("*.parquet")):
        b = new / a.name
        if not b.exists():
            only.append(f"{a.name} only in old")
            continue
        ta, tb = pq.read_table(a), pq.read_table(b)
        cols = [c for c in ta.column_names if c in tb.column_names]
        only += [f"{a.name}:{c} only in old" for c in ta.column_names if c not in cols]
        only += [f"{a.name}:{c} only in new" for c in tb.column_names if c not in cols]
        same = ta.select(cols).equals(tb.select(cols))
        print(
            f"{'same' if same else 'DIFF'} {a.name}: {ta.num_rows} rows, {len(cols)} common columns"
        )
        if not same:
            bad = [c for c in cols if not ta.column(c).equals(tb.column(c))]
            diffs.append(f"{a.name}: columns {bad}")
    only += [
        f"{b.name} only in new"
        for b in sorted(new.glob("*.parquet"))
        if not (old / b.name).exists()
    ]
    s_old = json.loads((old / "summary.json").read_text())
    s_new = json.loads((new / "summary.json").read_text())
    for drop in ("software", "generated_at", "run_id"):  # differ between any two runs by design
        s_old.pop(drop, None)
        s_new.pop(drop, None)
    before = len(diffs)
    common_keys(s_old, s_new, "summary", diffs, only)
    print(f"{'same' if len(diffs) == before else 'DIFF'} summary.json (keys both have)")
    for line in only:
        print(f"  not compared: {line}")
    for line in diffs:
        print(f"  DIFF {line}")
    print("IDENTICAL (on what both write)" if not diffs else f"{len(diffs)} DIFFERENCES")
    return 1 if diffs else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("rev")
    parser.add_argument("--baseline", default="team", choices=("team", "none"))
    parser.add_argument("--keep", type=Path, default=None, help="write the two runs here")
    args = parser.parse_args()
    cast = json.loads((args.workdir / "data" / "truth" / "cast.json").read_text())
    start = datetime.fromisoformat(cast["config"]["start"]).replace(tzinfo=UTC)
    t0, t1 = start - timedelta(days=1), start + timedelta(days=int(cast["config"]["days"]) + 1)
    who = sorted(cast["cast"]["meeting_pair"])
    if args.keep is None:  # the two runs in a folder removed afterwards
        with tempfile.TemporaryDirectory(prefix="compare-runs-") as tmp:
            return _compare_runs(args.workdir, args.rev, args.baseline, who, t0, t1, Path(tmp))
    return _compare_runs(args.workdir, args.rev, args.baseline, who, t0, t1, args.keep)


def _compare_runs(
    workdir: Path,
    rev: str,
    baseline: str,
    who: list[str],
    t0: datetime,
    t1: datetime,
    keep: Path,
) -> int:
    """Run revision `rev`'s code and this checkout's on the bench force, into `keep`, and
    compare what they wrote."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    (keep / "rev").mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(keep / "rev")], input=archive, check=True)
    ws = workdir / "ws"
    t_old = run(keep / "rev" / "src", ws, who, t0, t1, keep / "old", baseline)
    t_new = run(ROOT / "src", ws, who, t0, t1, keep / "new", baseline)
    print(f"{rev}: {t_old:.1f} s; this checkout: {t_new:.1f} s; load {os.getloadavg()[0]:.1f}")
    return compare(keep / "old", keep / "new")


if __name__ == "__main__":
    raise SystemExit(main())
