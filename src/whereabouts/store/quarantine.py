"""The quarantined rows of a workspace's inputs: where each was, why, and its original text.

Read them back as one table, filtered by file and reason::

    rows = quarantined_rows(ws, file="gpsd.log", reason="no fix")
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from whereabouts.errors import ParameterError
from whereabouts.store import recovery
from whereabouts.store.workspace import Workspace

COLUMNS = ("file", "kind", "line", "column", "reason", "raw")
SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("kind", pa.string()),
        ("line", pa.int64()),
        ("column", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)


def quarantined_rows(
    ws: Workspace, *, file: str | None = None, reason: str | None = None
) -> pa.Table:
    """Every quarantined row (file, kind, line, column, reason, raw), in file and line order.

    `file` keeps one input (its name as ingested, or its file id); `reason` keeps rows whose
    reason contains that text (any case).
    """
    entries = [e for e in ws.manifest if file is None or file in (e["name"], e["file_id"])]
    if file is not None and not entries:
        names = ", ".join(sorted({e["name"] for e in ws.manifest})) or "none yet"
        raise ParameterError(
            f"no input called {file!r} in {ws.path}", hint=f"give a file name as ingested: {names}"
        )
    parts = []
    for e in entries:
        path = ws.path / "quarantine" / recovery.quarantine_name(e["file_id"], e["kind"])
        if not e["counts"].get("quarantined") or not path.exists():
            continue
        t = pq.read_table(path, columns=["line", "column", "reason", "raw"])
        n = t.num_rows
        parts.append(
            pa.table(
                {
                    "file": pa.array([e["name"]] * n, pa.string()),
                    "kind": pa.array([e["kind"]] * n, pa.string()),
                    "line": t["line"].cast(pa.int64()),
                    "column": t["column"].cast(pa.string()),
                    "reason": t["reason"].cast(pa.string()),
                    "raw": t["raw"].cast(pa.string()),
                },
                schema=SCHEMA,
            )
        )
    rows = pa.concat_tables(parts) if parts else SCHEMA.empty_table()
    if reason:
        rows = rows.filter(pc.match_substring(pc.utf8_lower(rows["reason"]), reason.lower()))
    return rows


def reasons(rows: pa.Table) -> pa.Table:
    """Rows per (file, reason), most first."""
    if rows.num_rows == 0:
        return pa.table(
            {
                "file": pa.array([], pa.string()),
                "reason": pa.array([], pa.string()),
                "rows": pa.array([], pa.int64()),
            }
        )
    g = rows.group_by(["file", "reason"]).aggregate([([], "count_all")])
    g = g.select(["file", "reason", "count_all"]).rename_columns(["file", "reason", "rows"])
    return g.sort_by([("rows", "descending"), ("file", "ascending"), ("reason", "ascending")])


__all__ = ["COLUMNS", "quarantined_rows", "reasons"]
