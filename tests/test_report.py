"""The evidential report end to end: contents, no real names, PDF pages, reproducibility,
input hashes, edge cases (no occasions, one, many), annotations and the command line."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from typer.testing import CliRunner

import report_fixtures as rf
from whereabouts.errors import NoDataError, PermissionDenied
from whereabouts.report import ReportOptions, build_report

CASE = "PSD-2024-001"


def _pdf_text(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(path)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("report")
    ws, _ = rf.build(root, occasions=6)
    result = build_report(ws, out_dir=root / "out", case_ref=CASE)
    return root, ws, result


def test_contents_in_the_order_a_panel_reads(built: tuple[Path, Path, object]) -> None:
    root, _, _ = built
    html = (root / "out" / "report.html").read_text(encoding="utf-8")
    headings = re.findall(r"<h2[^>]*>(\d+)\. ([^<]+)</h2>", html)
    assert [int(n) for n, _ in headings] == list(range(1, 14))
    titles = [t for _, t in headings]
    assert titles[0] == "Summary" and titles[-1] == "How to check and reproduce this report"
    # 6 occasions, 2 at police premises (every third), so 4 with no policing reason found.
    assert "<strong>6 occasions</strong>" in html
    assert "4\noccasions" in html or "4 occasions" in html
    assert html.count('<section class="occasion">') == 6
    assert html.count('alt="Map of occasion') == 6 and html.count('alt="Timeline of') == 6
    for phrase in (
        "GMT",
        "BST",
        "metres",
        "likely",
        "no policing reason found",
        "Longest gap bridged",
        "PC One",
        "PC Two",
    ):
        assert phrase in html


def test_self_contained_no_external_assets(built: tuple[Path, Path, object]) -> None:
    root, _, _ = built
    html = (root / "out" / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["'](https?:|//|file:)""", html)
    assert "<link" not in html and "<script" not in html
    assert re.findall(r'<img[^>]+src="([^"]{0,30})', html)  # figures are there …
    assert all(
        s.startswith("data:image/svg+xml;base64,")
        for s in re.findall(r'<img[^>]+src="([^"]{0,30})', html)
    )  # … and inline


def test_no_real_names_and_key_kept_apart(built: tuple[Path, Path, object]) -> None:
    root, _, result = built
    html = (root / "out" / "report.html").read_text(encoding="utf-8")
    text = "\n".join(_pdf_text(root / "out" / "report.pdf"))
    for secret in [*rf.NAMES.values(), *rf.NAMES, "Acacia"]:
        assert secret not in html, secret
        assert secret not in text, secret
    key = (root / "out" / "report-key.csv").read_text(encoding="utf-8")
    assert "PC One,P1001,Alex Morgan" in key and "PC Two,P1002,Sam Price" in key
    assert result.key != result.html  # type: ignore[attr-defined]
    assert "home of PC Two" in html  # a home is shown only as whose home it is


def test_pdf_pages_render_and_are_not_blank(built: tuple[Path, Path, object]) -> None:
    root, _, result = built
    pdf = pdfium.PdfDocument(root / "out" / "report.pdf")
    try:
        n = len(pdf)
        # Title and tables, one page per occasion, then maps, charts and appendices.
        assert 6 + 4 <= n <= 6 + 16
        assert n == result.pages  # type: ignore[attr-defined]
        for i in (0, 3, n - 1):
            img = np.asarray(pdf[i].render(scale=0.5).to_pil().convert("L"))
            inked = (img < 200).mean()
            assert 0.005 < inked < 0.6, (i, inked)
    finally:
        pdf.close()
    pages = _pdf_text(root / "out" / "report.pdf")
    assert "Summary" in pages[0] and "OFFICIAL-SENSITIVE" in pages[0]
    assert f"Page 1 of {n}" in pages[0]
    assert any("Occasion 1:" in p for p in pages)


def test_same_inputs_give_identical_html(built: tuple[Path, Path, object], tmp_path: Path) -> None:
    # The PDF's text is compared on the real pipeline (test_report_demo.py).
    root, ws, _ = built
    again = build_report(
        ws, out_dir=tmp_path / "again", case_ref=CASE, options=ReportOptions(pdf=False)
    )
    # made twice at one audit head: byte for byte the same
    twice = build_report(
        ws, out_dir=tmp_path / "twice", case_ref=CASE, options=ReportOptions(pdf=False)
    )
    assert twice.html.read_bytes() == again.html.read_bytes()
    # and the same as the first but for the audit line, the one meant to differ (other tests
    # in this module write to the case store, which the first report was made without)
    audit = re.compile(r'<meta name="whereabouts-audit"[^>]*>\n|<tr><th>Audit</th>.*</tr>\n')
    first = (root / "out" / "report.html").read_text(encoding="utf-8")
    second = again.html.read_text(encoding="utf-8")
    assert len(audit.findall(second)) == 2
    assert audit.sub("", second) == audit.sub("", first)


def test_one_changed_input_byte_changes_the_reported_sha256(tmp_path: Path) -> None:
    def run(root: Path) -> tuple[str, str]:
        ws, _ = rf.build(root, occasions=1)
        html = build_report(
            ws, out_dir=root / "out", case_ref=CASE, options=ReportOptions(pdf=False)
        ).html.read_text(encoding="utf-8")
        return html, hashlib.sha256((root / "inputs" / "places.csv").read_bytes()).hexdigest()

    html1, sha1 = run(tmp_path / "one")
    assert sha1 in html1
    # The same workspace from inputs differing in one byte of places.csv (radius 80 → 81).
    real_write = rf._write_inputs

    def one_byte_changed(inputs: Path) -> list[dict[str, object]]:
        real_write(inputs)
        p = inputs / "places.csv"
        data = bytearray(p.read_bytes())
        i = data.index(b",80,")
        data[i + 2] = ord("1")
        p.write_bytes(bytes(data))
        return real_write_manifest(inputs)

    def real_write_manifest(inputs: Path) -> list[dict[str, object]]:
        entries = []
        for name in ("officers.csv", "places.csv", "fixes.csv"):
            b = (inputs / name).read_bytes()
            sha = hashlib.sha256(b).hexdigest()
            entries.append(
                {
                    "file_id": sha[:16],
                    "sha256": sha,
                    "size": len(b),
                    "name": name,
                    "kind": name.removesuffix(".csv"),
                    "counts": {"accepted": b.count(b"\n") - 1},
                }
            )
        return entries

    try:
        rf._write_inputs = one_byte_changed
        html2, sha2 = run(tmp_path / "two")
    finally:
        rf._write_inputs = real_write
    assert sha2 != sha1
    assert sha2 in html2 and sha1 not in html2


def test_no_occasions_still_makes_a_report(tmp_path: Path) -> None:
    ws, _ = rf.build(tmp_path, occasions=0)
    result = build_report(ws, out_dir=tmp_path / "out", case_ref=CASE)
    html = result.html.read_text(encoding="utf-8")
    assert "<strong>no occasions</strong>" in html
    assert "There were no occasions with no policing reason found." in html
    assert result.occasions == 0 and result.pages is not None and 3 <= result.pages <= 10


def test_one_occasion(tmp_path: Path) -> None:
    ws, _ = rf.build(tmp_path, occasions=1)
    result = build_report(
        ws,
        out_dir=tmp_path / "out",
        case_ref=CASE,
        options=ReportOptions(pdf=False, label_style="mr-ms"),
    )
    html = result.html.read_text(encoding="utf-8")
    assert "<strong>1 occasion</strong>" in html
    assert "Mr A and Ms B" in html and "PC One" not in html
    assert result.pdf is None


def test_many_occasions_with_a_map_limit(tmp_path: Path) -> None:
    ws, run = rf.build(tmp_path, occasions=30)
    result = build_report(
        ws,
        out_dir=tmp_path / "out",
        occasions_dir=run,
        options=ReportOptions(pdf=False, max_occasion_maps=3),
    )
    html = result.html.read_text(encoding="utf-8")
    assert html.count('<section class="occasion">') == 30
    assert html.count('alt="Map of occasion') == 3
    assert "for the first 3 occasions only" in html


def test_missing_analysis_says_how_to_make_it(tmp_path: Path) -> None:
    ws, _ = rf.build(tmp_path, occasions=1)
    with pytest.raises(NoDataError) as info:
        build_report(ws, out_dir=tmp_path / "out", case_ref="PSD-NOPE")
    assert "whereabouts investigate" in info.value.hint


def test_annotations_audit_and_refusal(tmp_path: Path) -> None:
    ws, _ = rf.build(tmp_path, occasions=3)
    store = rf.authorised_case(ws)
    import pyarrow.parquet as pq

    occ = pq.read_table(ws / "runs" / CASE / "occasions.parquet")
    first = occ.sort_by("start")["occasion_id"][0].as_py()
    store.annotate(
        first,
        CASE,
        "inv",
        "Sam Price says they were on refreshment break",
        reason_rejected="premises",
    )
    result = build_report(
        ws, out_dir=tmp_path / "out", case_ref=CASE, options=ReportOptions(pdf=False), user="inv"
    )
    html = result.html.read_text(encoding="utf-8")
    assert "PC Two says they were on refreshment break" in html
    assert "Sam Price" not in html
    assert "reason rejected: at police premises" in html
    audit = store.audit.export(fmt="json", case_ref=CASE)
    assert '"action": "report.write"' in audit
    with pytest.raises(PermissionDenied):
        build_report(
            ws,
            out_dir=tmp_path / "refused",
            case_ref=CASE,
            options=ReportOptions(pdf=False),
            user="other",
        )
    assert not (tmp_path / "refused" / "report.html").exists()


def test_cli_writes_the_report(tmp_path: Path) -> None:
    from whereabouts.cli import app

    ws, run = rf.build(tmp_path, occasions=2)
    rf.authorised_case(ws)
    out = tmp_path / "cli-out"
    res = CliRunner(env={"WHEREABOUTS_PASSWORD": "inv-password-123"}).invoke(
        app,
        [
            "report",
            str(ws),
            "--occasions",
            str(run),
            "--out",
            str(out),
            "--no-pdf",
            "--user",
            "inv",
            "--labels",
            "P1001=Mr A,P1002=Ms B",
            "--key",
            str(tmp_path / "vault" / "key.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "report of 2 occasions" in res.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Mr A" in html and "Ms B" in html and "P1001" not in html
    assert (tmp_path / "vault" / "key.csv").exists() and not (out / "report-key.csv").exists()


def test_cli_report_carries_the_exhibit_block_and_audit_head(tmp_path: Path) -> None:
    from whereabouts.case import CaseStore
    from whereabouts.cli import app

    ws, run = rf.build(tmp_path, occasions=1)
    rf.authorised_case(ws)
    runner = CliRunner(env={"WHEREABOUTS_PASSWORD": "inv-password-123"})
    args = [
        "report",
        str(ws),
        "--occasions",
        str(run),
        "--no-pdf",
        "--user",
        "inv",
        "--exhibit",
        "JS/1",
    ]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    store = CaseStore.open(ws)
    head = store.audit.anchor().statement
    store.close()
    html = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    block = html[
        html.index("<h3>Exhibit</h3>") : html.index("</section>", html.index("<h3>Exhibit"))
    ]
    assert "JS/1" in block and "inv" in block  # the reference, and the producer from the store
    assert head in block  # the audit head after the report's own entry
    assert "not stated, so that re-running gives an identical report" in block
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--dated"])
    assert res.exit_code == 0, res.output
    dated = (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
    assert "not stated, so that" not in dated and " UTC</td>" in dated


def test_cli_without_case_or_folder_says_how_to_fix(tmp_path: Path) -> None:
    import subprocess
    import sys

    ws, _ = rf.build(tmp_path, occasions=1)
    res = subprocess.run(
        [sys.executable, "-m", "whereabouts", "report", str(ws), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert "--case REF or --occasions DIR" in res.stderr
    assert not (tmp_path / "o").exists()


def test_each_occasion_page_holds_its_facts_map_and_timeline(
    built: tuple[Path, Path, object],
) -> None:
    """The layout keeps an occasion's fact box, map and timeline on one page, and leaves
    no page half blank unless the next one starts a section that begins on a new page."""
    root, _, _ = built
    pages = _pdf_text(root / "out" / "report.pdf")
    for n in range(1, 7):
        (page,) = [p for p in pages if f"Occasion {n}:" in p and "Who" in p]
        assert f"Map of occasion {n}" in page and "Timeline:" in page, n
    pdf = pdfium.PdfDocument(root / "out" / "report.pdf")
    try:
        for i in range(len(pdf) - 1):
            img = np.asarray(pdf[i].render(scale=0.4).to_pil().convert("L"))
            h = img.shape[0]
            body = img[int(h * 0.07) : int(h * 0.9)]  # without the marking and the footer
            rows = np.flatnonzero((body < 200).any(axis=1))
            filled = (rows.max() + 1) / len(body) if len(rows) else 0.0
            if filled < 0.5:  # a short page: only before a section that starts a page
                following = pages[i + 1].replace("OFFICIAL-SENSITIVE", "").lstrip()
                assert following.startswith(("Occasion ", "6. Each occasion")), (
                    f"page {i + 1} is {filled:.0%} full and page {i + 2} starts {following[:40]!r}"
                )
    finally:
        pdf.close()
