"""`whereabouts annotate` / `whereabouts annotations` through the CLI runner: the library call
the web app uses, the acting user, role, membership and scope checks, the audit, and the
computed results left untouched."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from test_case_support import PASSWORD, PG_URL, fresh_store
from whereabouts.case import CaseStore
from whereabouts.cli import app
from whereabouts.errors import NoDataError, ParameterError, PermissionDenied, ScopeError

REF = "PSD-7"


def _t(day: int, hour: int) -> datetime:
    return datetime(2024, 3, day, hour, tzinfo=UTC)


# (id, officer_a, officer_b, start, reasons): OCC-3 has an officer outside the case's scope
OCCASIONS = [
    ("OCC-1", "OFF-1", "OFF-2", _t(2, 9), []),
    ("OCC-2", "OFF-1", "OFF-2", _t(3, 10), ["crewed"]),
    ("OCC-3", "OFF-1", "OFF-9", _t(4, 11), []),
]


def _write_run(folder: Path, case_ref: str) -> Path:
    """A run of the case written into `folder` through the run store."""
    from whereabouts.store.runs import Period, RunSummary, RunWriter

    with RunWriter.to_folder(folder) as w:
        w.table(
            "occasions",
            pa.table(
                {
                    "occasion_id": [o[0] for o in OCCASIONS],
                    "officer_a": [o[1] for o in OCCASIONS],
                    "officer_b": [o[2] for o in OCCASIONS],
                    "start": pa.array([o[3] for o in OCCASIONS], pa.timestamp("us", tz="UTC")),
                    "end": pa.array(
                        [o[3].replace(minute=20) for o in OCCASIONS], pa.timestamp("us", tz="UTC")
                    ),
                    "explained": [bool(o[4]) for o in OCCASIONS],
                    "reasons": pa.array([o[4] for o in OCCASIONS], pa.list_(pa.string())),
                    "lat": [51.6] * 3,
                    "lon": [-3.0] * 3,
                }
            ),
        )
        w.commit(
            RunSummary(
                case=case_ref,
                subjects=("OFF-1", "OFF-2"),
                period=Period(_t(1, 0), datetime(2024, 4, 1, tzinfo=UTC)),
                params={},
                crs="EPSG:27700",
                version="test",
            )
        )
    return folder


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A workspace with the case PSD-7 (OFF-1, OFF-2, March 2024), its run, and users:
    ivy (investigator on the case), olly (investigator, not on it), aud (auditor)."""
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("WHEREABOUTS_USER", raising=False)
    monkeypatch.setenv("WHEREABOUTS_PASSWORD", PASSWORD)  # --user NAME needs NAME's password
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path) as folder:
        root = Path(folder)
        store = CaseStore.open(root)
        admin = store.add_user("admin", None, "administrator")
        for name, role in (
            ("ivy", "investigator"),
            ("olly", "investigator"),
            ("sam", "supervisor"),
            ("aud", "auditor"),
        ):
            store.add_user(name, PASSWORD, role, actor=admin)
        store.open_case(
            REF,
            ["OFF-1", "OFF-2"],
            "2024-03-01",
            "2024-04-01",
            "meetings on duty",
            authorised_by="sam",
            actor="ivy",
        )
        store.authorise_case(REF, actor="sam")
        store.close()
        _write_run(root / "runs" / REF, REF)
        yield root


def cli(*args: str, user: str | None = "ivy") -> Any:
    return CliRunner().invoke(app, [*args, *(["--user", user] if user else [])])


def _notes(ws: Path) -> list[dict[str, Any]]:
    store = CaseStore.open(ws)
    try:
        return store.annotations(REF)
    finally:
        store.close()


def test_note_reason_added_and_rejected_are_recorded_apart_from_the_results(ws: Path) -> None:
    occasions = ws / "runs" / REF / "occasions.parquet"
    before = hashlib.sha256(occasions.read_bytes()).hexdigest()
    t = str(ws)
    r = cli("annotate", t, "--case", REF, "--occasion", "OCC-1", "--note", "met at the lay-by")
    assert r.exit_code == 0, r.output
    assert "OCC-1" in r.output and "by ivy" in r.output
    r = cli(
        "annotate",
        t,
        "--case",
        REF,
        "--occasion",
        "OCC-1",
        "--note",
        "log shows a call",
        "--add-reason",
        "same_incident",
    )
    assert r.exit_code == 0, r.output
    r = cli(
        "annotate",
        t,
        "--case",
        REF,
        "--occasion",
        "OCC-2",
        "--note",
        "car was off the road",
        "--reject-reason",
        "crewed",
    )
    assert r.exit_code == 0, r.output

    notes = _notes(ws)
    assert [
        (n["occasion_id"], n["author"], n["reason_added"], n["reason_rejected"]) for n in notes
    ] == [
        ("OCC-1", "ivy", None, None),
        ("OCC-1", "ivy", "same_incident", None),
        ("OCC-2", "ivy", None, "crewed"),
    ]
    assert all(abs((datetime.now(UTC) - n["created_at"]).total_seconds()) < 120 for n in notes)
    assert hashlib.sha256(occasions.read_bytes()).hexdigest() == before  # results untouched

    r = cli("annotations", t, "--case", REF, "--occasion", "OCC-1", "--format", "json")
    assert r.exit_code == 0, r.output
    listed = json.loads(r.output)
    assert [x["note"] for x in listed] == ["met at the lay-by", "log shows a call"]
    assert listed[1]["reason_added"] == "same_incident" and listed[1]["author"] == "ivy"
    table = cli("annotations", t, "--case", REF)
    assert table.exit_code == 0 and "OCC-2" in table.output and "crewed" in table.output

    store = CaseStore.open(ws)
    entries = store.audit.entries(case_ref=REF)
    store.close()
    annotated = [e for e in entries if e["action"] == "annotate"]
    assert [e["detail"]["occasion_id"] for e in annotated] == ["OCC-1", "OCC-1", "OCC-2"]
    assert all(e["actor"] == "ivy" for e in annotated)
    reads = [e for e in entries if e["action"] == "location.read"]
    assert [e["detail"]["what"] for e in reads] == ["annotations", "annotations"]


def test_refusals_record_nothing(ws: Path) -> None:
    t = str(ws)
    base = ("annotate", t, "--case", REF, "--note", "n")
    refused: list[tuple[tuple[str, ...], str | None, type[Exception], str]] = [
        (("--occasion", "OCC-1"), "aud", PermissionDenied, "auditor"),  # role
        (("--occasion", "OCC-1"), "olly", PermissionDenied, "not assigned"),  # membership
        (("--occasion", "OCC-404"), "ivy", NoDataError, "OCC-404"),
        (("--occasion", "OCC-3"), "ivy", ScopeError, "OFF-9"),  # an officer outside scope
        (("--occasion", "OCC-1", "--add-reason", "friendship"), "ivy", ParameterError, "reason"),
        (("--occasion", "OCC-1", "--reject-reason", "crewed"), "ivy", ParameterError, "crewed"),
        (
            ("--occasion", "OCC-2", "--add-reason", "premises", "--reject-reason", "crewed"),
            "ivy",
            ParameterError,
            "not both",
        ),
    ]
    for extra, user, kind, words in refused:
        r = cli(*base, *extra, user=user)
        assert isinstance(r.exception, kind), (extra, user, r.exception)
        assert words in str(r.exception), (extra, str(r.exception))
    r = cli("annotate", t, "--case", REF, "--occasion", "OCC-1", "--note", "  ")
    assert isinstance(r.exception, ParameterError)
    r = cli("annotations", t, "--case", REF, user="aud")  # auditors read the audit, not the case
    assert isinstance(r.exception, PermissionDenied)
    assert _notes(ws) == []


def test_another_cases_run_and_a_closed_case_are_refused(ws: Path) -> None:
    other = _write_run(ws / "runs" / "other", "PSD-8")
    r = cli(
        "annotate",
        str(ws),
        "--case",
        REF,
        "--occasion",
        "OCC-1",
        "--note",
        "n",
        "--occasions",
        str(other),
    )
    assert isinstance(r.exception, ScopeError) and "PSD-8" in str(r.exception)
    assert cli("case", "close", str(ws), REF, "--reason", "done").exit_code == 0
    r = cli("annotate", str(ws), "--case", REF, "--occasion", "OCC-1", "--note", "n")
    assert isinstance(r.exception, ScopeError) and "closed" in str(r.exception)
    assert _notes(ws) == []


def test_the_acting_user_comes_from_the_environment(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHEREABOUTS_USER", "ivy")
    r = cli("annotate", str(ws), "--case", REF, "--occasion", "OCC-1", "--note", "n", user=None)
    assert r.exit_code == 0, r.output
    monkeypatch.setenv("WHEREABOUTS_USER", "olly")
    r = cli("annotate", str(ws), "--case", REF, "--occasion", "OCC-1", "--note", "n", user=None)
    assert isinstance(r.exception, PermissionDenied)
    # naming ivy acts as ivy only with ivy's password
    monkeypatch.setenv("WHEREABOUTS_USER", "ivy")
    monkeypatch.setenv("WHEREABOUTS_PASSWORD", "not ivy's password")
    r = cli("annotate", str(ws), "--case", REF, "--occasion", "OCC-1", "--note", "n", user=None)
    assert isinstance(r.exception, PermissionDenied) and "not recognised" in str(r.exception)
    assert [n["author"] for n in _notes(ws)] == ["ivy"]


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="WHEREABOUTS_TEST_DATABASE_URL not set")
def test_on_a_shared_postgresql_store_the_acting_user_gives_a_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared server's case record (WHEREABOUTS_DATABASE_URL): the workspace folder still
    holds the runs; the acting user proves who they are with WHEREABOUTS_PASSWORD."""
    with fresh_store("postgresql", tmp_path) as (store, _target, schema):
        admin = store.add_user("admin", PASSWORD, "administrator")
        for name, role in (("ivy", "investigator"), ("sam", "supervisor")):
            store.add_user(name, PASSWORD, role, actor=admin)
        store.open_case(
            REF,
            ["OFF-1", "OFF-2"],
            "2024-03-01",
            "2024-04-01",
            "meetings on duty",
            authorised_by="sam",
            actor="ivy",
        )
        store.authorise_case(REF, actor="sam")
        ws = tmp_path / "ws"
        _write_run(ws / "runs" / REF, REF)
        monkeypatch.setenv("WHEREABOUTS_DATABASE_URL", PG_URL)
        monkeypatch.setenv("PGOPTIONS", f"-csearch_path={schema} -c synchronous_commit=off")
        args = ("annotate", str(ws), "--case", REF, "--occasion", "OCC-1", "--note", "n")
        monkeypatch.setenv("WHEREABOUTS_PASSWORD", "not ivy's password")
        assert isinstance(cli(*args).exception, PermissionDenied)
        monkeypatch.setenv("WHEREABOUTS_PASSWORD", PASSWORD)
        r = cli(*args)
        assert r.exit_code == 0, r.output
        assert [(n["occasion_id"], n["author"]) for n in store.annotations(REF)] == [
            ("OCC-1", "ivy")
        ]
        r = CliRunner().invoke(
            app,
            ["user", "set-password", str(ws), "--password-stdin", "--user", "ivy"],
            input="ivy's own new passphrase\n",
        )
        assert r.exit_code == 0, r.output
        store.authenticate("ivy", "ivy's own new passphrase")
