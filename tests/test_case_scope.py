"""Cases and their scope: every refusal says why and who can authorise (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from test_case_support import BACKENDS, fresh_store, staff
from whereabouts.case import Case, CaseStore, UserInfo
from whereabouts.errors import ParameterError, PermissionDenied, ScopeError

# the case_and_users fixture: an authorised case and one user of each role
CaseAndUsers = tuple[Case, dict[str, UserInfo]]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    with fresh_store(request.param, tmp_path) as (st, _target, _schema):
        yield st


@pytest.fixture
def case_and_users(store: CaseStore) -> CaseAndUsers:
    users = staff(store)
    case = store.open_case(
        "PSD-1",
        ["OFF-1", "OFF-2"],
        "2024-03-01T00:00Z",
        "2024-04-01T00:00Z",
        "alleged meetings on duty",
        legal_basis="uk_gdpr",
        authorised_by="super1",
        actor=users["investigator"],
    )
    assert case.status == "pending"
    case = store.authorise_case("PSD-1", actor=users["supervisor"])
    return case, users


def test_a_case_awaits_its_supervisors_authorisation_before_any_read(store: CaseStore) -> None:
    users = staff(store)
    case = store.open_case(
        "PSD-2",
        ["OFF-1"],
        "2024-03-01",
        "2024-04-01",
        "p",
        authorised_by="super1",
        actor=users["investigator"],
    )
    assert case.status == "pending" and case.notice and "case authorise" in case.notice
    with pytest.raises(ScopeError, match="awaits authorisation by super1") as err:
        store.record_read(users["investigator"], "PSD-2", ["OFF-1"], "2024-03-02", "2024-03-03")
    assert "--user super1" in str(err.value)
    with pytest.raises(ScopeError, match="awaits authorisation"):
        case.require_scope(["OFF-1"], "2024-03-02", "2024-03-03")
    # neither the investigator nor another supervisor authorises it for super1
    with pytest.raises(PermissionDenied, match="names 'super1'"):
        store.authorise_case("PSD-2", actor=users["investigator"])
    store.authorise_case("PSD-2", actor="super1")
    store.record_read(users["investigator"], "PSD-2", ["OFF-1"], "2024-03-02", "2024-03-03")
    with pytest.raises(ScopeError, match="not awaiting"):
        store.authorise_case("PSD-2", actor="super1")
    entries = store.audit.entries(case_ref="PSD-2")
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("case.open", "inves1"),
        ("case.authorise", "super1"),
        ("location.read", "inves1"),
    ]


def test_case_records_its_scope(store: CaseStore, case_and_users: CaseAndUsers) -> None:
    got = store.get_case("PSD-1")
    assert got.subjects == ("OFF-1", "OFF-2")
    assert (got.start.isoformat(), got.end.isoformat()) == (
        "2024-03-01T00:00:00+00:00",
        "2024-04-01T00:00:00+00:00",
    )
    assert got.authorised_by == "super1" and got.opened_by == "inves1"
    assert got.legal_basis == "uk_gdpr" and got.status == "open" and not got.demo
    assert got.members == ("inves1", "super1")
    got.require_scope(["OFF-2", "OFF-1"], "2024-03-05", "2024-03-06")  # inside: no error


def test_refuses_other_officers(case_and_users: CaseAndUsers) -> None:
    case, _ = case_and_users
    with pytest.raises(ScopeError, match="OFF-3 are not subjects of case PSD-1") as info:
        case.require_scope(["OFF-1", "OFF-3"], "2024-03-05", "2024-03-06")
    assert "super1" in info.value.hint and "case extend PSD-1" in info.value.hint


def test_refuses_other_dates(case_and_users: CaseAndUsers) -> None:
    case, _ = case_and_users
    with pytest.raises(ScopeError, match="outside case PSD-1's authorised dates") as info:
        case.require_scope(["OFF-1"], "2024-02-28", "2024-03-02")
    assert "supervisor" in info.value.hint
    with pytest.raises(ScopeError, match="outside"):
        case.require_scope(["OFF-1"], "2024-03-31T23:00Z", "2024-04-01T00:00:01Z")
    with pytest.raises(ScopeError, match="before it starts"):
        case.require_scope(["OFF-1"], "2024-03-06", "2024-03-05")


def test_refuses_off_duty_without_extension(store: CaseStore, case_and_users: CaseAndUsers) -> None:
    case, users = case_and_users
    with pytest.raises(ScopeError, match="off-duty location data is not authorised") as info:
        case.require_scope(["OFF-1"], "2024-03-05", "2024-03-06", off_duty=True)
    assert "--off-duty" in info.value.hint
    ext = store.extend_case(
        "PSD-1",
        actor=users["investigator"],
        authority="super1",
        reason="meetings at home",
        subjects=["OFF-1"],
        start="2024-03-05",
        end="2024-03-10",
        off_duty=True,
    )
    ext.require_scope(["OFF-1"], "2024-03-05", "2024-03-06", off_duty=True)
    with pytest.raises(ScopeError, match="off-duty"):  # outside the extension's dates
        ext.require_scope(["OFF-1"], "2024-03-11", "2024-03-12", off_duty=True)
    with pytest.raises(ScopeError, match="off-duty"):  # OFF-2 not covered off duty
        ext.require_scope(["OFF-2"], "2024-03-05", "2024-03-06", off_duty=True)


def test_extensions_need_a_supervisor_and_are_recorded(
    store: CaseStore, case_and_users: CaseAndUsers
) -> None:
    _, users = case_and_users
    with pytest.raises(PermissionDenied, match="supervisor"):
        store.extend_case(
            "PSD-1",
            actor=users["investigator"],
            authority="inves1",
            reason="more",
            start="2024-04-01",
            end="2024-04-15",
        )
    with pytest.raises(ParameterError, match="reason"):
        store.extend_case("PSD-1", actor=users["investigator"], authority="super1", reason=" ")
    case = store.extend_case(
        "PSD-1",
        actor=users["investigator"],
        authority="super1",
        reason="pattern continued",
        subjects=["OFF-3"],
        start="2024-04-01",
        end="2024-04-15",
    )
    case.require_scope(["OFF-3", "OFF-1"], "2024-03-30", "2024-04-10")  # spans both periods
    assert {e.kind for e in case.extensions} == {"subjects", "period"}
    assert all(e.authority == "super1" for e in case.extensions)
    entry = store.audit.entries(action="case.extend")[-1]
    assert entry["detail"]["authority"] == "super1" and entry["detail"]["subjects"] == ["OFF-3"]


def test_closed_case_refuses_reads(store: CaseStore, case_and_users: CaseAndUsers) -> None:
    _, users = case_and_users
    closed = store.close_case("PSD-1", actor=users["investigator"], reason="hearing concluded")
    assert closed.status == "closed" and closed.closed_at is not None
    with pytest.raises(ScopeError, match="closed"):
        closed.require_scope(["OFF-1"], "2024-03-05", "2024-03-06")
    with pytest.raises(ScopeError, match="closed"):
        store.record_read(users["investigator"], "PSD-1", ["OFF-1"], "2024-03-05", "2024-03-06")


def test_record_read_checks_then_audits(store: CaseStore, case_and_users: CaseAndUsers) -> None:
    _, users = case_and_users
    before = len(store.audit.entries())
    with pytest.raises(ScopeError):
        store.record_read(users["investigator"], "PSD-1", ["OFF-9"], "2024-03-05", "2024-03-06")
    assert len(store.audit.entries()) == before  # a refused read writes nothing
    store.record_read(
        users["investigator"],
        "PSD-1",
        ["OFF-1", "OFF-2"],
        "2024-03-05",
        "2024-03-06",
        what="occasions",
    )
    e = store.audit.entries(case_ref="PSD-1", action="location.read")[-1]
    assert e["actor"] == "inves1"
    assert e["detail"]["officers"] == ["OFF-1", "OFF-2"]
    assert e["detail"]["purpose"] == "alleged meetings on duty"
    assert e["detail"]["start"] == "2024-03-05T00:00:00Z"


def test_screening_needs_its_own_authority(store: CaseStore) -> None:
    users = staff(store)
    with pytest.raises(ScopeError, match="no screening authority SCR-1"):
        store.require_screening(users["analyst"], "SCR-1", "team:T1", "2024-01-01", "2024-02-01")
    with pytest.raises(PermissionDenied, match="supervisor"):
        store.grant_screening(
            "SCR-1",
            "team:T1",
            "2024-01-01",
            "2024-03-01",
            "annual screening",
            authorised_by="analy1",
            actor=users["analyst"],
        )
    store.grant_screening(
        "SCR-1",
        "team:T1",
        "2024-01-01",
        "2024-03-01",
        "annual screening",
        authorised_by="super1",
        actor=users["analyst"],
    )
    auth = store.require_screening(users["analyst"], "SCR-1", "team:T1", "2024-01-01", "2024-02-01")
    assert auth.authorised_by == "super1"
    with pytest.raises(ScopeError, match="covers 'team:T1', not 'team:T2'"):
        store.require_screening(users["analyst"], "SCR-1", "team:T2", "2024-01-01", "2024-02-01")
    with pytest.raises(ScopeError, match="covers 2024-01-01"):
        store.require_screening(users["analyst"], "SCR-1", "team:T1", "2024-01-01", "2024-04-01")
    with pytest.raises(PermissionDenied, match="analyst"):
        store.require_screening(
            users["investigator"], "SCR-1", "team:T1", "2024-01-01", "2024-02-01"
        )


def test_embedded_demo_case_opened_on_the_spot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WHEREABOUTS_USER", raising=False)
    with fresh_store("sqlite", tmp_path) as (store, _t, _s):
        me = store.current_user()
        assert me.role == "investigator" and me.os_default and me.notice
        case = store.ensure_case(["OFF-1", "OFF-2"], "2024-03-01", "2024-03-08", "demo", me)
        assert case.demo and case.authorised_by == me.username
        assert case.notice is not None and "self-authorised" in case.notice
        again = store.ensure_case(["OFF-1"], "2024-03-02", "2024-03-03", None, me)
        assert again.ref == case.ref and again.notice is None
        with pytest.raises(ScopeError, match="no purpose"):
            store.ensure_case(["OFF-7"], "2024-03-02", "2024-03-03", None, me)


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "sqlite"])
def test_shared_server_refuses_unknown_os_user(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WHEREABOUTS_USER", raising=False)
    with (
        fresh_store(backend, tmp_path) as (store, _t, _s),
        pytest.raises(PermissionDenied, match="ask an administrator"),
    ):
        store.current_user()


def test_named_unknown_user_is_refused_even_embedded(store: CaseStore) -> None:
    with pytest.raises(PermissionDenied, match="unknown user 'ghost'"):
        store.current_user("ghost")


def test_annotations_kept_apart_and_audited(store: CaseStore, case_and_users: CaseAndUsers) -> None:
    _, users = case_and_users
    store.annotate(
        "occ-1", "PSD-1", users["investigator"], "checked with duty log", reason_added="shared_duty"
    )
    with pytest.raises(PermissionDenied):
        store.annotate("occ-1", "PSD-1", users["supervisor"], "not allowed")
    notes = store.annotations("PSD-1")
    assert [(n["occasion_id"], n["author"], n["reason_added"]) for n in notes] == [
        ("occ-1", "inves1", "shared_duty")
    ]
    assert store.audit.entries(action="annotate")[-1]["detail"]["occasion_id"] == "occ-1"


def test_legal_basis_must_be_known(store: CaseStore) -> None:
    users = staff(store)
    with pytest.raises(ParameterError, match="dpa2018_part3"):
        store.open_case(
            "C9",
            ["A"],
            "2024-01-01",
            "2024-01-02",
            "p",
            legal_basis="gdpr",
            authorised_by="super1",
            actor=users["investigator"],
        )
