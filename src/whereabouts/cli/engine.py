"""`whereabouts encounters`: exact within-distance periods and encounters between devices."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from whereabouts.errors import ParameterError


def _ids(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def encounters(
    inputs: list[Path] = typer.Argument(..., help="A workspace folder, or canonical fixes "
                                        "files (Parquet or CSV: device_id, time, lat/lon or "
                                        "easting/northing)."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the table: .parquet "
                             "(with the parameters, CRS and version in its metadata) or .csv."),
    distance: float = typer.Option(100.0, "--distance", help="Within this many metres."),
    max_gap: float = typer.Option(300.0, "--max-gap", help="Seconds between fixes beyond "
                                  "which the position is unknown."),
    merge_gap: float = typer.Option(120.0, "--merge-gap", help="Join periods at most this "
                                    "many seconds apart."),
    min_duration: float = typer.Option(300.0, "--min-duration", help="Keep encounters "
                                       "lasting at least this many seconds."),
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
) -> None:
    """Find when devices were within a distance of each other (DESIGN.md "Semantics")."""
    from whereabouts.engine import (
        EncounterParams,
        find_encounters,
        within_periods,
        write_parquet,
    )
    from whereabouts.outfiles import output_format, write_csv

    fmt = output_format(out)  # a name it cannot honour is refused before any work
    params = EncounterParams(distance_m=distance, max_gap_s=max_gap, merge_gap_s=merge_gap,
                             min_duration_s=min_duration)
    source = inputs[0] if len(inputs) == 1 else inputs
    pairs, focus = _ids(devices), _ids(one_to_many)
    if engine == "spark":
        from whereabouts.spark.cli import encounters_on_spark

        table = encounters_on_spark(master, inputs, params, devices=pairs, one_to_many=focus,
                                    crs=crs, raw=raw)
    elif engine == "embedded":
        table = (within_periods(source, params, devices=pairs, one_to_many=focus, crs=crs)
                 if raw else
                 find_encounters(source, params, devices=pairs, one_to_many=focus, crs=crs))
    else:
        raise ParameterError(f"unknown engine {engine!r}", hint="--engine embedded or spark")
    if fmt == "parquet":
        write_parquet(table, out)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_csv(table, out)
    what = "within-distance periods" if raw else "encounters"
    Console(stderr=True).print(f"{table.num_rows} {what} written to {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `encounters` to the app."""
    app.command("encounters")(encounters)
