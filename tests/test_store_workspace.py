"""The workspace: layout, manifest, no-op re-ingest, read-only data, filtered fixes, lock."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import stat
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whereabouts import schema
from whereabouts.errors import InputError, WorkspaceError
from whereabouts.io import tabular
from whereabouts.store import Workspace
from whereabouts.store.export import export_table
from whereabouts.store.lock import exclusive
from whereabouts.store.workspace import fixes_within_many

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


def test_ingest_writes_manifest_readonly_parquet_and_projected_fixes(
    ws: Workspace, tmp_path: Path
) -> None:
    path = fixes_csv(
        tmp_path / "a.csv",
        [
            "R1,2024-02-05T07:41:00Z,51.48,-3.18,5",
            "R1,2024-02-05T07:41:00Z,51.48,-3.18,5",
            "R1,2024-02-05T07:42:00Z,95,-3.18,5",
        ],
    )
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


def test_reingest_is_a_noop_and_overlapping_files_are_added(ws: Workspace, tmp_path: Path) -> None:
    a = fixes_csv(tmp_path / "a.csv", ["R1,2024-02-05T07:41:00Z,51.48,-3.18,5"])
    b = fixes_csv(
        tmp_path / "b.csv",
        ["R1,2024-02-05T07:41:00Z,51.48,-3.18,5", "R1,2024-02-05T07:43:00Z,51.49,-3.18,5"],
    )
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
    got = ws.fixes(
        devices=["R2", "R3"],
        start=datetime(2024, 2, 5, 7, 3, tzinfo=UTC),
        end=datetime(2024, 2, 5, 7, 5, tzinfo=UTC),
    )
    assert got["device_id"].to_pylist() == ["R2", "R2", "R3", "R3"]
    assert [t.minute for t in got["time"].to_pylist()] == [3, 4, 3, 4]
    assert ws.fixes(devices=[]).num_rows == 0
    con = ws.connect()
    assert con.sql("SELECT count(*) FROM fixes").fetchall() == [(30,)]
    assert con.sql("SELECT count(*) FROM officers").fetchall() == [(0,)]


def test_duplicates_across_chunks_are_merged(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    places = ws.table("places")
    homes = places.filter(pc.equal(places["kind"], "home"))
    assert homes["owner_officer_id"].to_pylist() == ["P1002"]


def test_export_csv_and_parquet(ws: Workspace, tmp_path: Path) -> None:
    ws.ingest(
        "fixes",
        [
            fixes_csv(
                tmp_path / "a.csv",
                [
                    "R1,2024-02-05T07:41:00.25Z,51.48,-3.18,5",
                    "R0,2024-02-05T07:42:00Z,51.48,-3.18,",
                ],
            )
        ],
    )
    assert export_table(ws, "fixes", tmp_path / "out.csv") == 2
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0].startswith("device_id,time,lat,lon,x,y,accuracy_m")
    assert lines[1].startswith("R0,2024-02-05T07:42:00Z,51.48,-3.18,")
    assert lines[2].startswith("R1,2024-02-05T07:41:00.25Z,")
    export_table(ws, "fixes", tmp_path / "out.parquet")
    back = pq.read_table(tmp_path / "out.parquet")
    assert back["time"].type == schema.UTC_TS and back.num_rows == 2
    with pytest.raises(Exception, match="is not an output format"):
        export_table(ws, "fixes", tmp_path / "out.xlsx")


def test_missing_file_stops_with_its_name(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"absent\.csv"):
        ws.ingest("fixes", [tmp_path / "absent.csv"])


def _hold_lock(
    path: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event
) -> None:
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
        with (
            pytest.raises(WorkspaceError, match="another process"),
            exclusive(ws.path / ".lock", timeout_s=0.2),
        ):
            pass
    finally:
        done.set()
        holder.join(10)
    with exclusive(ws.path / ".lock", timeout_s=1):
        pass


def test_a_failed_ingest_leaves_nothing_behind(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular, "_BLOCK", 256)  # the bad bytes arrive in a later chunk
    rows = [f"R1,2024-02-05T07:{m:02d}:00Z,51.48,-3.18,5" for m in range(30)]
    path = tmp_path / "a.csv"
    path.write_bytes(
        ("\n".join([HEADER, *rows]) + "\nR\xe9,2024-02-05T08:00:00Z,51,-3,5\n").encode("latin-1")
    )
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
    return pa.table(
        {
            "device_id": [r[0] for r in rows],
            "start": pa.array([datetime.fromisoformat(r[1]) for r in rows], schema.UTC_TS),
            "end": pa.array([datetime.fromisoformat(r[2]) for r in rows], schema.UTC_TS),
        }
    )


def test_ingest_sorts_fixes_by_device_and_time_in_small_row_groups(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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


def test_fixes_within_reads_only_the_spans(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.store import workspace

    monkeypatch.setattr(workspace, "ROW_GROUP_ROWS", 10)
    rows = [
        f"R{d},2024-02-05T{h:02d}:{m:02d}:00Z,51.48,-3.18,5"
        for h in (7, 8, 9)
        for m in range(0, 60, 5)
        for d in (1, 2, 3)
    ]
    ws.ingest("fixes", [fixes_csv(tmp_path / "a.csv", rows)])
    spans = _spans(
        [
            ("R2", "2024-02-05T07:50:00+00:00", "2024-02-05T08:10:00+00:00"),
            ("R2", "2024-02-05T08:05:00+00:00", "2024-02-05T08:20:00+00:00"),  # overlaps
            ("R3", "2024-02-05T09:55:00+00:00", "2024-02-05T11:00:00+00:00"),
            ("R9", "2024-02-05T07:00:00+00:00", "2024-02-05T10:00:00+00:00"),  # no fixes
            ("R1", "2024-02-05T08:00:00+00:00", "2024-02-05T08:00:00+00:00"),
        ]
    )  # empty
    got = ws.fixes_within(spans, ["device_id", "time", "x"])
    assert got.schema.names == ["device_id", "time", "x"]
    assert [
        (d, t.strftime("%H:%M"))
        for d, t in zip(got["device_id"].to_pylist(), got["time"].to_pylist(), strict=True)
    ] == [
        ("R2", "07:50"),
        ("R2", "07:55"),
        ("R2", "08:00"),
        ("R2", "08:05"),
        ("R2", "08:10"),
        ("R2", "08:15"),
        ("R3", "09:55"),
    ]
    # the same as an SQL join of every fix with the spans
    con = ws.connect()
    con.register("sp", spans)
    ref = con.sql(
        "SELECT DISTINCT f.* FROM fixes f JOIN sp ON sp.device_id = f.device_id "
        'AND f.time >= sp.start AND f.time < sp."end" ORDER BY device_id, time'
    ).to_arrow_table()
    assert ws.fixes_within(spans).equals(ref.cast(schema.FIXES))
    assert ws.fixes_within(spans.slice(0, 0)).num_rows == 0
    with pytest.raises(WorkspaceError, match="no columns"):
        ws.fixes_within(spans, ["speed"])


def test_fixes_within_skips_row_groups_by_their_statistics(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.store import workspace

    monkeypatch.setattr(workspace, "ROW_GROUP_ROWS", 10)
    rows = [f"R{d},2024-02-05T07:{m:02d}:00Z,51.48,-3.18,5" for m in range(20) for d in range(5)]
    ws.ingest("fixes", [fixes_csv(tmp_path / "a.csv", rows)])
    read: list[list[int]] = []
    real = pq.ParquetFile.read_row_groups

    def spy(self: pq.ParquetFile, row_groups: list[int], **kw: object) -> pa.Table:
        read.append(list(row_groups))
        return real(self, row_groups, **kw)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)
    got = ws.fixes_within(
        _spans([("R3", "2024-02-05T07:02:00+00:00", "2024-02-05T07:05:00+00:00")])
    )
    assert got["src_line"].to_pylist() == [2 + 3 + 5 * m for m in (2, 3, 4)]
    # 100 rows in 10 groups sorted by device: R3's fixes are in groups 6-7, 07:02-07:05 in 6
    assert read == [[6], [6]]  # device and time, then the other columns


def test_duplicates_merged_across_small_row_groups(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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


# -- fixes_within on files written directly: encodings, statistics, several files ----------

T0 = datetime(2024, 2, 5, 7, 0, tzinfo=UTC)
DEVICES = ["R1", "R10", "R2", "Z", "é1", "Ä"]  # byte order differs from a natural order
STATISTICS: list[bool | list[str]] = [True, False, ["device_id"]]


def _fixes(devices: list[str], seconds: list[int], first_line: int) -> pa.Table:
    n = len(devices)
    cols: dict[str, pa.Array] = {
        "device_id": pa.array(devices, pa.string()),
        "time": pa.array([T0.timestamp() * 1e6 + s * 1e6 for s in seconds], pa.float64())
        .cast(pa.int64())
        .cast(schema.UTC_TS),
        "src_line": pa.array(range(first_line, first_line + n), pa.int64()),
    }
    for f in schema.FIXES:
        if f.name in ("lat", "lon", "x", "y"):
            cols[f.name] = pa.array([float(i) for i in range(first_line, first_line + n)])
        elif f.name == "src_file":
            cols[f.name] = pa.array([f"file{first_line}"] * n)
        elif f.name not in cols:
            cols[f.name] = pa.nulls(n, f.type)
    return pa.table(cols).select(schema.FIXES.names).cast(schema.FIXES)


def _write(
    ws: Workspace,
    name: str,
    rows: pa.Table,
    *,
    dictionary: bool = True,
    statistics: bool | list[str] = True,
    group_rows: int = 4,
    dictionary_limit: int | None = None,
) -> None:
    folder = ws.path / "tables" / "fixes"
    folder.mkdir(parents=True, exist_ok=True)
    extra: dict[str, int] = (
        {} if dictionary_limit is None else {"dictionary_pagesize_limit": dictionary_limit}
    )
    pq.write_table(
        rows,
        folder / name,
        row_group_size=group_rows,
        use_dictionary=["device_id", "src_file"] if dictionary else False,
        write_statistics=statistics,
        **extra,
    )
    # committed as ingest commits a file: listed in the manifest (views read nothing else)
    listing = ws.path / "manifest.json"
    manifest = json.loads(listing.read_text()) if listing.exists() else {"inputs": []}
    manifest["inputs"].append(
        {
            "file_id": Path(name).stem,
            "table": "fixes",
            "name": name,
            "kind": "fixes",
            "sha256": Path(name).stem,
            "counts": {"accepted": rows.num_rows, "quarantined": 0},
        }
    )
    listing.write_text(json.dumps(manifest))


def _expected(ws: Workspace, spans: pa.Table, columns: list[str] | None = None) -> pa.Table:
    """An oracle in plain Python: every file's rows in file order, kept when some span of
    their device holds their time, then stably sorted by device (UTF-8 order) and time."""
    rows = pa.concat_tables(
        [pq.read_table(p) for p in sorted((ws.path / "tables" / "fixes").glob("*.parquet"))]
    )
    spans_list = [(s["device_id"], s["start"], s["end"]) for s in spans.to_pylist()]
    keep = [
        i
        for i, r in enumerate(rows.select(["device_id", "time"]).to_pylist())
        if any(d == r["device_id"] and a <= r["time"] < b for d, a, b in spans_list)
    ]
    dev, tim = rows["device_id"].to_pylist(), rows["time"].to_pylist()
    keep.sort(key=lambda i: (dev[i].encode("utf-8"), tim[i]))  # stable: file order in ties
    names = columns if columns is not None else list(schema.FIXES.names)
    return (
        rows.take(pa.array(keep, pa.int64()))
        .select(names)
        .cast(pa.schema([schema.FIXES.field(c) for c in names]))
    )


def _span_table(rows: list[tuple[str, int, int]]) -> pa.Table:
    return pa.table(
        {
            "device_id": pa.array([r[0] for r in rows], pa.string()),
            "start": pa.array([T0 + timedelta(seconds=r[1]) for r in rows], schema.UTC_TS),
            "end": pa.array([T0 + timedelta(seconds=r[2]) for r in rows], schema.UTC_TS),
        }
    )


@pytest.mark.parametrize("dictionary", [True, False])
@pytest.mark.parametrize("statistics", [True, False, ["device_id"], ["time"]])
def test_fixes_within_plain_or_dictionary_device_ids_with_or_without_statistics(
    ws: Workspace, dictionary: bool, statistics: bool | list[str]
) -> None:
    # unsorted rows (so every row group's ranges are wide), two files
    devs = [DEVICES[(7 * i) % len(DEVICES)] for i in range(40)]
    secs = [(13 * i) % 29 for i in range(40)]
    _write(
        ws,
        "a.parquet",
        _fixes(devs[:25], secs[:25], 2),
        dictionary=dictionary,
        statistics=statistics,
    )
    _write(
        ws,
        "b.parquet",
        _fixes(devs[25:], secs[25:], 100),
        dictionary=not dictionary,
        statistics=statistics,
        group_rows=3,
    )
    spans = _span_table(
        [("R10", 0, 20), ("é1", 5, 29), ("Ä", 10, 12), ("R1", 0, 3), ("R1", 3, 9), ("NOPE", 0, 30)]
    )
    want = _expected(ws, spans)
    assert want.num_rows > 10  # the case is not trivial
    assert ws.fixes_within(spans).equals(want)
    cols = ["src_line", "time"]
    assert ws.fixes_within(spans, cols).equals(_expected(ws, spans, cols))


def test_fixes_within_ties_of_device_and_time_keep_the_files_order(ws: Workspace) -> None:
    # the same device and times in three files, each sorted: file order decides ties
    for k, name in enumerate(["c.parquet", "a.parquet", "b.parquet"]):
        _write(
            ws,
            name,
            _fixes(["R2", "R2", "R2", "R9", "R10", "R10"], [1, 1, 2, 1, 1, 1], 10 * k),
            dictionary=k != 1,
        )
    spans = _span_table([("R2", 0, 5), ("R10", 1, 2)])
    got = ws.fixes_within(spans, ["device_id", "time", "src_line"])
    # a.parquet (lines 10-15), b.parquet (20-25), c.parquet (0-5)
    assert got["src_line"].to_pylist() == [
        14,
        15,
        24,
        25,
        4,
        5,  # R10 at 1 s
        10,
        11,
        20,
        21,
        0,
        1,  # R2 at 1 s
        12,
        22,
        2,
    ]  # R2 at 2 s
    assert got.equals(_expected(ws, spans, ["device_id", "time", "src_line"]))


def test_fixes_within_spans_of_devices_without_fixes(ws: Workspace) -> None:
    _write(ws, "a.parquet", _fixes(["R1", "R2", "R3"], [0, 1, 2], 2))
    assert ws.fixes_within(_span_table([("R0", 0, 9), ("R22", 0, 9), ("S", 0, 9)])).equals(
        schema.FIXES.empty_table()
    )
    got = ws.fixes_within(_span_table([("R0", 0, 9), ("R2", 0, 9), ("R4", 0, 9)]), ["src_line"])
    assert got.to_pylist() == [{"src_line": 3}]


def test_fixes_within_a_dictionary_that_falls_back_to_plain(ws: Workspace) -> None:
    # a dictionary page limit this small makes the writer switch to plain pages midway
    devs = [f"D{i:03d}" for i in range(300)]
    _write(
        ws,
        "a.parquet",
        _fixes(devs, [i % 7 for i in range(300)], 2),
        group_rows=100,
        dictionary_limit=64,
    )
    spans = _span_table([(f"D{i:03d}", 0, 4) for i in range(0, 300, 3)])
    want = _expected(ws, spans)
    assert want.num_rows > 30 and ws.fixes_within(spans).equals(want)


def test_fixes_within_row_groups_holding_many_span_devices(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.store import workspace

    devs = [DEVICES[i % len(DEVICES)] for i in range(30)]
    _write(ws, "a.parquet", _fixes(devs, list(range(30)), 2), group_rows=10)
    spans = _span_table([(d, 3, 20) for d in DEVICES[:5]])
    want = _expected(ws, spans)
    for wide in (0, 1, 64):  # a row group over more span devices than this is just read
        monkeypatch.setattr(workspace, "_WIDE", wide)
        assert ws.fixes_within(spans).equals(want)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_fixes_within_equals_a_plain_python_oracle(data: st.DataObject) -> None:
    from whereabouts.store import workspace

    device = st.sampled_from(DEVICES)
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace(Path(folder), {})
        line = 2
        for k in range(data.draw(st.integers(1, 3), label="files")):
            n = data.draw(st.integers(0, 30), label="rows")
            devs = data.draw(st.lists(device, min_size=n, max_size=n), label="devices")
            secs = data.draw(st.lists(st.integers(0, 40), min_size=n, max_size=n), label="seconds")
            rows = _fixes(devs, secs, line)
            if data.draw(st.booleans(), label="sorted as ingest writes"):
                rows = rows.take(
                    pc.sort_indices(
                        rows, sort_keys=[("device_id", "ascending"), ("time", "ascending")]
                    )
                )
            _write(
                ws,
                f"{k}.parquet",
                rows,
                dictionary=data.draw(st.booleans()),
                statistics=data.draw(st.sampled_from(STATISTICS)),
                group_rows=data.draw(st.integers(1, 12)),
            )
            line += n
        spans = _span_table(
            data.draw(
                st.lists(
                    st.tuples(
                        st.one_of(device, st.just("NOPE")), st.integers(-5, 45), st.integers(-5, 45)
                    ),
                    max_size=8,
                ),
                label="spans",
            )
        )
        columns = data.draw(
            st.sampled_from([None, ["device_id", "time", "src_line"], ["src_line"]])
        )
        with (
            mock.patch.object(workspace, "_WIDE", data.draw(st.sampled_from([0, 2, 64]))),
            mock.patch.object(
                workspace,
                "_BATCH_ROWS",
                data.draw(st.sampled_from([1, 7, 1 << 22]), label="rows read at a time"),
            ),
        ):
            got = ws.fixes_within(spans, columns)
        assert got.equals(_expected(ws, spans, columns))


def test_fixes_within_many_reads_several_span_sets_as_one_each(ws: Workspace) -> None:
    # sorted files in small row groups (so each span set chooses its own row groups), one
    # unsorted file (every row group read); span sets that overlap, share devices, reach
    # no fix or are empty, with different columns; in one thread or several
    devs = sorted(DEVICES * 12, key=lambda d: d.encode("utf-8"))
    secs = [(5 * i) % 60 for i in range(len(devs))]
    order = sorted(range(len(devs)), key=lambda i: (devs[i].encode("utf-8"), secs[i]))
    _write(ws, "a.parquet", _fixes([devs[i] for i in order], [secs[i] for i in order], 1))
    _write(ws, "b.parquet", _fixes(devs[::-1], secs, 500), group_rows=5)
    _write(ws, "c.parquet", _fixes([devs[i] for i in order], [secs[i] for i in order], 900))
    wanted: list[tuple[pa.Table, list[str] | None]] = [
        (_span_table([("R10", 0, 20), ("é1", 5, 29), ("Ä", 10, 12)]), ["device_id", "x"]),
        (_span_table([("R10", 10, 40), ("Z", 0, 60)]), None),
        (_span_table([("NOPE", 0, 30)]), ["time"]),
        (_span_table([("R1", 30, 34), ("R2", 50, 59)]), ["src_line", "src_file", "time"]),
        (_span_table([]), ["x"]),
    ]
    want = [_expected(ws, spans, columns) for spans, columns in wanted]
    assert [w.num_rows > 0 for w in want] == [True, True, False, True, False]
    for threads in (1, 2, 3):
        got = fixes_within_many(ws.files("fixes"), wanted, threads=threads)
        assert [g.equals(w) for g, w in zip(got, want, strict=True)] == [True] * len(want)
    assert [g.equals(w) for g, w in zip(ws.fixes_within_many(wanted), want, strict=True)] == [
        True
    ] * len(want)


def test_span_keys_in_order_are_found_as_one_search_per_span() -> None:
    # keys in order (a sorted file's rows), many exactly at a span's start or end, blocks
    # ending on a span's start or inside one: the same as one search per key
    from whereabouts.store.workspace import _merge_spans, _SpanKeys

    rng = np.random.default_rng(8)
    starts = np.sort(rng.choice(np.arange(0, 100_000, 10), 400, replace=False))
    rows = [
        ("R1" if i % 3 else "R2", int(s), int(s) + int(rng.integers(1, 40)))
        for i, s in enumerate(starts)
    ]
    keys = _SpanKeys.of(_merge_spans(_span_table(rows)))
    edges = np.r_[keys.s0key, keys.s1key, keys.s0key - 1, keys.s1key - 1]
    k = np.sort(np.r_[edges, rng.integers(0, int(keys.s1key.max()) + 5, 3_000)])
    for a, b in ((0, len(k)), (5, 900), (0, int(np.searchsorted(k, keys.s0key[7])) + 1)):
        block = k[a:b]
        i = np.searchsorted(keys.s0key, block, side="right") - 1
        want = (block < np.take(keys.s1key, i)) & (i >= 0)
        assert np.array_equal(keys._inside(block), want)
        assert want.any() and not want.all()
