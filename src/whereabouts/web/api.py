"""The JSON API (`/api/...`): the pages use it; its OpenAPI document is at /openapi.json.

Every endpoint names the action it needs and checks it with the case layer before reading
anything; every read of location data and every annotation is written to the audit log.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from whereabouts.case import Case, UserInfo
from whereabouts.days import FROM_HELP, TO_HELP, parse_when
from whereabouts.errors import ParameterError
from whereabouts.schema import REASONS
from whereabouts.vocabulary import Reason
from whereabouts.web.review import (
    DEFAULT_NEAR_M,
    export_bytes,
    near_json,
    officer_labels,
    review_json,
)
from whereabouts.web.security import (
    SESSION_COOKIE,
    LoginLimiter,
    Session,
    SessionStore,
    client_address,
)
from whereabouts.web.services import PLAYBACK_MARGIN_S, Services, _case_json

router = APIRouter(prefix="/api")

# Role-level actions the pages ask about to decide what to offer (the API still checks).
UI_ACTIONS = (
    "case.view",
    "location.read",
    "annotate",
    "report.write",
    "report.read",
    "export",
    "screening.run",
    "audit.read",
    "audit.verify",
)
# Identifiers in paths: letters, digits, '.', '_', '-', not starting with a dot (no '..').
Ref = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class AnnotationIn(BaseModel):
    note: str = Field(
        min_length=1, max_length=5000, pattern=r"\S", description="what the investigator found"
    )
    decision: Literal["note", "add_reason", "reject_reason"] = Field(
        "note", description="a note only, a policing reason added, or a found reason rejected"
    )
    reason: Reason | None = Field(None, description="the policing reason added or rejected")


class Me(BaseModel):
    username: str
    role: str
    csrf_token: str
    may: list[str]


def services(request: Request) -> Services:
    value: Services = request.app.state.services
    return value


def current(request: Request) -> tuple[UserInfo, Session]:
    """The signed-in user and session, or 401."""
    store: SessionStore = request.app.state.sessions
    session = store.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise HTTPException(401, detail="sign in first")
    user = services(request).user(session.username)
    if user is None:
        store.drop(request.cookies.get(SESSION_COOKIE))
        raise HTTPException(401, detail="sign in first")
    return user, session


def signed_in(request: Request) -> UserInfo:
    return current(request)[0]


User = Annotated[UserInfo, Depends(signed_in)]
Svc = Annotated[Services, Depends(services)]


def _when(text: str | None, svc: Services, *, end: bool = False) -> datetime | None:
    """from/to as every command reads them (days.parse_when): YYYY-MM-DD a whole local day
    in the workspace's zone (`to` included), or an ISO time (naive: local)."""
    if text is None:
        return None
    return _utc(parse_when(text, svc.timezone(), end=end), svc)


def _utc(value: datetime | None, svc: Services) -> datetime | None:
    """Query times: an offset is kept; a naive time is read in the workspace's time zone."""
    if value is None:
        return None
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(svc.timezone()))
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ParameterError(
            "a time in the request is out of range",
            hint="give ISO 8601 times with an offset, e.g. 2024-03-01T08:00:00Z",
        ) from exc


def _me(svc: Services, user: UserInfo, session: Session) -> Me:
    return Me(
        username=user.username,
        role=user.role,
        csrf_token=session.csrf,
        may=[a for a in UI_ACTIONS if svc.may(user, a)],
    )


# --- session -----------------------------------------------------------------------------
@router.post("/session", summary="Sign in")
def sign_in(creds: Credentials, request: Request, response: Response, svc: Svc) -> Me:
    limiter: LoginLimiter = request.app.state.limiter
    client = client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        request.app.state.trusted_proxies,
    )
    wait = limiter.retry_after(creds.username, client)
    if wait > 0:
        raise HTTPException(
            429,
            detail="too many sign-in attempts; wait and try again",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = svc.authenticate(creds.username, creds.password)
    if user is None:
        limiter.failed(creds.username, client)
        raise HTTPException(401, detail="user name or password not recognised")
    limiter.succeeded(creds.username, client)
    store: SessionStore = request.app.state.sessions
    store.drop(request.cookies.get(SESSION_COOKIE))  # a fresh token: no session fixation
    token, session = store.create(user.username)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.secure_cookies,
        path="/",
    )
    return _me(svc, user, session)


@router.delete("/session", status_code=204, summary="Sign out")
def sign_out(request: Request) -> Response:
    current(request)
    request.app.state.sessions.drop(request.cookies.get(SESSION_COOKIE))
    _tile_readers(request).pop(_token_key(request) or "", None)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", summary="Who is signed in, what they may do, and the CSRF token")
def me(request: Request, svc: Svc) -> Me:
    user, session = current(request)
    return _me(svc, user, session)


# --- cases -------------------------------------------------------------------------------
@router.get("/cases", summary="The cases you are assigned to")
def list_cases(user: User, svc: Svc) -> list[dict[str, Any]]:
    return [_case_json(c) for c in svc.cases(user)]


@router.get("/cases/{ref}", summary="One case: scope, status, subjects")
def get_case(ref: Ref, user: User, svc: Svc) -> dict[str, Any]:
    return _case_json(svc.case(user, ref))


@router.get(
    "/cases/{ref}/overview",
    summary="What the case page draws first: occasions, places, areas (audited)",
)
def overview(ref: Ref, user: User, svc: Svc) -> Response:
    case = svc.record_read(user, ref, "case overview")
    return Response(svc.overview_json(case), media_type="application/json")


@router.get(
    "/cases/{ref}/tracks",
    summary="Both subjects' tracks for a period, simplified for the zoom (audited)",
)
def tracks(
    ref: Ref,
    user: User,
    svc: Svc,
    start: Annotated[str | None, Query(alias="from", description=FROM_HELP)] = None,
    end: Annotated[str | None, Query(alias="to", description=TO_HELP)] = None,
    tolerance_m: Annotated[
        float, Query(ge=0.1, le=100_000, description="ground size of one pixel, metres")
    ] = 10.0,
    max_points: Annotated[
        int, Query(ge=100, le=200_000, description="most points per unit")
    ] = 20_000,
) -> Response:
    t0, t1 = _when(start, svc), _when(end, svc, end=True)
    if t0 is not None and t1 is not None and t1 <= t0:
        raise ParameterError("the period's end must be after its start", hint="swap from and to")
    case = svc.record_read(user, ref, "tracks", t0, t1, tolerance_m=tolerance_m)
    body = svc.track_json(
        ref, t0 or case.start, t1 or case.end, tolerance_m=tolerance_m, max_points=max_points
    )
    return Response(body, media_type="application/json")


@router.get("/cases/{ref}/occasions", summary="The case's occasions, filtered (audited)")
def occasions(
    ref: Ref,
    user: User,
    svc: Svc,
    no_reason: bool | None = None,
    home: bool | None = None,
    remote: bool | None = None,
    confidence: Literal["high", "medium", "low"] | None = None,
) -> list[dict[str, Any]]:
    svc.record_read(
        user, ref, "occasions", no_reason=no_reason, home=home, remote=remote, confidence=confidence
    )
    return svc.occasions(ref, no_reason=no_reason, home=home, remote=remote, confidence=confidence)


def _occasion_read(
    svc: Services, user: UserInfo, ref: str, occasion_id: str, what: str, margin_s: float = 0
) -> tuple[Case, dict[str, Any], datetime, datetime]:
    svc.require(user, "location.read", ref)
    row = svc.occasion(ref, occasion_id)
    case = svc.store.get_case(ref)
    margin = timedelta(seconds=margin_s)
    t0 = max(datetime.fromisoformat(row["start"]) - margin, case.start)
    t1 = min(datetime.fromisoformat(row["end"]) + margin, case.end)
    svc.record_read(user, ref, what, t0, t1, occasion_id=occasion_id)
    return case, row, t0, t1


@router.get(
    "/cases/{ref}/occasions/{occasion_id}",
    summary="One occasion with its evidence and annotations (audited)",
)
def occasion(ref: Ref, occasion_id: Ref, user: User, svc: Svc) -> dict[str, Any]:
    _, row, _, _ = _occasion_read(svc, user, ref, occasion_id, "occasion")
    row["annotations"] = svc.annotations(ref, occasion_id)
    row["officer_labels"] = officer_labels(svc, [row["officer_a"], row["officer_b"]])
    return row


@router.get(
    "/cases/{ref}/occasions/{occasion_id}/playback",
    summary="Full-resolution tracks, incidents and places around one occasion (audited)",
)
def playback(ref: Ref, occasion_id: Ref, user: User, svc: Svc) -> dict[str, Any]:
    case, row, t0, t1 = _occasion_read(svc, user, ref, occasion_id, "playback", PLAYBACK_MARGIN_S)
    return {
        "occasion": {k: v for k, v in row.items() if k != "evidence"},
        "tracks": json.loads(svc.track_json(ref, t0, t1, tolerance_m=1.0, max_points=50_000)),
        "incidents": svc.incidents(t0, t1),
        "places": svc.places(case),
        "roads": svc.roads(),
    }


@router.get(
    "/cases/{ref}/review",
    summary="Playback and timeline data for a period: officers, the distance between "
    "them over time, stops, occasions, incidents, duty bands (audited)",
)
def review(
    ref: Ref,
    user: User,
    svc: Svc,
    start: Annotated[str | None, Query(alias="from", description=FROM_HELP)] = None,
    end: Annotated[str | None, Query(alias="to", description=TO_HELP)] = None,
    samples: Annotated[
        int, Query(ge=2, le=20_000, description="points of the distance chart")
    ] = 600,
) -> dict[str, Any]:
    t0, t1 = _when(start, svc), _when(end, svc, end=True)
    if t0 is not None and t1 is not None and t1 <= t0:
        raise ParameterError("the period's end must be after its start", hint="swap from and to")
    case = svc.record_read(user, ref, "review", t0, t1)
    return review_json(svc, case, t0 or case.start, t1 or case.end, samples=samples)


@router.get(
    "/cases/{ref}/near",
    summary="Who was near here then: the case's officers within a distance of a point "
    "at a time (audited)",
)
def near(
    ref: Ref,
    user: User,
    svc: Svc,
    at: Annotated[str, Query(description="the time: ISO 8601 (naive: the workspace's zone)")],
    x: Annotated[float, Query(ge=-1e7, le=1e7, description="easting of the point, grid metres")],
    y: Annotated[float, Query(ge=-1e7, le=1e7, description="northing of the point, grid metres")],
    distance_m: Annotated[
        float, Query(gt=0, le=50_000, description="how near, metres")
    ] = DEFAULT_NEAR_M,
) -> dict[str, Any]:
    when = _when(at, svc)
    if when is None:  # `at` is required: FastAPI answers 422 before this
        raise ParameterError("say when", hint="give at=YYYY-MM-DDTHH:MM")
    case = svc.record_read(user, ref, "near", when, when, x=x, y=y, distance_m=distance_m)
    return near_json(svc, case, when, x, y, distance_m)


@router.get(
    "/cases/{ref}/export/{fmt}",
    summary="Download the case's analysis as kml, geojson, gpx, csv or i2 (audited)",
    response_class=Response,
)
def export(
    ref: Ref, fmt: Literal["kml", "geojson", "gpx", "csv", "i2"], user: User, svc: Svc
) -> Response:
    svc.record_read(user, ref, "export", action="export", format=fmt)
    data, name = export_bytes(svc, ref, fmt)
    media = {
        "kml": "application/vnd.google-earth.kml+xml",
        "geojson": "application/geo+json",
        "gpx": "application/gpx+xml",
    }.get(fmt, "text/csv")
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/cases/{ref}/annotations", summary="The case's annotations (audited)")
def case_annotations(ref: Ref, user: User, svc: Svc) -> list[dict[str, Any]]:
    svc.record_read(user, ref, "annotations")
    return svc.annotations(ref)


@router.post(
    "/cases/{ref}/occasions/{occasion_id}/annotations",
    status_code=201,
    summary="Annotate an occasion: a note, or a policing reason added or rejected (audited)",
)
def annotate(
    ref: Ref, occasion_id: Ref, body: AnnotationIn, user: User, svc: Svc
) -> dict[str, Any]:
    svc.require(user, "annotate", ref)
    svc.occasion(ref, occasion_id)  # 404 for an occasion the case does not have
    if body.decision != "note" and body.reason is None:
        raise ParameterError(
            "a reason is needed to add or reject one", hint=f"choose one of {', '.join(REASONS)}"
        )
    return svc.annotate(
        user,
        ref,
        occasion_id,
        note=body.note,
        reason_added=body.reason if body.decision == "add_reason" else None,
        reason_rejected=body.reason if body.decision == "reject_reason" else None,
    )


# --- report ------------------------------------------------------------------------------
@router.post(
    "/cases/{ref}/report", status_code=201, summary="Generate the evidential report (audited)"
)
def make_report(ref: Ref, user: User, svc: Svc) -> dict[str, str]:
    svc.record_read(user, ref, "report", action="report.write")
    paths = svc.write_report(ref)
    return {kind: f"/api/cases/{ref}/report/{kind}" for kind in sorted(paths)}


@router.get(
    "/cases/{ref}/report/{kind}",
    summary="Download the report (html or pdf; audited)",
    response_class=FileResponse,
)
def get_report(ref: Ref, kind: Literal["html", "pdf"], user: User, svc: Svc) -> FileResponse:
    svc.require(user, "report.read", ref)
    path = svc.report_file(ref, kind)
    svc.store.audit.append(user.username, "report.read", ref, {"what": f"report.{kind}"})
    media = "application/pdf" if kind == "pdf" else "text/html"
    return FileResponse(path, media_type=media, filename=f"{ref}-report.{kind}")


# --- screening and audit -----------------------------------------------------------------
@router.get(
    "/basemap",
    summary="The background-map tiles for a map view, each with the affine that places it on the grid (context only, not evidence)",
)
def basemap_view(
    user: User,
    svc: Svc,
    x0: Annotated[float, Query(ge=-1e7, le=1e7, description="west edge, grid metres")],
    y0: Annotated[float, Query(ge=-1e7, le=1e7, description="south edge, grid metres")],
    x1: Annotated[float, Query(ge=-1e7, le=1e7, description="east edge, grid metres")],
    y1: Annotated[float, Query(ge=-1e7, le=1e7, description="north edge, grid metres")],
    width_px: Annotated[
        float, Query(ge=1, le=8192, description="the map's width in screen pixels")
    ] = 1000,
) -> dict[str, Any]:
    return svc.basemap_tiles(x0, y0, x1, y1, width_px)


@router.get(
    "/basemap/{z}/{x}/{y}",
    summary="One tile of the app's local background map",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
)
def basemap_tile(
    user: User,
    svc: Svc,
    z: Annotated[int, Path(ge=0, le=24)],
    x: Annotated[int, Path(ge=0, le=2**24)],
    y: Annotated[int, Path(ge=0, le=2**24)],
) -> Response:
    data, mime = svc.basemap_tile(z, x, y)
    # Tiles never change while the app runs; private: only for the signed-in browser.
    return Response(data, media_type=mime, headers={"Cache-Control": "private, max-age=86400"})


@router.get(
    "/map",
    summary="The workspace's vector map: whether there is one, its bounds and zooms (context only, not evidence)",
)
def map_info(
    user: User,
    svc: Svc,
    x: Annotated[
        float | None,
        Query(description="easting of a grid point: without a street map, place tracks around it"),
    ] = None,
    y: Annotated[float | None, Query(description="northing of that grid point")] = None,
) -> dict[str, Any]:
    around = (x, y) if x is not None and y is not None else None
    if around is not None and not all(abs(v) < 1e8 for v in around):
        raise ParameterError(
            f"map point ({x}, {y}) is not a grid point",
            hint="give x and y in the workspace's grid metres",
        )
    return svc.map_info(around)


TILE_SIGN_IN_S = 5.0  # how long a checked session may fetch map tiles before a new check


def _tile_readers(request: Request) -> dict[str, float]:
    """Sessions (by token hash) last checked for map tiles, and when (monotonic seconds)."""
    readers: dict[str, float] | None = getattr(request.app.state, "tile_readers", None)
    if readers is None:
        readers = request.app.state.tile_readers = {}
    return readers


def _token_key(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    return hashlib.sha256(token.encode()).hexdigest() if token else None


@router.get(
    "/map/tiles/{z}/{x}/{y}",
    summary="One vector tile (Mapbox Vector Tile) of the workspace's map layers",
    response_class=Response,
    responses={
        200: {"content": {"application/x-protobuf": {}}},
        204: {"description": "no map features in this tile"},
    },
)
async def map_tile(
    request: Request,
    z: Annotated[int, Path(ge=0, le=24)],
    x: Annotated[int, Path(ge=0, le=2**24)],
    y: Annotated[int, Path(ge=0, le=2**24)],
) -> Response:
    # On the event loop, not the thread pool, and without a database read when the same
    # session was checked in the last TILE_SIGN_IN_S: a map view asks for a dozen tiles at
    # once, and they should not queue behind track requests (tiles are public map data).
    readers, key = _tile_readers(request), _token_key(request)
    now = time.monotonic()
    if key is None or now - readers.get(key, -TILE_SIGN_IN_S) >= TILE_SIGN_IN_S:
        current(request)  # 401 unless signed in
        if len(readers) > 10_000:
            readers.clear()
        readers[key or ""] = now
    data = services(request).map_tile(z, x, y)
    if data is None:
        return Response(status_code=204, headers={"Cache-Control": "private, max-age=86400"})
    return Response(
        data,
        media_type="application/x-protobuf",
        headers={"Cache-Control": "private, max-age=86400"},
    )


@router.get("/screening", summary="Screening outputs and the authority each ran under (analysts)")
def screening_list(user: User, svc: Svc) -> list[dict[str, Any]]:
    svc.require(user, "screening.run")
    return svc.screening_results()


@router.get(
    "/screening/{run}", summary="One screening output's ranked pairs (needs its authority; audited)"
)
def screening(run: Ref, user: User, svc: Svc) -> dict[str, Any]:
    return svc.screening(user, run)


@router.get("/audit", summary="The audit log, newest first (auditors)")
def audit(
    user: User,
    svc: Svc,
    case_ref: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    actor: Annotated[
        str | None, Query(max_length=64, description="only this user's entries")
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description="only this action")] = None,
    since: Annotated[date | None, Query(description="from this date (workspace time zone)")] = None,
    until: Annotated[date | None, Query(description="to this date, inclusive")] = None,
) -> list[dict[str, Any]]:
    return svc.audit_entries(
        user, case_ref=case_ref, limit=limit, actor=actor, action=action, since=since, until=until
    )


@router.get("/audit/verify", summary="Check the audit log's hash chain (auditors, administrators)")
def audit_verify(user: User, svc: Svc) -> dict[str, Any]:
    return svc.audit_verify(user)


__all__ = ["router"]
