"""Coordinates: WGS84 ↔ the workspace's projected CRS (metres), and OS grid references.

Distances are computed in a projected CRS: EPSG:27700 (British National Grid) for data in
Great Britain, otherwise the UTM zone of the data. Transformers are cached; all functions
take and return whole numpy arrays.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer

from whereabouts.errors import ParameterError

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"


@lru_cache(maxsize=16)
def _transformer(src: str, dst: str) -> Transformer:
    try:
        return Transformer.from_crs(src, dst, always_xy=True)
    except Exception as exc:  # pyproj raises CRSError subclasses of several kinds
        raise ParameterError(
            f"unknown coordinate system {src!r} or {dst!r}",
            hint="give an EPSG code such as EPSG:27700",
        ) from exc


def normalise_crs(crs: str) -> str:
    """'27700' or 'epsg:27700' → 'EPSG:27700'; refuses geographic (degree) systems."""
    text = crs.strip().upper()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        parsed = CRS.from_user_input(text)
    except Exception as exc:
        raise ParameterError(
            f"unknown coordinate system {crs!r}", hint="give an EPSG code such as EPSG:27700"
        ) from exc
    if not parsed.is_projected:
        raise ParameterError(
            f"{crs} is not a projected coordinate system in metres",
            hint="use EPSG:27700 in Great Britain or the data's UTM zone",
        )
    return text


def to_projected(lat: np.ndarray, lon: np.ndarray, crs: str = BNG) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees → (x, y) metres in `crs`."""
    x, y = _transformer(WGS84, crs).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def to_wgs84(x: np.ndarray, y: np.ndarray, crs: str = BNG) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) metres in `crs` → (lat, lon) WGS84 degrees."""
    lon, lat = _transformer(crs, WGS84).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lat, float), np.asarray(lon, float)


def in_great_britain(lat: np.ndarray, lon: np.ndarray) -> bool:
    """True when every point lies in the British National Grid's extent (roughly)."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    return bool(len(lat)) and bool(np.all((lat > 49.7) & (lat < 61.0) & (lon > -8.8) & (lon < 2.0)))


@lru_cache(maxsize=16)
def area_of_use(crs: str) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) WGS84 degrees where `crs` is meant to be used, if known."""
    try:
        area = CRS.from_user_input(crs).area_of_use
    except Exception:  # an unknown CRS has no area; callers then skip area checks
        return None
    return None if area is None else (area.west, area.south, area.east, area.north)


def utm_crs_for(lat: np.ndarray, lon: np.ndarray) -> str:
    """The UTM zone (WGS84) of the data's median position, as 'EPSG:326NN' or 'EPSG:327NN'."""
    mlat, mlon = float(np.median(lat)), float(np.median(lon))
    zone = int((mlon + 180) // 6) % 60 + 1
    return f"EPSG:{32600 + zone if mlat >= 0 else 32700 + zone}"


def crs_for(lat: np.ndarray, lon: np.ndarray) -> str:
    """EPSG:27700 for data in Great Britain, otherwise the data's UTM zone."""
    return BNG if in_great_britain(lat, lon) else utm_crs_for(lat, lon)


_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # no I


def grid_reference(easting: float, northing: float, digits: int = 10) -> str:
    """An Ordnance Survey grid reference, e.g. 318540, 176420 → 'ST 18540 76420'."""
    e, n = float(easting), float(northing)
    if not (0 <= e < 700_000 and 0 <= n < 1_300_000):
        return ""
    e100k, n100k = int(e // 100_000), int(n // 100_000)
    l1 = (19 - n100k) - (19 - n100k) % 5 + (e100k + 10) // 5
    l2 = (19 - n100k) * 5 % 25 + e100k % 5
    half = digits // 2
    scale = 10 ** (5 - half)
    es = int(e % 100_000) // scale
    ns = int(n % 100_000) // scale
    return f"{_LETTERS[l1]}{_LETTERS[l2]} {es:0{half}d} {ns:0{half}d}"


def grid_references(easting: np.ndarray, northing: np.ndarray, digits: int = 10) -> list[str]:
    """`grid_reference` of each (easting, northing), vectorised: the same text, "" outside
    the grid or where either is not finite."""
    e, n = np.asarray(easting, float), np.asarray(northing, float)
    if len(e) == 0:
        return []
    with np.errstate(invalid="ignore"):
        ok = (e >= 0) & (e < 700_000) & (n >= 0) & (n < 1_300_000)  # False for NaN
    e, n = np.where(ok, e, 0.0), np.where(ok, n, 0.0)
    e100k, n100k = (e // 100_000).astype(np.int64), (n // 100_000).astype(np.int64)
    l1 = (19 - n100k) - (19 - n100k) % 5 + (e100k + 10) // 5
    l2 = (19 - n100k) * 5 % 25 + e100k % 5
    half = digits // 2
    scale = 10 ** (5 - half)
    es = (e % 100_000).astype(np.int64) // scale
    ns = (n % 100_000).astype(np.int64) // scale
    letters = np.array(list(_LETTERS))
    text = np.char.add(
        np.char.add(np.char.add(letters[l1], letters[l2]), " "),
        np.char.add(
            np.char.add(np.char.zfill(es.astype(str), half), " "),
            np.char.zfill(ns.astype(str), half),
        ),
    )
    refs: list[str] = np.where(ok, text, "").tolist()
    return refs


__all__ = [
    "BNG",
    "WGS84",
    "area_of_use",
    "crs_for",
    "grid_reference",
    "grid_references",
    "in_great_britain",
    "normalise_crs",
    "to_projected",
    "to_wgs84",
    "utm_crs_for",
]
