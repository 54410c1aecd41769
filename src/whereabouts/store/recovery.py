"""Crash recovery of a workspace: what an interrupted ingest left, rolled back; damage named.

`manifest.json` is the commit point: a file in `tables/` or `quarantine/` counts only when
the manifest lists it. An ingest first writes `ingest.json` (the journal: the files it is
about to make); if it never reaches the manifest, `recover` removes those files and every
temporary file, and appends what it did to `recovery.json`, which `whereabouts status`
shows. Files the manifest does not list and no journal names are never removed (a lost
manifest must not delete evidence): `check` reports them.

Plain files and JSON only (no DuckDB or Arrow), so `status` stays light.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whereabouts import vocabulary as schema
from whereabouts.errors import WorkspaceError
from whereabouts.store import atomic
from whereabouts.store.lock import exclusive
from whereabouts.store.settings import read_manifest

JOURNAL = "ingest.json"  # the ingest under way: what to roll back if it never commits
RECOVERY = "recovery.json"  # what opening the workspace repaired after a crash
_MAGIC = b"PAR1"


def quarantine_name(file_id: str, kind: str) -> str:
    """The quarantine file of one input of `kind`. A map file (an OSM extract, a GeoPackage)
    may fill several layers: each its own quarantine file; roads keep the plain name."""
    if kind not in schema.MAP_KINDS or kind == "roads":
        return f"{file_id}.parquet"
    return f"{file_id}.{kind}.parquet"


def committed_paths(manifest: list[dict[str, Any]]) -> set[str]:
    """Every file (relative to the workspace) that the manifest's entries make."""
    out: set[str] = set()
    for e in manifest:
        out.add(f"tables/{e['table']}/{e['file_id']}.parquet")
        out.add(f"quarantine/{quarantine_name(e['file_id'], e['kind'])}")
    return out


def recover(path: Path) -> list[dict[str, Any]]:
    """Roll back what an interrupted ingest left, unless an ingest holds the lock now.

    Returns the events recorded (also appended to recovery.json). Quietly does nothing
    where the workspace cannot be written (a reader's account) or is busy: views never
    read uncommitted files anyway.
    """
    if not (path / JOURNAL).exists() and not _temporaries(path):
        return []  # the usual case: nothing to take the lock for
    try:
        with exclusive(path / ".lock", timeout_s=0):
            return recover_locked(path)
    except (OSError, WorkspaceError):
        return []


def recover_locked(path: Path) -> list[dict[str, Any]]:
    """`recover`, for a caller that holds the workspace's lock."""
    manifest = read_manifest(path)
    keep = committed_paths(manifest)
    journal_path = path / JOURNAL
    journal: dict[str, Any] = {}
    if journal_path.exists():
        try:
            journal = dict(json.loads(journal_path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError, ValueError):
            journal = {"name": None}
    removed: list[str] = []
    for f in _temporaries(path):
        f.unlink(missing_ok=True)
        removed.append(str(f.relative_to(path)))
    for rel in journal.get("files", []):
        if rel not in keep and (path / rel).exists():
            (path / rel).unlink()
            removed.append(rel)
    if not journal and not removed:
        return []
    done = bool(journal.get("files")) and all(rel in keep for rel in journal["files"])
    event = {
        "at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "input": journal.get("name"),
        "kind": journal.get("kind"),
        "action": "completed" if done else "rolled back",
        "removed": sorted(removed),
    }
    atomic.write_json(path / RECOVERY, [*recoveries(path), event])
    journal_path.unlink(missing_ok=True)
    return [event]


def _temporaries(path: Path) -> list[Path]:
    found = (
        [f for f in path.iterdir() if f.is_file() and atomic.is_temporary(f)]
        if path.is_dir()
        else []
    )
    for folder in [*(path / "tables").glob("*"), path / "quarantine"]:
        if folder.is_dir():
            found += [f for f in folder.iterdir() if atomic.is_temporary(f)]
    return sorted(found)


def recoveries(path: Path) -> list[dict[str, Any]]:
    """What opening the workspace repaired after crashes (recovery.json), oldest first."""
    try:
        return list(json.loads((path / RECOVERY).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return []
    except (json.JSONDecodeError, TypeError) as exc:
        raise WorkspaceError(
            f"{path / RECOVERY} is damaged", hint="it only records past repairs: move it aside"
        ) from exc


def check(path: Path) -> list[str]:
    """Damage recovery cannot repair: a listed file missing or cut short (no Parquet footer),
    a file the manifest does not list, an ingest still to roll back. Empty when the manifest,
    the files and so the views agree."""
    problems: list[str] = []
    if (path / JOURNAL).exists():
        problems.append(
            f"an interrupted ingest awaits rollback ({JOURNAL}): open the "
            "workspace (e.g. `whereabouts status`) as a user who may write to it"
        )
    manifest = read_manifest(path)
    keep = committed_paths(manifest)
    for rel in sorted(keep):
        f = path / rel
        try:
            size = f.stat().st_size
            with open(f, "rb") as fh:
                head = fh.read(4)
                fh.seek(max(size - 4, 0))
                tail = fh.read(4)
        except OSError as exc:
            problems.append(
                f"{rel} cannot be read ({exc.strerror or type(exc).__name__}); "
                "restore it from a backup"
            )
            continue
        if size < 12 or head != _MAGIC or tail != _MAGIC:
            problems.append(
                f"{rel} is damaged (not a whole Parquet file); restore it from a backup"
            )
    for folder in [*(path / "tables").glob("*"), path / "quarantine"]:
        for f in sorted(folder.glob("*.parquet")) if folder.is_dir() else []:
            rel = str(f.relative_to(path))
            if rel not in keep:
                problems.append(
                    f"{rel} is not in manifest.json, so nothing reads it; restore "
                    "manifest.json from a backup"
                )
    return problems


__all__ = [
    "JOURNAL",
    "RECOVERY",
    "check",
    "committed_paths",
    "quarantine_name",
    "recover",
    "recover_locked",
    "recoveries",
]
