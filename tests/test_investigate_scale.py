"""What lets an investigation scale to months of a large force: the baseline group is the
subjects' own team at their station, and the analysis reads only the fixes it can use."""

from __future__ import annotations

import importlib
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from whereabouts.analysis.gather import (
    LEAN_FIXES,
    analysis_inputs,
    assigned_spans,
    device_periods,
    engine_fixes,
    load_inputs,
    their_part,
    their_window,
)
from whereabouts.analysis.investigate import baseline_group, investigate, screen
from whereabouts.analysis.labelling import label_occasions
from whereabouts.analysis.params import AnalysisParams
from whereabouts.parallel import beside, can_fork
from whereabouts.simulate.config import Planting, SimConfig
from whereabouts.simulate.demo import ingest_simulation
from whereabouts.simulate.force import simulate
from whereabouts.store import Workspace

START, END = datetime(2024, 3, 25, tzinfo=UTC), datetime(2024, 3, 28, tzinfo=UTC)
inv = importlib.import_module("whereabouts.analysis.investigate")  # the module, not the function


def officers(rows: list[tuple[str, str | None, str | None]]) -> pa.Table:
    return pa.table(
        {
            "officer_id": [r[0] for r in rows],
            "team": pa.array([r[1] for r in rows], pa.string()),
            "station": pa.array([r[2] for r in rows], pa.string()),
        }
    )


def test_team_baseline_is_the_same_team_at_the_same_station() -> None:
    table = officers(
        [
            ("P1", "Team A", "North"),
            ("P2", "Team A", "North"),
            ("P3", "Team A", "South"),  # same team name, another station
            ("P4", "Team B", "North"),
            ("P5", "Team A", "North"),
            ("P6", None, "North"),
        ]
    )
    assert baseline_group(table, ["P1", "P2"], "team") == (
        ["P1", "P2", "P5"],
        "team Team A at North",
    )
    group, name = baseline_group(table, ["P1", "P3"], "team")  # two teams: both whole
    assert group == ["P1", "P2", "P3", "P5"]
    assert name == "team Team A at North; team Team A at South"
    assert baseline_group(table, ["P1", "P4"], "station")[0] == ["P1", "P2", "P4", "P5", "P6"]
    assert baseline_group(table, ["P6", "P9"], "team") == ([], "none")  # nothing recorded


def test_assigned_spans_are_widened_and_cut_to_the_period() -> None:
    from whereabouts.analysis.inputs import Inputs
    from whereabouts.schema import ASSIGNMENTS

    t = [datetime(2024, 3, 25, h, tzinfo=UTC) for h in (6, 8, 10, 23)]
    asg = pa.table(
        {
            "officer_id": ["A", "A", "B", "C"],
            "device_id": ["V1", "V2", "V1", "V3"],
            "start": [t[0], t[1], t[2], t[1]],
            "end": [t[1], t[2], t[3], t[1]],
        },
        schema=pa.schema(
            [ASSIGNMENTS.field(n) for n in ("officer_id", "device_id", "start", "end")]
        ),
    )
    spans = assigned_spans(
        Inputs(assignments=asg),
        ["A", "B", "C"],
        datetime(2024, 3, 25, 7, tzinfo=UTC),
        datetime(2024, 3, 25, 12, tzinfo=UTC),
        pad_s=600,
    )
    got = [
        (d, s.strftime("%H:%M"), e.strftime("%H:%M"))
        for d, s, e in zip(
            *(spans[c].to_pylist() for c in ("device_id", "start", "end")), strict=True
        )
    ]
    # C's assignment is empty (end = start): no span; the rest widened by 10 minutes, cut
    # to 07:00-12:00
    assert got == [("V1", "07:00", "08:10"), ("V2", "07:50", "10:10"), ("V1", "09:50", "12:00")]


@pytest.fixture(scope="module")
def force(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    cfg = SimConfig(
        seed=5,
        officers=30,
        days=3,
        planting=Planting(remote_meetings=2, home_meetings=1, secluded_stops=1),
    )
    simulate(cfg, root / "data")
    ingest_simulation(root / "data", root / "ws", cfg.timezone)
    return root / "ws"


def same(x: float | None, y: float | None) -> bool:
    if x is None or y is None or math.isnan(x) or math.isnan(y):
        return repr(x) == repr(y)
    return bool(x == pytest.approx(y, rel=1e-9, abs=1e-9))


def test_reading_only_assigned_fixes_changes_no_result(force: Path) -> None:
    ws = Workspace.open(force)
    params = AnalysisParams()
    small = load_inputs(ws, [], START, END)
    # a team: the cars it drives are also driven by other teams, whose fixes are left out
    names, _ = baseline_group(small.officers, [small.officers["officer_id"][0].as_py()], "team")
    assert len(names) >= 3
    lean = analysis_inputs(ws, small, names, START, END, params)
    con = ws.connect()
    every = con.sql(
        f"SELECT {', '.join(LEAN_FIXES)} FROM fixes WHERE time >= $s AND time < $e "  # noqa: S608  # LEAN_FIXES: column names
        "ORDER BY device_id, time",
        params={"s": START, "e": END},
    ).to_arrow_table()
    full = small.with_fixes(every.cast(lean.fixes.schema))
    assert 0 < lean.fixes.num_rows < full.fixes.num_rows  # it leaves fixes out
    stats_a, occ_a = screen(ws, names, START, END, params=params, inputs=lean)
    stats_b, occ_b = screen(ws, names, START, END, params=params, inputs=full)
    assert occ_a.num_rows > 0 and stats_a.equals(stats_b)
    for name in occ_a.column_names:
        a, b = occ_a[name].to_pylist(), occ_b[name].to_pylist()
        if pa.types.is_floating(occ_a.schema.field(name).type):
            # sums over a device's fixes by cumulative sums round differently (1e-9)
            assert all(same(x, y) for x, y in zip(a, b, strict=True)), name
        else:
            assert a == b, name


@pytest.mark.skipif(not can_fork(), reason="no fork or a single core")
def test_forked_processes_change_no_byte_of_the_output(
    force: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subjects = ["P1001", "P1002"]
    investigate(force, subjects, START, END, out_dir=tmp_path / "one", case="C-1")
    forked: list[bool] = []

    def counting(fn: Any, *args: Any, **kw: Any) -> Any:
        forked.append(kw.get("forked", True))
        return beside(fn, *args, **kw)

    # the subjects' stops and tracks, and the sensitivity ladder's rungs, each in a process
    # beside (the engine's: test_engine_workers)
    monkeypatch.setattr(inv, "FORK_DEVICE_HOURS", 0.0)
    monkeypatch.setattr(inv, "beside", counting)
    investigate(force, subjects, START, END, out_dir=tmp_path / "two", case="C-1")
    assert forked == [True, True]
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert "stops.parquet" in names and "tracks.parquet" in names
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_the_subjects_window_is_the_analysis_window_of_their_devices(force: Path) -> None:
    ws = Workspace.open(force)
    params = AnalysisParams()
    small = load_inputs(ws, [], START, END)
    names, _ = baseline_group(small.officers, ["P1001", "P1002"], "team")
    whole = analysis_inputs(ws, small, names, START, END, params).fixes
    theirs = their_window(ws, small, names, ["P1001", "P1002"], START, END, params=params).fixes
    window = analysis_inputs(ws, small, names, START, END, params)
    part = their_part(window, ["P1001", "P1002"], START, END).fixes
    assert part.equals(theirs)  # taken from the window: the same rows as read on their own
    devices = set(assigned_spans(small, ["P1001", "P1002"], START, END)["device_id"].to_pylist())
    assert 0 < theirs.num_rows < whole.num_rows
    assert set(theirs["device_id"].to_pylist()) <= devices
    assert theirs.equals(
        whole.filter(
            pc.is_in(whole["device_id"], value_set=pa.array(sorted(devices)))
        ).combine_chunks()
    )


@pytest.mark.skipif(not can_fork(), reason="no fork or a single core")
def test_labelling_in_two_processes_gives_the_same_table(force: Path) -> None:
    ws = Workspace.open(force)
    params = AnalysisParams()
    small = load_inputs(ws, [], START, END)
    names = sorted(small.officers["officer_id"].to_pylist())[:16]
    window = analysis_inputs(ws, small, names, START, END, params)
    periods = device_periods(engine_fixes(window, names, params), params, window.crs)
    one = label_occasions(window, periods, names, params, detail=names[:4], workers=1)
    two = label_occasions(window, periods, names, params, detail=names[:4], workers=2)
    pairs = {
        (a, b)
        for a, b in zip(one["officer_a"].to_pylist(), one["officer_b"].to_pylist(), strict=True)
    }
    assert len(pairs) >= 4 and one.num_rows > 20  # both halves have pairs
    assert two.equals(one)
    # one pair: the forked half has no occasion at all
    pair = ["P1001", "P1002"]
    one = label_occasions(window, periods, pair, params, workers=1)
    assert one.num_rows > 0
    assert label_occasions(window, periods, pair, params, workers=2).equals(one)
