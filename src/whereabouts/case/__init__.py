"""case layer: cases and scope, users and roles, the hash-chained audit, the misconduct record.

See docs/architecture.md "case" for the contract other layers use.
"""

from whereabouts.case.audit import AuditLog, Problem, VerifyReport
from whereabouts.case.cases import LEGAL_BASES, Case, ScopeExtension
from whereabouts.case.roles import ACTIONS, ROLES
from whereabouts.case.store import CaseStore, ScreeningAuthority, UserInfo

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
