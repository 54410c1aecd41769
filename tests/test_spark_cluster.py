"""The Spark backend on a real standalone cluster: a master and two workers as separate JVMs
on this machine, jobs submitted by the `whereabouts` command in a process of its own.

The results, written by the executors, equal the embedded engine's bit for bit; a worker
killed mid-job (SIGKILL, with its executor) costs time, not rows; a job killed outright
leaves nothing that reads as a complete result, not even the one it was replacing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from whereabouts import engine
from whereabouts.engine import EncounterParams, table_differences
from whereabouts.engine.results import MANIFEST, is_result, read_result
from whereabouts.errors import InputError
from whereabouts.spark.fleet import fleet, write_days

pytestmark = pytest.mark.spark

PARAMS = EncounterParams(distance_m=100, max_gap_s=120, merge_gap_s=60, min_duration_s=60)
OPTIONS = ["--distance", "100", "--max-gap", "120", "--merge-gap", "60", "--min-duration", "60"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from whereabouts.spark.cluster import StandaloneCluster

    with StandaloneCluster(tmp_path_factory.mktemp("cluster"), workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def fixes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # two UTC days, a parked group (many pairs) and walkers: a few hundred encounters
    table = fleet(40, 500, step_s=30, area_m=3_000, parked=8, seed=21)
    return write_days(table, tmp_path_factory.mktemp("fixes") / "fixes")


def submit(cluster: object, fixes: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    """`whereabouts encounters … --engine spark --master spark://…` in a process of its own."""
    from whereabouts.spark.cluster import StandaloneCluster

    assert isinstance(cluster, StandaloneCluster)
    env = cluster.env()
    env.pop("WHEREABOUTS_QUIET", None)  # the person's view: stages and the summary
    env["WHEREABOUTS_SPARK_PARTITIONS"] = "4"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "whereabouts",
            "encounters",
            str(fixes),
            "--out",
            str(out),
            *OPTIONS,
            "--engine",
            "spark",
            "--master",
            cluster.url,
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def first_run(
    cluster: object, fixes: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("run") / "encounters"
    job = submit(cluster, fixes, out)
    _, stderr = job.communicate(timeout=900)
    assert job.returncode == 0, stderr[-3000:]
    return out, stderr


def test_cluster_result_equals_embedded_and_is_followed(
    first_run: tuple[Path, str], fixes: Path
) -> None:
    out, stderr = first_run
    want = engine.find_encounters(fixes, PARAMS)
    got = read_result(out)
    assert want.num_rows > 100
    assert table_differences(want, got) == []
    import json

    about = json.loads(got.schema.metadata[b"whereabouts"])
    assert about["backend"]["engine"] == "spark" and about["fixes_read"] == 40 * 500
    # what the person saw: the UI, the stages, a summary; no Spark log lines or traceback
    assert "its UI: http://" in stderr
    assert "Spark stage" in stderr and "tasks" in stderr
    assert f"Spark: {want.num_rows:,} rows in" in stderr and "MB shuffled" in stderr
    assert "Traceback" not in stderr and " INFO " not in stderr and " WARN " not in stderr


def test_worker_killed_mid_job_costs_no_rows(cluster: object, fixes: Path, tmp_path: Path) -> None:
    from whereabouts.spark.cluster import StandaloneCluster

    assert isinstance(cluster, StandaloneCluster)
    out = tmp_path / "encounters"
    job = submit(cluster, fixes, out)
    victim = None
    deadline = time.monotonic() + 600
    # kill a worker once its executor holds map output of two shuffles (lost with it)
    while victim is None and job.poll() is None and time.monotonic() < deadline:
        for i, w in enumerate(cluster.workers):
            if (
                w.process.poll() is None
                and len({p.name.split("_")[1] for p in cluster.shuffle_files(i)}) >= 2
            ):
                cluster.kill_worker(i)
                victim = i
                break
        time.sleep(0.05)
    assert victim is not None, "the job ended before a worker could be killed"
    _, stderr = job.communicate(timeout=900)
    assert job.returncode == 0, stderr[-3000:]
    assert cluster.workers[victim].process.returncode == -signal.SIGKILL
    assert table_differences(engine.find_encounters(fixes, PARAMS), read_result(out)) == []
    cluster.add_worker()  # two workers again for what follows
    cluster.wait_for_workers(2)


def test_job_killed_outright_leaves_nothing_complete(
    cluster: object, fixes: Path, first_run: tuple[Path, str], tmp_path: Path
) -> None:
    out = tmp_path / "encounters"
    shutil.copytree(first_run[0], out)  # a complete result, which the job is replacing
    assert is_result(out)
    before = read_result(out)
    job = submit(cluster, fixes, out)
    deadline = time.monotonic() + 600
    # kill the driver (and its JVM) while the executors are writing the new parts
    while not (out / "gen-2" / "_temporary").exists() and job.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(job.pid, signal.SIGKILL)
    job.communicate(timeout=60)
    assert job.returncode == -signal.SIGKILL, "the job ended before it could be killed"
    # the killed job's parts are there, but nothing of them reads as a result: the old
    # result is still the complete one, whole
    assert (out / "gen-2").exists()
    assert table_differences(before, read_result(out)) == []
    (out / MANIFEST).unlink()  # and a folder of parts without a manifest is not a result
    with pytest.raises(InputError, match="stopped before it finished"):
        read_result(out)
