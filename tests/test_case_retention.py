"""Retention: closing sets the schedule; archiving and deleting are recorded in the audit."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from test_case_support import BACKENDS, fresh_store, staff
from whereabouts.case.db import utcnow
from whereabouts.errors import PermissionDenied, ScopeError


@pytest.mark.parametrize("backend", BACKENDS)
def test_retention_schedule_and_audit(backend: str, tmp_path: Path) -> None:
    with fresh_store(backend, tmp_path / "db") as (store, _t, _s):
        users = staff(store)
        store.open_case(
            "R1",
            ["A"],
            "2024-01-01",
            "2024-02-01",
            "p",
            authorised_by="super1",
            actor=users["investigator"],
        )
        run = tmp_path / "runs" / "R1"
        run.mkdir(parents=True)
        (run / "occasions.csv").write_bytes(b"occasion_id\nocc-1\n")
        with pytest.raises(ScopeError, match="not closed"):
            store.apply_retention(
                "R1", "archive", actor=users["administrator"], paths=[run / "occasions.csv"]
            )
        case = store.close_case("R1", actor=users["investigator"], reason="finished")
        today = utcnow().date()
        assert case.archive_after == today + timedelta(days=90)
        assert case.delete_after == today + timedelta(days=6 * 365)
        assert store.retention_due(today) == []
        assert store.retention_due(today + timedelta(days=90)) == [
            ("R1", "archive", case.archive_after)
        ]
        with pytest.raises(PermissionDenied, match="administrator or supervisor"):
            store.apply_retention("R1", "archive", actor=users["investigator"], paths=[])
        result = store.apply_retention(
            "R1", "archive", actor=users["administrator"], paths=[run / "occasions.csv"]
        )
        assert not (run / "occasions.csv").exists()
        assert (run / "archive" / "occasions.csv").exists()
        digest = hashlib.sha256(b"occasion_id\nocc-1\n").hexdigest()
        assert result["files"][0]["sha256"] == digest
        entry = store.audit.entries(action="retention.archive")[-1]
        assert entry["case_ref"] == "R1" and entry["detail"]["files"][0]["sha256"] == digest
        assert store.retention_due(today + timedelta(days=91)) == []
        assert store.audit.verify().ok
