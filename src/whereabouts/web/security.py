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

import json
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
    if not re.fullmatch(
        r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?",
        img_origin,
    ):
        raise ParameterError(
            f"{img_origin!r} is not a plain origin for the CSP",
            hint="give the tile server as scheme://host[:port]",
        )
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
        """Seconds of inactivity after which a session ends."""
        return self.db.idle_s

    @property
    def absolute_s(self) -> float:
        """Seconds after sign-in at which a session ends whatever its use."""
        return self.db.absolute_s

    def create(self, username: str) -> tuple[str, Session]:
        """A new session for the user: its token and details."""
        token, info = self.db.create(username)
        return token, _session(token, info)

    def get(self, token: str | None) -> Session | None:
        """The live session of a token, or None."""
        info = self.db.get(token)
        return _session(token, info) if token and info is not None else None

    def drop(self, token: str | None) -> None:
        """End the token's session (if any)."""
        self.db.drop(token)


def _session(token: str, info: SessionInfo) -> Session:
    return Session(info.username, csrf_for(token), info.created.timestamp(), info.seen.timestamp())


class LoginLimiter:
    """Sign-in throttling that cannot lock out every user.

    Three counts of failed sign-ins in `window_s`, each a row in the case database (so the
    limits hold across workers and restarts):
    - one user name from one client: `attempts` (a mistyped password: that person waits);
    - one user name from anywhere: 4 x `attempts` (guessing from many addresses: only
      that account waits);
    - one client, any user names: 20 x `attempts`, and then only for user names that have
      already failed from it (a password spray is stopped, while a colleague behind the
      same address or proxy who has not failed still signs in).
    The client is the peer address, or behind a trusted proxy the address it forwards
    (`client_address`). Two workers checking at once may each let one more attempt through.
    """

    def __init__(self, db: WebSessions, *, attempts: int = 5, window_s: float = 300.0) -> None:
        self.db = db
        self.attempts = attempts
        self.window_s = window_s

    @staticmethod
    def _keys(username: str, client: str) -> tuple[str, str, str]:
        return f"user:{username}@addr:{client}", f"user:{username}", f"addr:{client}"

    def retry_after(self, username: str, client: str) -> float:
        """Seconds to wait before another attempt is allowed (0 when allowed now)."""
        pair, user, addr = self._keys(username, client)
        now = self.db.clock()
        found = self.db.failures((pair, user, addr), self.window_s)
        limits = {pair: self.attempts, user: 4 * self.attempts}
        if pair in found:  # a client over its limit waits only for names it has failed on
            limits[addr] = 20 * self.attempts
        wait = 0.0
        for key, limit in limits.items():
            count, oldest = found.get(key, (0, now))
            if count >= limit:
                wait = max(wait, self.window_s - (now - oldest))
        return wait

    def failed(self, username: str, client: str) -> None:
        """Count a failed sign-in for the user and the client."""
        self.db.add_failure(self._keys(username, client), self.window_s)

    def succeeded(self, username: str, client: str) -> None:
        """Clear the failed sign-ins of the user and the client after a success."""
        pair, user, _ = self._keys(username, client)
        self.db.clear_failures(pair)
        self.db.clear_failures(user)


def client_address(peer: str | None, forwarded_for: str | None, trusted: frozenset[str]) -> str:
    """The client's address: the peer's, or when the peer is a trusted proxy, the last
    address in X-Forwarded-For that is not itself a trusted proxy (the one the proxies
    saw; addresses before it are the client's own claims and never trusted)."""
    addr = peer or "unknown"
    if addr not in trusted or not forwarded_for:
        return addr
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if hop not in trusted:
            return hop
    return addr


class BodyLimitMiddleware:
    """Refuses a request whose body is larger than `max_bytes` (413), before the app reads
    it: by its Content-Length, or while a body without one streams in (read in full only
    up to the limit, then handed on)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, refusing a body over the limit with 413."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body"):
                break
        done = False

        async def replay() -> Message:
            nonlocal done
            if done:
                return await receive()
            done = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        text = json.dumps(
            {
                "error": "HTTPError",
                "message": f"the request is larger than {self.max_bytes} bytes",
                "hint": "send a smaller request",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(text)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": text})


class SecurityMiddleware:
    """Adds the security headers; refuses state changes without the session's CSRF token.

    A plain ASGI middleware (not BaseHTTPMiddleware, which runs every request through an
    extra task and stream): it reads only the request's headers and edits the response's.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        sessions: SessionStore,
        exempt: frozenset[tuple[str, str]],
        img_origin: str = "",
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.exempt = exempt
        self.security_headers = {**SECURITY_HEADERS, "Content-Security-Policy": csp(img_origin)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on unless an unsafe method fails the CSRF check; add the security
        headers."""
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
                elif request.url.path.startswith(VENDORED):
                    headers.setdefault("Cache-Control", "public, max-age=86400")
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


# Vendored static files (MapLibre, its glyphs) change only with the package: cacheable, so
# the street map's worker reuses the glyphs the page asked for first (static/app.js).
VENDORED = ("/static/maplibre/", "/static/glyphs/")


def _refuse(message: str, hint: str) -> Response:
    return JSONResponse({"error": "CSRFError", "message": message, "hint": hint}, status_code=403)


__all__ = [
    "CSP",
    "CSRF_HEADER",
    "SECURITY_HEADERS",
    "SESSION_COOKIE",
    "BodyLimitMiddleware",
    "LoginLimiter",
    "SecurityMiddleware",
    "Session",
    "SessionStore",
    "client_address",
    "csp",
]
