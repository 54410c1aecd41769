"""End to end on a small simulated force: the CLI opens a case, finds the planted meetings,
labels them and writes the output folder; the same run twice gives the same bytes."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from whereabouts.analysis.investigate import investigate
from whereabouts.cli import app
from whereabouts.simulate.config import Planting, SimConfig
from whereabouts.simulate.demo import ingest_simulation
from whereabouts.simulate.force import simulate

START, END = datetime(2024, 3, 25, tzinfo=UTC), datetime(2024, 3, 29, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def force(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("force")
    cfg = SimConfig(
        seed=3,
        officers=30,
        days=4,
        planting=Planting(remote_meetings=3, home_meetings=2, secluded_stops=2),
    )
    simulate(cfg, root / "data")
    ingest_simulation(root / "data", root / "ws", cfg.timezone)
    return root


def truth(root: Path, kinds: tuple[str, ...]) -> list[dict[str, object]]:
    with (root / "data" / "truth" / "occasions.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] in kinds]
    for r in rows:
        for k in ("start", "end"):
            r[k] = datetime.fromisoformat(str(r[k]).replace("Z", "+00:00"))
    return rows


def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["start"] < b["end"] and b["start"] < a["end"])


@pytest.mark.slow
def test_cli_investigation_finds_the_planted_meetings(force: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner(env={"WHEREABOUTS_USER": ""}).invoke(
        app,
        [
            "investigate",
            str(force / "ws"),
            "--subjects",
            "P1001,P1002",
            "--from",
            "2024-03-25",
            "--to",
            "2024-03-28",
            "--purpose",
            "test allegation",
            "--out",
            str(out),
            "--report",
            "html",
        ],
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert "case AUTO-" in result.output and "rank 1" in result.output
    for name in (
        "occasions.parquet",
        "occasions.csv",
        "tracks.parquet",
        "stops.parquet",
        "baseline.parquet",
        "summary.json",
        "report/report.html",
    ):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["case"].startswith("AUTO-")
    assert [s["officer_id"] for s in summary["subjects"]] == ["P1001", "P1002"]
    assert summary["inputs"] and all(len(i["sha256"]) == 64 for i in summary["inputs"])
    occ = pq.read_table(out / "occasions.parquet").to_pylist()
    stops_together = [o for o in occ if o["unexplained_stop"]]
    planted = truth(force, ("remote_meeting", "home_meeting"))
    assert len(planted) == 5
    for p in planted:
        found = [o for o in stops_together if overlaps(o, p)]
        assert found, f"planted {p['kind']} at {p['start']} not found"
        flags = set(found[0]["flags"])
        assert ("home" in flags) == (p["kind"] == "home_meeting")
        # four days of incident records are too few for the remote rule (at least 7): it
        # is not assessed, and says so, rather than scaled from a few days
        assert "remote" not in flags
        assert any(
            x.startswith("remote: only ") and "days of incident history" in x
            for x in found[0]["not_assessed"]
        ), found[0]["not_assessed"]
        assert found[0]["reasons"] == [] and not found[0]["explained"]
        assert found[0]["finding"] == "no_reason_found"
    assert all(any(overlaps(o, p) for p in planted) for o in stops_together)
    tracks = pq.read_table(out / "tracks.parquet")
    assert set(tracks["officer_id"].to_pylist()) == {"P1001", "P1002"}


@pytest.mark.slow
def test_crewed_pair_stops_and_determinism(force: Path, tmp_path: Path) -> None:
    runs = [
        investigate(
            force / "ws",
            ["P1003", "P1004"],
            START,
            END,
            out_dir=tmp_path / k,
            case="C-1",
            baseline="none",
        )
        for k in ("a", "b")
    ]
    for name in (
        "occasions.parquet",
        "stops.parquet",
        "summary.json",
        "occasions.csv",
        "sensitivity.parquet",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    stops = runs[0].stops.to_pylist()
    for p in truth(force, ("crewed_secluded",)):
        assert any(overlaps(s, p) for s in stops), f"secluded stop at {p['start']} not found"
    # crewed all shift: every occasion of theirs is explained by crewing
    occ = runs[0].occasions.to_pylist()
    assert occ and all("crewed" in o["reasons"] for o in occ)


@pytest.mark.slow
def test_screening_needs_an_authority_and_ranks_the_planted_pair_first(force: Path) -> None:
    from whereabouts.case import CaseStore

    args = [
        "screen",
        str(force / "ws"),
        "--station",
        "Aberllyn",
        "--authority",
        "SCR-1",
        "--from",
        "2024-03-25",
        "--to",
        "2024-03-28",
        "--user",
        "ana",
    ]
    store = CaseStore.open(force / "ws")
    store.add_user("boss", "long enough pass", "administrator")
    store.add_user("ana", "long enough pass", "analyst", actor="boss")
    store.add_user("sup", "long enough pass", "supervisor", actor="boss")
    cli = CliRunner(env={"WHEREABOUTS_PASSWORD": "long enough pass"})  # --user ana's
    refused = cli.invoke(app, args)
    assert refused.exit_code != 0 and "SCR-1" in str(refused.exception)
    store.grant_screening(
        "SCR-1", "station:Aberllyn", START, END, "test screening", authorised_by="sup", actor="sup"
    )
    result = cli.invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    first = next(line for line in result.output.splitlines() if "│ 1 " in line)
    assert "P1001–P1002" in first
    # it states its false-discovery control, beside the q column
    from whereabouts.analysis.screening import FDR_CONTROL

    assert "Benjamini-Hochberg" in FDR_CONTROL
    assert f"q: {FDR_CONTROL}." in " ".join(result.output.split())


def test_a_run_shows_only_what_the_case_may_see(force: Path, tmp_path: Path) -> None:
    """Tracks cut to the case's period; peers in the baseline as figures, never named."""
    subjects = ["P1003", "P1004"]
    result = investigate(
        force / "ws", subjects, START, END, out_dir=tmp_path / "run", sensitivity=False
    )
    tracks = pq.read_table(tmp_path / "run" / "tracks.parquet")
    assert tracks.num_rows > 0
    times = tracks.column("time").to_pylist()
    assert min(times) >= START and max(times) < END
    base = pq.read_table(tmp_path / "run" / "baseline.parquet")
    assert base.num_rows > 1  # the team's other pairs are there, as figures
    named = set(base.column("officer_a").to_pylist()) | set(base.column("officer_b").to_pylist())
    assert {n for n in named if not n.startswith("peer ")} <= set(subjects)
    own = [r for r in base.to_pylist() if {r["officer_a"], r["officer_b"]} == set(subjects)]
    assert len(own) == 1
    assert result.baseline.equals(base)
