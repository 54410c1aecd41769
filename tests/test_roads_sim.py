"""Roads end to end: the simulator names its roads, the demo ingests them, and occasions of
a small simulated force say which road they were on — checked against a brute-force
distance from every road in roads.geojson, projected with pyproj directly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import shapely
from pyproj import Transformer

from whereabouts.analysis.investigate import investigate
from whereabouts.analysis.params import AnalysisParams
from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.demo import ingest_simulation
from whereabouts.simulate.force import simulate
from whereabouts.simulate.geography import build_geography
from whereabouts.simulate.roads import KIND_A, name_roads, roads_geojson
from whereabouts.store.runs import RunSummary

START = datetime(2024, 3, 25, tzinfo=UTC)


def test_every_road_edge_is_named_once_and_a_roads_join_the_towns() -> None:
    config = SimConfig(seed=11)
    geo = build_geography(config, np.random.default_rng(config.seed))
    roads = name_roads(geo.roads, geo.towns, config.seed)
    edges = np.sort(np.concatenate([r.edges for r in roads]))
    assert edges.tolist() == list(range(len(geo.roads.edges)))  # each edge on one road
    assert all(r.name or r.ref for r in roads)
    assert len({r.road_id for r in roads}) == len(roads)
    a_refs = {r.ref for r in roads if r.kind == KIND_A}
    assert len(a_refs) == len(geo.towns) - 1  # a spanning tree of the towns
    assert all(ref is not None and ref.startswith("A") and len(ref) == 5 for ref in a_refs)
    # The A roads together connect every town centre.
    a_edges = np.concatenate([r.edges for r in roads if r.kind == KIND_A])
    e = geo.roads.edges[a_edges]
    reach = {geo.roads.nearest(geo.towns[0].x, geo.towns[0].y)}
    for _ in range(len(e)):
        reach |= {int(v) for u, v in np.vstack([e, e[:, ::-1]]).tolist() if u in reach}
    assert all(geo.roads.nearest(t.x, t.y) in reach for t in geo.towns)


def test_names_are_the_same_for_a_seed_and_differ_between_seeds() -> None:
    config = SimConfig(seed=5)
    geo = build_geography(config, np.random.default_rng(config.seed))
    one = roads_geojson(geo.roads, geo.towns, 5)
    assert one == roads_geojson(geo.roads, geo.towns, 5)
    names = [f["properties"]["name"] for f in json.loads(one)["features"]]
    other = [
        f["properties"]["name"]
        for f in json.loads(roads_geojson(geo.roads, geo.towns, 6))["features"]
    ]
    assert names != other


@dataclass
class Run:
    data: Path
    ingested: dict[str, dict[str, int]]
    occasions: pa.Table
    summary: RunSummary
    stops: pa.Table  # the crewed pair's unexplained stops


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("roads_sim")
    config = SimConfig(seed=3, officers=30, days=2)
    sim = simulate(config, out / "data")
    ws, reports = ingest_simulation(out / "data", out / "ws", config.timezone)
    subjects = sorted(sim.cast["meeting_pair"])
    result = investigate(
        ws, subjects, START, START + timedelta(days=config.days), out_dir=out / "run"
    )
    crewed = investigate(
        ws,
        sorted(sim.cast["crewed_pair"]),
        START,
        START + timedelta(days=config.days),
        out_dir=out / "crewed",
    )
    return Run(
        out / "data",
        {Path(r.file).name: r.counts for r in reports},
        result.occasions,
        result.summary,
        crewed.stops,
    )


def test_the_simulated_roads_are_ingested_without_loss(run: Run) -> None:
    counts = run.ingested["roads.geojson"]
    n = len(json.loads((run.data / "roads.geojson").read_text(encoding="utf-8"))["features"])
    assert counts == {"read": n, "accepted": n, "duplicates": 0, "quarantined": 0}


def _check_nearest_roads(run: Run, rows: list[dict[str, Any]]) -> int:
    """Each row's road against a brute force over every road (no spatial index); how many
    rows were near enough to a road to name it."""
    limit = AnalysisParams().road_distance_m
    features = json.loads((run.data / "roads.geojson").read_text(encoding="utf-8"))["features"]
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    geoms = shapely.transform(
        shapely.from_geojson([json.dumps(f["geometry"]) for f in features]),
        lambda c: np.column_stack(to_bng.transform(c[:, 0], c[:, 1])),
    )
    labels = np.array(
        [
            " ".join(v for v in (f["properties"]["ref"], f["properties"]["name"]) if v)
            for f in features
        ],
        dtype=object,
    )
    named = 0
    for o in rows:
        d = shapely.distance(geoms, shapely.Point(o["x"], o["y"]))
        nearest = float(d.min())
        if nearest <= limit:
            named += 1
            assert o["road_distance_m"] == pytest.approx(nearest, abs=0.05)
            assert o["road"] in set(labels[d <= nearest + 0.05])
            assert o["where_text"].startswith(f"on {o['road']} (")
        else:
            assert o["road"] is None and o["road_distance_m"] is None
            assert o["where_text"] is None or not o["where_text"].startswith("on ")
    return named


def test_occasions_name_the_nearest_road_within_the_distance(run: Run) -> None:
    occ = run.occasions.to_pylist()
    assert occ, "the planted pair met"
    assert _check_nearest_roads(run, occ) >= 1, "some occasion of the planted pair is on a road"
    assert "within 50 m" in run.summary.road_rule


def test_unexplained_stops_name_their_road_too(run: Run) -> None:
    stops = run.stops.to_pylist()
    assert stops, "the crewed pair parked up"
    _check_nearest_roads(run, stops)
    # a planted stop is at a lay-by or quiet spot: on or beside a road
    assert any(s["road"] for s in stops)
