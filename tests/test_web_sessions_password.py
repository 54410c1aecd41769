"""`whereabouts user set-password`: a user made from the command line (or the local OS user,
made with no password) gets a password and can then sign in to the web app."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from test_web_support import test_client_class
from whereabouts.case import CaseStore
from whereabouts.case.users import acting_name
from whereabouts.cli import app
from whereabouts.errors import ParameterError, PermissionDenied
from whereabouts.web import create_app

NEW = "lamp post by the river"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("WHEREABOUTS_USER", raising=False)
    monkeypatch.setenv("WHEREABOUTS_PASSWORD", NEW)  # `--user boss` proves boss's password
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path) as folder:
        yield Path(folder)


def cli(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=stdin)


def _sign_in(ws: Path, user: str, password: str) -> int:
    web = create_app(ws)
    try:
        r = test_client_class()(web).post(
            "/api/session", json={"username": user, "password": password}
        )
        return int(r.status_code)
    finally:
        web.state.sessions.db.close()


def test_the_local_user_sets_a_password_and_signs_in(ws: Path) -> None:
    me, _ = acting_name()
    r = cli("user", "whoami", str(ws))  # the OS user is created, with no password
    assert r.exit_code == 0 and me in r.output
    assert _sign_in(ws, me, NEW) == 401
    r = cli("user", "set-password", str(ws), stdin=f"{NEW}\n{NEW}\n")  # prompt + confirmation
    assert r.exit_code == 0, r.output
    assert "policy" in r.output and NEW not in r.output
    assert _sign_in(ws, me, NEW) == 200
    assert _sign_in(ws, me, NEW + "x") == 401
    store = CaseStore.open(ws)
    entry = [e for e in store.audit.entries() if e["action"] == "user.password"][-1]
    assert entry["actor"] == me and entry["detail"]["username"] == me
    with store.engine.connect() as conn:  # only an argon2id hash is stored
        stored = conn.scalar(
            sa.text("SELECT password_hash FROM users WHERE username = :u"), {"u": me}
        )
        dump = "\n".join(conn.connection.driver_connection.iterdump())  # type: ignore[union-attr]
    store.close()
    assert stored.startswith("$argon2id$") and NEW not in dump


def test_confirmation_must_match_and_the_policy_holds(ws: Path) -> None:
    t = str(ws)
    cli("user", "whoami", t)
    me, _ = acting_name()
    r = cli("user", "set-password", t, stdin=f"{NEW}\n{NEW} but different\n")
    assert r.exit_code != 0 and _sign_in(ws, me, NEW) == 401
    assert (
        cli(
            "user",
            "add",
            t,
            "boss",
            "--role",
            "administrator",
            "--password-stdin",
            stdin=NEW + "\n",
        ).exit_code
        == 0
    )
    assert (
        cli(
            "user",
            "add",
            t,
            "pc.jones",
            "--role",
            "investigator",
            "--no-password",
            "--user",
            "boss",
        ).exit_code
        == 0
    )
    for bad, words in (
        ("short1", "too short"),
        (" " * 12, "only spaces"),
        ("PC.Jones", "user name"),
        ("x" * 1001, "too long"),
    ):
        r = cli(
            "user",
            "set-password",
            t,
            "pc.jones",
            "--password-stdin",
            "--user",
            "boss",
            stdin=bad + "\n",
        )
        assert isinstance(r.exception, ParameterError), (bad, r.output)
        assert words in str(r.exception) and "at least 8" in r.exception.hint
        assert bad.strip() == "" or bad not in str(r.exception) + r.exception.hint
    store = CaseStore.open(ws)
    assert not [e for e in store.audit.entries() if e["action"] == "user.password"]
    store.close()


def test_an_administrator_sets_another_users_password_and_others_may_not(ws: Path) -> None:
    t = str(ws)
    assert (
        cli(
            "user",
            "add",
            t,
            "boss",
            "--role",
            "administrator",
            "--password-stdin",
            stdin=NEW + "\n",
        ).exit_code
        == 0
    )
    for name in ("ivy", "olly"):
        r = cli("user", "add", t, name, "--role", "investigator", "--no-password", "--user", "boss")
        assert r.exit_code == 0, r.output
    assert _sign_in(ws, "ivy", "ivy's new passphrase") == 401
    r = cli(
        "user",
        "set-password",
        t,
        "ivy",
        "--password-stdin",
        "--user",
        "olly",
        stdin="olly sets it for ivy\n",
    )
    assert isinstance(r.exception, PermissionDenied)
    r = cli(
        "user",
        "set-password",
        t,
        "ivy",
        "--password-stdin",
        "--user",
        "boss",
        stdin="ivy's new passphrase\n",
    )
    assert r.exit_code == 0, r.output
    assert _sign_in(ws, "ivy", "ivy's new passphrase") == 200
    assert _sign_in(ws, "olly", "olly sets it for ivy") == 401
