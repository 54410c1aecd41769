"""The subjects' tracks (investigate._tracks) against the DuckDB join they were made by."""

from __future__ import annotations

import importlib

import numpy as np
import pyarrow as pa
import pytest

from whereabouts import schema
from whereabouts.analysis.inputs import US, Inputs, fetch
from whereabouts.analysis.params import AnalysisParams

investigate = importlib.import_module("whereabouts.analysis.investigate")
TS = pa.timestamp("us", tz="UTC")
H = 3600 * US


def _oracle(inputs: Inputs, subjects: list[str], on_duty_only: bool) -> pa.Table:
    """The join of fixes with the subjects' assignments (and duty widened by 30 minutes and
    merged), sorted by officer, device, time, src_file, src_line."""
    con = inputs.connect()
    con.register("subj", pa.table({"officer_id": subjects}))
    m = int(investigate.TRACK_MARGIN.total_seconds() * US)
    con.register(
        "on_duty",
        investigate.merged(
            fetch(
                con,
                f"""SELECT officer_id AS k, start - {m} AS s0, "end" + {m} AS s1 FROM duty
                    WHERE officer_id IN (SELECT officer_id FROM subj)""",  # noqa: S608
            )
        ).rename_columns(["officer_id", "s", "e"]),
    )
    duty = (
        "JOIN on_duty d ON d.officer_id = a.officer_id AND f.time >= d.s AND f.time < d.e"
        if on_duty_only
        else ""
    )
    table = fetch(
        con,
        f"""SELECT a.officer_id, f.* FROM fixes f
        JOIN assignments a ON a.device_id = f.device_id AND f.time >= a.start
             AND f.time < a."end" AND a.officer_id IN (SELECT officer_id FROM subj)
        {duty}
        ORDER BY a.officer_id, f.device_id, f.time, f.src_file, f.src_line""",  # noqa: S608
    )
    i = table.schema.get_field_index("time")
    return table.set_column(i, "time", table.column("time").cast(pa.int64()).cast(TS))


@pytest.mark.parametrize("on_duty_only", [True, False])
def test_tracks_are_the_join_of_fixes_with_the_subjects_assignments(on_duty_only: bool) -> None:
    # a radio each, a car both held at once, a second overlapping assignment of one radio
    # (its fixes twice), a car of someone else; fixes at one instant from two files
    rng = np.random.default_rng(3)
    n = 3_000
    devices = np.array(["R1", "R2", "C9", "Cz", "é"])
    dev = rng.integers(0, len(devices), n)
    t = rng.integers(0, 10 * H, n) // (5 * US) * (5 * US)
    files = rng.choice(np.array(["b.csv", "a.csv", "ä.csv"]), n)
    cols: dict[str, pa.Array] = {
        "device_id": pa.array(devices[dev]),
        "time": pa.array(t, TS),
        "src_file": pa.array(files),
        "src_line": pa.array(rng.integers(1, 50, n)),
        "source": pa.array(["avl" if r < 0.5 else None for r in rng.random(n)], pa.string()),
    }
    for f in schema.FIXES:
        if f.name not in cols:
            cols[f.name] = pa.array(rng.random(n)).cast(f.type)
    fixes = pa.table(cols).select(schema.FIXES.names)
    held = [
        ("P2", "R2", 0, 10 * H),
        ("P1", "R1", 1 * H, 9 * H),
        ("P1", "R1", 2 * H, 3 * H),  # overlapping the one before
        ("P1", "C9", 3 * H, 6 * H),
        ("P2", "C9", 4 * H, 7 * H),
        ("P3", "Cz", 0, 10 * H),
        ("P2", "é", 6 * H, 6 * H),  # empty
    ]
    duty = [("P1", 0, 4 * H), ("P1", 4 * H + 10 * 60 * US, 8 * H), ("P2", 5 * H, 9 * H)]
    inputs = Inputs(
        fixes=fixes,
        assignments=pa.table(
            {
                "officer_id": [r[0] for r in held],
                "device_id": [r[1] for r in held],
                "start": pa.array([r[2] for r in held], TS),
                "end": pa.array([r[3] for r in held], TS),
            }
        ),
        duty=pa.table(
            {
                "officer_id": [r[0] for r in duty],
                "start": pa.array([r[1] for r in duty], TS),
                "end": pa.array([r[2] for r in duty], TS),
            }
        ),
    )
    params = AnalysisParams(on_duty_only=on_duty_only)
    got = investigate._tracks(inputs, ["P1", "P2"], params)
    want = _oracle(inputs, ["P1", "P2"], on_duty_only)
    assert got.schema.equals(want.schema, check_metadata=True)
    assert got.equals(want)
    assert 1_000 < got.num_rows < n  # some fixes twice, many not at all
