"""Exact duplicate rows of one input, merged after streaming it to Parquet.

Fixes can be tens of millions of rows, so they are not grouped in memory: each row gets a
64-bit key from its time and position; only rows whose key occurs twice are candidates,
and DuckDB compares the candidates in every column. Other tables are small and are merged
in memory with `io.result.merge_exact_duplicates`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

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


class DuplicateFinder:
    """Collects row keys while an input streams; `finish` writes the merged final file."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.keys: list[np.ndarray] = []

    def add(self, rows: pa.Table) -> None:
        """Remember the keys of these rows (fixes only)."""
        if self.table == "fixes":
            self.keys.append(_row_keys(rows))

    def finish(self, partial: Path, merged_path: Path) -> tuple[Path, int]:
        """The file of `partial`'s rows without exact duplicates, and how many were merged.

        That is `partial` itself when there are none, else `merged_path` (written anew; the
        caller renames whichever into place, so no file is ever rewritten where it lies).
        """
        if self.table != "fixes":
            table = pq.read_table(partial)
            merged_table, merged = merge_exact_duplicates(table.drop_columns(["src_file"]))
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
        with pq.ParquetWriter(merged_path, source.schema_arrow, compression="zstd",
                              compression_level=1) as writer:
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
        parts, self.keys = self.keys, []
        ordered = np.concatenate(parts)
        ordered.sort()
        repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        del ordered
        if len(repeated) == 0:
            return np.zeros(0, dtype=np.int64)
        # Membership by binary search, one added batch at a time: the keys and one sorted
        # copy (16 bytes a row) are the most held at once; np.isin over all keys needed ~55.
        last = len(repeated) - 1
        hit = np.concatenate([repeated[np.minimum(np.searchsorted(repeated, k), last)] == k
                              for k in parts])
        del parts
        candidates = pa.table({"rn": np.flatnonzero(hit).astype(np.int64)})
        columns = [f'"{c}"' for c in pq.ParquetFile(partial).schema_arrow.names
                   if c != "src_line"]
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
