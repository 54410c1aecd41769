"""The append-only, hash-chained audit log.

Each entry's `hash` is SHA-256 over the previous entry's hash, a newline, and the canonical
JSON (sorted keys, no spaces, UTF-8) of `{"at", "actor", "action", "case_ref", "detail"}`.
The sequence number is an index, not part of the hash: order is protected by the links, so
`verify` can tell a swapped pair from an edited entry. The `audit_head` row holds the last
sequence number and hash; every writer locks it (SQLite `BEGIN IMMEDIATE`, PostgreSQL
`SELECT … FOR UPDATE`), so concurrent appends queue and the chain stays linear. Anyone
with write access to the database could rewrite the whole chain and head, so every report
and export states the head it was made at (`AuditLog.anchor()`, written as
`audit head SEQ:HASH`); `verify(against=anchor)` then proves the log still holds that
entry with that hash, so a wipe, a cut tail or a re-hashed chain is detected.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from whereabouts.case.db import as_utc, utcnow
from whereabouts.case.models import AuditEntry, AuditHead
from whereabouts.errors import AuditIntegrityError, ParameterError
from whereabouts.outfiles import safe_values

GENESIS = "0" * 64
_LOG: sa.Table = AuditEntry.__table__  # type: ignore[assignment]
_HEAD: sa.Table = AuditHead.__table__  # type: ignore[assignment]

ProblemKind = Literal[
    "edited", "removed", "inserted", "reordered", "replaced", "unreadable", "content"
]
_ANCHOR = re.compile(r"audit head (\d+):([0-9a-f]{64})")
_BARE_ANCHOR = re.compile(r"\s*(\d+):([0-9a-f]{64})\s*")


@dataclass(frozen=True)
class Anchor:
    """The audit head at one moment: the last entry's sequence number and hash.

    Written into every report and export as `statement` ("audit head 42:9f…"); `verify`
    with it proves the log still holds that entry, unchanged.
    """

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @property
    def statement(self) -> str:
        """The text outputs carry: `audit head SEQ:HASH` (found again by `find_anchor`)."""
        return f"audit head {self}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """`SEQ:HASH`, or any text holding `audit head SEQ:HASH` (the last one in it)."""
        bare = _BARE_ANCHOR.fullmatch(text)
        found = [bare] if bare else list(_ANCHOR.finditer(text))
        if not found or found[-1] is None:
            raise ParameterError(
                "no audit head found (expected SEQ:HASH, or a report or export stating "
                "'audit head SEQ:HASH')",
                hint="give the report or export file, or the head as `whereabouts audit "
                "head` printed it (sequence number, colon, 64 hex digits)",
            )
        m = found[-1]
        return cls(int(m.group(1)), m.group(2))


SIDECAR = ".audit"  # beside an export: OUT.audit states the audit head it was made at


def state_anchor(out: Path, anchor: Anchor) -> Path:
    """Write `OUT.audit` beside an export: the audit head it was made at, and how to check
    the log still holds it. Returns that file's path."""
    from whereabouts.store import atomic

    side = Path(out).with_name(Path(out).name + SIDECAR)
    atomic.write_text(
        side,
        f"{Path(out).name} was made at {anchor.statement}.\n"
        "Check the audit log still holds it: whereabouts audit verify "
        f"WORKSPACE --against {Path(out).name}\n",
    )
    return side


def _pdf_text(path: Path) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def find_anchor(source: str | Path) -> Anchor:
    """The audit head a report or export states (its text, or a Parquet file's metadata),
    or `source` itself when it is `SEQ:HASH`."""
    text = str(source)
    if _BARE_ANCHOR.fullmatch(text):
        return Anchor.parse(text)
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParameterError(
            f"{path}: cannot read it ({exc.strerror or type(exc).__name__})",
            hint="give a report or export file, or the head as SEQ:HASH",
        ) from exc
    if data[:5] == b"%PDF-":  # the report's PDF: its text, lines joined
        text = "".join(_pdf_text(path).split())
        m = re.search(r"audithead(\d+):([0-9a-f]{64})", text)
        if m:
            return Anchor(int(m.group(1)), m.group(2))
    if data[:4] == b"PAR1":  # Parquet: the head is in the file's metadata
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        value = meta.get(b"whereabouts.audit_head")
        if value:
            return Anchor.parse(value.decode("utf-8"))
    side = path.with_name(path.name + SIDECAR)
    try:
        return Anchor.parse(data.decode("utf-8", errors="replace"))
    except ParameterError:
        if side.is_file():
            return Anchor.parse(side.read_text(encoding="utf-8", errors="replace"))
        raise ParameterError(
            f"{path}: states no audit head",
            hint="give a report or export made by whereabouts (each states 'audit head "
            "SEQ:HASH'), or the head itself as SEQ:HASH",
        ) from None


def _jsonable(value: object) -> str | list[Any]:
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    if isinstance(value, Path):
        return str(value)
    raise ParameterError(
        f"audit detail value of type {type(value).__name__} cannot be recorded",
        hint="pass strings, numbers, booleans, lists, dicts, dates or datetimes",
    )


def canonical(obj: object) -> str:
    """Canonical JSON: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )


def _at_text(at: datetime) -> str:
    return as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    prev_hash: str, at: datetime, actor: str, action: str, case_ref: str | None, detail: str
) -> str:
    """The hash of one entry given the previous hash; `detail` is its canonical JSON text."""
    body = canonical(
        {
            "at": _at_text(at),
            "actor": actor,
            "action": action,
            "case_ref": case_ref,
            "detail": json.loads(detail),
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    """One break in the chain, naming the entry by sequence number."""

    kind: ProblemKind
    seq: int
    message: str


@dataclass
class VerifyReport:
    """What `AuditLog.verify` found."""

    entries: int
    head_seq: int
    head_hash: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems

    def summary(self) -> str:
        """One line per problem, or a line saying the chain is intact."""
        if self.ok:
            return f"audit chain intact: {self.entries} entries, head {self.head_hash[:16]}"
        return "\n".join(f"seq {p.seq}: {p.kind}: {p.message}" for p in self.problems)


class EntryFilters(TypedDict, total=False):
    """The filters of `AuditLog.entries` (and of its `export`)."""

    case_ref: str | None
    actor: str | None
    action: str | None
    since: datetime | str | None
    until: datetime | str | None


class AuditLog:
    """Append, verify and export the case store's audit log."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(
        self,
        actor: str,
        action: str,
        case_ref: str | None,
        detail: dict[str, Any] | None = None,
        *,
        conn: sa.Connection | None = None,
    ) -> int:
        """Append one entry and return its sequence number.

        Pass `conn` to write inside the caller's transaction (the change and its audit
        entry then commit together).

        >>> store.audit.append("alice", "location.read", "C1", {"officers": ["A", "B"]})  # doctest: +SKIP
        """
        if conn is None:
            with self._engine.begin() as own:
                return self.append(actor, action, case_ref, detail, conn=own)
        text = canonical(detail or {})
        head_q = sa.select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)
        if conn.dialect.name == "postgresql":
            head_q = head_q.with_for_update()
        head = conn.execute(head_q).one_or_none()
        if head is None:
            raise AuditIntegrityError(
                "the audit chain's head record is missing; nothing can be appended",
                hint="restore the database from a backup and run `whereabouts audit verify`",
            )
        at = utcnow()
        seq = int(head.seq) + 1
        digest = entry_hash(head.hash, at, actor, action, case_ref, text)
        conn.execute(
            _LOG.insert().values(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                case_ref=case_ref,
                detail=text,
                prev_hash=head.hash,
                hash=digest,
            )
        )
        conn.execute(_HEAD.update().where(_HEAD.c.id == 1).values(seq=seq, hash=digest))
        return seq

    def head(self) -> tuple[int, str]:
        """The last sequence number and hash (publish it to anchor the chain)."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(_HEAD.c.seq, _HEAD.c.hash)).one()
        return int(row.seq), str(row.hash)

    def anchor(self) -> Anchor:
        """The current audit head, to state in a report or export (`anchor.statement`).

        Take it after the output's own audit entry is written, so the output anchors the
        entry that records it.
        """
        seq, digest = self.head()
        return Anchor(seq, digest)

    def entries(
        self,
        *,
        case_ref: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> list[dict[str, Any]]:
        """Entries in sequence order, optionally filtered; `detail` decoded."""
        q = sa.select(_LOG).order_by(_LOG.c.seq)
        if case_ref is not None:
            q = q.where(_LOG.c.case_ref == case_ref)
        if actor is not None:
            q = q.where(_LOG.c.actor == actor)
        if action is not None:
            q = q.where(_LOG.c.action == action)
        if since is not None:
            q = q.where(_LOG.c.at >= as_utc(since))
        if until is not None:
            q = q.where(_LOG.c.at < as_utc(until))
        with self._engine.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [{**row, "detail": json.loads(row["detail"])} for row in rows]

    def _snapshot(self) -> sa.Connection:
        """A connection that sees one consistent state of log and head, even while others
        append (SQLite: the write lock; PostgreSQL: a repeatable-read snapshot)."""
        conn = self._engine.connect()
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        return conn

    def verify(
        self, *, raise_on_error: bool = False, against: Anchor | None = None
    ) -> VerifyReport:
        """Check every link; name each edited, removed, inserted or reordered entry.

        against: a head a report or export stated; the log must still hold that entry with
        that hash (a wiped log, a cut tail or a re-hashed chain fails here even when its
        links are consistent).
        """
        with self._snapshot() as conn:
            rows = conn.execute(sa.select(_LOG).order_by(_LOG.c.seq)).all()
            head = conn.execute(sa.select(_HEAD.c.seq, _HEAD.c.hash)).one_or_none()
        if head is None:
            report = VerifyReport(len(rows), 0, GENESIS)
            report.problems = [Problem("removed", 0, "the chain's head record was removed")]
        else:
            report = VerifyReport(len(rows), int(head.seq), str(head.hash))
            report.problems = _check(rows, int(head.seq), str(head.hash))
        if against is not None:
            report.problems = _dedupe([*report.problems, *_against(rows, against)])
        if raise_on_error and not report.ok:
            raise AuditIntegrityError(
                report.summary(),
                hint="restore the database from a backup and compare the named entries; "
                "report the break to the data protection officer",
            )
        return report

    def export(
        self,
        path: str | Path | None = None,
        *,
        fmt: Literal["csv", "json"] = "csv",
        **filters: Unpack[EntryFilters],
    ) -> str:
        """A readable extract for a data protection officer: who did what, when, in which
        case, and why; written to `path` when given, and returned as text."""
        entries = self.entries(**filters)
        if fmt == "json":
            text = json.dumps(
                [{**e, "at": _at_text(e["at"])} for e in entries], indent=2, ensure_ascii=False
            )
        elif fmt == "csv":
            buf = io.StringIO()
            cols = ["seq", "at", "actor", "action", "case_ref", "purpose", "detail", "hash"]
            writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
            writer.writeheader()
            for e in entries:
                writer.writerow(
                    safe_values(
                        {
                            "seq": e["seq"],
                            "at": _at_text(e["at"]),
                            "actor": e["actor"],
                            "action": e["action"],
                            "case_ref": e["case_ref"] or "",
                            "purpose": e["detail"].get("purpose", ""),
                            "detail": _readable(e["detail"]),
                            "hash": e["hash"],
                        }
                    )
                )
            text = buf.getvalue()
        else:
            raise ParameterError(f"unknown export format {fmt!r}", hint="use csv or json")
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def _readable(detail: dict[str, Any]) -> str:
    return "; ".join(
        f"{k}={', '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in sorted(detail.items())
        if k != "purpose"
    )


def _hash_problems(rows: Sequence[Any], seqs: list[int]) -> list[Problem]:
    """Entries whose content no longer matches their hash, or cannot be read."""
    problems: list[Problem] = []
    for i, r in enumerate(rows):
        try:
            digest = entry_hash(r.prev_hash, r.at, r.actor, r.action, r.case_ref, r.detail)
        except (ValueError, TypeError, AttributeError):  # detail not JSON, a field emptied
            problems.append(
                Problem(
                    "unreadable",
                    seqs[i],
                    "detail is not valid JSON, or a field is missing (edited in the database)",
                )
            )
            continue
        if digest != r.hash:
            problems.append(
                Problem("edited", seqs[i], "content no longer matches its hash (edited)")
            )
    return problems


def _head_problems(
    seqs: list[int], hashes: list[str], pos_of_hash: dict[str, int], head_seq: int, head_hash: str
) -> list[Problem]:
    """Whether the log ends at the recorded head."""
    n = len(seqs)
    if n and (seqs[-1] != head_seq or hashes[-1] != head_hash):
        if seqs[-1] == head_seq and head_hash in pos_of_hash:
            return []  # the head's entry is there, moved: named as reordered
        if head_seq > seqs[-1]:
            missing = list(range(seqs[-1] + 1, head_seq + 1))
            return [
                Problem(
                    "removed", head_seq, f"last entries {missing} removed (head is seq {head_seq})"
                )
            ]
        return [Problem("inserted", seqs[-1], f"entry after the recorded head (seq {head_seq})")]
    if not n and head_seq:
        return [Problem("removed", head_seq, f"all {head_seq} entries removed")]
    return []


def _check(rows: Sequence[Any], head_seq: int, head_hash: str) -> list[Problem]:
    """The chain checks, on rows in sequence order (hashing is inherently sequential)."""
    n = len(rows)
    seqs = [int(r.seq) for r in rows]
    hashes = [str(r.hash) for r in rows]
    prevs = [str(r.prev_hash) for r in rows]
    pos_of_hash = {h: i for i, h in enumerate(hashes)}
    pointed = set(prevs)
    problems = _hash_problems(rows, seqs)

    tip = pos_of_hash.get(head_hash, n - 1)  # the entry the head names ends the chain
    starts = {i for i in range(n) if prevs[i] != GENESIS and prevs[i] not in pos_of_hash}
    # Not pointed to by any entry, not the last, and not just before a break: inserted.
    orphans = {
        i for i in range(n) if hashes[i] not in pointed and i != tip and (i + 1) not in starts
    }
    for i in sorted(orphans):
        problems.append(Problem("inserted", seqs[i], "entry is not part of the chain"))
    for i in sorted(starts - orphans):
        before = seqs[i - 1] if i > 0 else 0
        missing = list(range(before + 1, seqs[i]))
        if missing:
            names = ", ".join(map(str, missing))
            what = f"entries {names} removed" if len(missing) > 1 else f"entry {names} removed"
            problems.append(Problem("removed", missing[0], what))
        elif i > 0 and hashes[i - 1] not in pointed:
            problems.append(
                Problem(
                    "replaced",
                    seqs[i - 1],
                    "entry rewritten and re-hashed, or the entry after it removed and the "
                    "log renumbered",
                )
            )
        else:
            problems.append(Problem("removed", seqs[i], "an entry before this one was removed"))

    # Order: follow the links and compare with the stored order.
    chain_rows = [i for i in range(n) if i not in orphans]
    successor = {prevs[i]: i for i in chain_rows}
    order: list[int] = []
    seen: set[int] = set()
    for begin in [i for i in chain_rows if prevs[i] == GENESIS or i in starts]:
        cur: int | None = begin
        while cur is not None and cur not in seen:
            seen.add(cur)
            order.append(cur)
            cur = successor.get(hashes[cur])
    for rank, i in enumerate(sorted(order)):
        if order[rank] != i:
            j = order[rank]
            problems.append(
                Problem("reordered", seqs[j], f"entry is out of order (belongs at seq {seqs[i]})")
            )

    problems += _head_problems(seqs, hashes, pos_of_hash, head_seq, head_hash)
    return _dedupe(problems)


def _against(rows: Sequence[Any], anchor: Anchor) -> list[Problem]:
    """Whether the log still holds the entry `anchor` names, with the hash it had."""
    at = [r for r in rows if int(r.seq) == anchor.seq]
    if not at:
        later = [int(r.seq) for r in rows if int(r.seq) > anchor.seq]
        what = (
            "the log was wiped"
            if not rows
            else "entries were removed from the log"
            if later
            else "the log's tail was cut"
        )
        return [
            Problem(
                "removed",
                anchor.seq,
                f"the log no longer holds entry {anchor.seq}, the audit head the "
                f"report or export was made at: {what}",
            )
        ]
    if any(str(r.hash) == anchor.hash for r in at):
        return []
    return [
        Problem(
            "replaced",
            anchor.seq,
            f"entry {anchor.seq} now has hash {str(at[0].hash)[:16]}…, but the report "
            f"or export was made when it was {anchor.hash[:16]}…: the chain was "
            "rewritten from there or before",
        )
    ]


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[tuple[str, int]] = set()
    out: list[Problem] = []
    for p in problems:
        if (p.kind, p.seq) not in seen:
            seen.add((p.kind, p.seq))
            out.append(p)
    return sorted(out, key=lambda p: p.seq)
