"""The JSON API (`/api/...`): the pages use it; its OpenAPI document is at /openapi.json.

Every endpoint names the action it needs and checks it with the case layer before reading
anything; every read of location data and every annotation is written to the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from whereabouts.errors import ParameterError, ScopeError
from whereabouts.schema import REASONS
from whereabouts.web.backend import Action, CaseView, WebUser
from whereabouts.web.security import SESSION_COOKIE, LoginLimiter, Session, SessionStore
from whereabouts.web.services import PLAYBACK_MARGIN_S, Services

router = APIRouter(prefix="/api")

CaseRef = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._/-]+$")]


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class AnnotationIn(BaseModel):
    note: str = Field(min_length=1, max_length=5000, description="what the investigator observed")
    decision: Literal["note", "add_reason", "reject_reason"] = Field(
        "note", description="a note only, a policing reason added, or a found reason rejected"
    )
    reason: Literal[REASONS] | None = Field(  # type: ignore[valid-type]
        None, description="the policing reason added or rejected"
    )


class Me(BaseModel):
    username: str
    role: str
    csrf_token: str
    screening: bool


def services(request: Request) -> Services:
    value: Services = request.app.state.services
    return value


def current(request: Request) -> tuple[WebUser, Session]:
    """The signed-in user and session, or 401."""
    store: SessionStore = request.app.state.sessions
    session = store.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise HTTPException(401, detail="sign in first")
    user = services(request).backend.user(session.username)
    if user is None:
        store.drop(request.cookies.get(SESSION_COOKIE))
        raise HTTPException(401, detail="sign in first")
    return user, session


def signed_in(request: Request) -> WebUser:
    return current(request)[0]


User = Annotated[WebUser, Depends(signed_in)]
Svc = Annotated[Services, Depends(services)]


def _case(svc: Services, user: WebUser, action: Action, ref: str) -> CaseView:
    svc.backend.require(user, action, ref)
    return svc.backend.case(ref)


def _utc(value: datetime | None, default: datetime, svc: Services) -> datetime:
    """Query times: an offset is kept; a naive time is read in the workspace's time zone."""
    if value is None:
        return default
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(svc.timezone()))
    return value.astimezone(UTC)


def _period(
    svc: Services, case: CaseView, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    t0, t1 = _utc(start, case.start, svc), _utc(end, case.end, svc)
    if t1 <= t0:
        raise ParameterError("the period's end must be after its start", hint="swap from and to")
    svc.backend.require_period(case, t0, t1)
    return t0, t1


# --- session -----------------------------------------------------------------------------
@router.post("/session", summary="Sign in")
def sign_in(creds: Credentials, request: Request, response: Response, svc: Svc) -> Me:
    limiter: LoginLimiter = request.app.state.limiter
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{creds.username}", f"addr:{client}")
    wait = limiter.retry_after(*keys)
    if wait > 0:
        raise HTTPException(
            429, detail="too many sign-in attempts; wait and try again",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = svc.backend.authenticate(creds.username, creds.password)
    if user is None:
        limiter.failed(*keys)
        raise HTTPException(401, detail="user name or password not recognised")
    limiter.succeeded(keys[0])
    store: SessionStore = request.app.state.sessions
    store.drop(request.cookies.get(SESSION_COOKIE))  # no session fixation
    token, session = store.create(user.username)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict",
        secure=request.app.state.secure_cookies, path="/",
    )
    svc.backend.audit(user, "sign_in", None, {})
    return Me(username=user.username, role=user.role, csrf_token=session.csrf,
              screening=svc.backend.has_screening_authority(user))


@router.delete("/session", status_code=204, summary="Sign out")
def sign_out(request: Request, svc: Svc) -> Response:
    user, _ = current(request)
    request.app.state.sessions.drop(request.cookies.get(SESSION_COOKIE))
    svc.backend.audit(user, "sign_out", None, {})
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", summary="Who is signed in, and the CSRF token for state changes")
def me(request: Request, svc: Svc) -> Me:
    user, session = current(request)
    return Me(username=user.username, role=user.role, csrf_token=session.csrf,
              screening=svc.backend.has_screening_authority(user))


# --- cases -------------------------------------------------------------------------------
@router.get("/cases", summary="The cases you may see")
def list_cases(user: User, svc: Svc) -> list[dict[str, Any]]:
    svc.backend.require(user, "case.read", None)
    return [c.as_json() for c in svc.backend.cases(user)]


@router.get("/cases/{ref}", summary="One case: scope, status, subjects")
def get_case(ref: CaseRef, user: User, svc: Svc) -> dict[str, Any]:
    return _case(svc, user, "case.read", ref).as_json()


@router.get("/cases/{ref}/overview", summary="What the case page draws first (audited)")
def overview(ref: CaseRef, user: User, svc: Svc) -> dict[str, Any]:
    case = _case(svc, user, "location.read", ref)
    summary = svc.summary(ref)
    occasions = svc.occasions(ref)
    svc.backend.audit(user, "view_location", ref, {"what": "case overview"})
    return {
        "case": case.as_json(),
        "crs": summary.get("crs") or svc.crs(),
        "params": summary.get("params", {}),
        "coverage": summary.get("coverage", {}),
        "occasions": occasions,
        "places": svc.places(case),
        "areas": svc.areas(),
    }


@router.get("/cases/{ref}/tracks", summary="Both subjects' tracks for a period, simplified for the zoom (audited)")
def tracks(
    ref: CaseRef,
    user: User,
    svc: Svc,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    tolerance_m: Annotated[float, Query(gt=0, le=100_000, description="ground size of one pixel")] = 10.0,
    max_points: Annotated[int, Query(ge=100, le=200_000)] = 20_000,
) -> dict[str, Any]:
    case = _case(svc, user, "location.read", ref)
    t0, t1 = _period(svc, case, start, end)
    data = svc.track_json(ref, t0, t1, tolerance_m=tolerance_m, max_points=max_points)
    svc.backend.audit(user, "view_location", ref,
                      {"what": "tracks", "from": t0.isoformat(), "to": t1.isoformat()})
    return data


@router.get("/cases/{ref}/occasions", summary="The case's occasions, filtered (audited)")
def occasions(
    ref: CaseRef,
    user: User,
    svc: Svc,
    no_reason: bool | None = None,
    home: bool | None = None,
    remote: bool | None = None,
    confidence: Literal["high", "medium", "low"] | None = None,
) -> list[dict[str, Any]]:
    _case(svc, user, "location.read", ref)
    rows = svc.occasions(ref, no_reason=no_reason, home=home, remote=remote, confidence=confidence)
    svc.backend.audit(user, "view_location", ref, {"what": "occasions", "count": len(rows)})
    return rows


@router.get("/cases/{ref}/occasions/{occasion_id}", summary="One occasion with its evidence and annotations (audited)")
def occasion(ref: CaseRef, occasion_id: CaseRef, user: User, svc: Svc) -> dict[str, Any]:
    _case(svc, user, "location.read", ref)
    row = svc.occasion(ref, occasion_id)
    row["annotations"] = svc.backend.annotations(ref, occasion_id)
    svc.backend.audit(user, "view_location", ref, {"what": "occasion", "occasion_id": occasion_id})
    return row


@router.get("/cases/{ref}/occasions/{occasion_id}/playback",
            summary="Full-resolution tracks, incidents and places around one occasion (audited)")
def playback(ref: CaseRef, occasion_id: CaseRef, user: User, svc: Svc) -> dict[str, Any]:
    case = _case(svc, user, "location.read", ref)
    row = svc.occasion(ref, occasion_id)
    margin = timedelta(seconds=PLAYBACK_MARGIN_S)
    t0 = max(datetime.fromisoformat(row["start"]) - margin, case.start)
    t1 = min(datetime.fromisoformat(row["end"]) + margin, case.end)
    data = svc.track_json(ref, t0, t1, tolerance_m=1.0, max_points=50_000)
    svc.backend.audit(user, "view_location", ref,
                      {"what": "playback", "occasion_id": occasion_id,
                       "from": t0.isoformat(), "to": t1.isoformat()})
    return {
        "occasion": {k: v for k, v in row.items() if k != "evidence"},
        "tracks": data,
        "incidents": svc.incidents(t0, t1),
        "places": svc.places(case),
    }


@router.get("/cases/{ref}/annotations", summary="The case's annotations (audited)")
def case_annotations(ref: CaseRef, user: User, svc: Svc) -> list[dict[str, Any]]:
    _case(svc, user, "location.read", ref)
    return svc.backend.annotations(ref)


@router.post("/cases/{ref}/occasions/{occasion_id}/annotations", status_code=201,
             summary="Annotate an occasion: a note, or a reason added or rejected (audited)")
def annotate(ref: CaseRef, occasion_id: CaseRef, body: AnnotationIn, user: User, svc: Svc) -> dict[str, Any]:
    _case(svc, user, "annotate", ref)
    svc.occasion(ref, occasion_id)  # 404 for an unknown occasion
    if body.decision != "note" and body.reason is None:
        raise ParameterError("a reason is needed to add or reject one",
                             hint=f"choose one of {', '.join(REASONS)}")
    return svc.backend.annotate(user, ref, occasion_id, note=body.note,
                                decision=body.decision, reason=body.reason)


# --- report ------------------------------------------------------------------------------
@router.post("/cases/{ref}/report", status_code=201, summary="Generate the evidential report")
def make_report(ref: CaseRef, user: User, svc: Svc) -> dict[str, str]:
    _case(svc, user, "report", ref)
    paths = svc.write_report(ref)
    svc.backend.audit(user, "report", ref, {"formats": sorted(paths)})
    return {kind: f"/api/cases/{ref}/report/{kind}" for kind in sorted(paths)}


@router.get("/cases/{ref}/report/{kind}", summary="Download the report (html or pdf)",
            response_class=FileResponse)
def get_report(ref: CaseRef, kind: Literal["html", "pdf"], user: User, svc: Svc) -> FileResponse:
    _case(svc, user, "report", ref)
    path = svc.report_file(ref, kind)
    svc.backend.audit(user, "export", ref, {"what": f"report.{kind}"})
    media = "application/pdf" if kind == "pdf" else "text/html"
    return FileResponse(path, media_type=media, filename=f"{ref.replace('/', '-')}-report.{kind}")


# --- screening and audit -----------------------------------------------------------------
@router.get("/screening", summary="Force-wide screening results (screening authority only, audited)")
def screening(user: User, svc: Svc) -> list[dict[str, Any]]:
    svc.backend.require(user, "screening.read", None)
    if not svc.backend.has_screening_authority(user):
        raise ScopeError("screening needs a screening authority",
                         hint="ask a supervisor to record a screening authority for you")
    rows = svc.screening()
    svc.backend.audit(user, "view_screening", None, {"rows": len(rows)})
    return rows


@router.get("/audit", summary="The audit log, newest first (auditors)")
def audit(
    user: User,
    svc: Svc,
    case_ref: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    svc.backend.require(user, "audit.read", None)
    return svc.backend.audit_entries(case_ref=case_ref, limit=limit)


@router.get("/audit/verify", summary="Check the audit log's hash chain (auditors)")
def audit_verify(user: User, svc: Svc) -> dict[str, Any]:
    svc.backend.require(user, "audit.read", None)
    return svc.backend.audit_verify()


__all__ = ["router"]
