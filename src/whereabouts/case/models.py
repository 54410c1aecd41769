"""The case record's tables (SQLAlchemy ORM). The schema itself is made by the migrations.

Keep these classes and `migrations/versions/*` in step: a column added here needs a new
revision there.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from whereabouts.case.db import UTCDateTime


class Base(DeclarativeBase):
    """Declarative base of the case record."""


class User(Base):
    """A person who uses whereabouts, with one role."""

    __tablename__ = "users"
    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(32))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    os_default: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(sa.String(64))

    def __repr__(self) -> str:  # never show the hash
        return f"User({self.username!r}, role={self.role!r})"


class CaseRow(Base):
    """A case: subjects, period, purpose, legal basis and who authorised it."""

    __tablename__ = "cases"
    ref: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.Text)
    legal_basis: Mapped[str] = mapped_column(sa.String(32))
    authorised_by: Mapped[str] = mapped_column(sa.String(64))
    opened_by: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    demo: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(sa.Text)
    archive_after: Mapped[date | None] = mapped_column(sa.Date)
    delete_after: Mapped[date | None] = mapped_column(sa.Date)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseSubject(Base):
    """An officer named as a subject of a case when it was opened."""

    __tablename__ = "case_subjects"
    case_ref: Mapped[str] = mapped_column(sa.ForeignKey("cases.ref"), primary_key=True)
    officer_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class CaseMember(Base):
    """A user working on a case (the opener and the authorising officer are members)."""

    __tablename__ = "case_members"
    case_ref: Mapped[str] = mapped_column(sa.ForeignKey("cases.ref"), primary_key=True)
    username: Mapped[str] = mapped_column(sa.ForeignKey("users.username"), primary_key=True)


class Extension(Base):
    """A recorded widening of a case's scope: more subjects, more dates, or off-duty time."""

    __tablename__ = "case_extensions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_ref: Mapped[str] = mapped_column(sa.ForeignKey("cases.ref"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # subjects | period | off_duty
    officers: Mapped[str] = mapped_column(sa.Text, default="[]")  # JSON list of officer ids
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authority: Mapped[str] = mapped_column(sa.String(64))
    granted_by: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.Text)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Screening(Base):
    """A screening authority: lets analysts look at all pairs in a team, station or force."""

    __tablename__ = "screening_authorities"
    ref: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(128))  # "force", "team:T1", "station:S2"
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    purpose: Mapped[str] = mapped_column(sa.Text)
    authorised_by: Mapped[str] = mapped_column(sa.String(64))
    granted_by: Mapped[str] = mapped_column(sa.String(64))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One audit entry; `hash` covers `prev_hash` and the canonical JSON of the entry."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    case_ref: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    detail: Mapped[str] = mapped_column(sa.Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditHead(Base):
    """The chain's last sequence number and hash; writers lock this row."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[str] = mapped_column(sa.String(64))


class Annotation(Base):
    """An investigator's note on an occasion, kept apart from the computed results."""

    __tablename__ = "annotations"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    occasion_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    case_ref: Mapped[str] = mapped_column(sa.ForeignKey("cases.ref"), index=True)
    author: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.Text)
    reason_added: Mapped[str | None] = mapped_column(sa.String(64))
    reason_rejected: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Proceeding(Base):
    """The misconduct proceedings against one officer in one case."""

    __tablename__ = "proceedings"
    __table_args__ = (sa.UniqueConstraint("case_ref", "officer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_ref: Mapped[str] = mapped_column(sa.ForeignKey("cases.ref"), index=True)
    officer_id: Mapped[str] = mapped_column(sa.String(64))
    officer_status: Mapped[str] = mapped_column(sa.String(16))  # serving | resigned | retired
    severity: Mapped[str | None] = mapped_column(sa.String(32))
    severity_by: Mapped[str | None] = mapped_column(sa.String(64))
    forum: Mapped[str | None] = mapped_column(sa.String(32))
    forum_date: Mapped[date | None] = mapped_column(sa.Date)
    panel: Mapped[str | None] = mapped_column(sa.Text)  # who sits, from the dated rules
    rules: Mapped[str | None] = mapped_column(sa.String(32))  # rule set applied
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Allegation(Base):
    """One allegation: standards breached, particulars, and its own finding."""

    __tablename__ = "allegations"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    proceeding_id: Mapped[int] = mapped_column(sa.ForeignKey("proceedings.id"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    standards: Mapped[str] = mapped_column(sa.Text)  # JSON list of Schedule 2 keys
    particulars: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finding: Mapped[str | None] = mapped_column(sa.String(16))  # proven | not_proven
    level: Mapped[str | None] = mapped_column(sa.String(32))  # misconduct | gross_misconduct
    basis: Mapped[str | None] = mapped_column(sa.String(32))
    found_by: Mapped[str | None] = mapped_column(sa.String(64))


class Evidence(Base):
    """An occasion or a document linked to an allegation, with its SHA-256."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    allegation_id: Mapped[int] = mapped_column(sa.ForeignKey("allegations.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # occasion | document
    ref: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    added_by: Mapped[str] = mapped_column(sa.String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Outcome(Base):
    """The outcome decided for an officer."""

    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    proceeding_id: Mapped[int] = mapped_column(sa.ForeignKey("proceedings.id"), index=True)
    outcome: Mapped[str] = mapped_column(sa.String(48))
    decided_on: Mapped[date] = mapped_column(sa.Date)
    decided_by: Mapped[str] = mapped_column(sa.String(64))
    rules: Mapped[str] = mapped_column(sa.String(32))


class Warning_(Base):
    """A written or final written warning and when it stops being live."""

    __tablename__ = "warnings"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    proceeding_id: Mapped[int] = mapped_column(sa.ForeignKey("proceedings.id"), index=True)
    officer_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # written | final
    issued_on: Mapped[date] = mapped_column(sa.Date)
    expires_on: Mapped[date] = mapped_column(sa.Date)


class Referral(Base):
    """A Barred List or Advisory List referral to the College of Policing."""

    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    proceeding_id: Mapped[int] = mapped_column(sa.ForeignKey("proceedings.id"), index=True)
    list_name: Mapped[str] = mapped_column(sa.String(16))  # barred | advisory
    fields: Mapped[str] = mapped_column(sa.Text)  # JSON of the required fields
    due_on: Mapped[date] = mapped_column(sa.Date)
    made_on: Mapped[date | None] = mapped_column(sa.Date)


class Publication(Base):
    """The published notice of a hearing outcome, with the anonymity chosen."""

    __tablename__ = "publications"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    proceeding_id: Mapped[int] = mapped_column(sa.ForeignKey("proceedings.id"), index=True)
    anonymised: Mapped[bool] = mapped_column(sa.Boolean)
    label: Mapped[str] = mapped_column(sa.String(64))
    publish_from: Mapped[date] = mapped_column(sa.Date)
    publish_until: Mapped[date] = mapped_column(sa.Date)


class WebSession(Base):
    """A signed-in browser. Only a SHA-256 of the cookie's token is kept, never the token;
    the CSRF token is derived from the token (see whereabouts.case.sessions), so not stored."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    username: Mapped[str] = mapped_column(sa.ForeignKey("users.username"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # absolute limit


class LoginFailure(Base):
    """One failed sign-in, under a SHA-256 of its key ("user:NAME" or "addr:IP"), so a
    password typed into the user name field is not kept readable."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
