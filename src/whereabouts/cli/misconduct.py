"""`whereabouts misconduct …`: the misconduct record from allegation to outcome. Parse, call
the case layer (`CaseStore.misconduct`), print.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from whereabouts.cli.acting import (
    Allegation,
    Forum,
    ListName,
    Officer,
    Outcome,
    Ref,
    Severity,
    Target,
    UserOpt,
    csv_list,
    day,
    out,
    session,
)

mis_app = typer.Typer(
    help="The misconduct record, from allegation to outcome.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.add_typer(mis_app, name="misconduct")


@mis_app.command("start")
def mis_start(
    target: Target,
    ref: Ref,
    officer: Officer,
    status: Annotated[str, typer.Option(help="serving, resigned or retired.")] = "serving",
    user: UserOpt = None,
) -> None:
    """Start misconduct proceedings against an officer in a case."""
    store, who = session(target, user)
    store.misconduct.start(ref, officer, status, actor=who)
    out.print(f"proceedings started: {ref} / {officer} ({status})")


@mis_app.command("allege")
def mis_allege(
    target: Target,
    ref: Ref,
    officer: Officer,
    standards: Annotated[str, typer.Option(help="Schedule 2 standards, comma-separated.")],
    particulars: Annotated[str, typer.Option(help="What is alleged.")],
    user: UserOpt = None,
) -> None:
    """Record an allegation."""
    store, who = session(target, user)
    n = store.misconduct.allege(ref, officer, csv_list(standards), particulars, actor=who)
    out.print(f"allegation {n} recorded")


@mis_app.command("evidence")
def mis_evidence(
    target: Target,
    ref: Ref,
    officer: Officer,
    allegation: Allegation,
    kind: Annotated[str, typer.Option(help="occasion or document.")],
    evidence: Annotated[str, typer.Option(help="Occasion id or document name.")],
    file: Annotated[Path | None, typer.Option(help="The document (hashed now).")] = None,
    sha256: Annotated[str | None, typer.Option(help="Its SHA-256, if known.")] = None,
    description: Annotated[str, typer.Option(help="What it shows.")] = "",
    user: UserOpt = None,
) -> None:
    """Link an occasion or a document to an allegation, with its SHA-256."""
    store, who = session(target, user)
    digest = store.misconduct.link_evidence(
        ref,
        officer,
        allegation,
        kind,
        evidence,
        actor=who,
        sha256=sha256,
        path=file,
        description=description,
    )
    out.print(f"linked {kind} {evidence} sha256 {digest}")


@mis_app.command("assess")
def mis_assess(
    target: Target, ref: Ref, officer: Officer, severity: Severity, user: UserOpt = None
) -> None:
    """Record the severity assessment."""
    store, who = session(target, user)
    store.misconduct.assess(ref, officer, severity, actor=who)
    out.print(f"severity: {severity}")


@mis_app.command("forum")
def mis_forum(
    target: Target,
    ref: Ref,
    officer: Officer,
    forum: Forum,
    on: Annotated[str, typer.Option(help="Date (YYYY-MM-DD).")],
    user: UserOpt = None,
) -> None:
    """Choose the forum: meeting, hearing or accelerated_hearing."""
    store, who = session(target, user)
    panel = store.misconduct.set_forum(ref, officer, forum, day(on), actor=who)
    out.print(f"{forum} on {on}; panel: {panel}")


@mis_app.command("find")
def mis_find(
    target: Target,
    ref: Ref,
    officer: Officer,
    allegation: Allegation,
    proven: Annotated[bool, typer.Option("--proven/--not-proven", help="The finding.")],
    level: Annotated[str | None, typer.Option(help="misconduct or gross_misconduct.")] = None,
    basis: Annotated[
        str, typer.Option(help="balance_of_probabilities or admission.")
    ] = "balance_of_probabilities",
    user: UserOpt = None,
) -> None:
    """Record the finding on one allegation."""
    store, who = session(target, user)
    store.misconduct.find(
        ref,
        officer,
        allegation,
        proven=proven,
        level=level,
        basis=basis,
        actor=who,
    )
    out.print(f"allegation {allegation}: {'proven' if proven else 'not proven'} {level or ''}")


@mis_app.command("outcome")
def mis_outcome(
    target: Target,
    ref: Ref,
    officer: Officer,
    outcome: Outcome,
    on: Annotated[str, typer.Option(help="Date (YYYY-MM-DD).")],
    exceptional: Annotated[
        str | None, typer.Option(help="Exceptional circumstances (2025 rules).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Final written warning expiry, if extended.")
    ] = None,
    user: UserOpt = None,
) -> None:
    """Record the outcome; warnings and Barred List due dates follow from the rules."""
    store, who = session(target, user)
    result = store.misconduct.decide(
        ref,
        officer,
        outcome,
        day(on),
        actor=who,
        exceptional_circumstances=exceptional,
        final_warning_until=day(until) if until else None,
    )
    out.print(json.dumps(result, default=str, indent=2))


@mis_app.command("refer")
def mis_refer(
    target: Target,
    ref: Ref,
    officer: Officer,
    list_name: ListName,
    fields_file: Annotated[
        Path, typer.Option("--fields", help="JSON file of the required fields.")
    ],
    on: Annotated[str, typer.Option(help="Date (YYYY-MM-DD).")],
    made: Annotated[bool, typer.Option(help="The referral has been sent.")] = False,
    user: UserOpt = None,
) -> None:
    """Record a Barred or Advisory List referral (fields from a JSON file, never the audit)."""
    store, who = session(target, user)
    fields = json.loads(fields_file.read_text(encoding="utf-8"))
    due = store.misconduct.refer(ref, officer, list_name, fields, actor=who, on=day(on), made=made)
    out.print(f"{list_name} list referral due {due}")


@mis_app.command("publish")
def mis_publish(
    target: Target,
    ref: Ref,
    officer: Officer,
    label: Annotated[str, typer.Option(help='How the officer is named, e.g. "PC One".')],
    start: Annotated[
        str,
        typer.Option(
            "--from", help="First day the notice is shown, included (YYYY-MM-DD, a local day)."
        ),
    ],
    anonymised: Annotated[
        bool,
        typer.Option(
            "--anonymised/--named",
            help="Publish the notice without the officer's name (--named gives it).",
        ),
    ] = True,
    days: Annotated[int | None, typer.Option(help="Days shown (at least 28).")] = None,
    user: UserOpt = None,
) -> None:
    """Record the publication notice of a hearing outcome."""
    store, who = session(target, user)
    until = store.misconduct.publish(
        ref,
        officer,
        anonymised=anonymised,
        label=label,
        start=day(start),
        days=days,
        actor=who,
    )
    out.print(f"published as {label!r} until {until}")


@mis_app.command("show")
def mis_show(target: Target, ref: Ref, user: UserOpt = None) -> None:
    """Show a case's misconduct record."""
    store, who = session(target, user)
    store.require(who, "case.view", ref)
    out.print(json.dumps(store.misconduct.record(ref), default=str, indent=2, ensure_ascii=False))
