"""An audit that holds against someone with write access to the database: a wipe, a cut
tail, a re-hashed chain are each caught against the head a report stated; `verify` names
entries it cannot read instead of crashing; annotations edited in the database are named."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from test_case_support import BACKENDS, Opened, filled_log, fresh_store, staff
from whereabouts.case import CaseStore
from whereabouts.case.audit import GENESIS, Anchor, canonical, find_anchor
from whereabouts.errors import ParameterError

N = 8


@pytest.fixture(params=BACKENDS)
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opened]:
    with fresh_store(request.param, tmp_path) as handle:
        yield handle


@pytest.fixture
def log(opened: Opened) -> CaseStore:
    return filled_log(opened[0], N, ["A"])


def _sql(store: CaseStore, sql: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def _rehash_all(store: CaseStore) -> None:
    """What an attacker with the documented rule does: recompute every link and the head."""
    with store.engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_log ORDER BY seq")).mappings().all()
        prev = GENESIS
        for r in rows:
            at = r["at"]
            at_text = at if isinstance(at, str) else at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if isinstance(at, str):  # SQLite keeps the text the module wrote
                at_text = at.replace(" ", "T").replace("+00:00", "")
                at_text = at_text if at_text.endswith("Z") else at_text + "Z"
            body = canonical(
                {
                    "at": at_text,
                    "actor": r["actor"],
                    "action": r["action"],
                    "case_ref": r["case_ref"],
                    "detail": {"forged": True},
                }
            )
            digest = hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()
            conn.execute(
                sa.text(
                    "UPDATE audit_log SET detail = :d, prev_hash = :p, hash = :h WHERE seq = :s"
                ),
                {"d": canonical({"forged": True}), "p": prev, "h": digest, "s": r["seq"]},
            )
            prev = digest
        conn.execute(sa.text("UPDATE audit_head SET hash = :h"), {"h": prev})


def test_anchor_reads_back_from_text_and_as_given(log: CaseStore, tmp_path: Path) -> None:
    anchor = log.audit.anchor()
    assert anchor.seq == N
    assert Anchor.parse(str(anchor)) == anchor
    report = tmp_path / "report.html"
    report.write_text(f"<p>Made at {anchor.statement}.</p>")
    assert find_anchor(report) == anchor
    assert find_anchor(str(anchor)) == anchor
    with pytest.raises(ParameterError, match="states no audit head"):
        find_anchor(Path(__file__))
    assert log.audit.verify(against=anchor).ok


def test_a_wiped_log_is_detected_against_a_report(log: CaseStore) -> None:
    anchor = log.audit.anchor()
    _sql(log, "DELETE FROM audit_log")
    _sql(log, "UPDATE audit_head SET seq = 0, hash = :g", g=GENESIS)
    assert log.audit.verify().ok  # the links alone cannot tell
    report = log.audit.verify(against=anchor)
    assert [(p.kind, p.seq) for p in report.problems] == [("removed", N)]
    assert "wiped" in report.summary()


def test_a_cut_tail_is_detected_against_a_report(log: CaseStore) -> None:
    anchor = log.audit.anchor()
    _sql(log, "DELETE FROM audit_log WHERE seq > 5")
    with log.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT hash FROM audit_log WHERE seq = 5")).one()
    _sql(log, "UPDATE audit_head SET seq = 5, hash = :h", h=row.hash)
    assert log.audit.verify().ok
    report = log.audit.verify(against=anchor)
    assert ("removed", N) in {(p.kind, p.seq) for p in report.problems}
    assert "tail was cut" in report.summary()
    # an earlier report's head is still there: that report's log is whole
    assert log.audit.verify(against=Anchor(5, row.hash)).ok


def test_a_rewritten_chain_is_detected_against_a_report(log: CaseStore) -> None:
    anchor = log.audit.anchor()
    _rehash_all(log)
    assert log.audit.verify().ok  # consistent links, forged content
    report = log.audit.verify(against=anchor)
    assert [(p.kind, p.seq) for p in report.problems] == [("replaced", N)]
    assert "rewritten" in report.summary()


def test_detail_that_is_not_json_is_named_not_a_crash(log: CaseStore) -> None:
    _sql(log, "UPDATE audit_log SET detail = '{not json' WHERE seq = 3")
    report = log.audit.verify()
    assert ("unreadable", 3) in {(p.kind, p.seq) for p in report.problems}


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_log SET seq = seq + 100",  # every row renumbered
        "UPDATE audit_log SET seq = seq * 10",  # gaps everywhere
        "UPDATE audit_log SET seq = 20 - seq",  # reversed
    ],
)
def test_renumbered_rows_are_named_not_a_crash(log: CaseStore, sql: str) -> None:
    _sql(log, sql)
    report = log.audit.verify()
    assert not report.ok
    assert report.summary()


def test_verify_cli_against_a_report_and_a_head(
    opened: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = opened[0]
    if not store.embedded:
        pytest.skip("the command line test uses the workspace's own SQLite store")
    from typer.testing import CliRunner

    from test_case_support import PASSWORD
    from whereabouts.cli import app

    staff(store, passwords=True)
    monkeypatch.setenv("WHEREABOUTS_PASSWORD", PASSWORD)
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    anchor = store.audit.anchor()
    report = tmp_path / "report.html"
    report.write_text(f"<footer>{anchor.statement}</footer>")
    runner = CliRunner()
    ok = runner.invoke(
        app, ["audit", "verify", opened[1], "--against", str(report), "--user", "audit1"]
    )
    assert ok.exit_code == 0, ok.output
    assert f"still holds entry {anchor.seq}" in ok.output
    _sql(store, "DELETE FROM audit_log")
    _sql(store, "UPDATE audit_head SET seq = 0, hash = :g", g=GENESIS)
    bad = runner.invoke(
        app, ["audit", "verify", opened[1], "--against", str(anchor), "--user", "audit1"]
    )
    assert bad.exit_code != 0
    assert f"no longer holds entry {anchor.seq}" in str(bad.exception)


def _annotated(store: CaseStore) -> tuple[str, int]:
    users = staff(store)
    store.open_case(
        "PSD-1",
        ["OFF-1", "OFF-2"],
        "2024-03-01",
        "2024-04-01",
        "alleged meetings on duty",
        legal_basis="uk_gdpr",
        authorised_by="super1",
        actor=users["investigator"],
    )
    store.authorise_case("PSD-1", actor=users["supervisor"])
    return "PSD-1", store.annotate(
        "occ-1",
        "PSD-1",
        users["investigator"],
        "seen together at the lay-by",
        reason_added="shared_duty",
    )


def test_an_annotation_edited_in_the_database_is_named(opened: Opened) -> None:
    store = opened[0]
    _ref, ident = _annotated(store)
    assert store.verify_audit().ok
    entry = [e for e in store.audit.entries(action="annotate")][-1]
    assert len(entry["detail"]["content_sha256"]) == 64
    _sql(store, "UPDATE annotations SET note = 'nothing to see' WHERE id = :i", i=ident)
    report = store.verify_audit()
    assert [(p.kind, p.seq) for p in report.problems] == [("content", entry["seq"])]
    assert f"annotation {ident}" in report.summary()
    assert store.audit.verify().ok  # the chain alone could not tell


def test_an_added_reason_edited_or_an_annotation_deleted_is_named(opened: Opened) -> None:
    store = opened[0]
    _ref, ident = _annotated(store)
    _sql(store, "UPDATE annotations SET reason_added = 'same_incident' WHERE id = :i", i=ident)
    assert {p.kind for p in store.verify_audit().problems} == {"content"}
    _sql(store, "DELETE FROM annotations WHERE id = :i", i=ident)
    assert "was deleted" in store.verify_audit().summary()


def _decided(store: CaseStore) -> None:
    """A misconduct record from allegation to outcome (a written warning)."""
    from datetime import date

    users = staff(store)
    inv, sup = users["investigator"], users["supervisor"]
    store.open_case(
        "PSD-7",
        ["OFF-1"],
        "2018-01-01",
        "2018-07-01",
        "misconduct",
        authorised_by="super1",
        actor=inv,
    )
    m = store.misconduct
    m.start("PSD-7", "OFF-1", "serving", actor=inv)
    n = m.allege("PSD-7", "OFF-1", ["discreditable_conduct"], "met on duty", actor=inv)
    m.assess("PSD-7", "OFF-1", "misconduct", actor=sup)
    m.set_forum("PSD-7", "OFF-1", "meeting", date(2024, 1, 10), actor=sup)
    m.find("PSD-7", "OFF-1", n, proven=True, level="misconduct", actor=sup)
    m.decide("PSD-7", "OFF-1", "written_warning", date(2024, 1, 31), actor=sup)


@pytest.mark.parametrize(
    ("sql", "what"),
    [
        ("UPDATE outcomes SET outcome = 'management_advice'", "an outcome changed"),
        ("UPDATE allegations SET finding = 'not_proven', level = NULL", "a finding reversed"),
        ("UPDATE allegations SET particulars = 'nothing'", "the particulars rewritten"),
        ("DELETE FROM warnings", "the warning removed"),
    ],
)
def test_a_misconduct_decision_edited_in_the_database_is_named(
    opened: Opened, sql: str, what: str
) -> None:
    """Every misconduct step's audit entry holds the hash of the whole record as the step
    left it; the latest must match the record now, so each edit is named (the chain alone
    cannot tell)."""
    store = opened[0]
    _decided(store)
    assert store.verify_audit().ok
    last = store.audit.entries(case_ref="PSD-7")[-1]
    assert last["action"] == "misconduct.outcome" and len(last["detail"]["content_sha256"]) == 64
    _sql(store, sql)
    report = store.verify_audit()
    assert [(p.kind, p.seq) for p in report.problems] == [("content", last["seq"])], what
    assert "misconduct record of officer OFF-1 in case PSD-7 was edited" in report.summary()
    assert store.audit.verify().ok


def test_a_misconduct_record_deleted_or_inserted_is_named(opened: Opened) -> None:
    store = opened[0]
    _decided(store)
    _sql(
        store,
        "INSERT INTO proceedings (case_ref, officer_id, officer_status, created_at) "
        "VALUES ('PSD-7', 'OFF-9', 'serving', '2018-01-01 00:00:00')",
    )
    assert "officer OFF-9 in case PSD-7 has no audit entry" in store.verify_audit().summary()
    for table in (
        "evidence",
        "warnings",
        "outcomes",
        "allegations",
        "referrals",
        "publications",
        "proceedings",
    ):
        _sql(store, f"DELETE FROM {table}")  # noqa: S608  # fixed names
    assert "officer OFF-1 in case PSD-7 recorded here was deleted" in store.verify_audit().summary()
