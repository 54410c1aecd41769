"""A re-run of an investigation killed (kill -9) at every one of its writes: the case's run
is always one whole run, the old or the new, never a mix; the re-run then works."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from whereabouts.analysis.investigate import investigate
from whereabouts.analysis.params import AnalysisParams
from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.demo import ingest_simulation
from whereabouts.simulate.force import simulate
from whereabouts.store.atomic import CRASH_AFTER
from whereabouts.store.runs import RunStore

pytestmark = pytest.mark.slow

START, END = datetime(2024, 3, 25, tzinfo=UTC), datetime(2024, 3, 27, tzinfo=UTC)
CASE = "C-1"
SUBJECTS = ["P1001", "P1002"]


def _run(ws: Path, distance: float) -> None:
    investigate(
        ws,
        SUBJECTS,
        START,
        END,
        case=CASE,
        save=True,
        sensitivity=False,
        params=AnalysisParams.of({"distance_m": distance}),
    )


def _killed(ws: Path, n: int) -> int:
    """Re-run at 30 m in a forked process that kills itself at its n-th write."""
    os.environ[CRASH_AFTER] = str(n)
    try:
        child = multiprocessing.get_context("fork").Process(target=_run, args=(ws, 30.0))
        child.start()
        child.join(600)
    finally:
        del os.environ[CRASH_AFTER]
    assert child.exitcode is not None
    return child.exitcode


def _whole(ws: Path) -> float:
    """The case's run: every file as run.json lists it, its figures from one run; the
    distance it was made with."""
    run = RunStore(ws).current(CASE)
    assert run.files, "the run lists its files"
    for name, digest in run.files.items():
        assert hashlib.sha256((run.path / name).read_bytes()).hexdigest() == digest, name
    # summary.json is among the files hashed at commit: the figures and the settings they
    # were made with come from one run (the mixed run of issue 17 fails here)
    assert "summary.json" in run.files and "occasions.parquet" in run.files
    assert pq.read_metadata(run.path / "occasions.parquet").num_rows >= 0
    return float(run.summary.setting("distance_m", 0.0))


def test_a_rerun_killed_at_every_write_leaves_one_whole_run(tmp_path: Path) -> None:
    cfg = SimConfig(seed=5, officers=30, days=2)
    simulate(cfg, tmp_path / "data")
    ws = tmp_path / "ws"
    ingest_simulation(tmp_path / "data", ws, cfg.timezone)
    _run(ws, 100.0)
    assert _whole(ws) == 100.0
    n = 0
    seen = set()
    while True:
        n += 1
        assert n < 100, "the re-run never finished"
        code = _killed(ws, n)
        if code == 0:
            break
        assert code == -9
        seen.add(_whole(ws))  # the old run, or the new one: whole either way
        _run(ws, 100.0)  # and a re-run works (back to the old settings for the next kill)
        assert _whole(ws) == 100.0
    assert _whole(ws) == 30.0
    assert n > 5 and seen == {100.0, 30.0}  # killed before and after the commit
