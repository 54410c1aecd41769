"""Roads: reading a county-sized roads layer, and naming the nearest road of many occasions.

Generates a synthetic street grid (a GeoJSON of --roads named lines over a 40 km square in
Great Britain) and --points occasion points, then times, median of --repeat runs:
  - `read("roads", …)`: parse, check and project every feature;
  - `nearest_roads` (one STRtree query_nearest over all points) against a brute-force
    baseline (shapely.distance from each of --baseline-points points to every road);
  - `where_texts` (nearest place and road, and the sentence) against the SQL join of every
    occasion with every place that found the nearest place before (the baseline).

    .venv/bin/python bench/roads.py --roads 20000 --points 20000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np
import pyarrow as pa
import shapely

from whereabouts.analysis.inputs import Inputs, fetch
from whereabouts.analysis.occasions import nearest_roads, place_names, where_texts
from whereabouts.analysis.params import AnalysisParams
from whereabouts.io.read import read
from whereabouts.io.result import ReadResult
from whereabouts.tracks.projection import to_wgs84

# How the nearest place was found before roads came (every occasion × every place).
JOIN_PLACES = """
    SELECT t.occasion_id, arg_min(coalesce(p.name, p.place_id),
                                  sqrt((p.x - t.x)^2 + (p.y - t.y)^2)) AS place,
           min(sqrt((p.x - t.x)^2 + (p.y - t.y)^2)) AS place_distance_m
    FROM pts t JOIN places p ON t.x IS NOT NULL AND p.kind <> 'home'
    GROUP BY t.occasion_id
"""
ORIGIN = (300_000.0, 170_000.0)  # south Wales, British National Grid
SIZE = 40_000.0


def roads_file(path: Path, n: int, rng: np.random.Generator) -> None:
    """n short named roads (2–6 vertices, 100–600 m) scattered over the square."""
    k = rng.integers(2, 7, n)
    start = np.column_stack([rng.uniform(0, SIZE, n), rng.uniform(0, SIZE, n)]) + ORIGIN
    steps = rng.normal(0, 120, (int(k.sum()), 2))
    owner = np.repeat(np.arange(n), k)
    first = np.concatenate([[0], np.cumsum(k)[:-1]])
    steps[first] = 0.0
    xy = (
        start[owner]
        + np.cumsum(steps, axis=0)
        - np.repeat(np.cumsum(steps, axis=0)[first], k, axis=0)
    )
    lat, lon = to_wgs84(xy[:, 0], xy[:, 1])
    coords = np.split(np.column_stack([np.round(lon, 6), np.round(lat, 6)]), np.cumsum(k)[:-1])
    feats = [
        json.dumps(
            {
                "type": "Feature",
                "id": f"way/{i}",
                "properties": {
                    "name": f"Road {i}",
                    "ref": f"B{i % 9000 + 1000}" if i % 7 == 0 else None,
                    "highway": "residential",
                },
                "geometry": {"type": "LineString", "coordinates": c.tolist()},
            }
        )
        for i, c in enumerate(coords)
    ]
    path.write_text(
        '{"type": "FeatureCollection", "features": [\n' + ",\n".join(feats) + "\n]}\n",
        encoding="utf-8",
    )


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--roads", type=int, default=20_000)
    ap.add_argument("--points", type=int, default=20_000)
    ap.add_argument("--places", type=int, default=200)
    ap.add_argument("--baseline-points", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="bench-roads-"))
    path = folder / "roads.geojson"
    roads_file(path, args.roads, rng)
    t_read, result = median_time(lambda: read("roads", path), args.repeat)
    roads = cast(ReadResult, result).accepted
    roads = roads.append_column("src_file", pa.array(["bench"] * roads.num_rows))
    print(
        f"read {args.roads} roads ({path.stat().st_size / 1e6:.1f} MB): {t_read:.2f} s "
        f"median of {args.repeat}"
    )

    x = rng.uniform(0, SIZE, args.points) + ORIGIN[0]
    y = rng.uniform(0, SIZE, args.points) + ORIGIN[1]
    limit = AnalysisParams().road_distance_m
    t_tree, found_roads = median_time(lambda: nearest_roads(x, y, roads, limit), args.repeat)
    index, dist = cast(tuple[np.ndarray, np.ndarray], found_roads)
    geoms = shapely.from_wkb(roads["geometry_wkb"].to_numpy(zero_copy_only=False))
    m = min(args.baseline_points, args.points)

    def brute() -> np.ndarray:
        return np.array(
            [
                shapely.distance(geoms, shapely.Point(a, b)).min()
                for a, b in zip(x[:m], y[:m], strict=True)
            ]
        )

    t_brute, best = median_time(brute, args.repeat)
    best = np.asarray(best)
    found = index[:m] >= 0
    assert np.array_equal(found, best <= limit), "STRtree and brute force disagree"
    assert np.allclose(dist[:m][found], best[found])
    per_tree = t_tree / args.points
    per_brute = t_brute / m
    print(
        f"nearest road for {args.points} points: {t_tree:.3f} s "
        f"({per_tree * 1e6:.1f} µs a point; {found.mean():.0%} of the first {m} within "
        f"{limit:.0f} m); brute force {per_brute * 1e6:.0f} µs a point: "
        f"{per_brute / per_tree:.0f}× slower"
    )

    places = pa.table(
        {
            "place_id": [f"P{i}" for i in range(args.places)],
            "kind": ["police_station"] * args.places,
            "lat": [0.0] * args.places,
            "lon": [0.0] * args.places,
            "x": rng.uniform(0, SIZE, args.places) + ORIGIN[0],
            "y": rng.uniform(0, SIZE, args.places) + ORIGIN[1],
            "radius_m": [80.0] * args.places,
            "name": [f"Place {i}" for i in range(args.places)],
            "owner_officer_id": pa.nulls(args.places, pa.string()),
        }
    )
    con = Inputs(places=places, roads=roads).connect()
    con.register(
        "pts_arrow",
        pa.table({"occasion_id": [f"o{i:07d}" for i in range(args.points)], "x": x, "y": y}),
    )
    con.execute("CREATE TABLE pts AS SELECT * FROM pts_arrow")
    params = AnalysisParams()
    t_place, _ = median_time(lambda: place_names(con, "pts"), args.repeat)
    t_where, _ = median_time(lambda: where_texts(con, "pts", params), args.repeat)
    t_join, _ = median_time(lambda: fetch(con, JOIN_PLACES), args.repeat)
    print(
        f"where_texts for {args.points} points, {args.places} places: {t_where:.2f} s; "
        f"nearest place alone (STRtree) {t_place:.2f} s; the former SQL join over every "
        f"place {t_join:.2f} s (where_texts / former join: {t_where / t_join:.2f})"
    )


if __name__ == "__main__":
    main()
