"""Basemaps: MBTiles/PMTiles/URL sources, tile choice, the per-tile affine, and drawing.

The tilesets are made here with Pillow: each tile is one flat colour chosen by its column
and row parity, so where a colour lands says which tile landed there.
"""

from __future__ import annotations

import io
import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import shapely
from PIL import Image

from whereabouts.basemap import (
    BasemapError,
    MBTiles,
    PMTiles,
    TileServer,
    affine_residual_m,
    open_basemap,
    plan_tiles,
    tile_affines,
    zoom_for,
)
from whereabouts.basemap.mercator import tile_lonlat, tile_xy
from whereabouts.tracks.projection import to_projected

CRS = "EPSG:27700"
# Around Cardiff, where the report fixtures' occasions are.
BOUNDS = (-3.30, 51.42, -3.05, 51.55)
ZOOMS = (12, 15)
PALETTE = ((230, 0, 230), (0, 200, 230), (240, 220, 0), (0, 190, 0))  # by (x%2) + 2*(y%2)
ATTRIBUTION = '<a href="https://example.org">© Test Mapping</a> contributors'


def colour_of(x: int, y: int) -> tuple[int, int, int]:
    return PALETTE[(x % 2) + 2 * (y % 2)]


def _png(
    colour: tuple[int, int, int], size: int = 256, fmt: str = "PNG", texture: bool = False
) -> bytes:
    buf = io.BytesIO()
    image = Image.new("RGB", (size, size), colour)
    if texture:  # like aerial photography: detail everywhere, which PNG compresses badly
        noise = np.random.default_rng(sum(colour)).integers(-25, 26, (size, size, 3))
        image = Image.fromarray(np.clip(np.asarray(image, int) + noise, 0, 255).astype(np.uint8))
    image.save(buf, format=fmt)
    return buf.getvalue()


def tile_grid(
    bounds: tuple[float, float, float, float] = BOUNDS, zooms: tuple[int, int] = ZOOMS
) -> list[tuple[int, int, int]]:
    """Every XYZ tile over `bounds` at the zooms from zooms[0] to zooms[1]."""
    out = []
    for z in range(zooms[0], zooms[1] + 1):
        xs, ys = tile_xy(np.array([bounds[0], bounds[2]]), np.array([bounds[3], bounds[1]]), z)
        for x in range(int(xs[0]), int(xs[1]) + 1):
            for y in range(int(ys[0]), int(ys[1]) + 1):
                out.append((z, x, y))
    return out


def make_mbtiles(
    path: Path,
    *,
    fmt: str = "png",
    bounds: tuple[float, float, float, float] = BOUNDS,
    zooms: tuple[int, int] = ZOOMS,
    encode: str = "PNG",
    metadata_format: bool = True,
    texture: bool = False,
) -> Path:
    """An MBTiles file (TMS rows) of flat-coloured tiles, with its metadata."""
    pngs = {c: _png(c, fmt=encode, texture=texture) for c in PALETTE}
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute(
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
        "tile_data blob)"
    )
    db.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [
            *([("format", fmt)] if metadata_format else []),
            ("name", "test"),
            ("bounds", ",".join(map(str, bounds))),
            ("minzoom", str(zooms[0])),
            ("maxzoom", str(zooms[1])),
            ("attribution", ATTRIBUTION),
        ],
    )
    db.executemany(
        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
        [(z, x, (1 << z) - 1 - y, pngs[colour_of(x, y)]) for z, x, y in tile_grid(bounds, zooms)],
    )
    db.commit()
    db.close()
    return path


def make_pmtiles(
    path: Path,
    *,
    tile_type: str = "PNG",
    bounds: tuple[float, float, float, float] = BOUNDS,
    zooms: tuple[int, int] = ZOOMS,
) -> Path:
    """A PMTiles v3 file of the same tiles, written with the `pmtiles` package."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    pngs = {c: _png(c) for c in PALETTE}
    tiles = sorted(
        (zxy_to_tileid(z, x, y), pngs[colour_of(x, y)]) for z, x, y in tile_grid(bounds, zooms)
    )
    with path.open("wb") as fh:
        w = Writer(fh)
        for tid, data in tiles:
            w.write_tile(tid, data)
        w.finalize(
            {
                "tile_type": TileType[tile_type],
                "tile_compression": Compression.NONE,
                "min_lon_e7": int(bounds[0] * 1e7),
                "min_lat_e7": int(bounds[1] * 1e7),
                "max_lon_e7": int(bounds[2] * 1e7),
                "max_lat_e7": int(bounds[3] * 1e7),
                "center_zoom": zooms[0],
                "center_lon_e7": int((bounds[0] + bounds[2]) / 2 * 1e7),
                "center_lat_e7": int((bounds[1] + bounds[3]) / 2 * 1e7),
            },
            {"attribution": ATTRIBUTION, "name": "test"},
        )
    return path


def decoded(data: bytes | None) -> tuple[int, int, int]:
    assert data is not None
    with Image.open(io.BytesIO(data)) as im:
        r, g, b = im.convert("RGB").getpixel((128, 128))  # type: ignore[misc]
    return (r, g, b)


@pytest.fixture(scope="module")
def tilesets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiles")
    return {
        "mbtiles": make_mbtiles(root / "area.mbtiles"),
        "pmtiles": make_pmtiles(root / "area.pmtiles"),
    }


# ---- sources ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mbtiles", "pmtiles"])
def test_tiles_by_xyz_address_and_metadata(tilesets: dict[str, Path], kind: str) -> None:
    src = open_basemap(tilesets[kind])
    try:
        assert isinstance(src, MBTiles if kind == "mbtiles" else PMTiles)
        info = src.info
        assert (info.format, info.minzoom, info.maxzoom) == ("png", *ZOOMS)
        assert np.allclose(info.bounds, BOUNDS, atol=1e-6)
        assert info.attribution == "© Test Mapping contributors"  # HTML link stripped
        assert len(info.sha256) == 64
        # Cardiff's tile at zoom 14 (XYZ: y counted from the north; MBTiles stores TMS).
        x, y = (int(v[0]) for v in tile_xy(np.array([-3.18]), np.array([51.48]), 14))
        for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
            assert decoded(src.tile(14, x + dx, y + dy)) == colour_of(x + dx, y + dy)
        assert src.tile(14, 0, 0) is None  # outside the set
        assert src.tile(ZOOMS[1] + 1, x, y) is None
    finally:
        src.close()


def test_vector_tiles_refused_with_how_to_fix(tmp_path: Path) -> None:
    mb = make_mbtiles(tmp_path / "v.mbtiles", fmt="pbf", zooms=(12, 12))
    with pytest.raises(BasemapError, match="vector tiles") as err:
        open_basemap(mb)
    assert "raster" in err.value.hint
    pm = make_pmtiles(tmp_path / "v.pmtiles", tile_type="MVT", zooms=(12, 12))
    with pytest.raises(BasemapError, match="vector tiles"):
        open_basemap(pm)
    with pytest.raises(BasemapError, match="vector tiles"):
        open_basemap("https://tiles.force.example/{z}/{x}/{y}.pbf")


def test_missing_corrupt_and_unknown_files_say_what_and_how(tmp_path: Path) -> None:
    with pytest.raises(BasemapError, match="does not exist"):
        open_basemap(tmp_path / "nowhere.mbtiles")
    junk = tmp_path / "junk.mbtiles"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(BasemapError, match="not a readable MBTiles") as err:
        open_basemap(junk)
    assert "copied whole" in err.value.hint and str(junk) in str(err.value)
    bad = tmp_path / "junk.pmtiles"
    bad.write_bytes(b"PMTiles\x03" + b"\x00" * 20)  # a truncated header
    with pytest.raises(BasemapError, match="not a readable PMTiles"):
        open_basemap(bad)
    empty = tmp_path / "empty.pmtiles"
    empty.write_bytes(b"")
    with pytest.raises(BasemapError, match="not a readable PMTiles"):
        open_basemap(empty)
    v2 = tmp_path / "old.pmtiles"
    v2.write_bytes(b"PMTiles\x02" + b"\x00" * 200)
    with pytest.raises(BasemapError, match="not version 3"):
        open_basemap(v2)
    other = tmp_path / "map.png"
    other.write_bytes(_png((0, 0, 0)))
    with pytest.raises(BasemapError, match=r"neither an \.mbtiles nor a \.pmtiles"):
        open_basemap(other)
    for url, problem in (
        ("ftp://tiles.example/{z}/{x}/{y}.png", "http:// or https://"),
        ("https://tiles.example/{z}/{x}.png", "has no {y}"),
        ("https://user:secret@tiles.example/{z}/{x}/{y}.png", "not a plain host name"),
    ):
        with pytest.raises(BasemapError, match=re.escape(problem)) as err:
            open_basemap(url)
        assert "secret" not in str(err.value)


def test_url_template_origin_and_addresses() -> None:
    src = open_basemap("https://tiles.force.example:8443/base/{z}/{x}/{y}.jpg")
    assert isinstance(src, TileServer)
    assert src.info.origin == "https://tiles.force.example:8443"
    assert src.info.format == "jpg"
    assert src.url(14, 8047, 5453) == "https://tiles.force.example:8443/base/14/8047/5453.jpg"


# ---- which tiles, at which zoom ----------------------------------------------------------


def _ground_m_per_px(lat: float, z: int) -> float:
    # The usual Web Mercator figure: 156 543.03 metres per pixel at the equator, zoom 0.
    return float(156_543.033928 * np.cos(np.radians(lat)) / 2**z)


def test_zoom_follows_the_maps_scale() -> None:
    for mpp in (0.7, 2.0, 9.0, 40.0):
        z = zoom_for(mpp, 51.48)
        assert _ground_m_per_px(51.48, z) <= mpp < _ground_m_per_px(51.48, z - 1)


def test_the_tiles_chosen_cover_the_extent(tilesets: dict[str, Path]) -> None:
    src = open_basemap(tilesets["mbtiles"])
    ext = (317_000.0, 320_500.0, 175_000.0, 177_800.0)
    view = plan_tiles(src.info, ext, CRS, width_px=900)
    src.close()
    assert view.zoom == zoom_for((ext[1] - ext[0]) / 900, 51.48) == 15
    assert view.notice == ""
    chosen = {(t.x, t.y) for t in view.tiles}
    # Independently: each candidate tile's outline projected to the grid (edges densified),
    # intersected with the map's rectangle.
    box = shapely.box(ext[0], ext[2], ext[1], ext[3])
    xs, ys = tile_xy(np.array([-3.25, -3.10]), np.array([51.52, 51.45]), 15)
    s = np.linspace(0, 1, 9)
    hit = set()
    for x in range(int(xs[0]), int(xs[1]) + 1):
        for y in range(int(ys[0]), int(ys[1]) + 1):
            u = np.concatenate([s, np.ones(9), s[::-1], np.zeros(9)])
            v = np.concatenate([np.zeros(9), s, np.ones(9), s[::-1]])
            lon, lat = tile_lonlat(x + u, y + v, 15)
            px, py = to_projected(lat, lon, CRS)
            if shapely.Polygon(np.c_[px, py]).intersects(box):
                hit.add((x, y))
    assert hit and hit <= chosen
    assert len(chosen) <= len(hit) * 1.3  # at most a fringe of corner tiles more


def test_outside_bounds_or_zooms_gives_a_notice_not_an_error(tilesets: dict[str, Path]) -> None:
    src = open_basemap(tilesets["pmtiles"])
    src.close()
    info = src.info
    far = plan_tiles(info, (400_000.0, 402_000.0, 300_000.0, 301_500.0), CRS, 900)
    assert far.tiles == () and "does not cover this area" in far.notice
    # A map of 200 km against a set of zooms 12 to 15 covering the country: too many tiles.
    country = replace(info, bounds=(-8.0, 49.9, 2.0, 60.0))
    coarse = plan_tiles(country, (200_000.0, 420_000.0, 100_000.0, 300_000.0), CRS, 900)
    assert coarse.tiles == () and "zoom levels (12 to 15)" in coarse.notice
    # The same map over the small set: its few tiles, and a word that it covers only part.
    part = plan_tiles(info, (200_000.0, 420_000.0, 100_000.0, 300_000.0), CRS, 900)
    assert part.zoom == 12 and 0 < len(part.tiles) <= 20 and "only part" in part.notice
    fine = plan_tiles(info, (318_000.0, 318_200.0, 176_000.0, 176_150.0), CRS, 900)
    assert fine.zoom == 15 and fine.tiles and "less sharp" in fine.notice
    edge = plan_tiles(info, (322_000.0, 328_000.0, 176_000.0, 180_000.0), CRS, 900)
    assert edge.tiles and "only part" in edge.notice


# ---- the affine per tile -----------------------------------------------------------------


def test_affine_error_is_far_below_a_metre_over_a_tile_of_a_few_kilometres() -> None:
    # Tiles over Great Britain from Cornwall to Shetland.
    lon = np.array([-5.5, -3.18, -1.5, 1.3, -1.2])
    lat = np.array([50.1, 51.48, 55.0, 52.6, 60.3])
    for z, limit_m in ((13, 0.6), (14, 0.15), (16, 0.01)):
        x, y = tile_xy(lon, lat, z)
        width = np.hypot(*(tile_affines(z, np.floor(x), np.floor(y), CRS)[:, :2].T))
        err = affine_residual_m(z, np.floor(x), np.floor(y), CRS)
        assert np.all(width > 1000 * 2 ** (13 - z))  # zoom 13 tiles are 1.3–3 km wide here
        assert np.all(err < limit_m), (z, err)
        # Measured: about 0.46 m at zoom 13 (3 km tiles), 0.11 m at 14, 0.007 m at 16.
        assert np.all(err < 0.05 * _ground_m_per_px(float(lat.max()), z))  # < 1/20 pixel


def test_affine_maps_the_tile_corners_to_their_projected_positions() -> None:
    z, x, y = 14, 8047, 5453
    m = tile_affines(z, np.array([x]), np.array([y]), CRS)[0]
    a, b, c, d, e, f = m
    for u, v in ((0, 0), (1, 0), (0, 1), (1, 1), (0.5, 0.5)):
        lon, lat = tile_lonlat(np.array([x + u]), np.array([y + v]), z)
        px, py = to_projected(lat, lon, CRS)
        assert np.hypot(a * u + c * v + e - px[0], b * u + d * v + f - py[0]) < 0.15
    assert a > 0 and d < 0  # east to the right; rows run south


# ---- drawn on a map ----------------------------------------------------------------------


def test_tiles_land_where_their_corners_project(tilesets: dict[str, Path]) -> None:
    from whereabouts.basemap.draw import BasemapLayer, draw_basemap
    from whereabouts.report.figures import new_figure, style

    layer = BasemapLayer(open_basemap(tilesets["mbtiles"]))
    ext = (317_000.0, 320_000.0, 175_000.0, 177_500.0)
    with style():
        fig = new_figure(6.0, 5.0, margins=(0.0, 0.0, 1.0, 1.0))
        ax = fig.add_subplot()
        ax.set_axis_off()
        view = draw_basemap(ax, layer, ext, CRS)
        ax.set_xlim(ext[0], ext[1])
        ax.set_ylim(ext[2], ext[3])
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=50)
    img = np.asarray(Image.open(buf).convert("RGB")).astype(int)
    h, w, _ = img.shape
    checked = 0
    for t in view.tiles:
        # The tile's centre, found independently through pyproj.
        lon, lat = tile_lonlat(np.array([t.x + 0.5]), np.array([t.y + 0.5]), t.z)
        px, py = to_projected(lat, lon, CRS)
        col = int((px[0] - ext[0]) / (ext[1] - ext[0]) * w)
        row = int((ext[3] - py[0]) / (ext[3] - ext[2]) * h)
        if 5 <= col < w - 5 and 5 <= row < h - 20:  # clear of the attribution line
            assert np.abs(img[row, col] - colour_of(t.x, t.y)).max() <= 8, (t, img[row, col])
            checked += 1
    assert checked >= 4
    layer.source.close()


def test_jpeg_tiles_and_a_format_found_from_the_tiles(tmp_path: Path) -> None:
    from whereabouts.basemap.draw import BasemapLayer

    jpg = open_basemap(
        make_mbtiles(tmp_path / "j.mbtiles", encode="JPEG", zooms=(14, 14), metadata_format=False)
    )
    try:
        assert jpg.info.format == "jpg" and jpg.info.mime == "image/jpeg"
        x, y = (int(v[0]) for v in tile_xy(np.array([-3.18]), np.array([51.48]), 14))
        data = jpg.tile(14, x, y)
        assert data is not None
        rgba = BasemapLayer(jpg).image((14, x, y), data)
        assert rgba is not None and rgba.shape == (256, 256, 4)
        assert np.abs(rgba[128, 128, :3].astype(int) - colour_of(x, y)).max() <= 6  # JPEG
    finally:
        jpg.close()


def test_unreadable_tiles_are_said_on_the_map_not_raised(tmp_path: Path) -> None:
    from whereabouts.basemap.draw import BasemapLayer, draw_basemap
    from whereabouts.report.figures import new_figure, style

    path = make_mbtiles(tmp_path / "broken.mbtiles", zooms=(14, 15))
    db = sqlite3.connect(path)
    db.execute("UPDATE tiles SET tile_data = ?", (b"\x89PNG\r\n\x1a\n" + b"broken" * 20,))
    db.commit()
    db.close()
    layer = BasemapLayer(open_basemap(path))
    with style():
        ax = new_figure(6.0, 5.0, margins=(0.0, 0.0, 1.0, 1.0)).add_subplot()
        view = draw_basemap(ax, layer, (317_000.0, 320_000.0, 175_000.0, 177_500.0), CRS)
    layer.source.close()
    assert view.tiles and not ax.images and layer.used == {}
    assert layer.notices == 1
    assert any("not readable images" in t.get_text() for t in ax.texts)


def test_whole_tiles_keep_their_own_bytes_in_the_svg(tmp_path: Path) -> None:
    import base64

    from whereabouts.basemap.draw import BasemapLayer, draw_basemap, embed_originals
    from whereabouts.report.figures import new_figure, style, to_data_uri

    src = open_basemap(
        make_mbtiles(tmp_path / "j.mbtiles", fmt="jpg", encode="JPEG", texture=True, zooms=(15, 15))
    )
    layer = BasemapLayer(src)
    with style():
        fig = new_figure(6.0, 5.0, margins=(0.05, 0.05, 0.95, 0.95))
        ax = fig.add_subplot()
        ext = (317_000.0, 320_000.0, 175_000.0, 177_500.0)
        view = draw_basemap(ax, layer, ext, CRS)
        ax.set_xlim(ext[0], ext[1])
        ax.set_ylim(ext[2], ext[3])
        plain = to_data_uri(fig)
    uri = embed_originals(plain, layer)
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    jpegs = re.findall(r'href="data:image/jpeg;base64,([^"]*)" id="basemap-(\d+)-(\d+)-(\d+)"', svg)
    pngs = re.findall(r'href="data:image/png;base64,[^"]*" id="basemap-', svg)
    assert jpegs and pngs  # inner tiles whole, edge tiles cut by the map's frame
    assert len(jpegs) + len(pngs) == len(view.tiles)
    for b64, z, x, y in jpegs:
        assert base64.b64decode(b64) == src.tile(int(z), int(x), int(y))
    # JPEG tiles stay JPEG, smaller than matplotlib's PNGs of them (here 6 of 20 tiles are
    # whole; the cut ones at the edges stay PNG): about 27% smaller in all.
    assert len(uri) < 0.85 * len(plain)
    src.close()
