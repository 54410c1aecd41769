"""Every command has help, and docs/cli.md is exactly what the commands say of themselves."""

from __future__ import annotations

from pathlib import Path

from whereabouts.cli import app
from whereabouts.cli.reference import commands, render

REPO = Path(__file__).resolve().parents[1]


def test_every_command_has_a_one_line_help() -> None:
    missing = [path for path, cmd in commands(app) if not (cmd.help or "").strip()]
    assert missing == []


def test_every_option_is_explained() -> None:
    unexplained = [
        f"{path} {param.opts}"
        for path, cmd in commands(app)
        for param in cmd.params
        if param.param_type_name == "option"
        and param.name != "help"
        and not (getattr(param, "help", None) or "").strip()
    ]
    assert unexplained == []


def test_docs_cli_md_matches_the_code() -> None:
    doc = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert doc == render(app), "run: .venv/bin/whereabouts cli-reference > docs/cli.md"
