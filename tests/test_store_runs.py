"""The run store: a run becomes the case's only when complete, the typed summary keeps
summary.json's bytes, and every reader finds runs the one way."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from whereabouts.errors import NoDataError, ParameterError, WorkspaceError
from whereabouts.store.runs import (
    SUMMARY_FORMAT,
    Baseline,
    Counts,
    FixCoverage,
    InputRecord,
    PairBaseline,
    Period,
    Run,
    RunStore,
    RunSummary,
    RunWriter,
    ScreeningRecord,
    write_screening,
)
from whereabouts.store.software import run_record, software

START = datetime(2024, 3, 25, tzinfo=UTC)
END = datetime(2024, 4, 8, tzinfo=timezone(timedelta(hours=1)))


def _summary(case: str = "PSD-1", occasions: int = 2) -> RunSummary:
    return RunSummary(
        case=case,
        subjects=("P1", "P2"),
        period=Period(START, END),
        params={"distance_m": 100.0, "on_duty_only": True},
        crs="EPSG:27700",
        version="1.2",
        remote_rule="few incidents",
        road_rule="nearest road",
        explained_rule="any reason",
        inputs=(InputRecord("fixes.csv", "ab" * 32, "fixes", 10),),
        coverage=(FixCoverage("P1", 5), FixCoverage("P2", 0)),
        counts=Counts(occasions, 1, 1, 3),
        baseline=Baseline(
            group="team A",
            pairs=3,
            test="Poisson",
            why="counts",
            subject_pairs=(
                PairBaseline("P1", "P2", "rank 1", rank=1, percentile=100.0, p_value=0.01),
            ),
        ),
    )


def _occasions(n: int) -> pa.Table:
    return pa.table({"occasion_id": [f"O{i}" for i in range(n)]})


def test_a_committed_run_is_the_cases_and_lists_its_files_with_hashes(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    with store.writer("PSD-1") as w:
        w.table("occasions", _occasions(2))
        w.csv("occasions", _occasions(2))
        run = w.commit(_summary())
    current = store.current("PSD-1")
    # the summary as given, with the software that made the run filled in at commit
    assert current.path == run.path and current.summary == replace(
        _summary(), software=run_record()
    )
    assert current.table("occasions").equals(_occasions(2))
    meta = json.loads((run.path / "run.json").read_text())
    assert meta["summary_format"] == SUMMARY_FORMAT
    assert set(meta["files"]) == {"occasions.parquet", "occasions.csv", "summary.json"}
    for name, sha in meta["files"].items():
        assert hashlib.sha256((run.path / name).read_bytes()).hexdigest() == sha
    assert store.cases() == ["PSD-1"] and store.has_run("PSD-1")


def test_an_unfinished_run_never_becomes_the_cases(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    with store.writer("PSD-1") as w:
        w.table("occasions", _occasions(2))
        first = w.commit(_summary())
    # a crash mid-write: the writer is dropped without commit (the process died)
    dead = store.writer("PSD-1")
    dead.table("occasions", _occasions(5))
    assert store.current("PSD-1").path == first.path
    assert store.current("PSD-1").table("occasions").num_rows == 2
    assert [r.path for r in store.history("PSD-1")] == [first.path]
    # an error inside the writer's block removes its partial folder
    with pytest.raises(RuntimeError), store.writer("PSD-1") as w:
        w.table("occasions", _occasions(7))
        raise RuntimeError("boom")
    assert not w.path.exists()
    assert store.current("PSD-1").path == first.path
    # a later complete run replaces it; the history keeps both, oldest first
    with store.writer("PSD-1") as w:
        w.table("occasions", _occasions(3))
        second = w.commit(_summary(occasions=3))
    assert store.current("PSD-1").path == second.path
    assert [r.path for r in store.history("PSD-1")] == [first.path, second.path]


def test_the_summary_reads_back_to_the_same_bytes(tmp_path: Path) -> None:
    summary = _summary()
    text = summary.to_text()
    again = RunSummary.from_json(json.loads(text))
    assert again == summary and again.to_text() == text
    assert again.setting("distance_m", 50.0) == 100.0
    assert again.setting("max_gap_s", 300.0) == 300.0  # not recorded: the default given
    none = Baseline(group="none", note="no baseline was asked for")
    assert Baseline.from_json(none.to_json()) == none
    assert none.to_json() == {"group": "none", "note": "no baseline was asked for"}


def test_a_run_records_the_software_that_made_it(tmp_path: Path) -> None:
    with RunWriter.to_folder(tmp_path / "out") as w:
        run = w.commit(_summary())
    recorded = json.loads((run.path / "summary.json").read_text())["software"]
    full = software()
    assert recorded["whereabouts"] == full["whereabouts"]
    assert len(recorded["whereabouts"]["source_sha256"]) == 64
    assert recorded["packages"]["pyarrow"] == pa.__version__
    assert set(recorded["packages"]) == set(full["packages"])
    assert len(recorded["packages_sha256"]) == 64
    # a summary that carries its software keeps it; a format-1 run (none) reads as None
    given = replace(_summary(), software={"whereabouts": {"version": "0.0.1"}})
    with RunWriter.to_folder(tmp_path / "given") as w:
        assert w.commit(given).summary.software == given.software
    old = {k: v for k, v in run.summary.to_json().items() if k != "software"}
    assert RunSummary.from_json(old).software is None


def test_a_summary_missing_what_every_run_records_is_refused(tmp_path: Path) -> None:
    data = _summary().to_json()
    del data["period"]
    with pytest.raises(WorkspaceError, match="'period' is missing"):
        RunSummary.from_json(data, "x/summary.json")
    data = {**_summary().to_json(), "subjects": ["P1", "P2"]}
    with pytest.raises(WorkspaceError, match="officer_id"):
        RunSummary.from_json(data)


def test_no_run_yet_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(NoDataError, match="no analysis run") as err:
        RunStore(tmp_path).current("PSD-9")
    assert "whereabouts investigate" in err.value.hint
    with pytest.raises(ParameterError, match="cannot name a folder"):
        RunStore(tmp_path).current("../etc")
    with pytest.raises(NoDataError, match="not an analysis run"):
        Run.open(tmp_path)


def test_a_run_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    with RunWriter.to_folder(tmp_path / "out") as w:
        run = w.commit(_summary())
    meta = json.loads((run.path / "run.json").read_text())
    (run.path / "run.json").write_text(json.dumps({**meta, "summary_format": 99}))
    with pytest.raises(WorkspaceError, match="summary format 99"):
        Run.open(run.path)


def test_a_folder_run_replaces_an_older_run_but_not_other_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with RunWriter.to_folder(out) as w:
        w.table("occasions", _occasions(4))
        (w.file("report")).mkdir()
        w.commit(_summary())
    with RunWriter.to_folder(out) as w:
        w.table("occasions", _occasions(1))
        w.commit(_summary(occasions=1))
    run = Run.open(out)
    assert run.table("occasions").num_rows == 1 and not (out / "report").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no partial folders left
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep")
    with pytest.raises(WorkspaceError, match="not an analysis run"):
        RunWriter.to_folder(other)
    # a folder written straight into WS/runs/<case> is that case's run
    with RunWriter.to_folder(tmp_path / "runs" / "PSD-2") as w:
        w.commit(_summary("PSD-2"))
    assert RunStore(tmp_path).current("PSD-2").summary.case == "PSD-2"


def test_screenings_are_listed_with_what_they_ran_under(tmp_path: Path) -> None:
    ranked = pa.table({"rank": [1], "officer_a": ["P1"], "officer_b": ["P2"]})
    write_screening(
        tmp_path / "runs" / "s1",
        ranked,
        ScreeningRecord("SCR-1", "team:T1", "2024-03-01", "2024-04-01"),
    )
    [(name, path, record)] = list(RunStore(tmp_path).screenings())
    assert name == "s1" and path.name == "screening.parquet"
    assert record == ScreeningRecord("SCR-1", "team:T1", "2024-03-01", "2024-04-01")
    assert (path.parent / "screening.csv").exists()
