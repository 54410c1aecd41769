"""Findings that hold on incomplete inputs: what was not provided is not assessed, never
read as "no policing reason found", and never sets a flag (analysis/assessability.py)."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whereabouts.analysis import reasons
from whereabouts.analysis.coverage import coverage_lines, input_coverage
from whereabouts.analysis.inputs import Inputs, empty
from whereabouts.analysis.investigate import (
    analysis_inputs,
    baseline_group,
    device_periods,
    engine_fixes,
    investigate,
    load_inputs,
)
from whereabouts.analysis.labelling import label_occasions
from whereabouts.analysis.params import AnalysisParams
from whereabouts.exports.content import facts
from whereabouts.schema import REASONS
from whereabouts.simulate.config import Planting, SimConfig
from whereabouts.simulate.demo import ingest_simulation
from whereabouts.simulate.force import simulate
from whereabouts.store import Workspace
from whereabouts.vocabulary import REASON_WORDS, Term, reason_codes
from whereabouts.web import pages

START, END = datetime(2024, 3, 25, tzinfo=UTC), datetime(2024, 4, 2, tzinfo=UTC)
REMOVABLE = ("incidents", "attachments", "places", "areas", "devices", "roads", "homes")


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> tuple[Inputs, pa.Table, list[str]]:
    """A simulated force of eight days (enough incident history for the remote rule): the
    inputs and engine periods of the planted pair's team."""
    root = tmp_path_factory.mktemp("assess")
    cfg = SimConfig(
        seed=7,
        officers=30,
        days=8,
        planting=Planting(remote_meetings=3, home_meetings=2, secluded_stops=1),
    )
    simulate(cfg, root / "data")
    ingest_simulation(root / "data", root / "ws", cfg.timezone)
    ws = Workspace.open(root / "ws")
    params = AnalysisParams()
    small = load_inputs(ws, [], START, END)
    names, _ = baseline_group(small.officers, ["P1001", "P1002"], "team")
    inputs = analysis_inputs(ws, small, names, START, END, params)
    periods = device_periods(engine_fixes(inputs, names, params), params, inputs.crs)
    return inputs, periods, names


def without(inputs: Inputs, removed: set[str] | frozenset[str]) -> Inputs:
    """`inputs` with whole tables removed ("homes": the places of kind home only)."""
    tables = {name: empty(name) for name in removed if name != "homes"}
    out = replace(inputs, **tables)
    if "homes" in removed:
        out = replace(out, places=out.places.filter(pc.not_equal(out.places["kind"], "home")))
    return out


_FULL: dict[int, pa.Table] = {}


def full_occasions(team: tuple[Inputs, pa.Table, list[str]]) -> pa.Table:
    inputs, periods, names = team
    if id(inputs) not in _FULL:
        _FULL[id(inputs)] = label_occasions(inputs, periods, names, AnalysisParams())
    return _FULL[id(inputs)]


def by_id(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {str(r["occasion_id"]): r for r in table.to_pylist()}


def test_complete_data_assesses_every_reason(team: tuple[Inputs, pa.Table, list[str]]) -> None:
    occ = full_occasions(team).to_pylist()
    assert occ and {o["finding"] for o in occ} <= {"reason_found", "no_reason_found"}
    assert any(o["finding"] == "no_reason_found" for o in occ)
    # eight days of incidents are enough history: the planted remote meetings are flagged
    assert any("remote" in o["flags"] for o in occ)
    for o in occ:
        assert (o["finding"] == "reason_found") == o["explained"]
        assert not any(x.split(":")[0] in REASONS for x in o["not_assessed"])


def test_without_incidents_and_attachments(team: tuple[Inputs, pa.Table, list[str]]) -> None:
    inputs, periods, names = team
    full = by_id(full_occasions(team))
    cut = by_id(
        label_occasions(
            without(inputs, {"incidents", "attachments"}), periods, names, AnalysisParams()
        )
    )
    assert cut.keys() == full.keys()
    by_incident = [k for k, o in full.items() if "same_incident" in o["reasons"]]
    assert by_incident, "the simulated force should have occasions at incidents"
    for k in by_incident:
        assert cut[k]["finding"] != "no_reason_found"
    for k, o in cut.items():
        assert "remote" not in o["flags"]
        assert o["finding"] != "no_reason_found" or full[k]["finding"] == "no_reason_found"
        if o["finding"] == "not_assessable":
            assert "same_incident: no incident log was provided" in o["not_assessed"]


def test_without_homes_no_home_flag(team: tuple[Inputs, pa.Table, list[str]]) -> None:
    inputs, periods, names = team
    full = full_occasions(team)
    assert any("home" in f for f in full["flags"].to_pylist())
    cut = label_occasions(without(inputs, {"homes"}), periods, names, AnalysisParams())
    assert not any("home" in f for f in cut["flags"].to_pylist())
    # every occasion whose flags were checked says why home was not
    for o in cut.to_pylist():
        if o["finding"] != "reason_found" or o["officer_a"] in ("P1001", "P1002"):
            assert any(x.startswith("home: no home recorded for ") for x in o["not_assessed"])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(removed=st.frozensets(st.sampled_from(REMOVABLE), min_size=1))
def test_removing_inputs_never_makes_a_finding_stronger(
    team: tuple[Inputs, pa.Table, list[str]], removed: frozenset[str]
) -> None:
    inputs, periods, names = team
    full = by_id(full_occasions(team))
    cut = by_id(label_occasions(without(inputs, removed), periods, names, AnalysisParams()))
    assert cut.keys() == full.keys()  # the same occasions: only their labels may change
    for k, o in cut.items():
        f = full[k]
        if f["finding"] == "reason_found":
            assert o["finding"] != "no_reason_found", (removed, k)
        if o["finding"] == "no_reason_found":
            assert f["finding"] == "no_reason_found", (removed, k)
        if f["finding"] != "reason_found":  # flags are checked in full for these
            assert set(o["flags"]) <= set(f["flags"]), (removed, k)


def _write(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)
    return path


def test_real_liverpool_recording_with_only_the_roster(real_data: Path, tmp_path: Path) -> None:
    """Real AVL of eight Liverpool buses (26 Jan 2026) as eight officers' cars, with only
    officers, devices, assignments and duty made up for it: nothing else provided."""
    src = real_data / "liverpool_bus_route14_outbound.csv"
    with src.open(newline="") as f:
        buses = sorted({r["vehicle_id"] for r in csv.DictReader(f)})
    officers = [f"P{i + 1:03d}" for i in range(len(buses))]
    ws = Workspace.init(tmp_path / "ws", timezone="Europe/London")
    ws.ingest("fixes", [src], profile="liverpool-bus")
    shift = ("2026-01-26T14:00:00Z", "2026-01-26T20:00:00Z")
    ws.ingest(
        "officers",
        [
            _write(
                tmp_path / "officers.csv",
                ["officer_id", "team", "station"],
                [(o, "Team A", "Central") for o in officers],
            )
        ],
    )
    ws.ingest(
        "devices",
        [_write(tmp_path / "devices.csv", ["device_id", "kind"], [(b, "vehicle") for b in buses])],
    )
    ws.ingest(
        "assignments",
        [
            _write(
                tmp_path / "assignments.csv",
                ["officer_id", "device_id", "start", "end"],
                [(o, b, *shift) for o, b in zip(officers, buses, strict=True)],
            )
        ],
    )
    ws.ingest(
        "duty",
        [
            _write(
                tmp_path / "duty.csv",
                ["officer_id", "start", "end", "duty_type"],
                [(o, *shift, "patrol") for o in officers],
            )
        ],
    )
    t0, t1 = datetime(2026, 1, 26, tzinfo=UTC), datetime(2026, 1, 27, tzinfo=UTC)
    res = investigate(ws, officers, t0, t1, baseline="none", out_dir=tmp_path / "run")
    occ = res.occasions.to_pylist()
    assert occ, "the buses should meet on their route"
    for o in occ:
        assert o["finding"] == "not_assessable"
        assert "remote" not in o["flags"]
        assert "same_incident: no incident log was provided" in o["not_assessed"]
        assert "premises: no police stations or custody suites were provided" in o["not_assessed"]
        assert "remote: no incident history was provided" in o["not_assessed"]
        # nor does it count incidents nearby, or say whether either was dispatched
        assert o["incidents_p1"] is None and o["dispatched"] is None
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["counts"]["unexplained"] == 0
    assert summary["counts"]["not_assessable"] == len(occ)
    cov = summary["input_coverage"]
    assert cov["incidents"]["rows"] == 0 and cov["places"]["police"] == 0
    assert cov["homes"]["known"] == [] and len(cov["homes"]["unknown"]) == len(officers)
    assert [d["kind"] for d in cov["devices"]] == ["vehicle"] * len(buses)
    assert all(o["duty_h"] == 6.0 for o in cov["officers"])
    lines = dict(coverage_lines(cov))
    assert lines["Remote spot"].startswith("not assessed")
    assert cov == input_coverage(load_inputs(ws, [], t0, t1), officers, officers, t0, t1)
    # the report's first page says what could not be assessed, and never "no policing
    # reason found" of these occasions
    from whereabouts.report import ReportOptions, build_report

    written = build_report(
        tmp_path / "ws",
        out_dir=tmp_path / "report",
        occasions_dir=tmp_path / "run",
        options=ReportOptions(pdf=False),
    )
    html = written.html.read_text()
    first = html[: html.index("<h3>Contents</h3>")]
    assert "What this report could and could not assess" in first
    assert (
        "Not provided:</strong> incident log, attachments, police places, homes, areas, roads."
    ) in first
    listed = html[html.index("<h2>5.") : html.index("<h2>7.")]  # the occasions and their pages
    assert "no policing reason found" not in listed
    assert listed.count("not assessable") >= 2 * len(occ)
    assert "neither was dispatched" not in listed and "priority 1" not in listed
    assert listed.count("not known: no incident log was provided") == len(occ)
    summary_text = html[html.index("<h2>1.") : html.index("<h2>2.")]
    assert "For none of them could it be assessed whether a policing reason applies" in (
        summary_text
    )
    assert "no policing reason was found</strong>" not in summary_text
    method = html[html.index("<h2>4.") : html.index("<h2>5.")]
    assert "Where every reason could be checked and none was found" in " ".join(method.split())


def test_an_unknown_position_error_is_not_given_a_figure() -> None:
    import numpy as np

    from whereabouts.analysis.confidence import grade

    grades, bases = grade(np.array([40.0, 40.0]), np.array([10.0, np.nan]), np.array([60.0, 60.0]))
    assert bases[0].startswith("40 fixes per device-hour, median position error 10 m")
    assert "position error not known" in bases[1] and "median position error" not in bases[1]
    assert grades == ["high", "medium"]  # graded as 50 m, as before


def _drop_days(table: pa.Table, column: str, days: list[str]) -> pa.Table:
    """`table` without its rows whose UTC day of `column` is one of `days` (an outage)."""
    day = pc.strftime(table[column].cast(pa.timestamp("us", tz="UTC")), format="%Y-%m-%d")
    return table.filter(pc.invert(pc.is_in(day, value_set=pa.array(days))))


def test_a_log_outage_is_not_covered(team: tuple[Inputs, pa.Table, list[str]]) -> None:
    """The CAD down for two days inside its span (no incidents, no attachments then):
    same incident and one tasked are not assessed on those days, the remote rule counts
    its history without them, and the coverage says which days."""
    inputs, periods, names = team
    out = ["2024-03-28", "2024-03-29"]
    cut_inputs = replace(
        inputs,
        incidents=_drop_days(inputs.incidents, "created_at", out),
        attachments=_drop_days(inputs.attachments, "dispatched_at", out),
    )
    full = by_id(full_occasions(team))
    cut = by_id(label_occasions(cut_inputs, periods, names, AnalysisParams()))
    assert cut.keys() == full.keys()
    on_them = 0
    for k, o in cut.items():
        f = full[k]
        days = {str(o["start"])[:10], str(o["end"])[:10]}
        said = [x for x in o["not_assessed"] if x.startswith("same_incident:")]
        if days & set(out):
            on_them += 1
            assert o["finding"] != "no_reason_found" or f["finding"] == "no_reason_found"
            if o["finding"] != "reason_found":
                assert said and said[0].startswith("same_incident: no incident log covers "), k
                assert o["finding"] == "not_assessable"
        else:
            assert not said, (k, said)
            # a day the log covers is judged as before (an incident of the outage aside)
            assert o["finding"] == f["finding"] or f["finding"] == "reason_found", k
        assert set(o["flags"]) <= set(f["flags"])
    assert on_them, "the simulated force should have occasions on the outage days"
    assert any(
        x == "same_incident: no incident log covers 28 Mar 2024"
        for o in cut.values()
        for x in o["not_assessed"]
    )
    # the remote rule's history leaves the outage out: the eight days of records less two
    # are below its seven-day minimum, so the planted remote meetings are not assessed
    remote = [k for k, f in full.items() if "remote" in f["flags"]]
    assert remote
    for k in remote:
        said = [x for x in cut[k]["not_assessed"] if x.startswith("remote:")]
        assert said and said[0].startswith("remote: only "), (k, said)
        assert float(said[0].split()[2]) <= 6.0
    # at a lower minimum the rule runs, on the history less the outage, and says so
    pair = label_occasions(
        cut_inputs, periods, ["P1001", "P1002"], AnalysisParams.of({"remote_min_history_days": 3.0})
    )
    evidence = [
        e
        for o in pair.to_pylist()
        for e in json.loads(str(o["evidence"]))
        if e["label"] == "remote"
    ]
    assert evidence
    assert all("less 2 days the incident log does not cover" in e["detail"] for e in evidence)
    # its window ends at the last incident, named by the force's local date: one raised
    # at 23:30 UTC on 1 April is on 2 April in London (BST)
    late = pa.scalar(datetime(2024, 4, 1, 23, 30, tzinfo=UTC), pa.timestamp("us", "UTC"))
    inc = cut_inputs.incidents.filter(pc.less(cut_inputs.incidents["created_at"], late))
    at = inc.schema.get_field_index("created_at")
    last = inc.slice(inc.num_rows - 1).set_column(
        at, inc.schema.field(at), pa.array([late.as_py()], late.type)
    )
    assert cut_inputs.timezone == "Europe/London"
    ended = label_occasions(
        replace(cut_inputs, incidents=pa.concat_tables([inc, last])),
        periods,
        ["P1001", "P1002"],
        AnalysisParams.of({"remote_min_history_days": 3.0}),
    )
    windows = [
        e["detail"]
        for o in ended.to_pylist()
        for e in json.loads(str(o["evidence"]))
        if e["label"] == "remote"
    ]
    assert windows and all(" to 2024-04-02, less 2 days" in w for w in windows), windows[:1]
    cov = input_coverage(cut_inputs, names, ["P1001", "P1002"], START, END)
    assert cov["incidents"]["uncovered_days"] == out
    assert cov["attachments"]["uncovered_days"] == out
    line = dict(coverage_lines(cov))["Same incident, one officer tasked"]
    assert "the incident log does not cover 2024-03-28, 2024-03-29" in line
    assert "fewer records than 0.25 of its median day's" in cov["day_rule"]


def test_log_days() -> None:
    """A day between a log's first and last is covered with at least the share of the
    median day's records (and one); the partial first and last days by the span alone."""
    import numpy as np

    from whereabouts.analysis.extent import DAY, LogDays

    counts = [1, 40, 38, 9, 0, 41, 40, 2]  # days 0..7; median (9 + 38) / 2
    t = np.concatenate([d * DAY + np.arange(n) * 1000 for d, n in enumerate(counts)])
    days = LogDays.of(t, share=0.25)
    assert (days.lo, days.hi, days.median) == (0, 7, 23.5)
    assert days.uncovered.tolist() == [4]  # 9 >= 0.25 × 23.5; 0 is not; 1 and 2 are ends
    assert LogDays.of(t, share=0.5).uncovered.tolist() == [3, 4]
    assert LogDays.of(t[:0], share=0.25).lo is None
    # spans (assignments) count on every day they overlap; one ending at midnight does not
    # reach the next day
    spans = LogDays.of(np.array([0, 3 * DAY]), np.array([2 * DAY, 4 * DAY]), share=0.25)
    assert (spans.lo, spans.hi, spans.uncovered.tolist()) == (0, 3, [2])


def test_a_sparse_log_leaves_its_empty_days_uncovered() -> None:
    """The stated rule for a sparse (hand-made) log: under 1/share records on its median
    day, a day between its first and last without a record is not covered."""
    import numpy as np

    from whereabouts.analysis.extent import DAY, LogDays, day_rule

    t = np.array([0, DAY + 5, 3 * DAY + 5, 4 * DAY + 5, 6 * DAY])  # one a day at most
    days = LogDays.of(t, share=0.25)
    assert days.median == 1.0 and days.uncovered.tolist() == [2, 5]
    assert "fewer than 4 records on its median day" in day_rule(0.25)


def _log_con(times_utc: list[str], zone: str) -> duckdb.DuckDBPyConnection:
    """A connection with an incident log (and the same attachments) at `times_utc`."""
    con = duckdb.connect()
    con.execute("CREATE TABLE analysis_zone AS SELECT ? AS timezone", [zone])
    con.execute("CREATE TABLE t(ts TIMESTAMPTZ)")
    con.executemany("INSERT INTO t VALUES (?)", [(x,) for x in times_utc])
    con.execute("CREATE TABLE incidents AS SELECT epoch_us(ts) AS created_at FROM t")
    con.execute("CREATE TABLE attachments AS SELECT epoch_us(ts) AS dispatched_at FROM t")
    con.execute('CREATE TABLE assignments(device_id VARCHAR, start BIGINT, "end" BIGINT)')
    con.execute("CREATE TABLE devices(device_id VARCHAR, kind VARCHAR)")
    return con


def test_a_silence_of_hours_is_not_covered_and_days_are_local() -> None:
    """An incident log every 10 minutes for three June days, silent for 12 hours on the
    second: an occasion in the silence is not assessed and the silence named in the
    force's local time; one the log covers is; the log's last local day (1 am BST on
    4 June is 4 June, not 3 June as in UTC) covers an occasion then."""
    import numpy as np

    from whereabouts.analysis.extent import LogDays, local_day

    base = np.datetime64("2024-06-01T00:00")
    times = [base + np.timedelta64(10 * i, "m") for i in range(3 * 144)]
    hole = (np.datetime64("2024-06-02T06:00"), np.datetime64("2024-06-02T18:00"))
    kept = [str(t) + "Z" for t in times if not hole[0] <= t < hole[1]]
    con = _log_con(kept, "Europe/London")
    con.execute(
        "CREATE TABLE o AS SELECT occasion_id, epoch_us(a::TIMESTAMPTZ) AS start, "
        'epoch_us(b::TIMESTAMPTZ) AS "end" FROM (VALUES '
        "('in', '2024-06-02 10:00Z', '2024-06-02 10:30Z'), "
        "('out', '2024-06-03 10:00Z', '2024-06-03 10:30Z'), "
        "('after', '2024-06-04 00:10Z', '2024-06-04 00:30Z')) v(occasion_id, a, b)"
    )
    why = dict(con.execute(reasons._incident_log_uncovered(con, AnalysisParams(), "o")).fetchall())
    assert why == {
        "in": "no incident log covers 2 Jun 2024 06:50 BST to 2 Jun 2024 19:00 BST "
        "(no record for 12.2 hours)"
    }
    # a silence shorter than 48 times the mean interval is the log's ordinary quiet
    short = AnalysisParams.of({"log_silence_factor": 80.0})
    assert not con.execute(reasons._incident_log_uncovered(con, short, "o")).fetchall()
    # and at least log_silence_min_h hours
    long_min = AnalysisParams.of({"log_silence_min_h": 13.0})
    assert not con.execute(reasons._incident_log_uncovered(con, long_min, "o")).fetchall()
    # local days: 23:30 UTC on 1 June is 2 June in London, still 1 June in UTC
    t = np.array([np.datetime64("2024-06-01T23:30", "us").astype(np.int64)])
    assert local_day(t, "Europe/London") - local_day(t, "UTC") == 1
    us = np.array([k.removesuffix("Z") for k in kept], "datetime64[us]").astype(np.int64)
    days = LogDays.of(us, share=0.25, timezone="Europe/London", silence=(48.0, 2.0))
    assert days.silences.shape == (1, 2) and not len(days.uncovered)
    # the remote rule's history leaves the silence out
    lost = days.lost()
    assert lost.tolist() == days.silences.tolist()


def test_the_coverage_names_a_silence_in_local_time() -> None:
    """summary.json's input_coverage lists the incident log's silence, and page 1 says it;
    its days are the force's (BST) days."""
    import numpy as np

    base = np.datetime64("2024-06-01T00:00", "us")
    t = base + np.arange(3 * 144) * np.timedelta64(10, "m")
    t = t[(t < np.datetime64("2024-06-02T06:00")) | (t >= np.datetime64("2024-06-02T18:00"))]
    n = len(t)
    schema = empty("incidents").schema
    incidents = pa.table(
        {
            "incident_id": [f"I{i}" for i in range(n)],
            "created_at": pa.array(t.astype(np.int64), pa.int64()).cast(pa.timestamp("us", "UTC")),
            "lat": [51.5] * n,
            "lon": [-3.2] * n,
            "x": [300000.0] * n,
            "y": [170000.0] * n,
            "category": [None] * n,
            "priority": pa.array([None] * n, pa.int8()),
            "closed_at": pa.array([None] * n, pa.timestamp("us", "UTC")),
            "src_file": ["incidents"] * n,
            "src_line": list(range(1, n + 1)),
        },
        schema=schema,
    )
    attachments = pa.table(
        {
            "incident_id": incidents["incident_id"],
            "officer_id": ["P1"] * n,
            "device_id": [None] * n,
            "dispatched_at": incidents["created_at"],
            "arrived_at": pa.array([None] * n, pa.timestamp("us", "UTC")),
            "cleared_at": pa.array([None] * n, pa.timestamp("us", "UTC")),
            "src_file": ["attachments"] * n,
            "src_line": list(range(1, n + 1)),
        },
        schema=empty("attachments").schema,
    )
    inputs = Inputs(incidents=incidents, attachments=attachments, timezone="Europe/London")
    t0, t1 = datetime(2024, 5, 31, 23, tzinfo=UTC), datetime(2024, 6, 3, 23, tzinfo=UTC)
    cov = input_coverage(inputs, ["P1"], ["P1"], t0, t1)
    inc = cov["incidents"]
    assert inc["silences"] == [
        "2 Jun 2024 06:50 BST to 2 Jun 2024 19:00 BST (no record for 12.2 hours)"
    ]
    assert list(inc["per_day"]) == ["2024-06-01", "2024-06-02", "2024-06-03"]
    assert inc["per_day"]["2024-06-01"] == 138  # from 00:00 UTC = 01:00 BST: 23 hours
    assert cov["timezone"] == "Europe/London" and "(Europe/London)" in cov["day_rule"]
    line = dict(coverage_lines(cov))["Same incident, one officer tasked"]
    assert "the incident log has no record from 2 Jun 2024 06:50 BST" in line


def test_the_area_the_records_cover() -> None:
    """Inside a duty area's boundary, or within premises_area_m of a police station,
    custody suite or incident; a point far from all is not (premises and remote are not
    assessed there)."""
    import shapely

    from whereabouts.analysis.extent import register_area

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE places AS SELECT * FROM (VALUES ('police_station', 0.0, 0.0), "
        "('hospital', 90000.0, 0.0), ('home', 60000.0, 0.0)) t(kind, x, y)"
    )
    con.execute(
        "CREATE TABLE incidents AS SELECT * FROM (VALUES (0.0, 80000.0), (NULL, NULL)) t(x, y)"
    )
    con.execute("CREATE TABLE areas(geometry_wkb BLOB)")
    con.execute(
        "INSERT INTO areas VALUES (?)", [shapely.to_wkb(shapely.box(20000, 20000, 40000, 40000))]
    )
    con.execute(
        "CREATE TABLE o AS SELECT * FROM (VALUES ('near', 4000.0, 3000.0), "
        "('edge', 5001.0, 0.0), ('beat', 39000.0, 21000.0), ('home', 60000.0, 0.0), "
        "('hospital', 90000.0, 0.0), ('incident', 3000.0, 79000.0), "
        "('none', NULL, NULL)) t(occasion_id, x, y)"
    )
    register_area(con, AnalysisParams(), "o", "cover")
    got = dict(con.execute("SELECT occasion_id, inside FROM cover").fetchall())
    assert got == {
        "near": True,
        "edge": False,
        "beat": True,
        "home": False,
        "hospital": False,
        "incident": True,
    }


def _toy_find(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> None:
    """A toy reason: the occasions starting at an even hour, each explained whole."""
    even = f"FROM {target} o WHERE (o.start // 3600000000) % 2 = 0"
    con.execute(f"INSERT INTO rwin SELECT o.occasion_id, 'toy', o.start, o.\"end\" {even}")
    con.execute(
        f"INSERT INTO evid SELECT o.occasion_id, 'toy', 'reason', 'an even hour', ['toy:1'] {even}"
    )


def _toy_unassessable(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> str:
    return (
        "SELECT occasion_id, 'no toy log covers ' || day_text(start) AS why "  # noqa: S608
        f"FROM {target}"
    )


def test_a_new_reason_is_one_step_and_one_term(team: tuple[Inputs, pa.Table, list[str]]) -> None:
    """A reason registered here (its step and its words, nothing else) is found, explains
    the occasions it covers, is assessed where its inputs say so, and is worded by the
    report, the web app and the exports; afterwards the reasons are as before."""
    inputs, periods, names = team
    toy = reasons.ReasonStep("toy", _toy_find, _toy_unassessable, ("fixes",))
    words = Term("toy", "toy reason", "a toy reason of the test")
    with reasons.registered(toy, words):
        occ = label_occasions(inputs, periods, names, AnalysisParams()).to_pylist()
        assert reason_codes()[-1] == "toy" and REASON_WORDS["toy"] == words.words
        assert pages.words()["reasons"]["toy"] == "toy reason"
        even = [o for o in occ if o["start"].hour % 2 == 0]
        odd = [o for o in occ if o["start"].hour % 2 == 1]
        assert even and odd
        for o in even:  # found: explained whole, so assessed
            assert o["reasons"][-1] == "toy" and o["explained"] and o["unexplained_s"] == 0
            assert o["finding"] == "reason_found"
            assert not any(x.startswith("toy:") for x in o["not_assessed"])
            assert "toy reason" in facts(o)["reasons"]
        for o in odd:  # not found, its inputs do not cover it: not assessable
            assert "toy" not in o["reasons"]
            assert f"toy: no toy log covers {o['start']:%-d %b %Y}" in o["not_assessed"]
            assert o["finding"] in ("reason_found", "not_assessable")
            assert o["finding"] == ("reason_found" if o["explained"] else "not_assessable")
    assert "toy" not in reason_codes() and "toy" not in reasons.STEPS
    before = by_id(full_occasions(team))
    assert {o["occasion_id"] for o in odd} <= set(before)
    for o in odd:  # the occasions the toy did not find are labelled as without it
        b = before[o["occasion_id"]]
        assert (o["reasons"], o["explained"]) == (b["reasons"], b["explained"])
        assert [x for x in o["not_assessed"] if not x.startswith("toy:")] == b["not_assessed"]


def test_a_silence_is_judged_by_the_rate_of_its_hours() -> None:
    """A log busy by day (100 records an hour, 08:00-20:00) and quiet at night (4 an hour):
    three hours without a record at night are its ordinary quiet (12 expected), three by
    day an outage (300 expected) — against the log's mean rate both would be."""
    import numpy as np

    from whereabouts.analysis.extent import LogDays, expected_records

    start = np.datetime64("2024-06-01T00:00", "us").astype(np.int64)
    t = start + np.arange(0, 10 * 86_400, 36, dtype=np.int64) * 1_000_000
    hour = (t - start) // 3_600_000_000 % 24
    t = t[((hour >= 8) & (hour < 20)) | ((t - start) // 1_000_000 % 900 == 0)]
    night = (start + (4 * 24 + 1) * 3_600_000_000, start + (4 * 24 + 4) * 3_600_000_000)
    day = (start + (5 * 24 + 10) * 3_600_000_000, start + (5 * 24 + 13) * 3_600_000_000)
    t = t[~(((t > night[0]) & (t < night[1])) | ((t > day[0]) & (t < day[1])))]
    days = LogDays.of(t, share=0.25, timezone="UTC", silence=(48.0, 2.0))
    assert days.silences.tolist() == [[day[0], day[1]]]
    e = np.diff(expected_records(t, "UTC"))
    at_night = e[np.flatnonzero(t[:-1] == night[0])[0]]
    by_day = e[np.flatnonzero(t[:-1] == day[0])[0]]
    assert 10 < at_night < 13 and 260 < by_day < 310  # the hours less the silences
    # the rule of the mean rate would have called both outages
    mean = (t[-1] - t[0]) / (len(t) - 1)
    assert (night[1] - night[0]) > 48 * mean and (day[1] - day[0]) > 48 * mean


def test_log_days_of_a_log_repeated_out_of_order_are_the_logs_own() -> None:
    """The ladder labels several copies of one log in one pass: their days and silences
    are those of the log (the distinct times come from a stable sort of the records)."""
    import numpy as np

    from whereabouts.analysis.extent import DAY, LogDays

    rng = np.random.default_rng(7)
    t = np.sort(rng.integers(0, 9 * DAY, 2000))
    t = t[(t < 3 * DAY) | (t > 3 * DAY + 20 * 3600 * 10**6)]  # a silence of 20 hours
    one = LogDays.of(t, share=0.25, silence=(48.0, 2.0))
    many = LogDays.of(rng.permutation(np.concatenate([t, t, t])), share=0.25, silence=(48.0, 2.0))
    assert one.silences.shape == (1, 2)
    assert many.silences.tolist() == one.silences.tolist()
    assert (many.lo, many.hi, many.uncovered.tolist()) == (one.lo, one.hi, one.uncovered.tolist())
    assert many.median == 3 * one.median


def test_the_area_judges_a_point_once_per_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """register_area of the occasions the premises reason judged, then of some of them (the
    remote flag's): the second judges no point again, and says what a fresh one says."""
    from whereabouts.analysis import extent

    def area_con() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute(
            "CREATE TABLE places AS SELECT * FROM (VALUES ('police_station', 0.0, 0.0), "
            "('home', 9000.0, 0.0)) v(kind, x, y)"
        )
        con.execute("CREATE TABLE incidents AS SELECT 4000.0 AS x, 0.0 AS y")
        con.execute("CREATE TABLE areas(geometry_wkb BLOB)")
        con.execute(
            "CREATE TABLE o AS SELECT * FROM (VALUES ('a', 10.0, 0.0), ('b', 4100.0, 0.0), "
            "('c', 9000.0, 0.0), ('d', NULL, NULL), ('e', 10.0, 0.0)) v(occasion_id, x, y)"
        )
        con.execute("CREATE VIEW part AS SELECT * FROM o WHERE occasion_id IN ('c', 'e')")
        return con

    judged: list[int] = []
    real = extent._inside

    def counting(con: duckdb.DuckDBPyConnection, reach: float, x: Any, y: Any) -> Any:
        judged.append(len(x))
        return real(con, reach, x, y)

    monkeypatch.setattr(extent, "_inside", counting)
    params = AnalysisParams.of({"premises_area_m": 500.0})
    con = area_con()
    extent.register_area(con, params, "o", "all_area")
    extent.register_area(con, params, "part", "some_area")
    assert judged == [4]  # the located points of o, once
    got = dict(con.execute("SELECT * FROM some_area").fetchall())
    assert got == {"c": False, "e": True}
    fresh = area_con()
    extent.register_area(fresh, params, "part", "some_area")
    assert dict(fresh.execute("SELECT * FROM some_area").fetchall()) == got
    assert judged == [4, 2]
    # another reach is judged again
    extent.register_area(con, AnalysisParams.of({"premises_area_m": 5000.0}), "part", "far")
    assert judged == [4, 2, 2]
    assert dict(con.execute("SELECT * FROM far").fetchall()) == {"c": True, "e": True}


def test_outside_area_unassessable_names_each_officers_missing_area() -> None:
    """Each officer on duty at the occasion's middle needs a duty area and its boundary:
    the reasons are listed once each, a crew of one (a stop) met once, an officer off duty
    then needs none."""
    from whereabouts.analysis import context

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE o AS SELECT * FROM (VALUES ('O1', 'A', 'B', 0, 100), "
        "('O2', 'A', 'C', 200, 300), ('O3', 'B', 'B', 0, 100), ('O4', 'C', 'D', 0, 100)) "
        'v(occasion_id, officer_a, officer_b, start, "end")'
    )
    con.execute(
        "CREATE TABLE duty AS SELECT * FROM (VALUES ('A', 0, 400, NULL), "
        "('B', 0, 100, 'NORTH'), ('C', 200, 300, 'SOUTH'), ('D', 0, 40, NULL), "
        "('C', 0, 100, 'NORTH')) v(officer_id, start, \"end\", area_id)"
    )
    con.execute("CREATE TABLE areas AS SELECT 'SOUTH' AS area_id")
    query = context._outside_unassessable(con, AnalysisParams(), context.Scope("o", "o"))
    got = dict(con.execute(query).fetchall())
    assert got == {
        "O1": "no boundary of area NORTH was provided; no duty area recorded for A",
        "O2": "no duty area recorded for A",
        "O3": "no boundary of area NORTH was provided",
        "O4": "no boundary of area NORTH was provided",
    }
