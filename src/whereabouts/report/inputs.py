"""Everything a report is made from: the analysis run, the workspace and the case record's
annotations, loaded read-only into one `ReportInputs`.

The run (store/runs.py) gives occasions, tracks, stops, baseline and the typed summary. The
workspace (store.Workspace) gives places, areas, incidents, officers (for the key only),
duty, roads (when ingested, as lines for the maps) and the manifest with each input's
SHA-256. Neither is read by globbing folders here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from whereabouts.errors import NoDataError, ScopeError
from whereabouts.store import Workspace
from whereabouts.store.runs import Run, RunStore, RunSummary
from whereabouts.vocabulary import MAP_KINDS

if TYPE_CHECKING:
    from whereabouts.report.cartography import MapLayers


@dataclass(frozen=True)
class Annotation:
    """An investigator's note on an occasion, from the case record."""

    occasion_id: str
    author: str
    time: datetime | None
    note: str
    reason_added: str | None = None
    reason_rejected: str | None = None


@dataclass
class ReportInputs:
    """The tables and facts one report is built from."""

    run_dir: Path
    workspace: Workspace
    summary: RunSummary
    occasions: pa.Table
    tracks: pa.Table
    stops: pa.Table
    baseline: pa.Table
    places: pa.Table
    areas: pa.Table
    incidents: pa.Table
    officers: pa.Table
    duty: pa.Table
    manifest: list[dict[str, Any]]
    crs: str
    timezone: str
    case_ref: str | None
    annotations: list[Annotation] = field(default_factory=list)
    annotations_note: str = ""
    # a DEMO case (self-authorised by the local user): every page of its report says so
    demo: bool = False
    # The workspace's roads (if any were ingested) as lines in metres in `crs`, the shape
    # report.maps.load_roads gives: drawn when no --roads file is given.
    roads: list[np.ndarray] | None = field(default=None, repr=False)
    # The workspace's map layers (roads, buildings, water, green, rail, addresses) for the
    # maps' cartography; None when none were ingested.
    layers: MapLayers | None = field(default=None, repr=False)
    addresses: pa.Table = field(default_factory=pa.table, repr=False)

    @property
    def subjects(self) -> list[str]:
        """The run's subjects' officer ids, sorted."""
        return sorted(self.summary.subjects)


def workspace_roads(ws: Workspace) -> list[np.ndarray] | None:
    """The workspace's roads as lines (workspace-CRS metres); None when none were ingested."""
    from whereabouts.io.roads import road_lines

    table = ws.table("roads")
    return road_lines(table) if table.num_rows else None


def workspace_layers(ws: Workspace) -> MapLayers | None:
    """The workspace's map layers for drawing (report.cartography); None when it has none."""
    from whereabouts.report.cartography import MapLayers

    return MapLayers.from_tables({name: ws.table(name) for name in MAP_KINDS})


def find_run(ws: Path, case_ref: str) -> Path:
    """The folder of the case's run (RunStore.current)."""
    return RunStore(ws).current(case_ref).path


def load_annotations(ws: Path, case_ref: str | None) -> tuple[list[Annotation], str]:
    """The case's annotations from the case store, and a note when there are none to show."""
    if not case_ref:
        return [], "No case reference was given, so no annotations were looked up."
    try:
        from whereabouts.case import CaseStore
    except ImportError:
        return [], "The case record was not available, so annotations could not be included."
    store = CaseStore.open(ws)
    try:
        rows = store.annotations(case_ref)
    except ScopeError:
        return [], f"The case record holds no case {case_ref}, so it has no annotations."
    finally:
        store.close()
    out = []
    for r in rows:
        get = r.get if isinstance(r, dict) else (lambda k, _r=r: getattr(_r, k, None))
        t = get("created_at") or get("time") or get("at")
        if isinstance(t, str):
            t = datetime.fromisoformat(t)
        out.append(
            Annotation(
                occasion_id=str(get("occasion_id")),
                author=str(get("author") or ""),
                time=t,
                note=str(get("note") or ""),
                reason_added=get("reason_added"),
                reason_rejected=get("reason_rejected"),
            )
        )
    out.sort(key=lambda a: (a.time.isoformat() if a.time else "", a.occasion_id, a.note))
    return out, "" if out else "No annotations have been recorded for this case."


def case_is_demo(ws: Path, case_ref: str | None) -> bool:
    """True when `case_ref` is a DEMO case of the workspace's case record."""
    if not case_ref or not (
        (Path(ws) / "cases.sqlite").exists() or os.environ.get("WHEREABOUTS_DATABASE_URL")
    ):
        return False
    from whereabouts.case import CaseStore

    store = CaseStore.open(ws)
    try:
        return store.get_case(case_ref).demo
    except ScopeError:
        return False
    finally:
        store.close()


def load_inputs(
    ws: Path | Workspace, *, run_dir: Path | None = None, case_ref: str | None = None
) -> ReportInputs:
    """Load a report's inputs from a workspace and a run (its folder, or the case's run)."""
    w = ws if isinstance(ws, Workspace) else Workspace.open(ws)
    if run_dir is None:
        if not case_ref:
            raise NoDataError(
                "neither a case nor an analysis output folder was given",
                hint="give --case REF or --occasions DIR",
            )
        run = RunStore(w.path).current(case_ref)
    else:
        run = Run.open(run_dir)
    if not run.has("occasions"):
        raise NoDataError(
            f"{run.path} has no occasions.parquet",
            hint="give the folder written by `whereabouts investigate`",
        )
    summary = run.summary
    case_ref = case_ref or summary.case or None
    annotations, note = load_annotations(w.path, case_ref)
    return ReportInputs(
        demo=case_is_demo(w.path, case_ref),
        run_dir=run.path,
        workspace=w,
        summary=summary,
        occasions=run.table("occasions"),
        tracks=run.table_or_empty("tracks"),
        stops=run.table_or_empty("stops"),
        baseline=run.table_or_empty("baseline"),
        places=w.table("places"),
        areas=w.table("areas"),
        incidents=w.table("incidents"),
        officers=w.table("officers"),
        duty=w.table("duty"),
        manifest=w.manifest,
        crs=summary.crs,
        timezone=w.timezone,
        case_ref=str(case_ref) if case_ref else None,
        annotations=annotations,
        annotations_note=note,
        roads=workspace_roads(w),
        layers=workspace_layers(w),
        addresses=w.table("addresses"),
    )


__all__ = [
    "Annotation",
    "ReportInputs",
    "find_run",
    "load_annotations",
    "load_inputs",
    "workspace_layers",
    "workspace_roads",
]
