"""read_gpx on the real GPX samples (checked against ElementTree) and the edge zoo."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from whereabouts.errors import InputError
from whereabouts.io.gpx import read_gpx


def oracle(path: Path) -> list[tuple[str, float, float, str | None]]:
    """(kind, lat, lon, time) of every point, in document order, by ElementTree."""
    root = ET.fromstring(path.read_bytes())
    out = []
    for el in root.iter():
        kind = el.tag.rsplit("}", 1)[-1]
        if kind in ("trkpt", "rtept", "wpt"):
            t = next((c.text for c in el if c.tag.rsplit("}", 1)[-1] == "time"), None)
            out.append((kind, float(el.get("lat", "nan")), float(el.get("lon", "nan")), t))
    return out


@pytest.mark.parametrize(
    "name",
    [
        "around-visnjan-with-car.gpx",
        "korita-zbevnica.gpx",
        "track-with-empty-segment.gpx",
        "gpx1.0_with_all_fields.gpx",
        "unicode_with_bom.gpx",
        "Mojstrovka.gpx",
    ],
)
def test_real_files_match_an_independent_parser(real_data: Path, name: str) -> None:
    path = real_data / "gpx" / name
    points = oracle(path)
    r = read_gpx(path, device_id="unit-1")
    text = path.read_text(encoding="utf-8-sig")
    assert r.read == len(points) == len(re.findall(r"<(?:trkpt|rtept|wpt)\s", text))
    timed = [
        (i + 1, p)
        for i, p in enumerate(points)
        if p[3] and datetime.fromisoformat(p[3].replace("Z", "+00:00")).year >= 1990
    ]
    assert r.accepted["src_line"].to_pylist() == [i for i, _ in timed]
    if timed:
        first, last = r.accepted.to_pylist()[0], r.accepted.to_pylist()[-1]
        assert (first["lat"], first["lon"]) == timed[0][1][1:3]
        assert (last["lat"], last["lon"]) == timed[-1][1][1:3]
        assert set(r.accepted["device_id"].to_pylist()) == {"unit-1"}


def test_car_trip_golden(real_data: Path) -> None:
    r = read_gpx(real_data / "gpx" / "around-visnjan-with-car.gpx")
    assert r.counts == {"read": 104, "accepted": 104, "duplicates": 0, "quarantined": 0}
    t = r.accepted["time"].to_pylist()
    assert t[0] == datetime(2020, 12, 18, 6, 15, 50, tzinfo=UTC)
    assert t[-1] == datetime(2020, 12, 18, 6, 24, 24, tzinfo=UTC)
    assert r.accepted["device_id"][0].as_py() == "around-visnjan-with-car"


def test_untimed_points_and_old_times_are_quarantined(real_data: Path) -> None:
    r = read_gpx(real_data / "gpx" / "korita-zbevnica.gpx")
    reasons = r.quarantine["reason"].to_pylist()
    assert reasons.count("track point without a time") == 871 - 513
    assert r.counts["accepted"] == 513
    old = read_gpx(real_data / "gpx" / "Mojstrovka.gpx")  # its points say 1901
    assert old.counts["accepted"] == 0
    assert set(old.quarantine["reason"].to_pylist()) == {"time before 1990"}


def test_bom_and_hdop_accuracy(real_data: Path) -> None:
    r = read_gpx(real_data / "gpx" / "unicode_with_bom.gpx")
    row = r.accepted.to_pylist()[0]
    assert row["accuracy_m"] == pytest.approx(16.2 * 5)
    assert row["time"] == datetime(2016, 5, 27, 10, 8, 47, 800000, tzinfo=UTC)


def test_gpx_without_times_is_a_whole_file_error(real_data: Path) -> None:
    with pytest.raises(InputError, match="no point has a time"):
        read_gpx(real_data / "gpx" / "track_with_dilution_errors.gpx")


GPX11 = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"
 xmlns:tpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">
<!-- <trkpt lat="1" lon="1"><time>2024-01-01T00:00:00Z</time></trkpt> -->
<trk><trkseg>
<trkpt lat="51.5" lon="-0.1"><time>2024-02-05T07:45:00Z</time>
  <extensions><tpx:TrackPointExtension><tpx:speed>12.5</tpx:speed>
  <tpx:course>370</tpx:course></tpx:TrackPointExtension></extensions></trkpt>
<trkpt lat="51.5" lon="-0.1"><time>2024-02-05T07:45:00Z</time>
  <extensions><tpx:TrackPointExtension><tpx:speed>12.5</tpx:speed>
  <tpx:course>370</tpx:course></tpx:TrackPointExtension></extensions></trkpt>
<trkpt lat="51.4" lon="-0.2"><time>2024-02-05T07:44:00Z</time></trkpt>
<trkpt lat="abc" lon="-0.2"><time>2024-02-05T07:46:00Z</time></trkpt>
<trkpt lat="95" lon="-0.2"><time>2024-02-05T07:46:00Z</time></trkpt>
<trkpt lat="0" lon="0"><time>2024-02-05T07:46:00Z</time></trkpt>
<trkpt lat="51.4" lon="-0.2"><time>yesterday</time></trkpt>
<trkpt lat="51.3" lon="-0.3"/>
</trkseg><trkseg></trkseg></trk></gpx>
"""


def test_edge_zoo(tmp_path: Path) -> None:
    p = tmp_path / "zoo.gpx"
    p.write_text(GPX11)
    r = read_gpx(p, device_id="veh-9")
    assert r.counts == {"read": 8, "accepted": 2, "duplicates": 1, "quarantined": 5}
    a = r.accepted.to_pylist()
    assert [x["src_line"] for x in a] == [1, 3]  # out of order kept, comment not read
    assert (a[0]["speed_mps"], a[0]["heading_deg"]) == (12.5, 10.0)
    q = {x["line"]: x["reason"] for x in r.quarantine.to_pylist()}
    assert q[4].startswith("missing or unreadable lat") and "out of range" in q[5]
    assert "(0, 0)" in q[6] and "unparseable" in q[7] and q[8] == "track point without a time"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("", "empty"),
        ("<html></html>", "not a GPX"),
        ("<gpx><trk></trk></gpx>", "no track points"),
    ],
)
def test_whole_file_errors(tmp_path: Path, body: str, fragment: str) -> None:
    p = tmp_path / "x.gpx"
    p.write_text(body)
    with pytest.raises(InputError, match=fragment):
        read_gpx(p)


def test_wrong_declared_encoding(tmp_path: Path) -> None:
    p = tmp_path / "x.gpx"
    p.write_bytes(b'<?xml version="1.0" encoding="utf-8"?><gpx>\xff\xfe</gpx>')
    with pytest.raises(InputError, match="decode"):
        read_gpx(p)


def test_streamed_in_small_blocks_reads_the_same(tmp_path: Path, real_data: Path) -> None:
    """A GPX is streamed in blocks (memory bounded whatever its size): blocks of any size,
    cutting comments, points and multi-byte characters, give the same rows, numbers and
    counts as one block; and the store's ingest is streamed (stream_gpx, several chunks)."""
    from whereabouts.io.gpx import stream_gpx

    p = tmp_path / "zoo.gpx"
    p.write_text(
        GPX11.replace("<trkseg>", "<trkseg><name>Ŝtraße 😀</name>", 1).replace(
            "</trkpt>", "</trkpt><!-- a <trkpt lat='1' lon='1'> comment -->", 1
        ),
        encoding="utf-8",
    )
    for path, blocks in ((p, (1, 7, 500)), (real_data / "gpx" / "korita-zbevnica.gpx", (3000,))):
        whole = read_gpx(path, device_id="d")
        for block in blocks:
            parts = read_gpx(path, device_id="d", block_bytes=block)
            assert parts.counts == whole.counts
            assert parts.accepted.equals(whole.accepted)
            assert parts.quarantine.equals(whole.quarantine)
    chunks = list(stream_gpx(real_data / "gpx" / "korita-zbevnica.gpx", block_bytes=20_000))
    assert len(chunks) > 3
    assert sum(c.read for c in chunks) == 873


def test_one_point_over_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.io import gpx

    monkeypatch.setattr(gpx, "MAX_POINT_CHARS", 10_000)
    p = tmp_path / "big.gpx"
    p.write_text(
        '<gpx><trk><trkseg><trkpt lat="51.4" lon="-3.1"><name>'
        + "x" * 200_000
        + "</name></trkpt></trkseg></trk></gpx>"
    )
    with pytest.raises(InputError, match="longer than 10,000 characters"):
        read_gpx(p, block_bytes=1000)
