"""Progress bars (rich) for long work; silent when WHEREABOUTS_QUIET is set or not a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def enabled() -> bool:
    """Whether progress bars are shown: on a terminal, unless WHEREABOUTS_QUIET is set."""
    return not os.environ.get("WHEREABOUTS_QUIET") and sys.stderr.isatty()


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate over `items` showing a progress bar on stderr."""
    if not enabled():
        yield from items
        return
    from rich.progress import (  # only when a bar is shown (≈ 25 ms to import)
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        yield from bar.track(items, total=total, description=description)


__all__ = ["enabled", "track"]
