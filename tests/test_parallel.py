"""Work beside this process: a forked process gives what the same call here gives, its
errors come back as they were raised, and leaving early stops it."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from whereabouts.errors import InputError, Location
from whereabouts.parallel import beside, can_fork

needs_fork = pytest.mark.skipif(not can_fork(), reason="no fork or a single core")


def total_and_pid(values: np.ndarray, lock: threading.Lock) -> tuple[float, int]:
    with lock:  # a lock cannot be pickled: the fork shares the arguments, never pickles them
        return float(values.sum()), os.getpid()


def refuse(line: int) -> None:
    raise InputError(
        "no time column", where=Location("fixes.csv", line, "time"), hint="map a column to time"
    )


@needs_fork
def test_a_forked_call_gives_the_same_result_in_another_process() -> None:
    values = np.arange(1_000_000, dtype=np.float64)
    with beside(total_and_pid, values, threading.Lock()) as later:
        mine = total_and_pid(values, threading.Lock())
        theirs = later()
    assert theirs[0] == mine[0] == values.sum()
    assert theirs[1] != os.getpid() and mine[1] == os.getpid()
    with beside(total_and_pid, values, threading.Lock(), forked=False) as here:
        assert here() == mine  # not forked: run here, when asked


@needs_fork
def test_errors_come_back_with_their_class_and_where() -> None:
    with pytest.raises(InputError) as caught, beside(refuse, 7) as later:
        later()
    assert caught.value.where == Location("fixes.csv", 7, "time")
    assert caught.value.hint == "map a column to time"
    assert str(caught.value).startswith("fixes.csv:7 (column 'time'): no time column")


def unpicklable() -> object:
    return threading.Lock()


@needs_fork
def test_a_result_that_cannot_be_sent_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="could not be sent"), beside(unpicklable) as later:
        later()


@needs_fork
def test_leaving_the_block_early_stops_the_fork() -> None:
    begun = time.monotonic()
    with pytest.raises(KeyError), beside(time.sleep, 60):
        raise KeyError("the work here failed")
    assert time.monotonic() - begun < 10  # terminated, not waited for


def nested(values: np.ndarray) -> tuple[float, int]:
    with beside(total_and_pid, values, threading.Lock()) as later:  # runs in the fork itself
        return later()


@needs_fork
def test_work_beside_a_fork_runs_in_the_fork() -> None:
    values = np.arange(10.0)
    with beside(nested, values) as later:
        total, pid = later()
    assert total == 45.0 and pid != os.getpid()


def collections_of_what_was_there(made: list[list[int]]) -> tuple[int, bool]:
    """In the fork: how many objects are frozen (never walked by a collection), and
    whether a cycle made here is still collected."""
    import gc
    import weakref

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    return gc.get_freeze_count(), gone() is None


@needs_fork
def test_neither_process_walks_the_objects_they_share_while_the_fork_runs() -> None:
    """A collection would write to every page holding an object the two processes share
    (and so copy it): those objects are frozen in both while the fork runs, cycles made
    meanwhile are still collected, and all is thawed when the block ends."""
    import gc

    made = [[k] for k in range(10_000)]
    with beside(collections_of_what_was_there, made) as later:
        assert gc.get_freeze_count() >= len(made)
        with beside(len, made) as inner:  # (nested: thawed by the outer block only)
            assert inner() == len(made)
        assert gc.get_freeze_count() >= len(made)
        frozen, collected = later()
        here = collections_of_what_was_there(made)
    assert frozen >= len(made) and collected
    assert here[0] >= len(made) and here[1]
    assert gc.get_freeze_count() == 0
