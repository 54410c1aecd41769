"""The workspace: layout, manifest, no-op re-ingest, read-only data, filtered fixes, lock."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from whereabouts import schema
from whereabouts.errors import InputError, WorkspaceError
from whereabouts.io import tabular
from whereabouts.store import Workspace
from whereabouts.store.export import export_table
from whereabouts.store.lock import exclusive

HEADER = "device_id,time,lat,lon,accuracy_m"


def fixes_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws")


def test_layout_and_settings(tmp_path: Path) -> None:
    w = Workspace.init(tmp_path / "ws", crs="27700", timezone="Europe/London")
    assert (w.crs, w.timezone) == ("EPSG:27700", "Europe/London")
    for name in ("workspace.json", "manifest.json", "catalog.duckdb", "tables", "quarantine"):
        assert (w.path / name).exists(), name
    assert Workspace.open(w.path).crs == "EPSG:27700"
    with pytest.raises(WorkspaceError, match="already a workspace"):
        Workspace.init(w.path)
    with pytest.raises(WorkspaceError, match="not a workspace"):
        Workspace.open(tmp_path / "nowhere")


def test_ingest_writes_manifest_readonly_parquet_and_projected_fixes(ws: Workspace,
                                                                     tmp_path: Path) -> None:
    path = fixes_csv(tmp_path / "a.csv", ["R1,2024-02-05T07:41:00Z,51.48,-3.18,5",
                                          "R1,2024-02-05T07:41:00Z,51.48,-3.18,5",
                                          "R1,2024-02-05T07:42:00Z,95,-3.18,5"])
    report = ws.ingest("fixes", [path])[0]
    assert report.counts == {"read": 3, "accepted": 1, "duplicates": 1, "quarantined": 1}
    assert "read 3 = accepted 1 + duplicates 1 + quarantined 1" in report.summary()
    entry = ws.manifest[0]
    import hashlib

    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry["size"] == path.stat().st_size and entry["name"] == "a.csv"
    assert entry["counts"] == report.counts and entry["kind"] == "fixes"
    assert entry["version"] and entry["ingested_at"].endswith("Z")
    stored = ws.path / "tables" / "fixes" / f"{entry['file_id']}.parquet"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o444
    fixes = ws.fixes()
    assert fixes.schema.equals(schema.FIXES)
    row = fixes.to_pylist()[0]
    # Cardiff in British National Grid metres
    assert 310_000 < row["x"] < 325_000 and 170_000 < row["y"] < 182_000
    assert row["src_file"] == entry["file_id"] and row["src_line"] == 2
    q = pq.read_table(report.quarantine)
    assert q.to_pylist()[0]["line"] == 4 and q.to_pylist()[0]["column"] == "lat"


def test_reingest_is_a_noop_and_overlapping_files_are_added(ws: Workspace,
                                                            tmp_path: Path) -> None:
    a = fixes_csv(tmp_path / "a.csv", ["R1,2024-02-05T07:41:00Z,51.48,-3.18,5"])
    b = fixes_csv(tmp_path / "b.csv", ["R1,2024-02-05T07:41:00Z,51.48,-3.18,5",
                                       "R1,2024-02-05T07:43:00Z,51.49,-3.18,5"])
    ws.ingest("fixes", [a])
    again = ws.ingest("fixes", [a])[0]
    assert again.skipped and "nothing to do" in again.summary()
    assert len(ws.manifest) == 1
    ws.ingest("fixes", [b])
    assert len(ws.manifest) == 2
    # the same fix from two files is kept twice, each with its own provenance
    assert ws.fixes().num_rows == 3
    assert len(set(ws.fixes()["src_file"].to_pylist())) == 2


def test_stored_parquet_cannot_be_overwritten(ws: Workspace, tmp_path: Path) -> None:
    a = fixes_csv(tmp_path / "a.csv", ["R1,2024-02-05T07:41:00Z,51.48,-3.18,5"])
    ws.ingest("fixes", [a])
    stored = next((ws.path / "tables" / "fixes").glob("*.parquet"))
    if os.geteuid() != 0:  # root ignores file modes
        with pytest.raises(PermissionError):
            stored.write_bytes(b"x")
    # forget the manifest entry: a second ingest still refuses to replace the file
    (ws.path / "manifest.json").write_text(json.dumps({"inputs": []}))
    with pytest.raises(WorkspaceError, match="never overwritten"):
        ws.ingest("fixes", [a])
    assert pq.read_table(stored).num_rows == 1


def test_fixes_filters_by_device_and_time(ws: Workspace, tmp_path: Path) -> None:
    rows = [f"R{d},2024-02-05T07:{m:02d}:00Z,51.48,-3.18,5" for d in (1, 2, 3) for m in range(10)]
    ws.ingest("fixes", [fixes_csv(tmp_path / "a.csv", rows)])
    got = ws.fixes(devices=["R2", "R3"], start=datetime(2024, 2, 5, 7, 3, tzinfo=UTC),
                   end=datetime(2024, 2, 5, 7, 5, tzinfo=UTC))
    assert got["device_id"].to_pylist() == ["R2", "R2", "R3", "R3"]
    assert [t.minute for t in got["time"].to_pylist()] == [3, 4, 3, 4]
    assert ws.fixes(devices=[]).num_rows == 0
    con = ws.connect()
    assert con.sql("SELECT count(*) FROM fixes").fetchall() == [(30,)]
    assert con.sql("SELECT count(*) FROM officers").fetchall() == [(0,)]


def test_duplicates_across_chunks_are_merged(ws: Workspace, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "_BLOCK", 256)  # a few rows per chunk
    rows = [f"R1,2024-02-05T07:{m:02d}:00Z,51.48,-3.18,5" for m in range(40)]
    rows += [*rows[:5], "R2,2024-02-05T07:00:00Z,51.48,-3.18,5"]  # R2: same key, other device
    report = ws.ingest("fixes", [fixes_csv(tmp_path / "a.csv", rows)])[0]
    assert report.counts == {"read": 46, "accepted": 41, "duplicates": 5, "quarantined": 0}
    assert sorted(ws.fixes()["src_line"].to_pylist()) == [*range(2, 42), 47]


def test_every_example_ingests_cleanly(ws: Workspace, examples: Path) -> None:
    for path in sorted(examples.iterdir()):
        kind = path.stem.split("_")[0]
        if path.suffix == ".md" or kind == "lip":
            continue
        report = ws.ingest(kind, [path])[0]
        assert report.counts["quarantined"] == 0 and report.counts["accepted"] > 0, path.name
    assert ws.table("attachments").num_rows == 3
    assert ws.table("areas").num_rows == 1
    assert ws.table("places", where="kind = 'home'")["owner_officer_id"].to_pylist() == ["P1002"]


def test_export_csv_and_parquet(ws: Workspace, tmp_path: Path) -> None:
    ws.ingest("fixes", [fixes_csv(tmp_path / "a.csv", ["R1,2024-02-05T07:41:00.25Z,51.48,-3.18,5",
                                                       "R0,2024-02-05T07:42:00Z,51.48,-3.18,"])])
    assert export_table(ws, "fixes", tmp_path / "out.csv") == 2
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0].startswith("device_id,time,lat,lon,x,y,accuracy_m")
    assert lines[1].startswith("R0,2024-02-05T07:42:00Z,51.48,-3.18,")
    assert lines[2].startswith("R1,2024-02-05T07:41:00.25Z,")
    export_table(ws, "fixes", tmp_path / "out.parquet")
    back = pq.read_table(tmp_path / "out.parquet")
    assert back["time"].type == schema.UTC_TS and back.num_rows == 2
    with pytest.raises(Exception, match="unknown format"):
        export_table(ws, "fixes", tmp_path / "out.xlsx")


def test_missing_file_stops_with_its_name(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"absent\.csv"):
        ws.ingest("fixes", [tmp_path / "absent.csv"])


def _hold_lock(path: str, ready: multiprocessing.synchronize.Event,
               done: multiprocessing.synchronize.Event) -> None:
    with exclusive(Path(path)):
        ready.set()
        done.wait(10)


def test_a_second_process_waits_for_the_lock(ws: Workspace) -> None:
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(ws.path / ".lock"), ready, done))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(WorkspaceError, match="another process"), \
                exclusive(ws.path / ".lock", timeout_s=0.2):
            pass
    finally:
        done.set()
        holder.join(10)
    with exclusive(ws.path / ".lock", timeout_s=1):
        pass


def test_a_failed_ingest_leaves_nothing_behind(ws: Workspace, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "_BLOCK", 256)  # the bad bytes arrive in a later chunk
    rows = [f"R1,2024-02-05T07:{m:02d}:00Z,51.48,-3.18,5" for m in range(30)]
    path = tmp_path / "a.csv"
    path.write_bytes(("\n".join([HEADER, *rows]) + "\nR\xe9,2024-02-05T08:00:00Z,51,-3,5\n")
                     .encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        ws.ingest("fixes", [path])
    assert ws.manifest == []
    assert list((ws.path / "tables").rglob("*.parquet*")) == []
    assert list((ws.path / "quarantine").iterdir()) == []
    assert ws.fixes().num_rows == 0


def test_one_file_is_one_kind(ws: Workspace, examples: Path) -> None:
    ws.ingest("devices", [examples / "devices.csv"])
    with pytest.raises(WorkspaceError, match="ingested before as devices"):
        ws.ingest("officers", [examples / "devices.csv"])
    assert len(ws.manifest) == 1


def _spans(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.table({"device_id": [r[0] for r in rows],
                     "start": pa.array([datetime.fromisoformat(r[1]) for r in rows],
                                       schema.UTC_TS),
                     "end": pa.array([datetime.fromisoformat(r[2]) for r in rows],
                                     schema.UTC_TS)})


def test_ingest_sorts_fixes_by_device_and_time_in_small_row_groups(
        ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from whereabouts.store import workspace

    monkeypatch.setattr(workspace, "ROW_GROUP_ROWS", 8)
    monkeypatch.setattr(workspace, "SORT_ROWS", 40)
    monkeypatch.setattr(tabular, "_BLOCK", 256)  # a few rows per chunk
    # time-ordered input, devices interleaved (as a supplier's export is)
    rows = [f"R{d},2024-02-05T07:{m:02d}:00Z,51.48,-3.18,5" for m in range(30) for d in (3, 1, 2)]
    ws.ingest("fixes", [fixes_csv(tmp_path / "a.csv", rows)])
    stored = pq.ParquetFile(next((ws.path / "tables" / "fixes").glob("*.parquet")))
    table = stored.read()
    keys = list(zip(table["device_id"].to_pylist(), table["time"].to_pylist(), strict=True))
    assert sorted(table["src_line"].to_pylist()) == list(range(2, 92))
    # runs of at least SORT_ROWS rows (the last may be shorter), each sorted by device and
    # time; the runs follow the input's (time) order
    cuts = [i for i in range(1, len(keys)) if keys[i] < keys[i - 1]]
    runs = [keys[a:b] for a, b in zip([0, *cuts], [*cuts, len(keys)], strict=True)]
    assert len(runs) >= 2 and all(len(r) >= 40 for r in runs[:-1])
    assert all(max(t for _, t in a) <= min(t for _, t in b) for a, b in itertools.pairwise(runs))
    groups = [stored.metadata.row_group(i).num_rows for i in range(stored.num_row_groups)]
    assert max(groups) <= 8 and sum(groups) == 90


def test_fixes_within_reads_only_the_spans(ws: Workspace, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from whereabouts.store import workspace

    monkeypatch.setattr(workspace, "ROW_GROUP_ROWS", 10)
    rows = [f"R{d},2024-02-05T{h:02d}:{m:02d}:00Z,51.48,-3.18,5"
            for h in (7, 8, 9) for m in range(0, 60, 5) for d in (1, 2, 3)]
    ws.ingest("fixes", [fixes_csv(tmp_path / "a.csv", rows)])
    spans = _spans([("R2", "2024-02-05T07:50:00+00:00", "2024-02-05T08:10:00+00:00"),
                    ("R2", "2024-02-05T08:05:00+00:00", "2024-02-05T08:20:00+00:00"),  # overlaps
                    ("R3", "2024-02-05T09:55:00+00:00", "2024-02-05T11:00:00+00:00"),
                    ("R9", "2024-02-05T07:00:00+00:00", "2024-02-05T10:00:00+00:00"),  # no fixes
                    ("R1", "2024-02-05T08:00:00+00:00", "2024-02-05T08:00:00+00:00")])  # empty
    got = ws.fixes_within(spans, ["device_id", "time", "x"])
    assert got.schema.names == ["device_id", "time", "x"]
    assert [(d, t.strftime("%H:%M")) for d, t in zip(got["device_id"].to_pylist(),
                                                     got["time"].to_pylist(), strict=True)] == [
        ("R2", "07:50"), ("R2", "07:55"), ("R2", "08:00"), ("R2", "08:05"), ("R2", "08:10"),
        ("R2", "08:15"), ("R3", "09:55")]
    # the same as an SQL join of every fix with the spans
    con = ws.connect()
    con.register("sp", spans)
    ref = con.sql('SELECT DISTINCT f.* FROM fixes f JOIN sp ON sp.device_id = f.device_id '
                  'AND f.time >= sp.start AND f.time < sp."end" ORDER BY device_id, time'
                  ).to_arrow_table()
    assert ws.fixes_within(spans).equals(ref.cast(schema.FIXES))
    assert ws.fixes_within(spans.slice(0, 0)).num_rows == 0
    with pytest.raises(WorkspaceError, match="no columns"):
        ws.fixes_within(spans, ["speed"])


def test_fixes_within_skips_row_groups_by_their_statistics(
        ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from whereabouts.store import workspace

    monkeypatch.setattr(workspace, "ROW_GROUP_ROWS", 10)
    rows = [f"R{d},2024-02-05T07:{m:02d}:00Z,51.48,-3.18,5" for m in range(20) for d in range(5)]
    ws.ingest("fixes", [fixes_csv(tmp_path / "a.csv", rows)])
    read: list[list[int]] = []
    real = pq.ParquetFile.read_row_groups

    def spy(self: pq.ParquetFile, row_groups: list[int], **kw: object) -> pa.Table:
        read.append(list(row_groups))
        return real(self, row_groups, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)
    got = ws.fixes_within(_spans([("R3", "2024-02-05T07:02:00+00:00",
                                   "2024-02-05T07:05:00+00:00")]))
    assert got["src_line"].to_pylist() == [2 + 3 + 5 * m for m in (2, 3, 4)]
    # 100 rows in 10 groups sorted by device: R3's fixes are in groups 6-7, 07:02-07:05 in 6
    assert read == [[6], [6]]  # device and time, then the other columns


def test_duplicates_merged_across_small_row_groups(ws: Workspace, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from whereabouts.store import workspace

    monkeypatch.setattr(workspace, "ROW_GROUP_ROWS", 4)
    monkeypatch.setattr(workspace, "SORT_ROWS", 10)
    monkeypatch.setattr(tabular, "_BLOCK", 256)
    rows = [f"R{d},2024-02-05T07:{m:02d}:00Z,51.48,-3.18,5" for m in range(12) for d in (2, 1)]
    rows += rows[3:20:4]  # five exact repeats, spread over the file
    report = ws.ingest("fixes", [fixes_csv(tmp_path / "a.csv", rows)])[0]
    assert report.counts == {"read": 29, "accepted": 24, "duplicates": 5, "quarantined": 0}
    assert sorted(ws.fixes()["src_line"].to_pylist()) == list(range(2, 26))  # first kept
    stored = pq.ParquetFile(next((ws.path / "tables" / "fixes").glob("*.parquet")))
    sizes = [stored.metadata.row_group(i).num_rows for i in range(stored.num_row_groups)]
    assert max(sizes) <= 4 and sum(sizes) == 24
