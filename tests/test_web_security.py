"""Sessions, CSRF, security headers, sign-in rate limiting, and no outside resources."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from test_web_support import shared_workspace, test_client_class
from whereabouts.web import create_app
from whereabouts.web.security import CSP

STATIC = Path(__file__).resolve().parents[1] / "src" / "whereabouts" / "web"


@pytest.fixture(scope="session")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return shared_workspace(tmp_path_factory.mktemp("web"))


@pytest.fixture()
def app(fx: Any) -> Any:
    app = create_app(fx.workspace, login_attempts=3, login_window_s=60)
    # Failed sign-ins are kept in the shared workspace's case database (so every worker
    # sees them): start each test without the failures earlier tests left there.
    with app.state.limiter.db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM login_failures"))
    return app


def _sign_in(client: Any, fx: Any, user: str = "ivy") -> str:
    r = client.post("/api/session", json={"username": user, "password": fx.password})
    assert r.status_code == 200
    token: str = r.json()["csrf_token"]
    return token


def test_session_cookie_is_httponly_and_samesite(app: Any, fx: Any) -> None:
    client = test_client_class()(app)
    r = client.post("/api/session", json={"username": "ivy", "password": fx.password})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain HTTP on loopback by default
    secure = test_client_class()(create_app(fx.workspace, secure_cookies=True))
    r = secure.post("/api/session", json={"username": "ivy", "password": fx.password})
    assert "secure" in r.headers["set-cookie"].lower()


def test_state_changes_need_the_sessions_csrf_token(app: Any, fx: Any) -> None:
    client = test_client_class()(app)
    token = _sign_in(client, fx)
    url = f"/api/cases/{fx.case_ref}/occasions/{fx.occasion_ids[0]}/annotations"
    body = {"note": "csrf check"}
    r = client.post(url, json=body)
    assert r.status_code == 403 and r.json()["error"] == "CSRFError"
    r = client.post(url, json=body, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    other = test_client_class()(app)
    other_token = _sign_in(other, fx, "ana")
    assert client.post(url, json=body, headers={"X-CSRF-Token": other_token}).status_code == 403
    assert client.post(url, json=body, headers={"X-CSRF-Token": token}).status_code == 201
    assert client.delete("/api/session").status_code == 403  # signing out is a state change too


def test_cross_site_requests_and_form_posts_are_refused(app: Any, fx: Any) -> None:
    client = test_client_class()(app)
    creds = {"username": "ivy", "password": fx.password}
    r = client.post("/api/session", json=creds, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = client.post("/api/session", data=creds)  # an HTML form from another site
    assert r.status_code == 403
    assert (
        client.post("/api/session", json=creds, headers={"Origin": "http://testserver"}).status_code
        == 200
    )


def test_sign_out_ends_the_session_and_sign_in_rotates_it(app: Any, fx: Any) -> None:
    client = test_client_class()(app)
    token = _sign_in(client, fx)
    first = client.cookies.get("wa_session")
    _sign_in(client, fx)
    assert client.cookies.get("wa_session") != first
    token = client.get("/api/me").json()["csrf_token"]
    assert client.delete("/api/session", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/me").status_code == 401


def test_sign_in_attempts_are_limited(app: Any, fx: Any) -> None:
    client = test_client_class()(app)
    for _ in range(3):
        r = client.post("/api/session", json={"username": "sam", "password": "wrong"})
        assert r.status_code == 401
        assert "password" in r.json()["message"] and "sam" not in r.json()["message"]
    r = client.post("/api/session", json={"username": "sam", "password": fx.password})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # one person's mistakes never lock out a colleague at the same address (or proxy)
    r = client.post("/api/session", json={"username": "ivy", "password": fx.password})
    assert r.status_code == 200


def test_a_password_spray_from_one_address_is_stopped(app: Any, fx: Any) -> None:
    client = test_client_class()(app)
    # 3 attempts x 20 failures from one address, over many user names, each tried once
    for k in range(60):
        r = client.post("/api/session", json={"username": f"nobody{k}", "password": "guess"})
        assert r.status_code == 401
    # a name already failed from there is refused now; a user who has not failed is not
    r = client.post("/api/session", json={"username": "nobody0", "password": "guess"})
    assert r.status_code == 429
    r = client.post("/api/session", json={"username": "ivy", "password": fx.password})
    assert r.status_code == 200


def test_behind_a_trusted_proxy_each_client_is_counted_apart(fx: Any) -> None:
    app = create_app(
        fx.workspace, login_attempts=3, login_window_s=60, trusted_proxies="testclient"
    )
    with app.state.limiter.db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM login_failures"))
    client = test_client_class()(app)

    def sign_in(addr: str, password: str) -> int:
        return int(
            client.post(
                "/api/session",
                json={"username": "sam", "password": password},
                headers={"X-Forwarded-For": f"6.6.6.6, {addr}"},
            ).status_code
        )

    for _ in range(3):
        assert sign_in("10.0.0.1", "wrong") == 401
    assert sign_in("10.0.0.1", fx.password) == 429
    # the same user from another client behind the proxy: still signs in (a forged first
    # hop, 6.6.6.6, is never taken for the client)
    assert sign_in("10.0.0.2", fx.password) == 200


def test_an_oversized_request_is_refused_before_it_is_read(app: Any) -> None:
    client = test_client_class()(app)
    big = b'{"username": "sam", "password": "' + b"x" * (2 << 20) + b'"}'
    r = client.post("/api/session", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "HTTPError"
    assert "larger than" in r.json()["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(40):
            yield b"x" * 65536

    r = client.post("/api/session", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_security_headers_on_pages_api_and_static(app: Any, fx: Any) -> None:
    client = test_client_class()(app)
    _sign_in(client, fx)
    for path in ("/login", f"/cases/{fx.case_ref}", "/api/me", "/static/app.js", "/openapi.json"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in client.get("/api/me").headers["cache-control"]
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "default-src 'none'" in CSP


def test_nothing_is_loaded_from_elsewhere_and_nothing_inline() -> None:
    # Our own files; the vendored MapLibre (static/maplibre/) carries attribution links in its
    # strings, and what any script may fetch is held by the CSP (default-src 'none') above.
    files = [*STATIC.glob("templates/*.html"), *(f for f in STATIC.glob("static/*") if f.is_file())]
    assert (STATIC / "static" / "maplibre" / "LICENSE.txt").is_file()
    assert len(files) > 8
    for path in files:
        text = path.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path
        assert "@import" not in text and "url(http" not in text, path
        if path.suffix == ".html":
            # A JSON data block is never executed (and CSP's script-src does not apply to it);
            # its content must come through Jinja's tojson, which escapes <, > and &.
            for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', text):
                assert re.fullmatch(r"\{\{ [\w|(){}]+\|tojson \}\}", block), f"data block in {path}"
            code = re.sub(r'<script type="application/json"[^>]*>.*?</script>', "", text)
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", code), f"inline script in {path}"
            assert "style=" not in text and "<style" not in text, f"inline style in {path}"
            assert not re.search(r"\son[a-z]+=", text), f"inline handler in {path}"


def test_docs_ui_is_off_and_openapi_lists_the_api(app: Any) -> None:
    client = test_client_class()(app)
    assert client.get("/docs").status_code == 404  # Swagger UI would load a CDN script
    doc = client.get("/openapi.json").json()
    assert "/api/cases/{ref}/tracks" in doc["paths"] and "/login" not in doc["paths"]


def test_dot_paths_are_not_identifiers(app: Any, fx: Any) -> None:
    client = test_client_class()(app)
    _sign_in(client, fx)
    for path in (
        "/api/cases/../report/html",
        "/api/cases/..%2F..%2Fetc/report/html",
        "/api/screening/..",
        "/api/cases/.hidden/tracks",
    ):
        assert client.get(path).status_code in (403, 404, 422), path
