"""Sessions, CSRF, security headers and login rate limiting.

- Sessions are server-side, in the case database (so every worker and a restarted app share
  them): the cookie holds only a random token (HttpOnly, SameSite=Strict, Secure unless
  serving plain HTTP on loopback); the database holds its SHA-256. Idle and absolute
  lifetimes are bounded; sign-out deletes the row.
- CSRF: every state-changing request (POST, PUT, PATCH, DELETE) must carry the session's
  token in the `X-CSRF-Token` header. Sign-in has no session yet; it accepts only JSON
  (a cross-site form cannot send that without a CORS preflight, which we never grant) and
  checks `Origin` when the browser sends it.
- Headers: a strict Content-Security-Policy (only this origin's scripts, styles, fonts and
  images; no inline script or style), no framing, no sniffing, no referrer.
- Sign-in attempts are limited per user name and per client address, counted in the case
  database so the limit holds across workers.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from whereabouts.case.sessions import SessionInfo, WebSessions, csrf_for
from whereabouts.errors import ParameterError

SESSION_COOKIE = "wa_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)


def csp(img_origin: str = "") -> str:
    """The CSP, letting images also come from `img_origin` (a basemap's tile server) if given."""
    if not img_origin:
        return CSP
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?",
                        img_origin):
        raise ParameterError(f"{img_origin!r} is not a plain origin for the CSP",
                             hint="give the tile server as scheme://host[:port]")
    return CSP.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {img_origin}")


SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@dataclass
class Session:
    """One signed-in browser: who, its CSRF token, and when it was made and last used."""

    username: str
    csrf: str
    created: float
    seen: float

    def __repr__(self) -> str:  # never show tokens
        return f"Session(username={self.username!r})"


class SessionStore:
    """Server-side sessions in the case database (`WebSessions`), shared by every worker.

    The cookie's token is never stored (only its SHA-256); the CSRF token is derived from it.
    """

    def __init__(self, db: WebSessions) -> None:
        self.db = db

    @property
    def idle_s(self) -> float:
        return self.db.idle_s

    @property
    def absolute_s(self) -> float:
        return self.db.absolute_s

    def create(self, username: str) -> tuple[str, Session]:
        token, info = self.db.create(username)
        return token, _session(token, info)

    def get(self, token: str | None) -> Session | None:
        info = self.db.get(token)
        return _session(token, info) if token and info is not None else None

    def drop(self, token: str | None) -> None:
        self.db.drop(token)


def _session(token: str, info: SessionInfo) -> Session:
    return Session(info.username, csrf_for(token), info.created.timestamp(), info.seen.timestamp())


class LoginLimiter:
    """At most `attempts` failed sign-ins per key in `window_s`; then refuse until it slides.

    The failures are rows in the case database, so the limit holds across workers and
    restarts. Two workers checking at the same instant may each let one more attempt through
    before both see it: at most one extra per worker, which does not help guessing.
    """

    def __init__(self, db: WebSessions, *, attempts: int = 5, window_s: float = 300.0) -> None:
        self.db = db
        self.attempts = attempts
        self.window_s = window_s

    def retry_after(self, *keys: str) -> float:
        """Seconds to wait before another attempt is allowed (0 when allowed now)."""
        now = self.db.clock()
        wait = 0.0
        for count, oldest in self.db.failures(keys, self.window_s).values():
            if count >= self.attempts:
                wait = max(wait, self.window_s - (now - oldest))
        return wait

    def failed(self, *keys: str) -> None:
        self.db.add_failure(keys, self.window_s)

    def succeeded(self, username_key: str) -> None:
        self.db.clear_failures(username_key)


class SecurityMiddleware:
    """Adds the security headers; refuses state changes without the session's CSRF token.

    A plain ASGI middleware (not BaseHTTPMiddleware, which runs every request through an
    extra task and stream): it reads only the request's headers and edits the response's.
    """

    def __init__(
        self, app: ASGIApp, *, sessions: SessionStore, exempt: frozenset[tuple[str, str]],
        img_origin: str = "",
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.exempt = exempt
        self.security_headers = {**SECURITY_HEADERS, "Content-Security-Policy": csp(img_origin)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        api = request.url.path.startswith("/api/")
        if request.method not in SAFE_METHODS:
            refusal = self._check_csrf(request)
            if refusal is not None:
                await self._headers(refusal, request)(scope, receive, send)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.security_headers.items():
                    headers.setdefault(name, value)
                if api:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _check_csrf(self, request: Request) -> Response | None:
        origin = request.headers.get("origin")
        # Host only, not scheme: behind a TLS proxy the app itself sees plain HTTP.
        if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
            return _refuse("cross-site request refused", "send requests from the app's own pages")
        if (request.method, request.url.path) in self.exempt:
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                return _refuse("sign-in takes JSON only", "send the form as application/json")
            return None
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE))
        sent = request.headers.get(CSRF_HEADER, "")
        if session is None:
            return None  # the endpoint itself answers 401
        if not secrets.compare_digest(sent.encode(), session.csrf.encode()):
            return _refuse(
                "missing or wrong CSRF token",
                f"send the token from GET /api/me in the {CSRF_HEADER} header",
            )
        return None

    @staticmethod
    def _headers(response: Response, request: Request) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _refuse(message: str, hint: str) -> Response:
    return JSONResponse(
        {"error": "CSRFError", "message": message, "hint": hint}, status_code=403
    )


__all__ = [
    "CSP",
    "CSRF_HEADER",
    "SECURITY_HEADERS",
    "SESSION_COOKIE",
    "LoginLimiter",
    "SecurityMiddleware",
    "Session",
    "SessionStore",
    "csp",
]
