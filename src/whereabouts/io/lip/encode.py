"""Vectorised LIP encoders: short and long location reports as hex strings.

Arguments broadcast like numpy; each call returns an (n,) array of hex `str`. The long
report's time type, location shape and velocity type are one per call (group rows by them).

Example::

    encode_short([51.48], [-3.18], time_elapsed_code=0, position_error_code=1,
                 speed_kmh=30.0, heading_deg=90.0)   # -> array(['0A0FDB...'], dtype='<U21')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from whereabouts.errors import ParameterError
from whereabouts.io.lip import codes as C
from whereabouts.io.lip.bits import pack_hex
from whereabouts.io.lip.layout import (
    EXT_LONG_REPORT,
    PDU_EXTENDED,
    PDU_SHORT,
    PROTOCOL_ID,
    SHAPE_FIELDS,
    SHORT,
    Layout,
    long_layout,
)

ArrayLike = float | int | Sequence[float] | Sequence[int] | np.ndarray


def _n(*values: ArrayLike | None) -> int:
    sizes = {int(np.size(v)) for v in values if v is not None and np.ndim(v) > 0} - {1}
    if len(sizes) > 1:
        raise ParameterError(
            f"arguments have different lengths {sorted(sizes)}",
            hint="give arrays of one length, or scalars",
        )
    return sizes.pop() if sizes else 1


def _check(name: str, code: np.ndarray, bits: int) -> np.ndarray:
    c = np.asarray(code, np.int64)
    if c.size and (c.min() < 0 or c.max() >= 1 << bits):
        raise ParameterError(
            f"{name} must be a code in 0..{(1 << bits) - 1}",
            hint=f"see ETSI TS 100 392-18-1 for the {name} codes",
        )
    return c


def _position(lat: ArrayLike, lon: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    la, lo = np.asarray(lat, np.float64), np.asarray(lon, np.float64)
    if not (
        np.all(np.isfinite(la))
        and np.all(np.isfinite(lo))
        and np.all(np.abs(la) <= 90)
        and np.all(np.abs(lo) <= 180)
    ):
        raise ParameterError(
            "positions to encode must be finite, lat in -90..90, lon in -180..180",
            hint="drop or fix rows without a position first",
        )
    return C.lat_to_code(la), C.lon_to_code(lo)


def _additional(
    reason_code: ArrayLike | None, user_data: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray]:
    if user_data is not None:
        if reason_code is not None:
            raise ParameterError(
                "give reason_code or user_data, not both",
                hint="a report carries either a reason for sending or user data",
            )
        return np.asarray(1), _check("user_data", np.asarray(user_data), 8)
    reason = C.REASON_PERIODIC if reason_code is None else reason_code
    return np.asarray(0), _check("reason_code", np.asarray(reason), 8)


def pack(
    layout: Layout, fields: dict[str, np.ndarray], n: int, *, protocol_id: bool = True
) -> np.ndarray:
    """Write raw field codes in `layout` order (with the 0x0A identifier first) as hex."""
    parts: list[tuple[np.ndarray, int]] = [(np.asarray(PROTOCOL_ID), 8)] if protocol_id else []
    for name, w in layout:
        parts.append((_check(name, np.asarray(fields.get(name, 0)), w), w))
    return pack_hex(parts, n)


def encode_short(
    lat: ArrayLike,
    lon: ArrayLike,
    *,
    time_elapsed_code: ArrayLike = 0,
    position_error_code: ArrayLike = 2,
    speed_kmh: ArrayLike = np.nan,
    heading_deg: ArrayLike = 0.0,
    reason_code: ArrayLike | None = None,
    user_data: ArrayLike | None = None,
    protocol_id: bool = True,
) -> np.ndarray:
    """Short location reports (76 bits; 84 = 21 hex digits with the protocol identifier).

    `speed_kmh` NaN encodes "unknown" (127); `heading_deg` is rounded to 16 points;
    `reason_code` defaults to 129 (periodic report), `user_data` sends user-defined data
    instead of a reason.
    """
    n = _n(
        lat,
        lon,
        time_elapsed_code,
        position_error_code,
        speed_kmh,
        heading_deg,
        reason_code,
        user_data,
    )
    tad, data = _additional(reason_code, user_data)
    lat_code, lon_code = _position(lat, lon)
    fields = {
        "pdu_type": np.asarray(PDU_SHORT),
        "time_elapsed": np.asarray(time_elapsed_code),
        "lon": lon_code,
        "lat": lat_code,
        "position_error": np.asarray(position_error_code),
        "speed": C.speed_to_code(np.asarray(speed_kmh, np.float64)),
        "direction": C.direction_to_code(np.asarray(heading_deg, np.float64)),
        "additional_data_type": tad,
        "additional_data": data,
    }
    return pack(SHORT, fields, n, protocol_id=protocol_id)


def _time_of_position(t: ArrayLike | np.ndarray) -> dict[str, np.ndarray]:
    ts = np.asarray(t).astype("datetime64[s]")
    day_start = ts.astype("datetime64[D]")
    month_start = ts.astype("datetime64[M]").astype("datetime64[D]")
    secs = (ts - day_start).astype(np.int64)
    return {
        "day": (day_start - month_start).astype(np.int64) + 1,
        "hour": secs // 3600,
        "minute": secs // 60 % 60,
        "second": secs % 60,
    }


def encode_long(
    lat: ArrayLike,
    lon: ArrayLike,
    *,
    time_elapsed_code: ArrayLike | None = None,
    time_of_position: ArrayLike | np.ndarray | None = None,
    shape: int | None = None,
    uncertainty_m: ArrayLike | None = None,
    altitude_m: ArrayLike | None = None,
    altitude_type: ArrayLike = 0,
    altitude_uncertainty_code: ArrayLike = 0,
    position_error_code: ArrayLike | None = None,
    velocity_type: int | None = None,
    speed_kmh: ArrayLike | None = None,
    speed_uncertainty_code: ArrayLike = 0,
    vertical_kmh: ArrayLike | None = None,
    vertical_uncertainty_code: ArrayLike = 0,
    heading_deg: ArrayLike | None = None,
    heading_uncertainty_code: ArrayLike = 0,
    ack_request: ArrayLike = 0,
    reason_code: ArrayLike | None = None,
    user_data: ArrayLike | None = None,
    protocol_id: bool = True,
) -> np.ndarray:
    """Long location reports (PDU type 1, extension 3).

    The time is `time_of_position` (naive numpy datetime64 in UTC: day, hour, minute and
    second are sent) or
    `time_elapsed_code`, or neither. The shape defaults from what is given: altitude and
    uncertainty → 5, altitude → 4, uncertainty → 2, position error → 10, else 1 (point);
    an altitude uncertainty makes it 7. The velocity type likewise: speed with vertical
    speed and heading → 7, speed and heading → 5, speed and vertical → 3, speed → 1, none → 0.
    """
    if time_of_position is not None and time_elapsed_code is not None:
        raise ParameterError(
            "give time_of_position or time_elapsed_code, not both",
            hint="a long report carries one kind of time",
        )
    if shape is None:
        has_u, has_a = uncertainty_m is not None, altitude_m is not None
        shape = (
            5
            if has_u and has_a
            else 4
            if has_a
            else 2
            if has_u
            else 10
            if position_error_code is not None
            else 1
        )
    if shape not in SHAPE_FIELDS or shape == 0:
        raise ParameterError(
            f"location shape {shape} cannot be encoded",
            hint=f"use one of {sorted(set(SHAPE_FIELDS) - {0})}",
        )
    if velocity_type is None:
        has_s, has_v, has_h = (
            speed_kmh is not None,
            vertical_kmh is not None,
            heading_deg is not None,
        )
        velocity_type = (
            0 if not has_s else 7 if has_v and has_h else 5 if has_h else 3 if has_v else 1
        )
    if velocity_type not in range(8):
        raise ParameterError(
            f"velocity type {velocity_type} does not exist",
            hint="use 0..7 (ETSI TS 100 392-18-1 velocity types)",
        )
    time_type = 2 if time_of_position is not None else 1 if time_elapsed_code is not None else 0
    n = _n(
        lat,
        lon,
        time_elapsed_code,
        time_of_position,
        uncertainty_m,
        altitude_m,
        position_error_code,
        speed_kmh,
        vertical_kmh,
        heading_deg,
        reason_code,
        user_data,
    )
    tad, data = _additional(reason_code, user_data)
    lat_code, lon_code = _position(lat, lon)
    nan = np.asarray(np.nan)
    fields: dict[str, np.ndarray] = {
        "pdu_type": np.asarray(PDU_EXTENDED),
        "pdu_type_ext": np.asarray(EXT_LONG_REPORT),
        "time_type": np.asarray(time_type),
        "time_elapsed": np.asarray(0 if time_elapsed_code is None else time_elapsed_code),
        "shape": np.asarray(shape),
        "lon": lon_code,
        "lat": lat_code,
        "uncertainty": C.uncertainty_to_code(
            np.asarray(0.0 if uncertainty_m is None else uncertainty_m, np.float64)
        ),
        "altitude_type": np.asarray(altitude_type),
        "altitude": C.altitude_to_code(
            np.asarray(0.0 if altitude_m is None else altitude_m, np.float64)
        ),
        "altitude_uncertainty": np.asarray(altitude_uncertainty_code),
        "position_error": np.asarray(7 if position_error_code is None else position_error_code),
        "velocity_type": np.asarray(velocity_type),
        "speed": C.speed_to_code(nan if speed_kmh is None else np.asarray(speed_kmh)),
        "speed_uncertainty": np.asarray(speed_uncertainty_code),
        "vertical": C.vertical_to_code(np.asarray(0.0 if vertical_kmh is None else vertical_kmh)),
        "vertical_uncertainty": np.asarray(vertical_uncertainty_code),
        "direction_ext": C.direction_ext_to_code(
            np.asarray(0.0 if heading_deg is None else heading_deg)
        ),
        "direction_uncertainty": np.asarray(heading_uncertainty_code),
        "ack_request": np.asarray(ack_request, np.int64),
        "additional_data_type": tad,
        "additional_data": data,
    }
    if time_of_position is not None:
        fields.update(_time_of_position(time_of_position))
    return pack(long_layout(time_type, shape, velocity_type), fields, n, protocol_id=protocol_id)


__all__ = ["encode_long", "encode_short", "pack"]
