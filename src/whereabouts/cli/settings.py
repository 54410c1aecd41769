"""Command-line options generated from `whereabouts.settings.SETTINGS`.

`@with_settings(names)` gives a Typer command one option per setting (its `option`, default,
help and unit from the table) and passes the values to the command as one keyword,
`settings: dict[str, float | bool]`, keyed by setting name. No default or help is written
twice: tests/test_settings.py checks the options against the table.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import typer

from whereabouts.settings import BY_NAME, Setting

F = TypeVar("F", bound=Callable[..., Any])
PANEL = "Settings (docs/settings.md)"


def _parameter(s: Setting) -> inspect.Parameter:
    if isinstance(s.default, bool):
        option = typer.Option(
            f"{s.option}/--no-{s.option.removeprefix('--')}", help=s.help, rich_help_panel=PANEL
        )
        annotation: Any = Annotated[bool, option]
    else:
        option = typer.Option(s.option, help=s.help, min=0.0, rich_help_panel=PANEL)
        annotation = Annotated[float, option]
    return inspect.Parameter(
        s.name, inspect.Parameter.KEYWORD_ONLY, default=s.default, annotation=annotation
    )


def with_settings(names: Sequence[str]) -> Callable[[F], F]:
    """Add the options of the settings `names` to a command taking `settings=`."""
    chosen = [BY_NAME[n] for n in names]

    def wrap(func: F) -> F:
        sig = inspect.signature(func, eval_str=True)
        own = [p for p in sig.parameters.values() if p.name != "settings"]
        taken = {p.name for p in own}
        clash = [s.name for s in chosen if s.name in taken]
        assert not clash, f"{func.__name__} already has parameters {clash}"

        @functools.wraps(func)
        def command(*args: object, **kwargs: object) -> object:
            values = {s.name: kwargs.pop(s.name) for s in chosen if s.name in kwargs}
            return func(*args, **kwargs, settings=values)

        params = [*own, *(_parameter(s) for s in chosen)]
        command.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__  # typer must see the new signature, not the function's
        return command  # type: ignore[return-value]

    return wrap


__all__ = ["PANEL", "with_settings"]
