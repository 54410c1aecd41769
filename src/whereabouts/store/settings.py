"""A workspace's own files read without the store's machinery: `workspace.json` (its
settings) and `manifest.json` (one entry per ingested input).

JSON only, so that `whereabouts status` answers without importing DuckDB, Arrow or pyproj;
`Workspace.open` and `Workspace.manifest` read them through these functions too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from whereabouts.errors import WorkspaceError


def read_settings(path: Path | str) -> dict[str, Any]:
    """The settings of the workspace at `path` (crs, timezone, created, version)."""
    path = Path(path)
    try:
        settings: dict[str, Any] = json.loads((path / "workspace.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise WorkspaceError(
            f"{path} is not a workspace (no workspace.json)",
            hint=f"create it with `whereabouts init {path}`",
        ) from exc
    except json.JSONDecodeError as exc:
        raise WorkspaceError(
            f"{path}/workspace.json is damaged", hint="restore it from a backup"
        ) from exc
    return settings


def read_manifest(path: Path | str) -> list[dict[str, Any]]:
    """One entry per ingested input of the workspace at `path` (docs/architecture.md)."""
    file = Path(path) / "manifest.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return list(data["inputs"])
    except FileNotFoundError as exc:
        raise WorkspaceError(
            f"{file} is missing",
            hint="restore it from a backup; tables/ alone cannot say where each row came from",
        ) from exc
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise WorkspaceError(f"{file} is damaged", hint="restore it from a backup") from exc


__all__ = ["read_manifest", "read_settings"]
