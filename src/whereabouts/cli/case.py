"""`whereabouts user|case|audit …`: parse, call the case layer, print (the misconduct
commands are in cli/misconduct.py).

Every command takes the workspace folder (or a database URL) first; WHEREABOUTS_DATABASE_URL
overrides it. Commands act as `--user` / WHEREABOUTS_USER / the OS user; on a shared
PostgreSQL store the password comes from WHEREABOUTS_PASSWORD or a prompt.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from whereabouts.case.roles import ROLES
from whereabouts.case.users import PASSWORD_POLICY
from whereabouts.cli import annotate, misconduct
from whereabouts.cli.acting import (
    Member,
    Ref,
    RoleArg,
    Target,
    UserName,
    UserOpt,
    acting,
    csv_list,
    err,
    out,
    session,
)
from whereabouts.days import FROM_HELP, TO_HELP, day_span, describe, parse_when, zone_of
from whereabouts.errors import AuditIntegrityError, ParameterError

if TYPE_CHECKING:  # the case layer (SQLAlchemy) is imported by the commands that use it
    from whereabouts.case import Case

user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
case_app = typer.Typer(
    help="Cases: scope, extensions, screening authorities, closing.", no_args_is_help=True
)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.add_typer(user_app, name="user")
    app.add_typer(case_app, name="case")
    app.add_typer(audit_app, name="audit")
    misconduct.register(app)
    annotate.register(app)


def _show_case(case: Case, zone: str) -> None:
    t = Table(show_header=False, box=None)
    for k, v in (
        ("case", case.ref),
        (
            "status",
            case.status
            + (" (DEMO case: self-authorised, not for evidential use)" if case.demo else "")
            + (
                f" (awaiting authorisation by {case.authorised_by})"
                if case.status == "pending"
                else ""
            ),
        ),
        ("subjects", ", ".join(case.subjects)),
        ("period", describe(case.start, case.end, zone)),
        ("purpose", case.purpose),
        ("legal basis", case.legal_basis),
        ("authorised by", case.authorised_by),
        ("opened by", f"{case.opened_by} at {case.opened_at:%Y-%m-%d %H:%M}"),
        ("members", ", ".join(case.members)),
    ):
        t.add_row(f"[bold]{k}[/]", v)
    for e in case.extensions:
        span = describe(e.start, e.end, zone) if e.start and e.end else ""
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
            help="No password (embedded store only): the user cannot sign in to the web app "
            "until `whereabouts user set-password` gives one."
        ),
    ] = False,
    user: UserOpt = None,
) -> None:
    """Add a user (an administrator does this; the first administrator adds themself)."""
    from whereabouts.case import CaseStore

    store = CaseStore.open(target)
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
    actor = None if not any(u.role == "administrator" for u in users) else acting(store, user)
    store.add_user(name, password, role, actor=actor)
    out.print(f"added user {name} ({role})")


@user_app.command(
    "set-password",
    help="Set a password, so the user can sign in to the web app: your own, or anyone's as "
    f"an administrator. Policy: {PASSWORD_POLICY}. Stored only as an argon2id hash; "
    "recorded in the audit log; the user's web sessions end.",
)
def user_set_password(
    target: Target,
    name: Annotated[
        str | None, typer.Argument(help="The user whose password is set (default: you).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the new password from the first line of stdin (scripts).")
    ] = False,
    user: UserOpt = None,
) -> None:
    """Set a user's password (your own by default); asks for it unless given."""
    store, who = session(target, user)
    whose = name or who.username
    try:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            err.print(f"password policy: {PASSWORD_POLICY}")
            password = typer.prompt(
                f"new password for {whose}", hide_input=True, confirmation_prompt=True
            )
        store.set_password(whose, password, actor=who)
    finally:
        store.close()
    out.print(
        f"password set for {whose}; they can sign in to the web app "
        "(any web sessions of theirs have ended)"
    )


@user_app.command("role")
def user_role(target: Target, name: UserName, role: RoleArg, user: UserOpt = None) -> None:
    """Change a user's role (administrators only)."""
    store, who = session(target, user)
    store.set_role(name, role, actor=who)
    out.print(f"{name} is now {role}")


@user_app.command("list")
def user_list(target: Target, user: UserOpt = None) -> None:
    """List users and their roles."""
    store, who = session(target, user)
    store.require(who, "user.manage")
    for u in store.list_users():
        out.print(f"{u.username}\t{u.role}" + ("\t(local)" if u.os_default else ""))


@user_app.command("whoami")
def user_whoami(target: Target, user: UserOpt = None) -> None:
    """Show who the command line acts as."""
    _, who = session(target, user)
    out.print(f"{who.username} ({who.role})")


# ------------------------------------------------------------------------------- cases
@case_app.command("open")
def case_open(
    target: Target,
    ref: Annotated[str, typer.Argument(help="Case reference, e.g. PSD-2024-017.")],
    subjects: Annotated[str, typer.Option(help="Officer ids, comma-separated.")],
    from_: Annotated[str, typer.Option("--from", help=FROM_HELP)],
    to: Annotated[str, typer.Option(help=TO_HELP)],
    purpose: Annotated[str, typer.Option(help="Why the data is looked at.")],
    authorised_by: Annotated[
        str | None,
        typer.Option(
            help="The authorising supervisor (a user of the workspace); without it only a "
            "DEMO case, self-authorised by the local user, is opened."
        ),
    ] = None,
    legal_basis: Annotated[str, typer.Option(help="uk_gdpr or dpa2018_part3.")] = "uk_gdpr",
    user: UserOpt = None,
) -> None:
    """Open a case with its scope and authority. Named with --authorised-by, that
    supervisor then authorises it themselves (`whereabouts case authorise WS REF`) before
    any of its location data is read."""
    store, who = session(target, user)
    case = store.open_case(
        ref,
        csv_list(subjects),
        *day_span(from_, to, zone_of(target)),
        purpose,
        legal_basis=legal_basis,
        authorised_by=authorised_by,
        actor=who,
    )
    if case.notice:
        err.print(f"[yellow]note:[/] {case.notice}")
    _show_case(case, zone_of(target))


@case_app.command("authorise")
def case_authorise(target: Target, ref: Ref, user: UserOpt = None) -> None:
    """Authorise a case that names you as its authorising supervisor (you act yourself;
    no location data is read before this)."""
    store, who = session(target, user)
    _show_case(store.authorise_case(ref, actor=who), zone_of(target))
    out.print(f"case {ref} authorised by {who.username}; its location data may now be read")


@case_app.command("show")
def case_show(target: Target, ref: Ref, user: UserOpt = None) -> None:
    """Show a case's scope, authority and extensions."""
    store, who = session(target, user)
    store.require(who, "case.view", ref)
    _show_case(store.get_case(ref), zone_of(target))


@case_app.command("list")
def case_list(
    target: Target,
    status: Annotated[str | None, typer.Option(help="open or closed.")] = None,
    user: UserOpt = None,
) -> None:
    """List the cases you are a member of."""
    store, who = session(target, user)
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
    from_: Annotated[
        str | None,
        typer.Option(
            "--from", help="First day of the added period, included (YYYY-MM-DD, a local day)."
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(help="Last day of the added period, included (YYYY-MM-DD, a local day)."),
    ] = None,
    off_duty: Annotated[bool, typer.Option(help="Allow off-duty time in that period.")] = False,
    user: UserOpt = None,
) -> None:
    """Record a widening of scope with its authority."""
    store, who = session(target, user)
    zone = zone_of(target)
    case = store.extend_case(
        ref,
        actor=who,
        authority=authority,
        reason=reason,
        subjects=csv_list(subjects),
        start=parse_when(from_, zone) if from_ else None,
        end=parse_when(to, zone, end=True) if to else None,
        off_duty=off_duty,
    )
    _show_case(case, zone)


@case_app.command("assign")
def case_assign(target: Target, ref: Ref, member: Member, user: UserOpt = None) -> None:
    """Add a user to a case."""
    store, who = session(target, user)
    store.assign(ref, member, actor=who)
    out.print(f"{member} assigned to {ref}")


@case_app.command("close")
def case_close(
    target: Target,
    ref: Ref,
    reason: Annotated[str, typer.Option(help="Why.")],
    user: UserOpt = None,
) -> None:
    """Close a case; its derived data then follows the retention schedule."""
    store, who = session(target, user)
    case = store.close_case(ref, actor=who, reason=reason)
    out.print(
        f"closed {ref}; derived data: archive after {case.archive_after}, "
        f"delete after {case.delete_after}"
    )


@case_app.command("screening")
def case_screening(
    target: Target,
    ref: Annotated[str, typer.Argument(help="Screening authority reference.")],
    scope: Annotated[str, typer.Option(help='"force", "team:T1" or "station:S2".')],
    from_: Annotated[str, typer.Option("--from", help=FROM_HELP)],
    to: Annotated[str, typer.Option(help=TO_HELP)],
    purpose: Annotated[str, typer.Option(help="Why.")],
    authorised_by: Annotated[str, typer.Option(help="The authorising supervisor.")],
    days: Annotated[int, typer.Option(help="Valid for this many days.")] = 90,
    user: UserOpt = None,
) -> None:
    """Record a screening authority (force-wide screening needs its own)."""
    store, who = session(target, user)
    zone = zone_of(target)
    a = store.grant_screening(
        ref,
        scope,
        *day_span(from_, to, zone),
        purpose,
        authorised_by=authorised_by,
        actor=who,
        valid_days=days,
    )
    out.print(
        f"screening authority {a.ref}: {a.scope}, "
        f"{describe(a.start, a.end, zone)}; expires {a.expires_at:%Y-%m-%d}"
    )


@case_app.command("retention")
def case_retention(
    target: Target,
    apply: Annotated[str | None, typer.Option(help="Case to apply the due step to.")] = None,
    path: Annotated[list[Path] | None, typer.Option(help="Derived files of that case.")] = None,
    user: UserOpt = None,
) -> None:
    """List closed cases whose derived data is due for archiving or deletion, or apply one."""
    store, who = session(target, user)
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
def audit_verify(
    target: Target,
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            help="A report or export (which states the audit head it was made at), "
            "or a head as SEQ:HASH: prove the log still holds that entry unchanged, so a wiped "
            "log, a cut tail or a rewritten chain is detected.",
        ),
    ] = None,
    user: UserOpt = None,
) -> None:
    """Check the hash chain; name any edited, removed, inserted or reordered entry, and any
    annotation or decision whose content no longer matches its audited hash."""
    from whereabouts.case.audit import find_anchor

    anchor = find_anchor(against) if against is not None else None
    store, who = session(target, user)
    store.require(who, "audit.verify")
    report = store.verify_audit(against=anchor)
    detail: dict[str, Any] = {"ok": report.ok, "entries": report.entries}
    if anchor is not None:
        detail["against"] = str(anchor)
    store.audit.append(who.username, "audit.verify", None, detail)
    if not report.ok:
        raise AuditIntegrityError(
            report.summary(),
            hint="restore the database from a backup and compare the named entries; tell the "
            "data protection officer",
        )
    out.print(report.summary())
    if anchor is not None:
        out.print(
            f"the log still holds entry {anchor.seq} with the hash stated ({anchor.hash[:16]}…)"
        )


@audit_app.command("head")
def audit_head(target: Target, user: UserOpt = None) -> None:
    """Print the current audit head as SEQ:HASH (keep it outside the database; `audit
    verify --against SEQ:HASH` later proves the log still holds it)."""
    store, who = session(target, user)
    store.require(who, "audit.verify")
    out.print(str(store.audit.anchor()))


@audit_app.command("export")
def audit_export(
    target: Target,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here (else stdout).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="csv or json (default: the --out file's extension, else csv)."
        ),
    ] = None,
    case: Annotated[str | None, typer.Option(help="Only this case.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this user's actions.")] = None,
    since: Annotated[str | None, typer.Option(help="From this time (UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (UTC).")] = None,
    user: UserOpt = None,
) -> None:
    """A readable extract for a data protection officer: who looked at whose data, and why."""
    store, who = session(target, user)
    store.require(who, "audit.read")
    if out_file is not None:
        suffix = out_file.suffix.lower()
        if suffix not in (".csv", ".json") or (fmt is not None and f".{fmt}" != suffix):
            raise ParameterError(
                f"cannot write {out_file.name}"
                + (f" as {fmt}" if fmt else "")
                + f": its extension {suffix or '(none)'} is not "
                + ("an audit export format" if suffix not in (".csv", ".json") else fmt or ""),
                hint="name it .csv or .json (the format follows the name)",
            )
        fmt = suffix[1:]
    fmt = fmt or "csv"
    if fmt not in ("csv", "json"):
        raise ParameterError(f"unknown format {fmt!r}", hint="csv or json")
    filters: dict[str, Any] = {"case_ref": case, "actor": actor, "since": since, "until": until}
    text = store.audit.export(out_file, fmt=fmt, **filters)  # type: ignore[arg-type]
    store.audit.append(who.username, "audit.export", case, {k: v for k, v in filters.items() if v})
    if out_file is None:
        sys.stdout.write(text)
    else:
        err.print(f"wrote {out_file}")
