"""The LIP encoders, checked against bit layouts written out by hand from the standard."""

from __future__ import annotations

import numpy as np
import pytest

from whereabouts.errors import ParameterError
from whereabouts.io.lip import encode_long, encode_short


def _bits(hex_str: str, nbits: int) -> str:
    return format(int(hex_str, 16), f"0{len(hex_str) * 4}b")[:nbits]


def test_short_report_bit_layout_by_hand() -> None:
    # lat 45 deg = 2^22 units of 180/2^24; lon -90 deg = -2^23 units of 360/2^25.
    out = encode_short(
        45.0,
        -90.0,
        time_elapsed_code=1,
        position_error_code=3,
        speed_kmh=20.0,
        heading_deg=90.0,
        reason_code=5,
    )
    assert out.shape == (1,) and len(out[0]) == 21
    expected = (
        "00001010"  # protocol identifier 0x0A
        "00"
        "01"  # PDU type short, time elapsed < 5 min
        + format((-(2**23)) & (2**25 - 1), "025b")
        + format(2**22, "024b")
        + "011"  # position error < 2 km
        + format(20, "07b")  # 20 km/h, linear part
        + "0100"  # east = 4 of 16 points
        + "0"
        + format(5, "08b")
    )
    assert _bits(out[0], 84) == expected


def test_short_without_protocol_identifier_is_19_hex_digits() -> None:
    out = encode_short([51.0, -51.0], [1.0, -1.0], protocol_id=False)
    assert [len(s) for s in out] == [19, 19]
    assert not out[0].startswith("0A")


def test_short_user_data_and_reason_are_exclusive() -> None:
    with pytest.raises(ParameterError):
        encode_short(1.0, 1.0, reason_code=1, user_data=2)
    with pytest.raises(ParameterError):
        encode_short(1.0, 1.0, position_error_code=8)


def test_long_report_time_of_position_bits() -> None:
    t = np.datetime64("2024-02-05T07:44:58")
    out = encode_long(0.0, 0.0, time_of_position=np.asarray(t), protocol_id=False)
    b = _bits(out[0], 8 + 22)
    assert b[:8] == "01001110"  # extended PDU, long report, time of position
    assert b[8:] == format(5, "05b") + format(7, "05b") + format(44, "06b") + format(58, "06b")


def test_arrays_of_different_lengths_are_refused() -> None:
    with pytest.raises(ParameterError):
        encode_short([1.0, 2.0], [1.0, 2.0, 3.0])


def test_default_reason_is_the_periodic_report() -> None:
    # 129: maximum reporting interval exceeded (tetra-sds lookup; example log row 1)
    bits = _bits(encode_short(1.0, 1.0)[0], 84)
    assert bits[-9:] == "0" + format(129, "08b")


@pytest.mark.parametrize(("lat", "lon"), [(np.nan, 0.0), (91.0, 0.0), (0.0, -180.5)])
def test_impossible_positions_are_refused(lat: float, lon: float) -> None:
    with pytest.raises(ParameterError, match="finite"):
        encode_short(lat, lon)
    with pytest.raises(ParameterError, match="finite"):
        encode_long(lat, lon)
