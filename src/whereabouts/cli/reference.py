"""The CLI reference (docs/cli.md), generated from the commands' own help so it cannot drift."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer.main


def _walk(cmd: Any, path: list[str]) -> Iterator[tuple[str, Any]]:  # noqa: ANN401  # click types: typer's private copy
    if hasattr(cmd, "commands"):  # a group (the root builds its commands when asked)
        for name in sorted(cmd.list_commands(None)):
            yield from _walk(cmd.get_command(None, name), [*path, name])
    else:
        yield " ".join(path), cmd


def commands(app: typer.Typer) -> list[tuple[str, Any]]:
    """Every leaf command as (path, click command), sorted by path."""
    return list(_walk(typer.main.get_command(app), []))


def _option_line(param: Any) -> str:  # noqa: ANN401  # click types: typer's private copy
    names = ", ".join(f"`{o}`" for o in [*param.opts, *getattr(param, "secondary_opts", [])])
    if param.param_type_name == "argument":
        names = f"`{param.name.upper()}`"
    help_text = " ".join((getattr(param, "help", None) or "").split())
    return f"- {names}: {help_text}".rstrip(": ")


def render(app: typer.Typer) -> str:
    """Markdown: one section per command with its help and its options."""
    out = [
        "# Command reference",
        "",
        "Generated from the commands' own help by `whereabouts cli-reference`; a test keeps",
        "it in step with the code.",
        "",
    ]
    for path, cmd in commands(app):
        out += [f"## `whereabouts {path}`", "", (cmd.help or "").strip(), ""]
        params = [p for p in cmd.params if p.name not in ("help",)]
        out += [_option_line(p) for p in params]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


__all__ = ["commands", "render"]
