"""Label placement: every label that is drawn is clear of every other and of the map's
markers; a label with no clear position is left out, never drawn over another.

    chosen = place_labels([Label("High Street", priority=0, boxes=[box1, box2])],
                          obstacles=[marker_box], frame=(0, 0, 500, 300))

Boxes are shapely polygons in display points (a road name along a street is a rotated
rectangle). Labels are taken in priority order (lower first, then input order); each gets
the first of its candidate boxes that lies inside the frame and touches nothing placed
before it and no obstacle. Greedy, as cartographic label engines' first pass is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath

PAD_PT = 1.5  # clear space kept around every label


@dataclass(frozen=True)
class Label:
    """A label to place: its text, priority (0 first) and candidate boxes (best first)."""

    text: str
    priority: int
    boxes: list[shapely.Polygon] = field(repr=False)
    payload: object = field(default=None, repr=False)  # what the caller needs to draw it


def place_labels(
    labels: list[Label],
    *,
    obstacles: list[shapely.Geometry] | None = None,
    frame: tuple[float, float, float, float] | None = None,
) -> list[tuple[Label, int]]:
    """(label, index of the candidate box chosen) for every label that fits."""
    taken: list[shapely.Geometry] = [shapely.buffer(o, PAD_PT / 2) for o in obstacles or []]
    area = shapely.box(*frame) if frame is not None else None
    order = sorted(range(len(labels)), key=lambda i: (labels[i].priority, i))
    out: list[tuple[Label, int]] = []
    for i in order:  # a loop per label (tens on a map), each test vectorised over those taken
        lab = labels[i]
        placed = np.array(taken, dtype=object)
        for k, b in enumerate(lab.boxes):
            if area is not None and not area.contains(b):
                continue
            grown = shapely.buffer(b, PAD_PT / 2, join_style="mitre")
            if len(placed) and shapely.intersects(placed, grown).any():
                continue
            taken.append(grown)
            out.append((lab, k))
            break
    return out


def text_size(text: str, fontsize: float, *, weight: str = "normal") -> tuple[float, float]:
    """Width and height in points of `text` set at `fontsize` (matplotlib's own metrics)."""
    path = TextPath(
        (0, 0), text, size=fontsize, prop=FontProperties(family="DejaVu Sans", weight=weight)
    )
    ext = path.get_extents()
    return float(ext.width), float(max(ext.height, fontsize * 0.75))


def rotated_box(
    cx: float, cy: float, width: float, height: float, angle_deg: float
) -> shapely.Polygon:
    """A width × height rectangle centred on (cx, cy), turned by `angle_deg`."""
    a = np.radians(angle_deg)
    ux, uy = np.cos(a), np.sin(a)
    vx, vy = -uy, ux
    hw, hh = width / 2, height / 2
    pts = [
        (cx + sx * hw * ux + sy * hh * vx, cy + sx * hw * uy + sy * hh * vy)
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    return shapely.Polygon(pts)


def point_boxes(
    x: float, y: float, width: float, height: float, gap: float = 3.0
) -> list[shapely.Polygon]:
    """Candidate boxes around a point marker: right, left, above, below, then diagonals."""
    w, h = width, height
    spots = [
        (x + gap, y - h / 2),
        (x - gap - w, y - h / 2),
        (x - w / 2, y + gap),
        (x - w / 2, y - gap - h),
        (x + gap, y + gap),
        (x - gap - w, y + gap),
        (x + gap, y - gap - h),
        (x - gap - w, y - gap - h),
    ]
    return [shapely.box(a, b, a + w, b + h) for a, b in spots]


__all__ = ["PAD_PT", "Label", "place_labels", "point_boxes", "rotated_box", "text_size"]
