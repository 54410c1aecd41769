"""A hostile user at `whereabouts ingest`: every malformed input gives a message naming the
file (and line and column, or the columns found and expected), never a traceback, and the
counts add up."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from whereabouts.cli import app
from whereabouts.errors import InputError, ParameterError, WorkspaceError
from whereabouts.io.tabular import first_bad_utf8_line

runner = CliRunner()
HEADER = "device_id,time,lat,lon,accuracy_m\n"
ROW1 = "RV21,2024-02-05T07:41:00Z,51.480012,-3.179842,5\n"
ROW2 = "RV21,2024-02-05T07:41:30Z,51.480790,-3.178110,5\n"
GPX = (
    '<?xml version="1.0"?><gpx version="1.1" creator="t" '
    'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{}</trkseg></trk></gpx>'
)


def _nmea(*bodies: str) -> bytes:
    """Sentences with their checksums right."""
    out = []
    for body in bodies:
        cs = 0
        for ch in body.encode():
            cs ^= ch
        out.append(f"${body}*{cs:02X}\r\n")
    return "".join(out).encode()


def _written(table: pa.Table, damage: bool = False) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        pq.write_table(table, path, compression="snappy")
        if damage:  # a corrupt page: bytes inside the first column chunk flipped
            data = bytearray(path.read_bytes())
            for i in range(200, 2000, 7):
                data[i] ^= 0x5A
            path.write_bytes(bytes(data))

    return write


_T = ["2024-02-05T07:41:00Z"] * 2
_LIP = "issi,received_at,pdu_hex\n6200101,2024-02-05T07:45:00Z,0A0FDBD27249BAA900081\n"
_AREA = (
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"area_id":'
    '"A1"},"geometry":{"type":"Polygon","coordinates":[[[-3.2,51.4],[-3.1,51.5],[-3.0,'
    '51.4],[-3.2,51.4]]]}},{"type":"Feature","properties":{"area_id":"A2"},"geometry":{'
    '"type":"Polygon","coordinates":[[[NaN,51.4],[-3.1,51.5],[-3.0,51.4],[NaN,51.4]]]}}]}'
)


def _parquet(path: Path) -> None:
    pq.write_table(
        pa.table(
            {
                "device_id": [1, 2],
                "time": ["x", "2024-02-05T07:41:00Z"],
                "lat": ["a", "51.4"],
                "lon": [-3.1, -3.2],
            }
        ),
        path,
    )


# name, kind, content → (read, accepted, quarantined, expected "file:line (column 'c')" parts)
QUARANTINED: list[
    tuple[str, str, bytes | Callable[[Path], None], tuple[int, int, int], list[str]]
] = [
    (
        "truncated.csv",
        "fixes",
        (HEADER + ROW1 + "RV21,2024-02-05T07:4").encode(),
        (2, 1, 1),
        ["truncated.csv:3: expected 5 fields"],
    ),
    ("bom.csv", "fixes", b"\xef\xbb\xbf" + (HEADER + ROW1 + ROW2).encode(), (2, 2, 0), []),
    (
        "mixed_eol.csv",
        "fixes",
        (
            (HEADER + ROW1).replace("\n", "\r\n")
            + ROW2
            + "RV22,2024-02-05T07:41:30Z,51.48,-3.17,5\r"
        ).encode(),
        (3, 3, 0),
        [],
    ),
    (
        "swapped.csv",
        "fixes",
        (HEADER + "RV21,2024-02-05T07:41:00Z,-3.179842,51.480012,5\n" + ROW2).encode(),
        (2, 1, 1),
        ["swapped.csv:2 (column 'lat'): latitude and longitude look swapped"],
    ),
    (
        "en.csv",
        "fixes",
        (HEADER + "RV21,2024-02-05T07:41:00Z,318540,176420,5\n").encode(),
        (1, 0, 1),
        ["en.csv:2 (column 'lat'): latitude out of range", "easting,northing"],
    ),
    (
        "empty_lines.csv",
        "fixes",
        (HEADER + "\n" + ROW1 + "\n\n" + ROW2 + "\n").encode(),
        (2, 2, 0),
        [],
    ),
    (
        "quoted.csv",
        "fixes",
        (
            HEADER + '"RV,21",2024-02-05T07:41:00Z,51.48,-3.17,5\n'
            '"RV\n22",2024-02-05T07:41:00Z,51.48,-3.17,bad\n' + ROW2
        ).encode(),
        (3, 2, 1),
        ["quoted.csv:3 (column 'accuracy_m'): not a number"],
    ),
    (
        "huge.csv",
        "fixes",
        (
            HEADER + "RV21,2024-02-05T07:41:00Z,1e308,-3.17,5\n"
            "RV21,2024-02-05T07:41:00Z,51.48,-3.17,1e23\n"
            "RV21,99999-02-05T07:41:00Z,51.48,-3.17,5\n"
        ).encode(),
        (3, 0, 3),
        [
            "huge.csv:2 (column 'lat')",
            "huge.csv:3 (column 'accuracy_m')",
            "huge.csv:4 (column 'time')",
        ],
    ),
    ("header_only.csv", "fixes", HEADER.encode(), (0, 0, 0), []),
    ("types.parquet", "fixes", _parquet, (2, 1, 1), ["types.parquet:1 (column 'time')"]),
    (
        "feature.geojson",
        "areas",
        b'{"type": "Feature", "hello": 1}',
        (1, 0, 1),
        ["feature.geojson:1 (column 'area_id'): missing value"],
    ),
    (
        "listprops.geojson",
        "areas",
        b'{"type": "FeatureCollection", "features": [{"type": '
        b'"Feature", "properties": [1, 2], "geometry": [3]}]}',
        (1, 0, 1),
        ["listprops.geojson:1 (column 'area_id'): missing value"],
    ),
    # the same plausibility rules in every reader: accuracy and speed >= 0 and finite
    (
        "neg.gpx",
        "gpx",
        GPX.format(
            '<trkpt lat="51.4" lon="-3.1"><time>2024-01-01T00:00:00Z</time><hdop>-2</hdop>'
            '</trkpt><trkpt lat="51.4" lon="-3.1"><time>2024-01-01T00:00:05Z</time>'
            '<speed>-4</speed></trkpt><trkpt lat="51.4" lon="-3.1"><time>2024-01-01T00:00:09Z'
            '</time><hdop>inf</hdop></trkpt><trkpt lat="51.4" lon="-3.1"><time>'
            "2024-01-01T00:00:12Z</time></trkpt>"
        ).encode(),
        (4, 1, 3),
        [
            "neg.gpx:1 (column 'hdop'): HDOP negative, infinite or not a number",
            "neg.gpx:2 (column 'speed'): speed negative, infinite or not a number",
        ],
    ),
    (
        "neg.nmea",
        "nmea",
        _nmea(
            "GPRMC,074100,A,5128.80,N,00310.79,W,-3.0,10.0,050224,,",
            "GPRMC,074110,A,5128.80,N,00310.79,W,3.0,10.0,050224,,",
            "GPGGA,074110,5128.80,N,00310.79,W,1,08,-1.5,45.0,M,47.0,M,,",
        ),
        (3, 1, 2),
        ["neg.nmea:1: speed negative or infinite", "neg.nmea:3: HDOP negative or infinite"],
    ),
    (
        "nanring.geojson",
        "areas",
        _AREA.encode(),
        (2, 1, 1),
        ["nanring.geojson:2 (column 'geometry'): a coordinate is not a number (NaN or infinite)"],
    ),
    # the length of a LIP PDU checked against its type: 19 digits beginning 0A, among
    # reports with the 0x0A identifier, is one cut short (was decoded in the Pacific)
    (
        "lipcut.csv",
        "lip",
        (_LIP + "6200101,2024-02-05T07:45:05Z,0A0FDBD27249BAA9000\n").encode(),
        (2, 1, 1),
        ["lipcut.csv:3 (column 'pdu_hex'): 19 hex digits beginning 0A"],
    ),
    # fixes far outside the workspace's grid (British National Grid): quarantined by every
    # reader, with the reason (were accepted silently)
    (
        "far.csv",
        "fixes",
        (
            HEADER + ROW1 + "RV21,2024-02-05T07:42:00Z,-37.77,-133.61,5\n"
            "RV21,2024-02-05T07:43:00Z,35.68,139.69,5\n"
        ).encode(),
        (3, 1, 2),
        ["far.csv:3 (column 'lat'): position far outside the workspace's grid (EPSG:27700"],
    ),
    (
        "far.nmea",
        "nmea",
        _nmea(
            "GPRMC,074100,A,5128.80,N,00310.79,W,3.0,10.0,050224,,",
            "GPRMC,074110,A,3546.80,N,13941.40,E,3.0,10.0,050224,,",
        ),
        (2, 1, 1),
        ["far.nmea:2: position far outside the workspace's grid"],
    ),
    (
        "far.gpx",
        "gpx",
        GPX.format(
            '<trkpt lat="51.4" lon="-3.1"><time>2024-01-01T00:00:00Z</time></trkpt>'
            '<trkpt lat="-33.9" lon="151.2"><time>2024-01-01T00:00:05Z</time></trkpt>'
        ).encode(),
        (2, 1, 1),
        ["far.gpx:2 (column 'lat'): position far outside the workspace's grid"],
    ),
    # alone (no report with the identifier beside it) the cut PDU decodes in the Pacific
    (
        "faralone.csv",
        "lip",
        b"issi,received_at,pdu_hex\n6200101,2024-02-05T07:45:05Z,0A0FDBD27249BAA9000\n",
        (1, 0, 1),
        ["faralone.csv:2 (column 'pdu_hex'): position far outside the workspace's grid"],
    ),
    (
        "cut.gpx",
        "gpx",
        GPX.split("{}", maxsplit=1)[0].encode() + b'<trkpt lat="51.4" lon="-3.1"><time>'
        b"2024-01-01T00:00:00Z</time></trkpt><trkpt",
        (2, 1, 1),
        ["cut.gpx:2 (column 'lat')"],
    ),
]


@pytest.fixture()
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(path)]).exit_code == 0
    return path


def _write(path: Path, content: bytes | Callable[[Path], None]) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content(path)


@pytest.mark.parametrize(
    ("name", "kind", "content", "counts", "messages"),
    QUARANTINED,
    ids=[case[0] for case in QUARANTINED],
)
def test_row_problems_name_file_line_and_column(
    ws: Path,
    tmp_path: Path,
    name: str,
    kind: str,
    content: bytes | Callable[[Path], None],
    counts: tuple[int, int, int],
    messages: list[str],
) -> None:
    path = tmp_path / name
    _write(path, content)
    extra = ["--device-id", "G1"] if kind in ("gpx", "nmea") else []
    result = runner.invoke(app, ["ingest", str(ws), "--kind", kind, str(path), *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    read, accepted, quarantined = counts
    entry = json.loads((ws / "manifest.json").read_text())["inputs"][-1]["counts"]
    assert (entry["read"], entry["accepted"], entry["quarantined"]) == counts
    assert entry["read"] == entry["accepted"] + entry["duplicates"] + entry["quarantined"]
    assert (
        f"read {read} = accepted {accepted} + duplicates 0 + quarantined {quarantined}"
        in result.output
    )
    output = " ".join(result.output.split())
    for message in messages:  # grouped by reason: "N × reason (first at file:line (column))"
        found = re.match(r"^(\S+:\d+(?: \(column '[^']+'\))?)(?:: (.*))?$", message)
        if found is None:
            assert message in output
            continue
        assert f"(first at {found[1]}" in output, (found[1], output)
        if found[2]:
            assert f"× {found[2]}" in output
    assert "51.4" not in output and "-3.1" not in output  # no positions echoed


# name, kind, content, expected parts of the message
REFUSED: list[tuple[str, str, bytes | Callable[[Path], None] | None, list[str]]] = [
    (
        "latin1.csv",
        "fixes",
        (HEADER + ROW1 + "RVé,2024-02-05T07:41:30Z,51.48,-3.17,5\n").encode("latin-1"),
        ["latin1.csv:3:", "not valid UTF-8", "iconv"],
    ),
    ("utf16.csv", "fixes", (HEADER + ROW1).encode("utf-16"), ["utf16.csv", "UTF-16"]),
    ("empty.csv", "fixes", b"", ["empty.csv", "empty file"]),
    (
        "typo.csv",
        "fixes",
        ("device_id,tiem,lat,lon\n" + "RV21,2024-02-05T07:41:00Z,1,1\n").encode(),
        [
            "typo.csv",
            "missing column(s) ['time']",
            "unknown column(s) ['tiem']",
            "Columns found",
            "Expected",
            "--profile",
        ],
    ),
    (
        "nohead.csv",
        "fixes",
        ROW1.encode(),
        ["nohead.csv", "5 values, not column names", "header line"],
    ),
    (
        "nmea.csv",
        "fixes",
        b"$GPRMC,081836,A,3751.65,S,14507.36,E,0.0,360.0,130998,011.3,E*62\n",
        ["nmea.csv", "--kind nmea"],
    ),
    (
        "lip.csv",
        "fixes",
        b"issi,received_at,pdu_hex\n1,2024-01-01T00:00:00Z,0A\n",
        ["lip.csv", "--kind lip"],
    ),
    (
        "devices.csv",
        "fixes",
        b"device_id,kind,label\nR1,radio,a\n",
        ["devices.csv", "--kind devices"],
    ),
    ("notjson.geojson", "areas", b"this is not json", ["notjson.geojson", "not valid JSON"]),
    (
        "deep.geojson",
        "areas",
        b"[" * 200_000 + b"]" * 200_000,
        ["deep.geojson", "nested too deeply"],
    ),
    (
        "notimes.gpx",
        "gpx",
        GPX.format('<trkpt lat="51.4" lon="-3.1"></trkpt>').encode(),
        ["notimes.gpx", "no point has a time"],
    ),
    ("cut.parquet", "fixes", b"PAR1\x00\x01", ["cut.parquet", "not a readable Parquet"]),
    # conflicting master rows: one id, other values (exact repeats are merged, not refused)
    (
        "officers.csv",
        "officers",
        b"officer_id,name,rank,team,station,status\n"
        b"P1,A B,PC,Team B,R,serving\nP2,C D,PC,Team B,R,serving\nP2,C D,PC,Team B,R,serving\n"
        b"P1,A B,PC,Team C,R,serving\n",
        [
            "officers.csv:5 (column 'officer_id')",
            "'P1' is on line 2 and again on line 5",
            "another team:",
            "one row per officer",
        ],
    ),
    (
        "incidents.csv",
        "incidents",
        b"incident_id,created_at,easting,northing,category,"
        b"priority\nI1,2024-02-05 08:02:10,318900,176800,theft,1\nI2,2024-02-05 08:02:10,318900,"
        b"176800,theft,1\nI3,2024-02-05 08:02:10,318900,176800,theft,1\nI2,2024-02-05 08:02:10,"
        b"318900,176800,theft,2\n",
        [
            "incidents.csv:5 (column 'incident_id')",
            "'I2' is on line 3 and again on line 5",
            "another priority",
        ],
    ),
    (
        "places.csv",
        "places",
        b"place_id,kind,lat,lon,radius_m,name\nS1,police_station,51.48,"
        b"-3.17,80,R\nS2,custody,51.47,-3.17,60,C\nS1,custody,51.46,-3.17,60,D\n",
        [
            "places.csv:4 (column 'place_id')",
            "'S1' is on line 2 and again on line 4",
            "another kind, lat, radius_m, name",
        ],
    ),
    (
        "binary.parquet",
        "fixes",
        _written(
            pa.table(
                {
                    "device_id": pa.array([b"A", b"B\xff"], pa.binary()),
                    "time": _T,
                    "lat": [51.4] * 2,
                    "lon": [-3.1] * 2,
                }
            )
        ),
        ["binary.parquet:2 (column 'device_id')", "not UTF-8"],
    ),
    (
        "listlat.parquet",
        "fixes",
        _written(
            pa.table(
                {"device_id": ["A", "B"], "time": _T, "lat": [[51.4], [51.5]], "lon": [-3.1] * 2}
            )
        ),
        ["listlat.parquet (column 'lat')", "list<", "not single values", "flatten"],
    ),
    (
        "structlat.parquet",
        "fixes",
        _written(
            pa.table(
                {
                    "device_id": ["A", "B"],
                    "time": _T,
                    "lat": [{"v": 51.4}, {"v": 51.5}],
                    "lon": [-3.1] * 2,
                }
            )
        ),
        ["structlat.parquet (column 'lat')", "struct<"],
    ),
    (
        "page.parquet",
        "fixes",
        _written(
            pa.table(
                {
                    "device_id": ["A"] * 1000,
                    "time": ["2024-02-05T07:41:00Z"] * 1000,
                    "lat": [51.4 + i * 1e-4 for i in range(1000)],
                    "lon": [-3.1] * 1000,
                }
            ),
            damage=True,
        ),
        ["page.parquet:1:", "damaged", "export it again"],
    ),
    ("missing.csv", "fixes", None, ["missing.csv", "no such file"]),
    (
        "twice.csv",
        "fixes",
        b"device_id,time,lat,LAT,lon\nA,2024-02-05T07:41:00Z,1,1,1\n",
        ["twice.csv:1:", "['LAT', 'lat'] appear more than once"],
    ),
    (
        "gpx_as_nmea.gpx",
        "nmea",
        GPX.format('<trkpt lat="51.4" lon="-3.1"></trkpt>').encode(),
        ["gpx_as_nmea.gpx", "no NMEA sentence", "--kind gpx"],
    ),
    (
        "fixes_as_nmea.csv",
        "nmea",
        (HEADER + ROW1).encode(),
        ["fixes_as_nmea.csv", "no NMEA sentence", "--kind fixes"],
    ),
    (
        "fixes_as_lip.csv",
        "lip",
        (HEADER + ROW1).encode(),
        ["fixes_as_lip.csv", "--kind fixes", "found ['device_id'"],
    ),
    (
        "lip_utf16.csv",
        "lip",
        "issi,received_at,pdu_hex\n1,2024-01-01T00:00:00Z,0A\n".encode("utf-16"),
        ["lip_utf16.csv", "UTF-16 or binary", "iconv"],
    ),
    ("lip_garbage.csv", "lip", bytes(range(1, 256)) * 8, ["lip_garbage.csv", "not UTF-8"]),
    (
        "lip_no_header.csv",
        "lip",
        b"6200101,2024-02-05T07:41:12Z,0A4C1B2B3C4D5E6F\n",
        ["lip_no_header.csv", "values, not column names", "found ['(values)']"],
    ),
]


@pytest.mark.parametrize(
    ("name", "kind", "content", "parts"), REFUSED, ids=[case[0] for case in REFUSED]
)
def test_whole_file_problems_are_messages(
    ws: Path,
    tmp_path: Path,
    name: str,
    kind: str,
    content: bytes | Callable[[Path], None] | None,
    parts: list[str],
) -> None:
    path = tmp_path / name
    if content is not None:
        _write(path, content)
    extra = ["--device-id", "G1"] if kind in ("gpx", "nmea") else []
    result = runner.invoke(app, ["ingest", str(ws), "--kind", kind, str(path), *extra])
    assert isinstance(result.exception, InputError), (result.output, result.exception)
    text = " ".join(str(result.exception).split())
    for part in parts:
        assert part in text
    assert "How to fix" in text
    assert not re.search(r"51\.48|3\.17|6200101|0A4C", text)  # no values in a message
    assert json.loads((ws / "manifest.json").read_text())["inputs"] == []


def test_an_unknown_time_zone_is_refused_before_reading(ws: Path, tmp_path: Path) -> None:
    path = tmp_path / "utc.csv"
    path.write_text(HEADER + ROW1)  # UTC times only: the zone would never be used
    result = runner.invoke(
        app, ["ingest", str(ws), "--kind", "fixes", "--timezone", "Mars/Olympus", str(path)]
    )
    assert isinstance(result.exception, ParameterError)
    assert "unknown time zone 'Mars/Olympus'" in str(result.exception)
    assert json.loads((ws / "manifest.json").read_text())["inputs"] == []


def test_a_folder_is_not_a_file(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "inputs").mkdir()
    result = runner.invoke(app, ["ingest", str(ws), "--kind", "fixes", str(tmp_path / "inputs")])
    assert isinstance(result.exception, InputError)
    assert "is a folder, not a file" in str(result.exception)


def test_a_workspace_that_does_not_exist(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(HEADER + ROW1)
    result = runner.invoke(app, ["ingest", str(tmp_path / "nows"), "--kind", "fixes", str(path)])
    assert isinstance(result.exception, WorkspaceError)
    assert "not a workspace" in str(result.exception) and "whereabouts init" in str(
        result.exception
    )


def test_a_read_only_workspace(ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root ignores file modes, so the refusal the OS would give is simulated at the lock."""
    from whereabouts.store import workspace

    def refuse(path: Path, **_: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(workspace, "exclusive", refuse)
    path = tmp_path / "f.csv"
    path.write_text(HEADER + ROW1)
    result = runner.invoke(app, ["ingest", str(ws), "--kind", "fixes", str(path)])
    assert isinstance(result.exception, WorkspaceError)
    assert "cannot write to the workspace: Permission denied" in str(result.exception)


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"a\nb\n", None),
        (b"a\nb\xe9\n", 2),
        (b"\xe9", 1),
        (b"ok\n" * 5 + b"\xff\n", 6),
        ("é\n".encode() * 3 + b"x\x80", 4),
    ],
)
def test_first_bad_utf8_line(tmp_path: Path, content: bytes, line: int | None) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    assert first_bad_utf8_line(path, block=3) == line  # small blocks split sequences


@pytest.mark.parametrize("content", ["{", '{"entries": []}', "[1]"])
def test_a_damaged_manifest_is_a_message(ws: Path, content: str) -> None:
    (ws / "manifest.json").write_text(content)
    result = runner.invoke(app, ["status", str(ws), "--json"])
    assert isinstance(result.exception, WorkspaceError)
    assert "manifest.json is damaged" in str(result.exception)
    assert "backup" in str(result.exception)


def test_usage_errors_and_odd_names_are_messages_not_tracebacks(ws: Path, tmp_path: Path) -> None:
    env = {**os.environ, "WHEREABOUTS_QUIET": "1", "COLUMNS": "400"}
    for args, expected in (
        (["case", "list", "a", "b"], "unexpected extra argument"),
        (["ingest", str(ws), "--kind", "fixes", str(tmp_path / "[bold]x.csv")], "[bold]x.csv"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "whereabouts", *args],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_case_database_is_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["case", "list", "postgresql+psycopg://u:hunter2@127.0.0.1:1/db"])
    assert isinstance(result.exception, WorkspaceError)
    text = str(result.exception)
    assert "cannot open the case database" in text and "hunter2" not in text


def test_missing_evidence_file_is_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    result = runner.invoke(
        app,
        [
            "misconduct",
            "evidence",
            str(tmp_path),
            "C1",
            "O1",
            "1",
            "--kind",
            "document",
            "--evidence",
            "msg",
            "--file",
            str(tmp_path / "gone.pdf"),
        ],
    )
    assert isinstance(result.exception, InputError)
    assert "gone.pdf: no such file" in str(result.exception)


@pytest.mark.parametrize("command", [["init"], ["status"], ["ingest", "--kind", "fixes"]])
def test_a_file_given_as_the_workspace(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "f.csv"
    path.write_text(HEADER + ROW1)
    args = [command[0], str(path), *command[1:]] + ([str(path)] if command[0] == "ingest" else [])
    result = runner.invoke(app, args)
    assert isinstance(result.exception, WorkspaceError), result.exception
    assert str(path) in str(result.exception)
    assert path.read_text() == HEADER + ROW1


def test_a_symlink_is_refused_without_reading_it(ws: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    link = tmp_path / "fixes.csv"
    link.symlink_to(secret)
    result = runner.invoke(app, ["ingest", str(ws), "--kind", "fixes", str(link)])
    assert result.exit_code != 0 and isinstance(result.exception, InputError)
    message = str(result.exception)
    assert "symbolic link" in message and "root:x" not in message
    assert "root:x" not in result.output


def test_the_quarantine_keeps_the_original_text(ws: Path, tmp_path: Path) -> None:
    """`raw` is the record as the file holds it (quotes, spaces, a line end inside quotes),
    not its fields joined again; in the fast path and the exact one (a row too wide)."""
    from whereabouts.store.quarantine import quarantined_rows
    from whereabouts.store.workspace import Workspace

    path = tmp_path / "raw.csv"
    bad = '"B","2024-02-05T07:41:00Z", 51.4 ,-3.1,bad'
    split = '"C\nD",2024-02-05T07:41:00Z,51.4,-3.1,worse'
    path.write_text(HEADER + ROW1 + bad + "\r\n" + ROW2 + split + "\n" + ROW1.strip() + ",6\n")
    result = runner.invoke(app, ["ingest", str(ws), "--kind", "fixes", str(path)])
    assert result.exit_code == 0, result.output
    rows = quarantined_rows(Workspace.open(ws)).sort_by("line").to_pylist()
    assert [(r["line"], r["raw"]) for r in rows] == [(3, bad), (5, split), (7, ROW1.strip() + ",6")]


def test_one_field_over_16_mb_is_quarantined_with_its_line(ws: Path, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(HEADER + ROW1 + ROW2 + 'RV21,"' + "x" * (17 << 20) + '",51.4,-3.1,5\n')
    result = runner.invoke(app, ["ingest", str(ws), "--kind", "fixes", str(path)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "read 3 = accepted 2 + duplicates 0 + quarantined 1" in result.output
    assert "(first at big.csv:4 (column 'time'))" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("name", "kind", "content"),
    [
        ("leap.csv", "fixes", (HEADER + "RV21,2016-12-31T23:59:60Z,51.4,-3.1,5\n").encode()),
        (
            "leap.parquet",
            "fixes",
            _written(
                pa.table(
                    {
                        "device_id": ["RV21"],
                        "time": ["2016-12-31T23:59:60Z"],
                        "lat": [51.4],
                        "lon": [-3.1],
                    }
                )
            ),
        ),
        (
            "leap.gpx",
            "gpx",
            GPX.format(
                '<trkpt lat="51.4" lon="-3.1"><time>2016-12-31T23:59:60Z</time></trkpt>'
            ).encode(),
        ),
        ("leap.nmea", "nmea", _nmea("GPRMC,235960,A,5124.00,N,00306.00,W,1.0,10.0,311216,,")),
        (
            "leap_lip.csv",
            "lip",
            _LIP.replace("2024-02-05T07:45:00Z", "2016-12-31T23:59:60Z").encode(),
        ),
    ],
)
def test_one_leap_second_rule_in_every_reader(
    ws: Path, tmp_path: Path, name: str, kind: str, content: bytes | Callable[[Path], None]
) -> None:
    """23:59:60 is read as 23:59:59 of that day by every reader, never the next day."""
    from datetime import UTC, datetime

    from whereabouts.store.workspace import Workspace

    path = tmp_path / name
    _write(path, content)
    extra = ["--device-id", "G1"] if kind in ("gpx", "nmea") else []
    result = runner.invoke(app, ["ingest", str(ws), "--kind", kind, str(path), *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    with Workspace.open(ws).connect() as con:  # a short LIP report's time is received_at
        got = con.execute("SELECT time FROM fixes").fetchall()
    assert [row[0].astimezone(UTC) for row in got] == [
        datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)
    ]
