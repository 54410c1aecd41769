"""Helpers shared by the case-layer tests: a fresh CaseStore on SQLite, and on PostgreSQL
when WHEREABOUTS_TEST_DATABASE_URL is set (one migrated schema per test process, its tables emptied before each test)."""

from __future__ import annotations

import atexit
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from whereabouts.case import CaseStore, UserInfo
from whereabouts.case.audit import GENESIS
from whereabouts.case.models import Base

# what fresh_store yields: (store, target, schema)
Opened = tuple[CaseStore, str, str | None]

PG_URL = os.environ.get("WHEREABOUTS_TEST_DATABASE_URL", "").strip()
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="WHEREABOUTS_TEST_DATABASE_URL not set"),
        ],
    ),
]
PASSWORD = "correct horse battery"
_SHM = Path("/dev/shm")


@contextmanager
def fresh_store(backend: str, tmp: Path) -> Iterator[tuple[CaseStore, str, str | None]]:
    """A new, empty store; yields (store, target, schema) so other processes can open it."""
    os.environ.pop("WHEREABOUTS_DATABASE_URL", None)
    if backend == "sqlite":
        # Commits wait for fsync; on a busy shared disk that dominates the run, so use
        # memory-backed storage when the machine has it (the code path is the same).
        with tempfile.TemporaryDirectory(dir=_SHM if _SHM.is_dir() else tmp) as folder:
            store = CaseStore.open(folder)
            try:
                yield store, folder, None
            finally:
                store.close()
        return
    # Test data need not survive a power cut: do not wait for the WAL flush on commit.
    os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")
    schema = _pg_schema()
    _pg_clean(schema)
    store = CaseStore.open(PG_URL, schema=schema)
    try:
        yield store, PG_URL, schema
    finally:
        store.close()


_SCHEMA: list[str] = []


def _pg_schema() -> str:
    """One migrated schema per test process (dropped at exit); tests clean its tables."""
    if not _SCHEMA:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        CaseStore.open(PG_URL, schema=schema).close()
        _SCHEMA.append(schema)
        atexit.register(_pg_drop, schema)
    return _SCHEMA[0]


def _pg_clean(schema: str) -> None:
    engine = sa.create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as conn:
        tables = [t for t in Base.metadata.sorted_tables if t.name != "audit_head"]
        conn.exec_driver_sql(
            "TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"
        )
        conn.exec_driver_sql("DELETE FROM audit_head")  # a test may have removed the row
        conn.execute(
            sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :g)"), {"g": GENESIS}
        )
    engine.dispose()


def _pg_drop(schema: str) -> None:
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def staff(store: CaseStore, *, passwords: bool = False) -> dict[str, UserInfo]:
    """One user of each role (admin first); passwords only when asked (argon2 is slow)."""
    pw = PASSWORD if passwords else None
    admin = store.add_user("admin", pw, "administrator")
    users = {"administrator": admin}
    for role in ("investigator", "analyst", "supervisor", "auditor"):
        users[role] = store.add_user(role[:5] + "1", pw, role, actor=admin)
    return users


def filled_log(store: CaseStore, n: int, officers: list[str]) -> CaseStore:
    """`store` with `n` location reads in its audit log (three users, case C1), verified."""
    for i in range(1, n + 1):
        store.audit.append(f"user{i % 3}", "location.read", "C1", {"n": i, "officers": officers})
    assert store.audit.verify().ok
    return store
