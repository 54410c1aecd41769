"""Compare two demo output folders: every Parquet table of the run and the workspace by
pyarrow Table.equals, summary.json / occasions.csv / report.html / report-key.csv byte for
byte after replacing the new run's case reference by the old one (and, in the report, its
CSS-escaped form and the SHA-256 of summary.json, which holds the reference; and the
audit head a report states, which hashes audit entries with their times; and summary.json's
record of the software, which a refactor changes) (a demo's case reference
is AUTO-<time>-<random>, so it differs between any two runs of the demo).

usage: python bench/compare_demo.py OLD NEW      (exit status 1 when anything differs)
"""

import re
import sys
from pathlib import Path

import pyarrow.parquet as pq


def run_dir(out: Path) -> Path:
    found = sorted(p.parent for p in (out / "workspace" / "runs").glob("**/summary.json"))
    assert len(found) == 1, f"{out}: runs {found}"
    return found[0]


def css(ref: str) -> bytes:
    return ref.replace("-", "\\2d ").encode()


def sha(path: Path) -> bytes:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest().encode()


def _without_software(text: bytes) -> bytes:
    """summary.json's bytes without its record of the software that made the run (a refactor
    changes whereabouts' source hash, so it always differs)."""
    import json

    data = json.loads(text)
    data.pop("software", None)
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def main(old: Path, new: Path) -> int:
    ro, rn = run_dir(old), run_dir(new)
    import json

    ref_o = json.loads((ro / "summary.json").read_text())["case"]
    ref_n = json.loads((rn / "summary.json").read_text())["case"]
    bad = 0
    pairs = [(ro / f.name, rn / f.name) for f in sorted(ro.glob("*.parquet"))]
    pairs += [
        (f, new / f.relative_to(old))
        for f in sorted((old / "workspace" / "tables").glob("*/*.parquet"))
    ]
    for a, b in pairs:
        same = b.exists() and pq.read_table(a).equals(pq.read_table(b))
        bad += not same
        print(("same " if same else "DIFF ") + str(a.relative_to(old)))
    for a, b in [
        (ro / "summary.json", rn / "summary.json"),
        (ro / "occasions.csv", rn / "occasions.csv"),
        (old / "report" / "report.html", new / "report" / "report.html"),
        (old / "report" / "report-key.csv", new / "report" / "report-key.csv"),
    ]:
        x, y = a.read_bytes(), b.read_bytes().replace(ref_n.encode(), ref_o.encode())
        # the CSS-escaped reference, and the SHA-256 of summary.json (which holds it)
        y = y.replace(css(ref_n), css(ref_o)).replace(
            sha(rn / "summary.json"), sha(ro / "summary.json")
        )
        # the audit head a report states (issue 22) hashes entries with their times: masked
        x, y = (re.sub(rb"audit head \d+:[0-9a-f]{64}", b"audit head N:H", v) for v in (x, y))
        if a.name == "summary.json":  # the software record (summary format 2) differs by design
            x, y = (_without_software(v) for v in (x, y))
        same = x == y
        bad += not same
        print(
            ("same " if same else "DIFF ") + str(a.relative_to(old)) + " (bytes, case ref replaced)"
        )
    new_files = sorted(str(p.relative_to(rn)) for p in rn.rglob("*") if p.is_file())
    old_files = sorted(str(p.relative_to(ro)) for p in ro.rglob("*") if p.is_file())
    if new_files != old_files:
        print(f"note: run folder files differ: old {old_files} new {new_files}")
    print("IDENTICAL" if not bad else f"{bad} DIFFERENCES")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
