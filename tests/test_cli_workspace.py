"""The workspace commands: init, ingest, status (--json), export, profiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from whereabouts.cli import app

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_init_ingest_status_export(tmp_path: Path, examples: Path, real_data: Path) -> None:
    ws = str(tmp_path / "ws")
    assert "created" in run("init", ws, "--crs", "EPSG:27700", "--timezone", "Europe/London")
    out = run(
        "ingest",
        ws,
        "--kind",
        "fixes",
        str(examples / "fixes.csv"),
        str(examples / "fixes_bng.csv"),
    )
    assert "fixes.csv: read 3 = accepted 3 + duplicates 0 + quarantined 0" in out
    assert "fixes_bng.csv: read 2 = accepted 2" in out
    out = run(
        "ingest",
        ws,
        "--kind",
        "fixes",
        "--profile",
        "liverpool-bus",
        str(real_data / "liverpool_bus_route14_outbound.csv"),
    )
    assert "read 1533 = accepted 1533" in out
    again = run("ingest", ws, "--kind", "fixes", str(examples / "fixes.csv"))
    assert "already ingested" in again and "nothing to do" in again

    status = json.loads(run("status", ws, "--json"))
    assert status["crs"] == "EPSG:27700"
    by_name = {e["name"]: e for e in status["inputs"]}
    assert len(status["inputs"]) == 3
    assert by_name["fixes.csv"]["counts"] == {
        "read": 3,
        "accepted": 3,
        "duplicates": 0,
        "quarantined": 0,
    }
    import hashlib

    assert (
        by_name["fixes.csv"]["sha256"]
        == hashlib.sha256((examples / "fixes.csv").read_bytes()).hexdigest()
    )
    assert "liverpool" in run("status", ws)

    out_csv = tmp_path / "fixes.csv"
    # every officer's fixes: an administrator's export with a stated purpose, audited
    refused = runner.invoke(app, ["export", ws, "--table", "fixes", "--out", str(out_csv)])
    assert refused.exit_code != 0 and "stated purpose" in str(refused.exception)
    assert not out_csv.exists()
    os.environ["WHEREABOUTS_PASSWORD"] = "a long enough password"
    try:
        from whereabouts.case import CaseStore

        store = CaseStore.open(ws)
        store.add_user("boss", "a long enough password", "administrator")
        store.close()
        out = run(
            "export",
            ws,
            "--table",
            "fixes",
            "--out",
            str(out_csv),
            "--user",
            "boss",
            "--purpose",
            "subject access request DPA-7",
        )
    finally:
        del os.environ["WHEREABOUTS_PASSWORD"]
    assert "1538 rows of fixes" in out and "audited; made at audit head" in out
    header = out_csv.read_text().splitlines()[0].split(",")
    assert header[:4] == ["device_id", "time", "lat", "lon"] and "accuracy_m" in header
    from whereabouts.case import CaseStore
    from whereabouts.case.audit import find_anchor

    store = CaseStore.open(ws)
    try:
        entry = store.audit.entries(action="export.table")[-1]
        assert entry["actor"] == "boss" and entry["detail"]["table"] == "fixes"
        assert entry["detail"]["purpose"] == "subject access request DPA-7"
        anchor = find_anchor(out_csv)  # from fixes.csv.audit beside it
        assert anchor.seq == entry["seq"] and store.audit.verify(against=anchor).ok
    finally:
        store.close()
    # map layers hold no officers' data: exported without an audit, and it says so
    assert "not audited" in run(
        "export", ws, "--table", "areas", "--out", str(tmp_path / "areas.parquet")
    )


def test_ingest_reports_quarantine_location(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    run("init", ws)
    bad = tmp_path / "devices.csv"
    bad.write_text("device_id,kind,label\nR1,radio,a\nR2,hovercraft,b\n")
    out = run("ingest", ws, "--kind", "devices", str(bad))
    assert "quarantined 1; quarantine:" in out and "quarantine/" in out


def test_profiles_lists_the_shipped_ones() -> None:
    out = run("profiles")
    for name in ("traccar", "generic-avl", "liverpool-bus"):
        assert name in out


def test_errors_are_messages_not_tracebacks(tmp_path: Path) -> None:
    env = {**os.environ, "WHEREABOUTS_QUIET": "1"}
    ws = tmp_path / "ws"
    run("init", str(ws))
    bad = tmp_path / "avl.csv"
    bad.write_text("unit,timestamp,latitude,longitude,speed_kmh,heading\n")
    done = subprocess.run(
        [sys.executable, "-m", "whereabouts", "ingest", str(ws), "--kind", "fixes", str(bad)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "avl.csv" in done.stderr and "--profile generic-avl" in done.stderr
    assert "Traceback" not in done.stderr
