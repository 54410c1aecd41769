"""The README's "Using it" block runs as written, command by command, in bash, on the demo's
simulated exports (a smaller force than `whereabouts demo`'s, same files and dates)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import whereabouts
from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.force import simulate

README = Path(__file__).resolve().parents[1] / "README.md"
PW = "a long enough passphrase"


def readme_commands(text: str, heading: str = "## Using it") -> list[str]:
    """The commands of the ```sh block(s) under `heading` (up to the next heading of its
    level): continuation lines joined, comment-only lines dropped."""
    level = heading.split(" ", 1)[0]
    section = text.split(heading, 1)[1].split(f"\n{level} ", 1)[0]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            commands.append(pending + line)
            pending = ""
    return commands


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(cmd: str, preamble: str, cwd: Path, env: dict[str, str]) -> None:
    """Start the web app as written (on a free port, so tests can run side by side), wait
    until it answers, stop it."""
    port = _free_port()
    log = cwd / "serve.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            ["bash", "-c", f"{preamble}{cmd} --port {port}"],
            cwd=cwd,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the web app did not answer"
                time.sleep(0.3)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_the_readme_states_the_first_administrator_and_the_supervisors_step() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    init = next(c for c in commands if " init " in c)
    assert "--admin" in init
    opened = commands.index(next(c for c in commands if " case open " in c))
    authorised = commands.index(next(c for c in commands if " case authorise " in c))
    first_read = commands.index(next(c for c in commands if " investigate " in c))
    assert opened < authorised < first_read
    assert "--user sup1" in commands[authorised] and "--authorised-by sup1" in commands[opened]


def run_as_written(commands: list[str], cwd: Path) -> dict[str, str]:
    """Run each command in bash in `cwd`, as a user would (shell variables carried over,
    the web app started and stopped); every one must succeed. Returns each one's output."""
    # `.venv/bin/whereabouts` of the docs: this interpreter with this checkout's code
    src = Path(whereabouts.__file__).resolve().parents[1]
    tmp_path = cwd
    exe = tmp_path / ".venv" / "bin" / "whereabouts"
    exe.parent.mkdir(parents=True)
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m whereabouts "$@"\n')
    exe.chmod(0o755)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("WHEREABOUTS_USER", "WHEREABOUTS_DATABASE_URL")
    }
    env.update(PYTHONPATH=str(src), WHEREABOUTS_PASSWORD=PW)  # every user's, for --user NAME
    preamble = ""
    outputs: dict[str, str] = {}
    for cmd in commands:
        if re.match(r"^[A-Za-z_]\w*=", cmd):  # a shell variable the later commands use
            preamble += cmd + "\n"
            continue
        if re.search(r"\bserve\b", cmd.split("#")[0]):
            _serve(cmd.split("#")[0].rstrip(), preamble, tmp_path, env)
            continue
        r = subprocess.run(
            ["bash", "-c", preamble + cmd],
            cwd=tmp_path,
            env=env,
            input=f"{PW}\n{PW}\n",
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert r.returncode == 0, (cmd, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, (cmd, r.stderr)
        outputs[cmd] = r.stdout + r.stderr
    return outputs


@pytest.mark.slow
def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert len(commands) > 20
    simulate(SimConfig(seed=7, officers=30, days=3), tmp_path / "demo-output" / "data")
    outputs = run_as_written(commands, tmp_path)
    said = "\n".join(outputs.values())
    assert "awaits authorisation" in said and "authorised by sup1" in said
    assert "case PSD-2024-017:" in said and "DEMO" not in said
    assert "intact" in said
    assert (tmp_path / "report" / "report.html").exists()
    assert list((tmp_path / "ws" / "runs" / "PSD-2024-017").glob("*/occasions.csv"))
