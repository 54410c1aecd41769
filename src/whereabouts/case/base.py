"""What every part of `CaseStore` shares: the engine, transactions, the audit, the acting user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from whereabouts.case.audit import AuditLog
from whereabouts.case.db import is_sqlite
from whereabouts.case.models import CaseRow
from whereabouts.errors import ScopeError


@dataclass(frozen=True)
class UserInfo:
    """A user as the rest of the code sees one (never with the password hash)."""

    username: str
    role: str
    os_default: bool = False
    notice: str | None = None


UserLike = str | UserInfo


def _name(user: UserLike) -> str:
    return user.username if isinstance(user, UserInfo) else user


class StoreBase:
    """Engine, transactions and audit shared by the store's parts."""

    def __init__(self, engine: Engine, label: str = "WS") -> None:
        self.engine = engine
        self.audit = AuditLog(engine)
        # how commands name this store in hints: the workspace folder (or "WS" for a URL,
        # whose password must never be shown)
        self.label = label

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    @property
    def embedded(self) -> bool:
        """True on the embedded single-user SQLite default."""
        return is_sqlite(self.engine)

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def _audit(
        self, s: Session, actor: str, action: str, ref: str | None, **detail: object
    ) -> None:
        self.audit.append(actor, action, ref, detail, conn=s.connection())

    def _case_row(self, s: Session, ref: str) -> CaseRow:
        row = s.get(CaseRow, ref)
        if row is None:
            raise ScopeError(f"no case {ref}", hint="list cases with `whereabouts case list`")
        return row


__all__ = ["StoreBase", "UserInfo", "UserLike"]
