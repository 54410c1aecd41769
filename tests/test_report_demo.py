"""The report on the real pipeline: a small simulated force through ingest, investigate and
report (the demo's own steps), then its hashes, names, pages and reproducibility."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from whereabouts.case import CaseStore
from whereabouts.case.audit import find_anchor
from whereabouts.report import ReportOptions, build_report
from whereabouts.simulate.demo import DemoState, step_ingest, step_investigate
from whereabouts.store import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(demo_case: DemoState) -> DemoState:
    return demo_case  # the session's demo (conftest.py), shared with the evidence tests


def _text(pdf_path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(pdf_path)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def test_demo_ends_with_html_pdf_and_a_separate_key(demo: DemoState) -> None:
    report = demo.out / "report"
    html = (report / "report.html").read_text(encoding="utf-8")
    pages = _text(report / "report.pdf")
    assert len(pages) >= 8
    # the demo's case is self-authorised: the report says so at the top and on every page
    assert "DEMO case: self-authorised" in html and "Not for evidential use" in html
    assert all("DEMO case" in page for page in pages)
    pdf = pdfium.PdfDocument(report / "report.pdf")
    try:
        for i in (0, len(pdf) // 2, len(pdf) - 1):
            ink = (np.asarray(pdf[i].render(scale=0.4).to_pil().convert("L")) < 200).mean()
            assert ink > 0.005, f"page {i + 1} looks blank"
    finally:
        pdf.close()
    officers = Workspace.open(demo.workspace_dir).table("officers")
    names = [n for n in officers["name"].to_pylist() if n]
    ids = officers["officer_id"].to_pylist()
    assert names and ids
    text = "\n".join(pages)
    for secret in [*names, *ids]:
        assert secret not in html and secret not in text, secret
    key = (report / "report-key.csv").read_text(encoding="utf-8")
    assert demo.simulation is not None
    for officer in demo.simulation.cast["meeting_pair"]:
        assert officer in key


def test_every_input_hash_is_reported(demo: DemoState) -> None:
    html = (demo.out / "report" / "report.html").read_text(encoding="utf-8")
    data_files = [
        p
        for p in sorted(demo.data_dir.rglob("*"))
        if p.is_file() and "truth" not in p.parts and p.suffix in (".csv", ".parquet", ".geojson")
    ]
    assert len(data_files) >= 9
    for path in data_files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in html, path.name


_HEAD = re.compile(r"audit head \d+:[0-9a-f]{64}")


def _but_the_audit_head(text: str) -> str:
    """The one line meant to differ between two makings: the audit head each was made at."""
    assert _HEAD.search(text), "the report states no audit head"
    return _HEAD.sub("audit head", text)


def test_rerun_gives_identical_html_and_pdf_text(demo: DemoState, tmp_path: Path) -> None:
    # made again after another audited read, so at a later audit head
    store = CaseStore.open(demo.workspace_dir)
    store.audit.append("someone", "location.read", demo.case_ref, {"n": 1})
    store.close()
    again = build_report(
        demo.workspace_dir,
        out_dir=tmp_path / "again",
        case_ref=demo.case_ref,
        occasions_dir=demo.run_dir,
    )
    first = (demo.out / "report" / "report.html").read_text(encoding="utf-8")
    second = again.html.read_text(encoding="utf-8")
    assert first != second
    assert _but_the_audit_head(second) == _but_the_audit_head(first)
    assert again.pdf is not None
    pdf_text = ["".join(p.split()) for p in _text(again.pdf)]
    first_pdf = ["".join(p.split()) for p in _text(demo.out / "report" / "report.pdf")]
    head = re.compile(r"audithead\d+:[0-9a-f]{64}")
    assert [head.sub("", p) for p in pdf_text] == [head.sub("", p) for p in first_pdf]


def test_the_report_states_the_audit_head_it_was_made_at(demo: DemoState) -> None:
    report = demo.out / "report"
    anchor = find_anchor(report / "report.html")
    assert find_anchor(report / "report.pdf") == anchor
    store = CaseStore.open(demo.workspace_dir)
    try:
        made = store.audit.entries(action="report.write")
        assert made[0]["seq"] == anchor.seq and made[0]["hash"] == anchor.hash
        assert store.audit.verify(against=anchor).ok
    finally:
        store.close()


def test_one_input_byte_changed_changes_the_reported_sha256(
    demo: DemoState, tmp_path: Path
) -> None:
    second = dataclasses.replace(demo, out=tmp_path / "second", workspace=None, ingested=[])
    shutil.copytree(demo.data_dir, second.data_dir)
    places = second.data_dir / "places.csv"
    data = bytearray(places.read_bytes())
    i = data.index(b"police station")
    data[i] = ord("P")  # one byte: 'police' → 'Police'
    places.write_bytes(bytes(data))
    old_sha = hashlib.sha256((demo.data_dir / "places.csv").read_bytes()).hexdigest()
    new_sha = hashlib.sha256(bytes(data)).hexdigest()
    step_ingest(second)
    step_investigate(second)
    html = build_report(
        second.workspace_dir,
        out_dir=second.out / "report",
        case_ref=second.case_ref,
        occasions_dir=second.run_dir,
        options=ReportOptions(pdf=False),
    ).html.read_text(encoding="utf-8")
    assert new_sha in html and old_sha not in html
