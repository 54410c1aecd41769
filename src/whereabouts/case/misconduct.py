"""The misconduct record, from allegation to outcome, checked against the dated rules.

    m = store.misconduct
    m.start("PSD-1", "OFF-1", "resigned", actor=sup)
    n = m.allege("PSD-1", "OFF-1", ["discreditable_conduct"], "met PC Two on duty …", actor=inv)
    m.link_evidence("PSD-1", "OFF-1", n, "occasion", "occ-3f2a…", sha256=…, actor=inv)
    m.assess("PSD-1", "OFF-1", "gross_misconduct", actor=sup)
    m.set_forum("PSD-1", "OFF-1", "hearing", date(2024, 9, 2), actor=sup)
    m.find("PSD-1", "OFF-1", n, proven=True, level="gross_misconduct", actor=sup)
    m.decide("PSD-1", "OFF-1", "would_have_been_dismissed", date(2024, 9, 4), actor=sup)

Each step is one transaction with its audit entry. Personal details given for a Barred or
Advisory List referral are stored in the record but never written to the audit or errors.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from whereabouts.case.models import (
    Allegation,
    Evidence,
    Outcome,
    Proceeding,
    Publication,
    Referral,
    Warning_,
)
from whereabouts.case.rules import RuleSet, add_working_days, rules_on
from whereabouts.errors import ParameterError, RuleError
from whereabouts.schema import OFFICER_STATUSES

if TYPE_CHECKING:
    from whereabouts.case.store import CaseStore, UserLike


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


class MisconductRecord:
    """Allegations, severity, forum, findings, outcomes, warnings, referrals, publication."""

    def __init__(self, store: CaseStore) -> None:
        self.store = store

    # -------------------------------------------------------------- helpers
    def _commit(self, s: Session, who: str, action: str, ref: str, **detail: Any) -> None:
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

    def _run(self, actor: UserLike, action: str, ref: str, fn: Any) -> Any:
        """Check the actor and case, run `fn(session)`, audit its detail; one transaction."""
        from whereabouts.case.store import _name

        who = _name(actor)
        with Session(self.store.engine, expire_on_commit=False) as s, s.begin():
            self.store._require(s, who, action, ref if action == "misconduct.record" else None)
            self.store._case_row(s, ref)
            result, detail = fn(s)
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
        from whereabouts.case.store import _name

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
        from whereabouts.case.store import _name

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
        from whereabouts.case.store import _name

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
        from whereabouts.case.store import _name

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

    def decide(
        self,
        ref: str,
        officer: str,
        outcome: str,
        on: date,
        *,
        actor: UserLike,
        exceptional_circumstances: str | None = None,
        final_warning_until: date | None = None,
    ) -> dict[str, Any]:
        """Record the outcome, checked against the forum, the findings, the officer's status
        and the rules in force on `on`; issues warnings and opens a Barred List referral
        (due in 5 working days) when the outcome requires one."""
        rules = rules_on(on)
        from whereabouts.case.store import _name

        def go(s: Session) -> tuple[dict[str, Any], dict[str, Any]]:
            p = self._proceeding(s, ref, officer)
            if p.forum is None:
                raise RuleError("no forum chosen yet", hint="set the forum first")
            levels = s.scalars(
                sa.select(Allegation.level).where(
                    Allegation.proceeding_id == p.id, Allegation.finding == "proven"
                )
            ).all()
            if not levels:
                raise RuleError(
                    "no allegation is proven: no outcome can be imposed",
                    hint="record findings first; if none is proven the proceedings end there",
                )
            level = "gross_misconduct" if "gross_misconduct" in levels else "misconduct"
            if self._former(p, rules):
                allowed = list(rules.get("former_officer", "outcomes"))
            else:
                allowed = list(rules.forum(p.forum)["outcomes"].get(level, []))
            if outcome not in allowed:
                raise RuleError(
                    f"{outcome.replace('_', ' ')} is not open to a {p.forum.replace('_', ' ')} "
                    f"finding {level.replace('_', ' ')}"
                    + (
                        f" against a former officer ({p.officer_status})"
                        if self._former(p, rules)
                        else ""
                    ),
                    hint="allowed: " + ", ".join(allowed) + f" (rules {rules.id})",
                )
            live = self._live_final_warning(s, officer, on)
            if outcome in rules.get("needs_live_final_warning") and not live:
                raise RuleError(
                    f"{outcome.replace('_', ' ')} needs a live final written warning",
                    hint="choose another outcome",
                )
            presumed = rules.get("gross_misconduct_presumption")
            if (
                presumed
                and level == "gross_misconduct"
                and not self._former(p, rules)
                and outcome != presumed
                and not (exceptional_circumstances or "").strip()
            ):
                raise RuleError(
                    f"under {rules.id} gross misconduct is presumed to lead to "
                    f"{presumed.replace('_', ' ')}",
                    hint="record the exceptional circumstances that justify a lesser outcome",
                )
            s.add(
                Outcome(
                    proceeding_id=p.id,
                    outcome=outcome,
                    decided_on=on,
                    decided_by=_name(actor),
                    rules=rules.id,
                )
            )
            result: dict[str, Any] = {"outcome": outcome, "level": level, "rules": rules.id}
            w = rules.get("warnings")
            if outcome == "written_warning":
                result["warning_expires"] = self._warn(
                    s, p, "written", on, _add_months(on, w["written_warning_months"])
                )
            elif outcome in ("final_written_warning", "extension_of_final_written_warning"):
                until = final_warning_until or _add_months(on, w["final_written_warning_months"])
                if until > _add_months(on, w["final_written_warning_max_months"]):
                    raise RuleError(
                        "a final written warning lasts at most "
                        f"{w['final_written_warning_max_months'] // 12} years",
                        hint="choose an earlier expiry",
                    )
                result["warning_expires"] = self._warn(s, p, "final", on, until)
            if outcome in rules.get("barred_list", "outcomes"):
                due = add_working_days(on, int(rules.get("barred_list", "due_working_days")))
                s.add(Referral(proceeding_id=p.id, list_name="barred", fields="{}", due_on=due))
                result["barred_list_due"] = due
            detail = {
                "_action": "misconduct.outcome",
                "officer": officer,
                **result,
                "exceptional_circumstances": bool(exceptional_circumstances),
            }
            return result, detail

        return dict(self._run(actor, "misconduct.decide", ref, go))

    @staticmethod
    def _warn(s: Session, p: Proceeding, kind: str, on: date, until: date) -> date:
        s.add(
            Warning_(
                proceeding_id=p.id,
                officer_id=p.officer_id,
                kind=kind,
                issued_on=on,
                expires_on=until,
            )
        )
        return until

    def refer(
        self,
        ref: str,
        officer: str,
        list_name: str,
        fields: dict[str, str],
        *,
        actor: UserLike,
        on: date,
        made: bool = False,
    ) -> date:
        """Record a Barred or Advisory List referral with the fields the regulations require;
        returns its due date. Field values are stored, never audited."""
        rules = rules_on(on)
        if list_name not in ("barred", "advisory"):
            raise ParameterError(f"unknown list {list_name!r}", hint="barred or advisory")
        required = list(rules.get(f"{list_name}_list", "fields"))
        missing = [f for f in required if not str(fields.get(f, "")).strip()]
        if missing:
            raise RuleError(
                f"{list_name} list referral lacks: {', '.join(missing)}",
                hint="the regulations require: " + ", ".join(required),
            )

        def go(s: Session) -> tuple[date, dict[str, Any]]:
            p = self._proceeding(s, ref, officer)
            if list_name == "advisory" and not self._former(p, rules):
                raise RuleError(
                    "the Advisory List is for officers who left while under investigation",
                    hint="serving officers who are dismissed go to the Barred List",
                )
            row = s.scalar(
                sa.select(Referral).where(
                    Referral.proceeding_id == p.id, Referral.list_name == list_name
                )
            )
            if list_name == "barred" and row is None:
                raise RuleError(
                    "no outcome here requires a Barred List referral",
                    hint="dismissal and 'would have been dismissed' do",
                )
            if row is None:
                due = add_working_days(on, int(rules.get("advisory_list", "due_working_days")))
                row = Referral(proceeding_id=p.id, list_name=list_name, due_on=due, fields="{}")
                s.add(row)
            row.fields = json.dumps({k: fields[k] for k in required})
            row.made_on = on if made else None
            return row.due_on, {
                "_action": f"misconduct.referral.{list_name}",
                "officer": officer,
                "fields": required,
                "due": row.due_on,
                "made": made,
            }

        return self._run(actor, "misconduct.decide", ref, go)

    def publish(
        self,
        ref: str,
        officer: str,
        *,
        anonymised: bool,
        label: str,
        start: date,
        days: int | None = None,
        actor: UserLike,
    ) -> date:
        """Record the publication notice of a hearing outcome; returns the last day shown."""
        rules = rules_on(start)
        spec = rules.get("publication")
        days = days if days is not None else int(spec["min_days"])
        if days < int(spec["min_days"]):
            raise RuleError(
                f"hearing outcomes are published for at least {spec['min_days']} days",
                hint=f"give --days {spec['min_days']} or more",
            )
        if not label.strip():
            raise ParameterError("a publication needs a label", hint="e.g. 'PC One' or 'Mr A'")

        def go(s: Session) -> tuple[date, dict[str, Any]]:
            from datetime import timedelta

            p = self._proceeding(s, ref, officer)
            if p.forum not in spec["forums"]:
                raise RuleError(
                    f"a {p.forum or 'case without a forum'} is not published",
                    hint="only hearing and accelerated hearing outcomes are",
                )
            until = start + timedelta(days=days)
            s.add(
                Publication(
                    proceeding_id=p.id,
                    anonymised=anonymised,
                    label=label,
                    publish_from=start,
                    publish_until=until,
                )
            )
            return until, {
                "_action": "misconduct.publication",
                "officer": officer,
                "anonymised": anonymised,
                "from": start,
                "until": until,
            }

        return self._run(actor, "misconduct.decide", ref, go)

    # -------------------------------------------------------------- reading
    def live_warnings(self, officer: str, on: date) -> list[dict[str, Any]]:
        """Warnings live for `officer` on `on`."""
        with Session(self.store.engine) as s:
            rows = s.scalars(
                sa.select(Warning_).where(
                    Warning_.officer_id == officer,
                    Warning_.issued_on <= on,
                    Warning_.expires_on > on,
                )
            ).all()
            return [
                {"kind": w.kind, "issued_on": w.issued_on, "expires_on": w.expires_on} for w in rows
            ]

    def record(self, ref: str) -> list[dict[str, Any]]:
        """The whole record of a case, one dict per officer (no referral field values)."""
        with Session(self.store.engine) as s:
            out = []
            for p in s.scalars(
                sa.select(Proceeding)
                .where(Proceeding.case_ref == ref)
                .order_by(Proceeding.officer_id)
            ):
                allegations = []
                for a in s.scalars(
                    sa.select(Allegation)
                    .where(Allegation.proceeding_id == p.id)
                    .order_by(Allegation.number)
                ):
                    ev = s.scalars(
                        sa.select(Evidence)
                        .where(Evidence.allegation_id == a.id)
                        .order_by(Evidence.id)
                    ).all()
                    allegations.append(
                        {
                            "number": a.number,
                            "standards": json.loads(a.standards),
                            "particulars": a.particulars,
                            "finding": a.finding,
                            "level": a.level,
                            "basis": a.basis,
                            "evidence": [
                                {
                                    "kind": e.kind,
                                    "ref": e.ref,
                                    "sha256": e.sha256,
                                    "description": e.description,
                                }
                                for e in ev
                            ],
                        }
                    )
                outcomes = s.scalars(sa.select(Outcome).where(Outcome.proceeding_id == p.id)).all()
                refs = s.scalars(sa.select(Referral).where(Referral.proceeding_id == p.id)).all()
                pubs = s.scalars(
                    sa.select(Publication).where(Publication.proceeding_id == p.id)
                ).all()
                out.append(
                    {
                        "officer_id": p.officer_id,
                        "status": p.officer_status,
                        "severity": p.severity,
                        "forum": p.forum,
                        "forum_date": p.forum_date,
                        "panel": p.panel,
                        "rules": p.rules,
                        "allegations": allegations,
                        "outcomes": [
                            {"outcome": o.outcome, "decided_on": o.decided_on, "rules": o.rules}
                            for o in outcomes
                        ],
                        "referrals": [
                            {
                                "list": r.list_name,
                                "due_on": r.due_on,
                                "made_on": r.made_on,
                                "complete": r.fields != "{}",
                            }
                            for r in refs
                        ],
                        "publications": [
                            {
                                "anonymised": x.anonymised,
                                "label": x.label,
                                "from": x.publish_from,
                                "until": x.publish_until,
                            }
                            for x in pubs
                        ],
                    }
                )
            return out


def _forum_hint(rules: RuleSet, severity: str | None) -> str:
    fitting = [name for name, spec in rules.get("forums").items() if severity in spec["levels"]]
    return "for " + str(severity).replace("_", " ") + " use: " + ", ".join(fitting)
