"""Misconduct proceedings up to the findings: allegations, evidence, severity, forum.

The outcome steps are in `misconduct.py` (`MisconductRecord` extends this class).

Each step is one transaction with its audit entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from whereabouts.case.access import AccessMixin
from whereabouts.case.base import UserLike, _name
from whereabouts.case.models import (
    Allegation,
    Evidence,
    Proceeding,
    Warning_,
)
from whereabouts.case.record_hash import record_hash
from whereabouts.case.rules import RuleSet, rules_on
from whereabouts.errors import ParameterError, RuleError
from whereabouts.io.files import require_file
from whereabouts.schema import OFFICER_STATUSES

T = TypeVar("T")


class Proceedings:
    """Allegations with their evidence, severity assessment, forum, findings."""

    def __init__(self, store: AccessMixin) -> None:
        self.store = store

    # -------------------------------------------------------------- helpers
    def _commit(self, s: Session, who: str, action: str, ref: str, **detail: object) -> None:
        self.store.audit.append(who, action, ref, detail, conn=s.connection())

    @staticmethod
    def _proceeding(s: Session, ref: str, officer: str) -> Proceeding:
        row = s.scalar(
            sa.select(Proceeding).where(
                Proceeding.case_ref == ref, Proceeding.officer_id == officer
            )
        )
        if row is None:
            raise RuleError(
                f"no misconduct proceedings for officer {officer} in case {ref}",
                hint=f"start them: `whereabouts misconduct start {ref} {officer} --status …`",
            )
        return row

    @staticmethod
    def _former(p: Proceeding, rules: RuleSet) -> bool:
        return p.officer_status in rules.get("former_officer", "statuses")

    @staticmethod
    def _live_final_warning(s: Session, officer: str, on: date) -> bool:
        return bool(
            s.scalar(
                sa.select(sa.func.count())
                .select_from(Warning_)
                .where(
                    Warning_.officer_id == officer,
                    Warning_.kind == "final",
                    Warning_.issued_on <= on,
                    Warning_.expires_on > on,
                )
            )
        )

    def _run(
        self,
        actor: UserLike,
        action: str,
        ref: str,
        fn: Callable[[Session], tuple[T, dict[str, Any]]],
    ) -> T:
        """Check the actor and case, run `fn(session)`, audit its detail; one transaction."""
        who = _name(actor)
        with Session(self.store.engine, expire_on_commit=False) as s, s.begin():
            self.store._require(s, who, action, ref if action == "misconduct.record" else None)
            self.store._case_row(s, ref)
            result, detail = fn(s)
            s.flush()  # the record as this step leaves it, hashed into its audit entry
            p = self._proceeding(s, ref, str(detail["officer"]))
            detail["content_sha256"] = record_hash(s.connection(), p.id)
            self._commit(s, who, detail.pop("_action"), ref, **detail)
        return result

    # -------------------------------------------------------------- steps
    def start(self, ref: str, officer: str, status: str, *, actor: UserLike) -> int:
        """Open proceedings against `officer` (status serving, resigned or retired)."""
        if status not in OFFICER_STATUSES:
            raise ParameterError(
                f"unknown officer status {status!r}", hint="one of: " + ", ".join(OFFICER_STATUSES)
            )

        def go(s: Session) -> tuple[int, dict[str, Any]]:
            from whereabouts.case.db import utcnow

            p = Proceeding(
                case_ref=ref, officer_id=officer, officer_status=status, created_at=utcnow()
            )
            s.add(p)
            s.flush()
            return p.id, {"_action": "misconduct.start", "officer": officer, "status": status}

        return int(self._run(actor, "misconduct.record", ref, go))

    def allege(
        self, ref: str, officer: str, standards: list[str], particulars: str, *, actor: UserLike
    ) -> int:
        """Record an allegation (standards from Schedule 2); returns its number."""
        from whereabouts.case.db import utcnow

        known = rules_on(utcnow().date()).get("standards")
        bad = sorted(set(standards) - set(known))
        if bad or not standards:
            raise RuleError(
                f"not Schedule 2 standards: {', '.join(bad) or '(none given)'}",
                hint="one or more of: " + ", ".join(known),
            )
        if not particulars.strip():
            raise ParameterError("an allegation needs its particulars", hint="say what is alleged")

        def go(s: Session) -> tuple[int, dict[str, Any]]:
            p = self._proceeding(s, ref, officer)
            n = 1 + (
                s.scalar(
                    sa.select(sa.func.max(Allegation.number)).where(
                        Allegation.proceeding_id == p.id
                    )
                )
                or 0
            )
            s.add(
                Allegation(
                    proceeding_id=p.id,
                    number=n,
                    standards=json.dumps(sorted(set(standards))),
                    particulars=particulars,
                    created_by=_name(actor),
                    created_at=utcnow(),
                )
            )
            return n, {
                "_action": "misconduct.allege",
                "officer": officer,
                "allegation": n,
                "standards": sorted(set(standards)),
            }

        return int(self._run(actor, "misconduct.record", ref, go))

    def link_evidence(
        self,
        ref: str,
        officer: str,
        allegation: int,
        kind: str,
        evidence_ref: str,
        *,
        actor: UserLike,
        sha256: str | None = None,
        path: str | Path | None = None,
        description: str = "",
    ) -> str:
        """Link an occasion or a document to an allegation, with its SHA-256 (given, or
        computed from `path`); returns the hash."""
        if kind not in ("occasion", "document"):
            raise ParameterError(f"unknown evidence kind {kind!r}", hint="occasion or document")
        if path is not None:
            require_file(Path(path))
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            if sha256 is not None and sha256.lower() != digest:
                raise RuleError(
                    f"evidence {evidence_ref}: file does not match the SHA-256 given",
                    hint="the document changed since it was hashed; use the original",
                )
            sha256 = digest
        if (
            sha256 is None
            or len(sha256) != 64
            or any(c not in "0123456789abcdef" for c in sha256.lower())
        ):
            raise ParameterError(
                "evidence needs its SHA-256 (64 hex digits)", hint="give --sha256 or --file PATH"
            )
        from whereabouts.case.db import utcnow

        def go(s: Session) -> tuple[str, dict[str, Any]]:
            p = self._proceeding(s, ref, officer)
            a = self._allegation(s, p, allegation)
            s.add(
                Evidence(
                    allegation_id=a.id,
                    kind=kind,
                    ref=evidence_ref,
                    sha256=sha256.lower(),
                    description=description,
                    added_by=_name(actor),
                    added_at=utcnow(),
                )
            )
            return sha256.lower(), {
                "_action": "misconduct.evidence",
                "officer": officer,
                "allegation": allegation,
                "kind": kind,
                "evidence": evidence_ref,
                "sha256": sha256.lower(),
            }

        return str(self._run(actor, "misconduct.record", ref, go))

    @staticmethod
    def _allegation(s: Session, p: Proceeding, number: int) -> Allegation:
        a = s.scalar(
            sa.select(Allegation).where(
                Allegation.proceeding_id == p.id, Allegation.number == number
            )
        )
        if a is None:
            raise RuleError(
                f"no allegation {number} against officer {p.officer_id} in case {p.case_ref}",
                hint="list them with `whereabouts misconduct show CASE`",
            )
        return a

    def assess(self, ref: str, officer: str, severity: str, *, actor: UserLike) -> None:
        """Record the severity assessment."""
        from whereabouts.case.db import utcnow

        rules = rules_on(utcnow().date())

        def go(s: Session) -> tuple[None, dict[str, Any]]:
            p = self._proceeding(s, ref, officer)
            if severity not in rules.get("severities"):
                raise RuleError(
                    f"unknown severity {severity!r}",
                    hint="one of: " + ", ".join(rules.get("severities")),
                )
            if self._former(p, rules) and severity not in (
                "no_case_to_answer",
                *rules.get("former_officer", "levels"),
            ):
                raise RuleError(
                    f"officer {officer} has left the force ({p.officer_status}): only gross "
                    "misconduct is pursued against former officers",
                    hint="assess as gross_misconduct or no_case_to_answer",
                )
            p.severity, p.severity_by = severity, _name(actor)
            return None, {
                "_action": "misconduct.assess",
                "officer": officer,
                "severity": severity,
                "rules": rules.id,
            }

        self._run(actor, "misconduct.decide", ref, go)

    def set_forum(self, ref: str, officer: str, forum: str, on: date, *, actor: UserLike) -> str:
        """Choose the forum (meeting, hearing, accelerated_hearing) and its date; returns
        the panel the rules in force on that date require."""
        rules = rules_on(on)
        spec = rules.forum(forum)

        def go(s: Session) -> tuple[str, dict[str, Any]]:
            p = self._proceeding(s, ref, officer)
            if p.severity not in ("misconduct", "gross_misconduct"):
                raise RuleError(
                    f"severity is {p.severity or 'not yet assessed'}: no misconduct proceedings",
                    hint="practice requiring improvement goes to the Reflective Practice Review "
                    "Process; assess severity first with `whereabouts misconduct assess`",
                )
            if self._former(p, rules) and forum not in rules.get("former_officer", "forums"):
                raise RuleError(
                    f"a former officer's case goes to a hearing, not a {forum}",
                    hint="use hearing or accelerated_hearing",
                )
            if p.severity not in spec["levels"]:
                raise RuleError(
                    f"a {forum} deals with {' or '.join(spec['levels'])}, not {p.severity}",
                    hint=_forum_hint(rules, p.severity),
                )
            if (
                forum == "hearing"
                and p.severity == "misconduct"
                and spec.get("misconduct_needs_live_final_warning")
                and not self._live_final_warning(s, officer, on)
            ):
                raise RuleError(
                    "a hearing for misconduct (not gross) needs a live final written warning",
                    hint="hold a misconduct meeting instead",
                )
            panel = (
                "appropriate authority's nominated person"
                if forum == "meeting"
                else rules.get("panel")
            )
            p.forum, p.forum_date, p.panel, p.rules = forum, on, panel, rules.id
            return panel, {
                "_action": "misconduct.forum",
                "officer": officer,
                "forum": forum,
                "date": on,
                "rules": rules.id,
            }

        return str(self._run(actor, "misconduct.decide", ref, go))

    def find(
        self,
        ref: str,
        officer: str,
        allegation: int,
        *,
        proven: bool,
        level: str | None = None,
        basis: str = "balance_of_probabilities",
        actor: UserLike,
    ) -> None:
        """Record the finding on one allegation: proven or not, and if proven, misconduct or
        gross misconduct (each allegation has its own)."""

        def go(s: Session) -> tuple[None, dict[str, Any]]:
            p = self._proceeding(s, ref, officer)
            if p.forum is None or p.forum_date is None:
                raise RuleError(
                    "no forum chosen yet", hint="set the forum before recording findings"
                )
            rules = rules_on(p.forum_date)
            if basis not in rules.get("bases"):
                raise RuleError(f"unknown basis {basis!r}", hint=" or ".join(rules.get("bases")))
            allowed = ["misconduct", "gross_misconduct"]
            if p.forum == "meeting":
                allowed = ["misconduct"]
            if self._former(p, rules):
                allowed = list(rules.get("former_officer", "levels"))
            if proven and level not in allowed:
                raise RuleError(
                    f"a proven allegation at this {p.forum.replace('_', ' ')} is "
                    f"{' or '.join(allowed)}, not {level}",
                    hint="former officers: only gross misconduct; a meeting: only misconduct",
                )
            a = self._allegation(s, p, allegation)
            a.finding = "proven" if proven else "not_proven"
            a.level = level if proven else None
            a.basis, a.found_by = basis, _name(actor)
            return None, {
                "_action": "misconduct.finding",
                "officer": officer,
                "allegation": allegation,
                "finding": a.finding,
                "level": a.level,
                "basis": basis,
            }

        self._run(actor, "misconduct.decide", ref, go)


def _forum_hint(rules: RuleSet, severity: str | None) -> str:
    fitting = [name for name, spec in rules.get("forums").items() if severity in spec["levels"]]
    return "for " + str(severity).replace("_", " ") + " use: " + ", ".join(fitting)
