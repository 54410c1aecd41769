"""The readers' edge-case zoo: every malformed input is quarantined with file, line, column
and reason, or stops with a whole-file message; the counts always add up."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from whereabouts.errors import InputError, ParameterError, ProfileError, SchemaError
from whereabouts.io.read import read
from whereabouts.io.result import ReadResult
from whereabouts.io.tabular import digest

FIX_HEADER = "device_id,time,lat,lon,accuracy_m,speed_mps,heading_deg,source"
GOOD_FIX = "RV21,2024-02-05T07:41:00Z,51.48,-3.17,5,8.4,52,avl"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def reasons(result: ReadResult) -> dict[int, tuple[str | None, str]]:
    return {r["line"]: (r["column"], r["reason"]) for r in result.quarantine.to_pylist()}


def assert_adds_up(result: ReadResult) -> None:
    c = result.counts
    assert c["read"] == c["accepted"] + c["duplicates"] + c["quarantined"]


# -- fixes CSV ------------------------------------------------------------------------


def test_good_fix_is_read_with_canonical_columns(tmp_path: Path) -> None:
    r = read("fixes", write(tmp_path, "f.csv", f"{FIX_HEADER}\n{GOOD_FIX}\n"))
    row = r.accepted.to_pylist()[0]
    assert row["device_id"] == "RV21"
    assert row["time"] == datetime(2024, 2, 5, 7, 41, tzinfo=UTC)
    assert (row["lat"], row["lon"], row["speed_mps"], row["src_line"]) == (51.48, -3.17, 8.4, 2)


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("RV21,2024-02-05T07:41:00Z,91.0,-3.17,5,,,", "lat", "latitude out of range"),
        ("RV21,2024-02-05T07:41:00Z,51.4,-181,5,,,", "lon", "longitude out of range"),
        ("RV21,2024-02-05T07:41:00Z,0,0,5,,,", "lat", "(0, 0)"),
        ("RV21,2024-02-05T07:41:00Z,NaN,-3.17,5,,,", "lat", "not a finite number"),
        ("RV21,2024-02-05T07:41:00Z,north,-3.17,5,,,", "lat", "not a number"),
        ("RV21,2024-02-05T07:41:00Z,,-3.17,5,,,", "lat", "missing latitude"),
        (",2024-02-05T07:41:00Z,51.4,-3.17,5,,,", "device_id", "missing value"),
        ("RV21,1985-02-05T07:41:00Z,51.4,-3.17,5,,,", "time", "before 1990"),
        ("RV21,2099-02-05T07:41:00Z,51.4,-3.17,5,,,", "time", "in the future"),
        ("RV21,yesterday,51.4,-3.17,5,,,", "time", "unparseable"),
        ("RV21,2024-02-30T07:41:00Z,51.4,-3.17,5,,,", "time", "impossible"),
        ("RV21,2024-02-05T07:41:00Z,51.4,-3.17,-5,,,", "accuracy_m", "out of range"),
        ("RV21,2024-02-05T07:41:00Z,51.4,-3.17,5,,400,", "heading_deg", "out of range"),
    ],
)
def test_bad_fix_values_are_quarantined_with_line_and_column(
    tmp_path: Path, row: str, column: str, reason: str
) -> None:
    path = write(tmp_path, "f.csv", f"{FIX_HEADER}\n{GOOD_FIX}\n{row}\n")
    r = read("fixes", path, now=datetime(2025, 1, 1, tzinfo=UTC))
    assert r.counts == {"read": 2, "accepted": 1, "duplicates": 0, "quarantined": 1}
    got_column, got_reason = reasons(r)[3]
    assert got_column == column
    assert reason in got_reason
    assert r.quarantine["raw"][0].as_py().startswith(row.split(",", maxsplit=1)[0])


def test_clock_change_local_times_are_quarantined(tmp_path: Path) -> None:
    text = (
        f"{FIX_HEADER}\n"
        "RV21,2024-03-31 01:30:00,51.4,-3.17,,,,\n"  # does not exist in London
        "RV21,2024-10-27 01:30:00,51.4,-3.17,,,,\n"  # happens twice
        "RV21,2024-10-27 01:30:00+01:00,51.4,-3.17,,,,\n"  # offset given: fine
        "RV21,2024-07-01 12:00:00,51.4,-3.17,,,,\n"
    )  # BST: 11:00 UTC
    r = read("fixes", write(tmp_path, "f.csv", text))
    why = reasons(r)
    assert "does not exist" in why[2][1] and "ambiguous" in why[3][1]
    times = r.accepted["time"].to_pylist()
    assert times == [
        datetime(2024, 10, 27, 0, 30, tzinfo=UTC),
        datetime(2024, 7, 1, 11, 0, tzinfo=UTC),
    ]


def test_timezone_option_reads_naive_times_in_that_zone(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", f"{FIX_HEADER}\nRV21,2024-07-01 12:00:00,51.4,-3.17,,,,\n")
    r = read("fixes", path, timezone="UTC")
    assert r.accepted["time"][0].as_py() == datetime(2024, 7, 1, 12, tzinfo=UTC)


def test_exact_duplicates_are_merged_and_counted(tmp_path: Path) -> None:
    other = GOOD_FIX.replace("07:41:00", "07:41:30")
    r = read("fixes", write(tmp_path, "f.csv", f"{FIX_HEADER}\n{GOOD_FIX}\n{other}\n{GOOD_FIX}\n"))
    assert r.counts == {"read": 3, "accepted": 2, "duplicates": 1, "quarantined": 0}
    assert r.accepted["src_line"].to_pylist() == [2, 3]


def test_out_of_order_rows_are_all_kept_in_file_order(tmp_path: Path) -> None:
    late = GOOD_FIX.replace("07:41:00", "09:00:00")
    r = read("fixes", write(tmp_path, "f.csv", f"{FIX_HEADER}\n{late}\n{GOOD_FIX}\n"))
    assert r.counts["accepted"] == 2
    assert r.accepted["src_line"].to_pylist() == [2, 3]


def test_empty_file_is_a_whole_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty file"):
        read("fixes", write(tmp_path, "f.csv", ""))


def test_header_only_reads_nothing(tmp_path: Path) -> None:
    r = read("fixes", write(tmp_path, "f.csv", f"{FIX_HEADER}\n"))
    assert r.counts == {"read": 0, "accepted": 0, "duplicates": 0, "quarantined": 0}
    assert "device_id" in r.accepted.column_names


def test_one_row(tmp_path: Path) -> None:
    r = read("fixes", write(tmp_path, "f.csv", f"{FIX_HEADER}\n{GOOD_FIX}"))  # no final newline
    assert r.counts["accepted"] == 1


def test_bom_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", f"\ufeff{FIX_HEADER}\r\n{GOOD_FIX}\r\n{GOOD_FIX[:-3]}xx,\r\n")
    r = read("fixes", path)
    assert r.accepted["device_id"].to_pylist() == ["RV21"]
    assert r.counts["read"] == 2
    assert r.accepted["source"].to_pylist() == ["avl"]


def test_wrong_encoding_is_a_whole_file_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "f.csv",
        f"{FIX_HEADER}\n{GOOD_FIX}\nRV21,2024-02-05T07:42:00Z,51.4,"
        "-3.17,5,,,Caf\u00e9 \u00e0 Cardiff\n",
        encoding="latin-1",
    )
    with pytest.raises(InputError, match="not valid UTF-8"):
        read("fixes", path)


def test_utf16_is_a_whole_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="UTF-16"):
        read("fixes", write(tmp_path, "f.csv", f"{FIX_HEADER}\n{GOOD_FIX}\n", encoding="utf-16"))


def test_missing_column_names_found_expected_and_profile(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "unit,timestamp,latitude,longitude,speed_kmh\nA,2024,1,2,3\n")
    with pytest.raises(SchemaError) as err:
        read("fixes", path)
    text = str(err.value)
    assert "f.csv" in text and "missing column(s)" in text and "unit" in text
    assert "device_id" in text and "--profile generic-avl" in text


def test_unknown_column_is_a_whole_file_error(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", f"{FIX_HEADER},colour\n{GOOD_FIX},red\n")
    with pytest.raises(SchemaError, match=r"unknown column\(s\) \['colour'\]"):
        read("fixes", path)


def test_real_line_numbers_with_quoted_newlines_and_bad_widths(tmp_path: Path) -> None:
    text = (
        f"{FIX_HEADER}\n"
        f"{GOOD_FIX}\n"  # line 2
        'RV21,2024-02-05T07:42:00Z,51.4,-3.17,5,,,"two\nlines"\n'  # lines 3-4
        "\n"  # line 5: blank
        "RV21,2024-02-05T07:43:00Z,51.4\n"  # line 6: too short
        "RV21,2024-02-05T07:44:00Z,95,-3.17,5,,,avl\n"
    )  # line 7: bad latitude
    r = read("fixes", write(tmp_path, "f.csv", text))
    assert r.accepted["src_line"].to_pylist() == [2, 3]
    why = reasons(r)
    assert set(why) == {6, 7}
    assert "expected 8 fields, found 3" in why[6][1]
    assert why[7][0] == "lat"
    assert r.counts == {"read": 4, "accepted": 2, "duplicates": 0, "quarantined": 2}


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        (b"a,b\n1,2\n", None),  # no quote: rows are lines, nothing counted
        (b'"a",b\n1,2', 2),  # no line end after the last line
        (b"a\n" * (5 << 20) + b'"x"\n', (5 << 20) + 1),  # the first quote blocks later
        (b"", None),
    ],
)
def test_digest_hashes_and_counts_lines_in_one_read(
    tmp_path: Path, text: bytes, lines: int | None
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(text)
    assert digest(path) == (hashlib.sha256(text).hexdigest(), len(text), lines)


def test_a_bad_number_does_not_lose_line_numbers(tmp_path: Path) -> None:
    rows = [GOOD_FIX.replace("07:41:00", f"07:{m:02d}:00") for m in range(10)]
    rows[6] = rows[6].replace("51.48", "5I.48")
    r = read("fixes", write(tmp_path, "f.csv", "\n".join([FIX_HEADER, *rows]) + "\n"))
    assert reasons(r) == {8: ("lat", "not a number")}


def test_british_national_grid_fixes_become_lat_lon(tmp_path: Path) -> None:
    text = (
        "device_id,time,easting,northing\nRV21,2024-02-05T07:42:00Z,651409.903,313177.270\n"
        "RV21,2024-02-05T07:43:00Z,-5,176420\n"
    )
    r = read("fixes", write(tmp_path, "f.csv", text))
    lat, lon = r.accepted["lat"][0].as_py(), r.accepted["lon"][0].as_py()
    # Caister water tower, Ordnance Survey's worked example ("A guide to coordinate systems
    # in Great Britain"): 52°39'28.8282"N 1°42'57.8663"E; the Helmert transform is good to ~5 m
    assert lat == pytest.approx(52 + 39 / 60 + 28.8282 / 3600, abs=1e-4)
    assert lon == pytest.approx(1 + 42 / 60 + 57.8663 / 3600, abs=1e-4)
    assert reasons(r)[3][0] == "easting"


def test_device_id_option_fills_a_file_without_one(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "time,lat,lon\n2024-02-05T07:42:00Z,51.4,-3.1\n")
    assert read("fixes", path, device_id="R9").accepted["device_id"].to_pylist() == ["R9"]
    with pytest.raises(SchemaError, match="device_id"):
        read("fixes", path)


# -- fixes Parquet --------------------------------------------------------------------


def test_parquet_fixes_with_native_types_and_record_numbers(tmp_path: Path) -> None:
    t = pa.table(
        {
            "device_id": ["A", "A", "B", "A"],
            "time": pa.array(
                [datetime(2024, 2, 5, 7, m, tzinfo=UTC) for m in (1, 2, 3, 1)],
                pa.timestamp("ms", tz="UTC"),
            ),
            "lat": [51.4, float("nan"), 51.5, 51.4],
            "lon": [-3.1, -3.1, 0.0, -3.1],
        }
    )
    pq.write_table(t, tmp_path / "f.parquet")
    r = read("fixes", tmp_path / "f.parquet")
    assert r.counts == {"read": 4, "accepted": 2, "duplicates": 1, "quarantined": 1}
    assert reasons(r) == {2: ("lat", "not a finite number")}


def test_parquet_missing_column(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"device_id": ["A"], "lat": [1.0], "lon": [1.0]}), tmp_path / "f.parquet"
    )
    with pytest.raises(SchemaError, match="time"):
        read("fixes", tmp_path / "f.parquet")


def test_not_parquet(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a readable Parquet"):
        read("fixes", write(tmp_path, "f.parquet", "device_id\nA\n"))


# -- the other tables -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "line", "column", "reason"),
    [
        ("devices", "device_id,kind,label\nR1,radio,x\nR2,boat,y\n", 3, "kind", "unknown kind"),
        (
            "officers",
            "officer_id,name,status\nP1,A,serving\nP2,B,sacked\n",
            3,
            "status",
            "unknown status",
        ),
        (
            "assignments",
            "officer_id,device_id,start,end\nP1,R1,2024-02-05T07:00:00Z,"
            "2024-02-05T17:00:00Z\nP1,R2,2024-02-05T17:00:00Z,2024-02-05T07:00:00Z\n",
            3,
            "end",
            "end before start",
        ),
        (
            "duty",
            "officer_id,start,end,duty_type,area_id\nP1,2024-02-05T07:00:00Z,"
            "2024-02-05T17:00:00Z,patrol,\nP1,2024-02-05T07:00:00Z,,patrol,\n",
            3,
            "end",
            "missing time",
        ),
        (
            "incidents",
            "incident_id,created_at,lat,lon,priority\nI1,2024-02-05 08:00:00,51.4,"
            "-3.1,1\nI2,2024-02-05 08:00:00,51.4,-3.1,7\n",
            3,
            "priority",
            "out of range",
        ),
        (
            "attachments",
            "incident_id,officer_id,device_id,dispatched_at\nI1,P1,,"
            "2024-02-05 08:03:00\nI1,,,2024-02-05 08:03:00\n",
            3,
            "officer_id",
            "neither officer_id nor device_id",
        ),
        (
            "places",
            "place_id,kind,lat,lon,radius_m\nS1,police_station,51.4,-3.1,80\nS2,pub,51.4,-3.1,80\n",
            3,
            "kind",
            "unknown kind",
        ),
    ],
)
def test_other_tables_quarantine_their_rule_breakers(
    tmp_path: Path, kind: str, text: str, line: int, column: str, reason: str
) -> None:
    r = read(kind, write(tmp_path, f"{kind}.csv", text))
    assert r.counts["accepted"] == 1 and r.counts["quarantined"] == 1
    assert reasons(r)[line][0] == column
    assert reason in reasons(r)[line][1]


@pytest.mark.parametrize(
    "kind", ["devices", "officers", "assignments", "duty", "incidents", "attachments", "places"]
)
def test_zoo_for_every_table(tmp_path: Path, examples: Path, kind: str) -> None:
    lines = (examples / f"{kind}.csv").read_text().splitlines()
    header, first = lines[0], lines[1]
    with pytest.raises(InputError, match="empty"):
        read(kind, write(tmp_path, "empty.csv", ""))
    assert read(kind, write(tmp_path, "h.csv", header + "\n")).counts["read"] == 0
    dup = read(kind, write(tmp_path, "d.csv", f"\ufeff{header}\r\n{first}\r\n{first}\r\n"))
    assert dup.counts == {"read": 2, "accepted": 1, "duplicates": 1, "quarantined": 0}
    with pytest.raises(SchemaError, match="unknown column"):
        read(kind, write(tmp_path, "u.csv", f"{header},extra\n{first},1\n"))
    with pytest.raises(SchemaError, match="missing column"):
        read(kind, write(tmp_path, "m.csv", ",".join(header.split(",")[1:]) + "\n"))
    with pytest.raises(InputError, match="UTF-8"):
        read(kind, write(tmp_path, "e.csv", f"{header}\n{first}\n{first}\u00e9\n", "latin-1"))


def test_incidents_in_british_national_grid_and_naive_local_time(examples: Path) -> None:
    r = read("incidents", examples / "incidents.csv")
    first = r.accepted.to_pylist()[0]
    assert first["created_at"] == datetime(2024, 2, 5, 8, 2, 10, tzinfo=UTC)  # GMT in Feb
    assert first["lat"] == pytest.approx(51.484, abs=0.01)
    assert first["priority"] == 1


def test_examples_all_read_cleanly(examples: Path) -> None:
    for path in sorted(examples.iterdir()):
        kind = path.stem.split("_")[0]
        if kind == "lip" or path.suffix == ".md":
            continue
        r = read(kind, path)
        assert r.counts["quarantined"] == 0 and r.counts["accepted"] > 0, path.name


# -- GeoJSON --------------------------------------------------------------------------


def test_places_from_geojson_points(tmp_path: Path) -> None:
    text = (
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"place_id": "S1", "kind": "custody"},'
        ' "geometry": {"type": "Point", "coordinates": [-3.17, 51.47]}},'
        '{"type": "Feature", "properties": {"place_id": "S2", "kind": "custody"},'
        ' "geometry": null}]}'
    )
    r = read("places", write(tmp_path, "p.geojson", text))
    assert r.accepted.to_pylist()[0]["lat"] == 51.47
    assert reasons(r) == {2: ("lat", "missing latitude")}


def test_areas_polygons_get_wkb_in_the_workspace_crs(tmp_path: Path, examples: Path) -> None:
    import shapely

    r = read("areas", examples / "areas.geojson")
    poly = shapely.from_wkb(r.accepted["geometry_wkb"][0].as_py())
    # the beat is about 2.8 km by 3.3 km: area in square metres, not degrees
    assert 7e6 < poly.area < 12e6
    bad = write(
        tmp_path,
        "a.geojson",
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"area_id": "X"}, "geometry": '
        '{"type": "Point", "coordinates": [0, 0]}},'
        '{"type": "Feature", "properties": {"area_id": "B"}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}',
    )
    assert {k: v[0] for k, v in reasons(read("areas", bad)).items()} == {
        1: "geometry",
        2: "geometry",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("{not json", "not valid JSON"), ('{"type": "Point"}', "FeatureCollection")],
)
def test_geojson_whole_file_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read("areas", write(tmp_path, "a.geojson", text))


# -- options --------------------------------------------------------------------------


def test_unknown_kind_profile_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", f"{FIX_HEADER}\n")
    with pytest.raises(ParameterError, match="unknown input kind"):
        read("boats", path)
    with pytest.raises(ProfileError, match="unknown profile"):
        read("fixes", path, profile="nope")
    with pytest.raises(ProfileError, match="not devices"):
        read("devices", path, profile="traccar")
    with pytest.raises(InputError, match="no such file"):
        read("fixes", tmp_path / "absent.csv")


def test_offsets_and_fractions_in_a_fully_zoned_file(tmp_path: Path) -> None:
    text = (
        f"{FIX_HEADER}\n"
        "RV21,2024-07-01T12:00:00+01:00,51.4,-3.17,,,,\n"
        "RV21,2024-07-01T12:00:00.125Z,51.4,-3.17,,,,\n"
        "RV21,2024-07-01T12:00:00-0230,51.4,-3.17,,,,\n"
    )
    r = read("fixes", write(tmp_path, "f.csv", text))
    assert r.accepted["time"].to_pylist() == [
        datetime(2024, 7, 1, 11, tzinfo=UTC),
        datetime(2024, 7, 1, 12, 0, 0, 125000, tzinfo=UTC),
        datetime(2024, 7, 1, 14, 30, tzinfo=UTC),
    ]


def test_parquet_zoo_zero_rows_unknown_column_and_grid(tmp_path: Path) -> None:
    empty = pa.table(
        {
            "device_id": pa.array([], pa.string()),
            "time": pa.array([], pa.string()),
            "lat": pa.array([], pa.float64()),
            "lon": pa.array([], pa.float64()),
        }
    )
    pq.write_table(empty, tmp_path / "e.parquet")
    assert read("fixes", tmp_path / "e.parquet").counts["read"] == 0
    pq.write_table(empty.append_column("colour", pa.array([], pa.string())), tmp_path / "u.parquet")
    with pytest.raises(SchemaError, match="colour"):
        read("fixes", tmp_path / "u.parquet")
    grid = pa.table(
        {
            "device_id": ["A", "A"],
            "time": ["2024-02-05T07:41:00Z", "2024-02-05"],
            "easting": [651409.903, 651409.903],
            "northing": [313177.270, 313177.270],
        }
    )
    pq.write_table(grid, tmp_path / "g.parquet")
    r = read("fixes", tmp_path / "g.parquet")
    assert r.accepted["lat"][0].as_py() == pytest.approx(52.6580, abs=1e-3)
    assert r.counts["accepted"] == 2  # a bare date is midnight local time


def test_places_csv_in_british_national_grid_with_owner(tmp_path: Path) -> None:
    text = (
        "place_id,kind,easting,northing,radius_m,name,owner_officer_id\n"
        "H1,Home,318540,176420,40,Home of P1,P1\n"
        "H2,home,318540,176420,-40,Home of P2,P2\n"
    )
    r = read("places", write(tmp_path, "p.csv", text))
    assert r.accepted.to_pylist()[0]["kind"] == "home"  # enum values are case-insensitive
    assert reasons(r) == {3: ("radius_m", "radius_m out of range [0, 100000]")}


def test_a_bad_value_is_read_vectorised_not_by_the_exact_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.io import tabular

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the line-by-line path was used")

    monkeypatch.setattr(tabular, "_stream_exact", refuse)
    text = f"{FIX_HEADER}\n{GOOD_FIX}\nRV21,2024-02-05 07:42:00,51.4,-3.1,five,,,\n"
    assert reasons(read("fixes", write(tmp_path, "f.csv", text))) == {
        3: ("accuracy_m", "not a number")
    }


def test_nan_in_a_measurement_means_not_measured(tmp_path: Path) -> None:
    text = (
        f"{FIX_HEADER}\nRV21,2024-02-05T07:41:00Z,51.48,-3.17,NaN,nan,,avl\n"
        "RV21,2024-02-05T07:42:00Z,51.48,-3.17,inf,,,avl\n"
    )
    r = read("fixes", write(tmp_path, "f.csv", text))
    row = r.accepted.to_pylist()[0]
    assert row["accuracy_m"] is None and row["speed_mps"] is None
    assert reasons(r) == {3: ("accuracy_m", "not a finite number")}
