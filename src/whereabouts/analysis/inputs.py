"""The tables an analysis reads, gathered once and handed to DuckDB with times as integers.

Inside the analysis every time is an `int64` count of microseconds since 1970 UTC (the
columns keep their names); this keeps interval arithmetic exact and free of time-zone
rules. `to_utc` turns them back into `timestamp[us, tz=UTC]` for outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts import schema
from whereabouts.errors import ParameterError

US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TABLE_NAMES = (
    "fixes",
    "devices",
    "officers",
    "assignments",
    "duty",
    "incidents",
    "attachments",
    "places",
    "areas",
    "roads",
)


def empty(name: str) -> pa.Table:
    """An empty table with the canonical schema of `name`."""
    return schema.TABLES[name].empty_table()


def to_us(value: datetime) -> int:
    """A timezone-aware datetime → microseconds since 1970 UTC."""
    if value.tzinfo is None:
        raise ParameterError(
            "a time without a zone was given to the analysis",
            hint="give times with an offset or Z, e.g. 2024-03-01T00:00Z",
        )
    return (value - _EPOCH) // timedelta(microseconds=1)


def to_utc(values: pa.Array | pa.ChunkedArray | np.ndarray) -> pa.Array:
    """Microseconds since 1970 → `timestamp[us, tz=UTC]`."""
    arr = pa.array(values, pa.int64()) if isinstance(values, np.ndarray) else values
    return pc.cast(pc.cast(arr, pa.int64()), schema.UTC_TS)


def times_as_us(table: pa.Table) -> pa.Table:
    """The table with every timestamp column as int64 µs since the epoch (UTC)."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            table = table.set_column(
                i, f.name, pc.cast(pc.cast(table.column(i), schema.UTC_TS), pa.int64())
            )
    return table


@dataclass
class Inputs:
    """The canonical tables for one analysis (any may be empty; fixes may be a subset)."""

    fixes: pa.Table = field(default_factory=lambda: empty("fixes"))
    devices: pa.Table = field(default_factory=lambda: empty("devices"))
    officers: pa.Table = field(default_factory=lambda: empty("officers"))
    assignments: pa.Table = field(default_factory=lambda: empty("assignments"))
    duty: pa.Table = field(default_factory=lambda: empty("duty"))
    incidents: pa.Table = field(default_factory=lambda: empty("incidents"))
    attachments: pa.Table = field(default_factory=lambda: empty("attachments"))
    places: pa.Table = field(default_factory=lambda: empty("places"))
    areas: pa.Table = field(default_factory=lambda: empty("areas"))
    roads: pa.Table = field(default_factory=lambda: empty("roads"))
    crs: str = "EPSG:27700"
    timezone: str = "UTC"  # the force's (the workspace's): its local days (extent.LogDays)

    def with_fixes(self, fixes: pa.Table) -> Inputs:
        """The same inputs with other fixes (a cut or a subset)."""
        return replace(self, fixes=fixes)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with one view per table, times as int64 microseconds, and
        the time zone in `analysis_zone` (extent.zone_of)."""
        con = duckdb.connect()
        con.execute("SET threads TO 2")
        con.execute("CREATE TEMP TABLE analysis_zone AS SELECT ? AS timezone", [self.timezone])
        for name in TABLE_NAMES:
            table: pa.Table = getattr(self, name)
            _check_columns(name, table)
            if "src_file" not in table.column_names and name != "fixes":  # hand-built tables
                table = table.append_column(
                    "src_file", pa.array([name] * table.num_rows, pa.string())
                )
                table = table.append_column(
                    "src_line", pa.array(np.arange(1, table.num_rows + 1), pa.int64())
                )
            con.register(f"{name}_arrow", times_as_us(table))
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {name}_arrow")  # noqa: S608  # names from schema.TABLES
        return con


def _check_columns(name: str, table: pa.Table) -> None:
    wanted = (
        ["device_id", "time", "x", "y"]
        if name == "fixes"
        else [
            f.name
            for f in schema.TABLES[name]
            if not f.nullable and f.name not in ("src_file", "src_line")
        ]
    )
    missing = [c for c in wanted if c not in table.column_names]
    if missing:
        raise ParameterError(
            f"the {name} table lacks columns {missing}",
            hint=f"give canonical {name} columns (see schema.TABLES[{name!r}])",
        )


def fetch(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Mapping[str, object] | Sequence[object] | None = None,
) -> pa.Table:
    """Run `sql` and return an Arrow table."""
    rel = con.sql(sql, params=params) if params is not None else con.sql(sql)
    table = rel.to_arrow_table()
    assert table is not None
    return table


__all__ = ["TABLE_NAMES", "US", "Inputs", "empty", "fetch", "times_as_us", "to_us", "to_utc"]
