"""Roads: the GeoJSON reader (quarantine, counts, CRS) and the nearest road of an occasion.

Geometry here is hand-built so that every expected answer follows from Pythagoras, not
from the code under test; projections are checked against pyproj called directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from whereabouts import schema
from whereabouts.analysis.inputs import Inputs
from whereabouts.analysis.occasions import (
    nearest_roads,
    place_names,
    road_label,
    road_names,
    where_texts,
)
from whereabouts.analysis.params import AnalysisParams
from whereabouts.errors import InputError
from whereabouts.io.read import read
from whereabouts.store.workspace import Workspace

LINE = [[-3.44, 51.71], [-3.43, 51.715]]  # near Aberdare, in Great Britain


def feature(geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def line(coords: list[list[Any]] = LINE) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": coords}


def write(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return path


# -- reader -----------------------------------------------------------------------------


def test_good_osm_style_file(tmp_path: Path) -> None:
    multi = {"type": "MultiLineString", "coordinates": [LINE, [[-3.42, 51.70], [-3.41, 51.70]]]}
    path = write(
        tmp_path / "roads.geojson",
        [
            {
                **feature(line(), name="Heol y Felin", ref="A4059", highway="primary"),
                "id": "way/42",
            },
            feature(multi, ref="B4275", highway="secondary", osm_id=7),
            feature(line(), name="  Mill Lane ", kind="unclassified", road_id="R9"),
        ],
    )
    result = read("roads", path)
    assert result.counts == {"read": 3, "accepted": 3, "duplicates": 0, "quarantined": 0}
    rows = result.accepted.drop_columns(["geometry_wkb"]).to_pylist()
    assert rows == [
        {
            "road_id": "way/42",
            "name": "Heol y Felin",
            "ref": "A4059",
            "kind": "primary",
            "src_line": 1,
        },
        {"road_id": "7", "name": None, "ref": "B4275", "kind": "secondary", "src_line": 2},
        {"road_id": "R9", "name": "Mill Lane", "ref": None, "kind": "unclassified", "src_line": 3},
    ]
    geoms = shapely.from_wkb(result.accepted["geometry_wkb"].to_numpy(zero_copy_only=False))
    assert shapely.get_type_id(geoms).tolist() == [1, 5, 1]  # LineString, MultiLineString


@pytest.mark.parametrize("crs", ["EPSG:27700", "EPSG:32630"])
def test_lines_are_stored_in_the_workspace_crs(tmp_path: Path, crs: str) -> None:
    path = write(tmp_path / "r.geojson", [feature(line(), name="Heol y Felin")])
    ws = Workspace.init(tmp_path / "ws", crs=crs)
    (report,) = ws.ingest("roads", [path])
    assert report.counts["accepted"] == 1
    stored = ws.table("roads")
    assert stored.schema == schema.ROADS
    coords = shapely.get_coordinates(shapely.from_wkb(stored["geometry_wkb"][0].as_py()))
    lon, lat = np.array(LINE).T
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    np.testing.assert_allclose(coords, np.column_stack([x, y]), atol=1e-6)
    if crs == "EPSG:27700":  # Aberdare lies about 300 km east, 200 km north of the origin
        assert 290_000 < coords[0, 0] < 310_000 and 195_000 < coords[0, 1] < 215_000


QUARANTINED = [
    (feature(None, name="x"), "geometry", "no geometry"),
    (
        feature({"type": "Point", "coordinates": LINE[0]}, name="x"),
        "geometry",
        "geometry is 'Point', not a LineString or MultiLineString",
    ),
    (
        feature({"type": "Polygon", "coordinates": [[*LINE, [-3.43, 51.71], LINE[0]]]}, name="x"),
        "geometry",
        "not a LineString",
    ),
    (feature(line(), highway="primary"), "name", "no name nor ref"),
    (feature(line(), name=" ", ref=""), "name", "no name nor ref"),
    (feature(line([LINE[0]]), name="x"), "geometry", "malformed line"),
    (feature({"type": "LineString"}, name="x"), "geometry", "malformed line"),
    (feature(line([[-3.44, "north"], LINE[1]]), name="x"), "geometry", "malformed line"),
    (feature({"type": "MultiLineString", "coordinates": []}, name="x"), "geometry", "empty line"),
    (feature(line([[-3.44, 151.71], LINE[1]]), name="x"), "geometry", "coordinates out of range"),
    (feature(line([[-183.4, 51.7], LINE[1]]), name="x"), "geometry", "coordinates out of range"),
    (
        feature(line([[51.71, -3.44], [51.715, -3.43]]), name="x"),
        "geometry",
        "lat and lon look swapped",
    ),
]


def test_every_quarantine_reason_with_its_feature_number(tmp_path: Path) -> None:
    good = feature(line(), name="Heol y Felin")
    features = [good] + [f for f, _, _ in QUARANTINED]
    result = read("roads", write(tmp_path / "bad.geojson", features))
    assert result.counts == {
        "read": len(features),
        "accepted": 1,
        "duplicates": 0,
        "quarantined": len(QUARANTINED),
    }
    q = result.quarantine.to_pylist()
    assert [r["line"] for r in q] == list(range(2, len(features) + 1))
    for row, (feat, column, reason) in zip(q, QUARANTINED, strict=True):
        assert row["column"] == column and reason in row["reason"], (row, reason)
        assert json.loads(row["raw"]) == feat  # the feature as read, for the investigator


def test_nan_coordinates_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "nan.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"ref": "A1"}, "geometry": {"type": "LineString", '
        '"coordinates": [[-3.44, NaN], [-3.43, 51.7]]}}]}',
        encoding="utf-8",
    )
    result = read("roads", path)
    assert result.counts["quarantined"] == 1
    assert "malformed line" in result.quarantine["reason"][0].as_py()


def test_not_a_feature_collection_is_a_whole_file_error(tmp_path: Path) -> None:
    path = tmp_path / "x.geojson"
    path.write_text('{"type": "LineString", "coordinates": []}', encoding="utf-8")
    with pytest.raises(InputError, match="not a GeoJSON FeatureCollection"):
        read("roads", path)


def test_ingest_counts_add_up_and_duplicates_merge(tmp_path: Path) -> None:
    good = feature(line(), name="Heol y Felin", ref="A4059")
    features = [good, good, feature(None, name="x"), feature(line(), ref="B1")]
    path = write(tmp_path / "r.geojson", features)
    ws = Workspace.init(tmp_path / "ws")
    (report,) = ws.ingest("roads", [path])
    assert report.counts == {"read": 4, "accepted": 2, "duplicates": 1, "quarantined": 1}
    entry = ws.manifest[-1]
    assert entry["kind"] == "roads" and entry["table"] == "roads"
    assert pq.read_table(report.quarantine).num_rows == 1
    assert ws.table("roads")["src_line"].to_pylist() == [1, 4]


KINDS_OF_FEATURE = {
    "good": feature(line(), name="A road"),
    "ref_only": feature(line(), ref="A1"),
    "no_geometry": feature(None, name="x"),
    "point": feature({"type": "Point", "coordinates": LINE[0]}, name="x"),
    "unnamed": feature(line()),
    "short": feature(line([LINE[0]]), ref="A1"),
}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(sorted(KINDS_OF_FEATURE)), min_size=0, max_size=12))
def test_counts_always_add_up(tmp_path_factory: pytest.TempPathFactory, kinds: list[str]) -> None:
    path = write(tmp_path_factory.mktemp("p") / "r.geojson", [KINDS_OF_FEATURE[k] for k in kinds])
    result = read("roads", path)
    c = result.counts
    assert c["read"] == len(kinds) == c["accepted"] + c["duplicates"] + c["quarantined"]
    bad = sum(k in ("no_geometry", "point", "unnamed", "short") for k in kinds)
    assert c["quarantined"] == bad


# -- nearest road -----------------------------------------------------------------------

Road = tuple[str, str | None, str | None, list[list[float]]]


def roads_table(rows: list[Road]) -> pa.Table:
    """(road_id, name, ref, coordinates in metres) → a canonical roads table."""
    return pa.table(
        {
            "road_id": [r[0] for r in rows],
            "name": pa.array([r[1] for r in rows], pa.string()),
            "ref": pa.array([r[2] for r in rows], pa.string()),
            "kind": pa.array([None] * len(rows), pa.string()),
            "geometry_wkb": pa.array(
                [shapely.to_wkb(shapely.linestrings(r[3])) for r in rows], pa.binary()
            ),
            "src_file": ["f"] * len(rows),
            "src_line": list(range(1, len(rows) + 1)),
        }
    )


# A street along y = 0 from x = 0 to 100, and a main road along x = 200.
STREETS = roads_table(
    [
        ("S1", "High Street", None, [[0, 0], [100, 0]]),
        ("A1", "Heol y Felin", "A4059", [[200, -500], [200, 500]]),
    ]
)


def test_road_labels() -> None:
    labels = road_label(
        pa.array(["Heol y Felin", None, "Mill Lane", None]),
        pa.array(["A4059", "B4275", None, None]),
    )
    assert labels.to_pylist() == ["A4059 Heol y Felin", "B4275", "Mill Lane", None]


def test_nearest_road_known_answers() -> None:
    # (x, y) → expected road row and distance, by Pythagoras
    cases = [
        ((50, 12), 0, 12.0),  # over the street
        ((190, 50), 1, 10.0),  # beside the main road
        ((130, 40), 0, 50.0),  # 30-40-50 from the street's end: exactly at the limit
        ((100, -30), 0, 30.0),  # off the street's end
        ((50, 60), -1, np.nan),  # 60 m from the street, 150 m from the main road
        ((np.nan, 0), -1, np.nan),
    ]  # no point
    x = np.array([c[0][0] for c in cases], float)
    y = np.array([c[0][1] for c in cases], float)
    index, dist = nearest_roads(x, y, STREETS, 50.0)
    assert index.tolist() == [c[1] for c in cases]
    np.testing.assert_allclose(dist, [c[2] for c in cases], atol=1e-9)


def test_ties_are_broken_the_same_whatever_the_row_order() -> None:
    # Two parallel roads 20 m apart, a point midway: 10 m from both.
    base: list[Road] = [
        ("L1", "Mill Lane", None, [[0, 0], [100, 0]]),
        ("L2", "Church Lane", None, [[0, 20], [100, 20]]),
    ]
    numbered: list[Road] = [*base, ("B1", "Quarry Road", "B4275", [[0, -20], [100, -20]])]
    for rows, expected in ((base, "Church Lane"), (numbered, "B4275 Quarry Road")):
        y = np.array([10.0 if expected == "Church Lane" else -10.0])
        for order in (rows, rows[::-1]):
            table = roads_table(order)
            index, dist = nearest_roads(np.array([50.0]), y, table, 50.0)
            assert dist[0] == pytest.approx(10.0)
            labels = road_label(table["name"], table["ref"]).to_pylist()
            assert labels[index[0]] == expected


def occasions_con(roads: pa.Table | None) -> Any:
    places = pa.table(
        {
            "place_id": ["STN-1", "HOME-1"],
            "kind": ["police_station", "home"],
            "lat": [0.0, 0.0],
            "lon": [0.0, 0.0],
            "x": [0.0, 10.0],
            "y": [0.0, 10.0],
            "radius_m": [80.0, 30.0],
            "name": ["Aberllyn police station", "a home"],
            "owner_officer_id": [None, "P1"],
        }
    )
    inputs = Inputs(places=places, **({"roads": roads} if roads is not None else {}))
    con = inputs.connect()
    # Points: 350 m north-east of the station and 12 m from the main road along x = 247.5;
    # 2 km due south of it with no road near; beside the station.
    d = 350 / np.sqrt(2)
    con.execute(f"""CREATE TABLE pts AS SELECT * FROM (VALUES
        ('o1', {d}, {d}), ('o2', 0.0, -2000.0), ('o3', 10.0, -5.0), ('o4', NULL, NULL))
        t(occasion_id, x, y)""")  # noqa: S608  # numbers of the test
    return con


def test_where_text_names_the_road_and_the_place_with_its_direction() -> None:
    main = roads_table(
        [
            (
                "A1",
                "Heol y Felin",
                "A4059",
                [[350 / np.sqrt(2) + 12, -900], [350 / np.sqrt(2) + 12, 900]],
            )
        ]
    )
    out = where_texts(occasions_con(main), "pts", AnalysisParams()).to_pylist()
    by_id = {r["occasion_id"]: r for r in out}
    assert by_id["o1"]["where_text"] == (
        "on A4059 Heol y Felin (12 m), 350 m NE of Aberllyn police station"
    )
    assert by_id["o1"]["road_distance_m"] == pytest.approx(12.0)
    assert by_id["o2"]["where_text"] == "2.0 km S of Aberllyn police station"
    assert by_id["o2"]["road"] is None and by_id["o2"]["road_distance_m"] is None
    assert by_id["o3"]["where_text"] == "at Aberllyn police station"  # a home is never named
    assert by_id["o4"]["where_text"] is None


def test_without_a_roads_table_the_road_columns_are_null() -> None:
    out = road_names(occasions_con(None), "pts", AnalysisParams())
    assert out.num_rows == 3  # the rows with a point
    assert out["road"].null_count == 3 and out["road_distance_m"].null_count == 3
    texts = where_texts(occasions_con(None), "pts", AnalysisParams())
    assert "NE of Aberllyn police station" in texts["where_text"].to_pylist()[0]


def test_the_road_distance_is_a_parameter() -> None:
    near = roads_table([("S1", "High Street", None, [[0, 0], [100, 0]])])
    con = Inputs(roads=near).connect()
    con.execute("CREATE TABLE pts AS SELECT 'o1' AS occasion_id, 50.0 AS x, 80.0 AS y")
    assert road_names(con, "pts", AnalysisParams())["road"].to_pylist() == [None]
    wide = road_names(con, "pts", AnalysisParams(road_distance_m=100))
    assert wide["road"].to_pylist() == ["High Street"]
    assert wide["road_distance_m"].to_pylist() == [pytest.approx(80.0)]
    assert "within 100 m" in AnalysisParams(road_distance_m=100).road_rule()


def test_nearest_place_ties_by_name_and_bearing() -> None:
    # Two stations 100 m either side of the point: equally near; the name decides.
    for names in (["Zeta station", "Alpha station"], ["Alpha station", "Zeta station"]):
        places = pa.table(
            {
                "place_id": ["P1", "P2"],
                "kind": ["police_station", "police_station"],
                "lat": [0.0, 0.0],
                "lon": [0.0, 0.0],
                "x": [-100.0, 100.0],
                "y": [0.0, 0.0],
                "radius_m": [50.0, 50.0],
                "name": names,
                "owner_officer_id": [None, None],
            }
        )
        con = Inputs(places=places).connect()
        con.execute("CREATE TABLE pts AS SELECT 'o1' AS occasion_id, 0.0 AS x, 0.0 AS y")
        (row,) = place_names(con, "pts").to_pylist()
        assert row["place"] == "Alpha station" and row["place_distance_m"] == 100.0
        # from Alpha to the point: east when Alpha is the western one, else west
        assert row["place_bearing_deg"] == pytest.approx(
            90.0 if names[1] != "Alpha station" else 270.0
        )
