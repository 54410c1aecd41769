"""A case and its scope: who may be looked at, over which dates, and whether off duty.

`Case` is an immutable snapshot read from the store; `Case.require_scope` is the check every
analysis, view and report makes before it reads location data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from whereabouts.case.db import as_utc
from whereabouts.errors import ScopeError

LegalBasis = Literal["uk_gdpr", "dpa2018_part3"]
LEGAL_BASES: dict[str, str] = {
    "uk_gdpr": "UK GDPR (misconduct investigation)",
    "dpa2018_part3": "Data Protection Act 2018 Part 3 (criminal law enforcement)",
}
ExtensionKind = Literal["subjects", "period", "off_duty"]


@dataclass(frozen=True)
class ScopeExtension:
    """A recorded widening of scope with its authority."""

    kind: ExtensionKind
    officers: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    authority: str
    reason: str = field(repr=False)  # free text: may name people
    granted_at: datetime = field(repr=False)


@dataclass(frozen=True)
class Case:
    """A case as recorded: subjects, period, purpose, legal basis, authority, status."""

    ref: str
    subjects: tuple[str, ...]
    start: datetime
    end: datetime
    purpose: str = field(repr=False)  # free text: may name people
    legal_basis: str = field(repr=False)
    authorised_by: str = field(repr=False)
    opened_by: str = field(repr=False)
    status: str
    demo: bool = field(repr=False)
    opened_at: datetime = field(repr=False)
    closed_at: datetime | None = None
    extensions: tuple[ScopeExtension, ...] = ()
    members: tuple[str, ...] = ()
    archive_after: date | None = None
    delete_after: date | None = None
    notice: str | None = field(default=None, compare=False)

    @property
    def is_open(self) -> bool:
        """True once authorised, until the case is closed."""
        return self.status == "open"

    def officers_in_scope(self) -> tuple[str, ...]:
        """Subjects plus officers added by extensions, sorted."""
        extra = {o for e in self.extensions if e.kind == "subjects" for o in e.officers}
        return tuple(sorted(set(self.subjects) | extra))

    def periods(self, *, off_duty: bool = False) -> list[tuple[datetime, datetime]]:
        """The authorised periods (merged): on-duty scope, or off-duty extensions only."""
        if off_duty:
            spans = [
                (e.start or self.start, e.end or self.end)
                for e in self.extensions
                if e.kind == "off_duty"
            ]
        else:
            spans = [(self.start, self.end)] + [
                (e.start, e.end)
                for e in self.extensions
                if e.kind == "period" and e.start is not None and e.end is not None
            ]
        return _merge(spans)

    def require_scope(
        self,
        officers: Iterable[str],
        start: datetime | str,
        end: datetime | str,
        *,
        off_duty: bool = False,
    ) -> None:
        """Raise ScopeError unless these officers and dates (and off-duty time) are in scope.

        >>> case.require_scope(["OFF-1", "OFF-2"], "2024-03-01", "2024-03-31")  # doctest: +SKIP
        """
        who = self._who_authorises()
        if self.status == "pending":
            raise ScopeError(
                f"case {self.ref} awaits authorisation by {self.authorised_by}; no location "
                "data is read before it",
                hint=f"{self.authorised_by} authorises it themselves: `whereabouts case "
                f"authorise WS {self.ref} --user {self.authorised_by}`",
            )
        if not self.is_open:
            raise ScopeError(
                f"case {self.ref} is closed; its location data can no longer be read",
                hint=f"ask a supervisor to open a new case; {who}",
            )
        wanted = sorted(set(officers))
        outside = sorted(set(wanted) - set(self.officers_in_scope()))
        if outside:
            raise ScopeError(
                f"officer(s) {', '.join(outside)} are not subjects of case {self.ref}",
                hint=f"{who}: `whereabouts case extend {self.ref} --subjects "
                f"{','.join(outside)} --authority SUPERVISOR --reason WHY`",
            )
        t0, t1 = as_utc(start), as_utc(end)
        if t1 < t0:
            raise ScopeError(
                f"period ends ({t1:%Y-%m-%d %H:%M}) before it starts ({t0:%Y-%m-%d %H:%M})",
                hint="swap --from and --to",
            )
        if not _covered(self.periods(), t0, t1):
            raise ScopeError(
                f"period {t0:%Y-%m-%d %H:%M}–{t1:%Y-%m-%d %H:%M} UTC is outside case "
                f"{self.ref}'s authorised dates ({_spans_text(self.periods())})",
                hint=f"{who}: `whereabouts case extend {self.ref} --from … --to … "
                "--authority SUPERVISOR --reason WHY`",
            )
        if off_duty:
            spans = self.periods(off_duty=True)
            covered_officers = {
                o for e in self.extensions if e.kind == "off_duty" for o in e.officers
            } or set(self.officers_in_scope())
            if not spans or not _covered(spans, t0, t1) or set(wanted) - covered_officers:
                raise ScopeError(
                    f"off-duty location data is not authorised in case {self.ref} for this "
                    "period and these officers",
                    hint=f"{who}: `whereabouts case extend {self.ref} --off-duty --from … "
                    "--to … --authority SUPERVISOR --reason WHY`; otherwise only on-duty "
                    "time is shown",
                )

    def _who_authorises(self) -> str:
        return f"a supervisor (this case was authorised by {self.authorised_by}) can authorise it"


def _merge(spans: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _covered(spans: list[tuple[datetime, datetime]], t0: datetime, t1: datetime) -> bool:
    return any(s <= t0 and t1 <= e for s, e in _merge(spans))


def _spans_text(spans: list[tuple[datetime, datetime]]) -> str:
    return "; ".join(f"{s:%Y-%m-%d %H:%M}–{e:%Y-%m-%d %H:%M}" for s, e in spans)
