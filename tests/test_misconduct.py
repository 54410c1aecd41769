"""The misconduct record against the dated rules: forums, findings, outcomes, warnings,
referrals and publication (both databases)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from test_case_support import BACKENDS, fresh_store, staff
from whereabouts.case import CaseStore, UserInfo
from whereabouts.case.rules import add_working_days, rule_sets, rules_on
from whereabouts.errors import ParameterError, PermissionDenied, RuleError

BARRED = {
    "name": "X",
    "force": "Gwent",
    "date_of_birth": "1980-01-01",
    "rank": "PC",
    "warrant_number": "1234",
    "conduct": "met on duty for no policing reason",
    "standards_breached": "discreditable_conduct",
    "date": "2019-06-01",
}


# the env fixture: a store with case PSD-7, its investigator and its supervisor
Env = tuple[CaseStore, UserInfo, UserInfo]


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    with fresh_store(request.param, tmp_path) as (store, _t, _s):
        users = staff(store)
        store.open_case(
            "PSD-7",
            ["OFF-1", "OFF-2"],
            "2018-01-01",
            "2018-07-01",
            "misconduct",
            authorised_by="super1",
            actor=users["investigator"],
        )
        yield store, users["investigator"], users["supervisor"]


def _proven(
    store: CaseStore,
    inv: UserInfo,
    sup: UserInfo,
    status: str,
    severity: str,
    forum: str,
    on: date,
    level: str,
    officer: str = "OFF-1",
) -> None:
    m = store.misconduct
    m.start("PSD-7", officer, status, actor=inv)
    n = m.allege("PSD-7", officer, ["discreditable_conduct"], "met on duty", actor=inv)
    m.assess("PSD-7", officer, severity, actor=sup)
    m.set_forum("PSD-7", officer, forum, on, actor=sup)
    m.find("PSD-7", officer, n, proven=True, level=level, actor=sup)


def test_former_officer_only_would_have_been_dismissed(env: Env) -> None:
    store, inv, sup = env
    m = store.misconduct
    m.start("PSD-7", "OFF-1", "resigned", actor=inv)
    n = m.allege(
        "PSD-7",
        "OFF-1",
        ["discreditable_conduct", "duties_and_responsibilities"],
        "repeated meetings on duty with no policing reason",
        actor=inv,
    )
    with pytest.raises(RuleError, match="only gross misconduct is pursued against former"):
        m.assess("PSD-7", "OFF-1", "misconduct", actor=sup)
    m.assess("PSD-7", "OFF-1", "gross_misconduct", actor=sup)
    with pytest.raises(RuleError, match="goes to a hearing, not a meeting"):
        m.set_forum("PSD-7", "OFF-1", "meeting", date(2021, 6, 1), actor=sup)
    m.set_forum("PSD-7", "OFF-1", "hearing", date(2021, 6, 1), actor=sup)
    with pytest.raises(RuleError, match="gross_misconduct, not misconduct"):
        m.find("PSD-7", "OFF-1", n, proven=True, level="misconduct", actor=sup)
    m.find("PSD-7", "OFF-1", n, proven=True, level="gross_misconduct", actor=sup)
    for refused in ("dismissal_without_notice", "final_written_warning", "written_warning"):
        with pytest.raises(RuleError, match="former officer"):
            m.decide("PSD-7", "OFF-1", refused, date(2021, 6, 2), actor=sup)
    with pytest.raises(RuleError):  # not in the regulations at all
        m.decide("PSD-7", "OFF-1", "reflective_practice", date(2021, 6, 2), actor=sup)
    out = m.decide("PSD-7", "OFF-1", "would_have_been_dismissed", date(2021, 6, 2), actor=sup)
    # Wed 2 June 2021 + 5 working days = Wed 9 June
    assert out["barred_list_due"] == date(2021, 6, 9)


def test_written_warning_refused_at_gross_misconduct_hearing(env: Env) -> None:
    store, inv, sup = env
    _proven(
        store,
        inv,
        sup,
        "serving",
        "gross_misconduct",
        "hearing",
        date(2024, 3, 1),
        "gross_misconduct",
    )
    with pytest.raises(
        RuleError, match="written warning is not open to a hearing finding gross"
    ) as info:
        store.misconduct.decide("PSD-7", "OFF-1", "written_warning", date(2024, 3, 4), actor=sup)
    assert "dismissal_without_notice" in info.value.hint
    out = store.misconduct.decide(
        "PSD-7", "OFF-1", "dismissal_without_notice", date(2024, 3, 4), actor=sup
    )
    assert out["level"] == "gross_misconduct" and out["rules"] == "conduct-2020"
    assert out["barred_list_due"] == date(2024, 3, 11)


def test_meeting_outcomes_and_warning_expiry(env: Env) -> None:
    store, inv, sup = env
    m = store.misconduct
    m.start("PSD-7", "OFF-2", "serving", actor=inv)
    m.assess("PSD-7", "OFF-2", "gross_misconduct", actor=sup)
    with pytest.raises(RuleError, match="a meeting deals with misconduct, not gross_misconduct"):
        m.set_forum("PSD-7", "OFF-2", "meeting", date(2024, 1, 10), actor=sup)
    _proven(store, inv, sup, "serving", "misconduct", "meeting", date(2024, 1, 10), "misconduct")
    with pytest.raises(RuleError, match="misconduct, not gross_misconduct"):
        m.find("PSD-7", "OFF-1", 1, proven=True, level="gross_misconduct", actor=sup)
    for refused in ("dismissal_without_notice", "reduction_in_rank"):
        with pytest.raises(RuleError, match="not open to a meeting"):
            m.decide("PSD-7", "OFF-1", refused, date(2024, 1, 12), actor=sup)
    out = m.decide("PSD-7", "OFF-1", "written_warning", date(2024, 1, 31), actor=sup)
    assert out["warning_expires"] == date(2025, 7, 31)  # 18 months
    assert "barred_list_due" not in out
    assert [w["kind"] for w in m.live_warnings("OFF-1", date(2025, 7, 30))] == ["written"]
    assert m.live_warnings("OFF-1", date(2025, 7, 31)) == []


def test_final_written_warning_two_years_extendable_to_five(env: Env) -> None:
    store, inv, sup = env
    _proven(store, inv, sup, "serving", "misconduct", "meeting", date(2024, 1, 10), "misconduct")
    m = store.misconduct
    with pytest.raises(RuleError, match="at most 5 years"):
        m.decide(
            "PSD-7",
            "OFF-1",
            "final_written_warning",
            date(2024, 2, 29),
            actor=sup,
            final_warning_until=date(2029, 3, 1),
        )
    out = m.decide("PSD-7", "OFF-1", "final_written_warning", date(2024, 2, 29), actor=sup)
    assert out["warning_expires"] == date(2026, 2, 28)  # 2 years, from a leap day


def test_misconduct_hearing_needs_live_final_warning(env: Env) -> None:
    store, inv, sup = env
    m = store.misconduct
    m.start("PSD-7", "OFF-1", "serving", actor=inv)
    m.assess("PSD-7", "OFF-1", "misconduct", actor=sup)
    with pytest.raises(RuleError, match="needs a live final written warning"):
        m.set_forum("PSD-7", "OFF-1", "hearing", date(2024, 6, 1), actor=sup)
    # a final written warning from a meeting for OFF-2's case does not count for OFF-1
    _proven(
        store,
        inv,
        sup,
        "serving",
        "misconduct",
        "meeting",
        date(2023, 1, 5),
        "misconduct",
        officer="OFF-2",
    )
    m.decide("PSD-7", "OFF-2", "final_written_warning", date(2023, 1, 6), actor=sup)
    with pytest.raises(RuleError, match="live final written warning"):
        m.set_forum("PSD-7", "OFF-1", "hearing", date(2024, 6, 1), actor=sup)


def test_panel_follows_the_rules_of_the_day(env: Env) -> None:
    store, inv, sup = env
    m = store.misconduct
    for officer in ("OFF-1", "OFF-2"):
        m.start("PSD-7", officer, "serving", actor=inv)
        m.assess("PSD-7", officer, "gross_misconduct", actor=sup)
    assert "legally qualified chair" in m.set_forum(
        "PSD-7", "OFF-1", "hearing", date(2024, 5, 6), actor=sup
    )
    panel = m.set_forum("PSD-7", "OFF-2", "hearing", date(2024, 5, 7), actor=sup)
    assert "chief officer" in panel and "legally qualified adviser" in panel


def test_2025_presumption_of_dismissal(env: Env) -> None:
    store, inv, sup = env
    m = store.misconduct
    _proven(
        store,
        inv,
        sup,
        "serving",
        "gross_misconduct",
        "hearing",
        date(2025, 6, 2),
        "gross_misconduct",
    )
    with pytest.raises(RuleError, match="presumed to lead to dismissal without notice"):
        m.decide("PSD-7", "OFF-1", "final_written_warning", date(2025, 6, 4), actor=sup)
    out = m.decide(
        "PSD-7",
        "OFF-1",
        "final_written_warning",
        date(2025, 6, 4),
        actor=sup,
        exceptional_circumstances="recorded by the panel",
    )
    assert out["rules"] == "conduct-2025"
    # before 28 May 2025 the same outcome needed no exceptional circumstances
    _proven(
        store,
        inv,
        sup,
        "serving",
        "gross_misconduct",
        "hearing",
        date(2025, 5, 20),
        "gross_misconduct",
        officer="OFF-2",
    )
    assert (
        m.decide("PSD-7", "OFF-2", "reduction_in_rank", date(2025, 5, 27), actor=sup)["rules"]
        == "conduct-2024"
    )


def test_each_allegation_has_its_own_finding(env: Env) -> None:
    store, inv, sup = env
    m = store.misconduct
    m.start("PSD-7", "OFF-1", "serving", actor=inv)
    a1 = m.allege(
        "PSD-7", "OFF-1", ["discreditable_conduct"], "meetings at a remote spot", actor=inv
    )
    a2 = m.allege("PSD-7", "OFF-1", ["honesty_and_integrity"], "false duty log entries", actor=inv)
    m.assess("PSD-7", "OFF-1", "gross_misconduct", actor=sup)
    m.set_forum("PSD-7", "OFF-1", "hearing", date(2024, 9, 2), actor=sup)
    m.find("PSD-7", "OFF-1", a2, proven=False, actor=sup)
    with pytest.raises(RuleError, match="no allegation is proven"):
        m.decide("PSD-7", "OFF-1", "final_written_warning", date(2024, 9, 3), actor=sup)
    m.find("PSD-7", "OFF-1", a1, proven=True, level="misconduct", basis="admission", actor=sup)
    out = m.decide("PSD-7", "OFF-1", "written_warning", date(2024, 9, 3), actor=sup)
    assert out["level"] == "misconduct"
    rec = store.misconduct.record("PSD-7")[0]
    assert [(a["number"], a["finding"], a["level"]) for a in rec["allegations"]] == [
        (1, "proven", "misconduct"),
        (2, "not_proven", None),
    ]


def test_evidence_keeps_its_hash(env: Env, tmp_path: Path) -> None:
    store, inv, _sup = env
    m = store.misconduct
    m.start("PSD-7", "OFF-1", "serving", actor=inv)
    n = m.allege("PSD-7", "OFF-1", ["discreditable_conduct"], "meetings", actor=inv)
    doc = tmp_path / "statement.txt"
    doc.write_bytes(b"witness statement\n")
    expected = hashlib.sha256(b"witness statement\n").hexdigest()
    assert (
        m.link_evidence("PSD-7", "OFF-1", n, "document", "statement 1", path=doc, actor=inv)
        == expected
    )
    with pytest.raises(RuleError, match="does not match"):
        m.link_evidence("PSD-7", "OFF-1", n, "document", "s2", path=doc, sha256="0" * 64, actor=inv)
    with pytest.raises(ParameterError, match="SHA-256"):
        m.link_evidence("PSD-7", "OFF-1", n, "occasion", "occ-1", sha256="abc", actor=inv)
    m.link_evidence("PSD-7", "OFF-1", n, "occasion", "occ-1", sha256="A" * 64, actor=inv)
    ev = store.misconduct.record("PSD-7")[0]["allegations"][0]["evidence"]
    assert [(e["kind"], e["sha256"]) for e in ev] == [
        ("document", expected),
        ("occasion", "a" * 64),
    ]
    with pytest.raises(RuleError, match="Schedule 2"):
        m.allege("PSD-7", "OFF-1", ["rudeness"], "x", actor=inv)


def test_referrals_need_the_required_fields(env: Env) -> None:
    store, inv, sup = env
    m = store.misconduct
    _proven(
        store,
        inv,
        sup,
        "retired",
        "gross_misconduct",
        "hearing",
        date(2024, 12, 20),
        "gross_misconduct",
    )
    with pytest.raises(RuleError, match="no outcome here requires"):
        m.refer("PSD-7", "OFF-1", "barred", BARRED, actor=sup, on=date(2024, 12, 23))
    out = m.decide("PSD-7", "OFF-1", "would_have_been_dismissed", date(2024, 12, 23), actor=sup)
    # Mon 23 Dec 2024: 24, 27, 30, 31 Dec, 2 Jan (25, 26 Dec and 1 Jan are bank holidays)
    assert out["barred_list_due"] == date(2025, 1, 2)
    partial = {k: v for k, v in BARRED.items() if k != "warrant_number"}
    with pytest.raises(RuleError, match="lacks: warrant_number"):
        m.refer("PSD-7", "OFF-1", "barred", partial, actor=sup, on=date(2024, 12, 23))
    due = m.refer("PSD-7", "OFF-1", "barred", BARRED, actor=sup, on=date(2024, 12, 23), made=True)
    assert due == date(2025, 1, 2)
    audit_text = store.audit.export(fmt="json")
    assert "1980-01-01" not in audit_text and "1234" not in audit_text  # fields stored, not audited
    assert store.misconduct.record("PSD-7")[0]["referrals"][0]["complete"]


def test_advisory_list_only_for_leavers(env: Env) -> None:
    store, inv, sup = env
    m = store.misconduct
    m.start("PSD-7", "OFF-1", "serving", actor=inv)
    m.start("PSD-7", "OFF-2", "resigned", actor=inv)
    fields = {
        "name": "Y",
        "force": "F",
        "date_of_birth": "1990-02-02",
        "rank": "PC",
        "warrant_number": "77",
        "allegations": "discreditable conduct",
        "date_left": "2024-01-05",
    }
    with pytest.raises(RuleError, match="left while under investigation"):
        m.refer("PSD-7", "OFF-1", "advisory", fields, actor=sup, on=date(2024, 1, 8))
    assert m.refer("PSD-7", "OFF-2", "advisory", fields, actor=sup, on=date(2024, 1, 8)) == date(
        2024, 1, 15
    )


def test_publication_at_least_28_days_and_only_hearings(env: Env) -> None:
    store, inv, sup = env
    m = store.misconduct
    _proven(
        store,
        inv,
        sup,
        "serving",
        "gross_misconduct",
        "hearing",
        date(2024, 6, 3),
        "gross_misconduct",
    )
    with pytest.raises(RuleError, match="at least 28 days"):
        m.publish(
            "PSD-7",
            "OFF-1",
            anonymised=True,
            label="PC One",
            start=date(2024, 6, 10),
            days=14,
            actor=sup,
        )
    assert m.publish(
        "PSD-7", "OFF-1", anonymised=True, label="PC One", start=date(2024, 6, 10), actor=sup
    ) == date(2024, 7, 8)
    _proven(
        store,
        inv,
        sup,
        "serving",
        "misconduct",
        "meeting",
        date(2024, 6, 3),
        "misconduct",
        officer="OFF-2",
    )
    with pytest.raises(RuleError, match="meeting is not published"):
        m.publish(
            "PSD-7", "OFF-2", anonymised=True, label="PC Two", start=date(2024, 6, 10), actor=sup
        )


def test_only_supervisors_decide(env: Env) -> None:
    store, inv, _sup = env
    store.misconduct.start("PSD-7", "OFF-1", "serving", actor=inv)
    with pytest.raises(PermissionDenied, match="supervisor"):
        store.misconduct.assess("PSD-7", "OFF-1", "gross_misconduct", actor=inv)
    with pytest.raises(RuleError, match="no forum"):
        store.misconduct.find("PSD-7", "OFF-1", 1, proven=False, actor="super1")


def test_rules_are_dated_data() -> None:
    assert [r.id for r in rule_sets()] == ["conduct-2020", "conduct-2024", "conduct-2025"]
    assert rules_on(date(2024, 5, 6)).id == "conduct-2020"
    assert rules_on(date(2024, 5, 7)).id == "conduct-2024"
    assert rules_on(date(2025, 5, 28)).id == "conduct-2025"
    assert len(rules_on(date(2025, 6, 1)).get("standards")) == 10  # Schedule 2
    with pytest.raises(RuleError, match="no misconduct rules in force"):
        rules_on(date(2019, 1, 1))
    # Fri 23 May 2025 + 5 working days, over the 26 May bank holiday: Mon 2 June
    assert add_working_days(date(2025, 5, 23), 5) == date(2025, 6, 2)


def test_live_final_warning_opens_a_misconduct_hearing_and_can_be_extended(env: Env) -> None:
    store, inv, sup = env
    m = store.misconduct
    # first proceedings: a final written warning for OFF-1 from a meeting in January 2024
    _proven(store, inv, sup, "serving", "misconduct", "meeting", date(2024, 1, 10), "misconduct")
    m.decide("PSD-7", "OFF-1", "final_written_warning", date(2024, 1, 15), actor=sup)
    store.open_case(
        "PSD-8",
        ["OFF-1"],
        "2024-03-01",
        "2024-04-01",
        "second matter",
        authorised_by="super1",
        actor=inv,
    )
    m.start("PSD-8", "OFF-1", "serving", actor=inv)
    n = m.allege("PSD-8", "OFF-1", ["orders_and_instructions"], "left beat", actor=inv)
    m.assess("PSD-8", "OFF-1", "misconduct", actor=sup)
    m.set_forum("PSD-8", "OFF-1", "hearing", date(2024, 6, 3), actor=sup)  # FWW live: allowed
    m.find("PSD-8", "OFF-1", n, proven=True, level="misconduct", actor=sup)
    with pytest.raises(RuleError, match="at most 5 years from its issue"):
        m.decide(
            "PSD-8",
            "OFF-1",
            "extension_of_final_written_warning",
            date(2024, 6, 4),
            actor=sup,
            final_warning_until=date(2029, 1, 16),
        )
    out = m.decide(
        "PSD-8",
        "OFF-1",
        "extension_of_final_written_warning",
        date(2024, 6, 4),
        actor=sup,
        final_warning_until=date(2027, 7, 15),
    )
    assert out["warning_expires"] == date(2027, 7, 15)
    assert [w["expires_on"] for w in m.live_warnings("OFF-1", date(2026, 6, 1))] == [
        date(2027, 7, 15)
    ]
