"""What the web app needs from the case layer, as a Protocol, and the value types it uses.

The web layer never talks to the case store directly: `services.py` does, through a
`CaseBackend`. `CaseStoreBackend` (in `casestore.py`) adapts `whereabouts.case.CaseStore`;
`MemoryCaseBackend` (in `memory.py`) is a small in-process stand-in used only when the
case layer is not installed, and in unit tests of the web layer's own logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

# The web app's vocabulary of actions; the backend maps them to the case layer's.
Action = Literal[
    "case.read",  # see a case's metadata (reference, scope, status, subjects)
    "location.read",  # see tracks, occasions, playback: personal location data
    "annotate",  # add an annotation to an occasion
    "report",  # generate and download the evidential report
    "screening.read",  # force-wide screening results (needs a screening authority)
    "audit.read",  # read the audit log
]
ACTIONS: tuple[Action, ...] = (
    "case.read",
    "location.read",
    "annotate",
    "report",
    "screening.read",
    "audit.read",
)
ROLES = ("investigator", "analyst", "supervisor", "auditor", "administrator")
Decision = Literal["note", "add_reason", "reject_reason"]
DECISIONS: tuple[Decision, ...] = ("note", "add_reason", "reject_reason")


@dataclass(frozen=True)
class WebUser:
    """A signed-in user: name and role. No password material."""

    username: str
    role: str


@dataclass(frozen=True)
class CaseView:
    """What the web shows of a case."""

    ref: str
    subjects: tuple[str, ...]
    start: datetime
    end: datetime
    purpose: str
    legal_basis: str
    authorised_by: str
    status: str
    off_duty_allowed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "subjects": list(self.subjects),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "authorised_by": self.authorised_by,
            "status": self.status,
            "off_duty_allowed": self.off_duty_allowed,
        }


class CaseBackend(Protocol):
    """The case layer as the web app uses it."""

    def authenticate(self, username: str, password: str) -> WebUser | None:
        """The user if the password is right, else None (never says which part was wrong)."""
        ...

    def user(self, username: str) -> WebUser | None:
        """The user by name, or None when unknown or disabled."""
        ...

    def cases(self, user: WebUser) -> list[CaseView]:
        """The cases this user may see."""
        ...

    def case(self, ref: str) -> CaseView:
        """The case by reference; raises NoDataError when unknown."""
        ...

    def require(self, user: WebUser, action: Action, case_ref: str | None) -> None:
        """Raise PermissionDenied or ScopeError unless the user may do `action` on the case."""
        ...

    def require_period(self, case: CaseView, start: datetime, end: datetime) -> None:
        """Raise ScopeError when [start, end] is outside the case's authorised period."""
        ...

    def audit(self, user: WebUser, action: str, case_ref: str | None, detail: dict[str, Any]) -> None:
        """Append one entry to the hash-chained audit log."""
        ...

    def audit_entries(self, *, case_ref: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """The newest audit entries first (seq, time, actor, action, case_ref, detail, hash)."""
        ...

    def audit_verify(self) -> dict[str, Any]:
        """{"ok": bool, "entries": n, "problem": text or None}."""
        ...

    def annotate(
        self,
        user: WebUser,
        case_ref: str,
        occasion_id: str,
        *,
        note: str,
        decision: Decision,
        reason: str | None,
    ) -> dict[str, Any]:
        """Record an annotation (and its audit entry); returns it."""
        ...

    def annotations(self, case_ref: str, occasion_id: str | None = None) -> list[dict[str, Any]]:
        """Annotations of a case (or one occasion), oldest first."""
        ...

    def has_screening_authority(self, user: WebUser) -> bool:
        """True when a screening authority covers this user."""
        ...


__all__ = [
    "ACTIONS",
    "DECISIONS",
    "ROLES",
    "Action",
    "CaseBackend",
    "CaseView",
    "Decision",
    "WebUser",
]
