"""Property: whatever single entry of a chain is edited, removed, inserted or swapped, the
check names exactly that entry (pure check on in-memory rows, no database)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from whereabouts.case.audit import GENESIS, _check, canonical, entry_hash


@dataclass(frozen=True)
class Row:
    seq: int
    at: datetime
    actor: str
    action: str
    case_ref: str | None
    detail: str
    prev_hash: str
    hash: str


def chain(n: int) -> list[Row]:
    rows, prev = [], GENESIS
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(1, n + 1):
        detail = canonical({"i": i})
        at = t0 + timedelta(seconds=i)
        h = entry_hash(prev, at, f"u{i % 2}", "location.read", "C1", detail)
        rows.append(Row(i, at, f"u{i % 2}", "location.read", "C1", detail, prev, h))
        prev = h
    return rows


def found(rows: list[Row], head: Row) -> set[tuple[str, int]]:
    return {(p.kind, p.seq) for p in _check(rows, head.seq, head.hash)}


sizes = st.integers(min_value=2, max_value=12)


@settings(max_examples=60, deadline=None)
@given(sizes, st.data())
def test_intact_and_edited(n: int, data: st.DataObject) -> None:
    rows = chain(n)
    assert found(rows, rows[-1]) == set()
    k = data.draw(st.integers(1, n))
    rows[k - 1] = replace(rows[k - 1], detail=canonical({"i": -1}))
    assert found(rows, rows[-1]) == {("edited", k)}


@settings(max_examples=60, deadline=None)
@given(sizes, st.data())
def test_removed(n: int, data: st.DataObject) -> None:
    rows = chain(n)
    head = rows[-1]
    k = data.draw(st.integers(1, n))
    del rows[k - 1]
    assert found(rows, head) == {("removed", k)}


@settings(max_examples=60, deadline=None)
@given(sizes, st.data())
def test_swapped(n: int, data: st.DataObject) -> None:
    rows = chain(n)
    head = rows[-1]
    i = data.draw(st.integers(1, n - 1))
    j = data.draw(st.integers(i + 1, n))
    a, b = rows[i - 1], rows[j - 1]
    rows[i - 1], rows[j - 1] = replace(b, seq=i), replace(a, seq=j)
    problems = found(rows, head)
    assert {s for kind, s in problems if kind == "reordered"} == {i, j}
    assert {kind for kind, _ in problems} == {"reordered"}


@settings(max_examples=60, deadline=None)
@given(sizes, st.data())
def test_inserted(n: int, data: st.DataObject) -> None:
    rows = chain(n)
    head = rows[-1]
    k = data.draw(st.integers(1, n))  # the forged entry takes seq k; later ones move up
    prev = rows[k - 2].hash if k > 1 else GENESIS
    forged = Row(
        k,
        rows[k - 1].at,
        "forger",
        "location.read",
        "C1",
        canonical({}),
        prev,
        hashlib.sha256(b"forged").hexdigest(),
    )
    shifted = [replace(r, seq=r.seq + 1) for r in rows[k - 1 :]]
    tampered = [*rows[: k - 1], forged, *shifted]
    head = replace(head, seq=n + 1)  # even if the forger also moved the head's number
    assert ("inserted", k) in found(tampered, head)
