"""Who the command line acts as: the OS user, or a named user who proves their password; the
first administrator made by `init --admin`; messages that name the right person and the
whole command."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from whereabouts.case import CaseStore
from whereabouts.case.users import os_username
from whereabouts.cli import app
from whereabouts.errors import PermissionDenied

PW = "a long enough password"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("WHEREABOUTS_USER", raising=False)
    monkeypatch.delenv("WHEREABOUTS_PASSWORD", raising=False)
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path) as folder:
        yield Path(folder) / "ws"


def cli(*args: str, stdin: str | None = None, password: str | None = None) -> Any:
    env = {"WHEREABOUTS_PASSWORD": password} if password else {}
    return CliRunner(env=env).invoke(app, list(args), input=stdin)


def test_init_makes_the_first_administrator(ws: Path) -> None:
    r = cli("init", str(ws), "--admin", "boss", stdin=f"{PW}\n{PW}\n")
    assert r.exit_code == 0, r.output
    assert "boss is its first administrator" in r.output
    assert f"whereabouts user add {ws} NAME --role ROLE --user boss" in r.output
    r = cli(
        "user",
        "add",
        str(ws),
        "sup1",
        "--role",
        "supervisor",
        "--password-stdin",
        "--user",
        "boss",
        stdin=f"{PW}\n",
        password=PW,
    )
    assert r.exit_code == 0, r.output
    store = CaseStore.open(ws)
    try:
        assert {(u.username, u.role) for u in store.list_users()} == {
            ("boss", "administrator"),
            ("sup1", "supervisor"),
        }
    finally:
        store.close()


def test_init_refuses_a_weak_password_before_making_anything(ws: Path) -> None:
    r = cli("init", str(ws), "--admin", "boss", "--password-stdin", stdin="short\n")
    assert r.exit_code != 0 and "too short" in str(r.exception)
    assert not ws.exists()


def test_a_named_user_needs_their_password_and_the_audit_says_who_proved_it(ws: Path) -> None:
    t = str(ws)
    assert cli("init", t, "--admin", "boss", "--password-stdin", stdin=PW + "\n").exit_code == 0
    # without the password (no prompt answer) and with a wrong one: refused, nothing done
    r = cli("user", "add", t, "inv1", "--role", "investigator", "--no-password", "--user", "boss")
    assert r.exit_code != 0
    r = cli(
        "user",
        "add",
        t,
        "inv1",
        "--role",
        "investigator",
        "--no-password",
        "--user",
        "boss",
        password="not the password",
    )
    assert isinstance(r.exception, PermissionDenied) and "not recognised" in str(r.exception)
    r = cli(
        "user",
        "add",
        t,
        "inv1",
        "--role",
        "investigator",
        "--no-password",
        "--user",
        "boss",
        stdin=PW + "\n",
    )  # the prompt
    assert r.exit_code == 0, r.output
    # a user made without a password cannot be acted as from the command line
    r = cli("user", "whoami", t, "--user", "inv1", password=PW)
    assert isinstance(r.exception, PermissionDenied)
    store = CaseStore.open(ws)
    try:
        logins = [e for e in store.audit.entries() if e["action"].startswith("user.login")]
        added = [e for e in store.audit.entries() if e["action"] == "user.add"]
    finally:
        store.close()
    assert [(e["action"], e["actor"]) for e in logins] == [
        ("user.login_failed", "boss"),
        ("user.login", "boss"),
        ("user.login_failed", "inv1"),
    ]
    assert all(e["detail"]["os_user"] == os_username() for e in logins)
    assert [(e["actor"], e["detail"]["username"]) for e in added] == [
        ("boss", "boss"),
        ("boss", "inv1"),
    ]


def test_the_os_user_acts_without_a_password(ws: Path) -> None:
    me = os_username()
    ws.mkdir()
    r = cli("user", "whoami", str(ws))
    assert r.exit_code == 0 and me in r.output
    r = cli("user", "whoami", str(ws), "--user", me)  # naming yourself is no impersonation
    assert r.exit_code == 0 and me in r.output


def test_the_os_user_is_not_taken_from_environment_variables(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = str(ws)
    cli("init", t, "--admin", "boss", "--password-stdin", stdin=PW + "\n")
    for var in ("USER", "LOGNAME", "USERNAME"):
        monkeypatch.setenv(var, "boss")
    assert os_username() != "boss"
    r = cli("user", "add", t, "x1", "--role", "investigator", "--no-password")
    assert isinstance(r.exception, PermissionDenied)


def test_an_unknown_authoriser_is_named_with_the_whole_command(ws: Path) -> None:
    t = str(ws)
    cli("init", t, "--admin", "boss", "--password-stdin", stdin=PW + "\n")
    cli(
        "user",
        "add",
        t,
        "inv1",
        "--role",
        "investigator",
        "--password-stdin",
        "--user",
        "boss",
        stdin=PW + "\n",
        password=PW,
    )
    r = cli(
        "case",
        "open",
        t,
        "PSD-1",
        "--subjects",
        "A,B",
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-31",
        "--purpose",
        "p",
        "--authorised-by",
        "sup1",
        "--user",
        "inv1",
        password=PW,
    )
    assert isinstance(r.exception, PermissionDenied)
    text = f"{r.exception} {r.exception.hint}"
    assert "'sup1'" in text and "add you" not in text
    assert f"whereabouts user add {t} sup1 --role supervisor" in text
