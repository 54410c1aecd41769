"""Screening with the pairwise work on Spark equals the embedded screening."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from whereabouts.analysis.investigate import officers_in
from whereabouts.analysis.investigate import screen as embedded_screen
from whereabouts.engine import table_differences
from whereabouts.simulate.config import Planting, SimConfig
from whereabouts.simulate.demo import ingest_simulation
from whereabouts.simulate.force import simulate

START, END = datetime(2024, 3, 25, tzinfo=UTC), datetime(2024, 3, 27, tzinfo=UTC)


@pytest.fixture(scope="module")
def force(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("force")
    cfg = SimConfig(
        seed=5,
        officers=30,
        days=2,
        planting=Planting(remote_meetings=1, home_meetings=1, secluded_stops=1),
    )
    simulate(cfg, root / "data")
    ingest_simulation(root / "data", root / "ws", cfg.timezone)
    return root / "ws"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from whereabouts.spark import session

    s = session("local[2]", shuffle_partitions=4)
    s.sparkContext.setLogLevel("ERROR")
    yield s


@pytest.mark.spark
@pytest.mark.slow
def test_screening_on_spark_equals_embedded(spark: Any, force: Path, tmp_path: Path) -> None:
    """The executors write the occasions and pair counts, the driver ranks: the embedded
    tables, bit for bit, in result folders either engine reads."""
    from whereabouts.analysis.gather import load_inputs
    from whereabouts.analysis.investigate import shared_hours
    from whereabouts.analysis.screening import pair_counts
    from whereabouts.engine.results import read_manifest, read_result, write_result
    from whereabouts.spark.screening import write_screening
    from whereabouts.store import Workspace

    ws = Workspace.open(force)
    table = ws.table("officers")
    team = str(table["team"][0].as_py())
    officers = officers_in(table, team=team)  # a team: every pair of its officers
    want, want_occ = embedded_screen(ws, officers, START, END)
    # an older screening in the folder: replaced, its ranking first
    write_result(want.slice(0, 1), tmp_path / "s" / "ranked", sort_by=("rank",))
    # more partitions than the session's shuffle partitions: some hold no periods
    got = write_screening(spark, ws, officers, START, END, tmp_path / "s", partitions=5)
    assert want.num_rows == len(officers) * (len(officers) - 1) // 2
    assert want_occ.num_rows > 0
    assert table_differences(want, got.ranked) == []
    assert table_differences(want, read_result(tmp_path / "s" / "ranked")) == []
    occ = read_result(tmp_path / "s" / "occasions")
    assert table_differences(want_occ, occ) == []
    assert got.occasions.rows == want_occ.num_rows and got.occasions.written_by == "spark"
    assert len(got.occasions.parts) > 1  # written by several tasks
    # every pair's counts, one row per pair, as the embedded counting gives them
    hours = shared_hours(load_inputs(ws, [], START, END), officers, START, END)
    counts = pair_counts(want_occ, hours)
    assert table_differences(counts, read_result(tmp_path / "s" / "pairs")) == []
    assert read_manifest(tmp_path / "s" / "pairs").rows == want.num_rows
    # the embedded engine writes the same layout and reads either back alike
    write_result(want_occ, tmp_path / "e", sort_by=got.occasions.sort_by)
    assert table_differences(read_result(tmp_path / "e"), occ) == []


def test_device_pairs_go_to_every_officer_pair_they_can_stand_for() -> None:
    """The keying of screening's work (no Spark needed): a device pair goes to the partition
    of every pair of screened officers that carried its devices; a device two of them held
    at once (a crewed car) to the partition of that pair."""
    import numpy as np
    import pyarrow as pa

    from whereabouts.analysis.inputs import Inputs
    from whereabouts.analysis.params import AnalysisParams
    from whereabouts.spark.screening import (
        _Context,
        _held_together,
        _key_device_pairs,
        pair_partition,
    )

    def at(h: int) -> datetime:
        return datetime(2024, 3, 25, h, tzinfo=UTC)

    assignments = pa.table(
        {
            "officer_id": ["A", "B", "C", "A", "D"],
            "device_id": ["r1", "r2", "car", "car", "r3"],
            "start": pa.array([at(0), at(0), at(8), at(9), at(0)], pa.timestamp("us", "UTC")),
            "end": pa.array([at(12), at(12), at(16), at(17), at(12)], pa.timestamp("us", "UTC")),
        }
    )
    ctx = _Context(Inputs(assignments=assignments), ("A", "B", "C"), (), START, END,
                   AnalysisParams(), 7)  # fmt: skip
    code = {"A": 0, "B": 1, "C": 2}

    def part(a: str, b: str) -> int:
        return int(pair_partition(np.array([code[a]]), np.array([code[b]]), 7)[0])

    pairs = pa.table({"device_a": ["r1", "car", "r1", "r1"], "device_b": ["r2", "r2", "car", "r3"]})
    keyed = _key_device_pairs(ctx, pairs)
    got = set(zip(*(keyed.column(c).to_pylist() for c in ("device_a", "device_b", "part")),
                  strict=True))  # fmt: skip
    # r1–r2: A–B; car–r2: C–B and A–B; r1–car: A–C (A with A is no pair); r3 is D's
    assert got == {
        ("r1", "r2", part("A", "B")),
        ("car", "r2", part("B", "C")),
        ("car", "r2", part("A", "B")),
        ("r1", "car", part("A", "C")),
    }
    held = _held_together(ctx)
    assert held.to_pylist() == [{"device_id": "car", "part": part("A", "C")}]
    # either way round, in range, and spread over the partitions
    a, b = np.triu_indices(100, 1)
    parts = pair_partition(a, b, 7)
    assert (parts == pair_partition(b, a, 7)).all()
    assert set(parts.tolist()) == set(range(7))
    assert np.bincount(parts).min() > 0.7 * len(parts) / 7
