"""What the `user`, `case`, `audit` and `misconduct` commands share: the store and the acting
user, argument types with their help, and the parsing of dates and lists.
"""

from __future__ import annotations

import os
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from whereabouts.case.roles import ROLES
from whereabouts.errors import ParameterError

if TYPE_CHECKING:  # the case layer (SQLAlchemy) is imported by the commands that use it
    from whereabouts.case import CaseStore, UserInfo

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

Target = Annotated[str, typer.Argument(help="Workspace folder, or a database URL.")]
UserOpt = Annotated[
    str | None,
    typer.Option(
        "--user",
        help="Act as this user, with their password (WHEREABOUTS_PASSWORD "
        "or a prompt); default WHEREABOUTS_USER, else you, the OS user.",
    ),
]

Ref = Annotated[str, typer.Argument(help="Case reference.")]
Officer = Annotated[str, typer.Argument(help="Officer id of the officer concerned.")]
Allegation = Annotated[int, typer.Argument(help="Allegation number (as `allege` printed).")]
Member = Annotated[str, typer.Argument(help="User name to add to the case.")]
UserName = Annotated[str, typer.Argument(help="User name.")]
RoleArg = Annotated[str, typer.Argument(help=f"Role: {', '.join(ROLES)}.")]
Severity = Annotated[
    str,
    typer.Argument(
        help="Severity under the rules in force: no_case_to_answer, "
        "practice_requiring_improvement, misconduct or gross_misconduct."
    ),
]
Forum = Annotated[str, typer.Argument(help="meeting, hearing or accelerated_hearing.")]
Outcome = Annotated[
    str,
    typer.Argument(
        help="Outcome allowed for the forum and finding, e.g. written_warning, "
        "final_written_warning, dismissal_without_notice."
    ),
]
ListName = Annotated[str, typer.Argument(help="barred or advisory.")]


def session(target: str, user: str | None) -> tuple[CaseStore, UserInfo]:
    """The case store at `target` and the user the command acts as (the store is closed
    again when the user is refused)."""
    from whereabouts.case import CaseStore

    store = CaseStore.open(target)
    try:
        return store, acting(store, user)
    except BaseException:
        store.close()
        raise


def acting(store: CaseStore, user: str | None) -> UserInfo:
    """The user this command acts as: the operating-system user, or the user named by
    --user / WHEREABOUTS_USER after their password (WHEREABOUTS_PASSWORD or a prompt).

    A shared database always asks for the password. The audit's login entry records the
    OS user who proved the named user's credentials.
    """
    from whereabouts.case.users import ENV_PASSWORD, acting_name, os_username

    who = store.current_user(user)
    if who.notice:
        err.print(f"[yellow]note:[/] {who.notice}")
    _, is_os_user = acting_name(user)
    if not store.embedded or not is_os_user:
        password = os.environ.get(ENV_PASSWORD) or typer.prompt(
            f"password for {who.username}", hide_input=True
        )
        who = store.authenticate(who.username, password, via="command line", os_user=os_username())
    return who


def csv_list(text: str | None) -> list[str]:
    """The items of a comma-separated list, stripped, empty ones left out."""
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def day(text: str) -> date:
    """A date given as YYYY-MM-DD, else an error naming the value."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParameterError(f"date {text!r} is not YYYY-MM-DD", hint="e.g. 2024-09-02") from None


__all__ = [
    "Allegation",
    "Forum",
    "ListName",
    "Member",
    "Officer",
    "Outcome",
    "Ref",
    "RoleArg",
    "Severity",
    "Target",
    "UserName",
    "UserOpt",
    "acting",
    "csv_list",
    "day",
    "err",
    "out",
    "session",
]
