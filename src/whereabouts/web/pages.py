"""The HTML pages. Each is a small server-rendered shell; its script fetches from the API.

Pages check the same permissions as the API (a page for an action the user may not do is
refused, not just hidden), and carry the CSRF token in a meta tag for the scripts.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from whereabouts import __version__
from whereabouts.errors import WhereaboutsError
from whereabouts.vocabulary import FLAG_WORDS, REASON_SHORT
from whereabouts.web.api import UI_ACTIONS, current, services
from whereabouts.web.status import status_for

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


def _render(
    request: Request, name: str, action: str | None, case_ref: str | None, **extra: object
) -> Response:
    try:
        user, session = current(request)
    except HTTPException:
        return RedirectResponse("/login", status_code=303)
    svc = services(request)
    try:
        if action is not None:
            svc.require(user, action, case_ref)
    except WhereaboutsError as exc:
        return templates.TemplateResponse(
            request,
            "refused.html",
            {
                "user": user,
                "csrf": session.csrf,
                "message": exc.message,
                "hint": exc.hint,
                "version": __version__,
                "may": [],
                **_zone(svc.timezone()),
            },
            status_code=status_for(exc),
        )
    context = {
        "user": user,
        "csrf": session.csrf,
        "case_ref": case_ref,
        "version": __version__,
        "may": [a for a in UI_ACTIONS if svc.may(user, a)],
        "words": words(),
        **_zone(svc.timezone()),
        **extra,
    }
    return templates.TemplateResponse(request, name, context)


def words() -> dict[str, dict[str, str]]:
    """The words the pages use for reason and flag codes: the report's own (vocabulary)."""
    return {"reasons": dict(REASON_SHORT), "flags": dict(FLAG_WORDS)}


def _zone(tz: str) -> dict[str, str]:
    """The workspace's time zone for the pages, and how to label times shown in it."""
    return {"tz": tz, "zone_label": "UK time" if tz == "Europe/London" else f"{tz} time"}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """Each role's landing page: auditors the audit log, administrators too, others their cases."""
    try:
        user, _ = current(request)
    except HTTPException:
        return RedirectResponse("/login", status_code=303)
    landing = "/audit" if user.role in ("auditor", "administrator") else "/cases"
    return RedirectResponse(landing, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"version": __version__})


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request) -> Response:
    return _render(request, "cases.html", "case.view", None)


@router.get("/cases/{ref}", response_class=HTMLResponse)
def case(request: Request, ref: str) -> Response:
    return _render(request, "case.html", "case.view", ref)


@router.get("/cases/{ref}/playback/{occasion_id}", response_class=HTMLResponse)
def playback(request: Request, ref: str, occasion_id: str) -> Response:
    return _render(request, "playback.html", "location.read", ref, occasion_id=occasion_id)


@router.get("/cases/{ref}/review", response_class=HTMLResponse)
def review(request: Request, ref: str) -> Response:
    """Playback of a whole day of the case (?day=YYYY-MM-DD), with its timeline."""
    return _render(request, "playback.html", "location.read", ref, occasion_id=None)


@router.get("/cases/{ref}/occasions/{occasion_id}", response_class=HTMLResponse)
def occasion(request: Request, ref: str, occasion_id: str) -> Response:
    return _render(request, "occasion.html", "location.read", ref, occasion_id=occasion_id)


@router.get("/screening", response_class=HTMLResponse)
def screening(request: Request) -> Response:
    return _render(request, "screening.html", "screening.run", None)


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request) -> Response:
    return _render(request, "audit.html", "audit.verify", None)


__all__ = ["router"]
