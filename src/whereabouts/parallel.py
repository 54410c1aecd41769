"""Work beside this process: a function run in a forked process while this one goes on.

`beside(fn, *args)` forks one process that runs `fn(*args)`; the block of the `with` runs
here meanwhile, and the yielded function waits for fn's result (or raises its error). The
arguments reach the fork as memory it shares with this process, never pickled, so a
function of large tables costs nothing to hand over; only the result is sent back (a
thread here takes it as soon as it is ready, so the fork ends then, and this process's
memory stops being shared: pages it writes afterwards are not copied). Example::

    with beside(stops_and_tracks, inputs) as later:
        occ = label_occasions(...)     # here, on one core
        stops, tracks = later()        # the other core's work, when it is done

A machine without fork, one core, or `forked=False` runs fn here when its result is first
asked for: the same result either way. Leaving the block early (an error) stops the fork.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any, Literal, TypeVar

T = TypeVar("T")
# an error as (class, args, attributes): see _parts
_Parts = tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]


def can_fork() -> bool:
    """Whether a second process would run on a core of its own (and may be started: a
    forked process runs its own work in itself)."""
    return (
        hasattr(os, "fork")
        and (os.cpu_count() or 1) >= 2
        and not multiprocessing.current_process().daemon
    )


@contextlib.contextmanager
def beside(fn: Callable[..., T], *args: object, forked: bool = True) -> Iterator[Callable[[], T]]:
    """Run `fn(*args)` in a forked process during the block; yields a function that returns
    its result (waiting for it) or raises its exception."""
    if not (forked and can_fork()):
        done: list[T] = []

        def here() -> T:
            if not done:
                done.append(fn(*args))
            return done[0]

        yield here
        return
    with _frozen():
        yield from _forked(fn, args)


def _forked(fn: Callable[..., T], args: tuple[object, ...]) -> Iterator[Callable[[], T]]:
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(fn, args, send), daemon=True)
    process.start()
    send.close()
    box: list[tuple[Literal[True], T] | tuple[Literal[False], _Parts]] = []

    def take() -> None:
        with contextlib.suppress(EOFError):  # EOF: the fork died without a word
            box.append(receive.recv())

    reader = threading.Thread(target=take, daemon=True)
    reader.start()

    def later() -> T:
        reader.join()
        process.join()
        if not box:
            raise RuntimeError(
                f"the forked process ended without a result (exit code "
                f"{process.exitcode}; -9: the system stopped it, often for "
                f"lack of memory)"
            )
        message = box[0]
        if message[0]:
            return message[1]
        raise _rebuilt(*message[1])

    try:
        yield later
    finally:
        if process.is_alive():
            process.terminate()
        process.join()
        reader.join()
        receive.close()


_FROZEN = [0]  # blocks of `beside` with a fork under way (this process's objects frozen)
_FREEZING = threading.Lock()


@contextlib.contextmanager
def _frozen() -> Iterator[None]:
    """This process's objects frozen (gc.freeze) while a fork shares their pages, here and
    in the fork (which is forked with them frozen): a collection walking them would write
    to every page holding one, and so copy it. What either makes meanwhile is collected as
    ever; all is thawed when the last such block ends (frozen for good, an object that
    became garbage in a cycle would never be collected)."""
    with _FREEZING:
        gc.freeze()
        _FROZEN[0] += 1
    try:
        yield
    finally:
        with _FREEZING:
            _FROZEN[0] -= 1
            if _FROZEN[0] == 0:
                gc.unfreeze()


def _child(fn: Callable[..., Any], args: tuple[Any, ...], send: Connection) -> None:
    """In the fork: run fn and send (True, result) or (False, the error's parts)."""
    try:
        message: tuple[bool, Any] = (True, fn(*args))
    except BaseException as exc:  # every error goes back
        message = (False, _parts(exc))
    try:
        send.send(message)
    except Exception as exc:  # a result pickle refuses
        send.send(
            (
                False,
                _parts(
                    RuntimeError(
                        f"the forked process's result could not be sent: {type(exc).__name__}"
                    )
                ),
            )
        )
    finally:
        send.close()


def _parts(exc: BaseException) -> _Parts:
    """An error as (class, args, attributes), which rebuild without calling its __init__
    (whereabouts' errors take keyword arguments that pickle would not pass back)."""
    state = dict(getattr(exc, "__dict__", {}))
    try:
        pickle.dumps((type(exc), exc.args, state))
    except Exception:  # it carries what pickle refuses
        return RuntimeError, (f"{type(exc).__name__}: {exc}",), {}
    return type(exc), exc.args, state


def _rebuilt(
    cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]
) -> BaseException:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


__all__ = ["beside", "can_fork"]
