"""Where the case record lives: SQLite in the workspace by default, PostgreSQL by URL.

`connect(target)` returns an SQLAlchemy engine with the schema migrated to the latest
revision (Alembic, shipped in `case/migrations`). SQLite transactions start with
`BEGIN IMMEDIATE` so two processes writing at once queue on the database lock instead of
failing half-way; PostgreSQL writers serialise on the audit head row (`SELECT … FOR UPDATE`).
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from whereabouts.errors import WorkspaceError

if TYPE_CHECKING:
    import sqlite3

ENV_URL = "WHEREABOUTS_DATABASE_URL"
SQLITE_NAME = "cases.sqlite"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# One advisory-lock key for schema migrations on PostgreSQL ("whereab" in ASCII).
_MIGRATION_LOCK = 0x7768657265616208


def resolve_url(target: str | os.PathLike[str] | None) -> str:
    """The database URL for a workspace folder or URL; WHEREABOUTS_DATABASE_URL overrides.

    >>> resolve_url("postgresql+psycopg://u:p@host/db")
    'postgresql+psycopg://u:p@host/db'
    """
    env = os.environ.get(ENV_URL, "").strip()
    if env:
        return env
    if target is None:
        raise WorkspaceError(
            "no case database given",
            hint=f"pass a workspace folder or a database URL, or set {ENV_URL}",
        )
    text = os.fspath(target)
    if "://" in text:
        return text
    folder = Path(text)
    if not folder.is_dir():
        raise WorkspaceError(
            f"workspace folder {text!r} does not exist",
            hint="create it with `whereabouts init FOLDER` or give a database URL",
        )
    return f"sqlite:///{(folder / SQLITE_NAME).resolve()}"


def is_sqlite(engine: Engine) -> bool:
    """True when the engine is the embedded SQLite default."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, schema: str | None = None, immediate: bool = True) -> Engine:
    """An engine for `url`; `schema` (PostgreSQL only) puts every table in that schema.

    `immediate=False` (SQLite only) leaves every statement its own transaction, without
    taking the write lock first: for single-statement work such as looking up a web session,
    where a read should not queue behind another process's audit commit.
    """
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 60.0}
        engine = sa.create_engine(url, **kwargs)
        _sqlite_immediate(engine, begin=immediate)
        return engine
    if schema is not None:
        if not _SCHEMA_NAME.match(schema):
            raise WorkspaceError(
                f"schema name {schema!r} is not a plain lower-case identifier",
                hint="use letters, digits and underscores, starting with a letter",
            )
        # keep any PGOPTIONS the user set: an explicit `options` would replace them
        extra = os.environ.get("PGOPTIONS", "").strip()
        kwargs["connect_args"] = {"options": f"-csearch_path={schema} {extra}".strip()}
    try:
        engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
    except (sa.exc.ArgumentError, ModuleNotFoundError) as exc:
        raise WorkspaceError(
            f"cannot use database URL for dialect {url.split(':', 1)[0]!r}",
            hint="use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB",
        ) from exc
    if schema is not None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    return engine


def _sqlite_immediate(engine: Engine, *, begin: bool = True) -> None:
    """Make every SQLite transaction take the write lock at BEGIN (no upgrade deadlocks);
    with `begin=False` only the connection settings (each statement then autocommits)."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        # Write-ahead logging: one fsync per commit of the log, not of the database, which
        # halves the cost of the audit entry every read of location data writes.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    if not begin:
        return

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision; safe when several processes open at once."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond."""
    return datetime.now(UTC)


def as_utc(value: datetime | str) -> datetime:
    """A timezone-aware UTC datetime from a datetime or ISO 8601 text (naive means UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise WorkspaceError(
                f"time {value!r} is not ISO 8601",
                hint="write times like 2024-03-01T08:00:00Z or 2024-03-01",
            ) from exc
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (stored naive UTC) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """A time as stored: in UTC, without its zone on SQLite."""
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """A stored time read back as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
