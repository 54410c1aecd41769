"""What lets an investigation scale to months of a large force: the baseline group is the
subjects' own team at their station, and the analysis reads only the fixes it can use."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from whereabouts.analysis.investigate import (
    LEAN_FIXES,
    analysis_inputs,
    assigned_spans,
    baseline_group,
    load_inputs,
    screen,
)
from whereabouts.analysis.params import AnalysisParams
from whereabouts.simulate.config import Planting, SimConfig
from whereabouts.simulate.demo import ingest_simulation
from whereabouts.simulate.force import simulate
from whereabouts.store import Workspace

START, END = datetime(2024, 3, 25, tzinfo=UTC), datetime(2024, 3, 28, tzinfo=UTC)


def officers(rows: list[tuple[str, str | None, str | None]]) -> pa.Table:
    return pa.table({"officer_id": [r[0] for r in rows],
                     "team": pa.array([r[1] for r in rows], pa.string()),
                     "station": pa.array([r[2] for r in rows], pa.string())})


def test_team_baseline_is_the_same_team_at_the_same_station() -> None:
    table = officers([("P1", "Team A", "North"), ("P2", "Team A", "North"),
                      ("P3", "Team A", "South"),  # same team name, another station
                      ("P4", "Team B", "North"), ("P5", "Team A", "North"),
                      ("P6", None, "North")])
    assert baseline_group(table, ["P1", "P2"], "team") == (["P1", "P2", "P5"],
                                                          "team Team A at North")
    group, name = baseline_group(table, ["P1", "P3"], "team")  # two teams: both whole
    assert group == ["P1", "P2", "P3", "P5"]
    assert name == "team Team A at North; team Team A at South"
    assert baseline_group(table, ["P1", "P4"], "station")[0] == ["P1", "P2", "P4", "P5", "P6"]
    assert baseline_group(table, ["P6", "P9"], "team") == ([], "none")  # nothing recorded


def test_assigned_spans_are_widened_and_cut_to_the_period() -> None:
    from whereabouts.analysis.inputs import Inputs
    from whereabouts.schema import ASSIGNMENTS

    t = [datetime(2024, 3, 25, h, tzinfo=UTC) for h in (6, 8, 10, 23)]
    asg = pa.table({"officer_id": ["A", "A", "B", "C"], "device_id": ["V1", "V2", "V1", "V3"],
                    "start": [t[0], t[1], t[2], t[1]], "end": [t[1], t[2], t[3], t[1]]},
                   schema=pa.schema([ASSIGNMENTS.field(n) for n in
                                     ("officer_id", "device_id", "start", "end")]))
    spans = assigned_spans(Inputs(assignments=asg), ["A", "B", "C"],
                           datetime(2024, 3, 25, 7, tzinfo=UTC),
                           datetime(2024, 3, 25, 12, tzinfo=UTC), pad_s=600)
    got = [(d, s.strftime("%H:%M"), e.strftime("%H:%M")) for d, s, e in zip(
        *(spans[c].to_pylist() for c in ("device_id", "start", "end")), strict=True)]
    # C's assignment is empty (end = start): no span; the rest widened by 10 minutes, cut
    # to 07:00-12:00
    assert got == [("V1", "07:00", "08:10"), ("V2", "07:50", "10:10"), ("V1", "09:50", "12:00")]


@pytest.fixture(scope="module")
def force(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    cfg = SimConfig(seed=5, officers=30, days=3,
                    planting=Planting(remote_meetings=2, home_meetings=1, secluded_stops=1))
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
    every = con.sql(f"SELECT {', '.join(LEAN_FIXES)} FROM fixes WHERE time >= $s AND time < $e "
                    "ORDER BY device_id, time", params={"s": START, "e": END}).to_arrow_table()
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
