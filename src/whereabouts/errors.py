"""Domain errors. Each names what is wrong, where, and how to fix it.

The CLI and the web app turn these into messages; the library raises them. Messages
never contain personal data (names, positions): identifiers, files, lines and columns only.
"""

from __future__ import annotations

from dataclasses import dataclass


class WhereaboutsError(Exception):
    """Base class of every error whereabouts raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  How to fix: {self.hint}" if self.hint else self.message


@dataclass(frozen=True)
class Location:
    """Where in an input a problem is: file, 1-based line, column name."""

    file: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        out = self.file
        if self.line is not None:
            out += f":{self.line}"
        if self.column:
            out += f" (column {self.column!r})"
        return out


class InputError(WhereaboutsError):
    """A whole input cannot be read (wrong columns, encoding, empty, no times)."""

    def __init__(self, message: str, *, where: Location | str, hint: str = "") -> None:
        self.where = where if isinstance(where, Location) else Location(where)
        super().__init__(f"{self.where}: {message}", hint=hint)


class SchemaError(InputError):
    """Columns missing or unknown for the table being read."""


class ProfileError(WhereaboutsError):
    """A mapping profile is unknown or malformed."""


class WorkspaceError(WhereaboutsError):
    """A workspace is missing, damaged, or asked to do something it must not."""


class NoDataError(WhereaboutsError):
    """The data asked for is not there (no fixes for a device, empty period)."""


class ParameterError(WhereaboutsError):
    """An option has an impossible value."""


class LipDecodeError(WhereaboutsError):
    """A TETRA LIP PDU cannot be decoded."""


class ScopeError(WhereaboutsError):
    """A request falls outside the case's authorised scope."""


class PermissionDenied(WhereaboutsError):
    """The user's role does not allow the action."""


class AuditIntegrityError(WhereaboutsError):
    """The audit log's hash chain is broken."""


class NotInstalledError(WhereaboutsError):
    """Something an option needs is not installed (PySpark, a Java runtime)."""


class RuleError(WhereaboutsError):
    """A misconduct-process rule forbids the step (e.g. an outcome not open to the forum)."""


__all__ = [
    "AuditIntegrityError",
    "InputError",
    "LipDecodeError",
    "Location",
    "NoDataError",
    "NotInstalledError",
    "ParameterError",
    "PermissionDenied",
    "ProfileError",
    "RuleError",
    "SchemaError",
    "ScopeError",
    "WhereaboutsError",
    "WorkspaceError",
]
