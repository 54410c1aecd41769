"""Web sessions and failed sign-ins live in the case database: one app instance (a worker, or
the app after a restart) accepts the sessions another made; sign-out, expiry and a new
password end them; the limit on sign-in attempts holds across instances; no token is stored.
Run on SQLite and, when WHEREABOUTS_TEST_DATABASE_URL is set, PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from test_case_support import BACKENDS, PASSWORD, fresh_store
from test_web_support import test_client_class
from whereabouts.case import CaseStore, migrations
from whereabouts.case.sessions import WebSessions, csrf_for
from whereabouts.errors import ParameterError, WorkspaceError
from whereabouts.web import create_app
from whereabouts.web.app import ENV_SERVE, app_from_env, run


@contextmanager
def two_apps(backend: str, tmp: Path, **options: Any) -> Iterator[tuple[Any, Any, CaseStore]]:
    """Two independent app instances (own engines, like two workers) over one new database
    holding the user `ivy` (an investigator with a password)."""
    with fresh_store(backend, tmp) as (store, target, schema):
        admin = store.add_user("admin", None, "administrator")
        store.add_user("ivy", PASSWORD, "investigator", actor=admin)
        ws = tmp / "ws"
        ws.mkdir(exist_ok=True)
        stores = [CaseStore.open(target, schema=schema) for _ in range(2)]
        apps = [create_app(ws, store=s, **options) for s in stores]
        try:
            yield apps[0], apps[1], store
        finally:
            for app, s in zip(apps, stores, strict=True):
                app.state.sessions.db.close()
                s.close()


def _sign_in(client: Any, user: str = "ivy", password: str = PASSWORD) -> Any:
    return client.post("/api/session", json={"username": user, "password": password})


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_session_from_one_instance_works_on_another_until_signed_out(
    backend: str, tmp_path: Path
) -> None:
    with two_apps(backend, tmp_path) as (app1, app2, store):
        one, two = test_client_class()(app1), test_client_class()(app2)
        r = _sign_in(one)
        assert r.status_code == 200
        token, csrf = one.cookies.get("wa_session"), r.json()["csrf_token"]
        two.cookies.set("wa_session", token)
        me = two.get("/api/me")
        assert me.status_code == 200 and me.json()["username"] == "ivy"
        assert me.json()["csrf_token"] == csrf  # the same CSRF token on every instance
        # only the token's SHA-256 is stored, never the token or the CSRF token
        with store.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(sa.text("SELECT * FROM web_sessions"))]
        assert len(rows) == 1
        assert hashlib.sha256(token.encode()).hexdigest() in rows[0]
        assert not any(token in str(v) or csrf in str(v) for v in rows[0])
        # a state change on instance two needs the session's CSRF token, as on instance one
        assert two.delete("/api/session").status_code == 403
        assert two.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert one.get("/api/me").status_code == 401  # signed out everywhere
        with store.engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM web_sessions")) == 0
        audit = [e["action"] for e in store.audit.entries()]
        assert "user.login" in audit


@pytest.mark.parametrize("backend", BACKENDS)
def test_idle_and_absolute_expiry_refuse_a_session_on_every_instance(
    backend: str, tmp_path: Path
) -> None:
    with two_apps(backend, tmp_path, session_idle_s=600) as (app1, app2, store):
        one, two = test_client_class()(app1), test_client_class()(app2)
        assert _sign_in(one).status_code == 200
        two.cookies.set("wa_session", one.cookies.get("wa_session"))
        assert two.get("/api/me").status_code == 200
        now = datetime.now(UTC)
        with store.engine.begin() as conn:  # unused for 11 minutes (idle limit 10)
            conn.execute(
                sa.text("UPDATE web_sessions SET seen_at = :t"),
                {"t": _naive_if_sqlite(store, now - timedelta(minutes=11))},
            )
        assert two.get("/api/me").status_code == 401
        assert one.get("/api/me").status_code == 401
        assert _sign_in(one).status_code == 200  # a fresh session: used just now
        two.cookies.set("wa_session", one.cookies.get("wa_session"))
        with store.engine.begin() as conn:  # past its absolute end, though used just now
            conn.execute(
                sa.text("UPDATE web_sessions SET expires_at = :t"),
                {"t": _naive_if_sqlite(store, now - timedelta(seconds=1))},
            )
        assert two.get("/api/me").status_code == 401
        with store.engine.connect() as conn:  # the refused session's row is gone
            assert conn.scalar(sa.text("SELECT count(*) FROM web_sessions")) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_sign_in_limit_holds_across_instances(backend: str, tmp_path: Path) -> None:
    with two_apps(backend, tmp_path, login_attempts=2, login_window_s=60) as (app1, app2, store):
        one, two = test_client_class()(app1), test_client_class()(app2)
        assert _sign_in(one, password="wrong password").status_code == 401
        assert _sign_in(two, password="wrong password").status_code == 401
        r = _sign_in(one)  # right password, but two failures already (one on each instance)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert _sign_in(two).status_code == 429
        with store.engine.connect() as conn:  # keys are stored hashed: no user name, no address
            keys = [k for (k,) in conn.execute(sa.text("SELECT key_hash FROM login_failures"))]
        # per failure: user and client together, the user, the client
        assert len(keys) == 6 and not any("ivy" in k or "testclient" in k for k in keys)
        assert hashlib.sha256(b"user:ivy").hexdigest() in keys


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_password_ends_the_users_sessions(backend: str, tmp_path: Path) -> None:
    with two_apps(backend, tmp_path) as (app1, _app2, store):
        client = test_client_class()(app1)
        assert _sign_in(client).status_code == 200
        store.set_password("ivy", "a new passphrase", actor="ivy")
        assert client.get("/api/me").status_code == 401
        assert _sign_in(client).status_code == 401
        assert _sign_in(client, password="a new passphrase").status_code == 200
        entry = [e for e in store.audit.entries() if e["action"] == "user.password"][-1]
        assert entry["detail"]["sessions_ended"] == 1


def _naive_if_sqlite(store: CaseStore, t: datetime) -> Any:
    """Raw SQL bypasses the column type: SQLite holds naive UTC text, PostgreSQL timestamptz."""
    return t.replace(tzinfo=None).isoformat(sep=" ") if store.embedded else t


# --------------------------------------------------------------- the table itself, with a clock
@pytest.fixture()
def clocked(tmp_path: Path) -> Iterator[tuple[WebSessions, list[float]]]:
    store = CaseStore.open(tmp_path)
    store.add_user("ivy", None, "administrator")
    now = [1_700_000_000.0]
    db = WebSessions.for_store(store, idle_s=10, absolute_s=100, clock=lambda: now[0])
    try:
        yield db, now
    finally:
        db.close()
        store.close()


def test_idle_touch_and_absolute_limits(clocked: tuple[WebSessions, list[float]]) -> None:
    db, now = clocked
    token, info = db.create("ivy")
    assert db.touch_s == 1.0  # a tenth of the idle limit
    for _ in range(20):  # used every 6 s: alive past 10 s idle, until 100 s after sign-in
        now[0] += 6
        alive = db.get(token)
        assert (alive is not None) == (now[0] - info.created.timestamp() < 100)
    assert db.get(token) is None
    token, _ = db.create("ivy")
    now[0] += 10.5
    assert db.get(token) is None  # unused for longer than the idle limit
    assert db.get("") is None and db.get(None) is None and db.get("made-up") is None


def test_expired_rows_are_purged_and_failures_forgotten(
    clocked: tuple[WebSessions, list[float]],
) -> None:
    db, now = clocked
    for _ in range(30):
        db.create("ivy")
    now[0] += 11  # every one of them idle too long
    live, _ = db.create("ivy")
    assert db.count() == 1 and db.get(live) is not None
    db.add_failure([f"user:made-up-{i}" for i in range(50)], window_s=60)
    assert db.failures(["user:made-up-3", "user:other"], 60) == {"user:made-up-3": (1, now[0])}
    now[0] += 61
    assert db.failures(["user:made-up-3"], 60) == {}
    db.add_failure(["user:another"], window_s=60)
    assert db.failure_rows() == 1
    assert db.drop_user("ivy") == 1 and db.get(live) is None


def test_csrf_token_depends_on_the_session_token_only() -> None:
    assert csrf_for("a") == csrf_for("a") != csrf_for("b")
    assert len(csrf_for("a")) >= 40
    with pytest.raises(ParameterError):
        WebSessions(sa.create_engine("sqlite://"), idle_s=0)


# --------------------------------------------------------------- `whereabouts serve --workers 2`
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_with_two_workers_shares_sessions(tmp_path: Path) -> None:
    """A real server with two worker processes: a new connection for every request, so the
    requests are spread over both workers, and every one sees the session."""
    ws = tmp_path / "ws"
    ws.mkdir()
    store = CaseStore.open(ws)
    store.add_user("ivy", PASSWORD, "administrator")
    store.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "WHEREABOUTS_DATABASE_URL"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "whereabouts",
            "serve",
            str(ws),
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/login", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        headers = {"Connection": "close"}
        r = httpx.post(
            base + "/api/session", json={"username": "ivy", "password": PASSWORD}, headers=headers
        )
        assert r.status_code == 200
        cookies = {"wa_session": r.cookies["wa_session"]}
        csrf = r.json()["csrf_token"]
        for _ in range(12):
            me = httpx.get(base + "/api/me", cookies=cookies, headers=headers)
            assert me.status_code == 200 and me.json()["csrf_token"] == csrf
        r = httpx.delete(
            base + "/api/session", cookies=cookies, headers={**headers, "X-CSRF-Token": csrf}
        )
        assert r.status_code == 204
        for _ in range(4):
            assert httpx.get(base + "/api/me", cookies=cookies, headers=headers).status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()


def test_worker_factory_reads_its_options_and_refuses_bad_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        ENV_SERVE,
        json.dumps({"workspace": str(tmp_path), "session_idle_s": 90, "secure_cookies": True}),
    )
    app = app_from_env()
    assert app.state.sessions.idle_s == 90 and app.state.secure_cookies is True
    app.state.sessions.db.close()
    monkeypatch.delenv(ENV_SERVE)
    with pytest.raises(WorkspaceError, match=ENV_SERVE):
        app_from_env()
    with pytest.raises(ParameterError, match="workers"):
        run(tmp_path, workers=0)
    with pytest.raises(ParameterError, match="report_writer"):
        run(tmp_path, workers=2, report_writer=lambda *a: {})


def test_a_case_database_from_before_sessions_is_upgraded_in_place(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.migration import MigrationContext

    from whereabouts.case.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'cases.sqlite'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.exec_driver_sql(
            "INSERT INTO users (username, role, active, os_default, created_at, created_by) "
            "VALUES ('ivy', 'investigator', 1, 0, '2024-01-01 00:00:00', 'ivy')"
        )
    engine.dispose()
    store = CaseStore.open(tmp_path)
    try:
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0002"
        assert store.get_user("ivy").role == "investigator"
        db = WebSessions.for_store(store)
        token, _ = db.create("ivy")
        assert db.get(token) is not None
        db.close()
    finally:
        store.close()
