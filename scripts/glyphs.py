"""Make the street map's glyphs: MapLibre's signed-distance-field glyph ranges (PBF) from
DejaVu Sans, the font matplotlib ships (mpl-data/fonts/ttf, licence LICENSE_DEJAVU).

    .venv/bin/python scripts/glyphs.py src/whereabouts/web/static/glyphs

Run once, offline; the output is vendored (the app never fetches fonts). Each glyph is drawn
8 times too large with Pillow's FreeType, and every pixel of its 24 px bitmap (3 px margin)
gets its distance to the drawn outline (inside positive), coded as MapLibre reads it:
255 - 255 * (distance / 8 + 0.25), so the outline is at 191 (as node-fontnik and TinySDF).
The file is the `glyphs` message of MapLibre's glyphs.proto, written field by field.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import matplotlib
import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

SIZE, BUFFER, RADIUS, CUTOFF, SUPER = 24, 3, 8.0, 0.25, 8
STACK = "DejaVu Sans"  # the style's text-font
RANGES = (0, 256, 8192)  # Latin-1, Latin Extended-A/B (ŵ ŷ of Welsh), punctuation (– ’ …)
TOP_ADJUST = 27  # MapLibre's own glyphs: top = ascent above the baseline - 27


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: int | bytes, signed: bool = False) -> bytes:
    if isinstance(value, bytes):
        return _varint(number << 3 | 2) + _varint(len(value)) + value
    if signed:  # sint32: zigzag
        value = (value << 1) ^ (value >> 31)
    return _varint(number << 3) + _varint(value)


def _sdf(font: ImageFont.FreeTypeFont, ch: str) -> tuple[bytes, int, int, int, int, int]:
    """(bitmap, width, height, left, top, advance) of one glyph at SIZE px."""
    advance = round(font.getlength(ch) / SUPER)
    left, top, right, bottom = font.getbbox(ch, anchor="ls")  # y down, baseline at 0
    if right <= left or bottom <= top:
        return b"", 0, 0, 0, 0, advance
    gl, gt = int(np.floor(left / SUPER)), int(np.floor(top / SUPER))
    w, h = int(np.ceil(right / SUPER)) - gl, int(np.ceil(bottom / SUPER)) - gt
    pad = BUFFER + int(RADIUS)
    img = Image.new("L", ((w + 2 * pad) * SUPER, (h + 2 * pad) * SUPER), 0)
    ImageDraw.Draw(img).text(
        ((pad - gl) * SUPER, (pad - gt) * SUPER), ch, font=font, fill=255, anchor="ls"
    )
    ink = np.asarray(img) >= 128
    # the outline: ink pixels with a blank neighbour, and blank ones with an ink neighbour
    edge = np.zeros_like(ink)
    for axis in (0, 1):
        step = np.diff(ink.astype(np.int8), axis=axis) != 0
        if axis == 0:
            edge[:-1] |= step
            edge[1:] |= step
        else:
            edge[:, :-1] |= step
            edge[:, 1:] |= step
    iy, ix = np.nonzero(edge)
    ey, ex = (iy + 0.5) / SUPER, (ix + 0.5) / SUPER  # in SIZE-px units
    oy, ox = np.mgrid[0 : h + 2 * BUFFER, 0 : w + 2 * BUFFER] + 0.5
    oy, ox = oy + pad - BUFFER, ox + pad - BUFFER
    d = np.sqrt(np.min((ox.reshape(-1, 1) - ex) ** 2 + (oy.reshape(-1, 1) - ey) ** 2, axis=1))
    inside = ink[(oy.ravel() * SUPER).astype(int), (ox.ravel() * SUPER).astype(int)]
    signed = np.where(inside, -d, d)
    value = np.clip(np.round(255 - 255 * (signed / RADIUS + CUTOFF)), 0, 255).astype(np.uint8)
    return value.tobytes(), w, h, gl, -gt - TOP_ADJUST, advance


def main(out: Path) -> int:
    """Write the glyph ranges of DejaVu Sans (as matplotlib ships it) under `out`."""
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    path = fonts / "DejaVuSans.ttf"
    cmap = TTFont(path)["cmap"].getBestCmap()
    font = ImageFont.truetype(str(path), SIZE * SUPER, layout_engine=ImageFont.Layout.BASIC)
    folder = out / STACK
    folder.mkdir(parents=True, exist_ok=True)
    for start in RANGES:
        end = start + 255
        glyphs = b""
        for cp in range(start, end + 1):
            if cp not in cmap or cp < 32 or 0x7F <= cp < 0xA0:
                continue
            bitmap, w, h, left, top, advance = _sdf(font, chr(cp))
            glyph = (
                _field(1, cp)
                + (_field(2, bitmap) if bitmap else b"")
                + _field(3, w)
                + _field(4, h)
                + _field(5, left, True)
                + _field(6, top, True)
                + _field(7, advance)
            )
            glyphs += _field(3, glyph)
        stack = _field(1, STACK.encode()) + _field(2, f"{start}-{end}".encode()) + glyphs
        (folder / f"{start}-{end}.pbf").write_bytes(_field(1, stack))
    shutil.copy(fonts / "LICENSE_DEJAVU", out / "LICENSE_DEJAVU.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
