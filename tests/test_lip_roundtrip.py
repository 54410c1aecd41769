"""Property tests: LIP encode → decode → encode over the whole field space."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from whereabouts.io.lip import decode_pdus, encode_long, encode_short

u = st.integers


def assemble(fields: list[tuple[int, int]], pi: bool) -> str:
    """Fields (value, width) MSB first with Python integers, zero-padded to a hex digit."""
    v, n = 0, 0
    for value, w in fields:
        v, n = (v << w) | value, n + w
    pad = -n % 4
    body = format(v << pad, f"0{(n + pad) // 4}X")
    return ("0A" + body) if pi else body


@st.composite
def short_reports(draw: st.DrawFn) -> tuple[dict[str, int], bool]:
    f = {
        "te": draw(u(0, 3)),
        "lon": draw(u(1, 2**25 - 1)),
        "lat": draw(u(0, 2**24 - 1)),
        "pe": draw(u(0, 7)),
        "speed": draw(u(0, 127)),
        "dir": draw(u(0, 15)),
        "tad": draw(u(0, 1)),
        "data": draw(u(0, 255)),
    }
    return f, draw(st.booleans())


@settings(max_examples=150, deadline=None)
@given(short_reports())
def test_short_roundtrip(case: tuple[dict[str, int], bool]) -> None:
    f, pi = case
    hex_pdu = assemble(
        [
            (0, 2),
            (f["te"], 2),
            (f["lon"], 25),
            (f["lat"], 24),
            (f["pe"], 3),
            (f["speed"], 7),
            (f["dir"], 4),
            (f["tad"], 1),
            (f["data"], 8),
        ],
        pi,
    )
    row = decode_pdus(pa.array([hex_pdu])).to_pylist()[0]
    assert row["error"] is None
    assert (
        row["time_elapsed_code"],
        row["lon_code"],
        row["lat_code"],
        row["position_error_code"],
        row["speed_code"],
        row["direction_code"],
    ) == (f["te"], f["lon"], f["lat"], f["pe"], f["speed"], f["dir"])
    assert row["reason_code" if f["tad"] == 0 else "user_data"] == f["data"]
    again = encode_short(
        row["lat"],
        row["lon"],
        time_elapsed_code=row["time_elapsed_code"],
        position_error_code=row["position_error_code"],
        speed_kmh=np.nan if row["speed_kmh"] is None else row["speed_kmh"],
        heading_deg=row["heading_deg"],
        reason_code=row["reason_code"],
        user_data=row["user_data"],
        protocol_id=pi,
    )
    assert again[0] == hex_pdu


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-90, 89.99998),
            st.floats(-180, 179.99998),
            st.floats(0, 400),
            st.floats(0, 359.9),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_short_physical_values_within_quantisation(rows: list[tuple[float, ...]]) -> None:
    lat, lon, kmh, hdg = (np.array(c) for c in zip(*rows, strict=True))
    t = decode_pdus(pa.array(encode_short(lat, lon, speed_kmh=kmh, heading_deg=hdg)))
    assert np.all(np.abs(np.array(t["lat"].to_pylist()) - lat) <= 180 / 2**24 / 2 + 1e-12)
    assert np.all(np.abs(np.array(t["lon"].to_pylist()) - lon) <= 360 / 2**25 / 2 + 1e-12)
    back = np.array(t["speed_kmh"].to_pylist())
    # below 28.5 km/h steps of 1 km/h; above, steps of 3.8 % of the speed
    assert np.all(np.abs(back - kmh) <= np.maximum(0.5, 0.02 * np.minimum(kmh, 1100)) + 1e-9)
    dh = np.abs((np.array(t["heading_deg"].to_pylist()) - hdg + 180) % 360 - 180)
    assert np.all(dh <= 11.25 + 1e-9)


SHAPE_FIELDS = {
    0: [],
    1: ["pt"],
    2: ["pt", "u"],
    4: ["pt", "alt"],
    5: ["pt", "u", "alt"],
    7: ["pt", "u", "alt", "au"],
    10: ["pt", "pe"],
}
VEL_FIELDS = {
    0: [],
    1: ["h"],
    2: ["h", "hu"],
    3: ["h", "v"],
    4: ["h", "hu", "v", "vu"],
    5: ["h", "d"],
    6: ["h", "hu", "d", "du"],
    7: ["h", "hu", "v", "vu", "d", "du"],
}
# vertical codes whose sign survives physical units (not "down, 0 km/h", not "down, unknown")
vertical = u(0, 255).filter(lambda c: c not in (128, 255))


@st.composite
def long_reports(draw: st.DrawFn) -> tuple[list[tuple[int, int]], dict[str, int], bool]:
    tt, shape, vt = (
        draw(st.sampled_from([0, 1, 2])),
        draw(st.sampled_from(sorted(SHAPE_FIELDS))),
        draw(u(0, 7)),
    )
    f: dict[str, int] = {"tt": tt, "shape": shape, "vt": vt}
    bits = [(1, 2), (3, 4), (tt, 2)]
    if tt == 1:
        f["te"] = draw(u(0, 3))
        bits.append((f["te"], 2))
    if tt == 2:
        f.update(
            day=draw(u(1, 31)), hour=draw(u(0, 23)), minute=draw(u(0, 59)), second=draw(u(0, 59))
        )
        bits += [(f["day"], 5), (f["hour"], 5), (f["minute"], 6), (f["second"], 6)]
    bits.append((shape, 4))
    widths = {"u": 6, "au": 3, "pe": 3, "h": 7, "hu": 3, "v": 8, "vu": 3, "d": 8, "du": 3}
    for name in SHAPE_FIELDS[shape]:
        if name == "pt":
            f["lon"], f["lat"] = draw(u(1, 2**25 - 1)), draw(u(0, 2**24 - 1))
            bits += [(f["lon"], 25), (f["lat"], 24)]
        elif name == "alt":
            f["at"], f["alt"] = draw(u(0, 1)), draw(u(1, 2047))
            bits += [(f["at"], 1), (f["alt"], 11)]
        else:
            f[name] = draw(u(0, (1 << widths[name]) - 1))
            bits.append((f[name], widths[name]))
    bits.append((vt, 3))
    for name in VEL_FIELDS[vt]:
        f[name] = draw(vertical if name == "v" else u(0, (1 << widths[name]) - 1))
        bits.append((f[name], widths[name]))
    f["ack"], f["tad"], f["data"] = draw(u(0, 1)), draw(u(0, 1)), draw(u(0, 255))
    bits += [(f["ack"], 1), (f["tad"], 1), (f["data"], 8)]
    return bits, f, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(long_reports())
def test_long_roundtrip(case: tuple[list[tuple[int, int]], dict[str, int], bool]) -> None:
    bits, f, pi = case
    hex_pdu = assemble(bits, pi)
    row = decode_pdus(pa.array([hex_pdu])).to_pylist()[0]
    assert row["error"] is None, row["error"]
    names = {
        "tt": "time_type",
        "shape": "shape",
        "vt": "velocity_type",
        "te": "time_elapsed_code",
        "day": "day",
        "hour": "hour",
        "minute": "minute",
        "second": "second",
        "lon": "lon_code",
        "lat": "lat_code",
        "u": "uncertainty_code",
        "at": "altitude_type",
        "alt": "altitude_code",
        "au": "altitude_uncertainty_code",
        "pe": "position_error_code",
        "h": "speed_code",
        "hu": "speed_uncertainty_code",
        "v": "vertical_code",
        "vu": "vertical_uncertainty_code",
        "d": "direction_ext_code",
        "du": "direction_uncertainty_code",
        "ack": "ack_request",
        "tad": "additional_data_type",
    }
    for k, col in names.items():
        assert row[col] == f.get(k), col
    assert row["reason_code" if f["tad"] == 0 else "user_data"] == f["data"]
    if f["shape"] == 0:
        assert row["lat"] is None
        return
    tp = None
    if f["tt"] == 2:
        tp = (
            np.datetime64("2024-01-01T00:00:00")
            + np.timedelta64(f["day"] - 1, "D")
            + np.timedelta64(f["hour"] * 3600 + f["minute"] * 60 + f["second"], "s")
        )
    vt = f["vt"]
    again = encode_long(
        row["lat"],
        row["lon"],
        time_elapsed_code=row["time_elapsed_code"],
        time_of_position=None if tp is None else np.asarray(tp),
        shape=f["shape"],
        uncertainty_m=row["uncertainty_m"],
        altitude_m=row["altitude_m"],
        altitude_type=f.get("at", 0),
        altitude_uncertainty_code=f.get("au", 0),
        position_error_code=row["position_error_code"],
        velocity_type=vt,
        speed_kmh=np.nan if row["speed_kmh"] is None else row["speed_kmh"],
        speed_uncertainty_code=f.get("hu", 0),
        vertical_kmh=(np.nan if row["vertical_kmh"] is None else row["vertical_kmh"])
        if "v" in f
        else None,
        vertical_uncertainty_code=f.get("vu", 0),
        heading_deg=row["heading_deg"],
        heading_uncertainty_code=f.get("du", 0),
        ack_request=f["ack"],
        reason_code=row["reason_code"],
        user_data=row["user_data"],
        protocol_id=pi,
    )
    assert again[0] == hex_pdu
