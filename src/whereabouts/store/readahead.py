"""An input's first chunks, read while the file is still being hashed.

Ingest needs a file's SHA-256 before it may write anything (a file ingested before is
skipped; the hash names the table file). Hashing and reading both release the GIL
(hashlib; Arrow's CSV reader, numpy), so the first chunks are read and checked meanwhile
on the other core. Whatever opening or reading raises is kept and raised where it would
have been without reading ahead, after the checks that need the hash.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

from whereabouts.io.read import Input
from whereabouts.io.tabular import Chunk

READ_AHEAD_ROWS = 1 << 20  # at most about this many rows are held while the hash runs


class ReadAhead:
    """Opens an input with `open_source` and reads its typed chunks until `until` is done
    (or READ_AHEAD_ROWS rows are held); `source()` and `chunks()` then go on from there."""

    def __init__(self, open_source: Callable[[], Input], until: Future[Any]) -> None:
        self._source: Input | None = None
        self._first: deque[Chunk] = deque()
        self._rest: Iterator[Chunk] = iter(())
        self._error: Exception | None = None
        self.rows = 0  # rows read ahead
        try:
            self._source = open_source()
            self._rest = self._source.chunks(mode="typed")
            while not until.done() and self.rows < READ_AHEAD_ROWS:
                chunk = next(self._rest, None)
                if chunk is None:
                    break
                self._first.append(chunk)
                self.rows += chunk.accepted.num_rows + chunk.quarantine.num_rows
        except Exception as exc:  # kept: raised again by source() or chunks()
            self._error = exc

    def source(self) -> Input:
        """The opened input, or what opening it raised."""
        if self._source is None:
            assert self._error is not None
            raise self._error
        return self._source

    def chunks(self) -> Iterator[Chunk]:
        """The typed chunks: those read ahead, then the rest (or what reading raised)."""
        while self._first:
            yield self._first.popleft()
        if self._error is not None:
            raise self._error
        yield from self._rest

    def close(self) -> None:
        """Drop what was read ahead and close the reader (the file was not needed)."""
        self._first.clear()
        close = getattr(self._rest, "close", None)
        if close is not None:
            close()


__all__ = ["READ_AHEAD_ROWS", "ReadAhead"]
