"""How long the web app's street map takes to build: the vector tiles of a whole force's map.

For each size, the simulator's geography and map (`simulate.geography`, `simulate.mapdata`:
towns with streets, houses and addresses, water, green space, rail) are written as the demo
writes them, ingested into a fresh workspace through the real readers (roads from GeoJSON,
buildings from the OSM PBF, addresses from the OS-style CSV, the rest from the GeoPackage),
and `web.vectortiles.build_tiles` is timed (wall and CPU seconds; the machine's load
average beside it). An existing workspace can be timed instead (`--workspace`).

    .venv/bin/python bench/tiles.py                       # the demo force's map, and a larger one
    .venv/bin/python bench/tiles.py --officers 40 --officers 2000 --size-km 30 --size-km 60
    .venv/bin/python bench/tiles.py --workspace DEMO/workspace
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def make_map_workspace(root: Path, officers: int, size_km: float, seed: int = 7) -> Path:
    """A workspace holding only the simulated force area's map layers (and its roads)."""
    from whereabouts.simulate import export as ex
    from whereabouts.simulate.config import SimConfig
    from whereabouts.simulate.demo import INGEST_ORDER
    from whereabouts.simulate.force import _write_map
    from whereabouts.simulate.geography import build_geography
    from whereabouts.store.workspace import Workspace
    from whereabouts.vocabulary import MAP_KINDS

    config = SimConfig(seed=seed, officers=officers, size_m=size_km * 1000.0)
    geo = build_geography(config, np.random.default_rng(config.seed))
    data = root / "data"
    data.mkdir(parents=True)
    rows: dict[str, int] = {}
    _write_map(data, geo, config, rows)
    ex.write_roads(data / "roads.geojson", geo.roads, geo.towns, config.seed)
    ws = Workspace.init(root / "workspace", timezone=config.timezone)
    for kind, name, profile in INGEST_ORDER:
        if kind in MAP_KINDS:
            ws.ingest(kind, [data / name], profile=profile)
    print(
        f"  {officers} officers, {size_km:g} km square: {len(geo.towns)} towns; "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(rows.items()))
    )
    return ws.path


def time_build(workspace: Path) -> None:
    """Build the workspace's tiles into a temporary file, timed."""
    from whereabouts.store.workspace import Workspace
    from whereabouts.web.vectortiles import build_tiles

    crs = Workspace.open(workspace).crs
    with tempfile.TemporaryDirectory(prefix="wa-tiles-") as tmp:
        out = Path(tmp) / "map.mbtiles"
        before = _load()
        w0, c0 = time.perf_counter(), time.process_time()
        n = build_tiles(workspace, crs, out)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        print(
            f"  build_tiles: {n:,} tiles, {out.stat().st_size / 1e6:.1f} MB in {wall:.1f} s wall, "
            f"{cpu:.1f} s CPU ({n / max(cpu, 1e-9):.0f} tiles per CPU second); "
            f"before: {before}; after: {_load()}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, help="time this workspace's map instead")
    parser.add_argument(
        "--officers",
        type=int,
        action="append",
        help="force size (towns: 3 + officers // 250); repeat for more (default 40 and 2000)",
    )
    parser.add_argument(
        "--size-km",
        type=float,
        action="append",
        help="side of the force area, one per --officers (default 30 and 60)",
    )
    args = parser.parse_args(argv)
    if args.workspace:
        print(f"workspace {args.workspace}")
        time_build(args.workspace)
        return 0
    officers = args.officers or [40, 2000]
    sizes = args.size_km or ([30.0, 60.0] if not args.officers else [30.0] * len(officers))
    if len(sizes) != len(officers):
        parser.error("give one --size-km per --officers")
    for n, km in zip(officers, sizes, strict=True):
        with tempfile.TemporaryDirectory(prefix="wa-tiles-ws-") as tmp:
            t0 = time.perf_counter()
            ws = make_map_workspace(Path(tmp), n, km)
            print(f"  (map simulated and ingested in {time.perf_counter() - t0:.1f} s)")
            time_build(ws)
    return 0


if __name__ == "__main__":
    sys.exit(main())
