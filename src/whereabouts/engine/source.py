"""Where the engine's fixes come from, delivered in time order, one chunk at a time.

A source is a fixes `pa.Table`, canonical fixes files (Parquet — files or folders, hive
partitions such as ``day=2024-02-05/`` welcome — or CSV), or a workspace. Parquet and
workspaces are read one UTC day at a time through DuckDB, so memory does not grow with the
period; tables and CSV files are one chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.errors import InputError, WorkspaceError

if TYPE_CHECKING:
    from whereabouts.store.workspace import Workspace

DAY_US = 86_400_000_000
_COLUMNS = (
    "device_id",
    "time",
    "x",
    "y",
    "easting",
    "northing",
    "lat",
    "lon",
    "latitude",
    "longitude",
    "accuracy_m",
)


@dataclass(frozen=True)
class Chunk:
    """Fixes with times in [start, end) (µs); every fix before `end` has been delivered."""

    table: pa.Table
    end: int | None  # None: the last chunk


@dataclass(frozen=True)
class Source:
    """Chunks of fixes in time order, and the CRS their x/y are in (None: to be decided)."""

    chunks: Iterator[Chunk]
    crs: str | None
    label: str


# What the engine reads fixes from: a table, a workspace (or its folder), canonical fixes
# files (Parquet or CSV) or folders of Parquet files.
FixesSource = Union[pa.Table, "Workspace", str, Path, Sequence[str | Path]]


def open_source(
    source: FixesSource, *, devices: Sequence[str] | None = None, crs: str | None = None
) -> Source:
    """Resolve a table, paths or workspace into a `Source`."""
    if isinstance(source, pa.Table):
        table = timed(_only(source, devices), "fixes")
        return Source(iter([Chunk(table, None)]), crs, "table")
    if not isinstance(source, str | Path | Sequence):  # a whereabouts.store.Workspace
        return _workspace(source, devices, crs)
    paths = [Path(p) for p in ([source] if isinstance(source, str | Path) else source)]
    if len(paths) == 1 and (paths[0] / "workspace.json").is_file():
        return _workspace_dir(paths[0], devices, crs)
    parquet: list[str] = []
    tables: list[pa.Table] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.rglob("*.parquet"))
            if not found:
                raise InputError(
                    "no Parquet files in this folder",
                    where=str(path),
                    hint="give fixes files, a folder of Parquet files or a workspace",
                )
            parquet.extend(str(f) for f in found)
        elif not path.is_file():
            raise InputError(
                "no such file",
                where=str(path),
                hint="check the path; give fixes files or a workspace folder",
            )
        elif path.suffix.lower() == ".parquet":
            parquet.append(str(path))
        elif path.suffix.lower() in (".csv", ".txt", ".gz"):
            tables.append(timed(_only(_read_csv(path), devices), str(path)))
        else:
            raise InputError(
                f"unknown file type {path.suffix!r}",
                where=str(path),
                hint="give canonical fixes as .parquet or .csv",
            )
    if parquet and tables:
        raise InputError(
            "mixed CSV and Parquet inputs",
            where=str(paths[0]),
            hint="convert the CSV files to Parquet, or give only CSV files",
        )
    if tables:
        return Source(
            iter([Chunk(pa.concat_tables(tables, promote_options="permissive"), None)]), crs, "csv"
        )
    return Source(_duckdb_days(parquet, devices), crs, "parquet")


def _read_csv(path: Path) -> pa.Table:
    from pyarrow import csv

    opts = csv.ConvertOptions(
        column_types={"device_id": pa.string(), "time": pa.string(), "vehicle_id": pa.string()}
    )
    try:
        return csv.read_csv(path, convert_options=opts)
    except pa.ArrowInvalid as exc:
        raise InputError(
            f"cannot read as CSV: {str(exc).splitlines()[0]}",
            where=str(path),
            hint="give canonical fixes CSV with a header row",
        ) from exc


def timed(table: pa.Table, where: str) -> pa.Table:
    """`table` with a text `time` column parsed to UTC timestamps (io.times), or an
    InputError naming how many times cannot be read."""
    if "time" not in table.column_names or pa.types.is_timestamp(table["time"].type):
        return table
    from whereabouts.io.times import parse_times

    parsed = parse_times(table["time"])
    if not parsed.ok.all():
        raise InputError(
            f"{int((~parsed.ok).sum())} times cannot be read",
            where=where,
            hint="give times as ISO 8601 with Z or an offset, or ingest the "
            "file into a workspace to quarantine bad rows",
        )
    return table.set_column(table.schema.get_field_index("time"), "time", parsed.times)


def _only(table: pa.Table, devices: Sequence[str] | None) -> pa.Table:
    if devices is None or "device_id" not in table.column_names:
        return table
    ids = pc.cast(table["device_id"], pa.string())
    return table.filter(pc.is_in(ids, value_set=pa.array(list(devices), pa.string())))


def _duckdb_days(files: list[str], devices: Sequence[str] | None) -> Iterator[Chunk]:
    """Parquet fixes one UTC day at a time (hive `day=` partitions are pruned by DuckDB)."""
    import duckdb

    con = duckdb.connect()
    con.sql("SET threads TO 2")
    con.sql("SET enable_progress_bar = false")  # no bar on stdout when a day reads slowly
    con.read_parquet(files, hive_partitioning=True, union_by_name=True).create_view("f")
    names = [r[0] for r in con.sql("DESCRIBE f").fetchall()]
    cols = ", ".join(f'"{c}"' for c in names if c in _COLUMNS)
    where = ""
    if devices is not None:
        # literal values, so DuckDB can skip row groups by their device_id statistics
        quoted = ", ".join("'" + str(d).replace("'", "''") + "'" for d in devices)
        where = f" AND device_id IN ({quoted})"
        # a few named devices are small whatever the period: read them in one go
        yield Chunk(con.sql(f"SELECT {cols} FROM f WHERE true{where}").to_arrow_table(), None)  # noqa: S608  # column names from _COLUMNS; device ids quoted
        return
    lo, hi = con.sql("SELECT epoch_us(min(time)), epoch_us(max(time)) FROM f").fetchall()[0]
    if lo is None or hi is None:
        return
    first, last = lo // DAY_US, hi // DAY_US
    # files written one day each (or sorted by time) are pruned by their row-group statistics
    for day in range(first, last + 1):
        params = {"lo": day * DAY_US, "hi": (day + 1) * DAY_US}
        table = con.sql(
            f"SELECT {cols} FROM f WHERE time >= make_timestamptz($lo) AND "  # noqa: S608  # column names from _COLUMNS; device ids quoted
            f"time < make_timestamptz($hi)",
            params=params,
        ).to_arrow_table()
        yield Chunk(table, None if day == last else (day + 1) * DAY_US)


def _workspace(ws: Workspace, devices: Sequence[str] | None, crs: str | None) -> Source:
    def chunks() -> Iterator[Chunk]:
        con = ws.connect()
        try:
            span = con.sql("SELECT epoch_us(min(time)), epoch_us(max(time)) FROM fixes").fetchall()[
                0
            ]
        finally:
            con.close()
        if not span or span[0] is None:
            return
        import datetime as dt

        first, last = span[0] // DAY_US, span[1] // DAY_US
        for day in range(first, last + 1):
            start = dt.datetime.fromtimestamp(day * 86400, dt.UTC)
            table = ws.fixes(
                devices=list(devices) if devices else None,
                start=start,
                end=start + dt.timedelta(days=1),
            )
            yield Chunk(table, None if day == last else (day + 1) * DAY_US)

    return Source(chunks(), crs or str(ws.crs), "workspace")


def _workspace_dir(path: Path, devices: Sequence[str] | None, crs: str | None) -> Source:
    import importlib

    # the store layer may not be there yet: then read its fixes tables directly
    workspace = getattr(importlib.import_module("whereabouts.store"), "Workspace", None)
    if workspace is not None:
        return _workspace(workspace.open(path), devices, crs)
    import json

    meta = json.loads((path / "workspace.json").read_text())
    files = sorted(str(f) for f in (path / "tables" / "fixes").glob("*.parquet"))
    if not files:
        raise WorkspaceError(
            "the workspace has no fixes",
            hint="ingest fixes first: whereabouts ingest WS --kind fixes FILE",
        )
    return Source(_duckdb_days(files, devices), crs or meta.get("crs"), "workspace")


__all__ = ["Chunk", "FixesSource", "Source", "open_source", "timed"]
