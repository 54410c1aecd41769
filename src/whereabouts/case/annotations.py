"""Investigators' annotations on occasions, kept apart from the computed results."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whereabouts.case.access import AccessMixin
from whereabouts.case.base import UserLike, _name
from whereabouts.case.db import utcnow
from whereabouts.case.models import Annotation
from whereabouts.errors import ParameterError


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
