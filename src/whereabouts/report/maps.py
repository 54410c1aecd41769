"""Offline maps drawn from the data: tracks, meeting area, places, areas, optional roads.

No tile server by default: everything is drawn from the workspace (places, areas) and
optional local context (a roads GeoJSON; a raster basemap from `whereabouts.basemap`, a
local MBTiles/PMTiles file or a force's own tile server, drawn under everything as context
only). Coordinates are metres in the workspace CRS, so the map is to
scale; each map has a scale bar, a north arrow (grid north) and grid references.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrow, Rectangle

from whereabouts.basemap.draw import BasemapLayer, draw_basemap, embed_originals
from whereabouts.errors import InputError
from whereabouts.report.figures import SUBJECT_COLOURS, new_figure, style, to_data_uri
from whereabouts.report.labels import Labels
from whereabouts.tracks.projection import BNG, grid_reference, to_projected

UNEXPLAINED_FILL = (0.84, 0.37, 0.0, 0.15)
FOCUS_S = 5 * 60  # the occasion map frames the meeting and five minutes either side
FOCUS_M = 1000.0  # … and within this distance of the meeting point
MAX_PLACES = 15  # places drawn on one map, nearest its centre first
MARGIN_S = 30 * 60  # tracks are drawn from 30 minutes before to 30 minutes after
_PLACE_STYLE = {  # kind → (marker, colour, plain name)
    "police_station": ("s", "#1f3b73", "police station"),
    "custody": ("D", "#5b2c6f", "custody suite"),
    "hospital": ("P", "#b03a2e", "hospital"),
    "court": ("^", "#4d5656", "court"),
    "home": ("p", "#E69F00", "home"),
    "other": ("o", "#4d5656", "place"),
}


@dataclass(frozen=True)
class Context:
    """What every map draws under the tracks: areas, roads, places, incidents (numpy)."""

    area_lines: list[np.ndarray]
    road_lines: list[np.ndarray]
    place_x: np.ndarray
    place_y: np.ndarray
    place_r: np.ndarray
    place_kind: np.ndarray
    place_text: np.ndarray
    crs: str
    incident_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    incident_y: np.ndarray = field(default_factory=lambda: np.empty(0))
    incident_t: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    incident_p: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    basemap: BasemapLayer | None = None

    @classmethod
    def build(cls, places: pa.Table, areas: pa.Table, labels: Labels, crs: str,
              roads: list[np.ndarray] | None = None,
              incidents: pa.Table | None = None,
              basemap: BasemapLayer | None = None) -> Context:
        lines: list[np.ndarray] = []
        if areas.num_rows and "geometry_wkb" in areas.column_names:
            geoms = shapely.from_wkb(areas["geometry_wkb"].to_numpy(zero_copy_only=False))
            lines = _lines(shapely.boundary(geoms))
        if places.num_rows and "owner_officer_id" in places.column_names:
            # Only the subjects' homes: other officers' home addresses have no place here.
            owner = np.asarray(places["owner_officer_id"].to_pylist(), object)
            subject = np.isin(owner, list(labels.by_officer))
            places = places.filter(pa.array(
                (np.asarray(places["kind"].to_pylist(), object) != "home") | subject))
        n = places.num_rows
        kind = np.asarray(places["kind"].to_pylist() if n else [], dtype=object)
        names = places["name"].to_pylist() if n and "name" in places.column_names else [None] * n
        owners = (places["owner_officer_id"].to_pylist()
                  if n and "owner_officer_id" in places.column_names else [None] * n)
        # A home is shown only as whose home it is: never its name or address.
        text = [f"home of {labels.of(o)}" if k == "home" else (nm or _PLACE_STYLE.get(
            k, _PLACE_STYLE["other"])[2]) for k, nm, o in zip(kind, names, owners, strict=True)]
        radius = (np.nan_to_num(np.asarray(places["radius_m"].to_pylist(), float), nan=50.0)
                  if n and "radius_m" in places.column_names else np.full(n, 50.0))
        inc = incidents if incidents is not None and incidents.num_rows else None
        ctx = cls(lines, roads or [], _col(places, "x"), _col(places, "y"), radius, kind,
                  np.asarray(text, dtype=object), crs,
                  *((_col(inc, "x"), _col(inc, "y"),
                     inc["created_at"].cast(pa.int64()).to_numpy(),
                     np.nan_to_num(np.asarray(inc["priority"].to_pylist(), float), nan=0)
                     .astype(np.int64)) if inc is not None and "priority" in inc.column_names
                    else ()))
        return ctx if basemap is None else replace(ctx, basemap=basemap)


def _uri(fig: Figure, ctx: Context) -> str:
    """The map as an SVG data URI, its basemap tiles in their own format (e.g. JPEG)."""
    uri = to_data_uri(fig)
    return uri if ctx.basemap is None else embed_originals(uri, ctx.basemap)


def _col(t: pa.Table, name: str) -> np.ndarray:
    if not t.num_rows:
        return np.empty(0)
    return np.asarray(t[name].to_numpy(zero_copy_only=False), float)


def load_roads(path: Path, crs: str) -> list[np.ndarray]:
    """Lines (metres in `crs`) from a GeoJSON of LineString / MultiLineString / Polygon."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in data["features"]])
    except (OSError, ValueError, KeyError, TypeError, shapely.errors.GEOSException) as exc:
        raise InputError(f"cannot read the roads layer ({type(exc).__name__})", where=str(path),
                         hint="give a GeoJSON FeatureCollection of lines in WGS84") from exc
    polys = np.isin(shapely.get_type_id(geoms), [3, 6])  # Polygon, MultiPolygon
    geoms = np.where(polys, shapely.boundary(geoms), geoms)
    lonlat = _lines(geoms)
    if not lonlat:
        return []
    # Project every vertex at once, then cut the coordinates back into lines.
    allc = np.concatenate(lonlat)
    x, y = to_projected(allc[:, 1], allc[:, 0], crs)
    cuts = np.cumsum([len(line) for line in lonlat])[:-1]
    return [np.c_[a, b] for a, b in zip(np.split(x, cuts), np.split(y, cuts), strict=True)]


def _lines(geoms: np.ndarray) -> list[np.ndarray]:
    """The coordinates of every single line in an array of (multi)line geometries."""
    parts = shapely.get_parts(geoms)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    cuts = np.flatnonzero(np.diff(index)) + 1
    return [c for c in np.split(coords, cuts) if len(c) > 1]


def _nice(length: float) -> float:
    steps = np.array([1, 2, 5])
    mag = 10 ** np.floor(np.log10(max(length, 1.0)))
    cands = np.concatenate([steps * mag / 10, steps * mag, steps * mag * 10])
    return float(cands[cands <= length].max(initial=cands.min()))


def _extent(xs: np.ndarray, ys: np.ndarray, min_size: float = 800.0, aspect: float = 1.35
            ) -> tuple[float, ...]:
    """A box around the points, `aspect` times as wide as high, at least `min_size` wide."""
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    half = max(xs.max() - xs.min(), (ys.max() - ys.min()) * aspect, min_size) / 2 * 1.12
    return cx - half, cx + half, cy - half / aspect, cy + half / aspect


def _decorate(ax: Axes, ctx: Context, ext: tuple[float, ...]) -> None:
    """Basemap, areas, roads, places, scale bar, north arrow and grid-reference ticks."""
    x0, x1, y0, y1 = ext
    if ctx.basemap is not None:
        draw_basemap(ax, ctx.basemap, (x0, x1, y0, y1), ctx.crs)
    if ctx.road_lines:
        ax.add_collection(LineCollection(ctx.road_lines, colors="#c8c8c8", linewidths=0.8,
                                         zorder=1))
    if ctx.area_lines:
        ax.add_collection(LineCollection(ctx.area_lines, colors="#7a9a7a", linewidths=0.9,
                                         linestyles="dashed", zorder=1))
    inside = ((ctx.place_x > x0) & (ctx.place_x < x1) & (ctx.place_y > y0) & (ctx.place_y < y1))
    if inside.sum() > MAX_PLACES:  # keep the map legible: the places nearest its centre
        d = np.hypot(ctx.place_x - (x0 + x1) / 2, ctx.place_y - (y0 + y1) / 2)
        inside &= d <= np.sort(d[inside])[MAX_PLACES - 1]
    for kind in np.unique(ctx.place_kind[inside]) if inside.any() else []:
        m = inside & (ctx.place_kind == kind)
        marker, colour, _ = _PLACE_STYLE.get(kind, _PLACE_STYLE["other"])
        ax.scatter(ctx.place_x[m], ctx.place_y[m], marker=marker, s=30, c=colour, zorder=4,
                   edgecolors="white", linewidths=0.5)
        for px, py, pr, pt in zip(ctx.place_x[m], ctx.place_y[m], ctx.place_r[m],
                                  ctx.place_text[m], strict=True):
            ax.add_patch(Circle((px, py), pr, fill=False, ec=colour, lw=0.6, ls=":", zorder=2))
            ax.annotate(pt, (px, py), xytext=(4, 4), textcoords="offset points", fontsize=7,
                        color=colour, zorder=6)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    # Scale bar (bottom left) and north arrow (top right); the grid is British National Grid.
    length = _nice((x1 - x0) / 4)
    bx, by, h = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05, (y1 - y0) * 0.012
    ax.add_patch(Rectangle((bx, by), length / 2, h, fc="black", ec="black", lw=0.5, zorder=7))
    ax.add_patch(Rectangle((bx + length / 2, by), length / 2, h, fc="white", ec="black",
                           lw=0.5, zorder=7))
    unit = f"{length / 1000:g} kilometre{'s' if length > 1000 else ''}" if length >= 1000 \
        else f"{length:g} metres"
    ax.text(bx, by + 2.2 * h, f"0 ─ {unit}", fontsize=7, zorder=7)
    ax_, ay_ = x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.2
    ax.add_patch(FancyArrow(ax_, ay_, 0, (y1 - y0) * 0.1, width=(x1 - x0) * 0.006,
                            head_width=(x1 - x0) * 0.025, head_length=(y1 - y0) * 0.04,
                            length_includes_head=True, color="black", zorder=7))
    ax.text(ax_, ay_ + (y1 - y0) * 0.115, "N", ha="center", fontsize=9, weight="bold",
            zorder=7)
    _grid_ticks(ax, ext, ctx.crs)


def _grid_ticks(ax: Axes, ext: tuple[float, ...], crs: str) -> None:
    x0, x1, y0, y1 = ext
    step = max(_nice((x1 - x0) / 5), 100.0)
    xt = np.arange(np.ceil(x0 / step) * step, x1, step)
    yt = np.arange(np.ceil(y0 / step) * step, y1, step)
    ax.set_xticks(xt)
    ax.set_yticks(yt)
    ax.grid(True, color="#e6e6e6", lw=0.5, zorder=0)
    if crs.upper() == BNG:
        square = grid_reference((x0 + x1) / 2, (y0 + y1) / 2, 2).split(" ")[0]
        ax.set_xticklabels([f"{(v % 100_000) / 1000:.{1 if step < 1000 else 0}f}" for v in xt])
        ax.set_yticklabels([f"{(v % 100_000) / 1000:.{1 if step < 1000 else 0}f}" for v in yt])
        ax.set_xlabel(f"Easting, kilometres within grid square {square}", fontsize=7)
        ax.set_ylabel(f"Northing, kilometres within {square}", fontsize=7)
    else:
        ax.set_xticklabels([f"{v:.0f}" for v in xt])
        ax.set_yticklabels([f"{v:.0f}" for v in yt])
        ax.set_xlabel(f"Easting, metres ({crs})", fontsize=7)
        ax.set_ylabel(f"Northing, metres ({crs})", fontsize=7)
    ax.tick_params(labelsize=6)


@dataclass(frozen=True)
class TrackIndex:
    """The subjects' fixes as sorted numpy columns, for fast slicing by time."""

    officer: np.ndarray
    device: np.ndarray
    t: np.ndarray  # microseconds since the epoch, UTC
    x: np.ndarray
    y: np.ndarray
    accuracy: np.ndarray

    @classmethod
    def build(cls, tracks: pa.Table) -> TrackIndex:
        if not tracks.num_rows:
            e = np.empty(0)
            return cls(np.empty(0, object), np.empty(0, object), e.astype(np.int64), e, e, e)
        order = np.argsort(tracks["time"].cast(pa.int64()).to_numpy(), kind="stable")
        t = tracks.take(pa.array(order))
        acc = (np.nan_to_num(np.asarray(t["accuracy_m"].to_numpy(zero_copy_only=False), float),
                             nan=np.nan) if "accuracy_m" in t.column_names
               else np.full(t.num_rows, np.nan))
        device = (np.asarray(t["device_id"].to_pylist(), object) if "device_id" in t.column_names
                  else np.full(t.num_rows, "", object))
        return cls(np.asarray(t["officer_id"].to_pylist(), object), device,
                   t["time"].cast(pa.int64()).to_numpy(), _col(t, "x"), _col(t, "y"), acc)

    def window(self, officer: str, start_us: int, end_us: int) -> np.ndarray:
        """Indices of one officer's fixes in [start, end)."""
        lo, hi = np.searchsorted(self.t, [start_us, end_us], side="left")
        idx = np.arange(lo, hi)
        return idx[self.officer[lo:hi] == officer]

    def by_device(self, w: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """A window's indices split per device (an officer may carry a radio and a car)."""
        devices = self.device[w]
        return [(str(d), w[devices == d]) for d in sorted(set(devices.tolist()))]


def occasion_map(idx: TrackIndex, occ: dict[str, Any], ctx: Context, labels: Labels,
                 meeting_radius_m: float) -> str:
    """Both tracks 30 minutes either side of one occasion, the meeting area and places."""
    s_us, e_us = int(occ["start_us"]), int(occ["end_us"])
    officers = (occ["officer_a"], occ["officer_b"])
    margins = (0.08, 0.31, 0.99, 0.99)
    width, height = 7.0, 3.6
    with style():
        fig = new_figure(width, height, margins=margins)
        ax = fig.add_subplot()
        # The map centres on the meeting: positions during the occasion and FOCUS_S either
        # side. The routes before and after run on to the map's edge.
        xs, ys = [np.array([occ["x"]])], [np.array([occ["y"]])]
        for i, officer in enumerate(officers):
            w = idx.window(officer, s_us - MARGIN_S * 10**6, e_us + MARGIN_S * 10**6)
            colour = SUBJECT_COLOURS[i % len(SUBJECT_COLOURS)]
            if not len(w):
                continue
            for j, (device, dw) in enumerate(idx.by_device(w)):
                x, y, t = idx.x[dw], idx.y[dw], idx.t[dw]
                near = ((t >= s_us - FOCUS_S * 10**6) & (t <= e_us + FOCUS_S * 10**6)
                        & (np.hypot(x - occ["x"], y - occ["y"]) <= FOCUS_M))
                xs.append(x[near])
                ys.append(y[near])
                during = (t >= s_us) & (t <= e_us)  # contiguous: sorted by time
                # Lines, not one marker per fix: a few SVG paths however many fixes.
                style_ = ("-", "--", ":")[j % 3]
                ax.plot(x, y, color=colour, lw=1.0, alpha=0.6, zorder=3, ls=style_,
                        label=f"{labels.of(officer)}, device {device}: 30 minutes either side")
                ax.plot(x[during], y[during], color=colour, lw=3.0, zorder=5, ls=style_,
                        solid_capstyle="round",
                        label=f"{labels.of(officer)}, device {device}: during")
        # Incidents raised from 30 minutes before to the end: what the officers might have
        # been sent to (availability), by priority.
        inc = ((ctx.incident_t >= s_us - MARGIN_S * 10**6) & (ctx.incident_t <= e_us))
        if inc.any():
            ax.scatter(ctx.incident_x[inc], ctx.incident_y[inc], marker="X", s=36,
                       c="#b03a2e", zorder=6, label="incident raised meanwhile (priority shown)")
            for ix, iy, ip in zip(ctx.incident_x[inc], ctx.incident_y[inc],
                                  ctx.incident_p[inc], strict=True):
                ax.annotate(f"P{ip}", (ix, iy), xytext=(4, -8), textcoords="offset points",
                            fontsize=6, color="#b03a2e", zorder=6)
        ax.add_patch(Circle((occ["x"], occ["y"]), meeting_radius_m, fc=UNEXPLAINED_FILL,
                            ec="#444444", lw=0.8, ls="--", zorder=2, label="meeting area"))
        left, bottom, right, top = margins
        aspect = width * (right - left) / (height * (top - bottom))
        _decorate(ax, ctx, _extent(np.concatenate(xs), np.concatenate(ys), min_size=1200.0,
                                   aspect=aspect))
        fig.legend(loc="lower center", ncols=3, fontsize=5.5, frameon=False,
                   bbox_to_anchor=(0.5, 0.0))
        return _uri(fig, ctx)


def overview_map(occ_x: np.ndarray, occ_y: np.ndarray, numbers: list[str], ctx: Context) -> str:
    """Every unexplained occasion as a numbered point over places and areas."""
    with style():
        fig = new_figure(7.0, 5.6)
        ax = fig.add_subplot()
        if len(occ_x):
            ax.scatter(occ_x, occ_y, s=40, c="#D55E00", edgecolors="black", linewidths=0.5,
                       zorder=5, label="occasion with no policing reason found")
            for x, y, n in zip(occ_x, occ_y, numbers, strict=True):
                ax.annotate(n, (x, y), xytext=(5, -9), textcoords="offset points", fontsize=6,
                            zorder=6)
            ax.legend(loc="upper left", fontsize=6)
            ext = _extent(occ_x, occ_y, min_size=2000.0)
        else:
            px = ctx.place_x if len(ctx.place_x) else np.array([0.0])
            py = ctx.place_y if len(ctx.place_y) else np.array([0.0])
            ext = _extent(px, py, min_size=2000.0)
        _decorate(ax, ctx, ext)
        return _uri(fig, ctx)


__all__ = ["MARGIN_S", "Context", "TrackIndex", "load_roads", "occasion_map", "overview_map"]
