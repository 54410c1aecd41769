"""store layer: the workspace (Parquet tables, DuckDB catalog, manifest).

`Workspace` and `IngestReport` are imported when first used (module `__getattr__`), so that
`whereabouts.store.settings` (what `whereabouts status` reads) comes without DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whereabouts.store.workspace import IngestReport, Workspace


def __getattr__(name: str) -> object:
    if name not in ("IngestReport", "Workspace"):
        raise AttributeError(f"module 'whereabouts.store' has no attribute {name!r}")
    from whereabouts.store import workspace

    value = getattr(workspace, name)
    globals()[name] = value
    return value


__all__ = ["IngestReport", "Workspace"]
