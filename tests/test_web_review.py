"""The review tools' API: playback/timeline data, who was near here then, exports — each
scoped to the case and audited like every read."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from test_web_support import shared_workspace, test_client_class
from whereabouts.case import CaseStore
from whereabouts.store.runs import RunStore
from whereabouts.web import create_app


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return shared_workspace(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def clients(fx: Any) -> dict[str, Any]:
    app = create_app(fx.workspace)
    out = {}
    for name in ("ivy", "ana", "sam", "olly"):
        c = test_client_class()(app)
        r = c.post("/api/session", json={"username": name, "password": fx.password})
        assert r.status_code == 200, r.text
        out[name] = c
    return out


def _last_audit(fx: Any) -> dict[str, Any]:
    store = CaseStore.open(fx.workspace)
    try:
        entry: dict[str, Any] = dict(store.audit.entries(case_ref=fx.case_ref)[-1])
        return entry
    finally:
        store.close()


def _occasions(fx: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        RunStore(fx.workspace).current(fx.case_ref).table("occasions").to_pylist()
    )
    return rows


def test_review_gives_distance_over_time_and_each_officers_timeline(
    clients: dict[str, Any], fx: Any
) -> None:
    day = fx.start.date().isoformat()
    r = clients["ivy"].get(
        f"/api/cases/{fx.case_ref}/review", params={"from": day, "to": day, "samples": 300}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [u["unit"] for u in body["units"]] == list(fx.subjects)
    assert [(p["a"], p["b"]) for p in body["pairs"]] == [fx.subjects]
    dist = {"t": body["t"], "d": body["pairs"][0]["d"]}
    assert len(dist["t"]) == len(dist["d"]) == 300 and dist["t"] == sorted(dist["t"])
    # at the middle of each occasion that day the two were together (the fixture puts
    # them 15 m apart, 5 m noise); overnight neither position is known
    first_day = [o for o in _occasions(fx) if o["start"].date() == fx.start.date()]
    assert first_day
    for o in first_day:
        mid = (o["start"] + (o["end"] - o["start"]) / 2).timestamp()
        k = min(range(300), key=lambda i: abs(dist["t"][i] - mid))
        assert dist["d"][k] is not None and dist["d"][k] < 60, (o["occasion_id"], dist["d"][k])
    assert dist["d"][0] is None  # midnight: off duty, no fixes
    assert {o["occasion_id"] for o in body["occasions"]} == {o["occasion_id"] for o in first_day}
    kinds = {(b["officer_id"], b["kind"]) for b in body["bands"]}
    assert {
        ("OFF-A", "duty"),
        ("OFF-B", "duty"),
        ("OFF-A", "incident"),
        ("OFF-A", "occasion"),
        ("OFF-B", "occasion"),
    } <= kinds
    assert ("OFF-B", "incident") not in kinds  # only OFF-A is sent to incidents
    assert body["band_kinds"] == ["duty", "incident", "occasion", "stop"]
    for b in body["bands"]:
        assert b["start"] <= b["end"] and b["officer_id"] in fx.subjects
    read = _last_audit(fx)
    assert (read["actor"], read["action"], read["detail"]["what"]) == (
        "ivy",
        "location.read",
        "review",
    )


def test_review_is_refused_outside_the_case_and_its_roles(clients: dict[str, Any], fx: Any) -> None:
    url = f"/api/cases/{fx.case_ref}/review"
    assert clients["sam"].get(url).status_code == 403  # supervisors see no tracks
    assert clients["olly"].get(url).status_code == 403  # not on the case
    before = (fx.start - timedelta(days=30)).date().isoformat()
    r = clients["ivy"].get(url, params={"from": before, "to": before})
    assert r.status_code == 403 and r.json()["error"] == "ScopeError"
    assert clients["ivy"].get(url, params={"samples": 1}).status_code == 422


def test_who_was_near_here_then_lists_the_cases_officers_within_the_distance(
    clients: dict[str, Any], fx: Any
) -> None:
    o = _occasions(fx)[0]
    mid: datetime = o["start"] + (o["end"] - o["start"]) / 2
    url = f"/api/cases/{fx.case_ref}/near"
    q = {"at": mid.isoformat(), "x": o["x"], "y": o["y"], "distance_m": 150}
    r = clients["ana"].get(url, params=q)
    assert r.status_code == 200, r.text
    found = r.json()["officers"]
    assert {f["unit"] for f in found} == set(fx.subjects)
    assert [f["distance_m"] for f in found] == sorted(f["distance_m"] for f in found)
    assert all(f["distance_m"] <= 150 for f in found)
    read = _last_audit(fx)
    assert read["actor"] == "ana" and read["detail"]["what"] == "near"
    assert (read["detail"]["x"], read["detail"]["distance_m"]) == (o["x"], 150)
    far = clients["ana"].get(url, params={**q, "x": o["x"] + 20_000}).json()
    assert far["officers"] == [] and sorted(far["searched"]) == sorted(fx.subjects)
    assert clients["olly"].get(url, params=q).status_code == 403
    assert clients["ana"].get(url, params={**q, "distance_m": -5}).status_code == 422
    bad = clients["ana"].get(url, params={**q, "at": "teatime"})
    assert bad.status_code in (400, 422) and bad.json()["hint"], bad.text
    outside = (fx.start - timedelta(days=3)).isoformat()
    assert clients["ana"].get(url, params={**q, "at": outside}).status_code == 403


def test_exports_download_from_the_case_page_scoped_and_audited(
    clients: dict[str, Any], fx: Any
) -> None:
    n = len(fx.occasion_ids)
    base = f"/api/cases/{fx.case_ref}/export"
    r = clients["ivy"].get(f"{base}/geojson")
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    features = json.loads(r.content)["features"]
    assert sum(f["properties"]["layer"] == "occasion" for f in features) == n
    read = _last_audit(fx)
    assert (read["action"], read["detail"]["what"], read["detail"]["format"]) == (
        "export",
        "export",
        "geojson",
    )
    i2 = list(csv.DictReader(io.StringIO(clients["ivy"].get(f"{base}/i2").text)))
    assert len(i2) == 3 * n  # a together link and two at links per occasion
    kml = clients["ivy"].get(f"{base}/kml")
    assert kml.status_code == 200 and kml.content.count(b"<Placemark") >= n
    gpx = clients["ivy"].get(f"{base}/gpx")
    assert gpx.status_code == 200 and gpx.content.count(b"<wpt") == n
    rows = list(csv.DictReader(io.StringIO(clients["ivy"].get(f"{base}/csv").text)))
    assert len(rows) == n
    assert clients["ana"].get(f"{base}/kml").status_code == 403  # analysts do not export
    assert clients["olly"].get(f"{base}/kml").status_code == 403
    assert clients["ivy"].get(f"{base}/shp").status_code == 422


def test_day_playback_page_is_refused_not_just_hidden(clients: dict[str, Any], fx: Any) -> None:
    path = f"/cases/{fx.case_ref}/review?day={fx.start.date().isoformat()}"
    page = clients["ivy"].get(path)
    assert page.status_code == 200 and 'id="day-form"' in page.text and "review.js" in page.text
    for user in ("sam", "olly"):
        r = clients[user].get(path)
        assert r.status_code == 403 and "How to fix" in r.text, user
    case_page = clients["ivy"].get(f"/cases/{fx.case_ref}").text
    assert 'id="review-day"' in case_page and 'id="export-links"' in case_page
    assert 'id="export-links"' not in clients["ana"].get(f"/cases/{fx.case_ref}").text


def test_without_map_layers_the_playback_map_is_placed_around_its_tracks(
    clients: dict[str, Any], fx: Any
) -> None:
    """A workspace with no map layers has no street map, but /api/map?x&y gives the grid →
    Web Mercator placement around that point, so playback draws tracks on a plain map:
    good to centimetres against pyproj over the box; a point that is no grid point is
    refused with a hint."""
    from pyproj import Transformer

    ivy = clients["ivy"]
    assert not ivy.get("/api/map").json()["affine"]  # no map layers, no point: nothing
    x0, y0 = 326000.0, 174000.0
    info = ivy.get("/api/map", params={"x": x0, "y": y0}).json()
    assert not info["enabled"] and not info["building"] and info["affine_residual_m"] < 0.05
    a = info["affine"]
    to_merc = Transformer.from_crs("EPSG:27700", "EPSG:3857", always_xy=True)
    rng = np.random.default_rng(1)
    for gx, gy in rng.uniform(-20_000, 20_000, (20, 2)) + np.array([x0, y0]):
        u, v = (gx - a["x0"]) / a["scale"], (gy - a["y0"]) / a["scale"]
        mx = sum(c * u**i * v**j for c, (i, j) in zip(a["cx"], a["terms"], strict=True))
        my = sum(c * u**i * v**j for c, (i, j) in zip(a["cy"], a["terms"], strict=True))
        ex, ey = to_merc.transform(gx, gy)
        assert abs(mx - ex) < 0.1 and abs(my - ey) < 0.1
    r = ivy.get("/api/map", params={"x": 1e12, "y": 0})
    assert r.status_code == 422 and "grid metres" in r.json()["hint"]
