"""Property: for any messy CSV, read = accepted + duplicates + quarantined, every record is
counted once, and each kept or quarantined row carries the physical line it started on."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whereabouts.io.read import read

HEADER = "device_id,time,lat,lon,accuracy_m"

device = st.sampled_from(["R1", "R2", "", " R3 ", '"R,4"'])
time = st.sampled_from(
    [
        "2024-02-05T07:41:00Z",
        "2024-02-05 07:41:00",
        "2024-03-31 01:30:00",
        "2024-10-27 01:30:00",
        "1980-01-01T00:00:00Z",
        "2099-01-01T00:00:00Z",
        "garbage",
        "",
        "2024-02-05T07:41:00+01:00",
    ]
)
coord = st.sampled_from(["51.48", "-3.18", "0", "91", "-181", "NaN", "x", "", "1e400"])
accuracy = st.sampled_from(["5", "", "-1", "abc"])
field_row = st.tuples(device, time, coord, coord, accuracy).map(",".join)
odd_row = st.sampled_from(
    [
        "",
        "R1,2024-02-05T07:41:00Z",
        "R1,2024-02-05T07:41:00Z,51,-3,5,9",
        'R1,"2024-02-05T07:41:00Z\n",51.4,-3.1,5',
    ]
)
rows = st.lists(st.one_of(field_row, field_row, field_row, odd_row), min_size=0, max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, duplicate=st.booleans(), crlf=st.booleans())
def test_counts_add_up_for_messy_csvs(rows: list[str], duplicate: bool, crlf: bool) -> None:
    if duplicate and rows:
        rows = [*rows, rows[0]]
    newline = "\r\n" if crlf else "\n"
    text = newline.join([HEADER, *rows]) + newline
    # physical start line of every record that is not blank
    starts, line = [], 2
    for row in rows:
        if row:
            starts.append(line)
        line += 1 + row.count("\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "messy.csv"
        path.write_bytes(text.encode())
        result = read("fixes", path, now=datetime(2025, 1, 1, tzinfo=UTC))
    c = result.counts
    assert c["read"] == len(starts)
    assert c["read"] == c["accepted"] + c["duplicates"] + c["quarantined"]
    kept = result.accepted["src_line"].to_pylist()
    quarantined = result.quarantine["line"].to_pylist()
    assert not set(kept) & set(quarantined)
    assert set(kept) | set(quarantined) <= set(starts)
    assert all(result.quarantine["reason"].to_pylist())
