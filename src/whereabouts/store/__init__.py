"""store layer: the workspace (Parquet tables, DuckDB catalog, manifest)."""

from whereabouts.store.workspace import IngestReport, Workspace

__all__ = ["IngestReport", "Workspace"]
