"""`whereabouts encounters`: exact within-distance periods and encounters between devices."""

from __future__ import annotations

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
    inputs: list[Path] = typer.Argument(..., help="A workspace folder, or canonical fixes "
                                        "files (Parquet or CSV: device_id, time, lat/lon or "
                                        "easting/northing)."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the table: a file "
                             "ending in .parquet (the parameters, CRS and version in its "
                             "metadata) or .csv, or a result folder, a name without an "
                             "extension (Parquet parts and a manifest.json written last; with "
                             "--engine spark the executors write the parts)."),
    devices: str | None = typer.Option(None, "--devices", help="Only pairs within these "
                                       "devices (comma-separated ids)."),
    one_to_many: str | None = typer.Option(None, "--one-to-many", help="Pair each of these "
                                           "devices with every other device."),
    crs: str | None = typer.Option(None, "--crs", help="Projected CRS of the distances, e.g. "
                                   "EPSG:27700 (default: the workspace's, or chosen from "
                                   "the data)."),
    raw: bool = typer.Option(False, "--raw", help="Write the raw within-distance periods "
                             "instead of merged encounters."),
    engine: str = typer.Option("embedded", "--engine", help="embedded, or spark (the same "
                               "table, computed on Apache Spark)."),
    master: str = typer.Option("local[2]", "--master", help="Spark master URL (with "
                               "--engine spark), e.g. spark://host:7077."),
    verbose: bool = typer.Option(False, "--verbose", help="Show Spark's own log (with "
                                 "--engine spark; quiet otherwise)."),
    *,
    settings: dict[str, float | bool],
) -> None:
    """Find when devices were within a distance of each other (DESIGN.md "Semantics")."""
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
    pairs, focus = _ids(devices), _ids(one_to_many)
    what = "within-distance periods" if raw else "encounters"
    if engine == "spark":
        from whereabouts.spark.cli import encounters_on_spark

        got = encounters_on_spark(master, inputs, params, devices=pairs, one_to_many=focus,
                                  crs=crs, raw=raw, out=out if folder else None,
                                  verbose=verbose)
        if got is None:
            return
        table = got
    elif engine == "embedded":
        table = (within_periods(source, params, devices=pairs, one_to_many=focus, crs=crs)
                 if raw else
                 find_encounters(source, params, devices=pairs, one_to_many=focus, crs=crs))
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


def register(app: typer.Typer) -> None:
    """Add `encounters` to the app."""
    app.command("encounters")(encounters)
