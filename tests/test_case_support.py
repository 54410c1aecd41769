"""Helpers shared by the case-layer tests: a fresh CaseStore on SQLite, and on PostgreSQL
when WHEREABOUTS_TEST_DATABASE_URL is set (each store in a schema of its own)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from whereabouts.case import CaseStore, UserInfo

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


@contextmanager
def fresh_store(backend: str, tmp: Path) -> Iterator[tuple[CaseStore, str, str | None]]:
    """A new, empty store; yields (store, target, schema) so other processes can open it."""
    os.environ.pop("WHEREABOUTS_DATABASE_URL", None)
    if backend == "sqlite":
        store = CaseStore.open(tmp)
        try:
            yield store, str(tmp), None
        finally:
            store.close()
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    store = CaseStore.open(PG_URL, schema=schema)
    try:
        yield store, PG_URL, schema
    finally:
        store.close()
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

