"""The Spark backend gives the embedded engine's tables row for row (Spark in local mode)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyarrow import csv

from whereabouts import engine
from whereabouts.engine import EncounterParams, table_differences
from whereabouts.schema import ENCOUNTERS, UTC_TS
from whereabouts.spark import partition
from whereabouts.spark.fleet import fleet, write_days
from whereabouts.tracks.projection import to_projected

PARAMS = EncounterParams(distance_m=100, max_gap_s=120, merge_gap_s=60, min_duration_s=60)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from whereabouts.spark import session

    s = session("local[2]", shuffle_partitions=4)
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def meta(table: pa.Table) -> dict[str, Any]:
    return dict(json.loads(table.schema.metadata[b"whereabouts"]))


def assert_same(embedded: pa.Table, spark: pa.Table) -> None:
    """Every column bit for bit, certain_s and possible_s included (NaN equals NaN)."""
    assert spark.num_rows == embedded.num_rows
    assert table_differences(embedded, spark) == []
    for key in ("fixes_read", "duplicates_dropped", "crs", "params"):
        assert meta(spark)[key] == meta(embedded)[key], key


def assert_has_uncertainty(table: pa.Table) -> None:
    """The comparison covers partial certain/possible time, not only whole encounters."""
    if "certain_s" not in table.column_names:
        return
    certain, duration = table["certain_s"].to_numpy(), table["duration_s"].to_numpy()
    assert ((certain > 0) & (certain < duration)).any()
    assert (table["possible_s"].to_numpy() > 0).all()


# ---------------------------------------------------------------- the executor functions


def test_cell_runs_hold_every_segment_touching_the_cell() -> None:
    rng = np.random.default_rng(3)
    n = 400
    t = np.cumsum(rng.integers(5, 200, n)) * 1_000_000  # some gaps beyond max_gap
    x = 5_000 + np.cumsum(rng.normal(0, 300, n))
    y = 5_000 + np.cumsum(rng.normal(0, 300, n))
    acc = rng.uniform(0, 30, n)
    table = pa.table(
        {"k": np.zeros(n, np.int64), "device_id": ["A"] * n, "t": t, "x": x, "y": y, "acc": acc}
    )
    gap, d, cell = 120_000_000, 80.0, 1_000.0
    out = partition.assign_cells(
        table.take(pa.array(rng.permutation(n))), gap_us=gap, distance_m=d, cell_m=cell
    )
    got: dict[tuple[int, int], np.ndarray] = {}
    for key in {(r["cx"], r["cy"]) for r in out.select(["cx", "cy"]).to_pylist()}:
        sel = pc.and_(pc.equal(out["cx"], key[0]), pc.equal(out["cy"], key[1]))
        got[key] = np.searchsorted(t, out.filter(sel)["t"].to_numpy())
    for idx in got.values():  # a run: consecutive fixes, nothing left out in between
        assert np.array_equal(idx, np.arange(idx[0], idx[-1] + 1))
    # brute force: every segment's padded box, every cell it touches, holds both ends
    for i in np.flatnonzero(np.diff(t) <= gap):
        pad = d / 2 + max(acc[i], acc[i + 1])
        for cx in range(
            int((min(x[i], x[i + 1]) - pad) // cell), int((max(x[i], x[i + 1]) + pad) // cell) + 1
        ):
            for cy in range(
                int((min(y[i], y[i + 1]) - pad) // cell),
                int((max(y[i], y[i + 1]) + pad) // cell) + 1,
            ):
                assert {i, i + 1} <= set(got[(cx, cy)].tolist())


def test_merge_keeps_pairs_apart_and_orders_names() -> None:
    us = 1_707_120_000_000_000
    rows = pa.table(
        {
            "device_a": ["B", "A", "A", "B"],
            "device_b": ["A", "B", "C", "C"],
            "kind": ["within"] * 4,
            "start": [us, us + 200_000_000, us, us],
            "end": [us + 200_000_000, us + 400_000_000, us + 30_000_000, us + 400_000_000],
            "min_distance_m": [5.0, 7.0, 1.0, 50.0],
        },
        schema=partition.PERIOD_ROWS,
    )
    merged = partition.merge_pairs(rows, PARAMS)
    enc = merged.filter(pc.equal(merged["kind"], "encounter")).to_pylist()
    # A–B: two touching pieces (one written B–A) make one 400 s encounter at 5 m;
    # A–C lasts 30 s, under the minimum of 60 s
    assert [
        (r["device_a"], r["device_b"], r["end"] - r["start"], r["min_distance_m"]) for r in enc
    ] == [("A", "B", 400_000_000, 5.0), ("B", "C", 400_000_000, 50.0)]


# ---------------------------------------------------------------- Spark against embedded


@pytest.mark.spark
def test_multi_day_fleet_across_window_and_cell_edges(spark: Any, tmp_path: Path) -> None:
    table = fleet(20, 400, step_s=30, area_m=5_000, parked=5, seed=5)  # 22:00 → 01:20
    dup = table.slice(100, 40)  # same instants, other positions: the smallest x, y is kept
    dup = dup.set_column(2, "x", pc.add(dup["x"], 3.0))
    table = pa.concat_tables([table, dup])
    folder = write_days(table, tmp_path / "fixes")
    assert len(list(folder.glob("day=*"))) == 2
    want = engine.find_encounters(folder, PARAMS, window_s=1_800)
    from whereabouts.spark import find_encounters

    got = find_encounters(spark, str(folder), PARAMS, window_s=1_800, cell_m=2_500)
    assert want.num_rows > 10 and meta(want)["duplicates_dropped"] == 40
    backend = meta(got)["backend"]
    partition_count = backend["partitions"]
    assert backend["windows"] >= 6 and partition_count > backend["windows"]
    assert_has_uncertainty(want)
    assert_same(want, got)
    # encounters do cross the window edges (stitched, not cut)
    edges = pc.not_equal(
        pc.divide(pc.cast(got["start"], pa.int64()), 1_800_000_000),
        pc.divide(pc.cast(got["end"], pa.int64()), 1_800_000_000),
    )
    assert pc.any(edges).as_py()


@pytest.mark.spark
def test_raw_certain_periods_with_automatic_window(spark: Any, tmp_path: Path) -> None:
    from whereabouts.spark import within_periods

    folder = write_days(fleet(25, 300, step_s=60, area_m=4_000, seed=8), tmp_path / "f")
    want = engine.within_periods(folder, PARAMS, kind="certain")
    got = within_periods(spark, folder, PARAMS, kind="certain", cell_m=1_000)
    assert want.num_rows > 10
    assert_same(want, got)


@pytest.mark.spark
def test_skewed_fleet_salts_the_station_cell(spark: Any, tmp_path: Path) -> None:
    from whereabouts.spark import find_encounters

    table = fleet(80, 240, step_s=30, area_m=8_000, parked=50, seed=2)
    folder = write_days(table, tmp_path / "skew")
    want = engine.find_encounters(folder, PARAMS)
    limit = 3_000  # the station's cell holds 50 × 240 = 12 000 fixes
    got = find_encounters(spark, folder, PARAMS, cell_m=2_000, max_cell_fixes=limit)
    backend = meta(got)["backend"]
    assert backend["hot_cells"] >= 1
    assert backend["largest_partition"] <= limit + 240  # ≈ 2/s of the cell, one run over
    assert want.num_rows >= 50 * 49 // 2  # every parked pair meets
    assert_has_uncertainty(want)
    assert_same(want, got)


@pytest.mark.spark
def test_one_to_many_and_device_sets(spark: Any, tmp_path: Path) -> None:
    from whereabouts.spark import find_encounters

    folder = write_days(fleet(40, 200, step_s=30, area_m=3_000, parked=10, seed=4), tmp_path / "f")
    focus = ["R00003", "R00025"]
    want = engine.find_encounters(folder, PARAMS, one_to_many=focus)
    got = find_encounters(
        spark, folder, PARAMS, one_to_many=focus, cell_m=1_000, max_cell_fixes=600
    )
    assert want.num_rows > 5 and meta(got)["backend"]["hot_cells"] >= 1
    assert_same(want, got)
    some = [f"R{i:05d}" for i in range(0, 40, 3)]
    assert_same(
        engine.find_encounters(folder, PARAMS, devices=some),
        find_encounters(spark, folder, PARAMS, devices=some, cell_m=1_000),
    )


@pytest.mark.spark
def test_liverpool_buses_match(spark: Any, real_data: Path, tmp_path: Path) -> None:
    from whereabouts.spark import find_encounters

    raw = csv.read_csv(
        real_data / "liverpool_bus_route14_outbound.csv",
        convert_options=csv.ConvertOptions(
            column_types={"vehicle_id": pa.string(), "timestamp": pa.string()}
        ),
    )
    naive = pc.strptime(raw["timestamp"], format="%Y-%m-%d %H:%M:%S", unit="us")
    lat, lon = raw["latitude"].to_numpy(), raw["longitude"].to_numpy()
    x, y = to_projected(lat, lon, "EPSG:27700")
    table = pa.table(
        {
            "device_id": raw["vehicle_id"],
            "time": naive.cast(pa.int64()).cast(UTC_TS),
            "x": x,
            "y": y,
        }
    )
    folder = write_days(table, tmp_path / "buses")
    params = EncounterParams(distance_m=300, max_gap_s=120, merge_gap_s=60, min_duration_s=0)
    want = engine.find_encounters(folder, params)
    got = find_encounters(spark, folder, params, cell_m=1_000)
    assert want.num_rows > 0
    assert_same(want, got)
    # and from lat/lon only: Spark projects on the executors
    geo = write_days(
        pa.table({"device_id": raw["vehicle_id"], "time": table["time"], "lat": lat, "lon": lon}),
        tmp_path / "geo",
    )
    assert_same(
        engine.find_encounters(geo, params), find_encounters(spark, geo, params, cell_m=1_000)
    )
    assert got.schema.remove_metadata().equals(ENCOUNTERS)


@pytest.mark.spark
def test_encounters_command_with_engine_spark(spark: Any, tmp_path: Path) -> None:
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from whereabouts.cli import app

    folder = write_days(fleet(12, 200, step_s=30, area_m=1_500, seed=9), tmp_path / "f")
    out = tmp_path / "enc.parquet"
    res = CliRunner().invoke(
        app,
        [
            "encounters",
            str(folder),
            "--out",
            str(out),
            "--distance",
            "100",
            "--max-gap",
            "120",
            "--merge-gap",
            "60",
            "--min-duration",
            "60",
            "--engine",
            "spark",
            "--master",
            "local[2]",
        ],
    )
    assert res.exit_code == 0, res.output
    got = pq.read_table(out)
    want = engine.find_encounters(folder, PARAMS)
    assert want.num_rows > 3 and meta(got)["backend"]["engine"] == "spark"
    assert_same(want, got)


# ---------------------------------------------------------------- results the executors write


def test_result_folder_round_trip_and_refusals(tmp_path: Path) -> None:
    from whereabouts.engine.results import MANIFEST, read_result, write_result
    from whereabouts.errors import InputError, WorkspaceError

    folder = write_days(fleet(10, 150, step_s=30, area_m=1_000, seed=1), tmp_path / "f")
    want = engine.find_encounters(folder, PARAMS)
    out = tmp_path / "enc"
    manifest = write_result(want, out, rows_per_part=2)
    assert manifest.rows == want.num_rows > 4 and len(manifest.parts) >= 3
    got = read_result(out)
    assert table_differences(want, got) == [] and got.schema.metadata == want.schema.metadata
    # a part cut short, or no manifest: not a result
    part = out / manifest.parts[1].path
    part.write_bytes(part.read_bytes()[:-10])
    with pytest.raises(InputError, match="not the size"):
        read_result(out)
    (out / MANIFEST).unlink()
    with pytest.raises(InputError, match="stopped before it finished"):
        read_result(out)
    # a write over a complete result that stops part-way leaves the old result whole
    ok = write_result(want, out, rows_per_part=2)
    assert [p.path.split("/")[0] for p in ok.parts] == ["gen-1"] * len(ok.parts)
    (out / "gen-2").mkdir()
    (out / "gen-2" / "part-00000.parquet").write_bytes(b"half written")
    assert table_differences(want, read_result(out)) == []
    # the next write clears the leftovers, commits gen-2 and only then drops gen-1
    again = write_result(want.slice(0, 3), out, rows_per_part=2)
    assert {p.path.split("/")[0] for p in again.parts} == {"gen-2"}
    assert sorted(p.name for p in out.iterdir()) == ["gen-2", MANIFEST]
    assert read_result(out).num_rows == 3
    # a folder holding someone else's files is never cleared
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    with pytest.raises(WorkspaceError, match="not a result"):
        write_result(want, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").exists()


@pytest.mark.spark
def test_executors_write_encounters_and_periods(spark: Any, tmp_path: Path) -> None:
    from whereabouts.engine.results import read_manifest, read_result
    from whereabouts.spark.output import write_encounters, write_periods

    folder = write_days(fleet(20, 300, step_s=30, area_m=3_000, parked=4, seed=6), tmp_path / "f")
    want = engine.find_encounters(folder, PARAMS)
    out = tmp_path / "enc"
    manifest = write_encounters(spark, folder, out, PARAMS, cell_m=1_000)
    assert manifest.written_by == "spark" and manifest.rows == want.num_rows > 10
    assert len(manifest.parts) > 1  # one part per task, each its own pairs
    got = read_result(out)
    assert_same(want, got)
    assert meta(got)["backend"]["engine"] == "spark"
    # a part holds whole pairs: no pair is in two parts
    import pyarrow.parquet as pq

    seen: set[tuple[str, str]] = set()
    for p in read_manifest(out).parts:
        pairs = set(
            zip(
                *pq.read_table(out / p.path, columns=["device_a", "device_b"]).to_pydict().values(),
                strict=True,
            )
        )
        assert not pairs & seen
        seen |= pairs
    # written again over the old result: the same rows, in the next generation only
    again = write_encounters(spark, folder, out, PARAMS, cell_m=1_000)
    assert_same(want, read_result(out))
    assert {p.path.split("/")[0] for p in again.parts} == {"gen-2"}
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "gen-2",
        "manifest.json",
    ]
    raw = tmp_path / "certain"
    write_periods(spark, folder, raw, PARAMS, kind="certain", cell_m=1_000)
    assert_same(engine.within_periods(folder, PARAMS, kind="certain"), read_result(raw))


@pytest.mark.spark
def test_outside_great_britain_the_utm_zone_is_found_as_embedded(
    spark: Any, tmp_path: Path
) -> None:
    from whereabouts.spark import find_encounters
    from whereabouts.spark.fleet import STATION

    table = fleet(15, 200, step_s=30, area_m=2_000, parked=3, seed=12)
    x = table["x"].to_numpy() - STATION[0]
    y = table["y"].to_numpy() - STATION[1]
    lat = 48.85 + y / 111_000  # around Paris: UTM zone 31
    lon = 2.35 + x / (111_000 * np.cos(np.radians(48.85)))
    geo = write_days(
        pa.table({"device_id": table["device_id"], "time": table["time"], "lat": lat, "lon": lon}),
        tmp_path / "paris",
    )
    want = engine.find_encounters(geo, PARAMS)
    got = find_encounters(spark, geo, PARAMS, cell_m=1_000)
    assert meta(want)["crs"] == "EPSG:32631" and want.num_rows > 3
    assert_same(want, got)
