"""The CLI starts light (issue 20): `whereabouts --help`, `--version`, `status` and `profiles`
import none of the heavy layers; each command's module is built only when it is asked for.

Each check runs in a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer

from whereabouts import schema, vocabulary

HEAVY = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "matplotlib",
    "weasyprint",
    "pyspark",
    "duckdb",
    "pyarrow",
    "numpy",
    "pyproj",
    "jinja2",
    "uvicorn",
    "pandas",
)

PROBE = """
import json, runpy, sys
sys.argv = ["whereabouts", *json.loads(sys.argv[1])]
try:
    runpy.run_module("whereabouts", run_name="__main__")
except SystemExit as exc:
    assert exc.code in (None, 0), exc.code
print(json.dumps(sorted(m.split(".")[0] for m in sys.modules)), file=sys.stderr)
"""


def _imported(args: list[str]) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], check=True, capture_output=True, text=True
    )
    return set(json.loads(out.stderr.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_layer() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, json, whereabouts.cli, whereabouts.case, "
            "whereabouts.store; print(json.dumps(sorted(sys.modules)))",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    loaded = {m.split(".")[0] for m in json.loads(out.stdout)}
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["profiles"],
        ["version"],
        ["encounters", "--help"],
        ["case", "--help"],
    ],
)
def test_light_commands_import_no_heavy_layer(args: list[str]) -> None:
    loaded = _imported(args)
    assert not loaded & set(HEAVY), f"{args}: {sorted(loaded & set(HEAVY))}"


def test_status_reads_the_workspace_without_the_store(tmp_path: object) -> None:
    from pathlib import Path

    from whereabouts.store import Workspace

    ws = Path(str(tmp_path)) / "ws"
    Workspace.init(ws)
    loaded = _imported(["status", str(ws), "--json"])
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_version_option_prints_the_version() -> None:
    from whereabouts import __version__

    out = subprocess.run(
        [sys.executable, "-m", "whereabouts", "--version"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == __version__


def test_command_table_names_what_each_module_registers() -> None:
    from whereabouts.cli import COMMANDS, MODULES, module_commands

    registered = {name: module for module in MODULES for name in module_commands(module)}
    assert registered == COMMANDS


def test_the_root_lists_every_command_it_can_run() -> None:
    from whereabouts.cli import app

    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    names = group.list_commands(None)  # type: ignore[arg-type]
    assert len(names) == len(set(names))
    for name in names:
        assert group.get_command(None, name) is not None, name  # type: ignore[arg-type]
    assert group.get_command(None, "no-such-command") is None  # type: ignore[arg-type]


def test_the_light_vocabulary_names_the_schema_tables() -> None:
    assert tuple(schema.TABLES) == vocabulary.TABLE_NAMES
    assert schema.KINDS is vocabulary.KINDS
    assert set(vocabulary.KINDS.values()) <= set(vocabulary.TABLE_NAMES)
