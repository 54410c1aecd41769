"""A generated road network on the British National Grid, and routes along it.

Towns get a jittered street lattice, the country a sparse set of junctions joined by
rural roads. Shortest travel times between all junctions are precomputed once
(Floyd–Warshall over numpy arrays), so a route is a lookup of next hops.

`name_roads` gives every road a plausible made-up name and/or number, the same for the
same seed and drawn from its own random stream (so naming changes no other output):
A-road numbers on the routes joining the towns, B-road numbers on the roads leading out of
a town, English and Welsh street names along each row and column of a town's lattice,
and lane names in the country. `roads_geojson` writes them as WGS84 lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

URBAN_SPEED_MPS = 11.0  # about 25 mph with junctions
RURAL_SPEED_MPS = 19.0  # about 42 mph on B roads and lanes
OFFROAD_SPEED_MPS = 6.0  # driveways, car parks, the last few metres


@dataclass(frozen=True)
class Town:
    """A built-up place: centre (BNG metres), radius, name."""

    name: str
    x: float
    y: float
    radius_m: float


@dataclass
class RoadNetwork:
    """Junctions (x, y), whether each is urban, and all-pairs next hops and travel times."""

    x: np.ndarray
    y: np.ndarray
    urban: np.ndarray
    next_hop: np.ndarray  # int32 [n, n]: the next junction from i towards j
    seconds: np.ndarray  # float32 [n, n]: shortest travel time i → j
    # The roads themselves: junction pairs (i < j) joined by a road, and the street spacing
    # of the town lattices (`name_roads` names them).
    edges: np.ndarray = field(default_factory=lambda: np.empty((0, 2), np.int64))
    spacing: float = 450.0

    def nearest(self, x: float, y: float) -> int:
        """Index of the junction nearest to (x, y)."""
        return int(np.argmin((self.x - x) ** 2 + (self.y - y) ** 2))

    def route(
        self, x0: float, y0: float, x1: float, y1: float, t0: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Times, xs, ys of a drive from (x0, y0) to (x1, y1) leaving at t0 (seconds)."""
        a, b = self.nearest(x0, y0), self.nearest(x1, y1)
        direct = float(np.hypot(x1 - x0, y1 - y0))
        if a == b or direct < 400.0:
            nodes: list[int] = []
        else:
            nodes = [a]
            while nodes[-1] != b:  # a loop per hop of one trip, not per fix
                nodes.append(int(self.next_hop[nodes[-1], b]))
        xs = np.concatenate([[x0], self.x[nodes], [x1]])
        ys = np.concatenate([[y0], self.y[nodes], [y1]])
        seg = np.hypot(np.diff(xs), np.diff(ys))
        speed = np.full(len(seg), OFFROAD_SPEED_MPS if nodes else URBAN_SPEED_MPS)
        if nodes:
            urban = self.urban[nodes]
            speed[1:-1] = np.where(urban[:-1] & urban[1:], URBAN_SPEED_MPS, RURAL_SPEED_MPS)
        ts = t0 + np.concatenate([[0.0], np.cumsum(seg / speed)])
        return ts, xs, ys


def _lattice(town: Town, spacing: float, rng: np.random.Generator) -> np.ndarray:
    k = int(town.radius_m // spacing)
    g = np.arange(-k, k + 1) * spacing
    gx, gy = np.meshgrid(g, g)
    keep = np.hypot(gx, gy) <= town.radius_m
    pts = np.column_stack([gx[keep] + town.x, gy[keep] + town.y])
    return pts + rng.normal(0, spacing * 0.12, pts.shape)


def _edges(pts: np.ndarray, urban: np.ndarray, spacing: float) -> np.ndarray:
    """Weighted adjacency (seconds; inf = no road): lattice neighbours and rural k-nearest."""
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    both_urban = urban[:, None] & urban[None, :]
    w = np.full(d.shape, np.inf, dtype=np.float64)
    near_urban = both_urban & (d < spacing * 1.5)
    w[near_urban] = d[near_urban] / URBAN_SPEED_MPS
    # Rural roads: every country junction to its 3 nearest others.
    masked = np.where(both_urban | np.eye(len(pts), dtype=bool), np.inf, d)
    country = np.flatnonzero(~urban)
    nearest = np.argsort(masked[country], axis=1)[:, :3]
    rows = np.repeat(country, 3)
    cols = nearest.ravel()
    ok = np.isfinite(masked[rows, cols])
    rows, cols = rows[ok], cols[ok]
    w[rows, cols] = np.minimum(w[rows, cols], d[rows, cols] * 1.25 / RURAL_SPEED_MPS)
    w = np.minimum(w, w.T)
    np.fill_diagonal(w, 0.0)
    return w


def _connect(w: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Join disconnected pieces by their closest junctions until everything is reachable."""
    while True:
        reach = np.isfinite(w[0])
        for _ in range(len(pts)):
            nxt = np.isfinite(w[reach]).any(axis=0) | reach
            if nxt.sum() == reach.sum():
                break
            reach = nxt
        if reach.all():
            return w
        inside, outside = np.flatnonzero(reach), np.flatnonzero(~reach)
        d = np.hypot(
            pts[inside, None, 0] - pts[None, outside, 0],
            pts[inside, None, 1] - pts[None, outside, 1],
        )
        i, j = np.unravel_index(int(np.argmin(d)), d.shape)
        a, b = inside[i], outside[j]
        w[a, b] = w[b, a] = d[i, j] * 1.25 / RURAL_SPEED_MPS


def _floyd_warshall(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(w)
    dist = w.astype(np.float32)
    nxt = np.where(np.isfinite(dist), np.arange(n, dtype=np.int32)[None, :], -1).astype(np.int32)
    for k in range(n):  # n vectorised relaxations over the whole matrix
        via = dist[:, k, None] + dist[None, k, :]
        better = via < dist
        dist = np.where(better, via, dist)
        nxt = np.where(better, nxt[:, k, None], nxt)
    return nxt, dist


def build_network(
    towns: list[Town], villages: np.ndarray, rng: np.random.Generator, spacing: float = 450.0
) -> RoadNetwork:
    """Street lattices in every town plus rural junctions at `villages`, fully connected."""
    lattices = [_lattice(t, spacing, rng) for t in towns]
    urban_pts = np.concatenate(lattices)
    pts = np.concatenate([urban_pts, villages])
    urban = np.concatenate([np.ones(len(urban_pts), bool), np.zeros(len(villages), bool)])
    w = _connect(_edges(pts, urban, spacing), pts)
    nxt, dist = _floyd_warshall(w)
    i, j = np.nonzero(np.triu(np.isfinite(w), 1))
    return RoadNetwork(
        pts[:, 0].copy(),
        pts[:, 1].copy(),
        urban,
        nxt,
        dist,
        np.column_stack([i, j]).astype(np.int64),
        spacing,
    )


# Made-up names in the style of south Wales towns: no real address is meant.
_STEMS = (
    "High",
    "Station",
    "Church",
    "Chapel",
    "Mill",
    "Bridge",
    "Park",
    "Victoria",
    "Commercial",
    "Market",
    "Castle",
    "Gelli",
    "Bryn",
    "Maes",
    "Glan",
    "Pant",
    "Cefn",
    "Penrhiw",
    "Oak",
    "Ash",
    "Woodland",
    "Hill",
    "River",
    "Quarry",
    "School",
    "Mountain",
    "Graig",
    "Nant",
    "Hafod",
    "Coedcae",
    "Brook",
    "Alma",
    "Heol-ddu",
    "Tyle",
    "Llwyn",
    "Rhiw",
    "Ffynnon",
    "Ael-y-bryn",
    "Clos",
    "Garden",
)
_SUFFIXES = (
    "Street",
    "Road",
    "Terrace",
    "Avenue",
    "Place",
    "Crescent",
    "Close",
    "View",
    "Row",
    "Walk",
)
_WELSH = ("Heol", "Ffordd", "Lôn")
_WELSH_TAILS = (
    "y Felin",
    "yr Eglwys",
    "y Parc",
    "y Bryn",
    "Las",
    "Goch",
    "Newydd",
    "y Waun",
    "y Coed",
    "Isaf",
    "Uchaf",
    "Fach",
    "y Nant",
    "yr Ysgol",
    "y Capel",
    "Ddu",
    "Wen",
    "y Mynydd",
    "y Cwm",
    "yr Afon",
    "y Dderwen",
    "Hir",
)
_LANE_STEMS = (
    "Mill",
    "Church",
    "Quarry",
    "Common",
    "Forge",
    "Well",
    "Pound",
    "Green",
    "Moor",
    "Ridge",
    "Pen-y-cae",
    "Cwrt",
    "Ty-draw",
    "Gwern",
)

# OSM `highway` classes the simulator uses.
KIND_A, KIND_B, KIND_STREET, KIND_LANE = "primary", "secondary", "residential", "unclassified"


@dataclass(frozen=True)
class NamedRoad:
    """One named road: its id, name and/or ref, kind, and the network edges it runs along."""

    road_id: str
    name: str | None
    ref: str | None
    kind: str
    edges: np.ndarray = field(repr=False)  # indices into RoadNetwork.edges


def _town_names(rng: np.random.Generator) -> np.ndarray:
    english = [f"{s} {t}" for s in _STEMS for t in _SUFFIXES]
    welsh = [f"{h} {t}" for h in _WELSH for t in _WELSH_TAILS]
    pool = np.array(english + welsh, dtype=object)
    return pool[rng.permutation(len(pool))]


def _lane_names(rng: np.random.Generator) -> np.ndarray:
    pool = np.array(
        [f"{h} {t}" for h in _WELSH for t in _WELSH_TAILS] + [f"{s} Lane" for s in _LANE_STEMS],
        dtype=object,
    )
    return pool[rng.permutation(len(pool))]


def _pick(pool: np.ndarray, k: int) -> np.ndarray:
    """k names from a shuffled pool: distinct while the pool lasts, then repeated."""
    return pool[np.arange(k) % len(pool)]


def _trunk_pairs(towns: list[Town]) -> list[tuple[int, int]]:
    """Town pairs joined by an A road: a minimum spanning tree over the town centres."""
    xy = np.array([[t.x, t.y] for t in towns])
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    inside = {0}
    pairs = []
    while len(inside) < len(towns):  # Prim's algorithm over at most ten towns
        a_in = sorted(inside)
        out = [k for k in range(len(towns)) if k not in inside]
        sub = d[np.ix_(a_in, out)]
        i, j = np.unravel_index(int(np.argmin(sub)), sub.shape)
        pairs.append((a_in[i], out[j]))
        inside.add(out[j])
    return pairs


def _route_edges(
    net: RoadNetwork, a: int, b: int, edge_of: dict[tuple[int, int], int]
) -> list[int]:
    nodes = [a]
    while nodes[-1] != b:  # a loop per junction of one route, once per town pair
        nodes.append(int(net.next_hop[nodes[-1], b]))
    return [edge_of[(min(u, v), max(u, v))] for u, v in pairwise(nodes)]


def name_roads(net: RoadNetwork, towns: list[Town], seed: int) -> list[NamedRoad]:
    """Every edge of the network on exactly one named road; the same seed, the same names.

    Example: ``name_roads(geo.roads, geo.towns, seed=7)[0]`` → NamedRoad('RD0001', …).
    """
    rng = np.random.default_rng([seed, 0x524F4144])  # its own stream: "ROAD"
    edges = net.edges
    m = len(edges)
    if m == 0 or not towns:
        return []
    a, b = edges[:, 0], edges[:, 1]
    edge_of = {(int(u), int(v)): k for k, (u, v) in enumerate(edges.tolist())}
    tx = np.array([t.x for t in towns])
    ty = np.array([t.y for t in towns])
    town = np.argmin((net.x[:, None] - tx) ** 2 + (net.y[:, None] - ty) ** 2, axis=1)
    ix = np.rint((net.x - tx[town]) / net.spacing).astype(np.int64)
    iy = np.rint((net.y - ty[town]) / net.spacing).astype(np.int64)
    street = net.urban[a] & net.urban[b] & (town[a] == town[b])

    # A roads: the routes joining the towns, shorter routes numbered first.
    ref = np.full(m, None, dtype=object)
    pairs = _trunk_pairs(towns)
    centres = [net.nearest(t.x, t.y) for t in towns]
    pairs.sort(key=lambda p: (float(net.seconds[centres[p[0]], centres[p[1]]]), p))
    numbers = rng.choice(np.arange(4000, 5000), size=len(pairs), replace=False)
    for (p, q), number in zip(pairs, numbers.tolist(), strict=True):
        route = _route_edges(net, centres[p], centres[q], edge_of)
        free = [k for k in route if ref[k] is None]
        ref[free] = f"A{number}"
    is_a = np.array([r is not None for r in ref.tolist()], dtype=bool)

    # Town streets: one name per lattice row and column of each town; a diagonal street
    # (or any other) is a short close or walk of its own.
    horizontal = street & (iy[a] == iy[b]) & (np.abs(ix[a] - ix[b]) == 1)
    vertical = street & (ix[a] == ix[b]) & (np.abs(iy[a] - iy[b]) == 1)
    key = np.full(m, -1, dtype=np.int64)
    span = 1000
    key[horizontal] = (town[a] * 2 * span + iy[a] + span // 2)[horizontal]
    key[vertical] = (town[a] * 2 * span + span + ix[a] + span // 2)[vertical]
    other = street & (key < 0)
    key[other] = 10_000_000 + np.flatnonzero(other)
    name = np.full(m, None, dtype=object)
    pool = _town_names(rng)
    for t in range(len(towns)):  # a loop per town (at most ten)
        mine = street & (town[a] == t)
        keys, inverse = np.unique(key[mine], return_inverse=True)
        name[mine] = _pick(np.roll(pool, -37 * t), len(keys))[inverse]

    # Country roads: B roads out of a town, lanes elsewhere (named; B roads numbered too).
    rural = ~street
    out_of_town = rural & ~is_a & (net.urban[a] | net.urban[b])
    lanes = _lane_names(rng)
    name[rural] = _pick(lanes, int(rural.sum()))
    b_numbers = rng.choice(np.arange(4200, 4700), size=int(out_of_town.sum()), replace=False)
    ref[out_of_town] = np.array([f"B{n}" for n in b_numbers.tolist()], dtype=object)
    kind = np.where(
        is_a, KIND_A, np.where(out_of_town, KIND_B, np.where(street, KIND_STREET, KIND_LANE))
    )
    # An A road keeps the street names it runs along in town, and none in the country.
    name[is_a & rural] = None

    # One road per name and number in each town; an A road's country stretch is one
    # road; a country lane or B road is one road per edge (lane names repeat).
    where = np.where(street, town[a], np.where(is_a, -1, len(towns) + np.arange(m)))
    group: dict[tuple[str, str, str, int], list[int]] = {}
    for k, g in enumerate(
        zip(name.tolist(), ref.tolist(), kind.tolist(), where.tolist(), strict=True)
    ):  # a loop per road edge (hundreds), once
        group.setdefault((g[0] or "", g[1] or "", g[2], g[3]), []).append(k)
    return [
        NamedRoad(f"RD{n:04d}", nm or None, rf or None, kd, np.array(ks))
        for n, ((nm, rf, kd, _), ks) in enumerate(sorted(group.items()), start=1)
    ]


def roads_geojson(net: RoadNetwork, towns: list[Town], seed: int, crs: str = "EPSG:27700") -> str:
    """The named roads as a GeoJSON FeatureCollection of WGS84 (Multi)LineStrings with
    properties road_id, name, ref and kind (OSM's `highway` class)."""
    import json

    import shapely

    from whereabouts.tracks.projection import to_wgs84

    roads = name_roads(net, towns, seed)
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

    def wgs84(xy: np.ndarray) -> np.ndarray:
        lat, lon = to_wgs84(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([np.round(lon, 6), np.round(lat, 6)])

    merged = shapely.line_merge(
        np.array([shapely.multilinestrings(segs[r.edges]) for r in roads], dtype=object)
    )
    lines = shapely.transform(merged, wgs84)
    features = [
        {
            "type": "Feature",
            "properties": {"road_id": r.road_id, "name": r.name, "ref": r.ref, "kind": r.kind},
            "geometry": json.loads(shapely.to_geojson(g)),
        }
        for r, g in zip(roads, lines, strict=True)
    ]
    body = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    return '{"type": "FeatureCollection", "features": [\n' + body + "\n]}\n"


__all__ = [
    "KIND_A",
    "KIND_B",
    "KIND_LANE",
    "KIND_STREET",
    "NamedRoad",
    "RoadNetwork",
    "Town",
    "build_network",
    "name_roads",
    "roads_geojson",
]
