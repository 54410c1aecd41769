"""Investigator decisions on occasions, kept in the case store apart from computed results.

An annotation is a note with its author and time, optionally adding a reason the analysis
did not find or rejecting one it did. They are written through the case store (audited)
and only ever *joined* to the occasions for display: `annotated_view` returns a new table
with the annotations beside the computed columns, never replacing them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.errors import NoDataError, ParameterError
from whereabouts.schema import REASONS

# the store's type of the author (the case store's: a user name or UserInfo), passed through
A_contra = TypeVar("A_contra", contravariant=True)


class AnnotationStore(Protocol[A_contra]):
    """What the case store offers for annotations (whereabouts.case.CaseStore)."""

    def annotate(
        self,
        occasion_id: str,
        case_ref: str,
        author: A_contra,
        note: str,
        reason_added: str | None = None,
        reason_rejected: str | None = None,
    ) -> int:
        """Record a note (and a reason added or rejected) on one occasion; returns its id."""

    def annotations(self, case_ref: str) -> list[dict[str, Any]]:
        """The case's annotations, oldest first."""


def annotate(
    store: AnnotationStore[A_contra],
    occasions: pa.Table,
    case_ref: str,
    occasion_id: str,
    author: A_contra,
    note: str,
    *,
    reason_added: str | None = None,
    reason_rejected: str | None = None,
) -> int:
    """Record a decision on one occasion of `occasions`; returns the annotation's id."""
    for value, what in ((reason_added, "added"), (reason_rejected, "rejected")):
        if value is not None and value not in REASONS:
            raise ParameterError(
                f"reason {what} {value!r} is not one of the reasons",
                hint=f"use one of {', '.join(REASONS)}",
            )
    ids = occasions.column("occasion_id")
    if not pc.any(pc.equal(ids, occasion_id)).as_py():
        raise NoDataError(
            f"occasion {occasion_id} is not in this analysis",
            hint="copy the occasion_id from occasions.csv of the case's run",
        )
    if reason_rejected is not None:
        row = occasions.filter(pc.equal(ids, occasion_id))
        if reason_rejected not in row.column("reasons")[0].as_py():
            raise ParameterError(
                f"occasion {occasion_id} has no reason {reason_rejected!r} to reject",
                hint="reject only a reason the analysis found",
            )
    return store.annotate(
        occasion_id,
        case_ref,
        author,
        note,
        reason_added=reason_added,
        reason_rejected=reason_rejected,
    )


def annotated_view(occasions: pa.Table, notes: list[dict[str, Any]]) -> pa.Table:
    """The occasions with `annotations` (JSON-able list) and `reasons_as_annotated` appended.

    The computed `reasons` and `explained` stay as they were; `reasons_as_annotated` applies
    the investigators' additions and rejections in order, for display beside them.
    """
    by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n in notes:
        by_id[str(n["occasion_id"])].append(n)
    texts: list[list[str]] = []
    reasons_after: list[list[str]] = []
    for oid, computed in zip(
        occasions.column("occasion_id").to_pylist(),
        occasions.column("reasons").to_pylist(),
        strict=True,
    ):
        current = list(computed)
        lines = []
        for n in by_id.get(oid, []):  # one per annotation, not per fix
            if n.get("reason_added") and n["reason_added"] not in current:
                current.append(n["reason_added"])
            if n.get("reason_rejected") in current:
                current.remove(n["reason_rejected"])
            lines.append(f"{n.get('created_at')} {n.get('author')}: {n.get('note')}")
        texts.append(lines)
        reasons_after.append(sorted(current, key=REASONS.index))
    return occasions.append_column(
        "annotations", pa.array(texts, pa.list_(pa.string()))
    ).append_column("reasons_as_annotated", pa.array(reasons_after, pa.list_(pa.string())))


__all__ = ["AnnotationStore", "annotate", "annotated_view"]
