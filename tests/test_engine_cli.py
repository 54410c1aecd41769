"""`whereabouts encounters` end to end: CSV and Parquet inputs, options, metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from whereabouts.cli import app
from whereabouts.schema import UTC_TS

T0 = 1_707_120_000_000_000


def write_fixes(path: Path) -> None:
    rows = [
        (d, s, x) for s in range(0, 601, 30) for d, x in (("A", 0.0), ("B", 30.0), ("C", 5000.0))
    ]
    t = pa.table(
        {
            "device_id": [r[0] for r in rows],
            "time": pa.array([T0 + r[1] * 1_000_000 for r in rows], pa.int64()).cast(UTC_TS),
            "easting": [318_000.0 + r[2] for r in rows],
            "northing": [176_000.0] * len(rows),
        }
    )
    pq.write_table(t, path)


def test_encounters_command_writes_the_canonical_table(tmp_path: Path) -> None:
    src, out = tmp_path / "fixes.parquet", tmp_path / "enc.parquet"
    write_fixes(src)
    result = CliRunner().invoke(
        app,
        [
            "encounters",
            str(src),
            "--distance",
            "50",
            "--max-gap",
            "60",
            "--merge-gap",
            "30",
            "--min-duration",
            "300",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    t = pq.read_table(out)
    assert t.column_names[:6] == [
        "device_a",
        "device_b",
        "start",
        "end",
        "duration_s",
        "min_distance_m",
    ]
    assert t.to_pylist()[0]["duration_s"] == 600.0 and t.num_rows == 1
    meta = json.loads(t.schema.metadata[b"whereabouts"])
    assert meta["params"]["distance_m"] == "50.0" and meta["crs"] == "EPSG:27700"


def test_raw_periods_and_device_options(tmp_path: Path) -> None:
    src, out = tmp_path / "fixes.parquet", tmp_path / "raw.parquet"
    write_fixes(src)
    result = CliRunner().invoke(
        app,
        [
            "encounters",
            str(src),
            "--distance",
            "6000",
            "--one-to-many",
            "C",
            "--raw",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    pairs = {(r["device_a"], r["device_b"]) for r in pq.read_table(out).to_pylist()}
    assert pairs == {("A", "C"), ("B", "C")}


def test_csv_example_with_lat_lon(examples: Path, tmp_path: Path) -> None:
    out = tmp_path / "enc.parquet"
    result = CliRunner().invoke(
        app,
        [
            "encounters",
            str(examples / "fixes.csv"),
            "--distance",
            "100",
            "--min-duration",
            "0",
            "--raw",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out).to_pylist()
    # RV21 moves between fixes at 07:41:00 and 07:41:30; the radio has one fix at 07:41:12
    assert [(r["device_a"], r["device_b"]) for r in rows] == [("6200101", "RV21")]
    assert rows[0]["start"] == rows[0]["end"]


def test_bad_option_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "fixes.parquet"
    write_fixes(src)
    result = CliRunner().invoke(
        app, ["encounters", str(src), "--distance", "-1", "--out", str(tmp_path / "x.parquet")]
    )
    assert result.exit_code != 0


def test_encounters_on_a_workspace_need_an_authority_and_are_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.case import CaseStore
    from whereabouts.store import Workspace

    src = tmp_path / "fixes.parquet"
    write_fixes(src)
    ws = Workspace.init(tmp_path / "ws")
    csv = tmp_path / "fixes.csv"
    t = pq.read_table(src)
    csv.write_text(
        "device_id,time,easting,northing\n"
        + "".join(
            f"{r['device_id']},{r['time'].isoformat()},{r['easting']},{r['northing']}\n"
            for r in t.to_pylist()
        )
    )
    ws.ingest("fixes", [csv])
    out = tmp_path / "enc.parquet"
    args = ["encounters", str(ws.path), "--distance", "50", "--out", str(out)]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code != 0 and "every officer's location data" in str(refused.exception)
    assert not out.exists()
    store = CaseStore.open(ws.path)
    store.add_user("boss", "a long enough password", "administrator")
    store.add_user("ana", "a long enough password", "analyst", actor=store.get_user("boss"))
    store.close()
    monkeypatch.setenv("WHEREABOUTS_PASSWORD", "a long enough password")
    no_role = CliRunner().invoke(
        app, [*args, "--purpose", "checking the engine's figures", "--user", "ana"]
    )
    assert no_role.exit_code != 0 and not out.exists()
    ok = CliRunner().invoke(
        app, [*args, "--purpose", "checking the engine's figures", "--user", "boss"]
    )
    assert ok.exit_code == 0, ok.output
    assert "audited; made at audit head" in ok.output and out.exists()
    store = CaseStore.open(ws.path)
    try:
        entry = store.audit.entries(action="encounters.read")[-1]
        assert entry["actor"] == "boss"
        assert entry["detail"]["purpose"] == "checking the engine's figures"
    finally:
        store.close()
    # raw files outside a workspace: not audited, and said so
    raw = CliRunner().invoke(app, ["encounters", str(src), "--out", str(tmp_path / "r.parquet")])
    assert raw.exit_code == 0 and "not audited" in raw.output
