"""store layer: the workspace (Parquet tables, DuckDB catalog, manifest).

`Workspace` and `IngestReport` are imported when first used (module `__getattr__`), so that
`whereabouts.store.settings` (what `whereabouts status` reads) comes without DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whereabouts._lazy import lazy

if TYPE_CHECKING:
    from whereabouts.store.workspace import IngestReport, Workspace


__getattr__, __dir__ = lazy(__name__, {"IngestReport": "workspace", "Workspace": "workspace"})


__all__ = ["IngestReport", "Workspace"]
