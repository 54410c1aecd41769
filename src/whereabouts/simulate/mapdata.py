"""The simulated force area's map: buildings along the town streets with numbered
addresses, a river and a reservoir, parks and woods, a railway, and the named roads;
written as a GeoPackage (OS OpenMap Local / Open Roads layer and field names) and an
OpenStreetMap extract (.osm.pbf, written with pyosmium), so the demo runs the same readers
a force's own map data goes through.

Houses stand on both sides of every town street, `HOUSE_PITCH_M` apart, set back from the
road's centre line, none near a junction, the river or the railway. Along each named
street the houses are numbered from one end: odd numbers on the left, even on the right,
as British streets are. Everything is drawn from its own random stream ("MAPS"), so adding
the map changes no other output of the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from whereabouts.simulate.roads import NamedRoad, RoadNetwork, Town, name_roads
from whereabouts.tracks.projection import to_wgs84

HOUSE_PITCH_M = 18.0  # one house every 18 m along a street
HOUSE_SETBACK_M = 12.0  # from the road's centre line to the house front
HOUSE_FRONT_M, HOUSE_DEPTH_M = 9.0, 8.0
JUNCTION_CLEAR_M = 25.0  # no house this close to a junction
ROAD_CLEAR_M = 6.0  # nor this close to any road's centre line
OS_CLASS = {
    "primary": "A Road",
    "secondary": "B Road",
    "residential": "Local Road",
    "unclassified": "Unclassified",
}
FIXED_DATE = "2024-01-01T00:00:00Z"  # written into the GeoPackage: the same bytes each run


@dataclass(frozen=True)
class Feature:
    """One map feature in BNG metres: id, name, class and shapely geometry."""

    feature_id: str
    name: str | None
    kind: str
    geometry: shapely.Geometry


@dataclass(frozen=True)
class House:
    """A building with its address: number, street and town."""

    feature_id: str
    number: int
    street: str
    town: str
    geometry: shapely.Geometry

    @property
    def address(self) -> str:
        """The address as written: number, street, town."""
        return f"{self.number} {self.street}, {self.town}"


@dataclass(frozen=True)
class TownMap:
    """Every layer of the simulated map."""

    roads: list[tuple[str, str | None, str | None, str, shapely.Geometry]]
    houses: list[House]
    water: list[Feature]
    green: list[Feature]
    rail: list[Feature]


def build_map(
    net: RoadNetwork, towns: list[Town], seed: int, frame: tuple[float, float, float]
) -> TownMap:
    """The map of a simulated area (`frame` = origin easting, northing and size in metres)."""
    rng = np.random.default_rng([seed, 0x4D415053])  # its own stream: "MAPS"
    named = name_roads(net, towns, seed)
    e = net.edges
    segs = shapely.linestrings(
        np.stack(
            [
                np.column_stack([net.x[e[:, 0]], net.y[e[:, 0]]]),
                np.column_stack([net.x[e[:, 1]], net.y[e[:, 1]]]),
            ],
            axis=1,
        )
    )
    roads = [
        (
            r.road_id,
            r.name,
            r.ref,
            r.kind,
            shapely.line_merge(shapely.multilinestrings(segs[r.edges])),
        )
        for r in named
    ]
    x0, y0, size = frame
    river = _river(rng, x0, y0, size)
    rail = _railway(towns)
    keep_clear = shapely.union_all([shapely.buffer(river, 25.0), shapely.buffer(rail, 20.0)])
    houses = _houses(net, towns, named, keep_clear, np.array([r[4] for r in roads]))
    water = [
        Feature("WAT-1", "Afon Ddu", "river", river),
        Feature("WAT-2", "Afon Ddu", "river_area", shapely.buffer(river, 9.0, quad_segs=4)),
        _reservoir(rng, towns, x0, y0, size),
    ]
    green = _parks(net, towns) + _woods(rng, towns, x0, y0, size)
    return TownMap(roads, houses, water, green, [Feature("RLY-1", "Valley Line", "rail", rail)])


def _river(rng: np.random.Generator, x0: float, y0: float, size: float) -> shapely.LineString:
    """A river meandering across the area from its west edge to its east edge."""
    t = np.linspace(0.0, 1.0, 120)
    phase = rng.uniform(0, 2 * np.pi)
    y = y0 + size * (0.3 + 0.4 * t + 0.04 * np.sin(phase + t * 9.0))
    return shapely.LineString(np.column_stack([x0 + size * t, y]))


def _railway(towns: list[Town]) -> shapely.LineString:
    """A railway from the first town to the second, bowed a little to one side."""
    a, b = towns[0], towns[1 % len(towns)]
    t = np.linspace(0.0, 1.0, 60)
    dx, dy = b.x - a.x, b.y - a.y
    bow = 0.08 * np.sin(np.pi * t)
    return shapely.LineString(
        np.column_stack([a.x + dx * t - dy * bow + 220.0, a.y + dy * t + dx * bow + 160.0])
    )


def _reservoir(
    rng: np.random.Generator, towns: list[Town], x0: float, y0: float, size: float
) -> Feature:
    """A reservoir in the country, well away from every town."""
    centres = np.column_stack(
        [x0 + rng.uniform(0.1, 0.9, 40) * size, y0 + rng.uniform(0.1, 0.9, 40) * size]
    )
    tx = np.array([[t.x, t.y, t.radius_m] for t in towns])
    clear = np.min(
        np.hypot(centres[:, None, 0] - tx[:, 0], centres[:, None, 1] - tx[:, 1]) - tx[:, 2], axis=1
    )
    cx, cy = centres[int(np.argmax(clear))]
    ang = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    r = 1.0 + 0.12 * np.sin(3 * ang + rng.uniform(0, 6))
    ring = np.column_stack([cx + 650 * r * np.cos(ang), cy + 280 * r * np.sin(ang)])
    return Feature("WAT-3", "Llyn Coed", "reservoir", shapely.Polygon(ring))


def _parks(net: RoadNetwork, towns: list[Town]) -> list[Feature]:
    """A park in the block next to each town's centre (the inside of a block is clear)."""
    out = []
    half = net.spacing / 2
    for k, t in enumerate(towns):
        cx, cy = t.x + half, t.y + half
        park = shapely.box(cx - 150, cy - 120, cx + 150, cy + 120)
        out.append(Feature(f"GRN-{k + 1}", f"{t.name} Park", "park", park))
    return out


def _woods(
    rng: np.random.Generator, towns: list[Town], x0: float, y0: float, size: float
) -> list[Feature]:
    """A few woods in the country: rounded blobs outside the towns."""
    out: list[Feature] = []
    tx = np.array([[t.x, t.y, t.radius_m] for t in towns])
    while len(out) < 6:
        cx, cy = x0 + rng.uniform(0.05, 0.95) * size, y0 + rng.uniform(0.05, 0.95) * size
        if np.min(np.hypot(tx[:, 0] - cx, tx[:, 1] - cy) - tx[:, 2]) < 700:
            continue
        pts = rng.normal(0, 220, (9, 2)) + np.array([cx, cy])
        blob = shapely.buffer(shapely.convex_hull(shapely.MultiPoint(pts)), 60.0, quad_segs=4)
        out.append(Feature(f"WOOD-{len(out) + 1}", None, "woodland", blob))
    return out


def _houses(
    net: RoadNetwork,
    towns: list[Town],
    named: list[NamedRoad],
    keep_clear: shapely.Geometry,
    roads: np.ndarray,
) -> list[House]:
    """Houses along every named town street, numbered along it (odd left, even right)."""
    e = net.edges
    tx = np.array([t.x for t in towns])
    ty = np.array([t.y for t in towns])
    town_of = np.argmin((net.x[:, None] - tx) ** 2 + (net.y[:, None] - ty) ** 2, axis=1)
    # Each town street edge by (street name, town): a name may be on several roads (an A
    # road through town keeps the street's name), and the houses are numbered along all.
    street_of: dict[tuple[str, int], list[int]] = {}
    for road in named:  # a loop per road (hundreds); the houses of each are numpy arrays
        if road.name is None:
            continue
        ed = e[road.edges]
        urban = net.urban[ed[:, 0]] & net.urban[ed[:, 1]] & (town_of[ed[:, 0]] == town_of[ed[:, 1]])
        for k in road.edges[urban].tolist():
            street_of.setdefault((road.name, int(town_of[e[k, 0]])), []).append(k)
    cand: list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]] = []
    for (street, t), edge_ids in sorted(street_of.items()):
        ed = e[np.array(sorted(edge_ids))]
        ax, ay = net.x[ed[:, 0]], net.y[ed[:, 0]]
        bx, by = net.x[ed[:, 1]], net.y[ed[:, 1]]
        # orient every edge the same way along the street's main axis
        spread_x = np.ptp(np.concatenate([ax, bx]))
        spread_y = np.ptp(np.concatenate([ay, by]))
        flip = (bx < ax) if spread_x >= spread_y else (by < ay)
        ax, bx = np.where(flip, bx, ax), np.where(flip, ax, bx)
        ay, by = np.where(flip, by, ay), np.where(flip, ay, by)
        length = np.hypot(bx - ax, by - ay)
        n_each = np.maximum(((length - 2 * JUNCTION_CLEAR_M) // HOUSE_PITCH_M).astype(int), 0)
        edge = np.repeat(np.arange(len(ed)), n_each)
        if not len(edge):
            continue
        step = np.concatenate([np.arange(k) for k in n_each])
        along = JUNCTION_CLEAR_M + HOUSE_PITCH_M * (step + 0.5)
        ux, uy = ((bx - ax) / length)[edge], ((by - ay) / length)[edge]
        px, py = ax[edge] + ux * along, ay[edge] + uy * along
        side = np.concatenate([np.ones(len(edge)), -np.ones(len(edge))])  # +1 left
        px, py = np.tile(px, 2), np.tile(py, 2)
        ux, uy = np.tile(ux, 2), np.tile(uy, 2)
        nx, ny = -uy * side, ux * side  # the normal towards the house
        off = HOUSE_SETBACK_M + HOUSE_DEPTH_M / 2
        cx, cy = px + nx * off, py + ny * off
        hf, hd = HOUSE_FRONT_M / 2, HOUSE_DEPTH_M / 2
        corners = np.stack(
            [
                np.column_stack(
                    [cx + s1 * ux * hf + s2 * nx * hd, cy + s1 * uy * hf + s2 * ny * hd]
                )
                for s1, s2 in ((-1, -1), (1, -1), (1, 1), (-1, 1))
            ],
            axis=1,
        )
        polys = shapely.polygons(corners)
        # order along the street: by edge (its start along the main axis), then along it
        order_along = np.lexsort(
            (np.tile(along, 2), np.tile(_edge_rank(ax, ay, spread_x >= spread_y)[edge], 2))
        )
        rank = np.empty(len(order_along), np.int64)
        rank[order_along] = np.arange(len(order_along))
        cand.append((street, towns[t].name, polys, side, rank))
    if not cand:
        return []
    polys = np.concatenate([c[2] for c in cand])
    owner = np.repeat(np.arange(len(cand)), [len(c[2]) for c in cand])
    # Clear of the river, the railway and every road's carriageway; where two streets'
    # houses meet at a corner (a diagonal street crossing a block), the first one stays.
    free = ~shapely.intersects(
        polys,
        shapely.union_all(
            [
                keep_clear,
                shapely.buffer(shapely.multilinestrings(shapely.get_parts(roads)), ROAD_CLEAR_M),
            ]
        ),
    )
    idx = np.flatnonzero(free)
    pairs = shapely.STRtree(polys[idx]).query(polys[idx], predicate="intersects")
    later = pairs[1][pairs[0] < pairs[1]]
    free[idx[np.unique(later)]] = False
    houses: list[House] = []
    for k, (street, town, _, side, rank) in enumerate(cand):
        at = np.flatnonzero(owner == k)
        for s, first in ((1, 1), (-1, 2)):
            mine = np.flatnonzero((side == s) & free[at])
            mine = mine[np.argsort(rank[mine], kind="stable")]
            for n, i in enumerate(mine.tolist()):
                houses.append(
                    House(f"H{len(houses) + 1:06d}", first + 2 * n, street, town, polys[at[i]])
                )
    return houses


def _edge_rank(ax: np.ndarray, ay: np.ndarray, by_x: bool) -> np.ndarray:
    """Each edge's place along the street: by its start's x (an east–west street) or y."""
    key = ax if by_x else ay
    rank = np.empty(len(key), np.int64)
    rank[np.argsort(key, kind="stable")] = np.arange(len(key))
    return rank


def _wgs84(coords: np.ndarray) -> np.ndarray:
    lat, lon = to_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([np.round(lon, 7), np.round(lat, 7)])


def write_gpkg(path: Path, m: TownMap) -> dict[str, int]:
    """map.gpkg with OS-style layers: road_link, building, surface_water_area,
    surface_water_line, greenspace_site, woodland, railway_track (EPSG:27700)."""
    import pyogrio
    from pyogrio import raw

    path.unlink(missing_ok=True)
    layers: list[tuple[str, list[shapely.Geometry], dict[str, list[object]], str]] = [
        (
            "road_link",
            [r[4] for r in m.roads],
            {
                "id": [r[0] for r in m.roads],
                "name_1": [r[1] for r in m.roads],
                "road_classification_number": [r[2] for r in m.roads],
                "road_classification": [OS_CLASS.get(r[3], r[3]) for r in m.roads],
            },
            "MultiLineString",
        ),
        (
            "building",
            [h.geometry for h in m.houses],
            {"id": [h.feature_id for h in m.houses]},
            "Polygon",
        ),
        (
            "surface_water_area",
            [f.geometry for f in m.water if f.geometry.geom_type != "LineString"],
            {
                "id": [f.feature_id for f in m.water if f.geometry.geom_type != "LineString"],
                "distinctive_name": [
                    f.name for f in m.water if f.geometry.geom_type != "LineString"
                ],
            },
            "Polygon",
        ),
        (
            "surface_water_line",
            [f.geometry for f in m.water if f.geometry.geom_type == "LineString"],
            {
                "id": [f.feature_id for f in m.water if f.geometry.geom_type == "LineString"],
                "distinctive_name": [
                    f.name for f in m.water if f.geometry.geom_type == "LineString"
                ],
            },
            "LineString",
        ),
        (
            "greenspace_site",
            [f.geometry for f in m.green if f.kind == "park"],
            {
                "id": [f.feature_id for f in m.green if f.kind == "park"],
                "distinctive_name_1": [f.name for f in m.green if f.kind == "park"],
                "function": ["Public Park Or Garden" for f in m.green if f.kind == "park"],
            },
            "Polygon",
        ),
        (
            "woodland",
            [f.geometry for f in m.green if f.kind != "park"],
            {"id": [f.feature_id for f in m.green if f.kind != "park"]},
            "Polygon",
        ),
        (
            "railway_track",
            [f.geometry for f in m.rail],
            {"id": [f.feature_id for f in m.rail], "name": [f.name for f in m.rail]},
            "LineString",
        ),
    ]
    counts: dict[str, int] = {}
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    try:
        for k, (name, geoms, fields, gtype) in enumerate(layers):
            if gtype == "MultiLineString":
                geoms = [
                    g if g.geom_type == "MultiLineString" else shapely.MultiLineString([g])
                    for g in geoms
                ]
            wkb = shapely.to_wkb(np.array(geoms, dtype=object))
            data = [np.array(v, dtype=object) for v in fields.values()]
            raw.write(
                str(path),
                wkb,
                data,
                list(fields),
                layer=name,
                driver="GPKG",
                crs="EPSG:27700",
                geometry_type=gtype,
                append=k > 0,
            )
            counts[name] = len(geoms)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return counts


def write_addresses(path: Path, m: TownMap) -> int:
    """addresses.csv in the OS style (UPRN, ADDRESS, X_COORDINATE, Y_COORDINATE): each
    house's address at its centre (`--profile os-addresses`)."""
    from whereabouts.simulate.export import write_csv

    if not m.houses:
        return write_csv(path, ("UPRN", "ADDRESS", "X_COORDINATE", "Y_COORDINATE"), [])
    c = shapely.get_coordinates(shapely.centroid(np.array([h.geometry for h in m.houses])))
    rows = [
        (f"{10_000_000 + k}", h.address, f"{x:.1f}", f"{y:.1f}")
        for k, (h, (x, y)) in enumerate(zip(m.houses, c, strict=True))
    ]
    return write_csv(path, ("UPRN", "ADDRESS", "X_COORDINATE", "Y_COORDINATE"), rows)


def _osm_lines(m: TownMap) -> list[tuple[np.ndarray, dict[str, str], bool]]:
    """Every way of the map as (coordinates, tags, closed), in the order they are written."""
    lines: list[tuple[np.ndarray, dict[str, str], bool]] = []

    def add_line(coords: np.ndarray, tags: dict[str, str], closed: bool = False) -> None:
        lines.append((coords[:-1] if closed else coords, tags, closed))

    for road_id, name, ref, kind, geom in m.roads:
        tags = {"highway": kind, "ref:sim": road_id}
        if name:
            tags["name"] = name
        if ref:
            tags["ref"] = ref
        for part in shapely.get_parts(geom):
            add_line(shapely.get_coordinates(part), tags)
    for h in m.houses:
        add_line(
            shapely.get_coordinates(h.geometry.exterior),
            {
                "building": "house",
                "addr:housenumber": str(h.number),
                "addr:street": h.street,
                "addr:city": h.town,
            },
            closed=True,
        )
    for f in m.water:
        if f.geometry.geom_type == "LineString":
            tags = {"waterway": "river"}
            if f.name:
                tags["name"] = f.name
            add_line(shapely.get_coordinates(f.geometry), tags)
        else:
            tags = {"natural": "water", "water": f.kind}
            if f.name:
                tags["name"] = f.name
            add_line(shapely.get_coordinates(f.geometry.exterior), tags, closed=True)
    for f in m.green:
        tags = {"leisure": "park"} if f.kind == "park" else {"landuse": "forest"}
        if f.name:
            tags["name"] = f.name
        add_line(shapely.get_coordinates(f.geometry.exterior), tags, closed=True)
    for f in m.rail:
        tags = {"railway": "rail"}
        if f.name:
            tags["name"] = f.name
        add_line(shapely.get_coordinates(f.geometry), tags)
    return lines


def write_osm(path: Path, m: TownMap) -> dict[str, int]:
    """map.osm.pbf: the same map as OpenStreetMap data (pyosmium's writer). Roads carry
    highway/name/ref; houses building=house with addr:housenumber/street/city; water,
    parks, woods and the railway their usual tags."""
    import osmium
    from osmium.osm.mutable import Node, Way

    path.unlink(missing_ok=True)
    lines = _osm_lines(m)
    sizes = np.array([len(c) for c, _, _ in lines])
    ll = _wgs84(np.concatenate([c for c, _, _ in lines]))  # one projection for every node
    lon, lat = ll[:, 0].tolist(), ll[:, 1].tolist()
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]]) + 1  # node ids from 1
    writer = osmium.SimpleWriter(str(path))
    try:
        for i in range(len(lon)):
            writer.add_node(Node(id=i + 1, location=(lon[i], lat[i]), version=1))
        for k, ((_, tags, closed), a, n) in enumerate(
            zip(lines, first.tolist(), sizes.tolist(), strict=True), 1
        ):
            refs = list(range(a, a + n))
            writer.add_way(Way(id=k, nodes=[*refs, a] if closed else refs, tags=tags, version=1))
    finally:
        writer.close()
    return {"nodes": len(lon), "ways": len(lines)}


__all__ = ["Feature", "House", "TownMap", "build_map", "write_addresses", "write_gpkg", "write_osm"]
