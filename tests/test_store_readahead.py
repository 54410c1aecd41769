"""Reading ahead while a file is hashed: bounded, in order, errors raised where they were."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pyarrow as pa
import pytest

from whereabouts.errors import SchemaError
from whereabouts.io import tabular
from whereabouts.io.read import open_input
from whereabouts.io.tabular import Reread
from whereabouts.store import Workspace, readahead
from whereabouts.store.readahead import ReadAhead

HEADER = "device_id,time,lat,lon"


def _csv(path: Path, rows: int, extra: str = "") -> Path:
    lines = [
        f"D{i % 7},2024-02-05T07:{i // 60 % 60:02d}:{i % 60:02d}Z,51.4,-3.1" for i in range(rows)
    ]
    path.write_text("\n".join([HEADER, *lines]) + "\n" + extra)
    return path


def _lines(chunks: list[tabular.Chunk]) -> list[int]:
    lines: list[int] = pa.concat_tables([c.accepted for c in chunks])["src_line"].to_pylist()
    return lines


def test_reads_ahead_until_the_hash_is_done_or_enough_rows_are_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular, "_BLOCK", 4096)  # chunks of about a hundred rows
    monkeypatch.setattr(readahead, "READ_AHEAD_ROWS", 300)
    path = _csv(tmp_path / "f.csv", 2000)
    whole = list(open_input("fixes", path).chunks())
    assert len(whole) > 10
    running: Future[None] = Future()  # the hash, still under way
    ahead = ReadAhead(lambda: open_input("fixes", path), until=running)
    assert 300 <= ahead.rows < 300 + max(c.read for c in whole)
    assert _lines(list(ahead.chunks())) == _lines(whole) == list(range(2, 2002))
    done: Future[None] = Future()
    done.set_result(None)
    assert ReadAhead(lambda: open_input("fixes", path), until=done).rows == 0


def test_what_reading_raises_is_raised_where_it_would_have_been(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular, "_BLOCK", 4096)
    running: Future[None] = Future()
    bad = tmp_path / "bad.csv"
    bad.write_text("colour\nred\n")
    ahead = ReadAhead(lambda: open_input("fixes", bad), until=running)  # does not raise
    with pytest.raises(SchemaError, match="colour"):
        ahead.source()
    # a row of the wrong width near the end: the typed read stops there, after the rows before
    short = _csv(tmp_path / "short.csv", 2000, extra="D1,2024-02-05T09:00:00Z\n")
    ahead = ReadAhead(lambda: open_input("fixes", short), until=running)
    got = []
    with pytest.raises(Reread):
        for chunk in ahead.chunks():
            got.append(chunk)
    assert len(got) > 0


def test_a_file_ingested_before_is_skipped_unread(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    path = _csv(tmp_path / "f.csv", 50)
    assert ws.ingest("fixes", [path])[0].counts["accepted"] == 50
    # a profile for another kind: opening the file now would fail, but the hash says
    # it is the same file, so it is skipped as before reading ahead existed
    again = ws.ingest("fixes", [path], profile="os-addresses")[0]
    assert again.skipped and len(ws.manifest) == 1
    assert sorted(p.name for p in (ws.path / "tables" / "fixes").iterdir()) == [
        f"{ws.manifest[0]['file_id']}.parquet"
    ]
