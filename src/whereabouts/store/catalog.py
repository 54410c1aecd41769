"""DuckDB views named after the canonical tables, over the Parquet files the manifest lists.

Views read only committed files (those `manifest.json` lists), never a folder's listing, so
a file an ingest is still writing, or one a crash left behind, is never read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from whereabouts import schema

_SQL_TYPES = {
    pa.string(): "VARCHAR",
    schema.UTC_TS: "TIMESTAMPTZ",
    pa.float64(): "DOUBLE",
    pa.int64(): "BIGINT",
    pa.int8(): "TINYINT",
    pa.binary(): "BLOB",
}


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def view_sql(table: str, files: Sequence[Path]) -> str:
    """CREATE VIEW over the table's Parquet `files`, or over no rows with its columns."""
    if files:
        listing = ", ".join(_quote(f) for f in files)
        body = f"SELECT * FROM read_parquet([{listing}])"  # noqa: S608  # paths quoted by _quote
    else:
        cols = ", ".join(
            f'CAST(NULL AS {_SQL_TYPES[f.type]}) AS "{f.name}"' for f in schema.TABLES[table]
        )
        body = f"SELECT {cols} WHERE false"
    return f'CREATE OR REPLACE VIEW "{table}" AS {body}'


def attach_views(con: duckdb.DuckDBPyConnection, files: Mapping[str, Sequence[Path]]) -> None:
    """Create one view per canonical table on `con`, over its committed `files`."""
    for table in schema.TABLES:
        con.execute(view_sql(table, files.get(table, [])))


def connect(
    files: Mapping[str, Sequence[Path]], database: str = ":memory:"
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC with the views; in memory unless a database file is given."""
    con = duckdb.connect(database)
    con.execute("SET TimeZone = 'UTC'")
    attach_views(con, files)
    return con


__all__ = ["attach_views", "connect", "view_sql"]
