"""The demo: simulate a small force with a planted case, ingest it, and say what happened.

`run_demo(out)` runs clearly separated steps, each a function taking the `DemoState` and
adding to it; later steps (investigation, report) are added to `STEPS` by their layers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from whereabouts.errors import WorkspaceError
from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.export import output_folder
from whereabouts.simulate.force import Simulation, simulate
from whereabouts.store.workspace import IngestReport, Workspace

# Input kind of each simulated file, in ingest order (profile for vendor shapes).
INGEST_ORDER: tuple[tuple[str, str, str | None], ...] = (
    ("officers", "officers.csv", None),
    ("devices", "devices.csv", None),
    ("assignments", "assignments.csv", None),
    ("duty", "duty.csv", None),
    ("places", "places.csv", None),
    ("areas", "areas.geojson", None),
    ("roads", "roads.geojson", None),
    # The map under the tracks, through every map reader: buildings from the OpenStreetMap
    # extract (pyosmium), water, green space and rail from the GeoPackage (GDAL), addresses
    # from the OS-style CSV. The map files hold every layer; each layer is taken from one.
    ("buildings", "map.osm.pbf", None),
    ("addresses", "addresses.csv", "os-addresses"),
    ("water", "map.gpkg", None),
    ("green", "map.gpkg", None),
    ("rail", "map.gpkg", None),
    ("incidents", "incidents.csv", None),
    ("attachments", "attachments.csv", None),
    ("fixes", "fixes.parquet", None),
    ("fixes", "vendor/avl_generic.csv", "generic-avl"),
    ("fixes", "vendor/traccar_positions.csv", "traccar"),
    ("lip", "lip.csv", None),
)


@dataclass
class DemoState:
    """What the demo has made so far; each step reads and adds to it."""

    out: Path
    config: SimConfig
    say: Callable[[str], None]
    simulation: Simulation | None = None
    workspace: Workspace | None = None
    ingested: list[IngestReport] = field(default_factory=list)
    case_ref: str | None = None
    run_dir: Path | None = None

    @property
    def data_dir(self) -> Path:
        """The folder of the simulated input files."""
        return self.out / "data"

    @property
    def workspace_dir(self) -> Path:
        """The folder of the demo's workspace."""
        return self.out / "workspace"


def step_simulate(state: DemoState) -> None:
    """Simulate the force and its planted case into OUT/data."""
    sim = simulate(state.config, state.data_dir)
    state.simulation = sim
    r = sim.realism
    state.say(
        f"Simulated {state.config.officers} officers over {state.config.days} days "
        f"from {state.config.start} (seed {state.config.seed}) into {state.data_dir}"
    )
    state.say(f"  fixes: {r['fixes']}; incidents: {r['incidents']}")
    cast = sim.cast
    state.say(
        f"  planted: officers {' and '.join(cast['meeting_pair'])} meet at remote spots "
        f"and at a home; {' and '.join(cast['crewed_pair'])} park up while crewed; "
        f"decoys {', '.join(cast['decoy_pairs'])}"
    )
    state.say(f"  ground truth: {state.data_dir / 'truth' / 'occasions.csv'}")


def ingest_simulation(
    data_dir: Path, workspace_dir: Path, timezone: str
) -> tuple[Workspace, list[IngestReport]]:
    """Create a workspace and ingest every simulated file into it."""
    ws = Workspace.init(workspace_dir, timezone=timezone)
    reports: list[IngestReport] = []
    for kind, name, profile in INGEST_ORDER:
        path = data_dir / name
        if path.exists():
            reports += ws.ingest(kind, [path], profile=profile)
    return ws, reports


def step_ingest(state: DemoState) -> None:
    """Workspace.init in OUT/workspace and ingest every file."""
    state.workspace, state.ingested = ingest_simulation(
        state.data_dir, state.workspace_dir, state.config.timezone
    )
    state.say(f"Ingested {len(state.ingested)} files into the workspace {state.workspace_dir}:")
    for rep in state.ingested:
        state.say(f"  {rep.summary()}")


def step_investigate(state: DemoState) -> None:
    """Open a case for the planted meeting pair and save its investigation as the case's run."""
    from whereabouts.analysis.investigate import investigate
    from whereabouts.case import CaseStore

    assert state.simulation is not None and state.workspace is not None
    subjects = sorted(state.simulation.cast["meeting_pair"])
    tz = ZoneInfo(state.config.timezone)
    start = datetime.combine(state.config.start, time(0), tzinfo=tz)
    end = start + timedelta(days=state.config.days)
    store = CaseStore.open(state.workspace_dir)
    user = store.current_user()
    case = store.ensure_case(subjects, start, end, "demo: the planted case", actor=user)
    store.record_read(user, case.ref, subjects, start, end, what="occasions", action="analysis.run")
    result = investigate(state.workspace, subjects, start, end, case=case.ref, save=True)
    state.case_ref, state.run_dir = case.ref, result.out_dir
    counts = result.summary.counts
    assert counts is not None
    state.say(
        f"Investigated {' and '.join(subjects)} under case {case.ref}: "
        f"{counts.occasions} occasions, {counts.unexplained} with no policing "
        f"reason found → {result.out_dir}"
    )
    base = result.summary.baseline
    for pair in (base.subject_pairs or ()) if base is not None else ():
        state.say(f"  {pair.statement}")


def step_report(state: DemoState) -> None:
    """Write the evidential report of the case: OUT/report/report.html and report.pdf."""
    import time as _time

    from whereabouts.report import build_report

    t0 = _time.perf_counter()
    result = build_report(
        state.workspace_dir,
        out_dir=state.out / "report",
        case_ref=state.case_ref,
        occasions_dir=state.run_dir,
        user="",
    )
    state.say(
        f"Wrote the report of {result.occasions} occasions in "
        f"{_time.perf_counter() - t0:.0f} s: {result.html}, {result.pdf} "
        f"({result.pages} pages); the key to its labels is {result.key}"
    )


STEPS: list[Callable[[DemoState], None]] = [
    step_simulate,
    step_ingest,
    step_investigate,
    step_report,
]


def run_demo(
    out: Path,
    *,
    seed: int = 7,
    officers: int = 40,
    days: int = 14,
    start: date = date(2024, 3, 25),
    say: Callable[[str], None] = print,
    steps: list[Callable[[DemoState], None]] | None = None,
) -> DemoState:
    """Run every demo step (or `steps`, e.g. all but the report) in order into `out` and
    return what they made."""
    output_folder(out)
    state = DemoState(out, SimConfig(seed=seed, officers=officers, days=days, start=start), say)
    if state.workspace_dir.exists() and any(state.workspace_dir.iterdir()):
        raise WorkspaceError(
            f"{state.workspace_dir} already holds a workspace",
            hint="give the demo a new --out folder, or delete the old one",
        )
    for step in STEPS if steps is None else steps:
        step(state)
    return state


__all__ = ["INGEST_ORDER", "STEPS", "DemoState", "ingest_simulation", "run_demo"]
