"""Web Mercator tiles placed on maps drawn in the workspace CRS (metres).

A tile (z, x, y) in the usual XYZ scheme (y = 0 at the north) covers a square of Web
Mercator; in a national grid such as EPSG:27700 it is a slightly skewed, slightly curved
quadrilateral. Each tile is drawn as an image under an affine transform fitted to points
across it (corners included), which maps the unit square (u right, v down) onto grid metres:

    x = a·u + c·v + e,   y = b·u + d·v + f      (SVG's matrix(a, b, c, d, e, f))

Over a tile of a few kilometres the curvature left out is a fraction of a metre
(`affine_residual_m` measures it), far below a tile pixel at the zoom chosen for the map.
All functions take and return whole numpy arrays of tiles.
"""

from __future__ import annotations

import numpy as np

from whereabouts.tracks.projection import to_projected, to_wgs84

MAX_LAT = 85.0511287798066  # Web Mercator's northern and southern edge
EARTH_CIRCUMFERENCE_M = 40_075_016.686
TILE_PX = 256  # the tile size zoom levels are defined for (512 px tiles cover the same area)


def tile_xy(lon: np.ndarray, lat: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray]:
    """Fractional tile coordinates of WGS84 points at zoom `z` (x east, y south)."""
    n = 2.0**z
    lat_r = np.radians(np.clip(np.asarray(lat, float), -MAX_LAT, MAX_LAT))
    x = (np.asarray(lon, float) + 180.0) / 360.0 * n
    y = (1.0 - np.log(np.tan(lat_r) + 1.0 / np.cos(lat_r)) / np.pi) / 2.0 * n
    return x, y


def tile_lonlat(x: np.ndarray, y: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (lon, lat) of fractional tile coordinates at zoom `z` (inverse of `tile_xy`)."""
    n = 2.0**z
    lon = np.asarray(x, float) / n * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * np.asarray(y, float) / n))))
    return lon, lat


def ground_resolution_m(lat: float, z: int) -> float:
    """Metres on the ground per pixel of a 256-pixel tile at latitude `lat`, zoom `z`."""
    return EARTH_CIRCUMFERENCE_M * float(np.cos(np.radians(lat))) / (TILE_PX * 2.0**z)


def zoom_for(metres_per_pixel: float, lat: float) -> int:
    """The lowest zoom whose tile pixels are no larger than `metres_per_pixel`."""
    if not np.isfinite(metres_per_pixel) or metres_per_pixel <= 0:
        return 0
    z = np.log2(EARTH_CIRCUMFERENCE_M * np.cos(np.radians(lat)) / (TILE_PX * metres_per_pixel))
    return int(np.clip(np.ceil(z - 1e-9), 0, 24))


def extent_lonlat(
    extent: tuple[float, float, float, float], crs: str
) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) degrees around a grid extent (x0, x1, y0, y1), or None.

    The extent's edges are sampled (a projected rectangle's edges are curves in degrees);
    None when the extent does not project (outside the CRS's domain).
    """
    x0, x1, y0, y1 = extent
    s = np.linspace(0.0, 1.0, 17)
    xs = np.concatenate([x0 + (x1 - x0) * s, np.full(17, x1), x0 + (x1 - x0) * s, np.full(17, x0)])
    ys = np.concatenate([np.full(17, y0), y0 + (y1 - y0) * s, np.full(17, y1), y0 + (y1 - y0) * s])
    lat, lon = to_wgs84(xs, ys, crs)
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        return None
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def tiles_covering(
    bounds: tuple[float, float, float, float], z: int
) -> tuple[np.ndarray, np.ndarray]:
    """Tile columns and rows (flattened grids) at zoom `z` that cover WGS84 `bounds`."""
    west, south, east, north = bounds
    xs, ys = tile_xy(np.array([west, east]), np.array([north, south]), z)
    n = 2**z
    x_lo, x_hi = (int(np.clip(np.floor(v), 0, n - 1)) for v in xs)
    y_lo, y_hi = (int(np.clip(np.floor(v), 0, n - 1)) for v in ys)
    gx, gy = np.meshgrid(np.arange(x_lo, x_hi + 1), np.arange(y_lo, y_hi + 1))
    return gx.ravel().astype(np.int64), gy.ravel().astype(np.int64)


def _grid(samples: int) -> tuple[np.ndarray, np.ndarray]:
    s = np.linspace(0.0, 1.0, samples)
    u, v = np.meshgrid(s, s)
    return u.ravel(), v.ravel()


def _projected_grid(
    z: int, tx: np.ndarray, ty: np.ndarray, crs: str, u: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Grid (x, y), shape (tiles, points), of unit-square points (u, v) of every tile."""
    lon, lat = tile_lonlat(
        np.asarray(tx, float)[:, None] + u, np.asarray(ty, float)[:, None] + v, z
    )
    x, y = to_projected(lat.ravel(), lon.ravel(), crs)
    return x.reshape(lon.shape), y.reshape(lon.shape)


def tile_affines(z: int, tx: np.ndarray, ty: np.ndarray, crs: str, samples: int = 5) -> np.ndarray:
    """(N, 6) affine matrices [a, b, c, d, e, f] mapping each tile's unit square to `crs`.

    A least-squares fit to `samples` × `samples` points across the tile, corners included
    (one solve for every tile at once). A fit through three corners alone leaves the fourth
    corner carrying all the curvature: about four times the largest error of this one.
    """
    u, v = _grid(samples)
    x, y = _projected_grid(z, tx, ty, crs, u, v)
    pinv = np.linalg.pinv(np.column_stack([u, v, np.ones_like(u)]))  # (3, points)
    ax, cx, ex = (x @ pinv.T).T
    by, dy, fy = (y @ pinv.T).T
    return np.column_stack([ax, by, cx, dy, ex, fy])


def apply_affine(m: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid (x, y) of unit-square points (u, v) under affines `m` (broadcast per tile row)."""
    m = np.atleast_2d(m)
    a, b, c, d, e, f = (m[:, i : i + 1] for i in range(6))
    return a * u + c * v + e, b * u + d * v + f


def affine_residual_m(
    z: int, tx: np.ndarray, ty: np.ndarray, crs: str, samples: int = 17
) -> np.ndarray:
    """Per tile, the largest distance (metres) between the affine and the true projection.

    Measured on a `samples` × `samples` grid of points across each tile, corners included
    (a finer grid than the fit's).
    """
    m = tile_affines(z, tx, ty, crs)
    u, v = _grid(samples)
    x, y = _projected_grid(z, tx, ty, crs, u, v)
    ax, ay = apply_affine(m, u, v)
    return np.asarray(np.hypot(ax - x, ay - y).max(axis=1), float)


__all__ = [
    "MAX_LAT",
    "TILE_PX",
    "affine_residual_m",
    "apply_affine",
    "extent_lonlat",
    "ground_resolution_m",
    "tile_affines",
    "tile_lonlat",
    "tile_xy",
    "tiles_covering",
    "zoom_for",
]
