"""`whereabouts simulate` and `whereabouts demo`: parse, call the simulator, print."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from whereabouts.errors import ParameterError

_out = Console(highlight=False, soft_wrap=True)


def _date(text: str | None, default: date) -> date:
    if text is None:
        return default
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as exc:
        raise ParameterError(
            f"--start {text!r} is not a date", hint="give it as YYYY-MM-DD, e.g. --start 2024-03-25"
        ) from exc


def simulate(
    out: Annotated[Path, typer.Option(help="Folder to write the simulated force's files into.")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 1,
    officers: Annotated[int, typer.Option(help="Number of officers (at least 30).")] = 40,
    days: Annotated[int, typer.Option(help="Number of days to simulate.")] = 14,
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (local).")] = None,
    remote_meetings: Annotated[
        int, typer.Option(help="Planted: meetings of two officers at remote spots over the period.")
    ] = 6,
    home_meetings: Annotated[
        int, typer.Option(help="Planted: meetings at one officer's home over the period.")
    ] = 3,
    secluded_stops: Annotated[
        int, typer.Option(help="Planted: a crewed pair's stops at secluded spots over the period.")
    ] = 5,
    decoy_pairs: Annotated[
        int, typer.Option(help="Pairs often together, always with a policing reason (1–5).")
    ] = 1,
    minutes: Annotated[
        tuple[float, float], typer.Option(help="Shortest and longest planted occasion, in minutes.")
    ] = (25.0, 75.0),
) -> None:
    """Simulate a police force with planted misconduct and exact ground truth."""
    from whereabouts.simulate.config import Planting, SimConfig
    from whereabouts.simulate.force import simulate as run

    planting = Planting(
        remote_meetings=remote_meetings,
        home_meetings=home_meetings,
        secluded_stops=secluded_stops,
        decoy_pairs=decoy_pairs,
        min_minutes=minutes[0],
        max_minutes=minutes[1],
    )
    config = SimConfig(
        seed=seed,
        officers=officers,
        days=days,
        start=_date(start, SimConfig.start),
        planting=planting,
    )
    sim = run(config, out)
    r = sim.realism
    _out.print(
        f"simulated {officers} officers, {days} days from {config.start}, seed {seed} → {out}"
    )
    for name, rows in sorted(sim.rows.items()):
        _out.print(f"  {name}: {rows} rows")
    _out.print("realism:")
    per_hour = r["fixes_per_device_hour"]
    assert isinstance(per_hour, dict)
    _out.print("  fixes per device-hour: " + ", ".join(f"{k} {v}" for k, v in per_hour.items()))
    _out.print(
        f"  incidents per team shift: {r['incidents_per_shift']} "
        f"({r['incidents']} incidents, {r['team_shifts']} team shifts)"
    )
    share = r["colocation_with_reason_share"]
    assert isinstance(share, float)
    _out.print(
        f"  co-location time with a policing reason: {share:.1%} "
        f"of {r['colocation_pair_hours']} pair-hours (from the truth)"
    )
    known = r["duty_known_position_share"]
    assert isinstance(known, float)
    _out.print(f"  duty time with a known position: {known:.1%} (radio reports ≤ 300 s apart)")
    _out.print(f"ground truth in {out / 'truth'}")


def demo(
    out: Annotated[
        Path, typer.Option(help="Folder for the demo's data, workspace and report.")
    ] = Path("demo-output"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Simulate a small force with a planted case, ingest it and run the investigation."""
    from whereabouts.simulate.demo import run_demo

    run_demo(out, seed=seed, say=_out.print)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command()(simulate)
    app.command()(demo)
