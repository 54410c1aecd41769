"""Spark as a user meets it before it runs: the install is documented, and a missing PySpark
or Java ends in a message saying what to install, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from whereabouts.spark.fleet import fleet, write_days

REPO = Path(__file__).resolve().parents[1]


def run_cli(
    args: list[str], env: dict[str, str], *, prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    code = (
        f"import sys\n{prelude}\nsys.argv = ['whereabouts', *{args!r}]\n"
        "from whereabouts.cli import main\nmain()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_install_of_spark_is_documented() -> None:
    for doc in ("README.md", "docs/scale.md"):
        text = (REPO / doc).read_text()
        assert "whereabouts[spark]" in text, doc
        assert "Java 17" in text and "default-jre-headless" in text, doc


def encounters_args(tmp_path: Path) -> list[str]:
    folder = write_days(fleet(3, 20, seed=1), tmp_path / "fixes")
    return ["encounters", str(folder), "--out", str(tmp_path / "enc"), "--engine", "spark"]


def test_without_pyspark_the_message_says_how_to_install(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    # an interpreter where `import pyspark` fails, as where the extra is not installed
    res = run_cli(encounters_args(tmp_path), env, prelude="sys.modules['pyspark'] = None")
    assert res.returncode == 2, res.stderr
    assert "needs PySpark" in res.stderr and "pip install 'whereabouts[spark]'" in res.stderr
    assert "Traceback" not in res.stderr


def test_without_java_the_message_says_how_to_install(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env.update(PATH=str(empty), PYTHONPATH=str(REPO / "src"))  # no java on PATH
    res = run_cli(encounters_args(tmp_path), env)
    assert res.returncode == 2, res.stderr
    assert "needs a Java runtime" in res.stderr and "default-jre-headless" in res.stderr
    assert "Traceback" not in res.stderr
    env["JAVA_HOME"] = str(tmp_path / "nowhere")
    res = run_cli(encounters_args(tmp_path), env)
    assert res.returncode == 2 and "holds no bin/java" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.spark
def test_spark_log_is_quiet_unless_verbose(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "WHEREABOUTS_SPARK_PARTITIONS": "2"}
    env.pop("WHEREABOUTS_QUIET", None)
    args = [*encounters_args(tmp_path), "--master", "local[1]", "--min-duration", "0"]
    quiet = run_cli(args, env)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert "Spark stage" in quiet.stderr and "rows in" in quiet.stderr  # ours: kept
    assert "Setting default log level" not in quiet.stderr
    assert not [line for line in quiet.stderr.splitlines() if " INFO " in line or " WARN " in line]
    loud = run_cli([*args, "--verbose"], env)
    assert loud.returncode == 0, loud.stderr[-2000:]
    assert "Setting default log level" in loud.stderr  # Spark's own, as asked
