"""Roles and what each may do: one table, read by `CaseStore.require`.

Least privilege: administrators manage users but do not see location data; auditors read
the audit but not the evidence; supervisors authorise cases, extensions and screening.
"""

from __future__ import annotations

from typing import Final, Literal

from whereabouts.errors import PermissionDenied

Role = Literal["investigator", "analyst", "supervisor", "auditor", "administrator"]
ROLES: Final[tuple[Role, ...]] = (
    "investigator",
    "analyst",
    "supervisor",
    "auditor",
    "administrator",
)

# action -> (roles allowed, what it means). Keep this the only place access is decided.
ACTIONS: Final[dict[str, tuple[frozenset[str], str]]] = {
    "case.open": (frozenset({"investigator", "supervisor"}), "open a case"),
    "case.authorise": (frozenset({"supervisor"}), "authorise a case or widen its scope"),
    "case.view": (
        frozenset({"investigator", "analyst", "supervisor"}),
        "see a case's scope and record",
    ),
    "case.close": (frozenset({"investigator", "supervisor"}), "close a case"),
    "location.read": (
        frozenset({"investigator", "analyst"}),
        "read officers' location data inside a case",
    ),
    "analysis.run": (frozenset({"investigator", "analyst"}), "run an analysis inside a case"),
    "report.write": (frozenset({"investigator"}), "write an evidential report"),
    "report.read": (
        frozenset({"investigator", "analyst", "supervisor"}),
        "read a case's reports",
    ),
    "annotate": (frozenset({"investigator", "analyst"}), "annotate occasions"),
    "export": (frozenset({"investigator"}), "export case data"),
    "export.table": (
        frozenset({"administrator"}),
        "export a whole workspace table, or find encounters across the whole workspace, "
        "with a stated purpose",
    ),
    "screening.run": (frozenset({"analyst"}), "screen many officers under an authority"),
    "screening.authorise": (frozenset({"supervisor"}), "grant a screening authority"),
    "misconduct.record": (
        frozenset({"investigator", "supervisor"}),
        "record allegations and link evidence",
    ),
    "misconduct.decide": (
        frozenset({"supervisor"}),
        "record severity, forum, findings, outcomes, referrals and publication",
    ),
    "audit.read": (frozenset({"auditor"}), "read and export the audit log"),
    "audit.verify": (frozenset({"auditor", "administrator"}), "verify the audit chain"),
    "user.manage": (frozenset({"administrator"}), "add users and change roles"),
    "retention.apply": (
        frozenset({"administrator", "supervisor"}),
        "archive or delete a closed case's derived data",
    ),
}

# Actions that act on one case's data: the user must also be a member of that case.
CASE_ACTIONS: Final[frozenset[str]] = frozenset(
    {
        "case.view",
        "case.close",
        "location.read",
        "analysis.run",
        "report.write",
        "report.read",
        "annotate",
        "export",
        "misconduct.record",
    }
)


def allowed_roles(action: str) -> frozenset[str]:
    """The roles that may perform `action` (PermissionDenied for an unknown action)."""
    try:
        return ACTIONS[action][0]
    except KeyError:
        raise PermissionDenied(
            f"unknown action {action!r}",
            hint="one of: " + ", ".join(sorted(ACTIONS)),
        ) from None


def check_role(username: str, role: str, action: str, target: str = "WS") -> None:
    """Raise PermissionDenied unless `role` may perform `action`, naming who can (`target`
    is the workspace the hint's command names)."""
    roles = allowed_roles(action)
    if role not in roles:
        who = " or ".join(sorted(roles))
        raise PermissionDenied(
            f"user {username!r} ({role}) may not {ACTIONS[action][1]} ({action})",
            hint=f"ask a user with the role {who}, or act as one with `--user NAME`; an "
            f"administrator can change roles with `whereabouts user role {target} "
            f"{username} ROLE`",
        )


def check_known_role(role: str) -> Role:
    """Return `role` if it is one of ROLES, else raise PermissionDenied listing them."""
    if role not in ROLES:
        raise PermissionDenied(
            f"unknown role {role!r}",
            hint="one of: " + ", ".join(ROLES),
        )
    return role
