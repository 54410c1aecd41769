"""Export a canonical table of a workspace as Parquet or CSV (times as UTC ISO 8601)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from whereabouts import schema
from whereabouts.errors import WorkspaceError
from whereabouts.outfiles import output_format, sql_safe
from whereabouts.store import atomic

if TYPE_CHECKING:
    from whereabouts.store.workspace import Workspace

ORDER = {
    "fixes": "device_id, time, src_file, src_line",
    "encounters": "device_a, device_b, start",
}


def export_table(
    ws: Workspace, table: str, out: Path | str, *, audit_head: str | None = None
) -> int:
    """Write `table` to `out` (.parquet or .csv); return the number of rows written.

    audit_head: the audit head the export was made at (`Anchor.statement`), kept in a
    Parquet file's metadata (`whereabouts.audit_head`); the caller states it beside a CSV.

    Example: ``export_table(ws, "fixes", "fixes.csv")`` — device_id, time (UTC ISO), lat, …
    """
    out = Path(out)
    if table not in schema.TABLES:
        raise WorkspaceError(
            f"unknown table {table!r}", hint=f"use one of {', '.join(schema.TABLES)}"
        )
    fmt = "." + output_format(out)
    columns = []
    for f in schema.TABLES[table]:
        name = f'"{f.name}"'
        if fmt == ".csv" and f.type == schema.UTC_TS:
            text = f"strftime({name}, '%Y-%m-%dT%H:%M:%S.%f')"
            # drop trailing zeros of the fraction, and the fraction if it is all zeros
            text = f"regexp_replace({text}, '(\\.[0-9]*[1-9])0+$', '\\1')"
            columns.append(f"regexp_replace({text}, '\\.0+$', '') || 'Z' AS {name}")
        elif fmt == ".csv" and f.type.equals(pa.binary()):
            columns.append(f"hex({name}) AS {name}")
        elif fmt == ".csv" and (f.type.equals(pa.string()) or f.type.equals(pa.large_string())):
            columns.append(f"{sql_safe(name)} AS {name}")  # no formula reaches a spreadsheet
        else:
            columns.append(name)
    order = ORDER.get(table, "src_file, src_line")
    query = f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY {order}'  # noqa: S608  # names from schema.TABLES
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == ".parquet" else "FORMAT csv, HEADER"
    if audit_head is not None and fmt == ".parquet":
        head = audit_head.replace("'", "''")
        options += f", KV_METADATA {{'whereabouts.audit_head': '{head}'}}"
    out.parent.mkdir(parents=True, exist_ok=True)
    con = ws.connect()

    def copy(tmp: Path) -> None:
        target = str(tmp).replace("'", "''")
        con.execute(f"COPY ({query}) TO '{target}' ({options})")

    try:  # written whole under a temporary name, then renamed: never half a file at `out`
        atomic.write_with(out, copy)
        count = con.sql(f'SELECT count(*) FROM "{table}"').fetchall()  # noqa: S608  # names from schema.TABLES
    finally:
        con.close()
    return int(count[0][0])


__all__ = ["export_table"]
