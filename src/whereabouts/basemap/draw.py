"""Basemap tiles drawn under a matplotlib map in grid metres, one SVG <image> per tile.

Each tile is an `imshow` of its pixels over the unit square under its own affine
(`mercator.tile_affines`) with interpolation "none": matplotlib's SVG backend then writes
the tile unresampled as an <image> with a `transform="matrix(…)"`, PNG-encoded as a data:
URI, so the report stays self-contained and byte-identical, and WeasyPrint draws it in the
PDF. The attribution (and any notice, e.g. "does not cover this area") is printed on the map.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import Affine2D
from PIL import Image, UnidentifiedImageError

from whereabouts.basemap.layer import TileView, load_tiles, plan_tiles
from whereabouts.basemap.sources import RASTER, TileSource, sniff

PRINT_PPI = 150  # tile pixels per inch of the printed map: sharp on paper, modest in size
SEAM = 0.5 / 256  # each tile overlaps its neighbours by half a pixel so no hairline shows


@dataclass
class BasemapLayer:
    """A tile source with the tiles already decoded for this report, and their fingerprints."""

    source: TileSource
    used: dict[tuple[int, int, int], str] = field(default_factory=dict)
    _images: dict[tuple[int, int, int], np.ndarray | None] = field(default_factory=dict, repr=False)
    _originals: dict[str, bytes] = field(default_factory=dict, repr=False)  # by SVG id
    notices: int = 0

    def image(self, key: tuple[int, int, int], data: bytes) -> np.ndarray | None:
        """The tile as an RGBA array (decoded once), or None when it is not a readable image."""
        if key not in self._images:
            try:
                with Image.open(io.BytesIO(data)) as im:
                    self._images[key] = np.asarray(im.convert("RGBA"))
            except (UnidentifiedImageError, OSError, ValueError):
                self._images[key] = None
            else:
                self.used[key] = hashlib.sha256(data).hexdigest()
        return self._images[key]

    def fingerprints(self) -> list[tuple[str, str]]:
        """('z/x/y', SHA-256) of every tile drawn in the report, in tile order."""
        return [(f"{z}/{x}/{y}", h) for (z, x, y), h in sorted(self.used.items())]


def draw_basemap(
    ax: Axes, layer: BasemapLayer, extent: tuple[float, float, float, float], crs: str
) -> TileView:
    """Draw the tiles covering `extent` (x0, x1, y0, y1) under everything else on `ax`."""
    fig = ax.figure
    width_in = ax.get_position().width * (fig.get_figwidth() if isinstance(fig, Figure) else 7.0)
    view = plan_tiles(layer.source.info, extent, crs, width_in * PRINT_PPI)
    tiles, view = load_tiles(layer.source, view)
    drawn = 0
    for t, data in tiles:
        rgba = layer.image((t.z, t.x, t.y), data)
        if rgba is None:
            continue
        a, b, c, d, e, f = t.matrix
        image = ax.imshow(
            rgba,
            extent=(-SEAM, 1 + SEAM, 1 + SEAM, -SEAM),
            interpolation="none",
            transform=Affine2D.from_values(a, b, c, d, e, f) + ax.transData,
            zorder=0.2,
            aspect="auto",
        )
        gid = f"basemap-{t.z}-{t.x}-{t.y}"
        image.set_gid(gid)
        layer._originals[gid] = data
        drawn += 1
    notice = view.notice
    if tiles and not drawn:
        notice = "Basemap not drawn: its tiles for this area are not readable images."
    if notice:
        layer.notices += 1
    text = f"{notice} {view.attribution}" if notice else view.attribution
    ax.text(
        0.995,
        0.005,
        text,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=5,
        color="#333333",
        zorder=8,
        wrap=False,
        bbox={"boxstyle": "square,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
    )
    return view


_SVG_IMAGE = re.compile(
    r'<image xlink:href="data:image/png;base64,([^"]*)" id="(basemap-\d+-\d+-\d+)" '
    r'width="(\d+)" height="(\d+)"'
)


def embed_originals(uri: str, layer: BasemapLayer) -> str:
    """An SVG data URI with each whole tile's own bytes in place of matplotlib's PNG of it.

    Matplotlib writes every image as PNG: a JPEG photo tile grows several times over. A tile
    drawn whole (its <image> as large as the tile) is swapped for the tile's original bytes,
    pixel for pixel the same image; a tile cut by the map's edge keeps matplotlib's crop.
    """
    head, _, body = uri.partition(",")
    if not layer._originals or not head.startswith("data:image/svg+xml;base64"):
        return uri
    svg = base64.b64decode(body).decode("utf-8")

    def swap(m: re.Match[str]) -> str:
        data = layer._originals.get(m.group(2))
        rgba = None if data is None else layer._images.get(_key(m.group(2)))
        kind = sniff(data) if data is not None else None
        if (
            rgba is None
            or kind not in RASTER
            or (int(m.group(3)), int(m.group(4))) != (rgba.shape[1], rgba.shape[0])
        ):
            return m.group(0)
        inline = base64.b64encode(data).decode("ascii")  # type: ignore[arg-type]
        return (
            f'<image xlink:href="data:{RASTER[kind]};base64,{inline}" id="{m.group(2)}" '
            f'width="{m.group(3)}" height="{m.group(4)}"'
        )

    out = _SVG_IMAGE.sub(swap, svg)
    return f"{head},{base64.b64encode(out.encode('utf-8')).decode('ascii')}"


def _key(gid: str) -> tuple[int, int, int]:
    z, x, y = (int(v) for v in gid.split("-")[1:])
    return z, x, y


__all__ = ["PRINT_PPI", "BasemapLayer", "draw_basemap", "embed_originals"]
