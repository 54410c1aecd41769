"""Workspace commands: init, ingest, status, export, profiles. Parse, call, print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from whereabouts import vocabulary

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

WsArg = Annotated[Path, typer.Argument(help="The workspace folder.")]


def init(
    ws: WsArg,
    crs: Annotated[
        str, typer.Option(help="Projected CRS for distances (EPSG code).")
    ] = "EPSG:27700",
    timezone: Annotated[
        str, typer.Option(help="Zone of naive local times in inputs.")
    ] = "Europe/London",
    admin: Annotated[
        str | None,
        typer.Option(
            help="Make this user the workspace's first administrator (asks for their password); "
            "they then add the other users with `whereabouts user add`."
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the administrator's password from the first line of stdin.")
    ] = False,
) -> None:
    """Create an empty workspace (and, with --admin, its first administrator)."""
    import sys

    from whereabouts.case import CaseStore
    from whereabouts.case.users import PASSWORD_POLICY, check_password, check_username
    from whereabouts.store import Workspace

    password = None
    if admin is not None:  # asked before anything is created, so a refusal leaves nothing
        check_username(admin)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            typer.echo(f"password policy: {PASSWORD_POLICY}", err=True)
            password = typer.prompt(
                f"password for {admin}", hide_input=True, confirmation_prompt=True
            )
        check_password(password, admin)
    w = Workspace.init(ws, crs=crs, timezone=timezone)
    _out.print(f"workspace {w.path} created (crs {w.crs}, time zone {w.timezone})")
    if admin is not None and password is not None:
        store = CaseStore.open(ws)
        try:
            store.add_user(admin, password, "administrator")
        finally:
            store.close()
        _out.print(
            f"{admin} is its first administrator: add users with `whereabouts user add "
            f"{ws} NAME --role ROLE" + ("" if admin == _os_user() else f" --user {admin}") + "`"
        )


def _os_user() -> str:
    from whereabouts.case.users import os_username

    return os_username()


def ingest(
    ws: WsArg,
    files: Annotated[list[Path], typer.Argument(help="Input files of one kind.")],
    kind: Annotated[
        str,
        typer.Option(
            help=f"Input kind: {', '.join(vocabulary.KINDS)}, or map (every map layer a GeoPackage or OSM extract holds). Areas are GeoJSON; a roads GeoJSON holds LineStrings or MultiLineStrings (WGS84) with a name and/or ref, used to say which road an occasion was on. Map layers (roads, buildings, water, green, rail, addresses) are also read from OSM extracts (.osm.pbf), GeoPackages (OS Open Roads, OpenMap Local), Shapefiles (.shp or zipped) and GeoJSON; addresses also from CSV (--profile os-addresses)."
        ),
    ],
    profile: Annotated[str | None, typer.Option(help="Mapping profile name or .toml path.")] = None,
    device_id: Annotated[
        str | None, typer.Option(help="Device id for files without one (NMEA, GPX, CSV).")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="Zone of naive times (overrides profile and workspace).")
    ] = None,
    supersede: Annotated[
        bool,
        typer.Option(
            help="Read files ingested before again, with the corrected --device-id, --timezone or --profile given now; the earlier ingest stays in the workspace as evidence but is no longer read, and the change is recorded in the audit log."
        ),
    ] = False,
) -> None:
    """Ingest input files; prints read = accepted + duplicates + quarantined per file, the
    quarantined rows grouped by reason, and, for several files, a table of every file:
    ingested, already ingested, or failed and why (a bad file does not stop the others; the
    exit status is 1 if any failed)."""
    from whereabouts.store import Workspace

    def waiting(timeout_s: float) -> None:
        _err.print(
            f"waiting for another process to finish ingesting into {ws} (the "
            f"workspace is locked; giving up after {timeout_s / 60:.0f} min)…"
        )

    w = Workspace.open(ws)
    store = None
    if supersede:  # who supersedes evidence is known before anything changes
        from whereabouts.case import CaseStore
        from whereabouts.cli.acting import acting

        store = CaseStore.open(ws)
        who = acting(store, None)
    try:
        reports = w.ingest(
            kind,
            files,
            profile=profile,
            device_id=device_id,
            timezone=timezone,
            keep_going=len(files) > 1,
            on_wait=waiting,
            supersede=supersede,
        )
        for r in reports:
            if store is not None and r.supersedes is not None:
                old = r.supersedes
                new = next(e for e in w.manifest if e["file_id"] == r.file_id)
                store.audit.append(
                    who.username,
                    "ingest.supersede",
                    None,
                    {
                        "file": Path(r.file).name,
                        "sha256": r.sha256,
                        "kind": kind,
                        "superseded": old["file_id"],
                        "by": r.file_id,
                        **{
                            k: [old.get(k), new.get(k)]
                            for k in ("device_id", "timezone", "profile")
                        },
                    },
                )
    finally:
        if store is not None:
            store.close()
    for report in reports:
        _out.print(report.summary(), markup=False)
        for note in report.notes:
            _out.print(f"  note: {note}", markup=False)
        for problem in report.problems():
            _out.print(f"  {problem}", markup=False)
        if report.counts.get("quarantined"):
            _out.print(
                f"  the rows themselves: whereabouts quarantine {ws} --file "
                f"{Path(report.file).name}",
                markup=False,
            )
    if len(reports) > 1:
        table = Table(title=f"{len(reports)} files of kind {kind} into {ws}")
        for col in ("file", "result", "read", "accepted", "duplicates", "quarantined", "why"):
            table.add_column(col, overflow="fold")
        for r in reports:
            c = r.counts
            nums = (
                ["", "", "", ""]
                if r.failed
                else [str(c[k]) for k in ("read", "accepted", "duplicates", "quarantined")]
            )
            table.add_row(Path(r.file).name, r.outcome, *nums, r.failed or "")
        _out.print(table)
    failed = [r for r in reports if r.failed]
    if failed:
        _err.print(
            f"{len(failed)} of {len(reports)} files failed and were not ingested; fix "
            "them and run the same command again (files already ingested are skipped)",
            markup=False,
        )
        raise typer.Exit(1)


def quarantine(
    ws: WsArg,
    file: Annotated[
        str | None, typer.Option(help="Only this input (its name as ingested).")
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="Only rows whose reason contains this text, e.g. 'no fix'.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many rows (0: all).")] = 50,
    out: Annotated[
        Path | None, typer.Option(help="Write every matching row here instead (.csv or .parquet).")
    ] = None,
) -> None:
    """The quarantined rows of the inputs: file, line, column, reason and the original text,
    after a count per reason."""
    from whereabouts.store import Workspace
    from whereabouts.store.quarantine import quarantined_rows, reasons

    rows = quarantined_rows(Workspace.open(ws), file=file, reason=reason)
    counts = Table(
        title=f"{rows.num_rows} quarantined rows in {ws}"
        + (f" of {file}" if file else "")
        + (f" with {reason!r}" if reason else "")
    )
    for col in ("file", "reason", "rows"):
        counts.add_column(col, justify="right" if col == "rows" else "left")
    for r in reasons(rows).to_pylist():
        counts.add_row(r["file"], r["reason"], str(r["rows"]))
    _out.print(counts)
    if out is not None:
        from whereabouts.outfiles import write_table

        write_table(rows, out)
        _out.print(f"{rows.num_rows} rows written to {out}")
        return
    shown = rows if limit <= 0 else rows.slice(0, limit)
    view = Table()
    for col in ("file", "line", "column", "reason", "original text"):
        view.add_column(col, overflow="fold")
    for r in shown.to_pylist():
        view.add_row(
            r["file"],
            "" if r["line"] is None else str(r["line"]),
            r["column"] or "",
            r["reason"],
            r["raw"] or "",
        )
    _out.print(view)
    if shown.num_rows < rows.num_rows:
        _out.print(
            f"… {rows.num_rows - shown.num_rows} more: --limit 0 shows all, --out "
            "FILE.csv writes them"
        )


def status(
    ws: WsArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Per input file: its hash and counts (read, accepted, duplicates, quarantined); any
    interrupted ingest rolled back, and any damage found."""
    from whereabouts.store import recovery
    from whereabouts.store.settings import read_manifest, read_settings

    settings = read_settings(ws)
    recovery.recover(ws)  # rolls back what an interrupted ingest left
    inputs = read_manifest(ws)
    recoveries, problems = recovery.recoveries(ws), recovery.check(ws)
    crs, zone = settings["crs"], settings["timezone"]
    if as_json:
        print(
            json.dumps(
                {
                    "workspace": str(ws),
                    "crs": crs,
                    "timezone": zone,
                    "inputs": inputs,
                    "recoveries": recoveries,
                    "problems": problems,
                },
                indent=2,
                sort_keys=True,
            )
        )
        return
    table = Table(title=f"{ws} — crs {crs}, time zone {zone}")
    for col in ("file", "kind", "sha256", "read", "accepted", "duplicates", "quarantined"):
        table.add_column(
            col,
            justify="right" if col in ("read", "accepted", "duplicates", "quarantined") else "left",
        )
    for e in inputs:
        c = e["counts"]
        table.add_row(
            e["name"],
            e["kind"],
            e["sha256"][:16],
            str(c["read"]),
            str(c["accepted"]),
            str(c["duplicates"]),
            str(c["quarantined"]),
        )
    _out.print(table)
    for r in recoveries:
        what = f"{r['input']} ({r['kind']})" if r.get("input") else "files of an unknown write"
        _out.print(
            f"{r['at']}: an interrupted ingest of {what} was {r['action']}; "
            f"{len(r['removed'])} leftover file(s) removed"
            + (
                "; ingest the file again" if r["action"] == "rolled back" and r.get("input") else ""
            ),
            markup=False,
        )
    for p in problems:
        _out.print(f"problem: {p}", markup=False)
    if not problems:
        _out.print(
            "consistent: every file the manifest lists is present and whole, and "
            "nothing else is in tables/",
            markup=False,
        )


def export(
    ws: WsArg,
    out: Annotated[
        Path,
        typer.Option(
            help="Output file: .parquet or .csv for --table; for --case, the format's extension (.kml, .geojson, .gpx, .csv)."
        ),
    ],
    table: Annotated[
        str | None,
        typer.Option(
            help=f"Table: {', '.join(vocabulary.TABLE_NAMES)}. Tables of officers' data ({', '.join(vocabulary.PERSONAL_TABLES)}) only by an administrator with --purpose, audited; export a case's data with --case."
        ),
    ] = None,
    case: Annotated[
        str | None,
        typer.Option(
            "--case",
            help="Case reference: export its current analysis (occasions and tracks), scoped to the case and audited.",
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="With --case: kml (Google Earth, ArcGIS), geojson, gpx (a track per officer and device, a waypoint per occasion), csv (one row per occasion) or i2 (Analyst's Notebook import file; columns in docs/exports.md).",
        ),
    ] = "kml",
    purpose: Annotated[
        str | None,
        typer.Option(
            help="With --table of officers' data: why the whole table is exported (recorded in the audit log)."
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            help="Act as this user, with their password (WHEREABOUTS_PASSWORD or a prompt); default WHEREABOUTS_USER, else you, the OS user."
        ),
    ] = None,
) -> None:
    """Write a canonical table as Parquet or CSV (times in UTC), or a case's occasions and
    tracks for other tools (--case). Each export of officers' data is audited and states the
    audit head it was made at (OUT.audit beside it; a Parquet file's metadata too)."""
    from whereabouts.errors import ParameterError

    if (table is None) == (case is None):
        raise ParameterError(
            "say what to export", hint="give --table NAME or --case REF (not both)"
        )
    if case is not None:
        from whereabouts.case import CaseStore
        from whereabouts.cli.acting import acting
        from whereabouts.exports import export_case

        store = CaseStore.open(ws)
        try:
            acting_as = acting(store, user).username  # a named user proves who they are
        finally:
            store.close()
        result = export_case(ws, case, fmt, out, user=acting_as)
        _out.print(f"{result.occasions} occasions of case {case} written to {out} ({fmt})")
        if result.audit_head:
            _out.print(f"made at {result.audit_head} (stated in {out.name}.audit)")
        return
    from whereabouts.store import Workspace
    from whereabouts.store.export import export_table

    assert table is not None
    w = Workspace.open(ws)
    head = None
    if table in vocabulary.PERSONAL_TABLES:
        from whereabouts.case import CaseStore
        from whereabouts.case.audit import state_anchor
        from whereabouts.cli.acting import acting

        if purpose is None:
            raise ParameterError(
                f"{table} holds officers' data: a whole-table export needs an administrator "
                "and a stated purpose",
                hint=f"as an administrator add --purpose 'why'; or export one case's data "
                f"with `whereabouts export {ws} --case REF`",
            )
        store = CaseStore.open(ws)
        try:
            who = acting(store, user)
            store.record_bulk_read(who.username, "export.table", purpose, table=table, out=out.name)
            anchor = store.audit.anchor()
        finally:
            store.close()
        head = anchor.statement
        rows = export_table(w, table, out, audit_head=head)
        state_anchor(out, anchor)
    else:
        rows = export_table(w, table, out)
    _out.print(f"{rows} rows of {table} written to {out}")
    if head:
        _out.print(f"audited; made at {head} (stated in {out.name}.audit)")
    else:
        _out.print(f"{table} is a map layer without officers' data: not audited")


def profiles() -> None:
    """List the shipped mapping profiles."""
    from whereabouts.io.profile import shipped_profiles

    table = Table(title="mapping profiles (use with ingest --profile NAME)")
    table.add_column("name")
    table.add_column("kinds")
    table.add_column("description")
    for name, p in shipped_profiles().items():
        table.add_row(name, ", ".join(p.kinds), p.description)
    _out.print(table)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    for command in (init, ingest, quarantine, status, export, profiles):
        app.command()(command)
