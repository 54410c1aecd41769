"""Everything a report is made from: the analysis output folder, the workspace and the
case record's annotations, loaded read-only into one `ReportInputs`.

The analysis folder (docs/architecture.md "analysis") holds occasions, tracks, stops,
baseline and summary.json. The workspace gives places, areas, incidents, officers (for the
key only), roads (when ingested, as lines for the maps) and the manifest with each input's
SHA-256. Workspace tables are read straight from their documented Parquet files, so a
report never takes the catalog's lock.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from whereabouts import schema
from whereabouts.vocabulary import MAP_KINDS

if TYPE_CHECKING:
    from whereabouts.report.cartography import MapLayers
from whereabouts.errors import NoDataError, ScopeError, WorkspaceError

OCCASION_FILES = ("occasions.parquet", "summary.json")


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
    workspace: Path
    summary: dict[str, Any]
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
        subj = self.summary.get("subjects") or []
        if subj and isinstance(subj[0], dict):
            return sorted(str(s.get("officer_id")) for s in subj)
        if not subj and self.occasions.num_rows:
            ids = set(self.occasions["officer_a"].to_pylist()) | set(
                self.occasions["officer_b"].to_pylist())
            return sorted(str(i) for i in ids)
        return sorted(str(s) for s in subj)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"{path.name} cannot be read ({type(exc).__name__})",
                             hint="re-run the step that wrote it") from exc


def _optional_parquet(path: Path) -> pa.Table:
    return pq.read_table(path) if path.exists() else pa.table({})


def workspace_table(ws: Path, name: str) -> pa.Table:
    """All accepted rows of one canonical table, from the files WS/manifest.json lists."""
    from whereabouts.store.workspace import committed

    files = committed(ws, name)
    if not files:
        return schema.TABLES[name].empty_table() if name in schema.TABLES else pa.table({})
    tables = [pq.read_table(f) for f in files]
    return pa.concat_tables(tables, promote_options="default")


def workspace_layers(ws: Path) -> MapLayers | None:
    """The workspace's map layers for drawing (report.cartography); None when it has none."""
    from whereabouts.report.cartography import MapLayers

    return MapLayers.from_tables({name: workspace_table(ws, name) for name in MAP_KINDS})


def workspace_roads(ws: Path) -> list[np.ndarray] | None:
    """The workspace's roads as lines (workspace-CRS metres); None when none were ingested."""
    from whereabouts.io.roads import road_lines

    table = workspace_table(ws, "roads")
    return road_lines(table) if table.num_rows else None


def read_summary(run_dir: Path) -> dict[str, Any]:
    """summary.json of an analysis output folder."""
    path = Path(run_dir) / "summary.json"
    if not path.exists():
        raise NoDataError(f"{run_dir} has no summary.json",
                          hint="give the folder written by `whereabouts investigate`")
    data = _read_json(path)
    return data if isinstance(data, dict) else {}


def find_run(ws: Path, case_ref: str) -> Path:
    """The latest analysis output folder of a case under WS/runs."""
    runs = ws / "runs"
    direct = runs / case_ref
    if (direct / "summary.json").exists():
        return direct
    found = []
    for summary in sorted(runs.glob("**/summary.json")):
        data = _read_json(summary)
        if str(data.get("case") or data.get("case_ref") or "") == case_ref:
            found.append(summary.parent)
    if not found:
        raise NoDataError(f"no analysis output for case {case_ref} under {runs}",
                          hint=f"run `whereabouts investigate {ws} --case {case_ref}` first, "
                               "or give the output folder with --occasions DIR")
    return max(found, key=lambda p: (p.stat().st_mtime_ns, str(p)))


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
        out.append(Annotation(
            occasion_id=str(get("occasion_id")), author=str(get("author") or ""),
            time=t, note=str(get("note") or ""),
            reason_added=get("reason_added"), reason_rejected=get("reason_rejected")))
    out.sort(key=lambda a: (a.time.isoformat() if a.time else "", a.occasion_id, a.note))
    return out, "" if out else "No annotations have been recorded for this case."


def case_is_demo(ws: Path, case_ref: str | None) -> bool:
    """True when `case_ref` is a DEMO case of the workspace's case record."""
    if not case_ref or not ((Path(ws) / "cases.sqlite").exists()
                            or os.environ.get("WHEREABOUTS_DATABASE_URL")):
        return False
    from whereabouts.case import CaseStore

    store = CaseStore.open(ws)
    try:
        return store.get_case(case_ref).demo
    except ScopeError:
        return False
    finally:
        store.close()


def load_inputs(ws: Path, *, run_dir: Path | None = None, case_ref: str | None = None
                ) -> ReportInputs:
    """Load a report's inputs from a workspace and an analysis output folder (or a case)."""
    ws = Path(ws)
    if not (ws / "workspace.json").exists():
        raise WorkspaceError(f"{ws} is not a workspace (no workspace.json)",
                             hint="give the folder made by `whereabouts init`")
    if run_dir is None:
        if not case_ref:
            raise NoDataError("neither a case nor an analysis output folder was given",
                              hint="give --case REF or --occasions DIR")
        run_dir = find_run(ws, case_ref)
    run_dir = Path(run_dir)
    missing = [f for f in OCCASION_FILES if not (run_dir / f).exists()]
    if missing:
        raise NoDataError(f"{run_dir} has no {', '.join(missing)}",
                          hint="give the folder written by `whereabouts investigate`")
    summary = _read_json(run_dir / "summary.json")
    ws_meta = _read_json(ws / "workspace.json")
    manifest_path = ws / "manifest.json"
    manifest = _read_json(manifest_path) if manifest_path.exists() else []
    if isinstance(manifest, dict):  # {"inputs": [...]} or {file_id: entry}
        manifest = manifest.get("inputs") or list(manifest.values())
    case_ref = case_ref or summary.get("case") or summary.get("case_ref") or None
    annotations, note = load_annotations(ws, case_ref)
    demo = case_is_demo(ws, case_ref)
    return ReportInputs(
        demo=demo,
        run_dir=run_dir,
        workspace=ws,
        summary=summary,
        occasions=pq.read_table(run_dir / "occasions.parquet"),
        tracks=_optional_parquet(run_dir / "tracks.parquet"),
        stops=_optional_parquet(run_dir / "stops.parquet"),
        baseline=_optional_parquet(run_dir / "baseline.parquet"),
        places=workspace_table(ws, "places"),
        areas=workspace_table(ws, "areas"),
        incidents=workspace_table(ws, "incidents"),
        officers=workspace_table(ws, "officers"),
        duty=workspace_table(ws, "duty"),
        manifest=list(manifest),
        crs=str(summary.get("crs") or ws_meta.get("crs") or "EPSG:27700"),
        timezone=str(ws_meta.get("timezone") or summary.get("timezone") or "Europe/London"),
        case_ref=str(case_ref) if case_ref else None,
        annotations=annotations,
        annotations_note=note,
        roads=workspace_roads(ws),
        layers=workspace_layers(ws),
        addresses=workspace_table(ws, "addresses"),
    )


__all__ = ["Annotation", "ReportInputs", "find_run", "load_annotations", "load_inputs",
           "read_summary", "workspace_layers", "workspace_roads", "workspace_table"]
