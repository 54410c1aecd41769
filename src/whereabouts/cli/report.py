"""`whereabouts report`: the evidential report (HTML and PDF). Parse, call, print."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from whereabouts.cli.acting import UserOpt, acting
from whereabouts.errors import ParameterError

_out = Console(highlight=False, soft_wrap=True)


def report(
    ws: Annotated[Path, typer.Argument(help="The workspace folder.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write report.html, report.pdf and the key to.")
    ],
    case: Annotated[
        str | None, typer.Option("--case", help="Case reference: report its latest analysis.")
    ] = None,
    occasions: Annotated[
        Path | None,
        typer.Option(
            "--occasions", help="An analysis output folder (from `whereabouts investigate`)."
        ),
    ] = None,
    label_style: Annotated[
        str,
        typer.Option(
            help="Labels for the subjects: pc (PC One, PC Two), officer (Officer A), mr-ms (Mr A, Ms B)."
        ),
    ] = "pc",
    labels: Annotated[
        str | None,
        typer.Option(
            help="Explicit labels, e.g. 'P1001=Mr A,P1002=Ms B' (override --label-style)."
        ),
    ] = None,
    roads: Annotated[
        Path | None,
        typer.Option(help="Optional roads/areas GeoJSON (WGS84) drawn under the tracks."),
    ] = None,
    basemap: Annotated[
        str | None,
        typer.Option(
            help="Background map under the maps (context only, not evidence): a raster .mbtiles or .pmtiles file, or a tile URL such as https://tiles.force.example/{z}/{x}/{y}.png (fetched now; the tiles' SHA-256 are recorded)."
        ),
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the label key (default OUT/report-key.csv); keep it apart from the report."
        ),
    ] = None,
    marking: Annotated[
        str, typer.Option(help="Protective marking printed on every page.")
    ] = "OFFICIAL-SENSITIVE",
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF (WeasyPrint).")
    ] = True,
    max_maps: Annotated[
        int | None, typer.Option(help="Draw maps and timelines for the first N occasions only.")
    ] = None,
    user: UserOpt = None,
    exhibit: Annotated[
        str | None,
        typer.Option(
            help="Exhibit reference for the report's exhibit block, e.g. JS/1 (the producer and the audit head come from the case record)."
        ),
    ] = None,
    dated: Annotated[
        bool,
        typer.Option(
            help="State the date and time the report was made (a re-run then differs in that line)."
        ),
    ] = False,
) -> None:
    """Write the evidential report of a case: self-contained HTML and a PDF of the same content."""
    from datetime import UTC, datetime

    from whereabouts.report import ReportOptions, build_report, parse_label_option
    from whereabouts.report.build import Exhibit

    if case is None and occasions is None:
        raise ParameterError(
            "say which analysis to report", hint="give --case REF or --occasions DIR"
        )
    if basemap is not None:
        from whereabouts.basemap import open_basemap

        open_basemap(basemap).close()  # a missing, corrupt or vector tileset: refused first
    options = ReportOptions(
        label_style=label_style,
        labels=parse_label_option(labels) if labels else {},
        roads=roads,
        basemap=basemap,
        marking=marking,
        pdf=pdf,
        key_path=key,
        max_occasion_maps=max_maps,
        exhibit=Exhibit(
            reference=exhibit,
            made_at=datetime.now(UTC).strftime("%d/%m/%Y %H:%M:%S UTC") if dated else None,
        ),
    )
    from whereabouts.case import CaseStore

    store = CaseStore.open(ws)
    try:
        who = acting(store, user).username  # the credentials first; build_report audits
    finally:
        store.close()
    t0 = time.perf_counter()
    result = build_report(
        ws, out_dir=out, case_ref=case, occasions_dir=occasions, options=options, user=who
    )
    took = time.perf_counter() - t0
    _out.print(f"report of {result.occasions} occasions written in {took:.1f} s:")
    _out.print(f"  {result.html}")
    if result.pdf:
        _out.print(f"  {result.pdf} ({result.pages} pages)")
    _out.print(f"  {result.key}  (the key to the labels: keep it apart from the report)")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command()(report)
