"""The app factory: `create_app(workspace)` → a FastAPI app serving the pages and the API.

Everything the browser loads comes from this app (scripts, styles, icons): no CDN, no
run-time downloads. Domain errors become JSON with the error's name, message and hint.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from whereabouts import __version__
from whereabouts.case import CaseStore
from whereabouts.case.sessions import WebSessions
from whereabouts.errors import ParameterError, WhereaboutsError, WorkspaceError
from whereabouts.web import api, pages
from whereabouts.web.security import (
    BodyLimitMiddleware,
    LoginLimiter,
    SecurityMiddleware,
    SessionStore,
)
from whereabouts.web.services import Services
from whereabouts.web.status import status_for

if TYPE_CHECKING:
    from starlette.responses import Response

HERE = Path(__file__).parent


class AppOptions(TypedDict, total=False):
    """The keyword options of `create_app`, as `run` passes them on."""

    store: CaseStore | None
    secure_cookies: bool
    login_attempts: int
    login_window_s: float
    session_idle_s: float
    session_absolute_s: float
    report_writer: Callable[[Path, str, Path], dict[str, Path]] | None
    roads: Path | str | None
    basemap: Path | str | None
    trusted_proxies: str
    max_request_bytes: int


def create_app(
    workspace: Path | str,
    *,
    store: CaseStore | None = None,
    secure_cookies: bool = False,
    login_attempts: int = 5,
    login_window_s: float = 300.0,
    session_idle_s: float = 30 * 60,
    session_absolute_s: float = 12 * 3600,
    report_writer: Callable[[Path, str, Path], dict[str, Path]] | None = None,
    roads: Path | str | None = None,
    basemap: Path | str | None = None,
    trusted_proxies: str = "",
    max_request_bytes: int = 1 << 20,
) -> FastAPI:
    """Build the web app over one workspace.

    Parameters: `store` the case record (default: `CaseStore.open(workspace)`);
    `secure_cookies` mark the session cookie Secure (set it when served over HTTPS);
    `login_attempts` / `login_window_s` the sign-in rate limit per user name and address;
    `session_idle_s` / `session_absolute_s` end a session unused that long / that long after
    sign-in (sessions and failed sign-ins live in the case database, shared by workers);
    `roads` an optional GeoJSON of roads (WGS84 lines) drawn as context under the tracks;
    `basemap` an optional raster .mbtiles/.pmtiles file (served by the app) or tile URL
    template (fetched by the browser; the CSP then allows that origin's images only);
    `trusted_proxies` comma-separated addresses of reverse proxies whose X-Forwarded-For
    names the client (sign-in limits then count per client, not per proxy);
    `max_request_bytes` the largest request body accepted (413 beyond it).
    Example: ``uvicorn.run(create_app("WS"), host="127.0.0.1", port=8000)``.
    """
    ws = Path(workspace)
    app = FastAPI(
        title="whereabouts",
        version=__version__,
        description="Where officers were in relation to each other while on duty: the investigator's API.",
        docs_url=None,  # the Swagger UI loads scripts from a CDN; /openapi.json is enough
        redoc_url=None,
    )
    services = Services(
        ws,
        store,
        report_writer=report_writer,
        roads=Path(roads) if roads is not None else None,
        basemap=basemap,
    )
    app.state.services = services
    services.vector_tiles()  # the street map's tiles start building now, not on first view
    db = WebSessions.for_store(services.store, idle_s=session_idle_s, absolute_s=session_absolute_s)
    sessions = SessionStore(db)
    app.state.sessions = sessions
    app.state.limiter = LoginLimiter(db, attempts=login_attempts, window_s=login_window_s)
    app.state.secure_cookies = secure_cookies
    app.state.trusted_proxies = frozenset(
        p.strip() for p in trusted_proxies.split(",") if p.strip()
    )
    app.add_middleware(
        SecurityMiddleware,
        sessions=sessions,
        exempt=frozenset({("POST", "/api/session")}),
        img_origin=services.basemap.info.origin if services.basemap else "",
    )

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # outermost: an oversized body is refused before anything reads it
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_request_bytes)

    @app.exception_handler(WhereaboutsError)
    async def _domain_error(request: Request, exc: WhereaboutsError) -> JSONResponse:
        return JSONResponse(
            {"error": type(exc).__name__, "message": exc.message, "hint": exc.hint},
            status_code=status_for(exc),
        )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401 and not request.url.path.startswith("/api/"):
            from fastapi.responses import RedirectResponse

            return RedirectResponse("/login", status_code=303)
        return JSONResponse(
            {"error": "HTTPError", "message": str(exc.detail), "hint": _hint(exc.status_code)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        return JSONResponse(
            {
                "error": "ValidationError",
                "message": "the request is not valid",
                "hint": "fix the fields listed",
                "problems": problems,
            },
            status_code=422,
        )

    return app


ENV_SERVE = "WHEREABOUTS_SERVE"


def run(
    workspace: Path | str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    **options: Unpack[AppOptions],
) -> None:
    """Serve `create_app(workspace, **options)` with uvicorn, in `workers` processes.

    With more than one worker uvicorn starts each from the app factory `app_from_env`, which
    reads the workspace and `options` (JSON: text, numbers, paths) from WHEREABOUTS_SERVE;
    sessions and sign-in limits are in the case database, so every worker shares them.
    """
    import uvicorn

    if workers < 1:
        raise ParameterError(
            f"--workers {workers} is not a number of processes",
            hint="give 1 or more (about one per processor core)",
        )
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "proxy_headers": False,
    }
    if workers == 1:
        uvicorn.run(create_app(workspace, **options), **common)
        return
    config: dict[str, Any] = {"workspace": str(workspace)}
    for name, value in options.items():
        if isinstance(value, Path):
            value = str(value)
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ParameterError(
                f"option {name!r} cannot be passed to worker processes",
                hint="give it as text, a number or a path",
            )
        config[name] = value
    CaseStore.open(workspace).close()  # migrate once, and fail here rather than in each worker
    os.environ[ENV_SERVE] = json.dumps(config)
    uvicorn.run("whereabouts.web.app:app_from_env", factory=True, workers=workers, **common)


def app_from_env() -> FastAPI:
    """The app factory each uvicorn worker calls: `create_app` with WHEREABOUTS_SERVE's options."""
    try:
        config = dict(json.loads(os.environ[ENV_SERVE]))
    except (KeyError, ValueError, TypeError) as exc:
        raise WorkspaceError(
            f"{ENV_SERVE} is missing or not a JSON object",
            hint="start the app with `whereabouts serve WS --workers N`",
        ) from exc
    return create_app(config.pop("workspace"), **config)


def _hint(status: int) -> str:
    return {
        401: "sign in at /login (POST /api/session)",
        404: "check the address",
        405: "use the method the API documents at /openapi.json",
        429: "wait for the time given in Retry-After",
    }.get(status, "")


__all__ = ["ENV_SERVE", "app_from_env", "create_app", "run", "status_for"]
