"""The writers of outputs killed (kill -9) at every write step: a table export, a case
export (GeoJSON, GPX, KML, CSV, the OUT.audit beside it) and a screening's outputs are each
either absent or whole, never half a file under the final name; the same call then works."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from whereabouts.store.atomic import CRASH_AFTER, TEMPORARY


def _killed(fn: Callable[[], object], n: int) -> int:
    """Run `fn` in a forked process that kills itself at its n-th write step."""
    os.environ[CRASH_AFTER] = str(n)
    try:
        child = multiprocessing.get_context("fork").Process(target=fn)
        child.start()
        child.join(120)
    finally:
        del os.environ[CRASH_AFTER]
    assert child.exitcode is not None
    return child.exitcode


def _every_kill(folder: Path, fn: Callable[[], object], names: list[str]) -> int:
    """Kill `fn` at its 1st, 2nd, ... write step until it finishes; after each kill every
    file of `names` in `folder` is absent or byte for byte the finished one. Returns the
    number of write steps."""
    fn()
    whole = {name: (folder / name).read_bytes() for name in names}
    for name in names:
        (folder / name).unlink()
    n = 0
    while True:
        n += 1
        code = _killed(fn, n)
        for name in names:
            path = folder / name
            assert not path.exists() or path.read_bytes() == whole[name], (n, name)
        visible = [
            p.name
            for p in folder.iterdir()
            if not p.name.startswith(".") and not p.name.endswith(TEMPORARY)
        ]
        assert set(visible) <= set(names) | {"summary.json"}, (n, visible)
        if code == 0:
            break
        assert code == -9, code
        assert n < 50, "no end to the write steps"
    for name in names:
        assert (folder / name).read_bytes() == whole[name]
    return n


def test_a_table_export_is_whole_or_absent(tmp_path: Path) -> None:
    from whereabouts.store.export import export_table
    from whereabouts.store.workspace import Workspace

    src = tmp_path / "fixes.csv"
    src.write_text(
        "device_id,time,lat,lon,accuracy_m\n"
        + "".join(f"R{i % 3},2024-02-05T07:{i:02d}:00Z,51.48{i:02d},-3.17,5\n" for i in range(40))
    )
    ws = Workspace.init(tmp_path / "ws")
    ws.ingest("fixes", [src])
    out = tmp_path / "out"
    out.mkdir()

    def export() -> None:
        export_table(
            Workspace.open(tmp_path / "ws"),
            "fixes",
            out / "fixes.parquet",
            audit_head="audit head 1:" + "0" * 64,
        )
        export_table(Workspace.open(tmp_path / "ws"), "fixes", out / "fixes.csv")

    assert _every_kill(out, export, ["fixes.parquet", "fixes.csv"]) > 2


def test_case_exports_are_whole_or_absent(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    from whereabouts.case.audit import Anchor, state_anchor
    from whereabouts.exports.formats import _write_text, _write_xml, write_csv_rows

    out = tmp_path / "case"
    out.mkdir()

    def export() -> None:
        _write_text(out / "case.geojson", '{"type": "FeatureCollection", "features": []}\n')
        _write_xml(ET.Element("gpx", version="1.1"), out / "case.gpx")
        write_csv_rows(out / "case.csv", ["a", "b"], [["=1+1", "x"], ["2", "y"]])
        state_anchor(out / "case.csv", Anchor(7, "ab" * 32))  # the audit head it was made at

    assert _every_kill(out, export, ["case.geojson", "case.gpx", "case.csv", "case.csv.audit"]) > 4


def test_screening_outputs_are_whole_or_absent(tmp_path: Path) -> None:
    from whereabouts.store.runs import ScreeningRecord, write_screening

    out = tmp_path / "screening"
    ranked = pa.table({"officer_a": ["P1", "P2"], "officer_b": ["P3", "P4"], "score": [3.5, 1.25]})
    record = ScreeningRecord("S-1", "force-wide", "2024-01-01", "2024-02-01")
    out.mkdir()

    def screen() -> None:
        write_screening(out, ranked, record)

    assert _every_kill(out, screen, ["screening.parquet", "screening.csv", "summary.json"]) > 3
