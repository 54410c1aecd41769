"""What a basemap costs the evidential report: time and size, with and without, same run.

Simulates a force with a planted case (the demo's steps: simulate, ingest, investigate),
writes a synthetic raster MBTiles over the case's area (flat-coloured PNG tiles, zooms 10
to 16), then builds the report --repeat times each way, alternating, and prints the medians,
the ratio and the HTML and PDF sizes. Also prints the per-tile affine's largest error over
the tiles drawn (metres).

    .venv/bin/python bench/basemap.py --days 7 --repeat 3
"""

from __future__ import annotations

import argparse
import io
import sqlite3
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

from whereabouts.basemap import affine_residual_m, open_basemap, plan_tiles
from whereabouts.basemap.mercator import tile_xy
from whereabouts.report import ReportOptions, build_report
from whereabouts.simulate.demo import STEPS, run_demo
from whereabouts.tracks.projection import to_wgs84

COLOURS = ((222, 214, 196), (205, 222, 196), (196, 210, 222), (230, 226, 214))


def make_mbtiles(
    path: Path, bounds: tuple[float, float, float, float], zooms: tuple[int, int]
) -> int:
    """A raster MBTiles of flat-coloured 256-pixel tiles over `bounds`; returns the tile count."""
    blobs = []
    for c in COLOURS:
        buf = io.BytesIO()
        Image.new("RGB", (256, 256), c).save(buf, format="PNG")
        blobs.append(buf.getvalue())
    rows = []
    for z in range(zooms[0], zooms[1] + 1):
        xs, ys = tile_xy(np.array([bounds[0], bounds[2]]), np.array([bounds[3], bounds[1]]), z)
        gx, gy = np.meshgrid(
            np.arange(int(xs[0]), int(xs[1]) + 1), np.arange(int(ys[0]), int(ys[1]) + 1)
        )
        for x, y in zip(gx.ravel().tolist(), gy.ravel().tolist(), strict=True):
            rows.append((z, x, (1 << z) - 1 - y, blobs[(x % 2) + 2 * (y % 2)]))
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name text, value text)")
    db.execute(
        "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
        "tile_data blob)"
    )
    db.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [
            ("name", "bench"),
            ("format", "png"),
            ("bounds", ",".join(f"{b:.6f}" for b in bounds)),
            ("minzoom", str(zooms[0])),
            ("maxzoom", str(zooms[1])),
            ("attribution", "synthetic tiles for the benchmark"),
        ],
    )
    db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    return len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--officers", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pdf", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="reuse or keep the simulated case here (default: a temporary folder)",
    )
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-basemap-"))
    t0 = time.perf_counter()
    run_demo(
        out,
        seed=args.seed,
        officers=args.officers,
        days=args.days,
        start=date(2024, 3, 4),
        say=lambda _: None,
        steps=STEPS[:-1],
    )  # no report
    print(f"case prepared in {time.perf_counter() - t0:.0f} s in {out}")
    ws = out / "workspace"
    run = next(p.parent for p in sorted((ws / "runs").glob("**/occasions.parquet")))
    occ = pq.read_table(run / "occasions.parquet", columns=["x", "y"])
    x = np.asarray(occ["x"].to_numpy(), float)
    y = np.asarray(occ["y"].to_numpy(), float)
    lat, lon = to_wgs84(
        np.array([x.min() - 8000, x.max() + 8000]),
        np.array([y.min() - 8000, y.max() + 8000]),
        "EPSG:27700",
    )
    bounds = (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))
    tiles = out / "bench.mbtiles"
    t1 = time.perf_counter()
    n = make_mbtiles(tiles, bounds, (10, 16))
    print(
        f"{occ.num_rows} occasions; MBTiles of {n} tiles, {tiles.stat().st_size / 1e6:.1f} MB, "
        f"written in {time.perf_counter() - t1:.1f} s"
    )

    times: dict[str, list[float]] = {"without": [], "with": []}
    sizes: dict[str, tuple[int, int]] = {}
    for i in range(args.repeat):
        for label, basemap in (("without", None), ("with", str(tiles))):
            dest = out / f"report-{label}-{i}"
            t = time.perf_counter()
            result = build_report(
                ws,
                out_dir=dest,
                occasions_dir=run,
                options=ReportOptions(pdf=args.pdf, basemap=basemap),
            )
            times[label].append(time.perf_counter() - t)
            sizes[label] = (
                result.html.stat().st_size,
                result.pdf.stat().st_size if result.pdf else 0,
            )
    same = (out / "report-with-0" / "report.html").read_bytes() == (
        out / f"report-with-{args.repeat - 1}" / "report.html"
    ).read_bytes()
    for label in ("without", "with"):
        html, pdf = sizes[label]
        print(
            f"  {label:7s} basemap: median {statistics.median(times[label]):6.1f} s, "
            f"fastest {min(times[label]):6.1f} s "
            f"(runs {', '.join(f'{v:.1f}' for v in times[label])}); "
            f"HTML {html / 1e6:.2f} MB, PDF {pdf / 1e6:.2f} MB"
        )
    print(
        f"  ratio with/without: median {statistics.median(times['with']) / statistics.median(times['without']):.2f}, "
        f"fastest {min(times['with']) / min(times['without']):.2f}; "
        f"HTML byte-identical across runs: {same}"
    )

    # The affine's error over the tiles an overview-sized map (20 km, 1000 px) would draw.
    src = open_basemap(tiles)
    cx, cy = float(np.median(x)), float(np.median(y))
    for width_m in (2000.0, 20000.0):
        view = plan_tiles(
            src.info,
            (cx - width_m / 2, cx + width_m / 2, cy - width_m / 3, cy + width_m / 3),
            "EPSG:27700",
            1000,
        )
        if view.tiles:
            err = affine_residual_m(
                int(view.zoom or 0),
                np.array([t.x for t in view.tiles]),
                np.array([t.y for t in view.tiles]),
                "EPSG:27700",
            )
            print(
                f"  map {width_m / 1000:g} km wide: zoom {view.zoom}, {len(view.tiles)} tiles, "
                f"largest affine error {err.max():.3f} m"
            )
    src.close()


if __name__ == "__main__":
    main()
