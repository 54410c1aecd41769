"""Field layouts of the short and long location reports, shared by encoder and decoder.

A layout is an ordered list of (field name, width in bits), MSB first, after the optional
8-bit protocol identifier (0x0A). The long report's layout depends on its time type,
location shape and velocity type.
"""

from __future__ import annotations

PROTOCOL_ID = 0x0A
PDU_SHORT, PDU_EXTENDED = 0, 1
EXT_LONG_REPORT = 3

Layout = list[tuple[str, int]]

SHORT: Layout = [
    ("pdu_type", 2),
    ("time_elapsed", 2),
    ("lon", 25),
    ("lat", 24),
    ("position_error", 3),
    ("speed", 7),
    ("direction", 4),
    ("additional_data_type", 1),
    ("additional_data", 8),
]
SHORT_BITS = sum(w for _, w in SHORT)  # 76

LONG_HEAD: Layout = [("pdu_type", 2), ("pdu_type_ext", 4), ("time_type", 2)]
TIME_FIELDS: dict[int, Layout] = {
    0: [],
    1: [("time_elapsed", 2)],
    2: [("day", 5), ("hour", 5), ("minute", 6), ("second", 6)],
}
_POINT: Layout = [("lon", 25), ("lat", 24)]
_ALT: Layout = [("altitude_type", 1), ("altitude", 11)]
# Shapes decoded. 3, 6, 8 (ellipses), 9 (arc), 11-14 (reserved), 15 (extension) are not.
SHAPE_FIELDS: dict[int, Layout] = {
    0: [],
    1: _POINT,
    2: [*_POINT, ("uncertainty", 6)],
    4: [*_POINT, *_ALT],
    5: [*_POINT, ("uncertainty", 6), *_ALT],
    7: [*_POINT, ("uncertainty", 6), *_ALT, ("altitude_uncertainty", 3)],
    10: [*_POINT, ("position_error", 3)],
}
_H: Layout = [("speed", 7)]
_HU: Layout = [("speed_uncertainty", 3)]
_V: Layout = [("vertical", 8)]
_VU: Layout = [("vertical_uncertainty", 3)]
_D: Layout = [("direction_ext", 8)]
_DU: Layout = [("direction_uncertainty", 3)]
VELOCITY_FIELDS: dict[int, Layout] = {
    0: [],
    1: _H,
    2: [*_H, *_HU],
    3: [*_H, *_V],
    4: [*_H, *_HU, *_V, *_VU],
    5: [*_H, *_D],
    6: [*_H, *_HU, *_D, *_DU],
    7: [*_H, *_HU, *_V, *_VU, *_D, *_DU],
}
LONG_TAIL: Layout = [("ack_request", 1), ("additional_data_type", 1), ("additional_data", 8)]


def long_layout(time_type: int, shape: int, velocity_type: int) -> Layout:
    """The long location report's fields for one (time type, shape, velocity type)."""
    return [
        *LONG_HEAD,
        *TIME_FIELDS[time_type],
        ("shape", 4),
        *SHAPE_FIELDS[shape],
        ("velocity_type", 3),
        *VELOCITY_FIELDS[velocity_type],
        *LONG_TAIL,
    ]


def width(layout: Layout) -> int:
    """The number of bits a layout's fields take."""
    return sum(w for _, w in layout)


__all__ = [
    "EXT_LONG_REPORT",
    "LONG_TAIL",
    "PDU_EXTENDED",
    "PDU_SHORT",
    "PROTOCOL_ID",
    "SHAPE_FIELDS",
    "SHORT",
    "SHORT_BITS",
    "TIME_FIELDS",
    "VELOCITY_FIELDS",
    "long_layout",
    "width",
]
