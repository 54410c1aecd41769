"""Cartography of the report's maps: label placement (never overlapping, measured on the
drawn map with matplotlib's own text metrics), the layers drawn, the nearest address and
its rule, and grid tick labels across a 100 km square's edge."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from whereabouts.analysis.addresses import address_phrase, nearest_addresses
from whereabouts.report.cartography import Labeller, MapLayers, draw_layers, road_class
from whereabouts.report.maps import grid_tick_labels
from whereabouts.report.placement import PAD_PT, Label, place_labels, point_boxes

X0, Y0 = 318000.0, 176000.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 400),
            st.floats(0, 300),
            st.floats(5, 80),
            st.floats(4, 12),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_placed_labels_never_overlap(spec: list[tuple[float, float, float, float, int]]) -> None:
    labels = [
        Label(f"L{i}", pri, point_boxes(x, y, w, h)) for i, (x, y, w, h, pri) in enumerate(spec)
    ]
    obstacle = shapely.box(180, 130, 220, 170)
    chosen = place_labels(labels, obstacles=[obstacle], frame=(0, 0, 400, 300))
    boxes = [lab.boxes[k] for lab, k in chosen]
    for i, a in enumerate(boxes):
        assert shapely.box(0, 0, 400, 300).contains(a)
        assert not a.intersects(obstacle)
        for b in boxes[i + 1 :]:
            assert not a.intersects(b)
    # every label left out had no clear spot: each of its boxes meets a placed one (or the
    # obstacle, or the frame's edge)
    placed_ids = {id(lab) for lab, _ in chosen}
    for lab in labels:
        if id(lab) not in placed_ids:
            for b in lab.boxes:  # each label keeps PAD_PT clear around it
                grown = shapely.buffer(b, PAD_PT / 2, join_style="mitre")
                assert (
                    not shapely.box(0, 0, 400, 300).contains(b)
                    or grown.intersects(shapely.buffer(obstacle, PAD_PT / 2))
                    or any(
                        grown.intersects(shapely.buffer(p, PAD_PT / 2, join_style="mitre"))
                        for p in boxes
                    )
                )


def test_a_higher_priority_label_wins_the_spot() -> None:
    same = [shapely.box(0, 0, 50, 10)]
    low = Label("low", 5, same)
    high = Label("high", 0, same)
    chosen = place_labels([low, high], frame=(0, 0, 100, 100))
    assert [lab.text for lab, _ in chosen] == ["high"]


def _town() -> MapLayers:
    """A 5 × 5 street grid, 150 m apart, with named streets, houses and numbered addresses."""
    roads, names, kinds = [], [], []
    for k in range(6):
        roads.append(shapely.LineString([(X0, Y0 + 150 * k), (X0 + 750, Y0 + 150 * k)]))
        names.append(f"Street {k}")
        kinds.append("residential")
        roads.append(shapely.LineString([(X0 + 150 * k, Y0), (X0 + 150 * k, Y0 + 750)]))
        names.append(f"Avenue {k}")
        kinds.append("primary" if k == 2 else "residential")
    xs = np.arange(X0 + 20, X0 + 740, 15.0)
    ys = np.arange(Y0 + 12, Y0 + 750, 150.0)
    hx, hy = np.meshgrid(xs, ys)
    houses = shapely.box(hx.ravel(), hy.ravel(), hx.ravel() + 8, hy.ravel() + 7)
    n = len(houses)
    tables = {
        "roads": pa.table(
            {
                "road_id": [f"R{i}" for i in range(len(roads))],
                "name": names,
                "ref": [None] * len(roads),
                "kind": kinds,
                "geometry_wkb": shapely.to_wkb(np.array(roads)).tolist(),
            }
        ),
        "buildings": pa.table(
            {
                "feature_id": [f"B{i}" for i in range(n)],
                "name": pa.nulls(n, pa.string()),
                "kind": ["house"] * n,
                "geometry_wkb": shapely.to_wkb(houses).tolist(),
            }
        ),
        "water": pa.table(
            {
                "feature_id": ["W"],
                "name": ["Pond"],
                "kind": ["water"],
                "geometry_wkb": [
                    shapely.to_wkb(shapely.box(X0 + 160, Y0 + 160, X0 + 290, Y0 + 290))
                ],
            }
        ),
        "addresses": pa.table(
            {
                "address_id": [f"A{i:05d}" for i in range(n)],
                "address": [f"{i + 1} Street {i % 6}, Town" for i in range(n)],
                "x": shapely.get_coordinates(shapely.centroid(houses))[:, 0],
                "y": shapely.get_coordinates(shapely.centroid(houses))[:, 1],
            }
        ),
    }
    layers = MapLayers.from_tables(tables)
    assert layers is not None
    return layers


def test_drawn_map_labels_do_not_overlap_as_matplotlib_measures_them() -> None:
    layers = _town()
    fig = Figure(figsize=(7.0, 3.5), dpi=100)
    ax = fig.add_axes((0.05, 0.05, 0.9, 0.9))
    ext = (X0 - 50, X0 + 800, Y0 - 20, Y0 + 400)
    ax.set_xlim(ext[0], ext[1])
    ax.set_ylim(ext[2], ext[3])
    ax.set_aspect("equal")
    labeller = Labeller(ax)
    draw_layers(ax, layers, ext, labeller, focus=(X0 + 300, Y0 + 150))
    labeller.add_point(
        X0 + 300,
        Y0 + 150,
        "home of PC Two",
        priority=0,
        fontsize=6.5,
        color="k",
        marker_pt=7.0,
        rings=2,
    )
    labeller.block(np.array([X0 + 300.0]), np.array([Y0 + 150.0]), 7.0)
    placed = labeller.finish()
    texts = [t.get_text() for t in placed]
    assert "home of PC Two" in texts and "Avenue 2" in texts
    assert sum(t.startswith(("Street", "Avenue")) for t in texts) >= 5
    assert any(t.isdigit() for t in texts)  # house numbers near the focus
    renderer = FigureCanvasAgg(fig).get_renderer()  # type: ignore[no-untyped-call]  # matplotlib leaves it untyped
    boxes = []
    for t in placed:
        w, h, _ = renderer.get_text_width_height_descent(
            t.get_text(), t.get_fontproperties(), ismath=False
        )
        cx, cy = ax.transData.transform(t.get_position())
        a = np.radians(t.get_rotation())
        u, v = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
        corners = [
            np.array([cx, cy]) + sx * w / 2 * u + sy * h / 2 * v
            for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
        boxes.append(shapely.Polygon(corners))
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            assert a.intersection(boxes[j]).area < 1.0, (texts[i], texts[j])
    # roads by class: the primary avenue is drawn wider than the streets
    widths = sorted(
        {
            float(np.atleast_1d(c.get_linewidth())[0])
            for c in ax.collections
            if c.get_zorder() in (1.4, 1.6)
        }
    )
    assert len(widths) == 2 and widths[0] < widths[1]


def test_road_class_from_osm_and_os_words() -> None:
    assert road_class("primary") == road_class("A Road") == "major"
    assert road_class("B Road") == road_class("secondary") == "secondary"
    assert road_class("residential") == road_class("Local Road") == "minor"
    assert road_class(None, "A4059") == "major" and road_class(None, "B4275") == "secondary"
    assert road_class("footway") == "path"


def test_nearest_address_rule_and_homes_withheld() -> None:
    t = pa.table(
        {
            "address_id": ["b", "a", "c", "h"],
            "address": ["14 Ash Walk", "12 Ash Walk", "2 Mill Lane", "9 Home Row"],
            "x": [10.0, 10.0, 100.0, 500.0],
            "y": [0.0, 0.0, 0.0, 0.0],
        }
    )
    homes = (np.array([500.0]), np.array([0.0]), np.array([40.0]))
    text, metres = nearest_addresses(
        np.array([0.0, 70.0, 300.0, 505.0]), np.array([0.0, 0.0, 0.0, 0.0]), t, homes
    )
    assert text[0] == "12 Ash Walk" and metres[0] == pytest.approx(10.0)  # tie: first by id
    assert text[1] == "2 Mill Lane" and metres[1] == pytest.approx(30.0)
    assert text[2] is None and np.isnan(metres[2])  # none within 60 m
    assert text[3] is None  # at a home: never named
    assert address_phrase("12 Ash Walk", 10.0) == "outside 12 Ash Walk (10 m)"
    assert address_phrase("2 Mill Lane", 30.0) == "near 2 Mill Lane (30 m)"


def test_grid_ticks_across_a_square_edge_carry_their_letters() -> None:
    labels, square = grid_tick_labels(
        np.array([295000.0, 300000.0, 305000.0]), 5000.0, 180000.0, east=True
    )
    assert square is None and labels == ["SS 95", "ST 00", "ST 05"]
    labels, square = grid_tick_labels(np.array([317500.0, 318000.0]), 500.0, 176000.0, east=True)
    assert square == "ST" and labels == ["17.5", "18.0"]
