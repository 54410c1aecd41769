"""The simulated geography: a connected road network, sectors covering the area, quiet spots."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.geography import Geography, build_geography
from whereabouts.simulate.movement import Timeline, velocity
from whereabouts.simulate.roads import RURAL_SPEED_MPS


@pytest.fixture(scope="module")
def geo() -> Geography:
    return build_geography(SimConfig(officers=300), np.random.default_rng(11))


def test_every_junction_reaches_every_other(geo: Geography) -> None:
    assert (geo.roads.next_hop >= 0).all()
    assert np.isfinite(geo.roads.seconds).all()


def test_routes_end_where_asked_at_road_speeds(geo: Geography) -> None:
    rng = np.random.default_rng(2)
    for _ in range(20):
        (x0, y0), (x1, y1) = geo.random_points(rng, 2, urban_share=0.5)
        ts, xs, ys = geo.roads.route(x0, y0, x1, y1, 100.0)
        assert (xs[0], ys[0], xs[-1], ys[-1]) == (x0, y0, x1, y1)
        assert ts[0] == 100.0 and np.all(np.diff(ts) >= 0)
        seg = np.hypot(np.diff(xs), np.diff(ys))
        moving = np.diff(ts) > 0
        assert np.all(seg[moving] / np.diff(ts)[moving] <= RURAL_SPEED_MPS + 1e-6)
        # Roads wind: never shorter than the straight line.
        assert seg.sum() >= np.hypot(x1 - x0, y1 - y0) - 1e-6


def test_sectors_tile_the_force_area(geo: Geography) -> None:
    polys = [p for _, _, p in geo.sectors]
    union = shapely.union_all(polys)
    assert union.area == pytest.approx(30_000.0**2, rel=1e-6)
    assert sum(p.area for p in polys) == pytest.approx(union.area, rel=1e-6)
    assert len({a for a, _, _ in geo.sectors}) == len(polys)


def test_quiet_spots_are_away_from_towns(geo: Geography) -> None:
    for spot in geo.spots:
        gap = min(np.hypot(spot.x - t.x, spot.y - t.y) - t.radius_m for t in geo.towns)
        assert gap > 1000, spot.place_id


def test_a_timeline_stops_where_it_is_told(geo: Geography) -> None:
    st = geo.stations[0]
    tl = Timeline(0.0, st.x, st.y)
    tl.patrol_until(geo, 3600.0, np.random.default_rng(5), (st.x, st.y))
    kt, kx, ky = tl.arrays()
    assert kt[-1] == pytest.approx(3600.0) and np.all(np.diff(kt) > 0)
    speed, heading = velocity(np.linspace(0, 3599, 500), kt, kx, ky)
    assert speed.max() <= RURAL_SPEED_MPS + 1e-6
    assert np.isnan(heading[speed < 0.5]).all()


def test_beats_tile_their_sectors(geo: Geography) -> None:
    beats = geo.beats()
    for area_id, _, sector in geo.sectors:
        parts = [p for b, _, p in beats if b.startswith(area_id + "-")]
        assert 2 <= len(parts) <= 4
        assert sum(p.area for p in parts) == pytest.approx(sector.area, rel=1e-9)
