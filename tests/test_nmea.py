"""read_nmea on the GPSD sample logs (expected values worked out by hand) and the edge zoo."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import reduce
from pathlib import Path

import pytest

from whereabouts.errors import InputError
from whereabouts.io.nmea import read_nmea, stream_nmea

LOGS = ["bt451.log", "garmin-10x.log", "haicom-305N.log", "skytraq-dgps.log", "telit-he910.log"]


def checksum_ok(line: str) -> bool:
    body, _, cs = line[1:].partition("*")
    return bool(cs) and reduce(lambda a, c: a ^ ord(c), body, 0) == int(cs[:2], 16)


@pytest.mark.parametrize("name", LOGS)
def test_counts_and_rmc_fixes_by_hand(real_data: Path, name: str) -> None:
    path = real_data / "nmea" / name
    lines = [ln.strip() for ln in path.read_text(encoding="latin-1").split("\n")]
    numbered = [(i + 1, ln) for i, ln in enumerate(lines) if ln]
    r = read_nmea(path, device_id="gps-1")
    assert r.read == len(numbered)
    comments = [i for i, ln in numbered if ln.startswith("#")]
    assert [
        q["line"] for q in r.quarantine.to_pylist() if q["reason"] == "comment line"
    ] == comments
    # Every RMC with status A and a good checksum is a fix, at its own line.
    good_rmc = [
        i for i, ln in numbered if ln[3:6] == "RMC" and checksum_ok(ln) and ln.split(",")[2] == "A"
    ]
    accepted_lines = set(r.accepted["src_line"].to_pylist())
    assert set(good_rmc) <= accepted_lines
    assert set(r.accepted["device_id"].to_pylist()) == {"gps-1"}


def test_garmin_first_and_last_fix(real_data: Path) -> None:
    r = read_nmea(real_data / "nmea" / "garmin-10x.log", device_id="g")
    rows = r.accepted.to_pylist()
    # $GPRMC,165007.000,A,4143.6058,N,08338.0778,W,0.55,36.58,180710,,*..  (line 15)
    first = rows[0]
    assert first["src_line"] == 15
    assert first["time"] == datetime(2010, 7, 18, 16, 50, 7, tzinfo=UTC)
    assert first["lat"] == pytest.approx(41 + 43.6058 / 60)
    assert first["lon"] == pytest.approx(-(83 + 38.0778 / 60))
    assert first["speed_mps"] == pytest.approx(0.55 * 1852 / 3600)
    assert first["heading_deg"] == pytest.approx(36.58)
    last = rows[-1]
    assert last["time"] == datetime(2010, 7, 18, 16, 50, 49, tzinfo=UTC)
    assert last["accuracy_m"] == pytest.approx(1.5 * 5)  # HDOP of the GGA of that epoch


def test_haicom_southern_hemisphere_and_no_fix(real_data: Path) -> None:
    r = read_nmea(real_data / "nmea" / "haicom-305N.log", device_id="h")
    lat = r.accepted["lat"].to_pylist()
    assert all(-27.22 < x < -27.20 for x in lat)
    reasons = r.quarantine["reason"].to_pylist()
    assert "no fix: RMC status V (receiver warning)" in reasons
    assert "no fix: GGA fix quality 0" in reasons


def _log(tmp_path: Path, lines: list[str], newline: str = "\n") -> Path:
    def cs(body: str) -> str:
        return f"${body}*{reduce(lambda a, c: a ^ ord(c), body, 0):02X}"

    p = tmp_path / "x.log"
    p.write_bytes(
        newline.join(
            cs(ln) if not ln.startswith(("#", "$", "!", "junk")) else ln for ln in lines
        ).encode()
        + newline.encode()
    )
    return p


def test_edge_zoo(tmp_path: Path) -> None:
    p = _log(
        tmp_path,
        [
            "# a comment",  # 1
            "GPGGA,235959.00,5130.0000,N,00010.0000,W,1,08,1.0,10,M,,M,,",  # 2 GGA before RMC
            "GPRMC,235958.00,A,5130.0000,N,00010.0000,W,10.0,90.0,050224,,,A",  # 3 fix
            "GPGGA,235958.00,5130.0000,N,00010.0000,W,1,08,1.2,10,M,,M,,",  # 4 merged into 3
            "GPGGA,000001.00,5130.0100,N,00010.0000,W,1,08,0.8,10,M,,M,,",  # 5 next day
            "GPRMC,235958.00,A,5130.0000,N,00010.0000,W,10.0,90.0,050224,,,A",  # 6 exact duplicate
            "GPRMC,120000.00,V,,,,,,,050224,,,N",  # 7 no fix
            "$GPRMC,120000.00,A,5130.0000,N,00010.0000,W,1,1,050224,,,A*00",  # 8 bad checksum
            "GPGSV,1,1,00",  # 9 other type
            "junk line",  # 10
            "GPGGA,120000.00,0000.0000,N,00000.0000,E,1,08,1.0,10,M,,M,,",  # 11 (0, 0)
            "GPRMC,120001.00,A,5130.0000,N,00010.0000,W,1,1,050224,,,N",  # 12 mode N
        ],
        newline="\r\n",
    )
    r = read_nmea(p, device_id="d")
    assert r.counts == {"read": 12, "accepted": 2, "duplicates": 2, "quarantined": 8}
    rows = r.accepted.to_pylist()
    assert [x["src_line"] for x in rows] == [3, 5]
    assert rows[0]["accuracy_m"] == pytest.approx(6.0)  # HDOP 1.2 from line 4
    assert rows[1]["time"] == datetime(2024, 2, 6, 0, 0, 1, tzinfo=UTC)
    q = {x["line"]: x["reason"] for x in r.quarantine.to_pylist()}
    assert q[1] == "comment line" and "before any dated RMC" in q[2]
    assert "status V" in q[7] and q[8].startswith("bad checksum") and "GPGSV" in q[9]
    assert q[10] == "not an NMEA sentence" and "(0, 0)" in q[11] and "mode" in q[12]


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "e.log"
    p.write_text("\n\n")
    with pytest.raises(InputError, match="empty"):
        read_nmea(p, device_id="d")


@pytest.mark.parametrize("block", [64, 300, 4096])
def test_streamed_in_small_blocks_reads_the_same(real_data: Path, block: int) -> None:
    """Blocks far smaller than the log: the same fixes, quarantine and counts as one read."""
    for path in sorted((real_data / "nmea").glob("*.log")):
        whole = read_nmea(path, device_id="d")
        parts = read_nmea(path, device_id="d", block_bytes=block)
        assert parts.accepted.sort_by("src_line").equals(whole.accepted.sort_by("src_line"))
        assert parts.quarantine.sort_by("line").equals(whole.quarantine.sort_by("line"))
        assert (parts.read, parts.duplicates) == (whole.read, whole.duplicates)
        chunks = list(stream_nmea(path, device_id="d", block_bytes=block))
        assert len(chunks) > 1 or path.stat().st_size <= 1 << 16


def test_a_leap_second_is_read_as_every_reader_reads_it(tmp_path: Path) -> None:
    """23:59:60 is 23:59:59, as parse_times reads it in CSV, GPX and LIP, not 00:00:00."""
    import pyarrow as pa

    from whereabouts.io.times import parse_times

    def sentence(body: str) -> str:
        cs = 0
        for ch in body.encode():
            cs ^= ch
        return f"${body}*{cs:02X}\n"

    path = tmp_path / "leap.nmea"
    path.write_text(sentence("GPRMC,235960.50,A,5128.80,N,00310.79,W,3.0,10.0,311216,,"))
    got = read_nmea(path, device_id="d").accepted.column("time")[0]
    want = parse_times(pa.array(["2016-12-31T23:59:60.5Z"]), "UTC").times[0]
    assert got == want and got.as_py().second == 59
