"""Web sessions and failed sign-ins, kept in the case database so every web worker (and a
restarted app) sees the same ones.

- The browser's cookie holds a random token; the database holds only its SHA-256, so a copy
  of the database does not let anyone sign in. The CSRF token is an HMAC of the session
  token, so it is neither stored nor guessable without the (HttpOnly) cookie.
- A session ends when it has not been used for `idle_s`, `absolute_s` after sign-in, on
  sign-out, or when its user's password is set. Expired rows are deleted as new sessions
  are made, so the table stays small.
- Failed sign-ins are rows under a SHA-256 of their key ("user:NAME", "addr:IP"): a password
  typed into the user name field is not kept readable; rows older than the window go.

On SQLite the lookups run on their own engine whose statements do not take the write lock
first (WAL readers never wait for a writer); each write here is a single statement.

    sessions = WebSessions.for_store(store, idle_s=1800, absolute_s=12 * 3600)
    token, info = sessions.create("ivy")
    sessions.get(token)            # SessionInfo, or None once expired or signed out
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from whereabouts.case.db import is_sqlite, make_engine
from whereabouts.case.models import LoginFailure, WebSession
from whereabouts.errors import ParameterError

if TYPE_CHECKING:
    from whereabouts.case.base import StoreBase

_CSRF_CONTEXT = b"whereabouts web csrf v1"
# Every request looks its session up: plain text SQL, times converted here, costs a third of
# the same query built from the ORM columns (whose UTC type converts each value).
_LOOKUP = sa.text(
    "SELECT username, created_at, seen_at, expires_at FROM web_sessions WHERE token_hash = :k"
)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a session token or a limiter key is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(token: str) -> str:
    """The CSRF token belonging to a session token (an HMAC keyed by the session token)."""
    digest = hmac.new(token.encode(), _CSRF_CONTEXT, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class SessionInfo:
    """A live session as stored: whose, and when it was made, last used and must end (UTC)."""

    username: str
    created: datetime
    seen: datetime
    expires: datetime


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


class WebSessions:
    """Sessions and failed sign-ins in the case database; safe to share between threads.

    Parameters: `idle_s` ends a session unused this long; `absolute_s` ends any session this
    long after sign-in; `touch_s` how stale the stored last-use time may get before a request
    writes it again (a write per request would queue every reader behind it), so a session
    may end up to `touch_s` before a strict idle limit would end it, never later;
    `clock` seconds since the epoch (tests pass their own).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        idle_s: float = 30 * 60,
        absolute_s: float = 12 * 3600,
        touch_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if idle_s <= 0 or absolute_s <= 0:
            raise ParameterError(
                "session lifetimes must be positive",
                hint="give idle and absolute lifetimes in seconds, e.g. 1800 and 43200",
            )
        self.engine = engine
        self.idle_s = float(idle_s)
        self.absolute_s = float(absolute_s)
        self.touch_s = float(touch_s) if touch_s is not None else min(60.0, self.idle_s / 10)
        self.clock = clock

    @classmethod
    def for_store(
        cls,
        store: StoreBase,
        *,
        idle_s: float = 30 * 60,
        absolute_s: float = 12 * 3600,
        touch_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> WebSessions:
        """Sessions in `store`'s database (on SQLite through a second, lock-free engine)."""
        engine = store.engine
        if is_sqlite(engine):
            engine = make_engine(engine.url.render_as_string(hide_password=False), immediate=False)
        return cls(engine, idle_s=idle_s, absolute_s=absolute_s, touch_s=touch_s, clock=clock)

    def close(self) -> None:
        """Release this object's connections (the store's own engine is left alone)."""
        self.engine.dispose()

    # ---------------------------------------------------------------- sessions
    def create(self, username: str) -> tuple[str, SessionInfo]:
        """A new session for `username`: its token (for the cookie, shown once) and its row."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        info = SessionInfo(username, _dt(now), _dt(now), _dt(now + self.absolute_s))
        with self.engine.begin() as conn:
            self._purge(conn, now)
            conn.execute(
                sa.insert(WebSession).values(
                    token_hash=token_hash(token),
                    username=username,
                    created_at=info.created,
                    seen_at=info.seen,
                    expires_at=info.expires,
                )
            )
        return token, info

    def get(self, token: str | None) -> SessionInfo | None:
        """The live session of `token`, its last use updated; None when unknown or ended."""
        if not token:
            return None
        key = token_hash(token)
        t = WebSession
        with self.engine.connect() as conn:
            row = conn.execute(_LOOKUP, {"k": key}).first()
            if row is None:
                return None
            now = self.clock()
            seen = _as_utc(row.seen_at).timestamp()
            expires = _as_utc(row.expires_at)
            if now - seen > self.idle_s or now >= expires.timestamp():
                conn.execute(sa.delete(t).where(t.token_hash == key))
                conn.commit()
                return None
            if now - seen >= self.touch_s:
                seen = now
                conn.execute(sa.update(t).where(t.token_hash == key).values(seen_at=_dt(now)))
                conn.commit()
        return SessionInfo(row.username, _as_utc(row.created_at), _dt(seen), expires)

    def drop(self, token: str | None) -> None:
        """End the session of `token` (sign-out); nothing happens for an unknown token."""
        if token:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.delete(WebSession).where(WebSession.token_hash == token_hash(token))
                )

    def drop_user(self, username: str) -> int:
        """End every session of `username`; returns how many there were."""
        with self.engine.begin() as conn:
            result = conn.execute(sa.delete(WebSession).where(WebSession.username == username))
        return int(result.rowcount or 0)

    def count(self) -> int:
        """How many session rows are stored (live or not yet purged)."""
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(WebSession)) or 0)

    def purge(self) -> int:
        """Delete expired sessions; returns how many."""
        with self.engine.begin() as conn:
            return self._purge(conn, self.clock())

    def _purge(self, conn: sa.Connection, now: float) -> int:
        result = conn.execute(
            sa.delete(WebSession).where(
                (WebSession.expires_at <= _dt(now)) | (WebSession.seen_at < _dt(now - self.idle_s))
            )
        )
        return int(result.rowcount or 0)

    # ---------------------------------------------------------------- failed sign-ins
    def failures(self, keys: Iterable[str], window_s: float) -> dict[str, tuple[int, float]]:
        """Per key with failures in the last `window_s`: (how many, time of the oldest)."""
        hashes = {token_hash(k): k for k in keys}
        now = self.clock()
        t = LoginFailure
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.key_hash, sa.func.count(), sa.func.min(t.at))
                .where(t.key_hash.in_(list(hashes)), t.at > _dt(now - window_s))
                .group_by(t.key_hash)
            ).all()
        return {hashes[h]: (int(n), _as_utc(oldest).timestamp()) for h, n, oldest in rows}

    def add_failure(self, keys: Iterable[str], window_s: float) -> None:
        """Record one failed sign-in under each key; forget failures older than `window_s`."""
        now = self.clock()
        rows = [{"key_hash": token_hash(k), "at": _dt(now)} for k in keys]
        with self.engine.begin() as conn:
            conn.execute(sa.delete(LoginFailure).where(LoginFailure.at <= _dt(now - window_s)))
            if rows:
                conn.execute(sa.insert(LoginFailure), rows)

    def clear_failures(self, key: str) -> None:
        """Forget the failures under `key` (after a successful sign-in)."""
        with self.engine.begin() as conn:
            conn.execute(sa.delete(LoginFailure).where(LoginFailure.key_hash == token_hash(key)))

    def failure_rows(self) -> int:
        """How many failure rows are stored."""
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) or 0)


def _as_utc(value: datetime | str) -> datetime:
    """A stored time as aware UTC: SQLite gives naive UTC text, PostgreSQL aware datetimes."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


__all__ = ["SessionInfo", "WebSessions", "csrf_for", "token_hash"]
