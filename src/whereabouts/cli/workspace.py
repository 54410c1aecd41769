"""Workspace commands: init, ingest, status, export, profiles. Parse, call, print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from whereabouts import schema

_out = Console(highlight=False, soft_wrap=True)

WsArg = Annotated[Path, typer.Argument(help="The workspace folder.")]


def init(
    ws: WsArg,
    crs: Annotated[str, typer.Option(help="Projected CRS for distances (EPSG code).")] = "EPSG:27700",
    timezone: Annotated[str, typer.Option(help="Zone of naive local times in inputs.")] = "Europe/London",
) -> None:
    """Create an empty workspace."""
    from whereabouts.store import Workspace

    w = Workspace.init(ws, crs=crs, timezone=timezone)
    _out.print(f"workspace {w.path} created (crs {w.crs}, time zone {w.timezone})")


def ingest(
    ws: WsArg,
    files: Annotated[list[Path], typer.Argument(help="Input files of one kind.")],
    kind: Annotated[str, typer.Option(help=f"Input kind: {', '.join(schema.KINDS)}. Areas and roads are GeoJSON; roads are LineStrings or MultiLineStrings (WGS84) with a name and/or ref (OSM exports' name, ref, highway), used to say which road an occasion was on.")],
    profile: Annotated[str | None, typer.Option(help="Mapping profile name or .toml path.")] = None,
    device_id: Annotated[str | None, typer.Option(help="Device id for files without one (NMEA, GPX, CSV).")] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of naive times (overrides profile and workspace).")] = None,
) -> None:
    """Ingest input files; prints read = accepted + duplicates + quarantined per file."""
    from whereabouts.store import Workspace

    w = Workspace.open(ws)
    for report in w.ingest(kind, files, profile=profile, device_id=device_id, timezone=timezone):
        _out.print(report.summary(), markup=False)
        for problem in report.problems():
            _out.print(f"  {problem}", markup=False)


def status(
    ws: WsArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Per input file: its hash and counts (read, accepted, duplicates, quarantined); any
    interrupted ingest rolled back, and any damage found."""
    from whereabouts.store import Workspace

    w = Workspace.open(ws)  # rolls back what an interrupted ingest left
    inputs = w.manifest
    recoveries, problems = w.recoveries(), w.check()
    if as_json:
        print(json.dumps({"workspace": str(w.path), "crs": w.crs, "timezone": w.timezone,
                          "inputs": inputs, "recoveries": recoveries, "problems": problems},
                         indent=2, sort_keys=True))
        return
    table = Table(title=f"{w.path} — crs {w.crs}, time zone {w.timezone}")
    for col in ("file", "kind", "sha256", "read", "accepted", "duplicates", "quarantined"):
        table.add_column(col, justify="right" if col in ("read", "accepted", "duplicates",
                                                         "quarantined") else "left")
    for e in inputs:
        c = e["counts"]
        table.add_row(e["name"], e["kind"], e["sha256"][:16], str(c["read"]), str(c["accepted"]),
                      str(c["duplicates"]), str(c["quarantined"]))
    _out.print(table)
    for r in recoveries:
        what = f"{r['input']} ({r['kind']})" if r.get("input") else "files of an unknown write"
        _out.print(f"{r['at']}: an interrupted ingest of {what} was {r['action']}; "
                   f"{len(r['removed'])} leftover file(s) removed"
                   + ("; ingest the file again" if r["action"] == "rolled back"
                      and r.get("input") else ""), markup=False)
    for p in problems:
        _out.print(f"problem: {p}", markup=False)
    if not problems:
        _out.print("consistent: every file the manifest lists is present and holds the rows "
                   "it counts", markup=False)


def export(
    ws: WsArg,
    table: Annotated[str, typer.Option(help=f"Table: {', '.join(schema.TABLES)}.")],
    out: Annotated[Path, typer.Option(help="Output file, .parquet or .csv.")],
) -> None:
    """Write a canonical table as Parquet or CSV (times in UTC)."""
    from whereabouts.store import Workspace
    from whereabouts.store.export import export_table

    rows = export_table(Workspace.open(ws), table, out)
    _out.print(f"{rows} rows of {table} written to {out}")


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
    for command in (init, ingest, status, export, profiles):
        app.command()(command)
