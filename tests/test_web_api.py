"""The JSON API: every role × endpoint allowed or refused, case scope, audit of every read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from test_web_support import shared_workspace, test_client_class
from whereabouts.case import CaseStore
from whereabouts.store.runs import RunStore
from whereabouts.web import create_app

ROLES_USERS = ("ivy", "sam", "ana", "aud", "admin", "olly")


def _fake_report(workspace: Path, case_ref: str, out: Path) -> dict[str, Path]:
    """Stands in for the report layer: these tests are about access, not the report."""
    (out / "report.html").write_text(f"<html><body>report of {case_ref}</body></html>")
    (out / "report.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    return {"html": out / "report.html", "pdf": out / "report.pdf"}


@pytest.fixture(scope="session")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return shared_workspace(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="session")
def app(fx: Any) -> Any:
    return create_app(fx.workspace, report_writer=_fake_report)


@pytest.fixture(scope="session")
def clients(app: Any, fx: Any) -> dict[str, Any]:
    """One signed-in client per user, with its CSRF token set."""
    client_cls = test_client_class()
    out = {}
    for name in ROLES_USERS:
        c = client_cls(app)
        r = c.post("/api/session", json={"username": name, "password": fx.password})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        out[name] = c
    # the report must exist for the download endpoint to be tested for access
    assert out["ivy"].post(f"/api/cases/{fx.case_ref}/report").status_code == 201
    return out


def _endpoints(fx: Any) -> list[tuple[str, str, dict[str, Any] | None, set[str]]]:
    """(method, path, json body, users allowed). Who may do what follows DESIGN.md's roles:
    investigators and analysts on the case read location data; supervisors see the case
    record and reports but not tracks; auditors read the audit; administrators manage users
    and verify the chain; an investigator not on the case sees nothing of it."""
    ref, occ = fx.case_ref, fx.occasion_ids[0]
    note = {"note": "seen together at the lay-by", "decision": "note"}
    case_readers = {"ivy", "ana"}
    return [
        ("GET", "/api/cases", None, {"ivy", "sam", "ana", "olly"}),
        ("GET", f"/api/cases/{ref}", None, {"ivy", "sam", "ana"}),
        ("GET", f"/api/cases/{ref}/overview", None, case_readers),
        ("GET", f"/api/cases/{ref}/tracks?tolerance_m=25", None, case_readers),
        ("GET", f"/api/cases/{ref}/occasions", None, case_readers),
        ("GET", f"/api/cases/{ref}/occasions?no_reason=true", None, case_readers),
        ("GET", f"/api/cases/{ref}/occasions/{occ}", None, case_readers),
        ("GET", f"/api/cases/{ref}/occasions/{occ}/playback", None, case_readers),
        ("GET", f"/api/cases/{ref}/annotations", None, case_readers),
        ("POST", f"/api/cases/{ref}/occasions/{occ}/annotations", note, case_readers),
        ("POST", f"/api/cases/{ref}/report", None, {"ivy"}),
        ("GET", f"/api/cases/{ref}/report/html", None, {"ivy", "sam", "ana"}),
        ("GET", f"/api/cases/{ref}/report/pdf", None, {"ivy", "sam", "ana"}),
        ("GET", "/api/screening", None, {"ana"}),
        ("GET", "/api/audit", None, {"aud"}),
        ("GET", "/api/audit/verify", None, {"aud", "admin"}),
    ]


def test_every_role_and_endpoint_is_allowed_or_refused(clients: dict[str, Any], fx: Any) -> None:
    problems = []
    for method, path, body, allowed in _endpoints(fx):
        for user in ROLES_USERS:
            r = clients[user].request(method, path, json=body)
            ok = 200 <= r.status_code < 300
            if ok != (user in allowed) or (not ok and r.status_code != 403):
                problems.append(f"{user} {method} {path}: {r.status_code} {r.text[:120]}")
    assert not problems, "\n".join(problems)


def test_signed_out_requests_are_refused(app: Any, fx: Any) -> None:
    anon = test_client_class()(app)
    for method, path, body, _ in _endpoints(fx):
        r = anon.request(method, path, json=body)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json()["hint"]
    page = anon.get(f"/cases/{fx.case_ref}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_refusals_say_why_and_how_to_fix(clients: dict[str, Any], fx: Any) -> None:
    r = clients["olly"].get(f"/api/cases/{fx.case_ref}/tracks")
    body = r.json()
    assert r.status_code == 403 and body["error"] == "PermissionDenied"
    assert "not assigned" in body["message"] and "case assign" in body["hint"]
    r = clients["sam"].get(f"/api/cases/{fx.case_ref}/tracks")
    assert r.status_code == 403 and "location" in r.json()["message"]


def test_out_of_scope_periods_and_cases_are_refused(clients: dict[str, Any], fx: Any) -> None:
    ivy = clients["ivy"]
    ref = fx.case_ref
    before = (fx.start.replace(year=fx.start.year - 1)).isoformat()
    r = ivy.get(f"/api/cases/{ref}/tracks", params={"from": before, "to": fx.end.isoformat()})
    assert r.status_code == 403 and r.json()["error"] == "ScopeError"
    assert "authorised dates" in r.json()["message"] and r.json()["hint"]
    r = ivy.get("/api/cases/NO-SUCH-CASE/tracks")
    assert r.status_code in (403, 404)
    r = ivy.get(f"/api/cases/{ref}/occasions/occ-000000000000")
    assert r.status_code == 404
    inside = ivy.get(
        f"/api/cases/{ref}/tracks",
        params={"from": fx.start.isoformat(), "to": (fx.start.replace(hour=12)).isoformat()},
    )
    assert inside.status_code == 200


def test_every_location_read_and_annotation_is_audited(clients: dict[str, Any], fx: Any) -> None:
    ref, occ = fx.case_ref, fx.occasion_ids[1]
    store = CaseStore.open(fx.workspace)
    try:
        n0 = len(store.audit.entries(case_ref=ref))
        assert clients["ana"].get(f"/api/cases/{ref}/occasions/{occ}/playback").status_code == 200
        assert clients["olly"].get(f"/api/cases/{ref}/occasions/{occ}/playback").status_code == 403
        note = {
            "note": "reason: both at the custody suite",
            "decision": "add_reason",
            "reason": "premises",
        }
        r = clients["ivy"].post(f"/api/cases/{ref}/occasions/{occ}/annotations", json=note)
        assert r.status_code == 201 and r.json()["reason_added"] == "premises"
        new = store.audit.entries(case_ref=ref)[n0:]
        reads = [e for e in new if e["action"] == "location.read"]
        assert [(e["actor"], e["detail"]["what"]) for e in reads] == [("ana", "playback")]
        assert reads[0]["detail"]["officers"] == list(fx.subjects)
        notes = [e for e in new if e["action"] == "annotate"]
        assert [(e["actor"], e["detail"]["occasion_id"]) for e in notes] == [("ivy", occ)]
        assert store.audit.verify().ok
        assert any(a["note"] == note["note"] for a in store.annotations(ref))
    finally:
        store.close()
    shown = clients["aud"].get("/api/audit", params={"case_ref": ref, "limit": 5}).json()
    assert shown[0]["action"] == "annotate" and shown[0]["actor"] == "ivy"


def test_audit_filters_by_user_action_and_date(clients: dict[str, Any], fx: Any) -> None:
    everything = clients["aud"].get("/api/audit", params={"limit": 5000}).json()
    assert everything and all("at" in e for e in everything)
    mine = clients["aud"].get("/api/audit", params={"actor": "ana", "limit": 5000}).json()
    assert mine == [e for e in everything if e["actor"] == "ana"]
    reads = (
        clients["aud"].get("/api/audit", params={"action": "location.read", "limit": 5000}).json()
    )
    assert reads and reads == [e for e in everything if e["action"] == "location.read"]
    days = sorted({e["at"][:10] for e in everything})
    none = clients["aud"].get("/api/audit", params={"until": "2000-01-01"}).json()
    assert none == []
    recent = clients["aud"].get("/api/audit", params={"since": days[0], "limit": 5000}).json()
    assert len(recent) == len(everything)
    bad = clients["aud"].get("/api/audit", params={"since": "yesterday"})
    assert bad.status_code == 422


def test_occasion_filters_match_the_analysis_output(clients: dict[str, Any], fx: Any) -> None:
    table = RunStore(fx.workspace).current(fx.case_ref).table("occasions").to_pylist()
    want = {
        # "no policing reason found" is the finding of that name (not assessable is not it)
        "no_reason=true": {o["occasion_id"] for o in table if o["finding"] == "no_reason_found"},
        "no_reason=false": {o["occasion_id"] for o in table if o["finding"] != "no_reason_found"},
        "home=true": {o["occasion_id"] for o in table if "home" in o["flags"]},
        "remote=true": {o["occasion_id"] for o in table if "remote" in o["flags"]},
        "remote=false": {o["occasion_id"] for o in table if "remote" not in o["flags"]},
        "confidence=low": {o["occasion_id"] for o in table if o["confidence"] == "low"},
        "no_reason=true&remote=true": {
            o["occasion_id"]
            for o in table
            if o["finding"] == "no_reason_found" and "remote" in o["flags"]
        },
    }
    for query, ids in want.items():
        r = clients["ivy"].get(f"/api/cases/{fx.case_ref}/occasions?{query}")
        assert r.status_code == 200
        assert {o["occasion_id"] for o in r.json()} == ids, query
    assert (
        clients["ivy"].get(f"/api/cases/{fx.case_ref}/occasions?confidence=certain").status_code
        == 422
    )


def test_an_occasion_reads_in_the_web_app_as_in_the_run(clients: dict[str, Any], fx: Any) -> None:
    """One figure, one value: the web app's occasions (list and page) carry the run's
    finding, what was not assessed, the robustness line, reasons, flags and duration."""
    table = RunStore(fx.workspace).current(fx.case_ref).table("occasions").to_pylist()
    assert table and all(o["robustness"] for o in table)
    listed = {
        o["occasion_id"]: o
        for o in clients["ivy"].get(f"/api/cases/{fx.case_ref}/occasions").json()
    }
    assert listed.keys() == {o["occasion_id"] for o in table}
    keys = ("finding", "not_assessed", "robustness", "reasons", "flags", "duration_s")
    for o in table:
        page = clients["ivy"].get(f"/api/cases/{fx.case_ref}/occasions/{o['occasion_id']}")
        assert page.status_code == 200
        for k in keys:
            assert page.json()[k] == o[k], k
            assert listed[o["occasion_id"]][k] == o[k], k


def test_tracks_are_simplified_for_the_zoom_and_break_at_gaps(
    clients: dict[str, Any], fx: Any
) -> None:
    ivy = clients["ivy"]
    fine = ivy.get(f"/api/cases/{fx.case_ref}/tracks?tolerance_m=1").json()
    coarse = ivy.get(f"/api/cases/{fx.case_ref}/tracks?tolerance_m=200").json()
    assert [u["unit"] for u in fine["units"]] == list(fx.subjects)
    assert sum(u["fixes"] for u in fine["units"]) == fx.fixes
    for f, c in zip(fine["units"], coarse["units"], strict=True):
        assert c["drawn"] < f["drawn"] / 3
        # one segment per shift at least (overnight gaps are far above max_gap_s)
        assert len(c["segments"]) >= 3
        for seg in c["segments"]:
            assert seg["t"] == sorted(seg["t"])


def test_places_hide_homes_of_officers_outside_the_case(clients: dict[str, Any], fx: Any) -> None:
    places = clients["ivy"].get(f"/api/cases/{fx.case_ref}/overview").json()["places"]
    ids = {p["place_id"] for p in places}
    assert "H-A" in ids and "P1" in ids and "H-X" not in ids


def test_annotation_input_is_validated(clients: dict[str, Any], fx: Any) -> None:
    url = f"/api/cases/{fx.case_ref}/occasions/{fx.occasion_ids[0]}/annotations"
    ivy = clients["ivy"]
    assert ivy.post(url, json={"note": "x", "decision": "add_reason"}).status_code == 422
    assert (
        ivy.post(url, json={"note": "x", "decision": "add_reason", "reason": "lunch"}).status_code
        == 422
    )
    assert ivy.post(url, json={"note": "   ", "decision": "note"}).status_code == 422
    missing = f"/api/cases/{fx.case_ref}/occasions/occ-ffffffffffff/annotations"
    assert ivy.post(missing, json={"note": "x"}).status_code == 404


def test_screening_results_need_a_recorded_authority(clients: dict[str, Any], fx: Any) -> None:
    ana = clients["ana"]
    runs = {r["run"]: r for r in ana.get("/api/screening").json()}
    assert runs["screen-1"]["authority"] == "SCR-1" and runs["screen-2"]["authority"] is None
    shown = ana.get("/api/screening/screen-1")
    assert shown.status_code == 200
    assert [r["officer_a"] for r in shown.json()["rows"]] == ["OFF-A", "OFF-C"]
    refused = ana.get("/api/screening/screen-2")
    assert refused.status_code == 403 and "authority" in refused.json()["message"]
    assert ana.get("/api/screening/screen-9").status_code == 404
    assert clients["ivy"].get("/api/screening/screen-1").status_code == 403
    audit = clients["aud"].get("/api/audit", params={"limit": 50}).json()
    assert any(e["action"] == "screening.read" and e["actor"] == "ana" for e in audit)


def test_serve_command_is_registered_with_its_options() -> None:
    from typer.testing import CliRunner

    from whereabouts.cli import app as cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--secure-cookies", "127.0.0.1"):
        assert option in result.output


def test_roads_context_layer_is_drawn_in_grid_metres(fx: Any, tmp_path: Path) -> None:
    import json

    from pyproj import Transformer

    line = [[-3.05, 51.60], [-3.00, 51.61], [-2.95, 51.63]]
    roads = tmp_path / "roads.geojson"
    roads.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "LineString", "coordinates": line},
                    }
                ],
            }
        )
    )
    client = test_client_class()(create_app(fx.workspace, roads=roads))
    assert (
        client.post("/api/session", json={"username": "ivy", "password": fx.password}).status_code
        == 200
    )
    drawn = client.get(f"/api/cases/{fx.case_ref}/overview").json()["roads"]
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    want = [to_bng.transform(lon, lat) for lon, lat in line]
    assert len(drawn) == 1
    assert np.allclose(np.array(drawn[0]), np.array(want), atol=0.1)
    plain = test_client_class()(create_app(fx.workspace))
    plain.post("/api/session", json={"username": "ivy", "password": fx.password})
    assert plain.get(f"/api/cases/{fx.case_ref}/overview").json()["roads"] == []


def test_pages_are_refused_not_just_hidden(clients: dict[str, Any], fx: Any) -> None:
    ref, occ = fx.case_ref, fx.occasion_ids[0]
    pages = {
        f"/cases/{ref}": {"ivy", "sam", "ana"},
        f"/cases/{ref}/playback/{occ}": {"ivy", "ana"},
        f"/cases/{ref}/occasions/{occ}": {"ivy", "ana"},
        "/screening": {"ana"},
        "/audit": {"aud", "admin"},
    }
    for path, allowed in pages.items():
        for user in ROLES_USERS:
            r = clients[user].get(path)
            assert (r.status_code == 200) == (user in allowed), (user, path, r.status_code)
            if r.status_code != 200:
                assert r.status_code == 403 and "How to fix" in r.text
    # each role lands where its work is
    assert clients["aud"].get("/", follow_redirects=False).headers["location"] == "/audit"
    assert clients["ivy"].get("/", follow_redirects=False).headers["location"] == "/cases"


def test_the_workspaces_ingested_roads_are_drawn_without_a_roads_file(tmp_path: Path) -> None:
    import json

    from pyproj import Transformer

    from whereabouts.store.workspace import Workspace
    from whereabouts.web.services import Services

    line = [[-3.44, 51.71], [-3.43, 51.715]]
    path = tmp_path / "roads.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "Heol y Felin"},
                        "geometry": {"type": "LineString", "coordinates": line},
                    }
                ],
            }
        )
    )
    ws = Workspace.init(tmp_path / "ws")
    assert Services(ws.path).roads() == []  # nothing ingested: nothing drawn
    ws.ingest("roads", [path])
    drawn = Services(ws.path).roads()
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    want = [to_bng.transform(lon, lat) for lon, lat in line]
    assert len(drawn) == 1
    assert np.allclose(np.array(drawn[0]), np.array(want), atol=0.1)


def test_tracks_take_whole_local_days_like_every_command(clients: dict[str, Any], fx: Any) -> None:
    from whereabouts.days import day_span

    ivy, ref = clients["ivy"], fx.case_ref
    day = fx.start.date().isoformat()
    r = ivy.get(f"/api/cases/{ref}/tracks", params={"from": day, "to": day})
    assert r.status_code == 200, r.text
    store = CaseStore.open(fx.workspace)
    try:
        read = store.audit.entries(case_ref=ref)[-1]["detail"]
    finally:
        store.close()
    t0, t1 = day_span(day, day, "Europe/London")  # the fixture's workspace zone
    assert (read["start"], read["end"]) == (f"{t0:%Y-%m-%dT%H:%M:%S}Z", f"{t1:%Y-%m-%dT%H:%M:%S}Z")
