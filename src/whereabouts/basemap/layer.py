"""Which basemap tiles a map needs, where each goes, and what to say when there are none.

    view = plan_tiles(source.info, (x0, x1, y0, y1), "EPSG:27700", width_px=1000)
    tiles = load_tiles(source, view)        # [(PlacedTile, bytes), ...] and view.notice

The zoom follows the map's scale (tile pixels no larger than the map's); a map outside the
tileset's bounds or zoom range gets no tiles and a notice saying why, never an error, so
the report is still written. The basemap is context only: it is not evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from whereabouts.basemap.mercator import extent_lonlat, tile_affines, tiles_covering, zoom_for
from whereabouts.basemap.sources import TilesetInfo, TileSource, sniff

MAX_TILES = 64  # per map: more means the map's scale is far coarser than the tileset's


@dataclass(frozen=True)
class PlacedTile:
    """One tile and the affine [a, b, c, d, e, f] from its unit square to grid metres."""

    z: int
    x: int
    y: int
    matrix: tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class TileView:
    """The tiles for one map extent, the zoom chosen, and a notice when some are missing."""

    zoom: int | None
    tiles: tuple[PlacedTile, ...]
    notice: str
    attribution: str


def attribution_text(info: TilesetInfo) -> str:
    """The line printed on each map: the tileset's attribution, and that it is not evidence."""
    credit = info.attribution or info.name
    return f"Basemap: {credit}. Context only, not evidence."


def plan_tiles(
    info: TilesetInfo,
    extent: tuple[float, float, float, float],
    crs: str,
    width_px: float,
    *,
    max_tiles: int = MAX_TILES,
) -> TileView:
    """The tiles covering `extent` (x0, x1, y0, y1 grid metres) at the map's scale."""
    credit = attribution_text(info)
    ll = extent_lonlat(extent, crs)
    if ll is None:
        return TileView(
            None,
            (),
            "Basemap not drawn: this map's area cannot be placed on the basemap's projection.",
            credit,
        )
    west, south, east, north = info.bounds
    cover = (max(ll[0], west), max(ll[1], south), min(ll[2], east), min(ll[3], north))
    if cover[0] >= cover[2] or cover[1] >= cover[3]:
        return TileView(
            None, (), "Basemap not drawn: the basemap does not cover this area.", credit
        )
    x0, x1 = extent[0], extent[1]
    wanted = zoom_for((x1 - x0) / max(width_px, 1.0), (ll[1] + ll[3]) / 2)
    z = int(np.clip(wanted, info.minzoom, info.maxzoom))
    tx, ty = tiles_covering(cover, z)
    while len(tx) > max_tiles and z > info.minzoom:
        z -= 1
        tx, ty = tiles_covering(cover, z)
    if len(tx) > max_tiles:
        return TileView(
            None,
            (),
            f"Basemap not drawn: this map's scale is outside the "
            f"basemap's zoom levels ({info.minzoom} to {info.maxzoom}).",
            credit,
        )
    notice = ""
    if wanted > info.maxzoom + 1:
        notice = (
            f"Basemap enlarged from its most detailed zoom level ({info.maxzoom}): it "
            "is less sharp than the map."
        )
    partial = cover != ll
    if partial and not notice:
        notice = "The basemap covers only part of this map."
    m = tile_affines(z, tx, ty, crs)
    tiles = tuple(
        PlacedTile(
            z,
            int(a),
            int(b),
            (float(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5])),
        )
        for a, b, r in zip(tx, ty, m, strict=True)
    )
    return TileView(z, tiles, notice, credit)


def load_tiles(
    source: TileSource, view: TileView
) -> tuple[list[tuple[PlacedTile, bytes]], TileView]:
    """Each planned tile's bytes (raster only); the view's notice updated for missing ones."""
    out: list[tuple[PlacedTile, bytes]] = []
    prefetch = getattr(source, "prefetch", None)
    if prefetch is not None:  # a tile server: fetch the map's tiles concurrently first
        prefetch([(t.z, t.x, t.y) for t in view.tiles])
    for t in view.tiles:
        data = source.tile(t.z, t.x, t.y)
        if data is not None and sniff(data) in ("png", "jpg", "webp"):
            out.append((t, data))
    if view.tiles and not out:
        return out, replace(
            view, notice="Basemap not drawn: the basemap has no tiles for this area at this scale."
        )
    if len(out) < len(view.tiles) and not view.notice:
        return out, replace(view, notice="The basemap covers only part of this map.")
    return out, view


__all__ = ["MAX_TILES", "PlacedTile", "TileView", "attribution_text", "load_tiles", "plan_tiles"]
