"""`whereabouts user|case|audit|misconduct …`: parse, call the case layer, print.

Every command takes the workspace folder (or a database URL) first; WHEREABOUTS_DATABASE_URL
overrides it. Commands act as `--user` / WHEREABOUTS_USER / the OS user; on a shared
PostgreSQL store the password comes from WHEREABOUTS_PASSWORD or a prompt.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from whereabouts.case import ROLES, Case, CaseStore, UserInfo
from whereabouts.case.users import ENV_PASSWORD
from whereabouts.errors import AuditIntegrityError, ParameterError

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

Target = Annotated[str, typer.Argument(help="Workspace folder, or a database URL.")]
UserOpt = Annotated[
    str | None,
    typer.Option("--user", help="Act as this user (default: WHEREABOUTS_USER, OS user)."),
]

Ref = Annotated[str, typer.Argument(help="Case reference.")]
Officer = Annotated[str, typer.Argument(help="Officer id of the officer concerned.")]
Allegation = Annotated[int, typer.Argument(help="Allegation number (as `allege` printed).")]
Member = Annotated[str, typer.Argument(help="User name to add to the case.")]
UserName = Annotated[str, typer.Argument(help="User name.")]
RoleArg = Annotated[str, typer.Argument(help=f"Role: {', '.join(ROLES)}.")]
Severity = Annotated[str, typer.Argument(
    help="Severity under the rules in force: no_case_to_answer, "
         "practice_requiring_improvement, misconduct or gross_misconduct.")]
Forum = Annotated[str, typer.Argument(help="meeting, hearing or accelerated_hearing.")]
Outcome = Annotated[str, typer.Argument(
    help="Outcome allowed for the forum and finding, e.g. written_warning, "
         "final_written_warning, dismissal_without_notice.")]
ListName = Annotated[str, typer.Argument(help="barred or advisory.")]

user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
case_app = typer.Typer(
    help="Cases: scope, extensions, screening authorities, closing.", no_args_is_help=True
)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
mis_app = typer.Typer(
    help="The misconduct record, from allegation to outcome.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.add_typer(user_app, name="user")
    app.add_typer(case_app, name="case")
    app.add_typer(audit_app, name="audit")
    app.add_typer(mis_app, name="misconduct")


def _open(target: str) -> CaseStore:
    return CaseStore.open(target)


def _acting(store: CaseStore, user: str | None) -> UserInfo:
    who = store.current_user(user)
    if who.notice:
        err.print(f"[yellow]note:[/] {who.notice}")
    if not store.embedded:
        password = os.environ.get(ENV_PASSWORD) or typer.prompt(
            f"password for {who.username}", hide_input=True
        )
        who = store.authenticate(who.username, password)
    return who


def _csv(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParameterError(f"date {text!r} is not YYYY-MM-DD", hint="e.g. 2024-09-02") from None


def _show_case(case: Case) -> None:
    t = Table(show_header=False, box=None)
    for k, v in (
        ("case", case.ref),
        ("status", case.status + (" (demo, self-authorised)" if case.demo else "")),
        ("subjects", ", ".join(case.subjects)),
        ("period (UTC)", f"{case.start:%Y-%m-%d %H:%M} – {case.end:%Y-%m-%d %H:%M}"),
        ("purpose", case.purpose),
        ("legal basis", case.legal_basis),
        ("authorised by", case.authorised_by),
        ("opened by", f"{case.opened_by} at {case.opened_at:%Y-%m-%d %H:%M}"),
        ("members", ", ".join(case.members)),
    ):
        t.add_row(f"[bold]{k}[/]", v)
    for e in case.extensions:
        span = f"{e.start:%Y-%m-%d}–{e.end:%Y-%m-%d}" if e.start and e.end else ""
        t.add_row(
            "[bold]extension[/]",
            f"{e.kind} {', '.join(e.officers)} {span} — authority {e.authority}: {e.reason}",
        )
    out.print(t)


# ------------------------------------------------------------------------------- users
@user_app.command("add")
def user_add(
    target: Target,
    name: Annotated[str, typer.Argument(help="New user's name.")],
    role: Annotated[str, typer.Option(help="One of: " + ", ".join(ROLES))],
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
    no_password: Annotated[
        bool,
        typer.Option(
            help="No password (embedded store only: the user cannot sign in to the web app)."
        ),
    ] = False,
    user: UserOpt = None,
) -> None:
    """Add a user (an administrator does this; the first administrator adds themself)."""
    store = _open(target)
    password: str | None
    if no_password:
        if not store.embedded:
            raise ParameterError(
                "users of a shared database need a password", hint="drop --no-password"
            )
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
    users = store.list_users()
    actor = None if not any(u.role == "administrator" for u in users) else _acting(store, user)
    store.add_user(name, password, role, actor=actor)
    out.print(f"added user {name} ({role})")


@user_app.command("role")
def user_role(target: Target, name: UserName, role: RoleArg, user: UserOpt = None) -> None:
    """Change a user's role (administrators only)."""
    store = _open(target)
    store.set_role(name, role, actor=_acting(store, user))
    out.print(f"{name} is now {role}")


@user_app.command("list")
def user_list(target: Target, user: UserOpt = None) -> None:
    """List users and their roles."""
    store = _open(target)
    store.require(_acting(store, user), "user.manage")
    for u in store.list_users():
        out.print(f"{u.username}\t{u.role}" + ("\t(local)" if u.os_default else ""))


@user_app.command("whoami")
def user_whoami(target: Target, user: UserOpt = None) -> None:
    """Show who the command line acts as."""
    who = _acting(_open(target), user)
    out.print(f"{who.username} ({who.role})")


# ------------------------------------------------------------------------------- cases
@case_app.command("open")
def case_open(
    target: Target,
    ref: Annotated[str, typer.Argument(help="Case reference, e.g. PSD-2024-017.")],
    subjects: Annotated[str, typer.Option(help="Officer ids, comma-separated.")],
    from_: Annotated[str, typer.Option("--from", help="Start (ISO date or time, UTC).")],
    to: Annotated[str, typer.Option(help="End (ISO date or time, UTC).")],
    purpose: Annotated[str, typer.Option(help="Why the data is looked at.")],
    authorised_by: Annotated[str | None, typer.Option(help="The authorising supervisor.")] = None,
    legal_basis: Annotated[str, typer.Option(help="uk_gdpr or dpa2018_part3.")] = "uk_gdpr",
    user: UserOpt = None,
) -> None:
    """Open a case with its scope and authority."""
    store = _open(target)
    case = store.open_case(
        ref, _csv(subjects), from_, to, purpose, legal_basis, authorised_by, _acting(store, user)
    )
    if case.notice:
        err.print(f"[yellow]note:[/] {case.notice}")
    _show_case(case)


@case_app.command("show")
def case_show(target: Target, ref: Ref, user: UserOpt = None) -> None:
    """Show a case's scope, authority and extensions."""
    store = _open(target)
    store.require(_acting(store, user), "case.view", ref)
    _show_case(store.get_case(ref))


@case_app.command("list")
def case_list(
    target: Target,
    status: Annotated[str | None, typer.Option(help="open or closed.")] = None,
    user: UserOpt = None,
) -> None:
    """List the cases you are a member of."""
    store = _open(target)
    who = _acting(store, user)
    store.require(who, "case.view")
    for c in store.list_cases(status=status, member=who.username):
        out.print(
            f"{c.ref}\t{c.status}\t{c.start:%Y-%m-%d}–{c.end:%Y-%m-%d}\t{', '.join(c.subjects)}"
        )


@case_app.command("extend")
def case_extend(
    target: Target,
    ref: Ref,
    authority: Annotated[str, typer.Option(help="The supervisor who authorised it.")],
    reason: Annotated[str, typer.Option(help="Why.")],
    subjects: Annotated[str | None, typer.Option(help="More officer ids, comma-separated.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Start of the added period.")] = None,
    to: Annotated[str | None, typer.Option(help="End of the added period.")] = None,
    off_duty: Annotated[bool, typer.Option(help="Allow off-duty time in that period.")] = False,
    user: UserOpt = None,
) -> None:
    """Record a widening of scope with its authority."""
    store = _open(target)
    case = store.extend_case(
        ref,
        actor=_acting(store, user),
        authority=authority,
        reason=reason,
        subjects=_csv(subjects),
        start=from_,
        end=to,
        off_duty=off_duty,
    )
    _show_case(case)


@case_app.command("assign")
def case_assign(target: Target, ref: Ref, member: Member, user: UserOpt = None) -> None:
    """Add a user to a case."""
    store = _open(target)
    store.assign(ref, member, actor=_acting(store, user))
    out.print(f"{member} assigned to {ref}")


@case_app.command("close")
def case_close(
    target: Target,
    ref: Ref,
    reason: Annotated[str, typer.Option(help="Why.")],
    user: UserOpt = None,
) -> None:
    """Close a case; its derived data then follows the retention schedule."""
    store = _open(target)
    case = store.close_case(ref, actor=_acting(store, user), reason=reason)
    out.print(
        f"closed {ref}; derived data: archive after {case.archive_after}, "
        f"delete after {case.delete_after}"
    )


@case_app.command("screening")
def case_screening(
    target: Target,
    ref: Annotated[str, typer.Argument(help="Screening authority reference.")],
    scope: Annotated[str, typer.Option(help='"force", "team:T1" or "station:S2".')],
    from_: Annotated[str, typer.Option("--from", help="Start (UTC).")],
    to: Annotated[str, typer.Option(help="End (UTC).")],
    purpose: Annotated[str, typer.Option(help="Why.")],
    authorised_by: Annotated[str, typer.Option(help="The authorising supervisor.")],
    days: Annotated[int, typer.Option(help="Valid for this many days.")] = 90,
    user: UserOpt = None,
) -> None:
    """Record a screening authority (force-wide screening needs its own)."""
    store = _open(target)
    a = store.grant_screening(
        ref,
        scope,
        from_,
        to,
        purpose,
        authorised_by=authorised_by,
        actor=_acting(store, user),
        valid_days=days,
    )
    out.print(f"screening authority {a.ref}: {a.scope}, expires {a.expires_at:%Y-%m-%d}")


@case_app.command("retention")
def case_retention(
    target: Target,
    apply: Annotated[str | None, typer.Option(help="Case to apply the due step to.")] = None,
    path: Annotated[list[Path] | None, typer.Option(help="Derived files of that case.")] = None,
    user: UserOpt = None,
) -> None:
    """List closed cases whose derived data is due for archiving or deletion, or apply one."""
    store = _open(target)
    who = _acting(store, user)
    store.require(who, "retention.apply")
    due = store.retention_due()
    if apply is None:
        for ref, action, day in due:
            out.print(f"{ref}\t{action}\tdue {day}")
        return
    steps = [a for r, a, _ in due if r == apply]
    if not steps:
        raise ParameterError(f"nothing is due for case {apply}", hint="list what is due first")
    result = store.apply_retention(apply, steps[0], actor=who, paths=path or [])
    out.print(f"{steps[0]}: {len(result['files'])} file(s) of {apply}, recorded in the audit")


# ------------------------------------------------------------------------------- audit
@audit_app.command("verify")
def audit_verify(target: Target, user: UserOpt = None) -> None:
    """Check the hash chain; name any edited, removed, inserted or reordered entry."""
    store = _open(target)
    who = _acting(store, user)
    store.require(who, "audit.verify")
    report = store.audit.verify()
    store.audit.append(
        who.username, "audit.verify", None, {"ok": report.ok, "entries": report.entries}
    )
    if not report.ok:
        raise AuditIntegrityError(
            report.summary(),
            hint="restore the database from a backup and compare the named entries; tell the "
            "data protection officer",
        )
    out.print(report.summary())


@audit_app.command("export")
def audit_export(
    target: Target,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here (else stdout).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    case: Annotated[str | None, typer.Option(help="Only this case.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this user's actions.")] = None,
    since: Annotated[str | None, typer.Option(help="From this time (UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (UTC).")] = None,
    user: UserOpt = None,
) -> None:
    """A readable extract for a data protection officer: who looked at whose data, and why."""
    store = _open(target)
    who = _acting(store, user)
    store.require(who, "audit.read")
    if fmt not in ("csv", "json"):
        raise ParameterError(f"unknown format {fmt!r}", hint="csv or json")
    filters: dict[str, Any] = {"case_ref": case, "actor": actor, "since": since, "until": until}
    text = store.audit.export(out_file, fmt=fmt, **filters)  # type: ignore[arg-type]
    store.audit.append(who.username, "audit.export", case, {k: v for k, v in filters.items() if v})
    if out_file is None:
        sys.stdout.write(text)
    else:
        err.print(f"wrote {out_file}")


# ------------------------------------------------------------------------------- misconduct
@mis_app.command("start")
def mis_start(
    target: Target,
    ref: Ref,
    officer: Officer,
    status: Annotated[str, typer.Option(help="serving, resigned or retired.")] = "serving",
    user: UserOpt = None,
) -> None:
    """Start misconduct proceedings against an officer in a case."""
    store = _open(target)
    store.misconduct.start(ref, officer, status, actor=_acting(store, user))
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
    store = _open(target)
    n = store.misconduct.allege(
        ref, officer, _csv(standards), particulars, actor=_acting(store, user)
    )
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
    store = _open(target)
    digest = store.misconduct.link_evidence(
        ref,
        officer,
        allegation,
        kind,
        evidence,
        actor=_acting(store, user),
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
    store = _open(target)
    store.misconduct.assess(ref, officer, severity, actor=_acting(store, user))
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
    store = _open(target)
    panel = store.misconduct.set_forum(ref, officer, forum, _day(on), actor=_acting(store, user))
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
    store = _open(target)
    store.misconduct.find(
        ref,
        officer,
        allegation,
        proven=proven,
        level=level,
        basis=basis,
        actor=_acting(store, user),
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
    store = _open(target)
    result = store.misconduct.decide(
        ref,
        officer,
        outcome,
        _day(on),
        actor=_acting(store, user),
        exceptional_circumstances=exceptional,
        final_warning_until=_day(until) if until else None,
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
    store = _open(target)
    fields = json.loads(fields_file.read_text(encoding="utf-8"))
    due = store.misconduct.refer(
        ref, officer, list_name, fields, actor=_acting(store, user), on=_day(on), made=made
    )
    out.print(f"{list_name} list referral due {due}")


@mis_app.command("publish")
def mis_publish(
    target: Target,
    ref: Ref,
    officer: Officer,
    label: Annotated[str, typer.Option(help='How the officer is named, e.g. "PC One".')],
    start: Annotated[str, typer.Option("--from", help="First day shown (YYYY-MM-DD).")],
    anonymised: Annotated[bool, typer.Option(
        "--anonymised/--named",
        help="Publish the notice without the officer's name (--named gives it).")] = True,
    days: Annotated[int | None, typer.Option(help="Days shown (at least 28).")] = None,
    user: UserOpt = None,
) -> None:
    """Record the publication notice of a hearing outcome."""
    store = _open(target)
    until = store.misconduct.publish(
        ref,
        officer,
        anonymised=anonymised,
        label=label,
        start=_day(start),
        days=days,
        actor=_acting(store, user),
    )
    out.print(f"published as {label!r} until {until}")


@mis_app.command("show")
def mis_show(target: Target, ref: Ref, user: UserOpt = None) -> None:
    """Show a case's misconduct record."""
    store = _open(target)
    store.require(_acting(store, user), "case.view", ref)
    out.print(json.dumps(store.misconduct.record(ref), default=str, indent=2, ensure_ascii=False))
