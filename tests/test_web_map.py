"""The web app's street map: vector tiles built offline from the workspace's map layers
(decoded back with mapbox_vector_tile and checked against the features ingested), the
grid → Web Mercator polynomial the browser uses (against pyproj), and the endpoints."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from pyogrio import raw
from pyproj import Transformer

from test_web_support import test_client_class
from whereabouts.store.workspace import Workspace
from whereabouts.web.vectortiles import (
    EXTENT,
    MAX_ZOOM,
    ROAD_MIN_ZOOM,
    VectorTiles,
    grid_affine,
    tile_bounds,
)

X0, Y0 = 318000.0, 176000.0  # Cardiff, British National Grid
PASSWORD = "correct horse battery staple"


def _gpkg(path: Path) -> list[shapely.Polygon]:
    houses = [shapely.box(X0 + 20 * i, Y0, X0 + 20 * i + 9, Y0 + 8) for i in range(10)]
    road = shapely.LineString([(X0 - 100, Y0 - 15), (X0 + 300, Y0 - 15)])
    for k, (layer, geoms, fields, gtype) in enumerate(
        [
            (
                "road_link",
                [road],
                {"id": ["R1"], "name_1": ["Ash Walk"], "road_classification": ["Local Road"]},
                "LineString",
            ),
            ("building", houses, {"id": [f"B{i}" for i in range(10)]}, "Polygon"),
        ]
    ):
        raw.write(
            str(path),
            shapely.to_wkb(np.array(geoms, dtype=object)),
            [np.array(v, dtype=object) for v in fields.values()],
            list(fields),
            layer=layer,
            driver="GPKG",
            crs="EPSG:27700",
            geometry_type=gtype,
            append=k > 0,
        )
    return houses


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int(
        (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi)
        / 2
        * n
    )
    return x, y


@pytest.fixture(scope="module")
def mapped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, list[Any]]:
    root = tmp_path_factory.mktemp("webmap")
    houses = _gpkg(root / "map.gpkg")
    ws = Workspace.init(root / "ws")
    ws.ingest("map", [root / "map.gpkg"])
    return ws, houses


def test_tiles_hold_the_buildings_where_they_are(mapped: tuple[Workspace, list[Any]]) -> None:
    ws, houses = mapped
    tiles = VectorTiles.for_workspace(ws.path, ws.crs)
    assert tiles is not None
    to_ll = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    to_merc = Transformer.from_crs("EPSG:27700", "EPSG:3857", always_xy=True)
    c = shapely.centroid(houses[0])
    lon, lat = to_ll.transform(c.x, c.y)
    x, y = _tile_of(lon, lat, MAX_ZOOM)
    data = tiles.tile(MAX_ZOOM, x, y)
    assert data is not None
    decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    assert {"roads", "buildings"} <= set(decoded)
    assert decoded["roads"]["features"][0]["properties"] == {"name": "Ash Walk", "class": "minor"}
    b = tile_bounds(MAX_ZOOM, x, y)
    unit = (b[2] - b[0]) / EXTENT
    got = []
    for f in decoded["buildings"]["features"]:
        ring = np.array(f["geometry"]["coordinates"][0], float)
        ring = ring[:-1] if (ring[0] == ring[-1]).all() else ring  # the closing vertex
        got.append(np.column_stack([b[0] + ring[:, 0] * unit, b[3] - ring[:, 1] * unit]))
    mx, my = to_merc.transform(c.x, c.y)
    nearest = min(np.hypot(g[:, 0].mean() - mx, g[:, 1].mean() - my) for g in got)
    assert nearest < 2 * unit  # within a couple of tile units (0.3 m each at z15)
    assert tiles.tile(MAX_ZOOM, 0, 0) is None  # nothing in the Pacific
    # a new map layer ingested: new tiles, named after their inputs
    again = VectorTiles.for_workspace(ws.path, ws.crs)
    assert again is not None and again.path == tiles.path


def test_grid_to_mercator_polynomial_matches_pyproj() -> None:
    fit, residual = grid_affine((-3.6, 51.4, -2.9, 51.8), "EPSG:27700")
    assert residual < 0.05
    to_merc = Transformer.from_crs("EPSG:27700", "EPSG:3857", always_xy=True)
    for gx, gy in ((300500.0, 170500.0), (329000.0, 199000.0)):
        u, v = (gx - fit["x0"]) / fit["scale"], (gy - fit["y0"]) / fit["scale"]
        mx = sum(c * u**i * v**j for c, (i, j) in zip(fit["cx"], fit["terms"], strict=True))
        my = sum(c * u**i * v**j for c, (i, j) in zip(fit["cy"], fit["terms"], strict=True))
        ex, ey = to_merc.transform(gx, gy)
        assert abs(mx - ex) < 0.1 and abs(my - ey) < 0.1


def test_map_endpoints(mapped: tuple[Workspace, list[Any]]) -> None:
    from whereabouts.case import CaseStore
    from whereabouts.web import create_app

    ws, _ = mapped
    store = CaseStore.open(ws.path)
    store.add_user("admin", PASSWORD, "administrator")
    store.close()
    client = test_client_class()(create_app(ws.path))
    assert client.get("/api/map").status_code == 401
    r = client.post("/api/session", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200
    info = client.get("/api/map").json()
    for _ in range(600):  # the first request starts the build in the background
        if info["enabled"] or not info["building"]:
            break
        time.sleep(0.2)
        info = client.get("/api/map").json()
    assert info["enabled"] and info["affine_residual_m"] < 0.05
    w, s, e, n = info["bounds"]  # the features' extent: the houses and the road
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(
        [X0 - 100, X0 + 300], [Y0 - 15, Y0 + 8]
    )
    assert np.allclose([w, s, e, n], [lon[0], lat[0], lon[1], lat[1]], atol=1e-5)
    z = ROAD_MIN_ZOOM["minor"]  # a local road: in the tiles from the zoom of town streets
    x, y = _tile_of(w, s, z)
    tile = client.get(f"/api/map/tiles/{z}/{x}/{y}")
    assert tile.status_code == 200 and tile.headers["content-type"] == "application/x-protobuf"
    assert (
        mapbox_vector_tile.decode(tile.content)["roads"]["features"][0]["properties"]["name"]
        == "Ash Walk"
    )
    x, y = _tile_of(w, s, z - 1)  # zoomed out: no local road (and no building)
    assert client.get(f"/api/map/tiles/{z - 1}/{x}/{y}").status_code == 204
    assert client.get("/api/map/tiles/11/0/0").status_code == 204
    # the vendored files the street map's worker asks for are cacheable (the page asks for
    # the glyphs first: the worker then finds them in the cache); the app's own are not
    for path in ("/static/glyphs/DejaVu%20Sans/0-255.pbf", "/static/maplibre/maplibre-gl-csp.js"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=86400"
    assert "max-age" not in client.get("/static/app.js").headers.get("cache-control", "")
    # signed out: no more tiles (a session's check for tiles is remembered a few seconds)
    me = client.get("/api/me").json()
    assert (
        client.delete("/api/session", headers={"X-CSRF-Token": me["csrf_token"]}).status_code == 204
    )
    assert client.get(f"/api/map/tiles/{z}/{x}/{y}").status_code == 401


GLYPHS = Path(__file__).parents[1] / "src" / "whereabouts" / "web" / "static" / "glyphs"


def _glyphs_message() -> Any:
    """MapLibre's glyphs.proto (`glyphs` > `fontstack` > `glyph`), built with protobuf."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    f = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="glyphs_test.proto", package="glyphs_test")
    spec = {
        "glyph": [
            ("id", 1, f.TYPE_UINT32, ""),
            ("bitmap", 2, f.TYPE_BYTES, ""),
            ("width", 3, f.TYPE_UINT32, ""),
            ("height", 4, f.TYPE_UINT32, ""),
            ("left", 5, f.TYPE_SINT32, ""),
            ("top", 6, f.TYPE_SINT32, ""),
            ("advance", 7, f.TYPE_UINT32, ""),
        ],
        "fontstack": [
            ("name", 1, f.TYPE_STRING, ""),
            ("range", 2, f.TYPE_STRING, ""),
            ("glyphs", 3, f.TYPE_MESSAGE, ".glyphs_test.glyph"),
        ],
        "glyphs": [("stacks", 1, f.TYPE_MESSAGE, ".glyphs_test.fontstack")],
    }
    for name, fields in spec.items():
        m = fdp.message_type.add(name=name)
        for fname, number, ftype, tname in fields:
            repeated = fname in ("glyphs", "stacks")
            m.field.add(
                name=fname,
                number=number,
                type=ftype,
                type_name=tname or None,
                label=f.LABEL_REPEATED if repeated else f.LABEL_OPTIONAL,
            )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("glyphs_test.glyphs"))


def test_vendored_glyphs_read_as_maplibre_reads_them() -> None:
    """The street map's glyph ranges (scripts/glyphs.py) decode as glyphs.proto, hold every
    letter of English and Welsh street names, and each bitmap is a distance field: the
    outline at 191, ink above, paper below (an O's middle is paper)."""
    message = _glyphs_message()
    found: dict[int, Any] = {}
    for path in sorted((GLYPHS / "DejaVu Sans").glob("*.pbf")):
        parsed = message.FromString(path.read_bytes())
        (stack,) = parsed.stacks
        assert stack.name == "DejaVu Sans" and path.name == f"{stack.range}.pbf"
        start, end = (int(v) for v in stack.range.split("-"))
        for g in stack.glyphs:
            assert start <= g.id <= end
            assert len(g.bitmap) == ((g.width + 6) * (g.height + 6) if g.width else 0)
            found[g.id] = g
    assert (GLYPHS / "LICENSE_DEJAVU.txt").read_text().count("Bitstream Vera") > 0
    for ch in "Ffordd y Bryn, Lôn Ŵyn · Heol-y-Coed – St Mary’s Rd 1234567890 ŷ â ê î":
        assert ord(ch) in found, ch
    o = found[ord("O")]
    img = np.frombuffer(o.bitmap, np.uint8).reshape(o.height + 6, o.width + 6)
    middle = img[img.shape[0] // 2]
    assert middle[img.shape[1] // 2] < 191 and middle.max() > 191 and middle[0] < 100
    assert found[ord("W")].advance > found[ord("i")].advance > 0
