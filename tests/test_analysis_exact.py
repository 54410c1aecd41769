"""Figures of an occasion depend only on its own fixes and pairs, not on what else was read."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import shapely

from whereabouts.analysis.context import _outside_area
from whereabouts.analysis.inputs import US, Inputs
from whereabouts.analysis.investigate import (
    analysis_inputs,
    baseline_group,
    device_periods,
    engine_fixes,
    investigate,
    load_inputs,
    rank_pairs,
    screen,
)
from whereabouts.analysis.labelling import RANKED_NULL, SCREENING_COLUMNS
from whereabouts.analysis.occasions import fix_statistics
from whereabouts.analysis.params import AnalysisParams
from whereabouts.schema import REASONS
from whereabouts.simulate.config import Planting, SimConfig
from whereabouts.simulate.demo import ingest_simulation
from whereabouts.simulate.force import simulate
from whereabouts.store import Workspace


def _fixes(rng: np.random.Generator, devices: int, n: int) -> pa.Table:
    codes, times, accs = [], [], []
    for code in range(devices):
        t = np.sort(rng.choice(np.arange(0, 50_000), size=n, replace=False)) * US
        codes.append(np.full(n, code))
        times.append(t)
        # values whose sums round differently depending on what is added before them
        accs.append(rng.uniform(0, 1, n) * 10 ** rng.uniform(-3, 3, n))
    return pa.table(
        {
            "code": np.concatenate(codes),
            "time": np.concatenate(times),
            "accuracy_m": np.concatenate(accs),
        }
    )


def test_fix_statistics_do_not_depend_on_other_fixes_read() -> None:
    rng = np.random.default_rng(11)
    fixes = _fixes(rng, 4, 3000)
    spans = pa.table(
        {
            "occasion_id": ["a", "a", "b", "c"],
            "code": [1, 2, 1, 3],
            "start": np.array([10_000, 10_000, 30_000, 5_000]) * US,
            "end": np.array([14_000, 14_000, 31_000, 45_000]) * US,
        }
    )
    whole = fix_statistics(spans, fixes)
    # The same spans with only the fixes of their devices inside the spans' hours read.
    code, t = fixes["code"].to_numpy(), fixes["time"].to_numpy()
    keep = np.zeros(len(t), bool)
    for c, s, e in zip(*(spans[k].to_numpy() for k in ("code", "start", "end")), strict=True):
        keep |= (code == c) & (t >= s - 600 * US) & (t <= e + 600 * US)
    part = fix_statistics(spans, fixes.filter(pa.array(keep)))
    assert 0 < part.num_rows == whole.num_rows
    assert part.equals(whole)  # bit for bit, not approximately
    # and each span's error is its fixes' mean: an independent sum per occasion
    acc = fixes["accuracy_m"].to_numpy()
    for row in whole.to_pylist():
        sel = np.zeros(len(t), bool)
        for c, s, e, o in zip(
            *(spans[k].to_pylist() for k in ("code", "start", "end", "occasion_id")), strict=True
        ):
            if o == row["occasion_id"]:
                sel |= (code == c) & (t >= s) & (t <= e)
        assert row["n_fixes"] == int(sel.sum())
        assert abs(row["position_error_m"] - acc[sel].mean()) <= 1e-9 * acc[sel].mean()


START, END = datetime(2024, 3, 25, tzinfo=UTC), datetime(2024, 3, 28, tzinfo=UTC)


@pytest.fixture(scope="module")
def force(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exact")
    cfg = SimConfig(
        seed=5,
        officers=30,
        days=3,
        planting=Planting(remote_meetings=2, home_meetings=1, secluded_stops=1),
    )
    simulate(cfg, root / "data")
    ingest_simulation(root / "data", root / "ws", cfg.timezone)
    return root / "ws"


def test_describing_only_the_subjects_pairs_changes_no_figure(force: Path) -> None:
    ws = Workspace.open(force)
    params = AnalysisParams()
    small = load_inputs(ws, [], START, END)
    names, _ = baseline_group(small.officers, [small.officers["officer_id"][0].as_py()], "team")
    inputs = analysis_inputs(ws, small, names, START, END, params)
    stats, occ = screen(ws, names, START, END, params=params, inputs=inputs)
    # the subjects: the pair with the most occasions, so that there is much to compare
    pairs = Counter(zip(occ["officer_a"].to_pylist(), occ["officer_b"].to_pylist(), strict=True))
    (a, b), n = pairs.most_common(1)[0]
    assert n >= 2 and len(pairs) >= 3
    lean_stats, lean = screen(ws, names, START, END, params=params, inputs=inputs, detail=[a, b])
    assert lean_stats.equals(stats)  # the ranking and every count: bit for bit
    assert lean["occasion_id"].equals(occ["occasion_id"])
    mine = pc.and_(pc.equal(occ["officer_a"], a), pc.equal(occ["officer_b"], b))
    assert occ.filter(mine).equals(lean.filter(mine))  # the subjects' occasions in full
    others_full, others = occ.filter(pc.invert(mine)), lean.filter(pc.invert(mine))
    for name in SCREENING_COLUMNS:
        if name not in ("flags", "evidence", "not_assessed"):
            assert others[name].equals(others_full[name]), name
    # what was not assessed: the reasons' items alike (the flags' follow the flags checked)
    reasons_only = [
        [x for x in v if x.split(":")[0] in REASONS] for v in others["not_assessed"].to_pylist()
    ]
    assert reasons_only == [
        [x for x in v if x.split(":")[0] in REASONS]
        for v in others_full["not_assessed"].to_pylist()
    ]
    # of the flags, the others keep what screening counts: home and remote when unexplained
    counted = [
        [f for f in fs if f in ("home", "remote")] if not e else []
        for fs, e in zip(
            others_full["flags"].to_pylist(), others_full["explained"].to_pylist(), strict=True
        )
    ]
    assert [
        [f for f in fs if f in ("home", "remote")] if not e else []
        for fs, e in zip(others["flags"].to_pylist(), others["explained"].to_pylist(), strict=True)
    ] == counted
    # labelled for the ranking only (the investigation's baseline): the same ranking and
    # subjects' occasions; the others lack only RANKED_NULL
    periods = device_periods(engine_fixes(inputs, names, params), params, inputs.crs)
    ranked_stats, ranked = rank_pairs(
        inputs, periods, names, START, END, params, detail=[a, b], ranked=True
    )
    assert ranked_stats.equals(stats)
    assert ranked.filter(mine).equals(occ.filter(mine))
    for name in ranked.column_names:
        if name in RANKED_NULL:
            assert ranked.filter(pc.invert(mine))[name].null_count == others.num_rows, name
        else:
            assert ranked[name].equals(lean[name]), name
    assert others["confidence"].null_count == others.num_rows


def test_the_subjects_occasions_are_the_same_with_or_without_a_baseline(force: Path) -> None:
    ws = Workspace.open(force)
    small = load_inputs(ws, [], START, END)
    names, _ = baseline_group(small.officers, [small.officers["officer_id"][0].as_py()], "team")
    _, occ = screen(ws, names, START, END)
    pairs = Counter(zip(occ["officer_a"].to_pylist(), occ["officer_b"].to_pylist(), strict=True))
    subjects = list(pairs.most_common(1)[0][0])
    team = investigate(ws, subjects, START, END, baseline="team")
    alone = investigate(ws, subjects, START, END, baseline="none")
    assert team.baseline.num_rows > 1
    assert team.occasions.num_rows > 0
    # bit for bit, minimum separations too: the engine solves each pair of segments in
    # coordinates of its own, whatever other fixes share the window
    assert team.occasions.equals(alone.occasions)
    assert team.stops.equals(alone.stops)


def test_a_crew_of_one_is_outside_its_area_once() -> None:
    con = duckdb.connect()
    con.execute("CREATE MACRO ref(tbl, f, l) AS tbl || ':' || f || ':' || l")
    con.execute(
        "CREATE TABLE evid(occasion_id VARCHAR, label VARCHAR, kind VARCHAR, "
        "detail VARCHAR, rows VARCHAR[])"
    )
    # a stop crewed by P1 alone (officer_a = officer_b) and an occasion of P1 with P2
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        ('S1', 'P1', 'P1', 0, 100, 500e0, 50e0), ('O1', 'P1', 'P2', 0, 100, 500e0, 50e0))
        AS v(occasion_id, officer_a, officer_b, start, "end", x, y)""")
    con.execute("""CREATE TABLE duty AS SELECT * FROM (VALUES
        ('P1', 'A1', -10, 200, 'd', 1), ('P2', 'A1', -10, 200, 'd', 2))
        AS v(officer_id, area_id, start, "end", src_file, src_line)""")
    square = shapely.box(0, 0, 100, 100)
    con.register(
        "areas",
        pa.table(
            {
                "area_id": ["A1"],
                "geometry_wkb": [shapely.to_wkb(square)],
                "src_file": ["a"],
                "src_line": [1],
            }
        ),
    )
    _outside_area(con, "t", "evid")
    got = dict(con.execute("SELECT occasion_id, detail FROM evid ORDER BY 1").fetchall())
    assert got == {
        "O1": "P1 on duty for area A1, point 400 m outside it; "
        "P2 on duty for area A1, point 400 m outside it",
        "S1": "P1 on duty for area A1, point 400 m outside it",
    }


def _partial(inputs: Inputs, *, cad: bool, homes: bool, cars: bool) -> Inputs:
    """`inputs` as a force's partial export has them: without its dispatch log (incidents
    and attachments), its officers' home addresses, or its vehicles' AVL."""
    if not cad:
        inputs = replace(
            inputs,
            incidents=inputs.incidents.slice(0, 0),
            attachments=inputs.attachments.slice(0, 0),
        )
    if not homes:
        inputs = replace(
            inputs, places=inputs.places.filter(pc.not_equal(inputs.places["kind"], "home"))
        )
    if not cars:
        radios = inputs.devices.filter(pc.equal(inputs.devices["kind"], "radio"))["device_id"]
        inputs = inputs.with_fixes(
            inputs.fixes.filter(pc.is_in(inputs.fixes["device_id"].cast(pa.string()), radios))
        )
    return inputs


@pytest.mark.parametrize(
    ("cad", "homes", "cars"),
    [(False, True, True), (True, True, False), (False, False, False)],
    ids=["no dispatch log", "radios only", "radios only, no log, no homes"],
)
def test_the_baselines_lean_labelling_holds_on_partial_data(
    force: Path, cad: bool, homes: bool, cars: bool
) -> None:
    """Labelled for the ranking only (the investigation's baseline), a partial export's
    pairs rank as in full and the subjects' occasions are the same; what the export cannot
    support is not assessable, never "no reason found"."""
    ws = Workspace.open(force)
    params = AnalysisParams()
    small = load_inputs(ws, [], START, END)
    names, _ = baseline_group(small.officers, [small.officers["officer_id"][0].as_py()], "team")
    inputs = _partial(
        analysis_inputs(ws, small, names, START, END, params), cad=cad, homes=homes, cars=cars
    )
    periods = device_periods(engine_fixes(inputs, names, params), params, inputs.crs)
    stats, occ = rank_pairs(inputs, periods, names, START, END, params)
    assert occ.num_rows > 0
    pairs = Counter(zip(occ["officer_a"].to_pylist(), occ["officer_b"].to_pylist(), strict=True))
    (a, b), _ = pairs.most_common(1)[0]
    mine = pc.and_(pc.equal(occ["officer_a"], a), pc.equal(occ["officer_b"], b))
    ranked_stats, ranked = rank_pairs(
        inputs, periods, names, START, END, params, detail=[a, b], ranked=True
    )
    assert ranked_stats.equals(stats)
    assert ranked["occasion_id"].equals(occ["occasion_id"])
    assert ranked.filter(mine).equals(occ.filter(mine))
    for name in ranked.column_names:
        if name in RANKED_NULL:
            assert ranked.filter(pc.invert(mine))[name].null_count == len(occ) - len(
                occ.filter(mine)
            ), name
        elif name in SCREENING_COLUMNS and name != "flags":  # the others' flags: as counted
            assert ranked[name].equals(occ[name]), name
    findings = Counter(ranked["finding"].to_pylist())
    if not cad:  # every unexplained occasion needed the log to be checked
        assert findings["no_reason_found"] == 0
        assert findings["not_assessable"] > 0
        theirs = ranked.filter(mine)
        unassessed = theirs.filter(pc.equal(theirs["finding"], "not_assessable"))
        assert all(v for v in unassessed["not_assessed"].to_pylist())  # and says why
