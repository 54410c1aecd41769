"""The simulated force area: towns, roads, police premises, sectors, quiet spots, homes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon, box, mapping

from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.roads import RoadNetwork, Town, build_network
from whereabouts.tracks.projection import to_wgs84

PATROL_SPACING_M = 200.0  # patrol points at least this far apart: crews never park together
PATROL_REACH_M = 4000.0  # a beat's country patrol points lie this far beyond its town at most
TOWN_NAMES = (
    "Aberllyn",
    "Pontcarreg",
    "Cwmderi",
    "Trefynydd",
    "Bryncoed",
    "Penrhos",
    "Nantyglo Fach",
    "Llanfair Isaf",
    "Glynhafod",
    "Castell Du",
)


@dataclass(frozen=True)
class Place:
    """A named point: police premises, hospital, home, lay-by (BNG metres)."""

    place_id: str
    kind: str
    x: float = field(repr=False)  # a home's position is personal: never in a repr
    y: float = field(repr=False)
    radius_m: float = field(repr=False)
    name: str = field(repr=False)
    owner_officer_id: str | None = None


@dataclass
class Geography:
    """Everything fixed in space for one simulation."""

    towns: list[Town]
    roads: RoadNetwork
    stations: list[Place]
    places: list[Place]  # stations, custody, hospitals (homes are added by people)
    spots: list[Place]  # lay-bys and quiet spots: never written to places.csv
    sectors: list[tuple[str, str, Polygon]]  # per town: (area_id, name, polygon in BNG)
    station_of_town: np.ndarray  # index of the station policing each town's sector
    _beats: list[tuple[str, str, Polygon]] | None = field(default=None, repr=False)
    _patrol: dict[int, list[tuple[str, np.ndarray, np.ndarray]]] = field(
        default_factory=dict, repr=False
    )

    def sector_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the sector (town) holding each point: the nearest town centre."""
        tx = np.array([t.x for t in self.towns])
        ty = np.array([t.y for t in self.towns])
        d = (np.asarray(x)[:, None] - tx) ** 2 + (np.asarray(y)[:, None] - ty) ** 2
        result: np.ndarray = np.argmin(d, axis=1)
        return result

    def station_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the station whose sectors hold each point."""
        result: np.ndarray = self.station_of_town[self.sector_of(x, y)]
        return result

    def random_points(
        self,
        rng: np.random.Generator,
        n: int,
        *,
        urban_share: float,
        near: tuple[float, float] | None = None,
        spread: float = 3000.0,
    ) -> np.ndarray:
        """n points: in towns with probability urban_share, else anywhere in the country."""
        r = self.roads
        if near is not None:
            pts = np.column_stack([rng.normal(near[0], spread, n), rng.normal(near[1], spread, n)])
        else:
            idx = rng.integers(0, len(r.x), n)
            pts = np.column_stack([r.x[idx], r.y[idx]]) + rng.normal(0, 150, (n, 2))
            towns = rng.random(n) < urban_share
            tidx = np.flatnonzero(r.urban)
            pick = tidx[rng.integers(0, len(tidx), n)]
            pts[towns] = np.column_stack([r.x[pick], r.y[pick]])[towns] + rng.normal(
                0, 120, (int(towns.sum()), 2)
            )
        return pts

    def beats(self) -> list[tuple[str, str, Polygon]]:
        """Each sector cut into four beats (north-east, …) about its town centre."""
        if self._beats is not None:
            return self._beats
        out = []
        big = 1e6
        for town, (area_id, name, poly) in zip(self.towns, self.sectors, strict=True):
            quads = (
                ("NE", box(town.x, town.y, town.x + big, town.y + big)),
                ("SE", box(town.x, town.y - big, town.x + big, town.y)),
                ("SW", box(town.x - big, town.y - big, town.x, town.y)),
                ("NW", box(town.x - big, town.y, town.x, town.y + big)),
            )
            for tag, quad in quads:
                part = poly.intersection(quad)
                if isinstance(part, Polygon) and not part.is_empty:
                    out.append(
                        (f"{area_id}-{tag}", f"{name.replace(' sector', '')} {tag} beat", part)
                    )
        self._beats = out
        return out

    def patrol_areas(self, station: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The station's beats as (area_id, built-up points, country points) inside each.

        Points (k × 2, BNG metres) are where a patrol parks up: junctions and, in towns, the
        middle of each street between two junctions, at least PATROL_SPACING_M apart. Beats
        are listed sector by sector; a beat's sector is its id up to the last '-'.
        """
        if station not in self._patrol:
            mine = {
                a: t
                for (a, _, _), s, t in zip(
                    self.sectors, self.station_of_town, self.towns, strict=True
                )
                if s == station
            }
            r = self.roads
            areas = []
            for area_id, _, poly in self.beats():
                town = mine.get(area_id.rsplit("-", 1)[0])
                if town is None:
                    continue
                inside = shapely.contains_xy(poly, r.x, r.y)
                u = np.flatnonzero(inside & r.urban)
                d = np.hypot(r.x[u, None] - r.x[u], r.y[u, None] - r.y[u])
                i, j = np.nonzero(np.triu(d < 675.0, 1))  # the streets (roads.py: 1.5 × 450 m)
                urban = np.column_stack(
                    [
                        np.concatenate([r.x[u], (r.x[u[i]] + r.x[u[j]]) / 2]),
                        np.concatenate([r.y[u], (r.y[u[i]] + r.y[u[j]]) / 2]),
                    ]
                )
                # Country lanes within reach of the town: a beat is not half the county.
                reach = np.hypot(r.x - town.x, r.y - town.y) < town.radius_m + PATROL_REACH_M
                rural = np.flatnonzero(inside & ~r.urban & reach)
                areas.append(
                    (
                        area_id,
                        _thin(urban, PATROL_SPACING_M),
                        np.column_stack([r.x[rural], r.y[rural]]),
                    )
                )
            self._patrol[station] = areas
        return self._patrol[station]

    def areas_geojson(self) -> str:
        """Sectors and their beats as a GeoJSON FeatureCollection in WGS84 (area_id, name)."""
        features = []
        for area_id, name, poly in [*self.sectors, *self.beats()]:
            xy = np.asarray(poly.exterior.coords)
            lat, lon = to_wgs84(xy[:, 0], xy[:, 1])
            ring = Polygon(np.column_stack([np.round(lon, 6), np.round(lat, 6)]))
            features.append(
                {
                    "type": "Feature",
                    "properties": {"area_id": area_id, "name": name},
                    "geometry": mapping(ring),
                }
            )
        return json.dumps({"type": "FeatureCollection", "features": features}, indent=1)


def _thin(points: np.ndarray, spacing: float) -> np.ndarray:
    """The points in order, dropping any closer than `spacing` to one already kept."""
    keep = np.ones(len(points), bool)
    for k in range(len(points)):  # a loop per candidate place (hundreds), once per station
        if keep[k]:
            close = (
                np.hypot(points[k + 1 :, 0] - points[k, 0], points[k + 1 :, 1] - points[k, 1])
                < spacing
            )
            keep[k + 1 :] &= ~close
    return points[keep]


def _place_towns(config: SimConfig, rng: np.random.Generator) -> list[Town]:
    n = int(np.clip(3 + config.officers // 250, 3, len(TOWN_NAMES)))
    s, e0, n0 = config.size_m, config.origin_e, config.origin_n
    towns: list[Town] = []
    while len(towns) < n:
        x, y = e0 + rng.uniform(0.15, 0.85) * s, n0 + rng.uniform(0.15, 0.85) * s
        radius = 2600.0 if not towns else float(rng.uniform(1200, 2000))
        if all(np.hypot(t.x - x, t.y - y) > t.radius_m + radius + 2500 for t in towns):
            towns.append(Town(TOWN_NAMES[len(towns)], x, y, radius))
    return towns


def build_geography(config: SimConfig, rng: np.random.Generator) -> Geography:
    """Towns, roads, stations (one per town), custody, hospitals, sectors, lay-bys."""
    towns = _place_towns(config, rng)
    s = config.size_m
    villages = np.column_stack(
        [config.origin_e + rng.uniform(0, s, 45), config.origin_n + rng.uniform(0, s, 45)]
    )
    town_xy = np.array([[t.x, t.y] for t in towns])
    far = (
        np.min(
            np.hypot(villages[:, None, 0] - town_xy[:, 0], villages[:, None, 1] - town_xy[:, 1])
            - np.array([t.radius_m for t in towns]),
            axis=1,
        )
        > 800
    )
    roads = build_network(towns, villages[far], rng)
    n_stations = int(np.clip(config.officers // 120, 1, len(towns)))
    stations = [
        Place(
            f"STN-{t.name[:3].upper()}",
            "police_station",
            t.x + 150,
            t.y - 100,
            80,
            f"{t.name} police station",
        )
        for t in towns[:n_stations]
    ]
    big = towns[0]
    places = [
        *stations,
        Place("CUS-1", "custody", big.x - 900, big.y + 600, 60, f"{big.name} custody suite"),
        Place("HOS-1", "hospital", big.x + 1200, big.y + 900, 150, f"{big.name} hospital"),
    ]
    if len(towns) > 3:
        t = towns[1]
        places.append(Place("HOS-2", "hospital", t.x - 700, t.y + 500, 120, f"{t.name} hospital"))
    # Lay-bys and quiet spots: on rural junctions far from any town.
    country = np.flatnonzero(~roads.urban)
    d_town = np.min(
        np.hypot(roads.x[country, None] - town_xy[:, 0], roads.y[country, None] - town_xy[:, 1]),
        axis=1,
    )
    remote = country[np.argsort(-d_town)[:12]]
    spots = [
        Place(
            f"SPOT-{k + 1}",
            "layby" if k % 2 == 0 else "quiet_spot",
            float(roads.x[i] + rng.normal(0, 40)),
            float(roads.y[i] + rng.normal(0, 40)),
            50,
            f"{'lay-by' if k % 2 == 0 else 'quiet spot'} {k + 1}",
        )
        for k, i in enumerate(remote)
    ]
    # Sectors: the Voronoi cells of the towns, clipped to the force area; each is policed
    # from the nearest station.
    frame = box(config.origin_e, config.origin_n, config.origin_e + s, config.origin_n + s)
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint([(t.x, t.y) for t in towns]), extend_to=frame
    )
    sectors = []
    for t in towns:
        cell = next(c for c in cells.geoms if c.contains(shapely.Point(t.x, t.y)))
        sectors.append((f"SEC-{t.name[:3].upper()}", f"{t.name} sector", cell.intersection(frame)))
    sx = np.array([p.x for p in stations])
    sy = np.array([p.y for p in stations])
    station_of_town = np.argmin(
        (town_xy[:, 0, None] - sx) ** 2 + (town_xy[:, 1, None] - sy) ** 2, axis=1
    )
    return Geography(towns, roads, stations, places, spots, sectors, station_of_town)


__all__ = ["Geography", "Place", "build_geography"]
