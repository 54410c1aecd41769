"""An exclusive lock on a workspace, so two processes never ingest into it at once."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from whereabouts.errors import WorkspaceError


@contextmanager
def exclusive(
    path: Path, *, timeout_s: float = 600.0, on_wait: Callable[[float], None] | None = None
) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if absent), waiting up to timeout_s;
    `on_wait(timeout_s)` is called once if another process holds it (so a user is told)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if on_wait is not None and not told:
                    on_wait(timeout_s)
                    told = True
                if time.monotonic() >= deadline:
                    raise WorkspaceError(
                        f"{path.parent}: another process is ingesting into this workspace",
                        hint="wait for it to finish, then run the command again",
                    ) from exc
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


__all__ = ["exclusive"]
