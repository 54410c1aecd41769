"""A generated road network on the British National Grid, and routes along it.

Towns get a jittered street lattice, the country a sparse set of junctions joined by
rural roads. Shortest travel times between all junctions are precomputed once
(Floyd–Warshall over numpy arrays), so a route is a lookup of next hops.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def nearest(self, x: float, y: float) -> int:
        """Index of the junction nearest to (x, y)."""
        return int(np.argmin((self.x - x) ** 2 + (self.y - y) ** 2))

    def route(self, x0: float, y0: float, x1: float, y1: float,
              t0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        d = np.hypot(pts[inside, None, 0] - pts[None, outside, 0],
                     pts[inside, None, 1] - pts[None, outside, 1])
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


def build_network(towns: list[Town], villages: np.ndarray, rng: np.random.Generator,
                  spacing: float = 450.0) -> RoadNetwork:
    """Street lattices in every town plus rural junctions at `villages`, fully connected."""
    lattices = [_lattice(t, spacing, rng) for t in towns]
    urban_pts = np.concatenate(lattices)
    pts = np.concatenate([urban_pts, villages])
    urban = np.concatenate([np.ones(len(urban_pts), bool), np.zeros(len(villages), bool)])
    w = _connect(_edges(pts, urban, spacing), pts)
    nxt, dist = _floyd_warshall(w)
    return RoadNetwork(pts[:, 0].copy(), pts[:, 1].copy(), urban, nxt, dist)


__all__ = ["RoadNetwork", "Town", "build_network"]
