"""Exact duplicate rows of one input, merged after streaming it to Parquet.

Fixes can be tens of millions of rows, so they are not grouped in memory: each row gets a
64-bit key from its time and position; only rows whose key occurs twice are candidates,
and DuckDB compares the candidates in every column. Other tables are small and are merged
in memory with `io.result.merge_exact_duplicates`; in those keyed by an id (officers,
devices, incidents, places, areas) two rows left with one id are conflicting master rows,
and the file is refused naming the id, both lines and the columns that differ.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from whereabouts.errors import InputError, Location
from whereabouts.io.result import merge_exact_duplicates
from whereabouts.store import atomic

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
_M3 = np.uint64(0x165667B19E3779F9)


def _row_keys(rows: pa.Table) -> np.ndarray:
    t = np.asarray(rows["time"].cast(pa.int64()).to_numpy(), dtype=np.int64).view(np.uint64)
    lat = np.ascontiguousarray(rows["lat"].to_numpy(), dtype=np.float64).view(np.uint64)
    lon = np.ascontiguousarray(rows["lon"].to_numpy(), dtype=np.float64).view(np.uint64)
    with np.errstate(over="ignore"):
        result: np.ndarray = (t * _M1) ^ (lat * _M2) ^ (lon * _M3)
        return result


def _keys_in(rows: pa.Table, order: np.ndarray | None) -> np.ndarray:
    """The rows' keys, in `order` (None: as they are)."""
    keys = _row_keys(rows)
    return keys if order is None else keys[order]


def _keys_sorted(rows: pa.Table, order: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    keys = _keys_in(rows, order)
    return keys, np.sort(keys)


# the id that names one thing in each master table: one row per id
MASTER_IDS = {
    "officers": "officer_id",
    "devices": "device_id",
    "incidents": "incident_id",
    "places": "place_id",
    "areas": "area_id",
}


def conflicting_ids(table: pa.Table, name: str, file: str) -> None:
    """Refuse `table` (exact duplicates already merged) if two rows share the id of its
    master table: the message names the id, both lines and the columns that differ (not
    their values: they may be personal)."""
    key = MASTER_IDS.get(name)
    if key is None or key not in table.column_names or table.num_rows < 2:
        return
    counts = table.group_by(key, use_threads=False).aggregate([(key, "count")])
    twice = counts.filter(pc.greater(counts[f"{key}_count"], 1))
    if twice.num_rows == 0:
        return
    rows = table.filter(pc.is_in(table[key], value_set=twice[key])).sort_by("src_line")
    first_id = rows[key][0].as_py()
    pair = rows.filter(pc.equal(rows[key], first_id)).slice(0, 2).to_pylist()
    differ = [
        c
        for c in table.column_names
        if c not in ("src_line", "src_file", "x", "y", "geometry_wkb") and pair[0][c] != pair[1][c]
    ]
    more = f" ({twice.num_rows} ids so)" if twice.num_rows > 1 else ""
    raise InputError(
        f"{key} {first_id!r} is on line {pair[0]['src_line']} and again on line "
        f"{pair[1]['src_line']} with another {', '.join(differ) or 'value'}{more}: one row "
        f"per {key.removesuffix('_id')}",
        where=Location(file, int(pair[1]["src_line"]), key),
        hint="keep the row that is right and delete the other (or give them different ids), "
        "then ingest the file again",
    )


class DuplicateFinder:
    """Collects row keys while an input streams; `finish` writes the merged final file."""

    def __init__(self, table: str, file: str = "") -> None:
        self.table = table
        self.file = file
        # per added batch: its keys in written order, and the same sorted (None: not yet)
        self.keys: list[Future[tuple[np.ndarray, np.ndarray | None]]] = []

    def add(
        self, rows: pa.Table, order: np.ndarray | None = None, sorter: Executor | None = None
    ) -> None:
        """Remember the keys of these rows (fixes only), written in `order` (None: as they
        are). With `sorter` (for a file's last batch, written while this runs), the keys and
        a sorted copy are made there meanwhile (numpy releases the GIL): a file of one batch
        then has its keys sorted when `finish` is called. Earlier batches' keys are kept
        unsorted, so at most the keys and one sorted copy are ever held."""
        if self.table != "fixes":
            return
        if sorter is not None:
            self.keys.append(sorter.submit(_keys_sorted, rows, order))
            return
        done: Future[tuple[np.ndarray, np.ndarray | None]] = Future()
        done.set_result((_keys_in(rows, order), None))
        self.keys.append(done)

    def finish(self, partial: Path, merged_path: Path) -> tuple[Path, int]:
        """The file of `partial`'s rows without exact duplicates, and how many were merged.

        That is `partial` itself when there are none, else `merged_path` (written anew; the
        caller renames whichever into place, so no file is ever rewritten where it lies).
        """
        if self.table != "fixes":
            table = pq.read_table(partial)
            merged_table, merged = merge_exact_duplicates(table.drop_columns(["src_file"]))
            conflicting_ids(merged_table, self.table, self.file)
            if merged:
                keep = merged_table["src_line"]
                table = table.filter(pc.is_in(table["src_line"], value_set=keep))
                pq.write_table(table, merged_path, compression="zstd")
                atomic.step()
                return merged_path, merged
            return partial, 0
        drop = self._duplicate_rows(partial)
        if len(drop) == 0:
            return partial, 0
        source = pq.ParquetFile(partial)
        start = 0
        with pq.ParquetWriter(
            merged_path, source.schema_arrow, compression="zstd", compression_level=1
        ) as writer:
            # Row group by row group, so the groups (and their statistics) stay as written;
            # `drop` is sorted, so each group's rows to drop are one slice of it.
            for i in range(source.num_row_groups):
                group = source.read_row_group(i)
                n = group.num_rows
                lo, hi = np.searchsorted(drop, [start, start + n])
                if hi > lo:
                    keep = np.ones(n, dtype=bool)
                    keep[drop[lo:hi] - start] = False
                    group = group.filter(pa.array(keep))
                start += n
                writer.write_table(group, row_group_size=max(group.num_rows, 1))
                atomic.step()
        return merged_path, len(drop)

    def _duplicate_rows(self, partial: Path) -> np.ndarray:
        """0-based row numbers in `partial` that repeat an earlier row exactly."""
        if not self.keys:
            return np.zeros(0, dtype=np.int64)
        added, self.keys = [f.result() for f in self.keys], []
        parts = [keys for keys, _ in added]
        ordered = added[0][1] if len(added) == 1 else None
        del added
        if ordered is None:
            ordered = np.concatenate(parts)
            ordered.sort()
        repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        del ordered
        if len(repeated) == 0:
            return np.zeros(0, dtype=np.int64)
        # Membership by binary search, one added batch at a time: the keys and one sorted
        # copy (16 bytes a row) are the most held at once; np.isin over all keys needed ~55.
        last = len(repeated) - 1
        hit = np.concatenate(
            [repeated[np.minimum(np.searchsorted(repeated, k), last)] == k for k in parts]
        )
        del parts
        candidates = pa.table({"rn": np.flatnonzero(hit).astype(np.int64)})
        columns = [f'"{c}"' for c in pq.ParquetFile(partial).schema_arrow.names if c != "src_line"]
        con = duckdb.connect()
        try:
            con.register("candidates", candidates)
            path = str(partial).replace("'", "''")
            sql = f"""
                SELECT rn FROM (
                    SELECT file_row_number AS rn,
                           row_number() OVER (PARTITION BY {", ".join(columns)}
                                              ORDER BY src_line) AS k
                    FROM read_parquet('{path}', file_row_number = true)
                    WHERE file_row_number IN (SELECT rn FROM candidates))
                WHERE k > 1 ORDER BY rn"""  # noqa: S608  # names from schema.TABLES; path quoted
            found = con.sql(sql).to_arrow_table()
        finally:
            con.close()
        return np.asarray(found["rn"].to_numpy(), dtype=np.int64)


__all__ = ["DuplicateFinder"]
