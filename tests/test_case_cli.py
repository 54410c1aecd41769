"""The `user`, `case`, `audit` and `misconduct` commands on an embedded store."""

from __future__ import annotations

import csv
import io
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from whereabouts.cli import app
from whereabouts.errors import AuditIntegrityError, PermissionDenied, ScopeError

PW = "a long enough password\n"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("WHEREABOUTS_USER", raising=False)
    # acting as a named user (--user) needs their password: every test user has PW
    monkeypatch.setenv("WHEREABOUTS_PASSWORD", PW.strip())
    shm = Path("/dev/shm")  # memory-backed when available: commits need not wait for fsync
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path) as folder:
        yield Path(folder)


def run(*args: str, user: str | None = None, stdin: str | None = None) -> Result:
    argv = list(args) + (["--user", user] if user else [])
    return CliRunner().invoke(app, argv, input=stdin)


def test_users_cases_and_audit_from_the_command_line(ws: Path) -> None:
    t = str(ws)
    assert (
        run(
            "user", "add", t, "boss", "--role", "administrator", "--password-stdin", stdin=PW
        ).exit_code
        == 0
    )
    r = run(
        "user", "add", t, "sup", "--role", "supervisor", "--password-stdin", user="boss", stdin=PW
    )
    assert r.exit_code == 0, r.output
    for name, role in (("inv", "investigator"), ("aud", "auditor")):
        r = run("user", "add", t, name, "--role", role, "--password-stdin", user="boss", stdin=PW)
        assert r.exit_code == 0, r.output
    r = run("user", "add", t, "x", "--role", "analyst", "--password-stdin", user="inv", stdin=PW)
    assert isinstance(r.exception, PermissionDenied)

    r = run(
        "case",
        "open",
        t,
        "PSD-9",
        "--subjects",
        "OFF-1,OFF-2",
        "--from",
        "2024-03-01",
        "--to",
        "2024-04-01",
        "--purpose",
        "meetings on duty",
        "--authorised-by",
        "sup",
        user="inv",
    )
    assert r.exit_code == 0, r.output
    assert "OFF-1, OFF-2" in r.output and "sup" in r.output
    assert "awaiting authorisation by sup" in r.output
    assert f"whereabouts case authorise {t} PSD-9 --user sup" in r.output
    r = run("case", "authorise", t, "PSD-9", user="inv")  # only the named supervisor
    assert isinstance(r.exception, PermissionDenied) and "names 'sup'" in str(r.exception)
    r = run("case", "authorise", t, "PSD-9", user="sup")
    assert r.exit_code == 0 and "authorised by sup" in r.output, r.output
    r = run(
        "case",
        "extend",
        t,
        "PSD-9",
        "--authority",
        "inv",
        "--reason",
        "r",
        "--off-duty",
        "--from",
        "2024-03-02",
        "--to",
        "2024-03-03",
        user="inv",
    )
    assert isinstance(r.exception, PermissionDenied)
    r = run(
        "case",
        "extend",
        t,
        "PSD-9",
        "--authority",
        "sup",
        "--reason",
        "home visits",
        "--off-duty",
        "--from",
        "2024-03-02",
        "--to",
        "2024-03-03",
        user="inv",
    )
    assert r.exit_code == 0 and "off_duty" in r.output
    assert "PSD-9" in run("case", "list", t, user="inv").output
    assert isinstance(run("case", "show", t, "PSD-9", user="aud").exception, PermissionDenied)

    # the auditor verifies and exports; others may not export
    r = run("audit", "verify", t, user="aud")
    assert r.exit_code == 0 and "intact" in r.output
    assert isinstance(run("audit", "export", t, user="inv").exception, PermissionDenied)
    r = run("audit", "export", t, "--case", "PSD-9", user="aud")
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert [x["action"] for x in rows] == ["case.open", "case.authorise", "case.extend"]
    assert [x["actor"] for x in rows] == ["inv", "sup", "inv"]
    assert rows[0]["purpose"] == "meetings on duty"

    db = sqlite3.connect(ws / "cases.sqlite")
    with db:
        db.execute("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
    db.close()
    r = run("audit", "verify", t, user="aud")
    assert isinstance(r.exception, AuditIntegrityError) and "seq 2: edited" in str(r.exception)

    r = run("case", "close", t, "PSD-9", "--reason", "done", user="inv")
    assert r.exit_code == 0 and "archive after" in r.output


def test_misconduct_commands(ws: Path, tmp_path: Path) -> None:
    t = str(ws)
    run("user", "add", t, "boss", "--role", "administrator", "--password-stdin", stdin=PW)
    run("user", "add", t, "sup", "--role", "supervisor", "--password-stdin", user="boss", stdin=PW)
    run(
        "user", "add", t, "inv", "--role", "investigator", "--password-stdin", user="boss", stdin=PW
    )
    run(
        "case",
        "open",
        t,
        "C1",
        "--subjects",
        "A",
        "--from",
        "2024-01-01",
        "--to",
        "2024-02-01",
        "--purpose",
        "p",
        "--authorised-by",
        "sup",
        user="inv",
    )
    run("case", "authorise", t, "C1", user="sup")
    steps = [
        (("misconduct", "start", t, "C1", "A", "--status", "resigned"), "inv"),
        (
            (
                "misconduct",
                "allege",
                t,
                "C1",
                "A",
                "--standards",
                "discreditable_conduct",
                "--particulars",
                "met on duty",
            ),
            "inv",
        ),
        (("misconduct", "assess", t, "C1", "A", "gross_misconduct"), "sup"),
        (("misconduct", "forum", t, "C1", "A", "hearing", "--on", "2024-09-02"), "sup"),
        (
            ("misconduct", "find", t, "C1", "A", "1", "--proven", "--level", "gross_misconduct"),
            "sup",
        ),
    ]
    for args, who in steps:
        r = run(*args, user=who)
        assert r.exit_code == 0, (args, r.output, r.exception)
    r = run(
        "misconduct",
        "outcome",
        t,
        "C1",
        "A",
        "dismissal_without_notice",
        "--on",
        "2024-09-03",
        user="sup",
    )
    assert r.exception is not None and "former officer" in str(r.exception)
    r = run(
        "misconduct",
        "outcome",
        t,
        "C1",
        "A",
        "would_have_been_dismissed",
        "--on",
        "2024-09-03",
        user="sup",
    )
    assert r.exit_code == 0 and '"barred_list_due": "2024-09-10"' in r.output
    r = run("misconduct", "show", t, "C1", user="inv")
    assert '"would_have_been_dismissed"' in r.output


def test_demo_user_opens_case_on_the_spot_and_is_told(ws: Path) -> None:
    from whereabouts.case import CaseStore

    store = CaseStore.open(ws)
    me = store.current_user()
    case = store.ensure_case(["A", "B"], "2024-01-01", "2024-01-08", "demo", me)
    assert case.demo and case.notice
    r = run("case", "show", str(ws), case.ref)
    assert r.exit_code == 0 and "self-authorised" in r.output
    with pytest.raises(ScopeError):
        case.require_scope(["C"], "2024-01-01", "2024-01-02")


MY_GROUPS = (
    "init",
    "ingest",
    "status",
    "export",
    "profiles",
    "simulate",
    "demo",
    "user",
    "case",
    "audit",
    "misconduct",
)


def test_every_argument_and_option_of_these_groups_has_help() -> None:
    from whereabouts.cli.reference import commands as leaves

    commands = [(p, c) for p, c in leaves(app) if p.split()[0] in MY_GROUPS]
    assert {p.split()[0] for p, _ in commands} == set(MY_GROUPS)
    missing = [
        f"{path} {param.name}"
        for path, command in commands
        for param in command.params
        if param.name != "help" and not (getattr(param, "help", None) or "").strip()
    ]
    assert missing == []
