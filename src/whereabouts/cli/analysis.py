"""`whereabouts investigate` and `whereabouts screen`: parse, check authority, call, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, get_args

import typer
from rich.console import Console
from rich.table import Table

from whereabouts.cli.acting import UserOpt, acting
from whereabouts.cli.settings import with_settings
from whereabouts.days import FROM_HELP, TO_HELP, day_span, describe, parse_when
from whereabouts.errors import ParameterError
from whereabouts.settings import SETTINGS
from whereabouts.vocabulary import BaselineGroup

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _ids(text: str | None) -> list[str]:
    return sorted({t.strip() for t in (text or "").split(",") if t.strip()})


@with_settings([s.name for s in SETTINGS])
def investigate(
    workspace: Annotated[Path, typer.Argument(help="The workspace folder.")],
    subjects: Annotated[
        str | None,
        typer.Option(help="Officer ids, comma-separated (default: the case's subjects)."),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help=FROM_HELP + " Default: the case's.")
    ] = None,
    to: Annotated[str | None, typer.Option(help=TO_HELP + " Default: the case's.")] = None,
    case: Annotated[
        str | None,
        typer.Option(help="Case reference; without it a case is opened (or reused) for you."),
    ] = None,
    purpose: Annotated[str | None, typer.Option(help="Why, when no --case is given.")] = None,
    user: UserOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder (default: a new run of the case in WS/runs/<case>/)."),
    ] = None,
    baseline: Annotated[
        str, typer.Option(help="Compare with every pair of the subjects' team, station, or none.")
    ] = "team",
    report: Annotated[
        str,
        typer.Option(
            help="Then write the evidential report into "
            "OUT/report: pdf (HTML and PDF), html, or none."
        ),
    ] = "pdf",
    basemap: Annotated[
        str | None,
        typer.Option(
            help="Background map for the report's maps "
            "(context only): a raster .mbtiles or "
            ".pmtiles file, or a tile URL such as "
            "https://tiles.force.example/{z}/{x}/{y}.png."
        ),
    ] = None,
    *,
    settings: dict[str, float | bool],
) -> None:
    """Occasions of two or more officers together, labelled with reasons and context."""
    from whereabouts.analysis.investigate import investigate as run
    from whereabouts.analysis.params import AnalysisParams
    from whereabouts.case import CaseStore
    from whereabouts.store import Workspace

    if report not in ("pdf", "html", "none"):
        raise ParameterError(f"--report {report!r} is not known", hint="use pdf, html or none")
    group = next((g for g in get_args(BaselineGroup) if g == baseline), None)
    if group is None:
        raise ParameterError(
            f"--baseline {baseline!r} is not known", hint="use team, station or none"
        )
    if basemap is not None and report != "none":
        from whereabouts.basemap import open_basemap

        open_basemap(basemap).close()  # a bad file or URL is refused before the analysis
    ws = Workspace.open(workspace)
    store = CaseStore.open(workspace)
    who = acting(store, user)
    if case is not None:
        record = store.get_case(case)
        names = _ids(subjects) or list(record.subjects)
        t0 = parse_when(from_, ws.timezone) if from_ else record.start
        t1 = parse_when(to, ws.timezone, end=True) if to else record.end
    else:
        names = _ids(subjects)
        if not (names and from_ and to):
            raise ParameterError(
                "give --case REF, or --subjects, --from and --to",
                hint="e.g. --subjects P1001,P1002 --from 2024-03-01 "
                "--to 2024-03-31 --purpose 'allegation 24/017'",
            )
        t0, t1 = parse_when(from_, ws.timezone), parse_when(to, ws.timezone, end=True)
        record = store.ensure_case(names, t0, t1, purpose, actor=who)
        if record.notice:
            _err.print(f"note: {record.notice}")
    store.record_read(
        who, record.ref, names, t0, t1, what="occasions", action="analysis.run", baseline=baseline
    )
    params = AnalysisParams.of(settings)
    result = run(
        ws,
        names,
        t0,
        t1,
        params=params,
        out_dir=out,
        save=out is None,
        case=record.ref,
        baseline=group,
    )
    assert result.out_dir is not None and result.summary.counts is not None
    folder = result.out_dir
    counts = result.summary.counts
    more = f", {counts.not_assessable} more not assessable" if counts.not_assessable else ""
    _out.print(
        f"case {record.ref}: {counts.occasions} occasions "
        f"({counts.unexplained} with no policing reason found for 5 minutes or "
        f"more{more}; in {counts.unexplained_stops_together} they stopped "
        f"together), {counts.stops} unexplained vehicle stops → {folder}"
    )
    _out.print(f"period: {describe(t0, t1, ws.timezone)}")
    from whereabouts.analysis.coverage import coverage_lines

    _out.print("What the inputs allow this run to assess:")
    for what, allows in coverage_lines(dict(result.summary.input_coverage or {})):
        _out.print(f"  {what}: {allows}")
    base = result.summary.baseline
    for pair in (base.subject_pairs or ()) if base is not None else ():
        _out.print(pair.statement)
    if record.demo:
        _out.print(
            f"DEMO case {record.ref}: self-authorised by the local user, not by a "
            "supervisor; not for evidential use"
        )
    if report != "none":
        from whereabouts.report import ReportOptions, build_report

        written = build_report(
            workspace,
            out_dir=folder / "report",
            case_ref=record.ref,
            occasions_dir=folder,
            options=ReportOptions(pdf=report == "pdf", basemap=basemap),
            user=who.username,
        )
        _out.print(f"report: {written.html}" + (f", {written.pdf}" if written.pdf else ""))


def screen(
    workspace: Annotated[Path, typer.Argument(help="The workspace folder.")],
    authority: Annotated[
        str, typer.Option(help="Screening authority reference (granted by a supervisor).")
    ],
    from_: Annotated[str, typer.Option("--from", help=FROM_HELP)],
    to: Annotated[str, typer.Option(help=TO_HELP)],
    officers: Annotated[
        str | None,
        typer.Option(
            help="Officer ids, comma-separated (default: "
            "everyone the authority covers: the force, "
            "its team or its station)."
        ),
    ] = None,
    team: Annotated[str | None, typer.Option(help="Every officer of this team.")] = None,
    station: Annotated[str | None, typer.Option(help="Every officer of this station.")] = None,
    user: UserOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the ranked pairs (Parquet and "
            "CSV) and what they ran under (default: kept in "
            "the workspace, WS/runs/screening-REF-TIME, where "
            "the web app lists them)."
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="Show this many pairs.")] = 10,
    engine: Annotated[
        str,
        typer.Option(help="embedded, or spark (pairwise periods on Apache Spark; the same table)."),
    ] = "embedded",
    master: Annotated[
        str, typer.Option(help="Spark master URL (with --engine spark).")
    ] = "local[2]",
) -> None:
    """Rank every pair of a set of officers by unexplained time together against expectation."""
    from whereabouts.analysis.investigate import officers_in
    from whereabouts.analysis.investigate import screen as run
    from whereabouts.case import CaseStore
    from whereabouts.store import Workspace

    if sum(x is not None for x in (officers, team, station)) > 1:
        raise ParameterError(
            "give at most one of --officers, --team, --station",
            hint="or none: everyone the authority covers",
        )
    ws = Workspace.open(workspace)
    t0, t1 = day_span(from_, to, ws.timezone)
    store = CaseStore.open(workspace)
    who = acting(store, user)
    if officers is None and team is None and station is None:  # what the authority covers
        covered = store.get_screening(authority).scope
        kind, _, value = covered.partition(":")
        if kind not in ("force", "team", "station"):
            raise ParameterError(
                f"screening authority {authority} covers {covered!r}",
                hint="name the officers it covers with --officers A,B,…",
            )
        team, station = (value, None) if kind == "team" else (None, value or None)
    if officers is not None:
        names, scope = _ids(officers), "officers:" + ",".join(_ids(officers))
    elif team is None and station is None:
        names = sorted({str(o) for o in ws.table("officers").column("officer_id").to_pylist()})
        scope = "force"
    else:
        table = ws.table("officers")
        names = officers_in(table, team=team, station=station)
        scope = f"team:{team}" if team is not None else f"station:{station}"
    store.require_screening(who, authority, scope, t0, t1)
    from datetime import UTC, datetime

    from whereabouts.store.runs import ScreeningRecord, write_screening

    kept = out is None  # kept in the workspace, under its authority, for the web app
    folder = out or workspace / "runs" / (
        f"screening-{authority}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    )
    if engine == "spark":
        from whereabouts.spark.screening import screen_on_spark

        # the executors write the occasions and pair counts into the folder (result folders)
        stats = screen_on_spark(master, ws, names, t0, t1, out=folder)
    elif engine == "embedded":
        stats, _ = run(ws, names, t0, t1)
    else:
        raise ParameterError(f"unknown engine {engine!r}", hint="--engine embedded or spark")
    write_screening(
        folder, stats, ScreeningRecord(authority, scope, t0.isoformat(), t1.isoformat())
    )
    view = Table(
        title=f"{len(names)} officers, {stats.num_rows} pairs, {describe(t0, t1, ws.timezone)}"
    )
    for name in (
        "rank",
        "pair",
        "unexplained stops",
        "minutes",
        "expected",
        "home",
        "remote",
        "shared h",
        "p",
        "q",
    ):
        view.add_column(
            name, no_wrap=name in ("pair", "p"), min_width={"pair": 13, "p": 7}.get(name)
        )
    for r in stats.slice(0, top).to_pylist():
        view.add_row(
            str(r["rank"]),
            f"{r['officer_a']}–{r['officer_b']}",
            str(r["unexplained_stops"]),
            f"{r['unexplained_stopped_s'] / 60:.0f}",
            f"{r['expected_stops']:.1f}",
            str(r["home"]),
            str(r["remote"]),
            f"{r['shared_duty_h']:.0f}",
            f"{r['p_value']:.2g}",
            f"{r['q_value']:.2g}",
        )
    _out.print(view)
    from whereabouts.analysis.screening import FDR_CONTROL

    _out.print(f"q: {FDR_CONTROL}.")
    _out.print(
        f"ranked pairs, under authority {authority} ({scope}): {folder}"
        + (f" (the web app lists them: whereabouts serve {workspace}, Screening)" if kept else "")
    )
    unassessed = sum(stats["not_assessable"].to_pylist())
    if unassessed:
        _out.print(
            f"{unassessed} occasions could not be assessed for a policing reason "
            "(inputs missing) and are not counted as unexplained."
        )


def register(app: typer.Typer) -> None:
    """Add `investigate` and `screen` to the app."""
    app.command()(investigate)
    app.command()(screen)
