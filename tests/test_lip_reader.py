"""read_lip: LIP logs to fixes, the edge-case zoo, and the count identity."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whereabouts.errors import InputError, SchemaError
from whereabouts.io.lip import encode_long, encode_short, read_lip

HEADER = "issi,received_at,pdu_hex\n"


def write(tmp_path: Path, body: str, name: str = "lip.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(body.encode())
    return p


def short(lat: float = 51.48, lon: float = -3.18, **kw: object) -> str:
    return str(encode_short(lat, lon, **kw)[0])  # type: ignore[arg-type]


def test_example_log(examples: Path) -> None:
    r = read_lip(examples / "lip.csv")
    assert r.counts == {"read": 2, "accepted": 2, "duplicates": 0, "quarantined": 0}
    a = r.accepted.to_pylist()
    assert [x["device_id"] for x in a] == ["6200101", "6200102"]
    assert a[0]["time"] == datetime(2024, 2, 5, 7, 45, tzinfo=UTC)
    assert all(abs(x["lat"] - 51.48) < 0.01 and abs(x["lon"] + 3.18) < 0.01 for x in a)
    assert a[1]["accuracy_m"] == 200.0 and a[1]["time_uncertainty_s"] == 300.0
    assert a[1]["speed_mps"] == pytest.approx(16 * 1.038**17 / 3.6)
    assert {x["source"] for x in a} == {"tetra"} and [x["src_line"] for x in a] == [2, 3]


def test_empty_and_header_only_files_are_whole_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty"):
        read_lip(write(tmp_path, ""))
    with pytest.raises(InputError, match="no rows"):
        read_lip(write(tmp_path, HEADER))


def test_missing_column_names_found_and_expected(tmp_path: Path) -> None:
    with pytest.raises(SchemaError) as exc:
        read_lip(write(tmp_path, "issi,time,pdu\n1,2024-02-05T07:45:00Z,00\n"))
    assert "pdu_hex" in str(exc.value) and "'time'" in str(exc.value)


def test_unknown_column_is_a_whole_file_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="unknown column"):
        read_lip(
            write(
                tmp_path,
                f"issi,received_at,pdu_hex,talkgroup\n1,2024-02-05T07:45:00Z,{short()},9\n",
            )
        )


def test_one_row(tmp_path: Path) -> None:
    r = read_lip(write(tmp_path, HEADER + f"7,2024-02-05T07:45:00Z,{short()}\n"))
    assert r.counts["accepted"] == 1 and r.accepted["device_id"][0].as_py() == "7"


def test_edge_zoo_counts_add_up_with_lines_and_reasons(tmp_path: Path) -> None:
    good = short()
    rows = [
        f"1,2024-02-05T07:45:00Z,{good}",  # 2 accepted
        f"1,2024-02-05T07:45:00Z,{good}",  # 3 exact duplicate, merged
        "",  # 4 blank line: not a row
        f"2,2024-02-05T07:44:00Z,{short(51.5)}",  # 5 out of order: kept
        "3,2024-02-05T07:46:00Z,0A0FDBZZ7249BAA900081",  # 6 bad hex
        "4,2024-02-05T07:46:00Z,0A0FDBD27249BAA90",  # 7 odd length (17 digits)
        f"5,not a time,{good}",  # 8 bad time
        f",2024-02-05T07:46:00Z,{good}",  # 9 no issi
        f"6,2024-02-05T07:46:00Z,{short(0.0, 0.0)}",  # 10 (0, 0)
        f"7,2024-02-05T07:46:00Z,{short(position_error_code=6)}",  # 11 > 200 km
        "8,2024-02-05T07:46:00Z",  # 12 too few fields
        f"9,2024-10-27T01:30:00,{good}",  # 13 ambiguous local time (clock change)
        f"10,2024-02-05T07:46:00Z,{good}",  # 14 accepted
    ]
    r = read_lip(write(tmp_path, HEADER + "\r\n".join(rows) + "\r\n"))
    assert r.read == 12
    assert r.counts == {"read": 12, "accepted": 3, "duplicates": 1, "quarantined": 8}
    assert r.accepted["src_line"].to_pylist() == [2, 5, 14]
    assert r.accepted["device_id"].to_pylist() == ["1", "2", "10"]
    q = {row["line"]: (row["column"], row["reason"]) for row in r.quarantine.to_pylist()}
    assert sorted(q) == [6, 7, 8, 9, 10, 11, 12, 13]
    assert q[6] == ("pdu_hex", "not hexadecimal: a character outside 0-9, A-F")
    assert "expected 19" in q[7][1]
    assert q[8][0] == "received_at" and q[9] == ("issi", "missing issi")
    assert "(0, 0)" in q[10][1] and "200 km" in q[11][1] and "3 fields" in q[12][1]
    assert "ambiguous" in q[13][1]


def test_long_report_time_of_position_month_from_received_at(tmp_path: Path) -> None:
    tp = np.array(
        ["2024-01-31T23:59:30", "2024-02-29T23:50:00", "2024-02-05T07:47:00"], dtype="datetime64[s]"
    )
    pdus = encode_long([51.0] * 3, [-3.0] * 3, time_of_position=tp, uncertainty_m=30.0)
    received = ["2024-03-01T00:10:00Z", "2024-03-01T00:10:00Z", "2024-02-05T07:45:00Z"]
    body = "".join(f"9,{t},{p}\n" for t, p in zip(received, pdus, strict=True))
    r = read_lip(write(tmp_path, HEADER + body))
    got = r.accepted["time"].to_pylist()
    # day 31 received on 1 March → 31 January (February has none); day 29 → 29 February;
    # a radio clock 2 minutes ahead stays on the same day, not a month earlier.
    assert got == [
        datetime(2024, 1, 31, 23, 59, 30, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 50, tzinfo=UTC),
        datetime(2024, 2, 5, 7, 47, tzinfo=UTC),
    ]
    assert r.accepted["accuracy_m"][0].as_py() == pytest.approx(
        2 * 1.2**16 - 4
    )  # K = 11: smallest >= 30 m
    assert r.accepted["time_uncertainty_s"].to_pylist() == [1.0, 1.0, 1.0]


def test_long_report_without_position_is_quarantined(tmp_path: Path) -> None:
    pdu = "0A4C" + "0" * 6  # long report, no time, shape 0, no velocity
    r = read_lip(write(tmp_path, HEADER + f"9,2024-02-05T07:45:00Z,{pdu}\n"))
    assert r.counts["quarantined"] == 1
    assert "shape 0" in r.quarantine["reason"][0].as_py()


ROW_KINDS = st.sampled_from(
    ["good", "good", "dup", "badhex", "short", "notime", "noissi", "fields", "blank", "zero"]
)


@settings(max_examples=40, deadline=None)
@given(st.lists(ROW_KINDS, min_size=1, max_size=25), st.integers(0, 2**16))
def test_counts_always_add_up(kinds: list[str], seed: int) -> None:
    rng = np.random.default_rng(seed)
    good = encode_short(rng.uniform(50, 55, len(kinds)), rng.uniform(-5, 1, len(kinds)))
    lines, prev = [], None
    for k, pdu in zip(kinds, good, strict=True):
        row = {
            "good": f"1,2024-02-05T07:45:{rng.integers(0, 60):02d}Z,{pdu}",
            "dup": prev or f"1,2024-02-05T07:45:00Z,{pdu}",
            "badhex": "2,2024-02-05T07:45:00Z,0AZZ",
            "short": "3,2024-02-05T07:45:00Z,0A0",
            "notime": f"4,never,{pdu}",
            "noissi": f",2024-02-05T07:45:00Z,{pdu}",
            "fields": "5,2024-02-05T07:45:00Z",
            "blank": "",
            "zero": f"6,2024-02-05T07:45:00Z,{encode_short(0.0, 0.0)[0]}",
        }[k]
        lines.append(row)
        prev = row if row else prev
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "lip.csv"
        p.write_text(HEADER + "\n".join(lines) + "\n")
        if not any(ln for ln in lines):
            with pytest.raises(InputError):
                read_lip(p)
            return
        r = read_lip(p)
    assert r.read == sum(1 for ln in lines if ln)
    assert r.read == r.accepted.num_rows + r.duplicates + r.quarantine.num_rows
    physical = [i + 2 for i, ln in enumerate(lines) if ln]
    seen = sorted(r.accepted["src_line"].to_pylist() + r.quarantine["line"].to_pylist())
    assert set(seen) <= set(physical) and len(seen) == r.read - r.duplicates


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.integers(0, 2),
            st.sampled_from([1.0, 2.0, None]),
            st.sampled_from([0.5, None]),
        ),
        min_size=0,
        max_size=30,
    )
)
def test_merge_duplicates_agrees_with_the_shared_rule(rows: list[tuple[object, ...]]) -> None:
    from whereabouts.io.lip.reader import merge_duplicates
    from whereabouts.io.result import merge_exact_duplicates

    t = pa.table(
        {
            "device_id": pa.array([r[0] for r in rows], pa.string()),
            "time": pa.array([r[1] for r in rows], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "lat": pa.array([r[2] for r in rows], pa.float64()),
            "speed_mps": pa.array([r[3] for r in rows], pa.float64()),
            "src_line": pa.array(range(2, len(rows) + 2), pa.int64()),
        }
    )
    mine, n_mine = merge_duplicates(t)
    ref, n_ref = merge_exact_duplicates(t)
    assert n_mine == n_ref
    assert mine["src_line"].to_pylist() == ref["src_line"].to_pylist()
