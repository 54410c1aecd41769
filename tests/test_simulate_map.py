"""The simulated map: houses along the streets with numbered addresses, water, parks,
woods, a railway; written as GeoPackage and OSM PBF and read back through the real map
readers (GDAL and pyosmium) with every feature accounted for."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import shapely

from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.geography import build_geography
from whereabouts.simulate.mapdata import (
    HOUSE_SETBACK_M,
    TownMap,
    build_map,
    write_addresses,
    write_gpkg,
    write_osm,
)
from whereabouts.store.workspace import Workspace


@pytest.fixture(scope="module")
def town_map() -> TownMap:
    c = SimConfig(seed=11, officers=30, days=1)
    geo = build_geography(c, np.random.default_rng(c.seed))
    return build_map(geo.roads, geo.towns, c.seed, (c.origin_e, c.origin_n, c.size_m))


def test_houses_line_the_streets_numbered_odd_and_even(town_map: TownMap) -> None:
    houses = town_map.houses
    assert len(houses) > 1000
    named: dict[str, list[shapely.Geometry]] = defaultdict(list)
    for r in town_map.roads:
        if r[1]:
            named[r[1]].append(r[4])
    roads = {k: shapely.union_all(v) for k, v in named.items()}
    by_street: dict[tuple[str, str], list[int]] = defaultdict(list)
    for h in houses:
        by_street[(h.street, h.town)].append(h.number)
    for numbers in by_street.values():
        odd = sorted(n for n in numbers if n % 2)
        even = sorted(n for n in numbers if not n % 2)
        assert odd == list(range(1, 2 * len(odd), 2))  # 1, 3, 5, … with none missing
        assert even == list(range(2, 2 * len(even) + 1, 2))
    geoms = np.array([h.geometry for h in houses])
    street = np.array([roads[h.street] for h in houses])
    gap = shapely.distance(geoms, street)
    assert gap.min() > HOUSE_SETBACK_M - 1.0  # set back from their own street
    assert gap.max() < HOUSE_SETBACK_M + 1.0
    # Houses 1 and 3 of a street are neighbours on one side; 1 and 2 face each other.
    first = {h.number: h.geometry for h in houses if (h.street, h.town) == next(iter(by_street))}
    assert shapely.distance(first[1], first[3]) < 12.0
    assert shapely.distance(first[1], first[2]) > 2 * HOUSE_SETBACK_M - 1.0
    # none in the river or on the railway, and none overlapping another
    river = next(f.geometry for f in town_map.water if f.kind == "river")
    assert not shapely.intersects(geoms, shapely.buffer(river, 9.0)).any()
    assert not shapely.intersects(geoms, town_map.rail[0].geometry).any()
    tree = shapely.STRtree(geoms)
    pairs = tree.query(geoms, predicate="intersects")
    assert (pairs[0] == pairs[1]).all()


def test_written_map_reads_back_through_both_readers(town_map: TownMap, tmp_path: Path) -> None:
    gpkg, pbf, csv = tmp_path / "map.gpkg", tmp_path / "map.osm.pbf", tmp_path / "a.csv"
    layers = write_gpkg(gpkg, town_map)
    write_osm(pbf, town_map)
    write_addresses(csv, town_map)
    ws = Workspace.init(tmp_path / "ws")
    n = len(town_map.houses)
    osm = {r.kind: r.counts for r in ws.ingest("map", [pbf])}
    assert osm["buildings"] == {"read": n, "accepted": n, "duplicates": 0, "quarantined": 0}
    assert osm["addresses"] == {"read": n, "accepted": n, "duplicates": 0, "quarantined": 0}
    assert osm["roads"]["accepted"] == sum(len(shapely.get_parts(r[4])) for r in town_map.roads)
    assert osm["rail"]["accepted"] == 1 and osm["water"]["accepted"] == len(town_map.water)
    assert osm["green"]["accepted"] == len(town_map.green)
    got = sorted(ws.table("addresses").column("address").to_pylist())
    assert got == sorted(h.address for h in town_map.houses)
    ws2 = Workspace.init(tmp_path / "ws2")
    g = {r.kind: r.counts for r in ws2.ingest("map", [gpkg])}
    assert g["roads"]["accepted"] == layers["road_link"] == len(town_map.roads)
    assert g["buildings"]["accepted"] == layers["building"] == n
    assert g["water"]["accepted"] == len(town_map.water)
    assert g["green"]["accepted"] == len(town_map.green)
    assert all(c["quarantined"] == 0 for c in g.values())
    # the same house, from each source, lands in the same place (to a few centimetres)
    a = ws.table("addresses").to_pylist()
    (r,) = ws2.ingest("addresses", [csv], profile="os-addresses")
    assert r.counts["accepted"] == n
    b = {x["address"]: (x["x"], x["y"]) for x in ws2.table("addresses").to_pylist()}
    d = [np.hypot(p["x"] - b[p["address"]][0], p["y"] - b[p["address"]][1]) for p in a]
    assert max(d) < 1.0


def test_the_same_seed_writes_the_same_bytes(town_map: TownMap, tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        write_gpkg(tmp_path / folder / "map.gpkg", town_map)
        write_osm(tmp_path / folder / "map.osm.pbf", town_map)
    for name in ("map.gpkg", "map.osm.pbf"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
