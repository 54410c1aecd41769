"""case layer: cases and scope, users and roles, the hash-chained audit, the misconduct record.

See docs/architecture.md "case" for the contract other layers use. The names below are
imported when first used (module `__getattr__`), so that importing `whereabouts.case.roles`
or `whereabouts.case.users` (as the CLI's help does) does not load SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whereabouts._lazy import lazy

if TYPE_CHECKING:
    from whereabouts.case.audit import AuditLog, Problem, VerifyReport
    from whereabouts.case.cases import LEGAL_BASES, Case, ScopeExtension
    from whereabouts.case.roles import ACTIONS, ROLES
    from whereabouts.case.store import CaseStore, ScreeningAuthority, UserInfo

_WHERE = {
    "AuditLog": "audit",
    "Problem": "audit",
    "VerifyReport": "audit",
    "LEGAL_BASES": "cases",
    "Case": "cases",
    "ScopeExtension": "cases",
    "ACTIONS": "roles",
    "ROLES": "roles",
    "CaseStore": "store",
    "ScreeningAuthority": "store",
    "UserInfo": "store",
}


__getattr__, __dir__ = lazy(__name__, _WHERE)


__all__ = [
    "ACTIONS",
    "LEGAL_BASES",
    "ROLES",
    "AuditLog",
    "Case",
    "CaseStore",
    "Problem",
    "ScopeExtension",
    "ScreeningAuthority",
    "UserInfo",
    "VerifyReport",
]
