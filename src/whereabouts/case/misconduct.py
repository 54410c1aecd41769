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

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from whereabouts.case.base import UserLike, _name
from whereabouts.case.models import (
    Allegation,
    Evidence,
    Outcome,
    Proceeding,
    Publication,
    Referral,
    Warning_,
)
from whereabouts.case.proceedings import Proceedings
from whereabouts.case.rules import RuleSet, add_working_days, rules_on
from whereabouts.errors import ParameterError, RuleError


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


class MisconductRecord(Proceedings):
    """Allegations, severity, forum, findings, outcomes, warnings, referrals, publication."""

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

        def go(s: Session) -> tuple[dict[str, Any], dict[str, Any]]:
            p = self._proceeding(s, ref, officer)
            level = self._proven_level(s, p)
            self._check_outcome(
                s,
                p,
                rules,
                level=level,
                outcome=outcome,
                on=on,
                exceptional_circumstances=exceptional_circumstances,
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
            expires = self._warning_of(s, p, rules, outcome, on, final_warning_until)
            if expires is not None:
                result["warning_expires"] = expires
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
    def _proven_level(s: Session, p: Proceeding) -> str:
        """The level an outcome answers: gross misconduct when any proven allegation is of
        it, else misconduct (a forum must be chosen and some allegation proven)."""
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
        return "gross_misconduct" if "gross_misconduct" in levels else "misconduct"

    def _check_outcome(
        self,
        s: Session,
        p: Proceeding,
        rules: RuleSet,
        *,
        level: str,
        outcome: str,
        on: date,
        exceptional_circumstances: str | None,
    ) -> None:
        """Refuse an outcome the rules in force do not open to this forum, level and
        officer: not among its outcomes, needing a live final written warning there is
        not, or short of gross misconduct's presumed outcome without exceptional
        circumstances recorded."""
        forum = str(p.forum)
        former = self._former(p, rules)
        if former:
            allowed = list(rules.get("former_officer", "outcomes"))
        else:
            allowed = list(rules.forum(forum)["outcomes"].get(level, []))
        if outcome not in allowed:
            raise RuleError(
                f"{outcome.replace('_', ' ')} is not open to a {forum.replace('_', ' ')} "
                f"finding {level.replace('_', ' ')}"
                + (f" against a former officer ({p.officer_status})" if former else ""),
                hint="allowed: " + ", ".join(allowed) + f" (rules {rules.id})",
            )
        live = self._live_final_warning(s, p.officer_id, on)
        if outcome in rules.get("needs_live_final_warning") and not live:
            raise RuleError(
                f"{outcome.replace('_', ' ')} needs a live final written warning",
                hint="choose another outcome",
            )
        presumed = rules.get("gross_misconduct_presumption")
        if (
            presumed
            and level == "gross_misconduct"
            and not former
            and outcome != presumed
            and not (exceptional_circumstances or "").strip()
        ):
            raise RuleError(
                f"under {rules.id} gross misconduct is presumed to lead to "
                f"{presumed.replace('_', ' ')}",
                hint="record the exceptional circumstances that justify a lesser outcome",
            )

    def _warning_of(
        self,
        s: Session,
        p: Proceeding,
        rules: RuleSet,
        outcome: str,
        on: date,
        final_warning_until: date | None,
    ) -> date | None:
        """Issue (or extend) the warning an outcome carries; its expiry, or None."""
        w = rules.get("warnings")
        if outcome == "written_warning":
            return self._warn(s, p, "written", on, _add_months(on, w["written_warning_months"]))
        if outcome == "final_written_warning":
            until = final_warning_until or _add_months(on, w["final_written_warning_months"])
            _check_final_expiry(on, until, w["final_written_warning_max_months"])
            return self._warn(s, p, "final", on, until)
        if outcome != "extension_of_final_written_warning":
            return None
        current = s.scalars(
            sa.select(Warning_)
            .where(
                Warning_.officer_id == p.officer_id,
                Warning_.kind == "final",
                Warning_.issued_on <= on,
                Warning_.expires_on > on,
            )
            .order_by(Warning_.expires_on.desc())
        ).first()
        if (
            current is None
            or final_warning_until is None
            or final_warning_until <= current.expires_on
        ):
            raise RuleError(
                "an extension needs the live final written warning and a later expiry",
                hint="give the new expiry (--until YYYY-MM-DD), after the current one",
            )
        _check_final_expiry(
            current.issued_on, final_warning_until, w["final_written_warning_max_months"]
        )
        current.expires_on = final_warning_until
        return final_warning_until

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


def _check_final_expiry(issued: date, until: date, max_months: int) -> None:
    if until > _add_months(issued, max_months):
        raise RuleError(
            f"a final written warning lasts at most {max_months // 12} years from its issue",
            hint="choose an earlier expiry",
        )
