"""The shipped Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from test_case_support import BACKENDS, fresh_store
from whereabouts.case.models import Base


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_models(backend: str, tmp_path: Path) -> None:
    with fresh_store(backend, tmp_path) as (store, _t, _s), store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        assert ctx.get_current_revision() == "0002"
        diff = compare_metadata(ctx, Base.metadata)
        assert diff == []


def test_reopening_keeps_data(tmp_path: Path) -> None:
    with fresh_store("sqlite", tmp_path) as (store, target, _s):
        store.audit.append("a", "x", None, {"k": 1})
        from whereabouts.case import CaseStore

        again = CaseStore.open(target)
        assert [e["detail"] for e in again.audit.entries()] == [{"k": 1}]
        again.close()
