"""Sessions, CSRF, security headers and login rate limiting.

- Sessions are server-side: the cookie holds only a random token (HttpOnly, SameSite=Strict,
  Secure unless serving plain HTTP on loopback). Idle and absolute lifetimes are bounded.
- CSRF: every state-changing request (POST, PUT, PATCH, DELETE) must carry the session's
  token in the `X-CSRF-Token` header. Sign-in has no session yet; it accepts only JSON
  (a cross-site form cannot send that without a CORS preflight, which we never grant) and
  checks `Origin` when the browser sends it.
- Headers: a strict Content-Security-Policy (only this origin's scripts, styles, fonts and
  images; no inline script or style), no framing, no sniffing, no referrer.
- Sign-in attempts are limited per user name and per client address.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


@dataclass
class SessionStore:
    """Server-side sessions keyed by a random token; thread-safe."""

    idle_s: float = 30 * 60
    absolute_s: float = 12 * 3600
    clock: Callable[[], float] = time.monotonic
    purge_at: int = 1000  # drop expired sessions once this many are held
    _sessions: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create(self, username: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(username, secrets.token_urlsafe(32), now, now)
        with self._lock:
            if len(self._sessions) >= self.purge_at:
                self._sessions = {
                    k: v for k, v in self._sessions.items()
                    if now - v.seen <= self.idle_s and now - v.created <= self.absolute_s
                }
            self._sessions[token] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.seen > self.idle_s or now - session.created > self.absolute_s:
                del self._sessions[token]
                return None
            session.seen = now
            return session

    def drop(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(token, None)


@dataclass
class LoginLimiter:
    """At most `attempts` failed sign-ins per key in `window_s`; then refuse until it slides."""

    attempts: int = 5
    window_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 10_000
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, *keys: str) -> float:
        """Seconds to wait before another attempt is allowed (0 when allowed now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                q = self._failures.get(key)
                if not q:
                    continue
                while q and now - q[0] > self.window_s:
                    q.popleft()
                if len(q) >= self.attempts:
                    wait = max(wait, self.window_s - (now - q[0]))
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.max_keys:  # many made-up names: keep memory bounded
                self._failures = {
                    k: q for k, q in self._failures.items() if q and now - q[-1] <= self.window_s
                }
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)


class SecurityMiddleware:
    """Adds the security headers; refuses state changes without the session's CSRF token.

    A plain ASGI middleware (not BaseHTTPMiddleware, which runs every request through an
    extra task and stream): it reads only the request's headers and edits the response's.
    """

    def __init__(
        self, app: ASGIApp, *, sessions: SessionStore, exempt: frozenset[tuple[str, str]]
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.exempt = exempt

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
                for name, value in SECURITY_HEADERS.items():
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
]
