"""whereabouts: where officers were in relation to each other while on duty.

A library first; the CLI (`whereabouts.cli`) and the web app (`whereabouts.web`) are thin
edges over it. See docs/architecture.md for the layers and the contracts between them.

    from whereabouts import Workspace, ingest, investigate, build_report, RunStore
    ws = Workspace.init("ws")
    ingest(ws, "fixes", ["avl.csv"], profile="generic-avl")
    result = investigate(ws, ["P1001", "P1002"], start, end, case="PSD-1", save=True)
    build_report(ws.path, out_dir=Path("out"), case_ref="PSD-1")

The names below are imported when first used (module `__getattr__`), so `import
whereabouts` (and the CLI) loads no DuckDB, pyarrow, SQLAlchemy, FastAPI or matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whereabouts._lazy import lazy
from whereabouts._version import __version__

if TYPE_CHECKING:
    from whereabouts.analysis.investigate import (
        Investigation,
        WorkspaceLike,
        investigate,
        screen,
    )
    from whereabouts.analysis.params import AnalysisParams
    from whereabouts.case.cases import Case
    from whereabouts.case.store import CaseStore
    from whereabouts.engine.encounters import find_encounters, within_periods
    from whereabouts.engine.params import EncounterParams
    from whereabouts.engine.source import FixesSource
    from whereabouts.errors import (
        InputError,
        NoDataError,
        ParameterError,
        PermissionDenied,
        ScopeError,
        WhereaboutsError,
        WorkspaceError,
    )
    from whereabouts.report.build import ReportOptions, ReportResult, build_report
    from whereabouts.settings import SETTINGS, Setting
    from whereabouts.store.runs import Run, RunStore, RunSummary
    from whereabouts.store.workspace import IngestReport, Workspace, ingest
    from whereabouts.vocabulary import BaselineGroup, InputKind

# Each public name and the module it lives in.
_WHERE = {
    "Workspace": "store.workspace",
    "IngestReport": "store.workspace",
    "ingest": "store.workspace",
    "InputKind": "vocabulary",
    "find_encounters": "engine.encounters",
    "within_periods": "engine.encounters",
    "EncounterParams": "engine.params",
    "FixesSource": "engine.source",
    "investigate": "analysis.investigate",
    "screen": "analysis.investigate",
    "Investigation": "analysis.investigate",
    "BaselineGroup": "vocabulary",
    "WorkspaceLike": "analysis.investigate",
    "AnalysisParams": "analysis.params",
    "SETTINGS": "settings",
    "Setting": "settings",
    "RunStore": "store.runs",
    "Run": "store.runs",
    "RunSummary": "store.runs",
    "CaseStore": "case.store",
    "Case": "case.cases",
    "build_report": "report.build",
    "ReportOptions": "report.build",
    "ReportResult": "report.build",
    "WhereaboutsError": "errors",
    "InputError": "errors",
    "NoDataError": "errors",
    "ParameterError": "errors",
    "PermissionDenied": "errors",
    "ScopeError": "errors",
    "WorkspaceError": "errors",
}


__getattr__, __dir__ = lazy(__name__, _WHERE)


__all__ = [
    "SETTINGS",
    "AnalysisParams",
    "BaselineGroup",
    "Case",
    "CaseStore",
    "EncounterParams",
    "FixesSource",
    "IngestReport",
    "InputError",
    "InputKind",
    "Investigation",
    "NoDataError",
    "ParameterError",
    "PermissionDenied",
    "ReportOptions",
    "ReportResult",
    "Run",
    "RunStore",
    "RunSummary",
    "ScopeError",
    "Setting",
    "WhereaboutsError",
    "Workspace",
    "WorkspaceError",
    "WorkspaceLike",
    "__version__",
    "build_report",
    "find_encounters",
    "ingest",
    "investigate",
    "screen",
    "within_periods",
]
