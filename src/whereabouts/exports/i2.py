"""An i2 Analyst's Notebook import file: officers and places as entities, occasions as
dated links (columns in docs/exports.md).

Each occasion gives three rows: a "together" link between its two officers, and an "at"
link from each officer to the place. A place is the occasion's point snapped to a
`PLACE_CELL_M` grid in the workspace CRS, so repeated meetings at one spot link to one
entity in the chart; its label is the occasion's "where" text (or grid reference). Dates
and times are UTC, in separate columns (as the import specification maps them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from whereabouts.exports.content import CaseData, facts
from whereabouts.exports.formats import write_csv_rows

PLACE_CELL_M = 50.0
I2_COLUMNS = (
    "link_id",
    "link_type",
    "start_date_utc",
    "start_time_utc",
    "end_date_utc",
    "end_time_utc",
    "duration_min",
    "entity1_type",
    "entity1_id",
    "entity1_label",
    "entity2_type",
    "entity2_id",
    "entity2_label",
    "finding",
    "reasons",
    "flags",
    "where",
    "grid_ref",
    "lat",
    "lon",
    "occasion",
)


def place_id(row: dict[str, Any]) -> str:
    """The place entity of an occasion: its point's `PLACE_CELL_M` cell (workspace CRS)."""
    x = round(float(row["x"]) / PLACE_CELL_M) * PLACE_CELL_M
    y = round(float(row["y"]) / PLACE_CELL_M) * PLACE_CELL_M
    return f"place-{x:.0f}-{y:.0f}"


def i2_rows(data: CaseData) -> list[list[str]]:
    """The import file's rows, three per occasion, in occasion order."""
    out: list[list[str]] = []
    for row in data.occasions.to_pylist():
        f = facts(row)
        d0, t0 = f["start"][:10], f["start"][11:19]
        d1, t1 = f["end"][:10], f["end"][11:19]
        pid = place_id(row)
        label = f["where"] or f["grid_ref"] or pid
        common = [
            f["finding"],
            f["reasons"],
            f["flags"],
            f["where"],
            f["grid_ref"],
            f"{float(row['lat']):.6f}",
            f"{float(row['lon']):.6f}",
            f["occasion"],
        ]
        a, b = str(row["officer_a"]), str(row["officer_b"])
        links = [
            ("together", "Officer", a, a, "Officer", b, b),
            ("at", "Officer", a, a, "Place", pid, label),
            ("at", "Officer", b, b, "Place", pid, label),
        ]
        for n, (kind, t1_, id1, l1, t2_, id2, l2) in enumerate(links, 1):
            out.append(
                [
                    f"{f['occasion']}-{n}",
                    kind,
                    d0,
                    t0,
                    d1,
                    t1,
                    f["duration_min"],
                    t1_,
                    id1,
                    l1,
                    t2_,
                    id2,
                    l2,
                    *common,
                ]
            )
    return out


def write_i2(data: CaseData, path: Path) -> int:
    """The i2 import CSV (`I2_COLUMNS`); returns the number of occasions."""
    write_csv_rows(path, list(I2_COLUMNS), i2_rows(data))
    return int(data.occasions.num_rows)


__all__ = ["I2_COLUMNS", "PLACE_CELL_M", "i2_rows", "place_id", "write_i2"]
