"""The app in a real browser: Playwright driving Debian's Chromium against uvicorn on loopback.

The data is the demo force (simulated and ingested by `run_demo`), with a case on its
planted pair and the investigation's outputs, as an investigator would have them.

Sign in, open the case, see the map drawn, filter occasions, play one back, annotate one,
see the annotation in the audit log (as the auditor) and in the next report.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pyarrow.parquet as pq
import pytest

from test_web_support import bench_web, demo_workspace
from whereabouts.store.workspace import committed

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # ~40 s: demo force, investigation, report, browser
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's Chromium is not installed (scripts/setup.sh installs it)",
    ),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _html_report(workspace: Path, case_ref: str, out: Path) -> dict[str, Path]:
    """The real report layer, HTML only (the PDF is the report layer's own tests' business)."""
    from whereabouts.report import ReportOptions, build_report

    result = build_report(
        workspace, out_dir=out, case_ref=case_ref, options=ReportOptions(pdf=False)
    )
    return {"html": Path(result.html)}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    from whereabouts.web import create_app

    fx = SimpleNamespace(**demo_workspace(tmp_path_factory.mktemp("web")))
    app = create_app(fx.workspace, report_writer=_html_report)
    url, server, thread = bench_web().serve(fx.workspace, app)
    yield url, fx
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _non_blank(png: bytes) -> tuple[float, int]:
    """Spread of grey levels (0-1) and number of distinct colours in a screenshot."""
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]  # one number a colour
    return float(rgb.mean(axis=2).std() / 255), int(np.unique(packed).size)


def _sign_in(page: Any, url: str, user: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)


def test_investigator_reviews_plays_back_and_annotates(
    served: tuple[str, Any], browser: Any, tmp_path: Path
) -> None:
    url, fx = served
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "request",
        lambda r: (
            problems.append(f"outside request {r.url}")
            if urlparse(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith("data:")
            else None
        ),
    )

    _sign_in(page, url, "ivy", fx.password)
    assert page.url.endswith("/cases")
    page.click(f"#cases-table a:text('{fx.case_ref}')")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#track-status[data-loaded='1']")
    assert page.locator("#map polyline").count() >= 2
    shot = page.locator("#map").screenshot(path=str(tmp_path / "case-map.png"))
    spread, colours = _non_blank(shot)
    assert spread > 0.02 and colours > 20, (spread, colours)

    # filters: the table shows exactly the occasions the analysis marked
    occ = pq.read_table(fx.run / "occasions.parquet").to_pylist()
    rows = page.locator("#occasions-table tbody tr")
    assert rows.count() == len(occ)
    page.check("#f-no-reason")
    page.wait_for_function(
        "n => document.querySelectorAll('#occasions-table tbody tr').length === n",
        arg=sum(o["finding"] == "no_reason_found" for o in occ),
    )
    page.check("#f-home")
    want = [o for o in occ if o["finding"] == "no_reason_found" and "home" in o["flags"]]
    assert want, "the demo plants meetings at a home; the analysis should find one"
    page.wait_for_function(
        "n => document.querySelectorAll('#occasions-table tbody tr').length === n", arg=len(want)
    )
    assert page.locator("#map circle[data-id]").count() == len(want)
    first = rows.first
    first.click()
    assert "selected" in (first.get_attribute("class") or "")
    target = first.get_attribute("data-id")
    assert target in {o["occasion_id"] for o in want}

    # playback on the street map: both units move as time runs, incidents appear as raised
    pair = next((o["officer_a"], o["officer_b"]) for o in occ if o["occasion_id"] == target)
    first.locator("a.play").click()
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#map[data-painted-ms]")
    marker = "#map .unit-marker[data-unit='{}']"
    for v in range(0, 400, 25):  # before the occasion: the first time both are known
        page.fill("#slider", str(v))
        page.dispatch_event("#slider", "input")
        if all(page.is_visible(marker.format(u)) for u in pair):
            break
    t_start = int(page.get_attribute("#clock", "data-t") or 0)
    before = [page.get_attribute(marker.format(u), "data-x") for u in pair]
    assert None not in before, before
    page.select_option("#speed", "300")
    page.click("#play")
    page.wait_for_function(
        "t0 => Number(document.querySelector('#clock').dataset.t) > t0 + 300", arg=t_start
    )
    page.click("#play")  # pause
    after = [page.get_attribute(marker.format(u), "data-x") for u in pair]
    assert all(b != a for b, a in zip(before, after, strict=True)), (before, after)
    page.fill("#slider", "1000")
    page.dispatch_event("#slider", "input")
    assert page.locator("#incident-list li").count() >= 1
    page.fill("#slider", "500")  # the window is the occasion ± 30 min: its middle is inside it
    page.dispatch_event("#slider", "input")
    assert "m apart" in page.inner_text("#separation")
    for u in pair:
        assert page.is_visible(marker.format(u))
    shot = page.locator("#map").screenshot(path=str(tmp_path / "playback.png"))
    spread, colours = _non_blank(shot)
    assert spread > 0.02 and colours > 20, (spread, colours)

    # occasion page: evidence and the annotation form
    page.goto(f"{url}/cases/{fx.case_ref}/occasions/{target}")
    page.wait_for_selector("body[data-ready='1']")
    assert "home" in page.inner_text("#facts")
    note = "Browser check: both cars parked at the home address"
    page.fill("#note", note)
    page.select_option("#decision", "reject_reason")
    page.select_option("#reason", "shared_duty")
    page.click("#annotate-form button[type=submit]")
    page.wait_for_selector(f"#annotations li:has-text('{note}')")

    # the next report carries the annotation
    page.goto(f"{url}/cases/{fx.case_ref}")
    page.wait_for_selector("body[data-ready='1']")
    page.click("#make-report")
    page.wait_for_selector("#report-links[data-made='1']", timeout=120_000)
    href = page.get_attribute("#report-links a.report-html", "href")
    report = page.request.get(f"{url}{href}")
    assert report.ok and note in report.text()

    shutil.copy(tmp_path / "playback.png", Path("/tmp") / "whereabouts-web-playback.png")
    shutil.copy(tmp_path / "case-map.png", Path("/tmp") / "whereabouts-web-case-map.png")
    page.click("#sign-out")
    page.wait_for_url(lambda u: u.endswith("/login"))
    assert not problems, problems

    # the auditor sees who read what and the annotation, and the chain verifies
    auditor = context.new_page()
    _sign_in(auditor, url, "aud", fx.password)
    assert auditor.url.endswith("/audit")
    auditor.wait_for_selector("body[data-ready='1']")
    text = auditor.inner_text("#audit-table")
    assert "annotate" in text and "ivy" in text and "playback" in text
    auditor.click("#verify")
    auditor.wait_for_selector("#verify-result:has-text('chain intact')")
    context.close()


AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core 4.14.1 (npm), see README


def _axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page (WCAG 2 A and AA rules)."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]}
        for v in result["violations"]
    ]


def _canvas_spread(page: Any, selector: str) -> tuple[float, int]:
    """_non_blank of the screenshot of the element at `selector`."""
    return _non_blank(page.locator(selector).screenshot())


def test_every_page_is_drawn_and_passes_axe(
    served: tuple[str, Any], browser: Any, tmp_path: Path
) -> None:
    """Each page in a real browser: a screenshot that is not blank, the street map drawn
    from the workspace's own tiles with its streets named, and no serious or critical
    axe-core violation. Timings of the case page's first paint go to /tmp/whereabouts-axe.json."""
    import json

    url, fx = served
    occ = pq.read_table(fx.run / "occasions.parquet").to_pylist()
    target = occ[0]["occasion_id"]
    roads = {
        n
        for f in committed(fx.workspace, "roads")  # names and numbers
        for col in pq.read_table(f, columns=["name", "ref"]).columns
        for n in col.to_pylist()
        if n
    }
    # axe-core is injected as an inline script, which the app's CSP forbids: this context
    # lets it in (the other test runs under the CSP)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    tiles: list[int] = []
    page.on("response", lambda r: tiles.append(r.status) if "/api/map/tiles/" in r.url else None)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    _sign_in(page, url, "ivy", fx.password)
    pages = {
        "cases": f"{url}/cases",
        "case": f"{url}/cases/{fx.case_ref}",
        "occasion": f"{url}/cases/{fx.case_ref}/occasions/{target}",
        "playback": f"{url}/cases/{fx.case_ref}/playback/{target}",
    }
    report: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for name, address in pages.items():
        page.goto(address)
        page.wait_for_selector("body[data-ready='1']")
        if name == "case":
            # the tiles began building when the app started; the page waits for them
            page.wait_for_selector("#street-map[data-painted-ms]", timeout=120_000)
            page.wait_for_selector("#track-status[data-loaded-ms]")
            page.wait_for_selector("#street-map[data-idle-ms]")
            timings = {
                "grid map tracks drawn (ms)": float(
                    page.get_attribute("#track-status", "data-loaded-ms") or "nan"
                ),
                "street map first drawn (ms)": float(
                    page.get_attribute("#street-map", "data-painted-ms") or "nan"
                ),
                "street map settled (ms)": float(
                    page.get_attribute("#street-map", "data-idle-ms") or "nan"
                ),
            }
            spread, colours = _canvas_spread(page, "#street-map canvas")
            assert spread > 0.02 and colours > 20, ("street map", spread, colours)
            # an occasion chosen in the table (one in a street: at a home): the street map
            # goes there, streets named
            home = next(o["occasion_id"] for o in occ if "home" in o["flags"])
            page.locator(f"#occasions-table tbody tr[data-id='{home}'] td").first.click()
            page.wait_for_function(
                "() => Number(document.querySelector('#street-map').dataset.names) >= 3"
            )
            page.wait_for_timeout(500)  # the last tiles' fade-in
            shown = (
                page.inner_text("#street-names")
                .removeprefix("Streets shown on the street map: ")
                .rstrip(".")
                .split(", ")
            )
            assert len(shown) >= 3 and set(shown) <= roads, (shown, sorted(roads)[:10])
            street = page.locator("#street-map").screenshot(path=str(tmp_path / "street.png"))
            spread, colours = _non_blank(street)
            assert spread > 0.02 and colours > 20, ("street map, an occasion", spread, colours)
        if name == "occasion":  # the meeting place close up: streets and house numbers
            page.wait_for_selector("#street-map[data-painted-ms]", timeout=60_000)
            page.wait_for_function(
                "() => Number(document.querySelector('#street-map').dataset.names) >= 1"
            )
            spread, colours = _canvas_spread(page, "#street-map canvas")
            assert spread > 0.02 and colours > 20, ("occasion street map", spread, colours)
        shot = page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        spread, colours = _non_blank(shot)
        assert spread > 0.02 and colours > 20, (name, spread, colours)
        report[name] = _axe(page)
    assert tiles and set(tiles) <= {200, 204} and 200 in tiles
    assert not problems, problems
    auditor = context.new_page()
    _sign_in(auditor, url, "aud", fx.password)
    auditor.wait_for_selector("body[data-ready='1']")
    assert "–" not in auditor.inner_text("#audit-table tbody td:nth-child(2)")
    auditor.select_option("#audit-action", "location.read")
    auditor.click("#audit-form button[type=submit]")
    auditor.wait_for_function(
        "() => [...document.querySelectorAll('#audit-table tbody tr td:nth-child(4)')]"
        ".every(td => td.textContent === 'location read')"
    )
    # the first screen: the whole log is thousands of rows (a picture of 10 MB)
    shot = auditor.screenshot(path=str(tmp_path / "audit.png"))
    assert _non_blank(shot)[1] > 20
    report["audit"] = _axe(auditor)
    context.close()
    Path("/tmp/whereabouts-axe.json").write_text(
        json.dumps({"timings": timings, **report}, indent=1)
    )
    for name in [*report, "street"]:
        shutil.copy(tmp_path / f"{name}.png", Path("/tmp") / f"whereabouts-web-{name}.png")
    serious = {
        name: [v for v in found if v["impact"] in ("serious", "critical")]
        for name, found in report.items()
    }
    assert not any(serious.values()), serious


def test_playback_strip_timeline_who_was_near_exports_and_words(
    served: tuple[str, Any], browser: Any
) -> None:
    """The review tools in the browser: playing moves the distance cursor and the timeline's,
    the timeline has each officer's bands, keyboard steps the time, "who was near" finds
    both officers at their meeting, the case page offers the exports, the occasion page
    says numbers and codes in words, and axe-core finds nothing serious on the playback page."""
    import re

    url, fx = served
    occ = sorted(pq.read_table(fx.run / "occasions.parquet").to_pylist(), key=lambda o: o["start"])
    target = next((o for o in occ if o["evidence"] and "_" in o["evidence"]), occ[0])
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    _sign_in(page, url, "ivy", fx.password)
    page.goto(f"{url}/cases/{fx.case_ref}/playback/{target['occasion_id']}")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#timeline-svg rect.band-duty").count() >= 2  # each officer's shift
    assert page.locator("#timeline-svg rect.band-occasion").count() >= 2
    assert page.locator("#distance-svg path.distance-line").get_attribute("d") != "M0,0"
    labels = page.locator("#map .unit-marker .unit-label").all_text_contents()
    assert sorted(label.split(" ")[0] for label in labels) == sorted(fx.subjects)
    x0 = float(page.get_attribute("#distance-cursor", "x1") or 0)
    page.select_option("#speed", "300")
    page.click("#play")
    page.wait_for_function(
        "x => Number(document.querySelector('#distance-cursor').getAttribute('x1')) > x + 20",
        arg=x0,
    )
    page.click("#play")
    assert page.get_attribute("#timeline-cursor", "x1") == page.get_attribute(
        "#distance-cursor", "x1"
    )
    # keyboard: the slider steps the time, the buttons work from the keyboard
    t = int(page.get_attribute("#clock", "data-t") or 0)
    page.focus("#slider")
    page.keyboard.press("ArrowRight")
    assert int(page.get_attribute("#clock", "data-t") or 0) > t
    page.focus("#forward")
    t = int(page.get_attribute("#clock", "data-t") or 0)
    page.keyboard.press("Enter")
    assert int(page.get_attribute("#clock", "data-t") or 0) == t + 60
    # who was near the meeting point in its middle: both officers (typed in grid metres)
    page.fill("#slider", "500")
    page.dispatch_event("#slider", "input")
    first = f"#map .unit-marker[data-unit='{target['officer_a']}']"
    x, y = (float(page.get_attribute(first, k) or "nan") for k in ("data-x", "data-y"))
    page.fill("#near-x", str(round(x)))
    page.fill("#near-y", str(round(y)))
    page.click("#near-form button[type=submit]")
    page.wait_for_selector("#near-status[data-done='1']")
    near = {n.split(" ")[0] for n in page.locator("#near-list li").all_inner_texts()}
    assert {target["officer_a"], target["officer_b"]} <= near <= set(fx.subjects), near
    # ... and by a click on the map there: the click's grid point is the officer's
    page.evaluate("() => document.querySelector('#near-status').removeAttribute('data-done')")
    page.locator("#map").scroll_into_view_if_needed()
    box = page.locator(first).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#near-status[data-done='1']")
    clicked = float(page.input_value("#near-x")), float(page.input_value("#near-y"))
    assert np.hypot(clicked[0] - x, clicked[1] - y) < 100, (clicked, x, y)
    assert target["officer_a"] in page.inner_text("#near-list")
    page.screenshot(path="/tmp/whereabouts-web-review.png", full_page=True)
    serious = [v for v in _axe(page) if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    # the case page's exports download
    page.goto(f"{url}/cases/{fx.case_ref}")
    page.wait_for_selector("body[data-ready='1']")
    formats = page.eval_on_selector_all("#export-links a", "as => as.map(a => a.dataset.format)")
    assert formats == ["kml", "geojson", "gpx", "csv", "i2"]
    kml = page.request.get(f"{url}{page.get_attribute('#export-links a[data-format=kml]', 'href')}")
    assert kml.ok and kml.text().count("<Placemark") >= len(occ)
    # the occasion page: rounded numbers, codes in words
    page.goto(f"{url}/cases/{fx.case_ref}/occasions/{target['occasion_id']}")
    page.wait_for_selector("body[data-ready='1']")
    text = page.inner_text("#facts") + page.inner_text("#evidence")
    from whereabouts.store import Workspace

    officers = {
        r["officer_id"]: r["name"]
        for r in Workspace.open(fx.workspace).table("officers").to_pylist()
        if r["officer_id"] in (target["officer_a"], target["officer_b"])
    }
    assert all(f"{k} (" in text and v in text for k, v in officers.items()), (officers, text)
    assert not re.search(r"\d\.\d{3,}", text), text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text
    assert not problems, problems
    context.close()


def test_three_officers_play_back_a_day_with_a_pair_chooser(
    served: tuple[str, Any], browser: Any, tmp_path: Path
) -> None:
    """A day of the three-officer case on the street map: a marker, a label and a track per
    officer, stop markers named for screen readers, the pair chooser (mouse and keyboard)
    redrawing the distance strip, screenshots not blank, nothing serious for axe-core."""
    from zoneinfo import ZoneInfo

    url, fx = served
    assert len(fx.subjects) >= 3
    occ = sorted(pq.read_table(fx.run / "occasions.parquet").to_pylist(), key=lambda o: o["start"])
    day = occ[0]["start"].astimezone(ZoneInfo("Europe/London")).date().isoformat()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    _sign_in(page, url, "ivy", fx.password)
    page.goto(f"{url}/cases/{fx.case_ref}/review?day={day}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#map[data-painted-ms]")
    assert page.input_value("#day") == day
    assert int(page.get_attribute("#map", "data-track-lines") or 0) >= len(fx.subjects)
    units = page.eval_on_selector_all("#map .unit-marker", "ns => ns.map(n => n.dataset.unit)")
    assert sorted(units) == sorted(fx.subjects)
    assert page.locator("#timeline-svg rect.band-duty").count() >= len(fx.subjects)
    stops = page.eval_on_selector_all(
        "#map .stop-marker", "ns => ns.map(n => [n.dataset.unit, n.getAttribute('aria-label')])"
    )
    assert stops and all(u in fx.subjects and " stopped " in label for u, label in stops), stops
    # the pair chooser: every pair of the three, each redrawing the strip
    page.fill("#slider", "500")  # midday: all three on duty
    page.dispatch_event("#slider", "input")
    options = page.locator("#pair option").all_inner_texts()
    n = len(fx.subjects)
    assert len(options) == n * (n - 1) // 2 and page.is_visible("#pair"), options
    strips = {page.get_attribute("#distance-svg path.distance-line", "d")}
    page.select_option("#pair", "2")
    names = page.get_attribute("#distance-svg", "aria-label") or ""
    assert all(n in names for n in options[2].split(" and ")), (names, options[2])
    assert page.inner_text("#separation").startswith(f"{options[2]}: ")
    strips.add(page.get_attribute("#distance-svg path.distance-line", "d"))
    page.focus("#pair")
    page.keyboard.press("ArrowUp")  # from the keyboard: the second pair
    page.wait_for_function("() => document.querySelector('#pair').value === '1'")
    strips.add(page.get_attribute("#distance-svg path.distance-line", "d"))
    assert len(strips) == 3, "each pair has its own distance over the day"
    shot = page.locator("#map").screenshot(path=str(tmp_path / "day.png"))
    spread, colours = _non_blank(shot)
    assert spread > 0.02 and colours > 20, (spread, colours)
    spread, colours = _non_blank(page.screenshot(full_page=True))
    assert spread > 0.02 and colours > 20, (spread, colours)
    serious = [v for v in _axe(page) if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    assert not problems, problems
    shutil.copy(tmp_path / "day.png", Path("/tmp") / "whereabouts-web-day-review.png")
    context.close()
