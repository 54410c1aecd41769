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
from whereabouts.report.cartography import Labeller, MapLayers, draw_layers
from whereabouts.report.figures import SUBJECT_COLOURS, new_figure, style, to_data_uri
from whereabouts.report.labels import Labels
from whereabouts.tracks.projection import BNG, grid_reference, to_projected

UNEXPLAINED_FILL = (0.84, 0.37, 0.0, 0.15)
FOCUS_S = 5 * 60  # the occasion map frames the meeting and five minutes either side
FOCUS_M = 1000.0  # … and within this distance of the meeting point
FOCUS_HALF_M = 750.0  # centred on the meeting point, reaching at most this far either way
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
    layers: MapLayers | None = None  # the workspace's map layers (report.cartography)

    @classmethod
    def build(
        cls,
        places: pa.Table,
        areas: pa.Table,
        labels: Labels,
        crs: str,
        *,
        roads: list[np.ndarray] | None = None,
        incidents: pa.Table | None = None,
        basemap: BasemapLayer | None = None,
        layers: MapLayers | None = None,
    ) -> Context:
        """The map's base layers: area boundaries, roads, places (of homes, only the
        subjects') and incidents."""
        lines: list[np.ndarray] = []
        if areas.num_rows and "geometry_wkb" in areas.column_names:
            geoms = shapely.from_wkb(areas["geometry_wkb"].to_numpy(zero_copy_only=False))
            lines = _lines(shapely.boundary(geoms))
        if places.num_rows and "owner_officer_id" in places.column_names:
            # Only the subjects' homes: other officers' home addresses have no place here.
            owner = np.asarray(places["owner_officer_id"].to_pylist(), object)
            subject = np.isin(owner, list(labels.by_officer))
            places = places.filter(
                pa.array((np.asarray(places["kind"].to_pylist(), object) != "home") | subject)
            )
        n = places.num_rows
        kind = np.asarray(places["kind"].to_pylist() if n else [], dtype=object)
        names = places["name"].to_pylist() if n and "name" in places.column_names else [None] * n
        owners = (
            places["owner_officer_id"].to_pylist()
            if n and "owner_officer_id" in places.column_names
            else [None] * n
        )
        # A home is shown only as whose home it is: never its name or address.
        text = [
            f"home of {labels.of(o)}"
            if k == "home"
            else (nm or _PLACE_STYLE.get(k, _PLACE_STYLE["other"])[2])
            for k, nm, o in zip(kind, names, owners, strict=True)
        ]
        radius = (
            np.nan_to_num(np.asarray(places["radius_m"].to_pylist(), float), nan=50.0)
            if n and "radius_m" in places.column_names
            else np.full(n, 50.0)
        )
        inc = incidents if incidents is not None and incidents.num_rows else None
        ctx = cls(
            lines,
            roads or [],
            _col(places, "x"),
            _col(places, "y"),
            radius,
            kind,
            np.asarray(text, dtype=object),
            crs,
            *(
                (
                    _col(inc, "x"),
                    _col(inc, "y"),
                    inc["created_at"].cast(pa.int64()).to_numpy(),
                    np.nan_to_num(np.asarray(inc["priority"].to_pylist(), float), nan=0).astype(
                        np.int64
                    ),
                )
                if inc is not None and "priority" in inc.column_names
                else ()
            ),
        )
        return replace(ctx, basemap=basemap, layers=layers)


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
        raise InputError(
            f"cannot read the roads layer ({type(exc).__name__})",
            where=str(path),
            hint="give a GeoJSON FeatureCollection of lines in WGS84",
        ) from exc
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


def _extent(
    xs: np.ndarray, ys: np.ndarray, min_size: float = 800.0, aspect: float = 1.35
) -> tuple[float, ...]:
    """A box around the points, `aspect` times as wide as high, at least `min_size` wide."""
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    half = max(xs.max() - xs.min(), (ys.max() - ys.min()) * aspect, min_size) / 2 * 1.12
    return cx - half, cx + half, cy - half / aspect, cy + half / aspect


def _decorate(
    ax: Axes,
    ctx: Context,
    ext: tuple[float, ...],
    labeller: Labeller,
    focus: tuple[float, float] | None = None,
) -> None:
    """Basemap, map layers, areas, places, scale bar, north arrow and grid-reference ticks;
    the places' labels go to `labeller` (placed with every other label at the end)."""
    x0, x1, y0, y1 = ext
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    if ctx.basemap is not None:
        draw_basemap(ax, ctx.basemap, (x0, x1, y0, y1), ctx.crs)
    if ctx.layers is not None:
        draw_layers(ax, ctx.layers, (x0, x1, y0, y1), labeller, focus=focus)
    if ctx.road_lines:
        ax.add_collection(
            LineCollection(ctx.road_lines, colors="#c8c8c8", linewidths=0.8, zorder=1)
        )
    if ctx.area_lines:
        ax.add_collection(
            LineCollection(
                ctx.area_lines, colors="#7a9a7a", linewidths=0.9, linestyles="dashed", zorder=1.7
            )
        )
    inside = (ctx.place_x > x0) & (ctx.place_x < x1) & (ctx.place_y > y0) & (ctx.place_y < y1)
    if inside.sum() > MAX_PLACES:  # keep the map legible: the places nearest its centre
        d = np.hypot(ctx.place_x - (x0 + x1) / 2, ctx.place_y - (y0 + y1) / 2)
        inside &= d <= np.sort(d[inside])[MAX_PLACES - 1]
    for kind in np.unique(ctx.place_kind[inside]) if inside.any() else []:
        m = inside & (ctx.place_kind == kind)
        marker, colour, _ = _PLACE_STYLE.get(kind, _PLACE_STYLE["other"])
        ax.scatter(
            ctx.place_x[m],
            ctx.place_y[m],
            marker=marker,
            s=30,
            c=colour,
            zorder=4,
            edgecolors="white",
            linewidths=0.5,
        )
        labeller.block(ctx.place_x[m], ctx.place_y[m], 7.0)
        for px, py, pr, pt in zip(
            ctx.place_x[m], ctx.place_y[m], ctx.place_r[m], ctx.place_text[m], strict=True
        ):
            ax.add_patch(Circle((px, py), pr, fill=False, ec=colour, lw=0.6, ls=":", zorder=2))
            labeller.add_point(
                float(px),
                float(py),
                str(pt),
                priority=1,
                fontsize=6.5,
                color=colour,
                weight="bold",
                marker_pt=7.0,
                rings=2,
            )
    # Scale bar (bottom left) and north arrow (top right); the grid is British National Grid.
    length = _nice((x1 - x0) / 4)
    bx, by, h = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05, (y1 - y0) * 0.012
    ax.add_patch(Rectangle((bx, by), length / 2, h, fc="black", ec="black", lw=0.5, zorder=7))
    ax.add_patch(
        Rectangle((bx + length / 2, by), length / 2, h, fc="white", ec="black", lw=0.5, zorder=7)
    )
    unit = (
        f"{length / 1000:g} kilometre{'s' if length > 1000 else ''}"
        if length >= 1000
        else f"{length:g} metres"
    )
    ax.text(bx, by + 2.2 * h, f"0 ─ {unit}", fontsize=7, zorder=7)
    labeller.block_axes_box(0.02, 0.02, 0.04 + 0.25 + 0.02, 0.13)
    ax_, ay_ = x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.2
    ax.add_patch(
        FancyArrow(
            ax_,
            ay_,
            0,
            (y1 - y0) * 0.1,
            width=(x1 - x0) * 0.006,
            head_width=(x1 - x0) * 0.025,
            head_length=(y1 - y0) * 0.04,
            length_includes_head=True,
            color="black",
            zorder=7,
        )
    )
    ax.text(ax_, ay_ + (y1 - y0) * 0.115, "N", ha="center", fontsize=9, weight="bold", zorder=7)
    labeller.block_axes_box(0.92, 0.76, 0.99, 0.99)
    _grid_ticks(ax, ext, ctx.crs)


def grid_tick_labels(
    values: np.ndarray, step: float, other: float, *, east: bool
) -> tuple[list[str], str | None]:
    """British National Grid tick labels: kilometres within the 100 km grid square, and the
    square's letters (None when the ticks span two squares: each label then carries its
    own, "SS 95", "ST 00"). `other` is the coordinate on the other axis (map centre)."""
    digits = 1 if step < 1000 else 0
    squares = [
        grid_reference(v, other, 2).split(" ")[0]
        if east
        else grid_reference(other, v, 2).split(" ")[0]
        for v in values
    ]
    km = [f"{(v % 100_000) / 1000:0{3 + digits if digits else 2}.{digits}f}" for v in values]
    if len(set(squares)) <= 1:
        return km, (squares[0] if squares else None)
    return [f"{sq} {k}" for sq, k in zip(squares, km, strict=True)], None


def _grid_ticks(ax: Axes, ext: tuple[float, ...], crs: str) -> None:
    x0, x1, y0, y1 = ext
    step = max(_nice((x1 - x0) / 5), 100.0)
    xt = np.arange(np.ceil(x0 / step) * step, x1, step)
    yt = np.arange(np.ceil(y0 / step) * step, y1, step)
    ax.set_xticks(xt)
    ax.set_yticks(yt)
    ax.grid(True, color="#d9d9d9", lw=0.4, zorder=1.9)
    if crs.upper() == BNG:
        xl, xsq = grid_tick_labels(xt, step, (y0 + y1) / 2, east=True)
        yl, ysq = grid_tick_labels(yt, step, (x0 + x1) / 2, east=False)
        ax.set_xticklabels(xl)
        ax.set_yticklabels(yl)
        ax.set_xlabel(
            "British National Grid, kilometres east" + (f" (grid square {xsq})" if xsq else ""),
            fontsize=7,
        )
        ax.set_ylabel("kilometres north" + (f" (square {ysq})" if ysq else ""), fontsize=7)
    else:
        ax.set_xticklabels([f"{v / 1000:.{1 if step < 1000 else 0}f}" for v in xt])
        ax.set_yticklabels([f"{v / 1000:.{1 if step < 1000 else 0}f}" for v in yt])
        ax.set_xlabel(f"Easting, kilometres ({crs})", fontsize=7)
        ax.set_ylabel(f"Northing, kilometres ({crs})", fontsize=7)
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
        """The tracks indexed by time for fast cuts by officer and interval."""
        if not tracks.num_rows:
            e = np.empty(0)
            return cls(np.empty(0, object), np.empty(0, object), e.astype(np.int64), e, e, e)
        order = np.argsort(tracks["time"].cast(pa.int64()).to_numpy(), kind="stable")
        t = tracks.take(pa.array(order))
        acc = (
            np.nan_to_num(
                np.asarray(t["accuracy_m"].to_numpy(zero_copy_only=False), float), nan=np.nan
            )
            if "accuracy_m" in t.column_names
            else np.full(t.num_rows, np.nan)
        )
        device = (
            np.asarray(t["device_id"].to_pylist(), object)
            if "device_id" in t.column_names
            else np.full(t.num_rows, "", object)
        )
        return cls(
            np.asarray(t["officer_id"].to_pylist(), object),
            device,
            t["time"].cast(pa.int64()).to_numpy(),
            _col(t, "x"),
            _col(t, "y"),
            acc,
        )

    def window(self, officer: str, start_us: int, end_us: int) -> np.ndarray:
        """Indices of one officer's fixes in [start, end)."""
        lo, hi = np.searchsorted(self.t, [start_us, end_us], side="left")
        idx = np.arange(lo, hi)
        result: np.ndarray = idx[self.officer[lo:hi] == officer]
        return result

    def by_device(self, w: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """A window's indices split per device (an officer may carry a radio and a car)."""
        devices = self.device[w]
        return [(str(d), w[devices == d]) for d in sorted(set(devices.tolist()))]


def occasion_map(
    idx: TrackIndex, occ: dict[str, Any], ctx: Context, labels: Labels, meeting_radius_m: float
) -> str:
    """Both tracks 30 minutes either side of one occasion, the meeting area and places."""
    s_us, e_us = int(occ["start_us"]), int(occ["end_us"])
    officers = (occ["officer_a"], occ["officer_b"])
    margins = (0.08, 0.27, 0.99, 0.99)
    width, height = 7.0, 3.3
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
                near = (
                    (t >= s_us - FOCUS_S * 10**6)
                    & (t <= e_us + FOCUS_S * 10**6)
                    & (np.hypot(x - occ["x"], y - occ["y"]) <= FOCUS_M)
                )
                xs.append(x[near])
                ys.append(y[near])
                during = (t >= s_us) & (t <= e_us)  # contiguous: sorted by time
                # Lines, not one marker per fix: a few SVG paths however many fixes.
                style_ = ("-", "--", ":")[j % 3]
                ax.plot(
                    x,
                    y,
                    color=colour,
                    lw=1.0,
                    alpha=0.6,
                    zorder=3,
                    ls=style_,
                    label=f"{labels.of(officer)}, device {device}: 30 minutes either side",
                )
                ax.plot(
                    x[during],
                    y[during],
                    color=colour,
                    lw=3.0,
                    zorder=5,
                    ls=style_,
                    solid_capstyle="round",
                    label=f"{labels.of(officer)}, device {device}: during",
                )
        ax.add_patch(
            Circle(
                (occ["x"], occ["y"]),
                meeting_radius_m,
                fc=UNEXPLAINED_FILL,
                ec="#444444",
                lw=0.8,
                ls="--",
                zorder=2,
                label="meeting area",
            )
        )
        left, bottom, right, top = margins
        aspect = width * (right - left) / (height * (top - bottom))
        labeller = Labeller(ax)
        # Centred on the meeting point: what lies on one side is mirrored to the other.
        # At most FOCUS_HALF_M from it either way, so streets and houses stay legible.
        dx = np.clip(np.concatenate(xs) - occ["x"], -FOCUS_HALF_M, FOCUS_HALF_M)
        dy = np.clip(np.concatenate(ys) - occ["y"], -FOCUS_HALF_M, FOCUS_HALF_M)
        ext = _extent(
            occ["x"] + np.concatenate([dx, -dx]),
            occ["y"] + np.concatenate([dy, -dy]),
            min_size=900.0,
            aspect=aspect,
        )
        _decorate(ax, ctx, ext, labeller, focus=(occ["x"], occ["y"]))
        # Incidents raised from 30 minutes before to the end: what the officers might have
        # been sent to (availability), by priority.
        inc = (ctx.incident_t >= s_us - MARGIN_S * 10**6) & (ctx.incident_t <= e_us)
        if inc.any():
            ax.scatter(
                ctx.incident_x[inc],
                ctx.incident_y[inc],
                marker="X",
                s=36,
                c="#b03a2e",
                zorder=6,
                label="incident raised meanwhile (priority shown)",
            )
            labeller.block(ctx.incident_x[inc], ctx.incident_y[inc], 7.0)
            for ix, iy, ip in zip(
                ctx.incident_x[inc], ctx.incident_y[inc], ctx.incident_p[inc], strict=True
            ):
                labeller.add_point(
                    float(ix),
                    float(iy),
                    f"P{ip}",
                    priority=0,
                    fontsize=6,
                    color="#b03a2e",
                    weight="bold",
                    marker_pt=7.0,
                    rings=2,
                )
        labeller.finish()
        fig.legend(
            loc="lower center", ncols=3, fontsize=5.5, frameon=False, bbox_to_anchor=(0.5, 0.0)
        )
        return _uri(fig, ctx)


def overview_map(occ_x: np.ndarray, occ_y: np.ndarray, numbers: list[str], ctx: Context) -> str:
    """Every unexplained occasion as a numbered point over the map, places and areas."""
    with style():
        fig = new_figure(7.0, 5.6)
        ax = fig.add_subplot()
        labeller = Labeller(ax)
        if len(occ_x):
            ax.scatter(
                occ_x,
                occ_y,
                s=40,
                c="#D55E00",
                edgecolors="black",
                linewidths=0.5,
                zorder=5,
                label="occasion with no policing reason found",
            )
            ax.legend(loc="upper left", fontsize=6)
            ext = _extent(occ_x, occ_y, min_size=2000.0)
        else:
            px = ctx.place_x if len(ctx.place_x) else np.array([0.0])
            py = ctx.place_y if len(ctx.place_y) else np.array([0.0])
            ext = _extent(px, py, min_size=2000.0)
        _decorate(ax, ctx, ext, labeller)
        if len(occ_x):
            labeller.block(occ_x, occ_y, 8.0)
            labeller.block_axes_box(0.0, 0.9, 0.45, 1.0)  # the legend
            # Occasions at one spot share one label ("3, 7, 12"), so every number is shown.
            key = np.round(np.column_stack([occ_x, occ_y]) / 25.0).astype(np.int64)
            _, first, group = np.unique(key, axis=0, return_index=True, return_inverse=True)
            for g, i in enumerate(first.tolist()):
                members = [numbers[k] for k in np.flatnonzero(group.ravel() == g).tolist()]
                labeller.add_point(
                    float(occ_x[i]),
                    float(occ_y[i]),
                    ", ".join(members),
                    priority=0,
                    fontsize=6.5,
                    color="#000000",
                    weight="bold",
                    marker_pt=8.0,
                    rings=4,
                )
        labeller.finish()
        return _uri(fig, ctx)


__all__ = [
    "MARGIN_S",
    "Context",
    "TrackIndex",
    "grid_tick_labels",
    "load_roads",
    "occasion_map",
    "overview_map",
]
