"""Case exports (KML, GeoJSON, GPX, CSV, i2): each read back with a parser of its format
(fastkml for KML, json, ElementTree, csv), counted against the run's own tables; scoped to
the case and audited."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, cast

import pyarrow.parquet as pq
import pytest
from fastkml import kml
from typer.testing import CliRunner

import report_fixtures as rf
from whereabouts.errors import PermissionDenied
from whereabouts.exports import FORMATS, export_case
from whereabouts.exports.i2 import I2_COLUMNS

CASE = "PSD-2024-001"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "exports.md"


def _case(tmp_path: Path, occasions: int = 4) -> Path:
    ws, _ = rf.build(tmp_path, occasions=occasions)
    store = rf.authorised_case(ws, CASE)
    store.close()
    return ws


def _placemarks(feature: object) -> list[Any]:
    out: list[Any] = []
    for f in getattr(feature, "features", []) or []:
        if type(f).__name__ == "Placemark":
            out.append(f)
        out += _placemarks(f)
    return out


def test_kml_has_one_placemark_per_occasion_and_a_track_per_officer(tmp_path: Path) -> None:
    ws = _case(tmp_path, occasions=5)
    occ = pq.read_table(ws / "runs" / CASE / "occasions.parquet")
    out = tmp_path / "case.kml"
    result = export_case(ws, CASE, "kml", out, user="inv")
    assert result.occasions == occ.num_rows == 5
    doc = kml.KML.parse(out)
    (document,) = doc.features
    tracks, occasions = cast(Any, document).features
    assert occasions.name == "Occasions" and tracks.name == "Tracks"
    marks = _placemarks(occasions)
    assert len(marks) == occ.num_rows
    assert {m.id for m in marks} == {f"occasion-{i}" for i in occ["occasion_id"].to_pylist()}
    first = marks[0]
    data = {d.name: d.value for d in first.extended_data.elements}
    assert data["finding"] in ("policing reason found", "no policing reason found")
    assert data["officers"] == "P1001 and P1002"
    assert first.times.begin is not None
    # one folder per officer, named by officer, with every fix of the run drawn
    assert sorted(f.name for f in tracks.features) == sorted(rf.SUBJECTS)
    text = out.read_text(encoding="utf-8")
    drawn = sum(
        len(c.split())
        for c in [
            e.text or "" for e in ET.parse(out).iter("{http://www.opengis.net/kml/2.2}coordinates")
        ]
    )
    assert drawn == pq.read_table(ws / "runs" / CASE / "tracks.parquet").num_rows + 5
    assert "Finding:" in text
    # deterministic
    export_case(ws, CASE, "kml", tmp_path / "again.kml", user="inv")
    assert (tmp_path / "again.kml").read_bytes() == out.read_bytes()


def test_geojson_gpx_csv_and_i2_count_what_the_run_holds(tmp_path: Path) -> None:
    ws = _case(tmp_path, occasions=4)
    occ = pq.read_table(ws / "runs" / CASE / "occasions.parquet")
    tracks = pq.read_table(ws / "runs" / CASE / "tracks.parquet")
    n = occ.num_rows

    export_case(ws, CASE, "geojson", tmp_path / "c.geojson", user="inv")
    fc = json.loads((tmp_path / "c.geojson").read_text(encoding="utf-8"))
    points = [f for f in fc["features"] if f["geometry"]["type"] == "Point"]
    lines = [f for f in fc["features"] if f["geometry"]["type"] == "MultiLineString"]
    assert len(points) == n
    assert sum(f["properties"]["fixes"] for f in lines) == tracks.num_rows
    lon, lat = points[0]["geometry"]["coordinates"]
    assert -8 < lon < 2 and 49 < lat < 61  # RFC 7946 order: lon, lat (Great Britain)

    export_case(ws, CASE, "gpx", tmp_path / "c.gpx", user="inv")
    g = "{http://www.topografix.com/GPX/1/1}"
    root = ET.parse(tmp_path / "c.gpx").getroot()
    assert len(root.findall(f"{g}wpt")) == n
    assert len(list(root.iter(f"{g}trkpt"))) == tracks.num_rows
    names = [t.findtext(f"{g}name") for t in root.findall(f"{g}trk")]
    assert {str(nm).split(":")[0] for nm in names} == set(rf.SUBJECTS)  # a track per officer

    export_case(ws, CASE, "csv", tmp_path / "c.csv", user="inv")
    with (tmp_path / "c.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n
    assert sorted(r["occasion"] for r in rows) == sorted(occ["occasion_id"].to_pylist())
    assert all(r["finding"].endswith("policing reason found") for r in rows)

    export_case(ws, CASE, "i2", tmp_path / "i2.csv", user="inv")
    with (tmp_path / "i2.csv").open(encoding="utf-8", newline="") as fh:
        links = list(csv.DictReader(fh))
    assert tuple(links[0]) == I2_COLUMNS
    assert len(links) == 3 * n
    assert sum(r["link_type"] == "together" for r in links) == n
    assert {r["entity1_type"] for r in links} == {"Officer"}
    assert {r["entity2_type"] for r in links} == {"Officer", "Place"}
    assert all(len(r["start_date_utc"]) == 10 and len(r["start_time_utc"]) == 8 for r in links)


def test_i2_columns_are_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [c for c in I2_COLUMNS if f"`{c}`" not in text]
    assert not missing, f"docs/exports.md does not describe {missing}"
    assert all(f"`{f}`" in text for f in FORMATS)


def test_export_is_audited_and_refused_outside_the_case(tmp_path: Path) -> None:
    from whereabouts.case import CaseStore

    ws = _case(tmp_path, occasions=2)
    export_case(ws, CASE, "csv", tmp_path / "ok.csv", user="inv")
    store = CaseStore.open(ws)
    try:
        audit = json.loads(store.audit.export(fmt="json", case_ref=CASE))
    finally:
        store.close()
    exports = [e for e in audit if e["action"] == "export"]
    assert len(exports) == 1 and exports[0]["actor"] == "inv"
    # the export states the audit head it was made at: its own entry, still in the log
    from whereabouts.case.audit import find_anchor

    anchor = find_anchor(tmp_path / "ok.csv")
    assert anchor.seq == exports[0]["seq"] and anchor.hash == exports[0]["hash"]
    with pytest.raises(PermissionDenied):
        export_case(ws, CASE, "kml", tmp_path / "refused.kml", user="other")
    assert not (tmp_path / "refused.kml").exists()


def test_cli_export_case(tmp_path: Path) -> None:
    from whereabouts.cli import app

    ws = _case(tmp_path, occasions=2)
    out = tmp_path / "case.kml"
    cli = CliRunner(env={"WHEREABOUTS_PASSWORD": "inv-password-123"})  # --user inv's
    res = cli.invoke(
        app,
        ["export", str(ws), "--case", CASE, "--format", "kml", "--out", str(out), "--user", "inv"],
    )
    assert res.exit_code == 0, res.output
    assert "2 occasions of case PSD-2024-001" in res.output and out.exists()
    # the name's extension must be the format's
    res = cli.invoke(
        app,
        [
            "export",
            str(ws),
            "--case",
            CASE,
            "--format",
            "kml",
            "--out",
            str(tmp_path / "case.csv"),
            "--user",
            "inv",
        ],
    )
    assert res.exit_code != 0 and "--format csv or i2" in getattr(res.exception, "hint", "")
    assert not (tmp_path / "case.csv").exists()
    res = cli.invoke(
        app,
        ["export", str(ws), "--case", CASE, "--format", "shp", "--out", str(out), "--user", "inv"],
    )
    assert res.exit_code != 0 and "unknown export format 'shp'" in str(res.exception)
    assert "kml, geojson, gpx, csv, i2" in getattr(res.exception, "hint", "")
