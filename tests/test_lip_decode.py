"""LIP decoding against published vectors, hand-built bit strings and the example log."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from whereabouts.io.lip import decode_pdus


def short_hex(
    *,
    te: int = 0,
    lon: int = 0,
    lat: int = 0,
    pe: int = 0,
    speed: int = 0,
    direction: int = 0,
    tad: int = 0,
    data: int = 0,
    pi: bool = True,
) -> str:
    """A short location report assembled with Python integers, field by field (6.2.1)."""
    v = 0
    for value, w in (
        (0, 2),
        (te, 2),
        (lon, 25),
        (lat, 24),
        (pe, 3),
        (speed, 7),
        (direction, 4),
        (tad, 1),
        (data, 8),
    ):
        v = (v << w) | value
    body = format(v, "019X")
    return ("0A" + body) if pi else body


def one(hex_pdu: str) -> dict[str, object]:
    row: dict[str, object] = decode_pdus(pa.array([hex_pdu])).to_pylist()[0]
    return row


def test_published_tetra_kit_coordinate_vectors() -> None:
    # tetra-kit cmce_sds_lip.cc: latitude 0x0CA1959 = -37.899131, longitude 0x0CE6C98 = 145.142012
    row = one(short_hex(lat=0xCA1959, lon=0x0CE6C98))
    assert row["error"] is None
    assert row["lat"] == pytest.approx(-37.899131, abs=1e-6)
    assert row["lon"] == pytest.approx(145.142012, abs=1e-6)


def test_example_rows_land_in_cardiff(examples: Path) -> None:
    lines = (examples / "lip.csv").read_text().splitlines()[1:]
    t = decode_pdus(pa.array([ln.split(",")[2] for ln in lines]))
    assert t["error"].null_count == 2
    lat, lon = np.array(t["lat"].to_pylist()), np.array(t["lon"].to_pylist())
    assert np.all(np.abs(lat - 51.48) < 0.01) and np.all(np.abs(lon + 3.18) < 0.01)
    # Second row by hand: 0A | 00 01 | ... position error 2, speed code 30, direction 2 (NE).
    row = t.to_pylist()[1]
    assert (row["time_elapsed_code"], row["position_error_code"]) == (1, 2)
    assert row["speed_code"] == 30 and row["heading_deg"] == 45.0
    assert row["reason_code"] == 3  # push-to-talk


def test_speed_coding_grows_with_the_code() -> None:
    codes = [0, 5, 28, 29, 60, 126, 127]
    kmh: list[Any] = [one(short_hex(speed=c))["speed_kmh"] for c in codes]
    assert kmh[:3] == [0.0, 5.0, 28.0]  # linear up to 28 km/h
    assert kmh[3] == pytest.approx(16 * 1.038**16)  # 29.05, not 16 * 1.038**-16
    assert kmh[4] == pytest.approx(16 * 1.038**47)
    assert kmh[5] == pytest.approx(16 * 1.038**113)
    assert kmh[6] is None  # 127 = unknown
    assert all(a < b for a, b in itertools.pairwise(kmh[:6]))


@pytest.mark.parametrize(("code", "bound"), [(0, 2.0), (1, 20.0), (3, 2000.0), (5, 200_000.0)])
def test_position_error_is_three_bits(code: int, bound: float) -> None:
    assert one(short_hex(pe=code))["accuracy_m"] == bound


def test_position_error_unknown_has_no_accuracy() -> None:
    assert one(short_hex(pe=7))["accuracy_m"] is None


@pytest.mark.parametrize(("code", "bound"), [(0, 5.0), (1, 300.0), (2, 1800.0), (3, None)])
def test_time_elapsed_bound(code: int, bound: float | None) -> None:
    assert one(short_hex(te=code))["time_uncertainty_s"] == bound


def test_negative_coordinates_two_complement() -> None:
    row = one(short_hex(lat=(-(2**23)) & 0xFFFFFF, lon=(-(2**24)) & 0x1FFFFFF))
    assert (row["lat"], row["lon"]) == (-90.0, -180.0)


def test_with_and_without_protocol_identifier_agree() -> None:
    a, b = one(short_hex(lat=123456, lon=654321)), one(short_hex(lat=123456, lon=654321, pi=False))
    assert a["protocol_id"] is True and b["protocol_id"] is False
    assert (a["lat"], a["lon"]) == (b["lat"], b["lon"])


def test_user_defined_data() -> None:
    row = one(short_hex(tad=1, data=200))
    assert row["user_data"] == 200 and row["reason_code"] is None


def test_octet_padded_short_report() -> None:
    row = one(short_hex(lat=1000, lon=2000) + "0")
    assert row["error"] is None and row["lat_code"] == 1000


def long_hex(bits: str, pi: bool = True) -> str:
    bits = bits + "0" * (-len(bits) % 4)
    body = format(int(bits, 2), f"0{len(bits) // 4}X")
    return ("0A" + body) if pi else body


def test_long_report_by_hand() -> None:
    bits = (
        "01"
        "0011"
        "10"  # long report, time of position
        + format(5, "05b")
        + format(7, "05b")
        + format(44, "06b")
        + format(58, "06b")
        + "0010"  # location point with uncertainty circle
        + format(0x0CE6C98, "025b")
        + format(0xCA1959, "024b")
        + format(10, "06b")
        + "101"
        + format(40, "07b")
        + format(64, "08b")  # speed, direction extended 90°
        + "1"
        "0" + format(2, "08b")
    )  # ack requested, reason: emergency
    row = one(long_hex(bits))
    assert row["error"] is None and row["kind"] == "long"
    assert (row["day"], row["hour"], row["minute"], row["second"]) == (5, 7, 44, 58)
    assert row["lat"] == pytest.approx(-37.899131, abs=1e-6)
    assert row["uncertainty_m"] == pytest.approx(2 * 1.2**15 - 4)  # K = 10
    assert row["accuracy_m"] == row["uncertainty_m"]
    assert row["heading_deg"] == 90.0 and row["speed_kmh"] == pytest.approx(16 * 1.038**27)
    assert (row["ack_request"], row["reason_code"], row["time_uncertainty_s"]) == (1, 2, 1.0)
    assert one(long_hex(bits, pi=False))["lat_code"] == 0xCA1959


@pytest.mark.parametrize(
    ("shape", "word"), [(3, "ellipse"), (9, "arc"), (12, "reserved"), (15, "extension")]
)
def test_undecoded_shapes_name_the_shape(shape: int, word: str) -> None:
    bits = "01001100" + format(shape, "04b") + "0" * 80
    err = one(long_hex(bits))["error"]
    assert isinstance(err, str) and f"shape {shape}" in err and word in err


@pytest.mark.parametrize(
    ("pdu", "fragment"),
    [
        ("0B0FDBD27249BAA900081", "no 0x0A protocol identifier"),  # 21 digits, short, no PI
        ("0A0FDBD27249BAA90008111", "expected 19"),  # 23 digits
        ("0AXFDBD27249BAA900081", "not hexadecimal"),
        ("0A8FDBD27249BAA900081", "reserved"),  # PDU type 2
        ("0A45" + "0" * 17, "not a location report"),  # extension 5
        ("0A4F", "truncated"),
        ("", "empty"),
        ("0A4E" + "0" * 4, "truncated"),
    ],
)
def test_bad_pdus_have_reasons(pdu: str, fragment: str) -> None:
    err = one(pdu)["error"]
    assert isinstance(err, str) and fragment in err, err


def test_mixed_lengths_keep_row_order() -> None:
    pdus = [short_hex(lat=1), "zz", short_hex(lat=2, pi=False), short_hex(lat=3)]
    t = decode_pdus(pa.chunked_array([pa.array(pdus[:2]), pa.array(pdus[2:])]))
    assert t["lat_code"].to_pylist() == [1, None, 2, 3]


def test_tetra_sds_sample_long_report() -> None:
    """Fixitdaz/tetra-sds example_hex.txt: its decoder reads time, shape 5 and position at
    the same bit positions. The PDU is one bit short of its velocity type 3 fields."""
    row = one("4E4A633954F1F49C0CD0409ED3D04410")
    assert row["kind"] == "long" and "truncated" in str(row["error"])
    bits = format(int("4E4A633954F1F49C0CD0409ED3D04410", 16), "0128b")
    # tetra-sds: time bits[6:30], location bits[30:101] = shape 4, lon 25, lat 24, unc 6, alt 12
    assert int(bits[8:13], 2) == 9 and int(bits[30:34], 2) == 5
    lat = int(bits[59:83], 2) - 2**24
    assert lat * 180 / 2**24 == pytest.approx(-22.218454, abs=1e-6)  # Pilbara, W. Australia
    padded = "0A" + "4E4A633954F1F49C0CD0409ED3D04410" + "00"  # the lost bit restored as 0
    full = one(padded)
    assert full["error"] is None
    assert (full["day"], full["hour"], full["minute"], full["second"]) == (9, 9, 35, 14)
    assert full["lat"] == pytest.approx(-22.218454, abs=1e-6)
    assert full["lon"] == pytest.approx(117.816396, abs=1e-6)
    assert full["altitude_m"] == 986 - 201  # 1 m steps up to code 1201
    assert full["uncertainty_m"] == pytest.approx(2 * 1.2**6 - 4)  # tetra-sds formula, K = 1


def test_published_java_test_vector_moscow() -> None:
    # A public Java LIP parser's unit test lists this 84-bit short report field by field:
    # 0x0A, short, < 5 s, lon 3509265 = 37.6503288746, lat 5194779 = 55.7339322567,
    # < 2 m, 0 km/h, north, reason 0 (powered on).
    bits = "000010100000000110101100011000001000101001111010001000001101100000000000000000000000"
    row = one(format(int(bits, 2), "021X"))
    assert row["lon"] == pytest.approx(37.6503288746, abs=1e-9)
    assert row["lat"] == pytest.approx(55.7339322567, abs=1e-9)
    assert (row["accuracy_m"], row["speed_kmh"], row["heading_deg"], row["reason_code"]) == (
        2.0,
        0.0,
        0.0,
        0,
    )


def test_published_live_beacon_athens() -> None:
    # A public TETRA server's README: live beacon 0a 01 0e 62 39 b0 43 9a ff e0 20
    # → 37.9920 N, 23.7642 E (22 hex digits: the 84-bit report padded to 11 octets).
    row = one("0A010E6239B0439AFFE020")
    assert row["error"] is None and row["trailing_bits"] == 4
    assert row["lat"] == pytest.approx(37.9920, abs=5e-5)
    assert row["lon"] == pytest.approx(23.7642, abs=5e-5)
    assert row["speed_kmh"] is None  # code 127: unknown
