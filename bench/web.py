"""Benchmark: the web app under 20 concurrent users on loopback, for a bounded time.

Usage:
    .venv/bin/python bench/web.py --days 183 --users 20 --seconds 30

Builds a workspace with a case of two subjects over `--days` days (AVL-like fixes every
15-20 s through a 10-hour shift each day, occasions, places, incidents, areas) — or uses
`--workspace WS --case REF --user U --password P` for an existing one (the demo) — serves
it with `whereabouts serve` in a child process, and runs `--users` signed-in clients, each looping over:
the case page data (GET /api/cases/REF/overview) and the whole period's two tracks at a
zoom level picked at random (GET /api/cases/REF/tracks?tolerance_m=…), so most track
requests are not cache hits. Prints p50/p95/max latency per request kind, the request
rate, and, as a baseline from the same run, one client alone. Targets (issue 8): p95 ≤
300 ms for the case page data and ≤ 1 s for the six months of two tracks. When the
workspace has map layers (`--demo`), users also fetch the street map's vector tiles at
zooms 13-15 (eight tile requests to each other one, as a map view does); target (issue
19): tiles p95 ≤ 200 ms with 20 users. `--first-paint N` also opens the case page N times
in headless Chromium (Playwright, Debian's /usr/bin/chromium; a fresh browser context each
time, so nothing is cached) before the users start, and prints when the street map first
stood drawn (MapLibre's `load`: its first complete rendering, tiles and names; target ≤ 1 s)
and first settled (`idle`: the tracks drawn too), with where the time went (the page, its
scripts, /api/map, the worker, glyphs, the first and last tile) and the load average.

`make_workspace` is also the web tests' data generator (tests/test_web_*.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from whereabouts.store.runs import Period, RunStore, RunSummary, ScreeningRecord, write_screening

CENTRE = (331_000.0, 191_000.0)  # BNG metres, south Wales
START = datetime(2026, 3, 2, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class WebFixture:
    """What `make_workspace` made: where, which case, who can sign in, which occasions."""

    workspace: Path
    case_ref: str
    subjects: tuple[str, str]
    start: datetime
    end: datetime
    users: dict[str, str]  # username -> role
    password: str
    occasion_ids: list[str]
    fixes: int


def _occasion_id(a: str, b: str, start: datetime) -> str:
    return "occ-" + hashlib.sha256(f"{a}|{b}|{start.isoformat()}".encode()).hexdigest()[:12]


def _tracks(days: int, rng: np.random.Generator, occasions: list[dict[str, Any]]) -> pa.Table:
    """Two subjects' on-duty fixes, as the analysis writes tracks.parquet (vectorised)."""
    from whereabouts.tracks.projection import to_wgs84

    parts = []
    for k, (officer, device, step) in enumerate(
        (("OFF-A", "VEH-1", 20.0), ("OFF-B", "VEH-2", 15.0))
    ):
        per_day = np.arange(7 * 3600, 17 * 3600, step)
        day = np.repeat(np.arange(days) * 86400.0, per_day.size)
        t = day + np.tile(per_day, days) + rng.uniform(-2, 2, day.size)
        keep = rng.random(t.size) > 0.03  # dropouts
        t = np.sort(t[keep])
        phase = 1.7 * k
        x = CENTRE[0] + 6000 * np.sin(t / 5400 + phase) + 1500 * np.sin(t / 700 + 3 * phase)
        y = CENTRE[1] + 4500 * np.cos(t / 6100 + phase) + 1200 * np.cos(t / 930 + phase)
        for occ in occasions:  # both units together at the occasion's spot
            s = (occ["start"] - START).total_seconds()
            e = (occ["end"] - START).total_seconds()
            # drive there over the 15 minutes before, stay, drive away over the 15 after
            w = np.clip(1 - np.maximum(s - t, t - e) / 900.0, 0, 1)[:, None]
            near = w[:, 0] > 0
            spot = np.array([occ["x"] + 15 * k, occ["y"]])
            xy = (1 - w[near]) * np.column_stack([x[near], y[near]]) + w[near] * spot
            x[near], y[near] = xy[:, 0], xy[:, 1]
        x += rng.normal(0, 5, t.size)
        y += rng.normal(0, 5, t.size)
        times = pa.array(((START.timestamp() + t) * 1e6).astype(np.int64)).cast(
            pa.timestamp("us", tz="UTC")
        )
        n = t.size
        lat, lon = to_wgs84(x, y, "EPSG:27700")
        parts.append(
            pa.table(
                {
                    "officer_id": pa.array([officer] * n, pa.string()),
                    "device_id": pa.array([device] * n, pa.string()),
                    "time": times,
                    "x": x,
                    "y": y,
                    "lat": lat,
                    "lon": lon,
                    "accuracy_m": rng.uniform(4, 25, n),
                }
            )
        )
    return pa.concat_tables(parts)


def _occasions(days: int) -> list[dict[str, Any]]:
    kinds = [
        (False, [], ["remote"], "high"),
        (False, [], ["home"], "medium"),
        (True, ["same_incident"], [], "high"),
        (False, [], ["remote", "stationary"], "low"),
        (True, ["premises"], [], "high"),
    ]
    out = []
    n = max(4, min(days * 2, 200))
    for i in range(n):
        explained, reasons, flags, confidence = kinds[i % len(kinds)]
        day = (i * max(1, days // n) + i % 2) % days
        start = START + timedelta(days=day, hours=9 + (i % 6), minutes=7 * (i % 5))
        duration = 600 + 300 * (i % 4)
        x = CENTRE[0] + 3000 * np.cos(i) + (100 if "home" in flags else 0)
        y = CENTRE[1] + 2500 * np.sin(i)
        evidence = [
            {
                "label": r.replace("_", " "),
                "kind": "reason",
                "detail": f"both attached to INC-{i}",
                "rows": [i + 2],
            }
            for r in reasons
        ] + [
            {"label": f, "kind": "flag", "detail": f"{f} measured at the meeting point", "rows": []}
            for f in flags
        ]
        out.append(
            {
                "occasion_id": _occasion_id("OFF-A", "OFF-B", start),
                "officer_a": "OFF-A",
                "officer_b": "OFF-B",
                "start": start,
                "end": start + timedelta(seconds=duration),
                "duration_s": float(duration),
                "explained": explained,
                "reasons": reasons,
                "flags": flags,
                "evidence": json.dumps(evidence),
                "x": float(x),
                "y": float(y),
                "lat": 51.6,
                "lon": -3.0,
                "grid_ref": f"ST {int(x) % 100000 // 100:03d} {int(y) % 100000 // 100:03d}",
                "place": "Home of OFF-A" if "home" in flags else f"near beat {i % 3 + 1}",
                "min_separation_m": 12.0,
                "median_separation_m": 21.0,
                "stationary": "stationary" in flags,
                "fixes_per_hour": 200.0,
                "position_error_m": 12.0,
                "confidence": confidence,
                "confidence_basis": "dense sampling, small position error",
                "on_duty": "both",
                "incidents_p1": i % 2,
                "incidents_p2": 1,
                "incidents_p3": 0,
                "incidents_p4": 0,
                "dispatched": False,
                "unavailable_min": duration / 60,
                # every fourth kind: none found, but the dispatch log did not cover its day
                "finding": (
                    "reason_found"
                    if explained
                    else "not_assessable"
                    if i % len(kinds) == 3
                    else "no_reason_found"
                ),
                "not_assessed": (
                    [f"same_incident: no incident log covers {start:%-d %b %Y}"]
                    if not explained and i % len(kinds) == 3
                    else []
                ),
                "robustness": (
                    "found at every distance from 25 m to 200 m; not found at "
                    "minimum duration 900 s"
                    if duration < 900
                    else "found at every distance from 25 m to 200 m"
                ),
            }
        )
    return out


def _write_tables(ws: Path, occasions: list[dict[str, Any]], days: int) -> None:
    from whereabouts import schema

    def put(name: str, rows: dict[str, list[Any]]) -> None:
        n = len(next(iter(rows.values())))
        rows = {**rows, "src_file": ["0" * 16] * n, "src_line": list(range(2, n + 2))}
        table = pa.table(rows, schema=schema.TABLES[name])
        folder = ws / "tables" / name
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / f"{'0' * 16}.parquet")
        # committed as ingest commits a file: listed in the manifest (readers read nothing else)
        listing = ws / "manifest.json"
        manifest = json.loads(listing.read_text()) if listing.exists() else {"inputs": []}
        manifest["inputs"].append(
            {
                "file_id": "0" * 16,
                "sha256": "0" * 64,
                "table": name,
                "kind": name,
                "name": f"{name}.parquet",
                "counts": {"read": n, "accepted": n, "duplicates": 0, "quarantined": 0},
            }
        )
        listing.write_text(json.dumps(manifest))

    cx, cy = CENTRE
    put(
        "places",
        {
            "place_id": ["P1", "H-A", "H-X"],
            "kind": ["police_station", "home", "home"],
            "lat": [51.6, 51.61, 51.62],
            "lon": [-3.0, -3.01, -3.02],
            "x": [cx, occasions[1]["x"] - 100, cx + 4000],
            "y": [cy, occasions[1]["y"], cy - 3000],
            "radius_m": [80.0, 40.0, 40.0],
            "name": ["Central police station", "Home of OFF-A", "Home of OFF-X"],
            "owner_officer_id": [None, "OFF-A", "OFF-X"],
        },
    )
    created = [o["start"] + timedelta(minutes=3) for o in occasions]
    put(
        "incidents",
        {
            "incident_id": [f"INC-{i}" for i in range(len(occasions))],
            "created_at": created,
            "lat": [51.6] * len(occasions),
            "lon": [-3.0] * len(occasions),
            "x": [o["x"] + 400 for o in occasions],
            "y": [o["y"] - 300 for o in occasions],
            "category": ["concern for safety"] * len(occasions),
            "priority": [1 + i % 4 for i in range(len(occasions))],
            "closed_at": [c + timedelta(minutes=40) for c in created],
        },
    )
    # each subject's shift (07:00-17:00) on the roster, and OFF-A sent to every other incident
    shifts = [START + timedelta(days=d, hours=7) for d in range(days)]
    put(
        "duty",
        {
            "officer_id": ["OFF-A"] * days + ["OFF-B"] * days,
            "start": shifts * 2,
            "end": [s + timedelta(hours=10) for s in shifts] * 2,
            "duty_type": ["patrol"] * (2 * days),
            "area_id": ["BEAT-1"] * (2 * days),
        },
    )
    sent = list(range(0, len(occasions), 2))
    put(
        "attachments",
        {
            "incident_id": [f"INC-{i}" for i in sent],
            "officer_id": ["OFF-A"] * len(sent),
            "device_id": [None] * len(sent),
            "dispatched_at": [created[i] + timedelta(minutes=1) for i in sent],
            "arrived_at": [created[i] + timedelta(minutes=9) for i in sent],
            "cleared_at": [created[i] + timedelta(minutes=35) for i in sent],
        },
    )
    import shapely

    from whereabouts.tracks.projection import to_projected

    ring = np.array([[-3.1, 51.55], [-2.9, 51.55], [-2.9, 51.68], [-3.1, 51.68], [-3.1, 51.55]])
    geometry = json.dumps({"type": "Polygon", "coordinates": [ring.tolist()]})
    bx, by = to_projected(ring[:, 1], ring[:, 0])
    wkb = shapely.to_wkb(shapely.Polygon(np.column_stack([bx, by])))
    put(
        "areas",
        {
            "area_id": ["BEAT-1"],
            "name": ["Beat 1"],
            "geometry_geojson": [geometry],
            "geometry_wkb": [wkb],
        },
    )


def make_workspace(root: Path, *, days: int = 3, seed: int = 7) -> WebFixture:
    """A workspace with a case store, one case of two subjects, and its analysis outputs."""
    from whereabouts.case import CaseStore

    ws = Path(root)
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "workspace.json").write_text(
        json.dumps({"crs": "EPSG:27700", "timezone": "Europe/London"})
    )
    rng = np.random.default_rng(seed)
    end = START + timedelta(days=days)
    occasions = _occasions(days)
    ref = "PSD-2026-001"
    table = pa.Table.from_pylist(occasions)
    tracks = _tracks(days, rng, occasions)
    with RunStore(ws).writer(ref) as run:
        run.table("occasions", table)
        run.table("tracks", tracks)
        run.commit(
            RunSummary(
                case=ref,
                subjects=("OFF-A", "OFF-B"),
                period=Period(START, end),
                crs="EPSG:27700",
                params={
                    "distance_m": 100.0,
                    "max_gap_s": 300.0,
                    "merge_gap_s": 120.0,
                    "min_duration_s": 300.0,
                },
                version="bench",
            )
        )
    _write_tables(ws, occasions, days)

    store = CaseStore.open(ws)
    users = {
        "admin": "administrator",
        "ivy": "investigator",
        "sam": "supervisor",
        "ana": "analyst",
        "aud": "auditor",
        "olly": "investigator",  # olly is not on the case
    }
    store.add_user("admin", PASSWORD, "administrator")
    for name, role in users.items():
        if name != "admin":
            store.add_user(name, PASSWORD, role, actor="admin")
    store.open_case(
        ref,
        ["OFF-A", "OFF-B"],
        START,
        end,
        "misconduct investigation: meetings on duty",
        authorised_by="sam",
        actor="ivy",
    )
    store.authorise_case(ref, actor="sam")
    store.assign(ref, "ana", actor="sam")
    # screening outputs: one run under a recorded authority, one that names none
    store.grant_screening(
        "SCR-1", "team:T1", START, end, "team screening", authorised_by="sam", actor="sam"
    )
    for screen, meta in (
        (
            "screen-1",
            {
                "screening": "SCR-1",
                "scope": "team:T1",
                "start": START.isoformat(),
                "end": end.isoformat(),
            },
        ),
        ("screen-2", {}),
    ):
        write_screening(
            ws / "runs" / screen,
            pa.table(
                {
                    "rank": [1, 2],
                    "officer_a": ["OFF-A", "OFF-C"],
                    "officer_b": ["OFF-B", "OFF-D"],
                    "unexplained_stops": [5, 1],
                    "p_value": [0.001, 0.4],
                }
            ),
            ScreeningRecord.from_json(meta),
        )
    store.close()
    return WebFixture(
        ws,
        ref,
        ("OFF-A", "OFF-B"),
        START,
        end,
        users,
        PASSWORD,
        [o["occasion_id"] for o in occasions],
        tracks.num_rows,
    )


DEMO_PASSWORD = "demo password for tests"


def make_demo_workspace(
    root: Path, *, days: int = 3, officers: int = 30, extra_subjects: int = 0
) -> dict[str, Any]:
    """The demo force (`run_demo`), a case on its first planted pair with no policing reason
    (and `extra_subjects` more officers: those of the other planted meetings, in order),
    and that case's investigation in WS/runs/<ref>. Users ivy (investigator), sam
    (supervisor), aud (auditor), admin; password DEMO_PASSWORD. "pair" is the planted
    pair, "subjects" every subject of the case."""
    import csv

    from whereabouts.analysis.investigate import investigate
    from whereabouts.case import CaseStore
    from whereabouts.simulate.demo import run_demo
    from whereabouts.store import Workspace

    state = run_demo(Path(root), officers=officers, days=days, say=lambda _: None)
    with open(state.data_dir / "truth" / "occasions.csv", newline="") as f:
        truth = list(csv.DictReader(f))
    planted = [r for r in truth if r["reason"] == "none"]
    pair = sorted([planted[0]["officer_a"], planted[0]["officer_b"]])
    others = [o for r in truth for o in (r["officer_a"], r["officer_b"]) if o not in pair]
    subjects = sorted(pair + list(dict.fromkeys(others))[:extra_subjects])
    first = datetime.fromisoformat(planted[0]["start"].replace("Z", "+00:00"))
    start = first.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=UTC)
    end = start + timedelta(days=days)
    ws = Path(state.workspace_dir)
    ref = "PSD-DEMO-1"
    store = CaseStore.open(ws)
    store.add_user("admin", DEMO_PASSWORD, "administrator")
    for name, role in (("ivy", "investigator"), ("sam", "supervisor"), ("aud", "auditor")):
        store.add_user(name, DEMO_PASSWORD, role, actor="admin")
    store.open_case(
        ref,
        subjects,
        start,
        end,
        "planted misconduct in the demo force",
        authorised_by="sam",
        actor="ivy",
    )
    store.authorise_case(ref, actor="sam")
    store.close()
    result = investigate(Workspace.open(ws), subjects, start, end, case=ref, save=True)
    return {
        "workspace": ws,
        "case_ref": ref,
        "pair": tuple(pair),
        "subjects": tuple(subjects),
        "password": DEMO_PASSWORD,
        "run": result.out_dir,
    }


# --- the benchmark ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(ws: Path, app: Any = None) -> tuple[str, Any, threading.Thread]:
    """Start the app (default `create_app(ws)`) with uvicorn on a free loopback port, in a thread."""
    import uvicorn

    from whereabouts.web import create_app

    port = _free_port()
    app = app if app is not None else create_app(ws)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def serve_process(ws: Path) -> tuple[str, Any]:
    """`whereabouts serve WS` in a child process (its own interpreter, as in production)."""
    import subprocess

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "whereabouts", "serve", str(ws), "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("`whereabouts serve` did not start") from None
            time.sleep(0.1)
    return f"http://127.0.0.1:{port}", proc


def _client(url: str, user: str, password: str) -> Any:
    import httpx

    client = httpx.Client(base_url=url, timeout=60)
    r = client.post("/api/session", json={"username": user, "password": password})
    r.raise_for_status()
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


def _map_tiles(client: Any) -> list[str]:
    """Every vector tile path of the workspace's street map at zooms 13-15 (the case map's
    usual views); none when the workspace has no map layers."""
    from whereabouts.web.vectortiles import tiles_over

    info = client.get("/api/map").json()
    if not info.get("enabled"):
        return []
    from pyproj import Transformer

    w, s, e, n = info["bounds"]
    x0, y0 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(w, s)
    x1, y1 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(e, n)
    out = []
    for z in (13, 14, 15):
        xs, ys = tiles_over((x0, y0, x1, y1), z)
        out += [f"/api/map/tiles/{z}/{x}/{y}" for x in xs for y in ys]
    return out


def _run_users(
    url: str,
    ref: str,
    user: str,
    password: str,
    n_users: int,
    seconds: float,
    seed: int,
    think: float = 0.0,
    tiles: list[str] | None = None,
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"overview": [], "tracks": [], "tiles": []}
    errors: list[str] = []
    lock = threading.Lock()
    clients = [_client(url, user, password) for _ in range(n_users)]
    stop = time.monotonic() + seconds

    def work(k: int) -> None:
        rng = random.Random(seed + k)
        client = clients[k]
        while time.monotonic() < stop:
            # a map view asks for a dozen tiles at once: tiles are most of the requests
            kind = rng.choice(("overview", "tracks", *(("tiles",) * 8 if tiles else ())))
            if kind == "overview":
                path = f"/api/cases/{ref}/overview"
            elif kind == "tiles":
                path = rng.choice(tiles or [""])
            else:
                tol = rng.uniform(5, 120)
                path = f"/api/cases/{ref}/tracks?tolerance_m={tol:.2f}"
            t0 = time.perf_counter()
            r = client.get(path)
            dt = time.perf_counter() - t0
            with lock:
                if r.status_code not in (200, 204):
                    errors.append(f"{path}: {r.status_code}")
                else:
                    times[kind].append(dt)
            if think:
                time.sleep(rng.uniform(0, 2 * think))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    if errors:
        print(f"  {len(errors)} failed requests, e.g. {errors[0]}")
    return times


FIRST_PAINT_JS = r"""() => {
  const box = document.querySelector('#street-map');
  const res = performance.getEntriesByType('resource');
  const nav = performance.getEntriesByType('navigation')[0];
  const end = (part) => Math.max(0, ...res.filter((r) => r.name.includes(part)).map((r) => r.responseEnd));
  return {
    painted: Number(box.dataset.paintedMs), settled: Number(box.dataset.idleMs),
    html: nav.responseEnd, dom_ready: nav.domContentLoadedEventEnd,
    maplibre_js: end('maplibre-gl-csp.js'), app_js: end('/static/app.js'),
    api_map: Math.max(0, ...res.filter((r) => /\/api\/map(\?|$)/.test(r.name)).map((r) => r.responseEnd)),
    overview: end('/overview'),
  };
}"""


def _visit(browser: Any, url: str, ref: str, user: str, password: str) -> dict[str, float]:
    """One cold visit of the case page (a fresh context): when its street map stood drawn."""
    import os

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    load = os.getloadavg()[0]
    # the worker's requests (tiles, glyphs, its script) are not in the page's Performance
    # API: Playwright sees them, timed here from the navigation's start
    seen: dict[str, list[float]] = {"tile": [], "tile_done": [], "worker": [], "glyphs": []}
    t0 = time.perf_counter()

    def asked(r: Any) -> None:
        if "/api/map/tiles/" in r.url:
            seen["tile"].append((time.perf_counter() - t0) * 1000)

    def done(r: Any) -> None:
        for part, kind in (("/api/map/tiles/", "tile_done"), ("worker.js", "worker")):
            if part in r.url:
                seen[kind].append((time.perf_counter() - t0) * 1000)
        if "/static/glyphs/" in r.url:
            seen["glyphs"].append((time.perf_counter() - t0) * 1000)

    page.on("request", asked)
    page.on("requestfinished", done)
    page.goto(f"{url}/cases/{ref}")
    page.wait_for_selector("#street-map[data-painted-ms]", timeout=120_000)
    page.wait_for_timeout(3000)  # to see it settle (`idle`), when it does by then
    timings: dict[str, float] = page.evaluate(FIRST_PAINT_JS)
    nan = float("nan")
    timings.update(
        load=(load + os.getloadavg()[0]) / 2,
        worker_js=max(seen["worker"], default=nan),
        glyphs=max(seen["glyphs"], default=nan),
        first_tile_asked=min(seen["tile"], default=nan),
        last_tile=max(seen["tile_done"], default=nan),
        tiles=len(seen["tile"]),
    )
    context.close()
    return timings


def first_paint(url: str, ref: str, user: str, password: str, runs: int) -> list[dict[str, float]]:
    """The case page's street map, first drawn, `runs` times in fresh browser contexts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            return [_visit(browser, url, ref, user, password) for _ in range(runs)]
        finally:
            browser.close()


def _paint_line(t: dict[str, float]) -> str:
    return (
        f"  first paint {t['painted']:6.0f} ms, settled {t['settled']:.0f} ms (load average "
        f"{t['load']:.1f}): html {t['html']:.0f}, "
        f"maplibre.js {t['maplibre_js']:.0f}, app.js {t['app_js']:.0f}, DOM ready {t['dom_ready']:.0f}, "
        f"/api/map {t['api_map']:.0f}, overview {t['overview']:.0f}, worker.js {t['worker_js']:.0f}, glyphs {t['glyphs']:.0f}, "
        f"first tile asked {t['first_tile_asked']:.0f}, last tile {t['last_tile']:.0f} "
        f"({t['tiles']:.0f} tiles) — ms from the navigation's start"
    )


def _summary(label: str, values: list[float], seconds: float) -> str:
    if not values:
        return f"  {label:9s} no requests"
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (
        f"  {label:9s} n={len(ms):5d}  {len(ms) / seconds:6.1f}/s  p50 {statistics.median(ms):7.1f} ms"
        f"  p95 {p95:7.1f} ms  max {ms[-1]:7.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--days", type=int, default=183, help="length of the synthetic case (six months: 183)"
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="how long the concurrent run lasts"
    )
    parser.add_argument(
        "--workspace", type=Path, help="an existing workspace (e.g. the demo's) instead"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the demo force (run_demo, a case on its planted pair, the "
        "investigation) over --days days instead of the synthetic case",
    )
    parser.add_argument("--case", help="case reference in --workspace")
    parser.add_argument("--user", default="ivy")
    parser.add_argument("--password", default=PASSWORD)
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds each user pauses between requests (0: back-to-back)",
    )
    parser.add_argument(
        "--first-paint",
        type=int,
        default=0,
        metavar="N",
        help="open the case page N times in headless Chromium and time the street map's first paint",
    )
    parser.add_argument(
        "--sqlite-wal",
        action="store_true",
        help="switch the synthetic workspace's case database to WAL first "
        "(to measure what the audit's commits cost)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="wa-web-bench-") as tmp:
        if args.workspace:
            ws, ref = args.workspace, args.case
            if not ref:
                parser.error("--case is needed with --workspace")
        elif args.demo:
            t0 = time.perf_counter()
            demo = make_demo_workspace(Path(tmp) / "demo", days=args.days)
            ws, ref = demo["workspace"], demo["case_ref"]
            args.password = DEMO_PASSWORD
            n = pq.read_metadata(demo["run"] / "tracks.parquet").num_rows
            print(
                f"demo workspace: {args.days} days, {n:,} fixes of the two subjects "
                f"(built in {time.perf_counter() - t0:.1f} s)"
            )
        else:
            t0 = time.perf_counter()
            fx = make_workspace(Path(tmp) / "ws", days=args.days)
            ws, ref = fx.workspace, fx.case_ref
            print(
                f"workspace: {args.days} days, {fx.fixes:,} fixes of two subjects, "
                f"{len(fx.occasion_ids)} occasions (built in {time.perf_counter() - t0:.1f} s)"
            )
        if args.sqlite_wal and not args.workspace:  # never change a real workspace
            import sqlite3

            with sqlite3.connect(Path(ws) / "cases.sqlite") as db:
                print("case database journal:", db.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        url, proc = serve_process(Path(ws))
        try:
            warm = _client(url, args.user, args.password)
            t_cold = time.perf_counter()
            r = warm.get(f"/api/cases/{ref}/tracks?tolerance_m=30")
            t_cold = time.perf_counter() - t_cold
            r.raise_for_status()
            body = r.json()
            drawn = sum(u["drawn"] for u in body["units"])
            fixes = sum(u["fixes"] for u in body["units"])
            print(
                f"one overview-zoom track response, first (uncached): {fixes:,} fixes -> "
                f"{drawn:,} drawn, {len(r.content) / 1e6:.2f} MB JSON, {t_cold * 1000:.0f} ms"
            )
            t_tiles = time.perf_counter()
            tiles = _map_tiles(warm)  # the first /api/map builds the tiles
            if tiles:
                print(
                    f"street map: {len(tiles)} tile addresses at zooms 13-15, tiles ready in "
                    f"{time.perf_counter() - t_tiles:.1f} s"
                )
            warm.close()
            if args.first_paint and tiles:
                print(f"case page's street map, {args.first_paint} cold visits (headless Chromium)")
                for t in first_paint(url, ref, args.user, args.password, args.first_paint):
                    print(_paint_line(t))
            base_s = min(10.0, args.seconds / 3)
            print(f"baseline: 1 user for {base_s:.0f} s")
            single = _run_users(url, ref, args.user, args.password, 1, base_s, 1, tiles=tiles)
            print(_summary("overview", single["overview"], base_s))
            print(_summary("tracks", single["tracks"], base_s))
            print(_summary("tiles", single["tiles"], base_s))
            print(
                f"{args.users} concurrent users for {args.seconds:.0f} s"
                + (f", pausing {args.think} s on average between requests" if args.think else "")
            )
            many = _run_users(
                url,
                ref,
                args.user,
                args.password,
                args.users,
                args.seconds,
                100,
                args.think,
                tiles=tiles,
            )
            print(_summary("overview", many["overview"], args.seconds))
            print(_summary("tracks", many["tracks"], args.seconds))
            print(_summary("tiles", many["tiles"], args.seconds))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
