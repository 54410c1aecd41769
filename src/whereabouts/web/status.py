"""The HTTP status each domain error maps to: one table, used by the API and the pages."""

from __future__ import annotations

from whereabouts.errors import (
    NoDataError,
    ParameterError,
    PermissionDenied,
    RuleError,
    ScopeError,
    WhereaboutsError,
    WorkspaceError,
)
from whereabouts.web.services import ServiceUnavailable

STATUS: list[tuple[type[WhereaboutsError], int]] = [
    (PermissionDenied, 403),
    (ScopeError, 403),
    (NoDataError, 404),
    (ParameterError, 422),
    (RuleError, 409),
    (ServiceUnavailable, 503),
    (WorkspaceError, 503),
]


def status_for(exc: WhereaboutsError) -> int:
    """The HTTP status a domain error maps to (400 for any other input problem)."""
    for kind, code in STATUS:
        if isinstance(exc, kind):
            return code
    return 400


__all__ = ["STATUS", "status_for"]
