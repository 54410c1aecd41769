"""An in-process case backend: the stand-in used when `whereabouts.case` is not installed.

It follows the case layer's contract (docs/architecture.md "case") closely enough for the
web layer to be built and tested on its own: argon2 passwords, the five roles, cases with
members and a period, a hash-chained audit, annotations. It keeps everything in memory:
nothing survives a restart, so a real deployment uses the case store.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from whereabouts.errors import NoDataError, ParameterError, PermissionDenied, ScopeError
from whereabouts.schema import REASONS
from whereabouts.web.backend import ROLES, Action, CaseView, Decision, WebUser

# Which role may do what; case-bound actions also need membership of the case.
PERMISSIONS: dict[str, frozenset[Action]] = {
    "investigator": frozenset({"case.read", "location.read", "annotate", "report"}),
    "supervisor": frozenset({"case.read", "location.read", "annotate", "report"}),
    "analyst": frozenset({"case.read", "location.read", "screening.read"}),
    "auditor": frozenset({"case.read", "audit.read"}),
    "administrator": frozenset({"case.read"}),
}
# Roles that see every case's metadata without being a member (oversight).
OVERSIGHT = frozenset({"auditor", "administrator"})

_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@dataclass
class _User:
    username: str
    role: str
    password_hash: str
    screening_authority: bool = False


@dataclass
class _Case:
    view: CaseView
    members: set[str] = field(default_factory=set)


class MemoryCaseBackend:
    """Users, cases, audit and annotations in memory (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, _User] = {}
        self._cases: dict[str, _Case] = {}
        self._audit: list[dict[str, Any]] = []
        self._annotations: list[dict[str, Any]] = []
        # Burn one verification so a wrong username costs as long as a wrong password.
        self._dummy_hash = _hasher.hash("not a password")

    # --- set-up (what the case CLI does in a real workspace) --------------------------
    def add_user(
        self, username: str, password: str, role: str, *, screening_authority: bool = False
    ) -> WebUser:
        if role not in ROLES:
            raise ParameterError(f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")
        with self._lock:
            self._users[username] = _User(username, role, _hasher.hash(password), screening_authority)
        return WebUser(username, role)

    def add_case(self, view: CaseView, *, members: list[str]) -> None:
        with self._lock:
            self._cases[view.ref] = _Case(view, set(members))

    # --- CaseBackend -------------------------------------------------------------------
    def authenticate(self, username: str, password: str) -> WebUser | None:
        found = self._users.get(username)
        try:
            _hasher.verify(found.password_hash if found else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return WebUser(found.username, found.role) if found else None

    def user(self, username: str) -> WebUser | None:
        found = self._users.get(username)
        return WebUser(found.username, found.role) if found else None

    def cases(self, user: WebUser) -> list[CaseView]:
        return [
            c.view
            for c in sorted(self._cases.values(), key=lambda c: c.view.ref)
            if user.role in OVERSIGHT or user.username in c.members
        ]

    def case(self, ref: str) -> CaseView:
        found = self._cases.get(ref)
        if found is None:
            raise NoDataError(f"no case {ref!r}", hint="pick a case from the case list")
        return found.view

    def require(self, user: WebUser, action: Action, case_ref: str | None) -> None:
        if action not in PERMISSIONS.get(user.role, frozenset()):
            raise PermissionDenied(
                f"the {user.role} role may not do {action!r}",
                hint="ask an administrator for a role that allows it",
            )
        if case_ref is None:
            return
        found = self._cases.get(case_ref)
        if found is None:
            raise NoDataError(f"no case {case_ref!r}", hint="pick a case from the case list")
        if user.role not in OVERSIGHT and user.username not in found.members:
            raise ScopeError(
                f"user {user.username!r} is not on case {case_ref!r}",
                hint=f"ask the case's authorising officer ({found.view.authorised_by}) to add you",
            )

    def require_period(self, case: CaseView, start: datetime, end: datetime) -> None:
        if start < case.start or end > case.end:
            raise ScopeError(
                f"the period asked for is outside case {case.ref!r}'s authorised period "
                f"{case.start.isoformat()} to {case.end.isoformat()}",
                hint=f"stay inside the case period, or ask {case.authorised_by} for an extension",
            )

    def audit(self, user: WebUser, action: str, case_ref: str | None, detail: dict[str, Any]) -> None:
        with self._lock:
            prev = self._audit[-1]["hash"] if self._audit else "0" * 64
            entry = {
                "seq": len(self._audit) + 1,
                "time": datetime.now(UTC).isoformat(),
                "actor": user.username,
                "action": action,
                "case_ref": case_ref,
                "detail": detail,
                "prev": prev,
            }
            body = json.dumps(entry, sort_keys=True, default=str).encode()
            entry["hash"] = hashlib.sha256(body).hexdigest()
            self._audit.append(entry)

    def audit_entries(self, *, case_ref: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        rows = [e for e in self._audit if case_ref is None or e["case_ref"] == case_ref]
        return list(reversed(rows))[:limit]

    def audit_verify(self) -> dict[str, Any]:
        prev = "0" * 64
        for entry in self._audit:
            body = {k: v for k, v in entry.items() if k != "hash"}
            digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
            if entry["prev"] != prev or digest != entry["hash"]:
                return {"ok": False, "entries": len(self._audit), "problem": f"entry {entry['seq']}"}
            prev = entry["hash"]
        return {"ok": True, "entries": len(self._audit), "problem": None}

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
        if decision != "note" and reason not in REASONS:
            raise ParameterError(
                f"unknown reason {reason!r}", hint=f"use one of {', '.join(REASONS)}"
            )
        row = {
            "case_ref": case_ref,
            "occasion_id": occasion_id,
            "author": user.username,
            "time": datetime.now(UTC).isoformat(),
            "note": note,
            "decision": decision,
            "reason": reason if decision != "note" else None,
        }
        with self._lock:
            self._annotations.append(row)
        self.audit(user, "annotate", case_ref, {"occasion_id": occasion_id, "decision": decision})
        return row

    def annotations(self, case_ref: str, occasion_id: str | None = None) -> list[dict[str, Any]]:
        return [
            a
            for a in self._annotations
            if a["case_ref"] == case_ref and (occasion_id is None or a["occasion_id"] == occasion_id)
        ]

    def has_screening_authority(self, user: WebUser) -> bool:
        found = self._users.get(user.username)
        return bool(found and found.screening_authority)


__all__ = ["OVERSIGHT", "PERMISSIONS", "MemoryCaseBackend"]
