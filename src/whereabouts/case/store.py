"""`CaseStore`: the case record's front door (users, roles, cases, scope, audit, notes).

    store = CaseStore.open("WS")                    # WS/cases.sqlite, migrated on open
    store = CaseStore.open("postgresql+psycopg://…")  # a team's shared server
    user = store.current_user()                     # --user / WHEREABOUTS_USER / OS user
    case = store.get_case("PSD-2024-001")
    store.record_read(user, case.ref, ["OFF-1", "OFF-2"], start, end)  # checks + audits

Every change is written together with its audit entry, in one transaction.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from whereabouts.case import roles
from whereabouts.case.annotations import AnnotationsMixin
from whereabouts.case.base import UserInfo, UserLike, _name
from whereabouts.case.cases import LEGAL_BASES, Case, ScopeExtension
from whereabouts.case.db import as_utc, make_engine, migrate, resolve_url, utcnow
from whereabouts.case.misconduct import MisconductRecord
from whereabouts.case.models import CaseMember, CaseRow, CaseSubject, Extension
from whereabouts.case.retention import apply as apply_retention
from whereabouts.case.retention import schedule_for
from whereabouts.case.screening import ScreeningAuthority, ScreeningMixin
from whereabouts.errors import ParameterError, PermissionDenied, ScopeError, WorkspaceError

__all__ = ["CaseStore", "ScreeningAuthority", "UserInfo", "UserLike"]


class CaseStore(ScreeningMixin, AnnotationsMixin):
    """The case record on SQLite (default, in the workspace) or PostgreSQL (by URL)."""

    @classmethod
    def open(
        cls, target: str | os.PathLike[str] | None = None, *, schema: str | None = None
    ) -> CaseStore:
        """Open (and create or migrate) the case record of a workspace folder or URL.

        WHEREABOUTS_DATABASE_URL, when set, overrides `target`. `schema` puts the tables in
        a PostgreSQL schema of that name (tests give each test its own).
        """
        url = resolve_url(target)
        engine = make_engine(url, schema=schema)
        try:
            migrate(engine)
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            engine.dispose()
            shown = sa.engine.make_url(url).render_as_string(hide_password=True)
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise WorkspaceError(
                f"cannot open the case database {shown}: {reason}",
                hint="check the database server is running and the URL (host, port, name) "
                "is right; for a workspace folder, check it is writable",
            ) from exc
        label = str(target) if target is not None and "://" not in str(target) else "WS"
        if os.environ.get("WHEREABOUTS_DATABASE_URL"):
            label = "WS"
        return cls(engine, label=label)

    # ---------------------------------------------------------------- cases
    def open_case(
        self,
        ref: str,
        subjects: Iterable[str],
        start: datetime | str,
        end: datetime | str,
        purpose: str,
        *,
        legal_basis: str = "uk_gdpr",
        authorised_by: str | None = None,
        actor: UserLike | None = None,
    ) -> Case:
        """Open a case. `authorised_by` must be a supervisor, except that the embedded
        store's local user may self-authorise a demo case (recorded as such).

        A case authorised by someone other than its opener awaits authorisation (status
        "pending"): no location data is read until that supervisor, acting themselves,
        runs `authorise_case`.
        """
        if actor is None:
            raise PermissionDenied("opening a case needs an acting user", hint="pass --user NAME")
        who = _name(actor)
        subs = sorted({str(x).strip() for x in subjects if str(x).strip()})
        t0, t1 = as_utc(start), as_utc(end)
        _check_case_fields(ref, subs, t0, t1, purpose, legal_basis)
        with self._tx() as s:
            opener = self._require_role(s, who, "case.open")
            auth = authorised_by or who
            demo = False
            if auth == who and opener.role != "supervisor":
                if not (opener.os_default and self.embedded):
                    raise PermissionDenied(
                        f"user {who!r} ({opener.role}) cannot authorise their own case",
                        hint="name a supervisor with --authorised-by; only the embedded "
                        "single-user store allows self-authorised demo cases",
                    )
                demo = True
            else:
                self._require_authoriser(s, auth)
            if s.get(CaseRow, ref) is not None:
                raise ParameterError(f"case {ref} already exists", hint="choose another reference")
            now = utcnow()
            s.add(
                CaseRow(
                    ref=ref,
                    purpose=purpose,
                    legal_basis=legal_basis,
                    authorised_by=auth,
                    opened_by=who,
                    status="open" if auth == who else "pending",
                    period_start=t0,
                    period_end=t1,
                    demo=demo,
                    opened_at=now,
                )
            )
            s.flush()
            s.add_all(CaseSubject(case_ref=ref, officer_id=o) for o in subs)
            s.add_all(CaseMember(case_ref=ref, username=u) for u in sorted({who, auth}))
            self._audit(
                s,
                who,
                "case.open",
                ref,
                subjects=subs,
                start=t0,
                end=t1,
                purpose=purpose,
                legal_basis=legal_basis,
                authorised_by=auth,
                demo=demo,
            )
        case = self.get_case(ref)
        if demo:
            return _with_notice(
                case,
                f"DEMO case {ref}: self-authorised by local user {who!r} (embedded "
                "single-user store; not for evidential use: a real case is opened by an "
                "investigator and authorised by a supervisor)",
            )
        if case.status == "pending":
            return _with_notice(
                case,
                f"case {ref} awaits authorisation: no location data is read until {auth} "
                f"runs `whereabouts case authorise {self.label} {ref} --user {auth}`",
            )
        return case

    def authorise_case(self, ref: str, *, actor: UserLike) -> Case:
        """The named supervisor, acting themselves, authorises a case awaiting it."""
        who = _name(actor)
        with self._tx() as s:
            row = self._case_row(s, ref)
            if row.status != "pending":
                raise ScopeError(
                    f"case {ref} is {row.status}, not awaiting authorisation",
                    hint=f"see it with `whereabouts case show {self.label} {ref}`",
                )
            if who != row.authorised_by:
                raise PermissionDenied(
                    f"case {ref} names {row.authorised_by!r} as its authorising officer, "
                    f"not {who!r}",
                    hint=f"{row.authorised_by} authorises it themselves: `whereabouts case "
                    f"authorise {self.label} {ref} --user {row.authorised_by}`",
                )
            self._require_role(s, who, "case.authorise")
            row.status = "open"
            self._audit(s, who, "case.authorise", ref, opened_by=row.opened_by)
        return self.get_case(ref)

    def ensure_case(
        self,
        subjects: Iterable[str],
        start: datetime | str,
        end: datetime | str,
        purpose: str | None,
        actor: UserLike,
        *,
        legal_basis: str = "uk_gdpr",
    ) -> Case:
        """An open case of `actor`'s covering these subjects and dates, opening one on the
        spot if none does; the returned case's `notice` says when it was opened."""
        subs = sorted(set(subjects))
        t0, t1 = as_utc(start), as_utc(end)
        for case in self.list_cases(status="open", member=_name(actor)):
            if set(subs) <= set(case.officers_in_scope()) and case.start <= t0 and t1 <= case.end:
                return case
        if not purpose:
            raise ScopeError(
                "no open case covers these officers and dates, and no purpose was given",
                hint="give --purpose WHY to open one, or --case REF for an existing case",
            )
        ref = f"AUTO-{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        case = self.open_case(ref, subs, t0, t1, purpose, legal_basis=legal_basis, actor=actor)
        return _with_notice(case, case.notice or f"opened case {ref} for this request")

    def get_case(self, ref: str) -> Case:
        """The case `ref` with its subjects, extensions and members."""
        with self._tx() as s:
            return self._load_case(s, self._case_row(s, ref))

    def list_cases(self, *, status: str | None = None, member: str | None = None) -> list[Case]:
        """Cases, newest first; filter by status ("open", "closed") or member."""
        with self._tx() as s:
            q = sa.select(CaseRow).order_by(CaseRow.opened_at.desc())
            if status:
                q = q.where(CaseRow.status == status)
            if member:
                q = q.join(CaseMember, CaseMember.case_ref == CaseRow.ref).where(
                    CaseMember.username == member
                )
            return [self._load_case(s, r) for r in s.scalars(q).all()]

    def assign(self, ref: str, username: str, *, actor: UserLike) -> Case:
        """Add a user to a case (its opener, its authoriser, or any supervisor)."""
        with self._tx() as s:
            row = self._case_row(s, ref)
            who = _name(actor)
            if who not in (row.opened_by, row.authorised_by):
                self._require_role(s, who, "case.authorise")
            self._user(s, username)
            if s.get(CaseMember, (ref, username)) is None:
                s.add(CaseMember(case_ref=ref, username=username))
            self._audit(s, who, "case.assign", ref, username=username)
        return self.get_case(ref)

    def extend_case(
        self,
        ref: str,
        *,
        actor: UserLike,
        authority: str,
        reason: str,
        subjects: Iterable[str] = (),
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        off_duty: bool = False,
    ) -> Case:
        """Record a widening of scope (more officers, more dates, or off-duty time) with the
        supervisor who authorised it."""
        if not reason.strip():
            raise ParameterError("an extension needs a reason", hint="give --reason WHY")
        subs = sorted(set(subjects))
        t0 = as_utc(start) if start is not None else None
        t1 = as_utc(end) if end is not None else None
        kinds = (["subjects"] if subs else []) + (
            ["off_duty"] if off_duty else ["period"] if t0 or t1 else []
        )
        if not kinds:
            raise ParameterError(
                "nothing to extend", hint="give --subjects, --from/--to, or --off-duty"
            )
        with self._tx() as s:
            row = self._case_row(s, ref)
            if row.status == "closed":
                raise ScopeError(f"case {ref} is closed", hint="open a new case")
            who = _name(actor)
            self._require(s, who, "case.view", ref)
            authoriser = self._user(s, authority)
            if not (row.demo and authority == row.authorised_by == who):
                roles.check_role(authority, authoriser.role, "case.authorise")
            now = utcnow()
            for kind in kinds:
                s.add(
                    Extension(
                        case_ref=ref,
                        kind=kind,
                        officers=json.dumps(subs if kind != "period" else []),
                        period_start=t0 if kind != "subjects" else None,
                        period_end=t1 if kind != "subjects" else None,
                        authority=authority,
                        granted_by=who,
                        reason=reason,
                        granted_at=now,
                    )
                )
            self._audit(
                s,
                who,
                "case.extend",
                ref,
                kinds=kinds,
                subjects=subs,
                start=t0,
                end=t1,
                authority=authority,
                reason=reason,
            )
        return self.get_case(ref)

    def close_case(self, ref: str, *, actor: UserLike, reason: str) -> Case:
        """Close a case and set its retention dates from the rules."""
        with self._tx() as s:
            who = _name(actor)
            self._require(s, who, "case.close", ref)
            row = self._case_row(s, ref)
            if row.status == "closed":
                raise ScopeError(f"case {ref} is already closed", hint="nothing to do")
            now = utcnow()
            archive, delete = schedule_for(now.date())
            row.status, row.closed_at, row.close_reason = "closed", now, reason
            row.archive_after, row.delete_after = archive, delete
            self._audit(
                s, who, "case.close", ref, reason=reason, archive_after=archive, delete_after=delete
            )
        return self.get_case(ref)

    def record_read(
        self,
        user: UserLike,
        case_ref: str,
        officers: Iterable[str],
        start: datetime | str,
        end: datetime | str,
        *,
        what: str = "location",
        off_duty: bool = False,
        action: str = "location.read",
        **detail: object,
    ) -> Case:
        """Check role, membership and scope, then audit the read (who, case, scope, purpose).

        Call this before reading officers' location data; it raises instead of auditing
        when the read is not allowed.
        """
        offs = sorted(set(officers))
        with self._tx() as s:
            who = _name(user)
            self._require(s, who, action, case_ref)
            case = self._load_case(s, self._case_row(s, case_ref))
            if case.status == "pending":
                raise ScopeError(
                    f"case {case_ref} awaits authorisation by {case.authorised_by}; no "
                    "location data is read before it",
                    hint=f"{case.authorised_by} authorises it themselves: `whereabouts case "
                    f"authorise {self.label} {case_ref} --user {case.authorised_by}`",
                )
            case.require_scope(offs, start, end, off_duty=off_duty)
            self._audit(
                s,
                who,
                action,
                case_ref,
                what=what,
                officers=offs,
                start=as_utc(start),
                end=as_utc(end),
                off_duty=off_duty,
                purpose=case.purpose,
                **detail,
            )
        return case

    def record_bulk_read(self, user: UserLike, action: str, purpose: str, **detail: object) -> None:
        """Check and audit a read of location data outside any case: an administrator's
        whole-table export or workspace-wide encounters, with the purpose stated."""
        if len(purpose.strip()) < 10:
            raise ParameterError(
                "a read of location data outside a case needs its purpose",
                hint="state why, in words (--purpose 'data protection subject access "
                "request DPA-123'), or read inside a case (--case REF)",
            )
        with self._tx() as s:
            who = _name(user)
            self._require(s, who, "export.table", None)
            self._audit(s, who, action, None, purpose=purpose.strip(), **detail)

    def _load_case(self, s: Session, row: CaseRow) -> Case:
        subs = s.scalars(
            sa.select(CaseSubject.officer_id).where(CaseSubject.case_ref == row.ref)
        ).all()
        members = s.scalars(
            sa.select(CaseMember.username).where(CaseMember.case_ref == row.ref)
        ).all()
        exts = s.scalars(
            sa.select(Extension).where(Extension.case_ref == row.ref).order_by(Extension.id)
        ).all()
        return Case(
            ref=row.ref,
            subjects=tuple(sorted(subs)),
            start=row.period_start,
            end=row.period_end,
            purpose=row.purpose,
            legal_basis=row.legal_basis,
            authorised_by=row.authorised_by,
            opened_by=row.opened_by,
            status=row.status,
            demo=row.demo,
            opened_at=row.opened_at,
            closed_at=row.closed_at,
            extensions=tuple(
                ScopeExtension(
                    kind=e.kind,  # type: ignore[arg-type]
                    officers=tuple(json.loads(e.officers)),
                    start=e.period_start,
                    end=e.period_end,
                    authority=e.authority,
                    reason=e.reason,
                    granted_at=e.granted_at,
                )
                for e in exts
            ),
            members=tuple(sorted(members)),
            archive_after=row.archive_after,
            delete_after=row.delete_after,
        )

    # ---------------------------------------------------------------- misconduct, retention
    @property
    def misconduct(self) -> MisconductRecord:
        """The misconduct record (allegations to outcomes) of this store."""
        return MisconductRecord(self)

    def apply_retention(
        self, ref: str, action: str, *, actor: UserLike, paths: Iterable[Path] = ()
    ) -> dict[str, Any]:
        """Archive or delete a closed case's derived data; see `retention.apply`."""
        return apply_retention(self, ref, action, actor=_name(actor), paths=list(paths))

    def retention_due(self, today: date | None = None) -> list[tuple[str, str, date]]:
        """Closed cases whose derived data is due to be archived or deleted."""
        from whereabouts.case.retention import due

        return due(self, today)


def _with_notice(case: Case, notice: str) -> Case:
    return replace(case, notice=notice)


def _check_case_fields(
    ref: str, subjects: list[str], t0: datetime, t1: datetime, purpose: str, legal_basis: str
) -> None:
    if not ref.strip() or len(ref) > 64:
        raise ParameterError("a case reference is 1–64 characters", hint="e.g. PSD-2024-017")
    if not subjects:
        raise ParameterError("a case needs at least one subject", hint="give --subjects A,B")
    if t1 <= t0:
        raise ParameterError("the case period must end after it starts", hint="check --from/--to")
    if not purpose.strip():
        raise ParameterError("a case needs a purpose", hint="give --purpose WHY")
    if legal_basis not in LEGAL_BASES:
        raise ParameterError(
            f"unknown legal basis {legal_basis!r}",
            hint="one of: " + "; ".join(f"{k} = {v}" for k, v in LEGAL_BASES.items()),
        )
