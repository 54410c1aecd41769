"""`whereabouts encounters`: exact within-distance periods and encounters between devices."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

from whereabouts.cli.settings import with_settings
from whereabouts.errors import ParameterError
from whereabouts.settings import ENCOUNTER_SETTINGS


def _ids(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


@with_settings(ENCOUNTER_SETTINGS)
def encounters(
    inputs: list[Path] = typer.Argument(
        ...,
        help="A workspace folder, or canonical fixes "
        "files (Parquet or CSV: device_id, time, lat/lon or "
        "easting/northing).",
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Where to write the table: a file "
        "ending in .parquet (the parameters, CRS and version in its "
        "metadata) or .csv, or a result folder, a name without an "
        "extension (Parquet parts and a manifest.json written last; with "
        "--engine spark the executors write the parts).",
    ),
    devices: str | None = typer.Option(
        None, "--devices", help="Only pairs within these devices (comma-separated ids)."
    ),
    one_to_many: str | None = typer.Option(
        None, "--one-to-many", help="Pair each of these devices with every other device."
    ),
    crs: str | None = typer.Option(
        None,
        "--crs",
        help="Projected CRS of the distances, e.g. "
        "EPSG:27700 (default: the workspace's, or chosen from "
        "the data).",
    ),
    raw: bool = typer.Option(
        False, "--raw", help="Write the raw within-distance periods instead of merged encounters."
    ),
    engine: str = typer.Option(
        "embedded",
        "--engine",
        help="embedded, or spark (the same table, computed on Apache Spark).",
    ),
    master: str = typer.Option(
        "local[2]",
        "--master",
        help="Spark master URL (with --engine spark), e.g. spark://host:7077.",
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="Show Spark's own log (with --engine spark; quiet otherwise)."
    ),
    screening: str | None = typer.Option(
        None,
        "--screening",
        help="On a workspace: the "
        "force-wide screening authority this read is made "
        "under (an analyst; audited).",
    ),
    purpose: str | None = typer.Option(
        None,
        "--purpose",
        help="On a workspace, instead of --screening: an administrator's stated purpose (audited).",
    ),
    user: str | None = typer.Option(
        None, "--user", help="Act as this user (default WHEREABOUTS_USER or the OS user)."
    ),
    *,
    settings: dict[str, float | bool],
) -> None:
    """Find when devices were within a distance of each other (DESIGN.md "Semantics").

    On a workspace this reads every officer's location data: it needs a force-wide
    screening authority (--screening) or an administrator's stated purpose (--purpose), and
    is audited. On fixes files outside a workspace nothing is audited, and it says so."""
    from whereabouts.engine import (
        EncounterParams,
        find_encounters,
        within_periods,
        write_parquet,
    )
    from whereabouts.outfiles import output_format, write_csv

    # the name says what is written; any other extension is refused before any work
    folder = out.suffix == "" or out.is_dir()
    fmt = "folder" if folder else output_format(out)
    params = EncounterParams(**{k: float(v) for k, v in settings.items()})
    source = inputs[0] if len(inputs) == 1 else inputs
    _authorise(inputs, screening, purpose, user)
    pairs, focus = _ids(devices), _ids(one_to_many)
    what = "within-distance periods" if raw else "encounters"
    if engine == "spark":
        from whereabouts.spark.cli import encounters_on_spark

        got = encounters_on_spark(
            master,
            inputs,
            params,
            devices=pairs,
            one_to_many=focus,
            crs=crs,
            raw=raw,
            out=out if folder else None,
            verbose=verbose,
        )
        if got is None:
            return
        table = got
    elif engine == "embedded":
        table = (
            within_periods(source, params, devices=pairs, one_to_many=focus, crs=crs)
            if raw
            else find_encounters(source, params, devices=pairs, one_to_many=focus, crs=crs)
        )
    else:
        raise ParameterError(f"unknown engine {engine!r}", hint="--engine embedded or spark")
    if folder:
        from whereabouts.engine.results import write_result

        write_result(table, out)
    elif fmt == "csv":
        out.parent.mkdir(parents=True, exist_ok=True)
        write_csv(table, out)
    else:
        write_parquet(table, out)
    Console(stderr=True).print(f"{table.num_rows} {what} written to {out}", highlight=False)


def _authorise(
    inputs: list[Path], screening: str | None, purpose: str | None, user: str | None
) -> None:
    """A workspace's fixes are read under a screening authority or a stated purpose, and
    audited; raw files are not, and the user is told."""
    err = Console(stderr=True, highlight=False)
    if not (len(inputs) == 1 and (inputs[0] / "workspace.json").is_file()):
        err.print(
            "note: fixes files outside a workspace: this read is not audited (ingest "
            "them into a workspace to have reads of them checked and audited)"
        )
        return
    ws = inputs[0]
    if (screening is None) == (purpose is None):
        raise ParameterError(
            "encounters across a workspace read every officer's location data",
            hint="give --screening REF (a force-wide screening authority; analysts) or, as "
            "an administrator, --purpose 'why' (not both); for one case's officers use "
            f"`whereabouts investigate {ws} --case REF`",
        )
    from whereabouts.case import CaseStore
    from whereabouts.cli.acting import acting

    store = CaseStore.open(ws)
    try:
        who = acting(store, user)
        if purpose is not None:
            store.record_bulk_read(who.username, "encounters.read", purpose)
        else:
            assert screening is not None
            t0, t1 = _fixes_period(ws)
            store.require_screening(who, screening, "force", t0, t1)
        err.print(f"audited; made at {store.audit.anchor().statement}")
    finally:
        store.close()


def _fixes_period(ws: Path) -> tuple[datetime, datetime]:
    """The first and last fix time of a workspace (what a read of all of it covers)."""
    from whereabouts.store import Workspace

    con = Workspace.open(ws).connect()
    try:
        got = con.sql("SELECT min(time), max(time) FROM fixes").fetchall()[0]
    finally:
        con.close()
    if got[0] is None:
        raise ParameterError(
            "the workspace has no fixes",
            hint=f"ingest fixes first: whereabouts ingest {ws} --kind fixes FILE",
        )
    return got[0], got[1]


def register(app: typer.Typer) -> None:
    """Add `encounters` to the app."""
    app.command("encounters")(encounters)
