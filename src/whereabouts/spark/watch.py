"""What a person sees of a Spark run: its stages as they go, the UI's address, a summary.

`Watch(spark)` polls Spark's status tracker from a thread while the work runs: on a
terminal a progress bar per stage (tasks done of all, running), elsewhere one line per
finished stage. `Watch.summary(rows=…)` then reads the UI's REST API for the shuffle and
states rows, parts, stages, tasks, shuffle and time in one line. Spark's own logging is
kept quiet by `quiet_logging` (its log4j configuration) unless asked for.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from rich.progress import Progress, TaskID

QUIET_LOG4J = Path(__file__).with_name("log4j2-quiet.properties")


def quiet_logging() -> dict[str, str]:
    """The driver's Spark settings that keep Spark's log off the terminal (errors only)."""
    option = f"-Dlog4j2.configurationFile=file:{QUIET_LOG4J}"
    return {"spark.driver.extraJavaOptions": option, "spark.executor.extraJavaOptions": option}


@dataclass(frozen=True)
class Summary:
    """A run's figures: rows written, parts, stages and tasks, shuffle bytes, seconds."""

    rows: int
    parts: int | None
    stages: int
    tasks: int
    shuffle_bytes: int | None
    seconds: float

    def line(self) -> str:
        """The measurement as one line: time, rows, parts and bytes shuffled."""
        shuffle = (
            "shuffle unknown (no Spark UI)"
            if self.shuffle_bytes is None
            else f"{self.shuffle_bytes / 1e6:,.1f} MB shuffled"
        )
        parts = "" if self.parts is None else f" in {self.parts} parts"
        return (
            f"Spark: {self.rows:,} rows{parts}; {self.stages} stages, {self.tasks} tasks, "
            f"{shuffle}; {self.seconds:.1f} s"
        )


class Watch:
    """Follows a session's stages from a thread (start/stop, or as a context manager)."""

    def __init__(
        self, spark: SparkSession, *, stream: TextIO, live: bool, interval_s: float = 0.5
    ) -> None:
        self.spark, self.stream, self.live, self.interval = spark, stream, live, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spark-watch", daemon=True)
        self._seen: dict[int, tuple[int, int, int]] = {}  # stage → (done, running, tasks)
        self._done: set[int] = set()
        self._t0 = time.monotonic()

    def ui_url(self) -> str | None:
        """The Spark UI's URL, or None when the UI is off."""
        return self.spark.sparkContext.uiWebUrl

    def __enter__(self) -> Watch:
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        bar = None
        tasks: dict[int, TaskID] = {}
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[running]} running"),
                console=Console(file=self.stream),
                transient=True,
            )
            bar.start()
        try:
            while not self._stop.wait(self.interval):
                self._poll(bar, tasks)
            self._poll(bar, tasks)
        finally:
            if bar is not None:
                bar.stop()

    def _poll(self, bar: Progress | None, tasks: dict[int, TaskID]) -> None:
        tracker = self.spark.sparkContext.statusTracker()
        active = set(tracker.getActiveStageIds())
        for sid in sorted(active | (set(self._seen) - self._done)):
            info = tracker.getStageInfo(sid)
            if info is None:
                continue
            state = (info.numCompletedTasks, info.numActiveTasks, info.numTasks)
            self._seen[sid] = state
            finished = sid not in active
            if bar is not None:
                if sid not in tasks:
                    tasks[sid] = bar.add_task(f"stage {sid}", total=info.numTasks, running=0)
                bar.update(
                    tasks[sid], completed=info.numCompletedTasks, running=info.numActiveTasks
                )
                if finished:
                    bar.remove_task(tasks.pop(sid))
            if finished and sid not in self._done:
                self._done.add(sid)
                if bar is None:
                    print(
                        f"Spark stage {sid} done: {info.numCompletedTasks}/{info.numTasks} tasks",
                        file=self.stream,
                        flush=True,
                    )

    def summary(self, *, rows: int, parts: int | None = None) -> Summary:
        """The run's figures (shuffle from the UI's REST API when the UI is on)."""
        seconds = time.monotonic() - self._t0
        stages = tasks = 0
        shuffle: int | None = None
        url, app = self.ui_url(), self.spark.sparkContext.applicationId
        if url:
            try:
                # a busy machine answers slowly; the stages list is small
                with urllib.request.urlopen(
                    f"{url}/api/v1/applications/{app}/stages", timeout=120
                ) as r:
                    listed = json.load(r)
                shuffle = sum(int(s.get("shuffleWriteBytes", 0)) for s in listed)
                stages = sum(1 for s in listed if s.get("status") == "COMPLETE")
                tasks = sum(int(s.get("numCompleteTasks", 0)) for s in listed)
            except (OSError, ValueError):  # the UI went away: say unknown, not zero
                shuffle = None
        if shuffle is None:
            stages = len(self._done)
            tasks = sum(self._seen[s][0] for s in self._done)
        return Summary(rows, parts, stages, tasks, shuffle, seconds)


__all__ = ["QUIET_LOG4J", "Summary", "Watch", "quiet_logging"]
