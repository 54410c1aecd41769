"""LIP field codings (ETSI TS 100 392-18-1 clause 6.3), both ways, over whole numpy columns.

Every function takes and returns arrays; codes are unsigned integers as they sit in the PDU.
Physical units: degrees, metres, km/h (the standard's unit), seconds.
"""

from __future__ import annotations

import numpy as np

# Latitude: 24-bit two's complement, 180/2^24 degrees per unit; longitude: 25 bits, 360/2^25.
LAT_BITS, LON_BITS = 24, 25
LAT_UNIT = 180.0 / 2**24
LON_UNIT = 360.0 / 2**25

# Time elapsed (2 bits): < 5 s, < 5 min, < 30 min, not applicable / unknown.
TIME_ELAPSED_S = np.array([5.0, 300.0, 1800.0, np.nan])
# Position error (3 bits): < 2 m, < 20 m, < 200 m, < 2 km, < 20 km, <= 200 km, > 200 km, unknown.
POSITION_ERROR_M = np.array([2.0, 20.0, 200.0, 2_000.0, 20_000.0, 200_000.0, np.inf, np.nan])
POSITION_ERROR_TOO_COARSE = 6
POSITION_ERROR_UNKNOWN = 7

# Horizontal velocity (7 bits): 0..28 km/h in 1 km/h steps, then v = C (1 + x)^(K - A) + B.
SPEED_C, SPEED_X, SPEED_A, SPEED_B = 16.0, 0.038, 13.0, 0.0
SPEED_LINEAR_MAX = 28
SPEED_UNKNOWN = 127

# Horizontal position uncertainty (6 bits): r = C (1 + x)^(K + 5) - 2 C metres, C = 2,
# x = 0.2 (about 1 m at K = 0, 486 km at K = 63), as Fixitdaz/tetra-sds reads the standard.
UNCERTAINTY_C, UNCERTAINTY_X, UNCERTAINTY_K0 = 2.0, 0.2, 5
UNCERTAINTY_MAX_CODE = 63

# Location shapes of the long report (4 bits).
SHAPES = {
    0: "no shape",
    1: "location point",
    2: "location point with uncertainty circle",
    3: "location ellipse",
    4: "location point with altitude",
    5: "location circle with altitude",
    6: "location ellipse with altitude",
    7: "location circle with altitude and altitude uncertainty",
    8: "location ellipse with altitude and altitude uncertainty",
    9: "location arc",
    10: "location point and position error",
    15: "location shape extension",
}
# Velocity types of the long report (3 bits).
VELOCITY_TYPES = {
    0: "no velocity information",
    1: "horizontal velocity",
    2: "horizontal velocity with uncertainty",
    3: "horizontal and vertical velocity",
    4: "horizontal and vertical velocity with uncertainty",
    5: "horizontal velocity with direction of travel extended",
    6: "horizontal velocity with direction of travel extended and uncertainty",
    7: "horizontal and vertical velocity with direction of travel extended and uncertainty",
}
# Time types of the long report (2 bits).
TIME_NONE, TIME_ELAPSED, TIME_OF_POSITION = 0, 1, 2

# Reason for sending used when a caller gives none: 129, "maximum reporting interval exceeded
# since the last location information report" -- the ordinary periodic report (as in
# tetra-sds's table and the example log; 130 is the distance limit, 32 the immediate request).
REASON_PERIODIC = 129

FloatArray = np.ndarray
IntArray = np.ndarray


def _u(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.int64)


def signed(code: IntArray, bits: int) -> IntArray:
    """Two's complement `bits`-wide codes to signed integers."""
    c = _u(code)
    return np.where(c >= 1 << (bits - 1), c - (1 << bits), c)


def lat_from_code(code: IntArray) -> FloatArray:
    """Latitude codes (24-bit two's complement) to degrees."""
    return signed(code, LAT_BITS) * LAT_UNIT


def lon_from_code(code: IntArray) -> FloatArray:
    """Longitude codes (25-bit two's complement) to degrees."""
    return signed(code, LON_BITS) * LON_UNIT


def lat_to_code(lat: FloatArray) -> IntArray:
    """Latitudes in degrees to 24-bit codes (clipped to the code's range)."""
    n = np.clip(np.rint(np.asarray(lat, np.float64) / LAT_UNIT), -(2**23), 2**23 - 1)
    result: IntArray = n.astype(np.int64) & (2**LAT_BITS - 1)
    return result


def lon_to_code(lon: FloatArray) -> IntArray:
    """Longitudes in degrees to 25-bit codes."""
    # +180 and -180 are the same meridian; the code range is [-180, 180).
    n = np.rint(np.asarray(lon, np.float64) / LON_UNIT).astype(np.int64)
    n = (n + 2**24) % 2**25 - 2**24
    result: IntArray = n & (2**LON_BITS - 1)
    return result


def speed_from_code(code: IntArray) -> FloatArray:
    """Horizontal (or vertical) velocity code to km/h; 127 (unknown) to NaN."""
    k = np.asarray(code, np.float64)
    v = np.where(k <= SPEED_LINEAR_MAX, k, SPEED_C * (1.0 + SPEED_X) ** (k - SPEED_A) + SPEED_B)
    return np.where(k == SPEED_UNKNOWN, np.nan, v)


def speed_to_code(kmh: FloatArray) -> IntArray:
    """Horizontal speeds in km/h to 7-bit codes (127: unknown)."""
    v = np.abs(np.asarray(kmh, np.float64))
    unknown = ~np.isfinite(v)
    v = np.where(unknown, 0.0, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_exp = SPEED_A + np.log(np.maximum(v - SPEED_B, 1e-9) / SPEED_C) / np.log1p(SPEED_X)
    k = np.where(v < SPEED_LINEAR_MAX + 0.5, np.rint(v), np.rint(k_exp))
    k = np.clip(k, 0, SPEED_UNKNOWN - 1)
    return np.where(unknown, SPEED_UNKNOWN, k).astype(np.int64)


def direction_from_code(code: IntArray) -> FloatArray:
    """4-bit direction of travel (16 points, 22.5 degrees each) to degrees."""
    return _u(code) * 22.5


def direction_to_code(deg: FloatArray) -> IntArray:
    """Directions in degrees to 4-bit codes (16 points of the compass)."""
    d = np.nan_to_num(np.asarray(deg, np.float64)) % 360.0
    return (np.floor((d + 11.25) / 22.5).astype(np.int64)) % 16


def direction_ext_from_code(code: IntArray) -> FloatArray:
    """8-bit direction of travel extended (360/256 degrees per unit) to degrees."""
    return _u(code) * (360.0 / 256.0)


def direction_ext_to_code(deg: FloatArray) -> IntArray:
    """Directions in degrees to 8-bit codes (360/256 degree steps)."""
    d = np.nan_to_num(np.asarray(deg, np.float64)) % 360.0
    return np.rint(d * 256.0 / 360.0).astype(np.int64) % 256


def uncertainty_from_code(code: IntArray) -> FloatArray:
    """Horizontal position uncertainty code to metres."""
    k = np.asarray(code, np.float64) + UNCERTAINTY_K0
    return UNCERTAINTY_C * (1.0 + UNCERTAINTY_X) ** k - 2.0 * UNCERTAINTY_C


def uncertainty_to_code(metres: FloatArray) -> IntArray:
    """Position errors in metres to the smallest uncertainty code that covers them."""
    r = np.nan_to_num(np.asarray(metres, np.float64), nan=0.0, posinf=1e12)
    base = (np.maximum(r, 0.0) + 2.0 * UNCERTAINTY_C) / UNCERTAINTY_C
    k = np.ceil(np.log(base) / np.log1p(UNCERTAINTY_X) - UNCERTAINTY_K0 - 1e-9)
    result: IntArray = np.clip(k, 0, UNCERTAINTY_MAX_CODE).astype(np.int64)
    return result


def altitude_from_code(code: IntArray) -> FloatArray:
    """11-bit altitude code to metres: 1 m steps from -200 m, 2 m above 1 km, 75 m above 2,450 m.

    Code 0 is reserved (NaN).
    """
    k = np.asarray(code, np.float64)
    m = np.where(
        k <= 1201,
        k - 201.0,
        np.where(k <= 1926, 1000.0 + 2.0 * (k - 1201.0), 2450.0 + 75.0 * (k - 1926.0)),
    )
    return np.where(k == 0, np.nan, m)


def altitude_to_code(metres: FloatArray) -> IntArray:
    """Altitudes in metres to 11-bit codes (1 m steps to 1000 m, 2 m to 2450 m, then 75 m)."""
    m = np.clip(np.nan_to_num(np.asarray(metres, np.float64), nan=-200.0), -200.0, 11525.0)
    k = np.where(
        m <= 1000.0,
        np.rint(m) + 201.0,
        np.where(
            m <= 2450.0, 1201.0 + np.rint((m - 1000.0) / 2.0), 1926.0 + np.rint((m - 2450.0) / 75.0)
        ),
    )
    return np.clip(k, 1, 2047).astype(np.int64)


def vertical_from_code(code: IntArray) -> FloatArray:
    """8-bit vertical velocity (1 bit direction, 0 up / 1 down, then 7 bits) to signed km/h."""
    c = _u(code)
    result: FloatArray = np.where(c >> 7 == 1, -1.0, 1.0) * speed_from_code(c & 0x7F)
    return result


def vertical_to_code(kmh: FloatArray) -> IntArray:
    """Signed vertical speeds in km/h to 8-bit codes (direction bit, then speed)."""
    v = np.asarray(kmh, np.float64)
    down = np.nan_to_num(v) < 0
    result: IntArray = (down.astype(np.int64) << 7) | speed_to_code(np.abs(v))
    return result


__all__ = [
    "POSITION_ERROR_M",
    "REASON_PERIODIC",
    "SHAPES",
    "TIME_ELAPSED_S",
    "VELOCITY_TYPES",
    "altitude_from_code",
    "altitude_to_code",
    "direction_ext_from_code",
    "direction_ext_to_code",
    "direction_from_code",
    "direction_to_code",
    "lat_from_code",
    "lat_to_code",
    "lon_from_code",
    "lon_to_code",
    "signed",
    "speed_from_code",
    "speed_to_code",
    "uncertainty_from_code",
    "uncertainty_to_code",
    "vertical_from_code",
    "vertical_to_code",
]
