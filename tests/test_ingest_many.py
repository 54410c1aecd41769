"""Ingest of several files carries on past a bad one and ends with a table of every file;
waiting on the workspace's lock says so; the quarantine is summarised by reason and its rows
are listed with their original text."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from whereabouts.cli import app
from whereabouts.store import Workspace
from whereabouts.store.lock import exclusive
from whereabouts.store.quarantine import quarantined_rows


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    # the real samples are from Croatia and Lithuania: a grid that covers Europe (in the
    # British National Grid's workspace they would be quarantined as far outside it)
    Workspace.init(tmp_path / "ws", crs="EPSG:3035")
    return tmp_path / "ws"


def _gpx(real_data: Path, tmp_path: Path) -> list[Path]:
    names = {
        "a.gpx": "around-visnjan-with-car.gpx",
        "bad.gpx": "track_with_dilution_errors.gpx",  # no times at all: a whole-file error
        "c.gpx": "unicode_with_bom.gpx",
    }
    out = []
    for name, source in names.items():
        shutil.copy(real_data / "gpx" / source, tmp_path / name)
        out.append(tmp_path / name)
    return out


def test_a_bad_file_does_not_stop_the_others(ws: Path, real_data: Path, tmp_path: Path) -> None:
    files = _gpx(real_data, tmp_path)
    r = CliRunner().invoke(app, ["ingest", str(ws), "--kind", "gpx", *map(str, files)])
    assert r.exit_code == 1, r.output
    assert {e["name"] for e in Workspace.open(ws).manifest} == {"a.gpx", "c.gpx"}
    table = r.output[r.output.index("3 files of kind gpx") :]
    rows = {
        line.split("│")[1].strip(): line
        for line in table.splitlines()
        if line.count("│") > 3 and line.split("│")[1].strip().endswith(".gpx")
    }
    assert set(rows) == {"a.gpx", "bad.gpx", "c.gpx"}
    assert " ingested " in rows["a.gpx"] and " ingested " in rows["c.gpx"]
    assert "failed" in rows["bad.gpx"] and "time" in table
    assert "1 of 3 files failed" in r.output
    # a GPX without --device-id says which id it took
    assert "device 'a', from the file name" in r.output
    # again: the good ones are already ingested, the bad one still fails
    r = CliRunner().invoke(app, ["ingest", str(ws), "--kind", "gpx", *map(str, files)])
    assert r.exit_code == 1 and r.output.count("already ingested") >= 2


def test_the_library_keeps_going_only_when_asked(ws: Path, real_data: Path, tmp_path: Path) -> None:
    from whereabouts.errors import InputError

    a, bad, c = _gpx(real_data, tmp_path)
    with pytest.raises(InputError):
        Workspace.open(ws).ingest("gpx", [bad, c])
    reports = Workspace.open(ws).ingest("gpx", [a, bad, c], keep_going=True)
    assert [r.outcome for r in reports] == ["ingested", "failed", "ingested"]
    assert reports[1].failed and "bad.gpx" in reports[1].failed


def test_quarantine_summary_by_reason_and_the_rows_with_their_text(
    ws: Path, real_data: Path
) -> None:
    log = real_data / "nmea" / "bt451.log"
    r = CliRunner().invoke(
        app, ["ingest", str(ws), "--kind", "nmea", "--device-id", "R1", str(log)]
    )
    assert r.exit_code == 0, r.output
    rows = quarantined_rows(Workspace.open(ws))
    by_reason: dict[str, int] = {}
    for reason in rows["reason"].to_pylist():
        by_reason[reason] = by_reason.get(reason, 0) + 1
    top = max(by_reason, key=lambda k: by_reason[k])
    assert f"{by_reason[top]} × {top} (first at bt451.log:" in r.output
    assert f"{by_reason['comment line']} × comment line" in r.output
    assert "whereabouts quarantine" in r.output
    r = CliRunner().invoke(
        app,
        ["quarantine", str(ws), "--file", "bt451.log", "--reason", "RMC status V", "--limit", "0"],
    )
    assert r.exit_code == 0, r.output
    wanted = [
        raw
        for raw, reason in zip(rows["raw"].to_pylist(), rows["reason"].to_pylist(), strict=True)
        if reason == "no fix: RMC status V (receiver warning)"
    ]
    assert wanted
    for raw in wanted:
        assert raw.split(",")[0] in r.output and raw[:20] in r.output.replace("\n", "")
    assert "comment line" not in r.output
    r = CliRunner().invoke(app, ["quarantine", str(ws), "--file", "nope.log"])
    assert r.exit_code != 0 and "bt451.log" in str(r.exception.hint)  # type: ignore[union-attr]


def test_waiting_on_the_lock_says_so(ws: Path, real_data: Path) -> None:
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    with exclusive(ws / ".lock"):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "whereabouts",
                "ingest",
                str(ws),
                "--kind",
                "gpx",
                "--device-id",
                "car",
                str(real_data / "gpx" / "around-visnjan-with-car.gpx"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stderr is not None
        said: list[str] = []
        reader = threading.Thread(target=lambda: said.append(proc.stderr.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout=120)
        assert said and "waiting for another process" in said[0] and str(ws) in said[0]
        time.sleep(0.2)
        assert proc.poll() is None  # still waiting while the lock is held
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "accepted" in out


def test_a_wrong_device_id_is_superseded_keeping_the_original_as_evidence(
    ws: Path, real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.case import CaseStore
    from whereabouts.case.users import os_username

    monkeypatch.delenv("WHEREABOUTS_USER", raising=False)
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    a = _gpx(real_data, tmp_path)[0]
    assert CliRunner().invoke(app, ["ingest", str(ws), "--kind", "gpx", str(a)]).exit_code == 0
    before = Workspace.open(ws).table("fixes")
    assert set(before["device_id"].to_pylist()) == {"a"}
    r = CliRunner().invoke(
        app, ["ingest", str(ws), "--kind", "gpx", "--device-id", "car-7", str(a)]
    )
    assert "already ingested" in r.output  # without --supersede nothing changes
    r = CliRunner().invoke(
        app, ["ingest", str(ws), "--kind", "gpx", "--device-id", "car-7", "--supersede", str(a)]
    )
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "supersedes its ingest" in said and "'as in the file' → 'car-7'" in said
    w = Workspace.open(ws)
    after = w.table("fixes")
    assert set(after["device_id"].to_pylist()) == {"car-7"}
    assert after.num_rows == before.num_rows
    old, new = w.manifest
    assert old["superseded_by"] == new["file_id"] and new["supersedes"] == old["file_id"]
    assert (ws / "tables" / "fixes" / f"{old['file_id']}.parquet").exists()  # the evidence
    store = CaseStore.open(ws)
    entry = store.audit.entries(action="ingest.supersede")
    store.close()
    assert len(entry) == 1 and entry[0]["actor"] == os_username()
    assert entry[0]["detail"]["device_id"] == [None, "car-7"]
    r = CliRunner().invoke(
        app, ["ingest", str(ws), "--kind", "gpx", "--device-id", "car-7", "--supersede", str(a)]
    )
    assert r.exit_code != 0 and "would change nothing" in str(r.exception)
