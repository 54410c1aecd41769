"""What every reader returns: accepted rows, merged duplicates and quarantined rows.

The identity `read == accepted + duplicates + quarantined` holds for every file; `check()`
enforces it, so nothing read is silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.errors import WhereaboutsError

QUARANTINE = pa.schema(
    [
        pa.field("line", pa.int64()),  # 1-based line (or record number) in the input file
        pa.field("column", pa.string()),  # the offending column, null for the whole row
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.string()),  # the row as read, for the investigator to see
    ]
)


def quarantine_table(
    lines: np.ndarray | list[int],
    columns: list[str | None] | pa.Array,
    reasons: list[str] | pa.Array,
    raw: list[str | None] | pa.Array,
) -> pa.Table:
    """Build a quarantine table from parallel columns."""
    return pa.table(
        {
            "line": pa.array(lines, pa.int64()),
            "column": pa.array(columns, pa.string()),
            "reason": pa.array(reasons, pa.string()),
            "raw": pa.array(raw, pa.string()),
        },
        schema=QUARANTINE,
    )


def empty_quarantine() -> pa.Table:
    """A quarantine table with no rows."""
    return QUARANTINE.empty_table()


@dataclass
class ReadResult:
    """One input file read into one canonical table.

    `accepted` has the canonical columns of `table` (see whereabouts.schema), with
    `src_line`; the store adds `src_file` and, for positions, `x`,`y` in the workspace CRS.
    """

    table: str
    file: str
    accepted: pa.Table = field(repr=False)  # rows hold positions: never in a repr
    quarantine: pa.Table = field(repr=False)
    read: int
    duplicates: int
    notes: tuple[str, ...] = ()

    def check(self) -> ReadResult:
        """The result itself, once its counts add up to the rows read (else an error)."""
        total = self.accepted.num_rows + self.duplicates + self.quarantine.num_rows
        if total != self.read:
            raise WhereaboutsError(
                f"{self.file}: counts do not add up: read {self.read}, accepted "
                f"{self.accepted.num_rows}, duplicates {self.duplicates}, quarantined "
                f"{self.quarantine.num_rows}",
                hint="this is a bug in whereabouts; please report it with the file's shape",
            )
        return self

    @property
    def counts(self) -> dict[str, int]:
        """The numbers of rows read, accepted, duplicated and quarantined."""
        return {
            "read": self.read,
            "accepted": self.accepted.num_rows,
            "duplicates": self.duplicates,
            "quarantined": self.quarantine.num_rows,
        }


def merge_exact_duplicates(table: pa.Table) -> tuple[pa.Table, int]:
    """Keep the first of rows identical in every column but `src_line`; return the count merged."""
    if table.num_rows == 0:
        return table, 0
    keys = [c for c in table.column_names if c != "src_line"]
    grouped = table.group_by(keys, use_threads=False).aggregate([("src_line", "min")])
    merged = table.num_rows - grouped.num_rows
    if merged == 0:
        return table, 0
    keep = pc.is_in(table["src_line"], value_set=grouped["src_line_min"])
    return table.filter(keep), merged


__all__ = [
    "QUARANTINE",
    "ReadResult",
    "empty_quarantine",
    "merge_exact_duplicates",
    "quarantine_table",
]
