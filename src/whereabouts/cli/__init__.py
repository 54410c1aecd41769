"""The `whereabouts` command: parses, calls the library, prints. Nothing more.

Each command group lives in its own module with a `register(app)` function; domain errors
become a message on stderr and exit status 2.

Start-up is kept short (issue 20: light commands in ≤ 0.3 s): a command's module is
imported, and its commands built, only when that command is run or listed (`COMMANDS`,
`LazyGroup`); the modules import only typer and rich at the top, and each command imports
the layers it calls inside its body. So `whereabouts status WS` never loads numpy, pyarrow,
DuckDB or SQLAlchemy (tests/test_cli_startup.py holds this).
"""

from __future__ import annotations

import importlib
import sys
from functools import cache
from typing import Any

import typer
import typer.core

from whereabouts import __version__
from whereabouts.errors import WhereaboutsError

# The module of each command, in the order `--help` lists them (tests/test_cli_startup.py
# checks it against what each module's `register` adds: add a new command here too).
COMMANDS: dict[str, str] = {
    "init": "workspace",
    "ingest": "workspace",
    "quarantine": "workspace",
    "status": "workspace",
    "export": "workspace",
    "profiles": "workspace",
    "simulate": "simulate",
    "demo": "simulate",
    "encounters": "engine",
    "investigate": "analysis",
    "screen": "analysis",
    "report": "report",
    "annotate": "case",
    "annotations": "case",
    "serve": "serve",
    "user": "case",
    "case": "case",
    "audit": "case",
    "misconduct": "case",
    "key": "evidence",
    "bundle": "evidence",
    "verify": "evidence",
    "validation": "evidence",
}
MODULES = (
    "workspace",
    "simulate",
    "engine",
    "analysis",
    "report",
    "case",
    "evidence",
    "serve",
    "spark",
)


@cache
def module_commands(module: str) -> dict[str, Any]:
    """The click commands that `whereabouts.cli.<module>` registers, by name."""
    sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    importlib.import_module(f"whereabouts.cli.{module}").register(sub)
    if not sub.registered_commands and not sub.registered_groups:
        return {}
    built = typer.main.get_command(sub)
    if isinstance(built, typer.core.TyperGroup):
        return dict(built.commands)
    return {str(built.name): built}


class LazyGroup(typer.core.TyperGroup):
    """The root group: builds a command from its module only when it is asked for."""

    def list_commands(self, ctx: Any) -> list[str]:  # noqa: ANN401  # click types: typer's private copy
        """The commands in the order of the help: the declared ones first."""
        return [*COMMANDS, *(n for n in self.commands if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:  # noqa: ANN401  # click types: typer's private copy
        """The command of that name, built from its module on first use."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        module = COMMANDS.get(cmd_name)
        return None if module is None else module_commands(module).get(cmd_name)


app = typer.Typer(
    name="whereabouts",
    cls=LazyGroup,
    help="Where officers were in relation to each other while on duty, from AVL and TETRA data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback(epilog="`whereabouts --version` prints the software version.")
def _root() -> None:
    """Where officers were in relation to each other while on duty, from AVL and TETRA data."""


@app.command()
def version() -> None:
    """Print the software version."""
    print(__version__)


@app.command("cli-reference")
def cli_reference() -> None:
    """Print the command reference (docs/cli.md) in Markdown."""
    from whereabouts.cli.reference import render

    print(render(app), end="")


@app.command("settings-reference")
def settings_reference() -> None:
    """Print every setting with its default, unit and meaning (docs/settings.md)."""
    from whereabouts.settings import reference

    print(reference(), end="")


@app.command("pipeline-reference")
def pipeline_reference() -> None:
    """Print the analysis's steps, their relations and the reasons (docs/pipeline.md)."""
    from whereabouts.analysis.reference import render

    print(render(), end="")


def main() -> None:
    """Entry point: run the app, turning domain errors into plain messages."""
    if sys.argv[1:] == ["--version"]:  # answered before typer builds every command
        print(__version__)
        return
    try:
        app(standalone_mode=False)
    except WhereaboutsError as exc:
        from rich.console import Console
        from rich.text import Text  # the message is plain text: a [name] in it is no markup

        Console(stderr=True).print(
            Text.assemble(("error:", "bold red"), " ", str(exc)), highlight=False
        )
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        # Typer may bring its own copy of click: its usage errors are TyperExceptions
        if isinstance(exc, click.ClickException | typer.TyperException) and hasattr(exc, "show"):
            exc.show()
            sys.exit(exc.exit_code)
        raise
