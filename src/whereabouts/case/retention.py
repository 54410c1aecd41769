"""Retention: when a closed case's derived data is archived or deleted, recorded in the audit.

The schedule is dated data in `rules/retention.toml`.
"""

from __future__ import annotations

import shutil
import tomllib
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from whereabouts.case.access import AccessMixin
from whereabouts.case.db import utcnow
from whereabouts.case.models import CaseRow
from whereabouts.errors import ParameterError, ScopeError
from whereabouts.io.files import file_sha256

RULES = Path(__file__).parent / "rules" / "retention.toml"


@cache
def _schedules() -> list[dict[str, Any]]:
    with RULES.open("rb") as f:
        return sorted(tomllib.load(f)["schedule"], key=lambda r: r["effective"])


def schedule_for(closed_on: date) -> tuple[date, date]:
    """(archive after, delete after) for a case closed on `closed_on`."""
    rules = [r for r in _schedules() if r["effective"] <= closed_on] or _schedules()[:1]
    rule = rules[-1]
    return (
        closed_on + timedelta(days=int(rule["archive_after_days"])),
        closed_on + timedelta(days=int(rule["delete_after_days"])),
    )


def due(store: AccessMixin, today: date | None = None) -> list[tuple[str, str, date]]:
    """(case ref, "archive" | "delete", due date) for closed cases whose step is due."""
    today = today or utcnow().date()
    with Session(store.engine) as s:
        rows = s.scalars(sa.select(CaseRow).where(CaseRow.status == "closed")).all()
        out: list[tuple[str, str, date]] = []
        for r in rows:
            if r.deleted_at is None and r.delete_after is not None and r.delete_after <= today:
                out.append((r.ref, "delete", r.delete_after))
            elif r.archived_at is None and r.archive_after is not None and r.archive_after <= today:
                out.append((r.ref, "archive", r.archive_after))
        return sorted(out)


def apply(
    store: AccessMixin, ref: str, action: str, *, actor: str, paths: list[Path]
) -> dict[str, Any]:
    """Archive (move under an `archive/` folder beside each path) or delete the given
    derived files of a closed case, recording each file's SHA-256 in the audit."""
    if action not in ("archive", "delete"):
        raise ParameterError(f"unknown retention action {action!r}", hint="archive or delete")
    files = [{"path": str(p), "sha256": file_sha256(p) if p.is_file() else None} for p in paths]
    with Session(store.engine, expire_on_commit=False) as s, s.begin():
        store._require_role(s, actor, "retention.apply")
        row = s.get(CaseRow, ref)
        if row is None or row.status != "closed":
            raise ScopeError(
                f"case {ref} is not closed; retention applies only to closed cases",
                hint=f"close it first: `whereabouts case close {ref} --reason WHY`",
            )
        for p in paths:
            if action == "archive":
                target = p.parent / "archive" / p.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(p, target)
            elif p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        now = utcnow()
        if action == "archive":
            row.archived_at = now
        else:
            row.deleted_at = now
        store.audit.append(actor, f"retention.{action}", ref, {"files": files}, conn=s.connection())
    return {"case": ref, "action": action, "files": files}
