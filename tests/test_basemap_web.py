"""The basemap in the web app: tiles only for signed-in users, the view's tile list with
each tile's affine, the CSP naming a tile server only when one is configured, and the
tiles drawn under the tracks in a real browser (Playwright, Debian's Chromium)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from test_basemap import PALETTE, colour_of, make_mbtiles
from test_web_support import bench_web, shared_workspace, test_client_class
from whereabouts.basemap import tile_affines
from whereabouts.basemap.mercator import tile_lonlat
from whereabouts.tracks.projection import to_projected, to_wgs84
from whereabouts.web import create_app

CRS = "EPSG:27700"
TILE_SERVER = "https://tiles.force.example:8443"


def _area_bounds(fx: Any) -> tuple[float, float, float, float]:
    """WGS84 bounds 20 km around the synthetic workspace's centre."""
    cx, cy = bench_web().CENTRE
    lat, lon = to_wgs84(
        np.array([cx - 20_000, cx + 20_000]), np.array([cy - 20_000, cy + 20_000]), CRS
    )
    return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    fx = shared_workspace(tmp_path_factory.mktemp("web"))
    tiles = make_mbtiles(
        tmp_path_factory.mktemp("bm") / "area.mbtiles", bounds=_area_bounds(fx), zooms=(11, 14)
    )
    return {
        "fx": fx,
        "tiles": tiles,
        "app": create_app(fx.workspace, basemap=tiles, login_attempts=1000),
    }


def _signed_in(app: Any, fx: Any, user: str = "ivy") -> Any:
    client = test_client_class()(app)
    r = client.post("/api/session", json={"username": user, "password": fx.password})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


def _view(fx: Any) -> dict[str, Any]:
    cx, cy = bench_web().CENTRE
    return {"x0": cx - 6000, "x1": cx + 6000, "y0": cy - 4000, "y1": cy + 4000, "width_px": 900}


def test_tiles_only_for_signed_in_users(setup: dict[str, Any]) -> None:
    app, fx = setup["app"], setup["fx"]
    anonymous = test_client_class()(app)
    client = _signed_in(app, fx, "aud")  # any role: a basemap is not location data
    listing = client.get("/api/basemap", params=_view(fx))
    assert listing.status_code == 200
    first = listing.json()["tiles"][0]
    found = re.fullmatch(r"/api/basemap/(\d+)/(\d+)/(\d+)", first["url"])
    assert found is not None, first["url"]
    _z, x, y = (int(v) for v in found.groups())
    assert anonymous.get(first["url"]).status_code == 401
    assert anonymous.get("/api/basemap", params=_view(fx)).status_code == 401
    r = client.get(first["url"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "private, max-age=86400"
    assert "nosniff" in r.headers["x-content-type-options"]
    with Image.open(io.BytesIO(r.content)) as im:
        assert im.convert("RGB").getpixel((10, 10)) == colour_of(x, y)
    assert client.get("/api/basemap/14/0/0").status_code == 404  # outside the set
    assert client.get(f"/api/basemap/3/{x}/{y}").status_code == 404  # beyond 2^z
    assert client.get("/api/basemap/99/0/0").status_code == 422


def test_view_lists_tiles_with_the_affine_that_places_them(setup: dict[str, Any]) -> None:
    app, fx = setup["app"], setup["fx"]
    client = _signed_in(app, fx)
    body = client.get("/api/basemap", params=_view(fx)).json()
    # 12 km over 900 pixels: 13.3 m a pixel; zoom 13's are 11.9 m at 51.6° north, 12's 23.8 m.
    assert body["enabled"] and body["zoom"] == 13 and body["notice"] == ""
    assert "© Test Mapping contributors" in body["attribution"]
    assert "not evidence" in body["attribution"]
    assert 4 <= len(body["tiles"]) <= 64
    for t in body["tiles"][:5]:
        z, x, y = (int(v) for v in t["url"].rsplit("/", 3)[1:])
        a, b, c, d, e, f = t["matrix"]
        # The tile's north-west and south-east corners, projected independently.
        lon, lat = tile_lonlat(np.array([x, x + 1.0]), np.array([y, y + 1.0]), z)
        px, py = to_projected(lat, lon, CRS)
        assert abs(e - px[0]) < 0.5 and abs(f - py[0]) < 0.5
        assert abs(a + c + e - px[1]) < 0.5 and abs(b + d + f - py[1]) < 0.5
        assert np.allclose(
            t["matrix"], tile_affines(z, np.array([x]), np.array([y]), CRS)[0], atol=0.01
        )
    far = client.get("/api/basemap", params={"x0": 100, "x1": 5000, "y0": 100, "y1": 4000}).json()
    assert far["tiles"] == [] and "does not cover" in far["notice"]
    bad = client.get("/api/basemap", params={"x0": 10, "x1": 5, "y0": 0, "y1": 1})
    assert bad.status_code == 422 and "x0 < x1" in bad.json()["hint"]


def test_csp_names_the_tile_server_only_when_configured(setup: dict[str, Any]) -> None:
    fx = setup["fx"]
    img_src = re.compile(r"img-src ([^;]*)")
    local = _signed_in(setup["app"], fx).get("/api/me").headers["content-security-policy"]
    assert img_src.search(local).group(1) == "'self' data: blob:"  # type: ignore[union-attr]
    plain = create_app(fx.workspace)
    client = _signed_in(plain, fx)
    policy = img_src.search(client.get("/login").headers["content-security-policy"])
    assert policy is not None and policy.group(1) == "'self' data: blob:"
    assert client.get("/api/basemap", params=_view(fx)).json()["enabled"] is False
    assert client.get("/api/basemap/14/8000/5000").status_code == 404

    remote = create_app(fx.workspace, basemap=f"{TILE_SERVER}/base/{{z}}/{{x}}/{{y}}.png")
    client = _signed_in(remote, fx)
    for path in ("/login", "/api/me", "/static/app.js"):
        policy = client.get(path).headers["content-security-policy"]
        assert img_src.search(policy).group(1) == f"'self' data: blob: {TILE_SERVER}"  # type: ignore[union-attr]
        assert policy.count("https://") == 1  # that origin only, and only for images
    tiles = client.get("/api/basemap", params=_view(fx)).json()["tiles"]
    assert tiles and all(
        re.fullmatch(rf"{re.escape(TILE_SERVER)}/base/13/\d+/\d+\.png", t["url"]) for t in tiles
    )
    # The browser fetches those tiles itself; this app serves none of them.
    assert (
        client.get(
            tiles[0]["url"].replace(TILE_SERVER + "/base", "/api/basemap").removesuffix(".png")
        ).status_code
        == 404
    )


def test_serve_refuses_a_vector_or_missing_basemap_at_start(
    setup: dict[str, Any], tmp_path: Path
) -> None:
    from whereabouts.basemap import BasemapError

    with pytest.raises(BasemapError, match="does not exist"):
        create_app(setup["fx"].workspace, basemap=tmp_path / "none.pmtiles")
    with pytest.raises(BasemapError, match="vector tiles"):
        create_app(setup["fx"].workspace, basemap="https://tiles.example/{z}/{x}/{y}.mvt")


# ---- in a real browser ----------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def served(setup: dict[str, Any]) -> Iterator[str]:
    fx = setup["fx"]
    url, server, thread = bench_web().serve(fx.workspace, setup["app"])
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.browser
@pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's Chromium is not installed (scripts/setup.sh installs it)",
)
def test_tiles_appear_under_the_tracks_in_the_browser(setup: dict[str, Any], served: str) -> None:
    from playwright.sync_api import sync_playwright

    fx = setup["fx"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{served}/login")
            page.fill("#username", "ivy")
            page.fill("#password", fx.password)
            page.click("button[type=submit]")
            page.wait_for_url(lambda u: "/login" not in u)
            page.goto(f"{served}/cases/{fx.case_ref}")
            page.wait_for_selector("#map .basemap image", state="attached")
            page.wait_for_selector("#track-status[data-loaded='1']")
            page.wait_for_timeout(500)  # the tiles' images decode
            hrefs = page.eval_on_selector_all(
                "#map .basemap image", "ns => ns.map(n => n.getAttribute('href'))"
            )
            assert hrefs and all(re.fullmatch(r"/api/basemap/\d+/\d+/\d+", h) for h in hrefs)
            # The basemap layer comes first: the tracks are drawn over it.
            layers = page.eval_on_selector_all(
                "#map svg > g", "gs => gs.map(g => g.getAttribute('class'))"
            )
            assert layers[0] == "basemap" and layers.index("tracks") > 0
            assert "Test Mapping" in page.inner_text("#map .credit")
            png = page.locator("#map").screenshot()
            assert not problems, problems
        finally:
            browser.close()
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    # Chromium colour-manages images a little (0, 190, 0 shows as 50, 196, 49): nearest colour.
    share = [float((np.abs(img - np.array(c)).max(axis=2) <= 60).mean()) for c in PALETTE]
    assert sum(share) > 0.5, share  # most of the map is tile colour …
    assert sum(s > 0.02 for s in share) >= 3  # … from several tiles
