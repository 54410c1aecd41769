"""The map under the tracks, drawn from the workspace's map layers in a cartographic style:
green space and water, buildings, railways, roads by class (cased, the major ones wider
and coloured) with their names along them, and house numbers near the point of interest.
Every label goes through `placement.place_labels`, so none overlaps another or a marker.

    layers = MapLayers.from_tables(workspace_tables)      # once per report
    labeller = Labeller(ax)
    draw_layers(ax, layers, extent, labeller)              # under the tracks
    ... tracks, places (labeller.add_point(...)) ...
    labeller.finish()                                      # every label, none overlapping

The map is context: the evidence is the tracks and the occasion's facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.path import Path as MplPath
from matplotlib.text import Text

from whereabouts.report.placement import (
    Label,
    place_labels,
    point_boxes,
    rotated_box,
    text_size,
)
from whereabouts.vocabulary import ROAD_CLASS, road_class

# class → (casing colour, fill colour, fill width in points, z-order)
ROAD_STYLE: dict[str, tuple[str, str, float, float]] = {
    "major": ("#8c6d5a", "#f2a46f", 3.2, 1.6),
    "secondary": ("#8c7d5a", "#fbd48a", 2.6, 1.5),
    "minor": ("#9a9a9a", "#ffffff", 2.0, 1.4),
    "path": ("", "#9c9c9c", 0.6, 1.3),
}
GREEN, WATER, WATER_LINE = "#cfe6bf", "#aad3df", "#7fb3cc"
BUILDING, BUILDING_EDGE, RAIL = "#ddd5cc", "#b5a899", "#6f6f6f"
BUILT_UP = "#ebe3da"  # towns on a map too wide for single buildings
BUILT_UP_M = 40.0  # the grid cell of built-up areas (buildings within it)
DETAIL_M = 6000.0  # maps narrower than this show buildings, minor roads and their names
HOUSE_NUMBERS_M = 160.0  # house numbers shown this close to the point of interest


@dataclass(frozen=True)
class MapLayers:
    """The workspace's map layers as shapely arrays in the workspace CRS (metres)."""

    roads: np.ndarray
    road_text: np.ndarray  # the road's name, else its number; None when it has neither
    road_class: np.ndarray
    buildings: np.ndarray
    water: np.ndarray
    green: np.ndarray
    rail: np.ndarray
    addr_x: np.ndarray
    addr_y: np.ndarray
    addr_number: np.ndarray  # the house number (the address's first word), for the map
    _trees: dict[str, shapely.STRtree] = field(default_factory=dict, repr=False, compare=False)
    _cache: dict[str, shapely.Geometry] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_tables(cls, tables: dict[str, pa.Table]) -> MapLayers | None:
        """From the workspace tables roads, buildings, water, green, rail, addresses;
        None when none of them has a row."""
        if not any(t.num_rows for t in tables.values()):
            return None

        def geoms(name: str) -> np.ndarray:
            t = tables.get(name)
            if t is None or not t.num_rows:
                return np.empty(0, dtype=object)
            result: np.ndarray = shapely.from_wkb(t["geometry_wkb"].to_numpy(zero_copy_only=False))
            return result

        roads = tables.get("roads")
        if roads is not None and roads.num_rows:
            names = roads["name"].to_pylist()
            refs = roads["ref"].to_pylist()
            text = np.array([n or r for n, r in zip(names, refs, strict=True)], dtype=object)
            cls_ = np.array(
                [road_class(k, r) for k, r in zip(roads["kind"].to_pylist(), refs, strict=True)],
                dtype=object,
            )
        else:
            text = np.empty(0, dtype=object)
            cls_ = np.empty(0, dtype=object)
        addr = tables.get("addresses")
        if addr is not None and addr.num_rows:
            ax = np.asarray(addr["x"].to_numpy(), float)
            ay = np.asarray(addr["y"].to_numpy(), float)
            number = np.array(
                [str(a).split(" ")[0].rstrip(",") for a in addr["address"].to_pylist()],
                dtype=object,
            )
        else:
            ax = ay = np.empty(0)
            number = np.empty(0, dtype=object)
        return cls(
            geoms("roads"),
            text,
            cls_,
            geoms("buildings"),
            geoms("water"),
            geoms("green"),
            geoms("rail"),
            ax,
            ay,
            number,
        )

    def built_up(self) -> shapely.Geometry:
        """The built-up areas: the BUILT_UP_M grid cells holding a building, merged and
        smoothed (computed once; a coverage union of squares is fast for any town)."""
        if "built_up" not in self._cache:
            c = shapely.get_coordinates(shapely.centroid(self.buildings))
            cells = np.unique(np.floor(c / BUILT_UP_M).astype(np.int64), axis=0)
            boxes = shapely.box(
                cells[:, 0] * BUILT_UP_M,
                cells[:, 1] * BUILT_UP_M,
                (cells[:, 0] + 1) * BUILT_UP_M,
                (cells[:, 1] + 1) * BUILT_UP_M,
            )
            merged = shapely.coverage_union_all(boxes)
            self._cache["built_up"] = shapely.simplify(
                shapely.buffer(merged, BUILT_UP_M / 2, quad_segs=2), BUILT_UP_M / 3
            )
        return self._cache["built_up"]

    def within(self, name: str, ext: tuple[float, float, float, float]) -> np.ndarray:
        """Indices of layer `name`'s features that reach into the extent (x0, x1, y0, y1)."""
        arr: np.ndarray = getattr(self, name)
        if not len(arr):
            return np.empty(0, np.int64)
        if name not in self._trees:
            self._trees[name] = shapely.STRtree(arr)
        x0, x1, y0, y1 = ext
        return np.sort(self._trees[name].query(shapely.box(x0, y0, x1, y1)))


def _polygons(
    ax: Axes, geoms: np.ndarray, *, fc: str, ec: str = "none", lw: float = 0.0, z: float
) -> None:
    """(Multi)polygons, holes included, as one collection (one SVG group)."""
    polys = shapely.get_parts(geoms[np.isin(shapely.get_type_id(geoms), [3, 6])])
    if not len(polys):
        return
    paths = []
    for p in polys:  # a loop per polygon in view (hundreds): matplotlib wants paths
        rings = [np.asarray(p.exterior.coords)] + [np.asarray(r.coords) for r in p.interiors]
        verts = np.concatenate(rings)
        codes = np.concatenate(
            [
                [MplPath.MOVETO] + [MplPath.LINETO] * (len(r) - 2) + [MplPath.CLOSEPOLY]
                for r in rings
            ]
        )
        paths.append(MplPath(verts, codes))
    ax.add_collection(PathCollection(paths, facecolors=fc, edgecolors=ec, linewidths=lw, zorder=z))


def _lines(geoms: np.ndarray) -> list[np.ndarray]:
    lines = shapely.get_parts(geoms[np.isin(shapely.get_type_id(geoms), [1, 2, 5])])
    if not len(lines):
        return []
    coords, index = shapely.get_coordinates(lines, return_index=True)
    cuts = np.flatnonzero(np.diff(index)) + 1
    return [c for c in np.split(coords, cuts) if len(c) > 1]


class Labeller:
    """Collects a map's labels while it is drawn and places them all at the end."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        self.labels: list[Label] = []
        self.obstacles: list[shapely.Geometry] = []
        self.placed: list[Text] = []
        self.left_out: list[str] = []

    def _px(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.ax.apply_aspect()
        return np.asarray(self.ax.transData.transform(np.column_stack([x, y])))

    @property
    def _pt(self) -> float:
        """Display pixels per point."""
        return float(self.ax.figure.dpi) / 72.0

    def block(self, x: np.ndarray, y: np.ndarray, size_pt: float) -> None:
        """Markers at (x, y) data metres, `size_pt` across: no label may cover them."""
        half = size_pt * self._pt / 2
        for px, py in self._px(np.atleast_1d(x), np.atleast_1d(y)):
            self.obstacles.append(shapely.box(px - half, py - half, px + half, py + half))

    def block_axes_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """A part of the map (axes fraction) kept clear: the scale bar, the north arrow."""
        corners = self.ax.transAxes.transform([[x0, y0], [x1, y1]])
        self.obstacles.append(shapely.box(*corners[0], *corners[1]))

    def add_point(
        self,
        x: float,
        y: float,
        text: str,
        *,
        priority: int,
        fontsize: float,
        color: str,
        weight: str = "normal",
        marker_pt: float = 6.0,
        rings: int = 1,
    ) -> None:
        """A label beside a point (a place, an occasion's number), in the first clear spot."""
        ((px, py),) = self._px(np.array([x]), np.array([y]))
        w, h = (v * self._pt for v in text_size(text, fontsize, weight=weight))
        boxes = []
        for r in range(rings):
            boxes += point_boxes(px, py, w, h, gap=(marker_pt / 2 + 1.5 + 7 * r) * self._pt)
        self.labels.append(
            Label(
                text,
                priority,
                boxes,
                {"fontsize": fontsize, "color": color, "weight": weight, "angle": 0.0},
            )
        )

    def add_line(
        self,
        line: np.ndarray,
        text: str,
        *,
        priority: int,
        fontsize: float,
        color: str,
        style: str = "normal",
    ) -> None:
        """A name along a line: centred on its longest straight stretch in view, turned to
        follow it (kept upright), when the stretch is long enough to hold it."""
        p = self._px(line[:, 0], line[:, 1])
        seg = np.diff(p, axis=0)
        length = np.hypot(seg[:, 0], seg[:, 1])
        if not len(length):
            return
        w, h = (v * self._pt for v in text_size(text, fontsize))
        order = np.argsort(-length, kind="stable")[:3]
        boxes = []
        for k in order.tolist():
            if length[k] < w + 6 * self._pt:
                break
            angle = float(np.degrees(np.arctan2(seg[k, 1], seg[k, 0])))
            if angle > 90:
                angle -= 180
            elif angle <= -90:
                angle += 180
            for f in (0.5, 0.3, 0.7):
                c = p[k] + seg[k] * f
                half = (w / 2 + 2 * self._pt) / length[k]
                if f - half < 0 or f + half > 1:
                    continue
                boxes.append(rotated_box(float(c[0]), float(c[1]), w, h, angle))
        if boxes:
            self.labels.append(
                Label(
                    text,
                    priority,
                    boxes,
                    {
                        "fontsize": fontsize,
                        "color": color,
                        "weight": "normal",
                        "style": style,
                        "angles": [_angle(b) for b in boxes],
                    },
                )
            )

    def finish(self) -> list[Text]:
        """Place every label collected (none overlapping) and draw those that fit."""
        bbox = self.ax.get_window_extent()
        chosen = place_labels(
            self.labels, obstacles=self.obstacles, frame=(bbox.x0, bbox.y0, bbox.x1, bbox.y1)
        )
        inv = self.ax.transData.inverted()
        done = {id(lab) for lab, _ in chosen}
        self.left_out = [lab.text for lab in self.labels if id(lab) not in done]
        for lab, k in chosen:
            box = lab.boxes[k]
            c = box.centroid
            x, y = inv.transform((c.x, c.y))
            info: dict[str, Any] = lab.payload  # type: ignore[assignment]
            angle = info["angles"][k] if "angles" in info else 0.0
            t = self.ax.text(
                x,
                y,
                lab.text,
                fontsize=info["fontsize"],
                color=info["color"],
                weight=info["weight"],
                style=info.get("style", "normal"),
                rotation=angle,
                rotation_mode="anchor",
                ha="center",
                va="center",
                zorder=8,
                clip_on=True,
            )
            t.set_gid("map-label")
            self.placed.append(t)
        return self.placed


def _angle(box: shapely.Polygon) -> float:
    """The turn of a rotated label box (from its first edge)."""
    (x0, y0), (x1, y1) = list(box.exterior.coords)[:2]
    return float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))


def draw_layers(
    ax: Axes,
    layers: MapLayers,
    ext: tuple[float, float, float, float],
    labeller: Labeller,
    *,
    focus: tuple[float, float] | None = None,
) -> None:
    """Green space, water, buildings, rail and roads in the extent, and their names.

    `focus` (a meeting point) adds the house numbers of addresses near it.
    """
    width = ext[1] - ext[0]
    detail = width <= DETAIL_M
    g = layers.within("green", ext)
    _polygons(ax, layers.green[g], fc=GREEN, z=0.8)
    w = layers.within("water", ext)
    _polygons(ax, layers.water[w], fc=WATER, z=0.9)
    rivers = _lines(layers.water[w])
    if rivers:
        ax.add_collection(LineCollection(rivers, colors=WATER_LINE, linewidths=1.4, zorder=0.95))
    if detail:
        b = layers.within("buildings", ext)
        _polygons(ax, layers.buildings[b], fc=BUILDING, ec=BUILDING_EDGE, lw=0.25, z=1.1)
    r = layers.within("rail", ext)
    rail = _lines(layers.rail[r])
    if rail:
        ax.add_collection(LineCollection(rail, colors=RAIL, linewidths=1.6, zorder=1.2))
        ax.add_collection(
            LineCollection(
                rail, colors="white", linewidths=0.8, linestyles=(0, (4, 4)), zorder=1.25
            )
        )
    if not detail and len(layers.buildings):  # towns as built-up areas, not single houses
        _polygons(ax, np.array([layers.built_up()]), fc=BUILT_UP, z=1.1)
    idx = layers.within("roads", ext)
    classes = layers.road_class[idx] if len(idx) else np.empty(0, dtype=object)
    shown = ["major", "secondary"] + (["minor", "path"] if detail else [])
    if not detail:  # the lanes and streets as thin lines under the main roads
        thin = _lines(layers.roads[idx[classes == "minor"]])
        if thin:
            ax.add_collection(LineCollection(thin, colors="#a6a6a6", linewidths=0.5, zorder=1.3))
    for cls in reversed(shown):  # minor roads first, so the major ones cross over them
        sel = idx[classes == cls]
        lines = _lines(layers.roads[sel])
        if not lines:
            continue
        casing, fill, lw, z = ROAD_STYLE[cls]
        if casing:
            ax.add_collection(
                LineCollection(
                    lines, colors=casing, linewidths=lw + 1.1, zorder=z - 0.05, capstyle="round"
                )
            )
        ax.add_collection(
            LineCollection(
                lines,
                colors=fill,
                linewidths=lw,
                zorder=z,
                capstyle="round",
                linestyles="solid" if cls != "path" else (0, (2, 1.5)),
            )
        )
    _road_names(layers, idx, shown, ext, labeller)
    if focus is not None:
        _house_numbers(layers, focus, labeller)


def _road_names(
    layers: MapLayers,
    idx: np.ndarray,
    shown: list[str],
    ext: tuple[float, float, float, float],
    labeller: Labeller,
) -> None:
    """One label per road name on the map, on its longest stretch in view."""
    box = shapely.box(ext[0], ext[2], ext[1], ext[3])
    best: dict[str, tuple[float, np.ndarray, str]] = {}
    for i in idx.tolist():  # a loop per road in view (tens to hundreds)
        text, cls = layers.road_text[i], layers.road_class[i]
        if not text or cls not in shown or cls == "path":
            continue
        for part in _lines(np.array([shapely.intersection(layers.roads[i], box)])):
            length = float(np.hypot(*np.diff(part, axis=0).T).max())
            if length > best.get(text, (0.0, part, cls))[0]:
                best[text] = (length, part, cls)
    rank = {"major": 2, "secondary": 3, "minor": 4}
    for text, (_, part, cls) in sorted(best.items()):
        labeller.add_line(
            part,
            text,
            priority=rank[cls],
            fontsize=6.0 if cls != "minor" else 5.5,
            color="#333333",
            style="italic" if cls == "minor" else "normal",
        )


def _house_numbers(layers: MapLayers, focus: tuple[float, float], labeller: Labeller) -> None:
    """The house numbers of the addresses nearest the meeting point."""
    if not len(layers.addr_x):
        return
    fx, fy = focus
    d = np.hypot(layers.addr_x - fx, layers.addr_y - fy)
    near = np.flatnonzero(d <= HOUSE_NUMBERS_M)
    near = near[np.argsort(d[near], kind="stable")][:24]
    for i in near.tolist():
        labeller.add_point(
            float(layers.addr_x[i]),
            float(layers.addr_y[i]),
            str(layers.addr_number[i]),
            priority=6,
            fontsize=4.5,
            color="#6b5d50",
            marker_pt=0.0,
        )


__all__ = [
    "DETAIL_M",
    "ROAD_CLASS",
    "ROAD_STYLE",
    "Labeller",
    "MapLayers",
    "draw_layers",
    "road_class",
]
