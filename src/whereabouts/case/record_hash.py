"""Content hashes of misconduct records, so a decision edited in the database is found.

Every misconduct step (start, allegation, evidence, severity, forum, finding, outcome,
referral, publication) writes its audit entry with `content_sha256`: the SHA-256 of the
whole record of that officer in that case as the step left it (the proceeding, its
allegations with their findings, evidence, outcomes, warnings, referrals and publications;
every column, read back from the database). The latest entry of each record must match the
record as it is now: `record_problems` names a record edited (a finding, outcome or
particulars changed in SQL), one with no entry (inserted in the database) and one whose
entries outlive it (deleted). Referral fields are personal: they are hashed, never shown.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa

from whereabouts.case.audit import _LOG, Problem, canonical
from whereabouts.case.models import (
    Allegation,
    Evidence,
    Outcome,
    Proceeding,
    Publication,
    Referral,
    Warning_,
)


def _t(model: type) -> sa.Table:
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return table


_PARTS: tuple[tuple[str, sa.Table], ...] = (
    ("allegations", _t(Allegation)),
    ("outcomes", _t(Outcome)),
    ("warnings", _t(Warning_)),
    ("referrals", _t(Referral)),
    ("publications", _t(Publication)),
)


def _rows(
    conn: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool]
) -> list[dict[str, Any]]:
    return [
        dict(r) for r in conn.execute(sa.select(table).where(where).order_by(table.c.id)).mappings()
    ]


def record_hash(conn: sa.Connection, proceeding_id: int) -> str:
    """SHA-256 of the misconduct record of one proceeding, as the database holds it."""
    proceeding = _t(Proceeding)
    record: dict[str, Any] = {
        "proceeding": _rows(conn, proceeding, proceeding.c.id == proceeding_id)
    }
    for name, table in _PARTS:
        record[name] = _rows(conn, table, table.c.proceeding_id == proceeding_id)
    ids = [a["id"] for a in record["allegations"]]
    evidence = _t(Evidence)
    record["evidence"] = _rows(conn, evidence, evidence.c.allegation_id.in_(ids))
    return hashlib.sha256(canonical(record).encode("utf-8")).hexdigest()


def record_problems(conn: sa.Connection) -> list[Problem]:
    """Every misconduct record checked against the hash its latest audit entry recorded."""
    latest: dict[tuple[str | None, str], tuple[int, str | None]] = {}
    for seq, ref, detail in conn.execute(
        sa.select(_LOG.c.seq, _LOG.c.case_ref, _LOG.c.detail)
        .where(_LOG.c.action.like("misconduct.%"))
        .order_by(_LOG.c.seq)
    ):
        try:
            d = json.loads(detail)
            latest[(ref, str(d["officer"]))] = (int(seq), d.get("content_sha256"))
        except (ValueError, TypeError, KeyError):
            continue  # an unreadable entry is named by the chain check
    proceeding = _t(Proceeding)
    problems: list[Problem] = []
    present = set()
    for pid, ref, officer in conn.execute(
        sa.select(proceeding.c.id, proceeding.c.case_ref, proceeding.c.officer_id).order_by(
            proceeding.c.id
        )
    ):
        present.add((ref, officer))
        seq, digest = latest.get((ref, officer), (0, None))
        if seq == 0:
            problems.append(
                Problem(
                    "inserted",
                    0,
                    f"the misconduct record of officer {officer} "
                    f"in case {ref} has no audit entry: added in the database",
                )
            )
        elif digest is not None and digest != record_hash(conn, pid):
            problems.append(
                Problem(
                    "content",
                    seq,
                    f"the misconduct record of officer "
                    f"{officer} in case {ref} was edited after this entry "
                    "recorded it: an allegation, finding, outcome, warning, "
                    "referral or publication no longer matches the hash",
                )
            )
    for (ref, officer), (seq, digest) in latest.items():
        if digest is not None and (ref, officer) not in present:
            problems.append(
                Problem(
                    "content",
                    seq,
                    f"the misconduct record of officer "
                    f"{officer} in case {ref} recorded here was deleted from "
                    "the database",
                )
            )
    return problems


__all__ = ["record_hash", "record_problems"]
