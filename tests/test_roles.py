"""Each role's allowed and refused actions, through the store (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from test_case_support import BACKENDS, PASSWORD, fresh_store, staff
from whereabouts.case import ACTIONS, CaseStore
from whereabouts.errors import PermissionDenied

# The access policy, written out independently of roles.ACTIONS (least privilege).
EXPECTED: dict[str, set[str]] = {
    "investigator": {
        "case.open",
        "case.view",
        "case.close",
        "location.read",
        "analysis.run",
        "report.write",
        "report.read",
        "annotate",
        "export",
        "misconduct.record",
    },
    "analyst": {
        "case.view",
        "location.read",
        "analysis.run",
        "report.read",
        "annotate",
        "screening.run",
    },
    "supervisor": {
        "case.open",
        "case.authorise",
        "case.view",
        "case.close",
        "report.read",
        "screening.authorise",
        "misconduct.record",
        "misconduct.decide",
        "retention.apply",
    },
    "auditor": {"audit.read", "audit.verify"},
    "administrator": {"audit.verify", "user.manage", "retention.apply", "export.table"},
}


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    with fresh_store(request.param, tmp_path) as (st, _target, _schema):
        yield st


def test_every_action_is_in_the_policy() -> None:
    assert set(ACTIONS) == set().union(*EXPECTED.values())


def test_each_role_allowed_and_refused(store: CaseStore) -> None:
    users = staff(store)
    wrong: list[str] = []
    for role, user in users.items():
        for action in ACTIONS:
            try:
                store.require(user, action)
                allowed = True
            except PermissionDenied as exc:
                allowed = False
                assert "ask a user with the role" in str(exc)
            if allowed != (action in EXPECTED[role]):
                wrong.append(f"{role}:{action}:{allowed}")
    assert wrong == []


def test_refusal_names_who_can(store: CaseStore) -> None:
    users = staff(store)
    with pytest.raises(PermissionDenied, match="supervisor") as info:
        store.require(users["analyst"], "case.authorise")
    assert "analy1" in str(info.value)


def test_case_actions_need_membership(store: CaseStore) -> None:
    users = staff(store)
    case = store.open_case(
        "C1",
        ["OFF-1", "OFF-2"],
        "2024-01-01",
        "2024-02-01",
        "test",
        authorised_by="super1",
        actor=users["investigator"],
    )
    store.require(users["investigator"], "location.read", case.ref)
    with pytest.raises(PermissionDenied, match="not assigned to case C1"):
        store.require(users["analyst"], "location.read", case.ref)
    store.assign(case.ref, "analy1", actor=users["investigator"])
    store.require(users["analyst"], "location.read", case.ref)
    # an auditor reads the audit, never the location data, even when assigned
    with pytest.raises(PermissionDenied):
        store.assign(case.ref, "audit1", actor=users["analyst"])
    store.assign(case.ref, "audit1", actor=users["supervisor"])
    with pytest.raises(PermissionDenied, match="auditor"):
        store.record_read(users["auditor"], case.ref, ["OFF-1"], "2024-01-02", "2024-01-03")


def test_only_administrators_manage_users(store: CaseStore) -> None:
    users = staff(store)
    with pytest.raises(PermissionDenied, match="administrator"):
        store.add_user("x1", PASSWORD, "analyst", actor=users["supervisor"])
    with pytest.raises(PermissionDenied):
        store.add_user("x2", PASSWORD, "analyst")  # no actor once an administrator exists
    store.set_role("analy1", "investigator", actor=users["administrator"])
    assert store.get_user("analy1").role == "investigator"
    with pytest.raises(PermissionDenied, match="unknown role"):
        store.set_role("analy1", "chief", actor=users["administrator"])


def test_investigator_cannot_authorise_own_case_on_shared_store(store: CaseStore) -> None:
    users = staff(store)
    with pytest.raises(PermissionDenied, match="cannot authorise their own case"):
        store.open_case(
            "C2", ["OFF-1"], "2024-01-01", "2024-01-02", "p", actor=users["investigator"]
        )
    with pytest.raises(PermissionDenied, match="supervisor"):
        store.open_case(
            "C3",
            ["OFF-1"],
            "2024-01-01",
            "2024-01-02",
            "p",
            authorised_by="analy1",
            actor=users["investigator"],
        )
    with pytest.raises(PermissionDenied, match="analyst"):
        store.open_case(
            "C4",
            ["OFF-1"],
            "2024-01-01",
            "2024-01-02",
            "p",
            authorised_by="super1",
            actor=users["analyst"],
        )


def test_passwords_are_hashed_and_checked(store: CaseStore) -> None:
    admin = store.add_user("admin", PASSWORD, "administrator")
    store.add_user("analy1", PASSWORD, "analyst", actor=admin)
    assert store.authenticate("analy1", PASSWORD).role == "analyst"
    with pytest.raises(PermissionDenied, match="not recognised"):
        store.authenticate("analy1", "wrong password")
    with pytest.raises(PermissionDenied, match="not recognised"):
        store.authenticate("nobody", PASSWORD)
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users")).scalars().all()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    actions = [e["action"] for e in store.audit.entries()]
    assert actions.count("user.login_failed") == 2
    assert PASSWORD not in store.audit.export(fmt="json")
