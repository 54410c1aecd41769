"""Writes that are all or nothing: a file is written under a temporary name and renamed.

A reader sees either the old file or the new one, never half of one; a crash leaves at
most a temporary file that the next open of the workspace removes.

Crash testing: with WHEREABOUTS_CRASH_AFTER_WRITES=N in the environment the process kills
itself (SIGKILL, as `kill -9` would) at its N-th write step, so a test can stop an ingest
or an investigation at every write in turn. Off (and free) otherwise.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

CRASH_AFTER = "WHEREABOUTS_CRASH_AFTER_WRITES"
TEMPORARY = (".partial", ".tmp", ".merged")  # suffixes of files not yet renamed into place

_steps = itertools.count(1)  # write steps done in this process


def step() -> None:
    """One write step done: under the crash-test hook, die at the chosen one."""
    at = os.environ.get(CRASH_AFTER)
    if not at:
        return
    if next(_steps) >= int(at):
        os.kill(os.getpid(), signal.SIGKILL)


def temporary(path: Path) -> Path:
    """The name `path` is written under before it is renamed into place."""
    return path.with_name(f".{path.name}.tmp")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform without directory descriptors: nothing to sync
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(tmp: Path, path: Path) -> None:
    """Rename a fully written `tmp` to `path` (its data synced to disk first)."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    step()
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    step()


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path`, on failure it goes."""
    tmp = temporary(path)
    try:
        yield tmp
        commit(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with replacing(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
        step()


def write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: object) -> None:
    """Write `data` as indented, key-sorted JSON to `path` atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_with(path: Path, writer: Callable[[Path], object]) -> None:
    """Call `writer(tmp)` to write the file, then rename it to `path` atomically."""
    with replacing(path) as tmp:
        writer(tmp)
        step()


def is_temporary(path: Path) -> bool:
    """Whether `path` is a file left by a write that never reached its rename."""
    return path.name.endswith(TEMPORARY)


__all__ = [
    "CRASH_AFTER",
    "commit",
    "is_temporary",
    "replacing",
    "step",
    "temporary",
    "write_bytes",
    "write_json",
    "write_text",
    "write_with",
]
