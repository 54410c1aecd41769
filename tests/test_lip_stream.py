"""stream_lip: a LIP log read in pieces gives exactly the one-piece result, and ingest of a
log spanning many chunks merges duplicates across them and keeps every line number."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whereabouts.errors import InputError, SchemaError
from whereabouts.io.lip import encode_long, encode_short, read_lip
from whereabouts.io.lip import reader as lip_reader
from whereabouts.io.lip.reader import stream_lip
from whereabouts.io.result import ReadResult

HEADER = "issi,received_at,pdu_hex\n"
WHOLE = 1 << 30  # larger than any test file: one piece, the reference


def same(a: ReadResult, b: ReadResult) -> None:
    assert a.counts == b.counts
    assert a.accepted.equals(b.accepted)
    assert a.quarantine.equals(b.quarantine)


def zoo() -> tuple[str, dict[int, str]]:
    """A log whose rows cover every outcome; returns the text and the outcome by line."""
    good = [str(p) for p in encode_short(np.linspace(51.4, 51.6, 6), np.full(6, -3.2))]
    tp = np.array(["2024-01-31T23:59:30", "2024-02-29T23:50:00"], dtype="datetime64[s]")
    long = [
        str(p)
        for p in encode_long([51.0, 51.1], [-3.0, -3.1], time_of_position=tp, uncertainty_m=30.0)
    ]
    rows = [
        (f"1,2024-02-05T07:45:00Z,{good[0]}", "accepted"),  # 2
        (f"1,2024-02-05T07:45:00Z,{good[0]}", "duplicate"),  # 3 next to its original
        ("", "blank"),  # 4
        (f"2,2024-02-05T07:44:00Z,{good[1]}", "accepted"),  # 5
        ("3,2024-02-05T07:46:00Z,0A0FDBZZ7249BAA900081", "bad hex"),  # 6
        ("8,2024-02-05T07:46:00Z", "fields"),  # 7 too few fields
        (f"9,2024-03-01T00:10:00Z,{long[0]}", "accepted"),  # 8 31 January
        ("", "blank"),  # 9
        ("", "blank"),  # 10
        (f"5,not a time,{good[2]}", "bad time"),  # 11
        (f"9,2024-03-01T00:10:00Z,{long[1]}", "accepted"),  # 12 29 February
        (f",2024-02-05T07:46:00Z,{good[3]}", "no issi"),  # 13
        ("4,2024-02-05T07:46:00Z,x,y", "fields"),  # 14 too many fields
        (f"2,2024-02-05T07:44:00Z,{good[1]}", "duplicate"),  # 15 far from its original
        (f"6,2024-02-05T07:46:00Z,{encode_short(0.0, 0.0)[0]}", "zero"),  # 16
        (f"1,2024-02-05T07:45:00Z,{good[0]}", "duplicate"),  # 17 a third copy
        (f"7,2024-02-05T07:47:00Z,{good[4]}", "accepted"),  # 18
        (f"9,2024-03-01T00:10:00Z,{long[0]}", "duplicate"),  # 19
        ("7,2024-02-05T07:48:00Z", "fields"),  # 20 last line, no line end
    ]
    text = HEADER + "\r\n".join(r for r, _ in rows)
    return text, {i + 2: what for i, (_, what) in enumerate(rows)}


def test_zoo_in_every_piece_size_equals_one_piece(tmp_path: Path) -> None:
    text, outcome = zoo()
    path = tmp_path / "lip.csv"
    path.write_bytes(text.encode())
    whole = read_lip(path, block_bytes=WHOLE)
    # the reference itself, checked against the rows' known outcomes
    accepted = sorted(k for k, v in outcome.items() if v == "accepted")
    quarantined = sorted(
        k for k, v in outcome.items() if v not in ("accepted", "duplicate", "blank")
    )
    assert whole.accepted["src_line"].to_pylist() == accepted
    assert whole.quarantine["line"].to_pylist() == quarantined
    assert whole.counts == {"read": 16, "accepted": 5, "duplicates": 4, "quarantined": 7}
    reasons = dict(
        zip(
            whole.quarantine["line"].to_pylist(),
            whole.quarantine["reason"].to_pylist(),
            strict=True,
        )
    )
    assert "3 fields" in reasons[7] and "3 fields" in reasons[14] and "3 fields" in reasons[20]
    for size in (1, 10, 37, 60, 61, 62, 100, 150, 333, len(text) - 1):
        chunks = list(stream_lip(path, block_bytes=size))
        assert len(chunks) > 1 or size > 300
        same(read_lip(path, block_bytes=size), whole)


def test_a_bad_row_at_a_piece_edge_keeps_its_line(tmp_path: Path) -> None:
    good = str(encode_short(51.5, -3.2)[0])
    ok = f"1,2024-02-05T07:45:00Z,{good}\n"
    bad = "2,2024-02-05T07:45:00Z\n"
    text = HEADER + ok * 3 + bad + ok.replace("1,", "3,")
    path = tmp_path / "lip.csv"
    path.write_bytes(text.encode())
    # pieces end at the first line end at or after each block: the bad row ends a piece,
    # then starts one
    for size in (len(HEADER + ok * 3 + bad) - 1, len(HEADER + ok * 3) + 1):
        chunks = list(stream_lip(path, block_bytes=size))
        assert len(chunks) == 2
        r = read_lip(path, block_bytes=size)
        assert r.quarantine["line"].to_pylist() == [5]
        assert r.counts == {"read": 5, "accepted": 2, "duplicates": 2, "quarantined": 1}
        assert r.accepted["src_line"].to_pylist() == [2, 6]


def test_whole_file_problems_come_before_any_chunk(tmp_path: Path) -> None:
    cases = {
        "empty": ("\n\n  \n", InputError, "empty"),
        "header only": (HEADER + "\n" * 50, InputError, "no rows"),
        "columns": ("issi,time,pdu\n" + "1,2024-02-05T07:45:00Z,00\n" * 20, SchemaError, "pdu_hex"),
        "fixes": (
            "device_id,time,lat,lon\nA,2024-02-05T07:45:00Z,51,-3\n",
            SchemaError,
            "--kind fixes",
        ),
    }
    for name, (body, error, words) in cases.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(body.encode())
        stream = stream_lip(path, block_bytes=4)
        with pytest.raises(error, match=words):
            next(stream)


def test_blank_lines_before_the_first_row_and_a_bom(tmp_path: Path) -> None:
    good = str(encode_short(51.5, -3.2)[0])
    text = (
        "\ufeff"
        + HEADER
        + "\n" * 30
        + f"1,2024-02-05T07:45:00Z,{good}\n"
        + f"2,2024-02-05T07:45:00Z,{good}\n"
    )
    path = tmp_path / "lip.csv"
    path.write_bytes(text.encode())
    for size in (1, 8, 40, WHOLE):
        r = read_lip(path, block_bytes=size)
        assert r.accepted["src_line"].to_pylist() == [32, 33]
        assert r.accepted["device_id"].to_pylist() == ["1", "2"]


def test_quoted_values_are_not_cut(tmp_path: Path) -> None:
    good = str(encode_short(51.5, -3.2)[0])
    text = (
        HEADER
        + f'"1","2024-02-05T07:45:00Z","{good}"\n'
        + f'"2","2024-02-05T\n07:45:00Z","{good}"\n'
        + f"3,2024-02-05T07:46:00Z,{good}\n"
    )
    path = tmp_path / "lip.csv"
    path.write_bytes(text.encode())
    whole = read_lip(path, block_bytes=WHOLE)
    assert whole.accepted["device_id"].to_pylist() == ["1", "3"]
    assert whole.accepted["src_line"].to_pylist() == [2, 5]  # physical lines
    assert whole.quarantine["line"].to_pylist() == [3]
    assert whole.quarantine["column"].to_pylist() == ["received_at"]
    for size in range(1, len(text), 7):
        same(read_lip(path, block_bytes=size), whole)


def test_not_utf8_is_an_error_naming_the_file(tmp_path: Path) -> None:
    good = str(encode_short(51.5, -3.2)[0])
    path = tmp_path / "lip.csv"
    path.write_bytes(
        (HEADER + f"1,2024-02-05T07:45:00Z,{good}\n").encode()
        + "caf\u00e9,2024-02-05T07:45:00Z,00\n".encode("latin-1")
    )
    for size in (8, WHOLE):
        # named by the first block's text check (with its line), or by the CSV parser when
        # the bad byte lies beyond the first block
        with pytest.raises(
            InputError,
            match=r"lip\.csv(:3)?: (not a readable CSV|the file is "
            r"not UTF-8 text)",
        ):
            read_lip(path, block_bytes=size)


ROW_KINDS = st.sampled_from(
    ["good", "good", "good", "dup", "dup", "badhex", "notime", "fields", "blank", "long"]
)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(ROW_KINDS, min_size=1, max_size=40),
    st.integers(0, 2**16),
    st.integers(1, 400),
    st.booleans(),
)
def test_any_piece_size_equals_one_piece(
    kinds: list[str], seed: int, size: int, crlf: bool
) -> None:
    rng = np.random.default_rng(seed)
    n = len(kinds)
    good = encode_short(rng.uniform(50, 55, n), rng.uniform(-5, 1, n))
    tp = np.datetime64("2024-02-28T22:00:00") + rng.integers(0, 4 * 86400, n).astype(
        "timedelta64[s]"
    )
    long = encode_long(rng.uniform(50, 55, n), rng.uniform(-5, 1, n), time_of_position=tp)
    lines: list[str] = []
    for k, pdu, lpdu in zip(kinds, good, long, strict=True):
        earlier = [ln for ln in lines if ln]
        lines.append(
            {
                "good": f"{rng.integers(1, 4)},2024-02-05T07:45:{rng.integers(0, 60):02d}Z,{pdu}",
                "dup": earlier[rng.integers(len(earlier))] if earlier else "",
                "badhex": "2,2024-02-05T07:45:00Z,0AZZ",
                "notime": f"4,never,{pdu}",
                "fields": "5,2024-02-05T07:45:00Z",
                "blank": "",
                "long": f"6,2024-03-01T00:{rng.integers(0, 60):02d}:00Z,{lpdu}",
            }[k]
        )
    if not any(lines):
        return
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "lip.csv"
        path.write_bytes((HEADER + ("\r\n" if crlf else "\n").join(lines)).encode())
        whole = read_lip(path, block_bytes=WHOLE)
        pieces = read_lip(path, block_bytes=size)
    same(pieces, whole)
    assert whole.read == sum(1 for ln in lines if ln)


def test_ingest_in_many_chunks_equals_one_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.store import workspace
    from whereabouts.store.workspace import Workspace

    text, outcome = zoo()
    path = tmp_path / "lip.csv"
    path.write_bytes(text.encode())
    tables = {}
    # "many": small chunks, and the store sorting and keying them in runs of 2 rows, so
    # duplicates are found across chunks and across the store's runs
    for name, size, run in (("one", WHOLE, 1 << 21), ("many", 50, 2)):
        monkeypatch.setattr(lip_reader, "BLOCK_BYTES", size)
        monkeypatch.setattr(workspace, "SORT_ROWS", run)
        ws = Workspace.init(tmp_path / name)
        (report,) = ws.ingest("lip", [path])
        assert report.counts == {"read": 16, "accepted": 5, "duplicates": 4, "quarantined": 7}
        fixes = ws.table("fixes").sort_by("src_line")
        assert fixes["src_line"].to_pylist() == sorted(
            k for k, v in outcome.items() if v == "accepted"
        )
        tables[name] = fixes
    assert tables["one"].equals(tables["many"])
    assert len(list(stream_lip(path, block_bytes=50))) > 5


def test_read_lip_kind_streams_and_merges_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.io.read import open_input, read

    text, _ = zoo()
    path = tmp_path / "lip.csv"
    path.write_bytes(text.encode())
    whole = read_lip(path, block_bytes=WHOLE)
    monkeypatch.setattr(lip_reader, "BLOCK_BYTES", 40)
    chunks = list(open_input("lip", path).chunks())
    assert len(chunks) > 5
    # within chunks only some duplicates are seen; across them, all of them
    assert sum(c.duplicates for c in chunks) < whole.duplicates
    assert sum(c.read for c in chunks) == whole.read
    got = read("lip", path)
    assert got.counts == whole.counts
    assert got.accepted.sort_by("src_line").equals(whole.accepted.sort_by("src_line"))
    assert got.quarantine.equals(whole.quarantine)
