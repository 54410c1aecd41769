"""Optional raster basemaps under the maps: local MBTiles/PMTiles or a force's tile server.

Maps are drawn from the data by default; a basemap is context only, never evidence.
`sources` opens a tileset, `mercator` places Web Mercator tiles on the workspace's grid,
`layer` picks the tiles for a map and says on the map when there are none.
"""

from whereabouts.basemap.layer import (
    MAX_TILES,
    PlacedTile,
    TileView,
    attribution_text,
    load_tiles,
    plan_tiles,
)
from whereabouts.basemap.mercator import affine_residual_m, tile_affines, tiles_covering, zoom_for
from whereabouts.basemap.sources import (
    RASTER,
    BasemapError,
    BasemapUnavailable,
    MBTiles,
    PMTiles,
    TileServer,
    TilesetInfo,
    TileSource,
    open_basemap,
    sniff,
)

__all__ = [
    "MAX_TILES",
    "RASTER",
    "BasemapError",
    "BasemapUnavailable",
    "MBTiles",
    "PMTiles",
    "PlacedTile",
    "TileServer",
    "TileSource",
    "TileView",
    "TilesetInfo",
    "affine_residual_m",
    "attribution_text",
    "load_tiles",
    "open_basemap",
    "plan_tiles",
    "sniff",
    "tile_affines",
    "tiles_covering",
    "zoom_for",
]
