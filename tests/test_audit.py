"""The hash-chained audit: any one edited, removed, inserted or swapped entry is named by
`verify`, on both databases; the export is readable; two processes appending lose nothing."""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from test_case_support import BACKENDS, Opened, filled_log, fresh_store
from whereabouts.case import CaseStore
from whereabouts.case.audit import GENESIS, canonical
from whereabouts.errors import AuditIntegrityError

N = 8  # entries in the log each tampering test starts from


@pytest.fixture(params=BACKENDS)
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opened]:
    with fresh_store(request.param, tmp_path) as handle:
        yield handle


@pytest.fixture
def log(opened: Opened) -> CaseStore:
    return filled_log(opened[0], N, ["A", "B"])


def _rows(store: CaseStore) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(sa.text("SELECT * FROM audit_log ORDER BY seq")).mappings()
        ]


def _sql(store: CaseStore, sql: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def _found(store: CaseStore) -> set[tuple[str, int]]:
    report = store.audit.verify()
    assert not report.ok
    return {(p.kind, p.seq) for p in report.problems}


def test_intact_chain_recomputes_independently(log: CaseStore) -> None:
    # Recompute the chain here from the documented rule, not through the module's helper.
    prev = GENESIS
    for r in _rows(log):
        at = r["at"]
        at_text = at if isinstance(at, str) else at.strftime("%Y-%m-%d %H:%M:%S.%f")
        at_text = at_text.replace(" ", "T")[:26] + "Z"
        body = json.dumps(
            {
                "action": r["action"],
                "actor": r["actor"],
                "at": at_text,
                "case_ref": r["case_ref"],
                "detail": json.loads(r["detail"]),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        assert r["prev_hash"] == prev
        prev = hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()
        assert r["hash"] == prev
    assert log.audit.head() == (N, prev)


@pytest.mark.parametrize("seq", [1, 4, N])
def test_edited_entry_is_named(log: CaseStore, seq: int) -> None:
    _sql(log, "UPDATE audit_log SET detail = :d WHERE seq = :s", d=canonical({"n": 99}), s=seq)
    assert _found(log) == {("edited", seq)}


def test_edited_actor_is_named(log: CaseStore) -> None:
    _sql(log, "UPDATE audit_log SET actor = 'someone_else' WHERE seq = 3")
    assert _found(log) == {("edited", 3)}


@pytest.mark.parametrize("seq", [1, 5])
def test_removed_entry_is_named(log: CaseStore, seq: int) -> None:
    _sql(log, "DELETE FROM audit_log WHERE seq = :s", s=seq)
    assert _found(log) == {("removed", seq)}


def test_removed_last_entry_is_named(log: CaseStore) -> None:
    _sql(log, "DELETE FROM audit_log WHERE seq = :s", s=N)
    assert _found(log) == {("removed", N)}


def test_removed_and_renumbered_is_detected(log: CaseStore) -> None:
    _sql(log, "DELETE FROM audit_log WHERE seq = 4")
    _sql(log, "UPDATE audit_log SET seq = seq + 1000 WHERE seq > 4")
    _sql(log, "UPDATE audit_log SET seq = seq - 1001 WHERE seq > 1000")
    kinds = _found(log)
    assert ("replaced", 3) in kinds  # the break is right after seq 3


def test_inserted_entry_is_named(log: CaseStore) -> None:
    # make room at seq 4 by renumbering the tail, then forge an entry linked to seq 3
    _sql(log, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 4")
    _sql(log, "UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000")
    rows = _rows(log)
    prev = rows[2]["hash"]
    _sql(
        log,
        "INSERT INTO audit_log (seq, at, actor, action, case_ref, detail, prev_hash, hash) "
        "SELECT 4, at, 'forger', action, case_ref, detail, :p, :h FROM audit_log WHERE seq = 3",
        p=prev,
        h=hashlib.sha256(b"forged").hexdigest(),
    )
    assert ("inserted", 4) in _found(log)


def test_inserted_entry_after_head_is_named(log: CaseStore) -> None:
    last = _rows(log)[-1]
    _sql(
        log,
        "INSERT INTO audit_log (seq, at, actor, action, case_ref, detail, prev_hash, hash) "
        "SELECT :s, at, actor, action, case_ref, detail, :p, :h FROM audit_log WHERE seq = :l",
        s=N + 1,
        p=last["hash"],
        h="f" * 64,
        l=N,
    )
    assert ("inserted", N + 1) in _found(log)


@pytest.mark.parametrize(("a", "b"), [(3, 4), (2, 6), (1, N)])
def test_swapped_entries_are_named(log: CaseStore, a: int, b: int) -> None:
    cols = ["at", "actor", "action", "case_ref", "detail", "prev_hash", "hash"]
    rows = {r["seq"]: r for r in _rows(log)}
    for target, source in ((a, b), (b, a)):
        _sql(
            log,
            "UPDATE audit_log SET " + ", ".join(f"{c} = :{c}" for c in cols) + " WHERE seq = :s",  # noqa: S608  # column names of the test; values as parameters
            s=target,
            **{c: rows[source][c] for c in cols},
        )
    found = _found(log)
    assert {seq for kind, seq in found if kind == "reordered"} == {a, b}


def test_verify_can_raise(log: CaseStore) -> None:
    _sql(log, "DELETE FROM audit_log WHERE seq = 2")
    with pytest.raises(AuditIntegrityError, match="seq 2: removed"):
        log.audit.verify(raise_on_error=True)


def test_export_is_readable(log: CaseStore, tmp_path: Path) -> None:
    out = tmp_path / "audit.csv"
    text = log.audit.export(out, case_ref="C1")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "seq,at,actor,action,case_ref,purpose,detail,hash"
    assert len(lines) == N + 1 and text.splitlines() == lines
    assert "n=3; officers=A, B" in lines[3]
    data = json.loads(log.audit.export(fmt="json", actor="user1"))
    assert [e["detail"]["n"] for e in data] == [1, 4, 7]
    assert all(e["at"].endswith("Z") for e in data)


def _append_many(target: str, schema: str | None, worker: int, count: int, start: Any) -> None:
    store = CaseStore.open(target, schema=schema)
    start.wait(timeout=60)  # both processes begin appending together
    try:
        for i in range(count):
            store.audit.append(f"w{worker}", "analysis.run", "C1", {"worker": worker, "i": i})
            time.sleep(0.005)  # a little work between entries, as a real process does
    finally:
        store.close()


@pytest.mark.slow
def test_two_processes_append_at_once(opened: Opened) -> None:
    store, target, schema = opened
    count = 25
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_append_many, args=(target, schema, w, count, start)) for w in (1, 2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    report = store.audit.verify()
    assert report.ok, report.summary()
    entries = store.audit.entries()
    assert [e["seq"] for e in entries] == list(range(1, 2 * count + 1))
    for w in (1, 2):
        assert sorted(e["detail"]["i"] for e in entries if e["actor"] == f"w{w}") == list(
            range(count)
        )
    actors = [e["actor"] for e in entries]
    switches = sum(a != b for a, b in itertools.pairwise(actors))
    assert switches >= 2, "the two writers did not overlap; the test proved nothing"


def test_removed_head_is_reported(log: CaseStore) -> None:
    _sql(log, "DELETE FROM audit_head")
    assert _found(log) == {("removed", 0)}
    with pytest.raises(AuditIntegrityError, match="head record is missing"):
        log.audit.append("a", "x", None, {})


@pytest.mark.slow
def test_verify_while_another_process_appends(opened: Opened) -> None:
    store, target, schema = opened
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    proc = ctx.Process(target=_append_many, args=(target, schema, 1, 30, start))
    proc.start()
    start.wait(timeout=60)
    reports: list[Any] = []
    while proc.is_alive() and len(reports) < 500:
        reports.append(store.audit.verify())
    proc.join(timeout=120)
    assert proc.exitcode == 0
    assert all(r.ok for r in reports), [r.summary() for r in reports if not r.ok]
    assert any(0 < r.entries < 30 for r in reports), "no verify ran mid-way; nothing shown"
    assert store.audit.verify().entries == 30
