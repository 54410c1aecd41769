"""The `whereabouts` command: parses, calls the library, prints. Nothing more.

Each command group lives in its own module with a `register(app)` function; domain errors
become a message on stderr and exit status 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from whereabouts import __version__
from whereabouts.cli import analysis, case, engine, report, serve, simulate, spark, workspace
from whereabouts.errors import WhereaboutsError

app = typer.Typer(
    name="whereabouts",
    help="Where officers were in relation to each other while on duty, from AVL and TETRA data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

@app.callback()
def _root() -> None:
    """Where officers were in relation to each other while on duty, from AVL and TETRA data."""


for _module in (workspace, simulate, engine, analysis, report, case, serve, spark):
    _module.register(app)


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


def main() -> None:
    """Entry point: run the app, turning domain errors into plain messages."""
    try:
        app(standalone_mode=False)
    except WhereaboutsError as exc:
        from rich.text import Text  # the message is plain text: a [name] in it is no markup

        Console(stderr=True).print(Text.assemble(("error:", "bold red"), " ", str(exc)),
                                   highlight=False)
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
