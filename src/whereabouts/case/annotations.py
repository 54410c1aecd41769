"""Investigators' annotations on occasions, kept apart from the computed results.

Each annotation's audit entry holds the SHA-256 of its content (`content_sha256`), so a
note or reason edited in the database afterwards is named by `verify_audit`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa

from whereabouts.case.access import AccessMixin
from whereabouts.case.audit import _LOG, Anchor, Problem, VerifyReport, _dedupe, canonical
from whereabouts.case.base import UserLike, _name
from whereabouts.case.db import utcnow
from whereabouts.case.models import Annotation
from whereabouts.errors import ParameterError

_CONTENT = ("occasion_id", "case_ref", "author", "note", "reason_added", "reason_rejected")


def annotation_hash(row: object) -> str:
    """SHA-256 of an annotation's content (canonical JSON of its fields but id and time)."""
    return hashlib.sha256(
        canonical({k: getattr(row, k) for k in _CONTENT}).encode("utf-8")
    ).hexdigest()


class AnnotationsMixin(AccessMixin):
    """Annotate occasions and read a case's annotations."""

    def annotate(
        self,
        occasion_id: str,
        case_ref: str,
        author: UserLike,
        note: str,
        reason_added: str | None = None,
        reason_rejected: str | None = None,
    ) -> int:
        """Record an investigator's note on an occasion (never changes computed results)."""
        if not note.strip():
            raise ParameterError("an annotation needs a note", hint="say what you found")
        with self._tx() as s:
            who = _name(author)
            self._require(s, who, "annotate", case_ref)
            row = Annotation(
                occasion_id=occasion_id,
                case_ref=case_ref,
                author=who,
                note=note,
                reason_added=reason_added,
                reason_rejected=reason_rejected,
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            self._audit(
                s,
                who,
                "annotate",
                case_ref,
                occasion_id=occasion_id,
                annotation=row.id,
                reason_added=reason_added,
                reason_rejected=reason_rejected,
                content_sha256=annotation_hash(row),
            )
            return int(row.id)

    def annotations(self, case_ref: str) -> list[dict[str, Any]]:
        """A case's annotations, oldest first, as plain dicts."""
        with self._tx() as s:
            self._case_row(s, case_ref)
            rows = s.scalars(
                sa.select(Annotation).where(Annotation.case_ref == case_ref).order_by(Annotation.id)
            ).all()
            return [
                {
                    "id": r.id,
                    "occasion_id": r.occasion_id,
                    "author": r.author,
                    "note": r.note,
                    "reason_added": r.reason_added,
                    "reason_rejected": r.reason_rejected,
                    "created_at": r.created_at,
                }
                for r in rows
            ]

    def verify_audit(self, *, against: Anchor | None = None) -> VerifyReport:
        """`audit.verify` (against a stated head, when given), plus every annotation and
        every misconduct record (case.record_hash) checked against the content hash its
        audit entry recorded: an edited note, reason, finding or outcome, one deleted, or
        one added in the database without an entry, is named."""
        from whereabouts.case.record_hash import record_problems

        report = self.audit.verify(against=against)
        with self.engine.connect() as conn:
            records = record_problems(conn)
        report.problems = _dedupe([*report.problems, *self._annotation_problems(), *records])
        return report

    def _annotation_problems(self) -> list[Problem]:
        recorded: dict[int, tuple[int, str | None]] = {}
        with self.engine.connect() as conn:
            for seq, detail in conn.execute(
                sa.select(_LOG.c.seq, _LOG.c.detail).where(_LOG.c.action == "annotate")
            ):
                try:
                    d = json.loads(detail)
                    recorded[int(d["annotation"])] = (int(seq), d.get("content_sha256"))
                except (ValueError, TypeError, KeyError):
                    continue  # an unreadable entry is named by the chain check
            rows = conn.execute(
                sa.select(*[Annotation.__table__.c[k] for k in ("id", *_CONTENT)])
            ).all()
        problems: list[Problem] = []
        present = set()
        for row in rows:
            present.add(int(row.id))
            seq, digest = recorded.get(int(row.id), (0, None))
            if seq == 0:
                problems.append(
                    Problem(
                        "inserted",
                        0,
                        f"annotation {row.id} (case "
                        f"{row.case_ref}) has no audit entry: added in the "
                        "database",
                    )
                )
            elif digest is not None and digest != annotation_hash(row):
                problems.append(
                    Problem(
                        "content",
                        seq,
                        f"annotation {row.id} (case "
                        f"{row.case_ref}, occasion {row.occasion_id}) was "
                        "edited after this entry recorded it: its note or "
                        "reasons no longer match the hash",
                    )
                )
        for ident, (seq, _) in recorded.items():
            if ident not in present:
                problems.append(
                    Problem(
                        "content",
                        seq,
                        f"annotation {ident} recorded here was deleted from the database",
                    )
                )
        return problems
