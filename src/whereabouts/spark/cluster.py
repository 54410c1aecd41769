"""A Spark standalone cluster on this machine: a master and workers as separate JVMs.

For the tests and the bench (and for trying `--engine spark` on one machine as it runs on
many): PySpark ships Spark's own daemons, started here with
`spark-class org.apache.spark.deploy.master.Master` and `…deploy.worker.Worker` on
127.0.0.1 with free ports, each worker with its own work and shuffle folders.

    with StandaloneCluster(tmp, workers=2) as cluster:
        run(["whereabouts", "encounters", …, "--master", cluster.url], env=cluster.env())

`cluster.env()` is what a driver process needs (SPARK_CONF_DIR with the executors' memory
and cores, PYTHONPATH so executors import this package, JAVA_HOME). `kill_worker(i)` ends a
worker and its executor at once (SIGKILL), as a machine lost mid-job.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from whereabouts.errors import WhereaboutsError


class ClusterError(WhereaboutsError):
    """The local standalone cluster did not start."""


_GIVEN: set[int] = set()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, and not handed out before by this process: a JVM
    binds its ports only once it has started, so without the second rule a worker could be
    given the master's web UI port before the master took it (the master's /json then
    answered with a worker's page)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def spark_home() -> Path:
    """PySpark's own Spark distribution (bin/spark-class, jars)."""
    import pyspark

    return Path(pyspark.__file__).parent


@dataclass
class Daemon:
    """A master or worker JVM: its process (own process group), ports and folders."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    ui_port: int
    folder: Path
    killed: bool = False

    def kill(self) -> None:
        """SIGKILL the daemon and whatever it started (a worker's executor)."""
        self.killed = True
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


class StandaloneCluster:
    """Start a master and `workers` workers (1 core, `worker_memory` each) under `root`."""

    def __init__(
        self,
        root: Path,
        *,
        workers: int = 2,
        worker_memory: str = "1g",
        executor_memory: str = "512m",
        daemon_memory: str = "256m",
        start_timeout_s: float = 120.0,
    ) -> None:
        self.root = Path(root)
        self.n_workers = workers
        self.worker_memory, self.executor_memory = worker_memory, executor_memory
        self.daemon_memory = daemon_memory
        self.timeout = start_timeout_s
        self.master: Daemon | None = None
        self.workers: list[Daemon] = []
        self.conf_dir = self.root / "conf"

    # ------------------------------------------------------------------ environment
    def _base_env(self) -> dict[str, str]:
        from whereabouts.spark.engine import require_spark
        from whereabouts.spark.watch import QUIET_LOG4J

        require_spark()  # sets JAVA_HOME from java on PATH
        package_root = str(Path(__file__).resolve().parents[2])  # holds whereabouts/
        env = dict(os.environ)
        env.update(
            {
                "SPARK_HOME": str(spark_home()),
                "SPARK_LOCAL_IP": "127.0.0.1",
                "SPARK_DAEMON_MEMORY": self.daemon_memory,
                "SPARK_DAEMON_JAVA_OPTS": f"-Dlog4j2.configurationFile=file:{QUIET_LOG4J}",
                "PYSPARK_PYTHON": sys.executable,
                "PYTHONPATH": os.pathsep.join(
                    [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]
                ),
            }
        )
        return env

    def env(self) -> dict[str, str]:
        """The environment of a driver process submitting to this cluster."""
        env = self._base_env()
        env["SPARK_CONF_DIR"] = str(self.conf_dir)
        return env

    @property
    def url(self) -> str:
        """The master's spark:// URL (the cluster must be started)."""
        assert self.master is not None, "the cluster is not started"
        return f"spark://127.0.0.1:{self.master.port}"

    def conf(self) -> dict[str, str]:
        """The driver settings for this cluster (also in SPARK_CONF_DIR/spark-defaults.conf)."""
        return {
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.executor.memory": self.executor_memory,
            "spark.executor.cores": "1",
            "spark.cores.max": str(self.n_workers),
            "spark.executorEnv.PYTHONPATH": self._base_env()["PYTHONPATH"],
        }

    # ------------------------------------------------------------------ daemons
    def _spawn(self, name: str, cls: str, args: list[str], env: dict[str, str]) -> Daemon:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        port, ui = free_port(), free_port()
        cmd = [
            str(spark_home() / "bin" / "spark-class"),
            cls,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui),
            *args,
        ]
        log = open(folder / "daemon.log", "wb")  # noqa: SIM115 - the daemon holds it open
        try:
            process = subprocess.Popen(
                cmd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        return Daemon(name, process, port, ui, folder)

    def start(self) -> StandaloneCluster:
        """Start the master, then the workers; wait until every worker is registered."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.conf_dir.mkdir(exist_ok=True)
        env = self._base_env()
        self.master = self._spawn("master", "org.apache.spark.deploy.master.Master", [], env)
        (self.conf_dir / "spark-defaults.conf").write_text(
            "".join(f"{k} {v}\n" for k, v in self.conf().items())
        )
        for _ in range(self.n_workers):
            self.add_worker()
        self.wait_for_workers(self.n_workers)
        return self

    def add_worker(self) -> Daemon:
        """Start one more worker (1 core) and return it (registered by `wait_for_workers`)."""
        name = f"worker{len(self.workers)}"
        env = self._base_env()
        local = self.root / name / "local"
        local.mkdir(parents=True, exist_ok=True)
        env["SPARK_LOCAL_DIRS"] = str(local)  # its executors' shuffle files: per worker
        worker = self._spawn(
            name,
            "org.apache.spark.deploy.worker.Worker",
            [
                "--cores",
                "1",
                "--memory",
                self.worker_memory,
                "--work-dir",
                str(self.root / name / "work"),
                self.url,
            ],
            env,
        )
        self.workers.append(worker)
        return worker

    def state(self) -> dict[str, Any]:
        """The master's own view (its web UI's /json): workers, applications."""
        assert self.master is not None
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.master.ui_port}/json/", timeout=5
        ) as r:
            return dict(json.load(r))

    def alive_workers(self) -> int:
        """The number of workers the master counts as alive (0 if it does not answer)."""
        try:
            return sum(1 for w in self.state().get("workers", []) if w.get("state") == "ALIVE")
        except (OSError, ValueError):  # not answering yet, or not yet with its JSON
            return 0

    def wait_for_workers(self, n: int) -> None:
        """Wait until `n` workers are alive; raise naming the log if a daemon exits or time
        runs out."""
        deadline = time.monotonic() + self.timeout
        while self.alive_workers() < n:
            for d in [self.master, *self.workers]:
                if d is not None and not d.killed and d.process.poll() is not None:
                    raise ClusterError(
                        f"the {d.name} exited ({d.process.returncode})",
                        hint=f"see {d.folder / 'daemon.log'}",
                    )
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"{n} workers did not register within {self.timeout:.0f} s",
                    hint=f"see the logs under {self.root}",
                )
            time.sleep(0.25)

    def kill_worker(self, i: int) -> None:
        """SIGKILL worker `i` and its executor (a machine lost)."""
        self.workers[i].kill()

    def shuffle_files(self, i: int) -> list[Path]:
        """The shuffle data files worker `i`'s executors have written so far."""
        return list((self.root / self.workers[i].name / "local").glob("**/shuffle_*.data"))

    def stop(self) -> None:
        """Stop the workers and the master."""
        for d in [*self.workers, self.master]:
            if d is not None:
                d.kill()

    def __enter__(self) -> StandaloneCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


__all__ = ["ClusterError", "Daemon", "StandaloneCluster", "free_port", "spark_home"]
