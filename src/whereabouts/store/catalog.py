"""DuckDB views named after the canonical tables, over the workspace's Parquet files."""

from __future__ import annotations

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


def view_sql(table: str, folder: Path) -> str:
    """CREATE VIEW over the table's Parquet files, or over no rows with its columns."""
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if files:
        listing = ", ".join(_quote(f) for f in files)
        body = f"SELECT * FROM read_parquet([{listing}])"
    else:
        cols = ", ".join(f'CAST(NULL AS {_SQL_TYPES[f.type]}) AS "{f.name}"'
                         for f in schema.TABLES[table])
        body = f"SELECT {cols} WHERE false"
    return f'CREATE OR REPLACE VIEW "{table}" AS {body}'


def attach_views(con: duckdb.DuckDBPyConnection, tables_dir: Path) -> None:
    """Create one view per canonical table on `con`."""
    for table in schema.TABLES:
        con.execute(view_sql(table, tables_dir / table))


def connect(tables_dir: Path, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC with the views; in memory unless a database file is given."""
    con = duckdb.connect(database)
    con.execute("SET TimeZone = 'UTC'")
    attach_views(con, tables_dir)
    return con


__all__ = ["attach_views", "connect", "view_sql"]
