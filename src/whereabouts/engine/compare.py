"""Are two engine tables identical, bit for bit? For checking one backend against another.

`table_differences(a, b)` lists what differs (schema, row count, and per column the number
of differing rows and the first one's index — never the values, which may be personal);
an empty list means identical. Floating-point columns are compared by their bits, except
that NaN equals NaN (certain and possible periods have no minimum distance); schema
metadata is ignored (it records how each backend ran).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _float_bits(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(valid mask, float64 values with nulls as 0, their bits as int64)."""
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), bool)
    values = np.asarray(
        arr.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False), np.float64
    )
    return valid, values, values.view(np.int64)


def column_differs(x: pa.ChunkedArray, y: pa.ChunkedArray) -> np.ndarray:
    """Per row, whether two columns of one type and length differ (bits; NaN equals NaN)."""
    if pa.types.is_floating(x.type):
        vx, fx, bx = _float_bits(x)
        vy, fy, by = _float_bits(y)
        both_nan = np.isnan(fx) & np.isnan(fy)
        return np.asarray((vx != vy) | (vx & (bx != by) & ~both_nan), bool)
    if x.equals(y):
        return np.zeros(len(x), bool)
    try:
        ne = pc.not_equal(x, y)
    except pa.ArrowNotImplementedError:  # nested types: they differ somewhere, say all
        return np.ones(len(x), bool)
    nulls_differ = np.asarray(x.is_null().to_numpy(zero_copy_only=False), bool) != np.asarray(
        y.is_null().to_numpy(zero_copy_only=False), bool
    )
    result: np.ndarray = (
        np.asarray(ne.fill_null(False).to_numpy(zero_copy_only=False), bool) | nulls_differ
    )
    return result


def table_differences(a: pa.Table, b: pa.Table) -> list[str]:
    """What differs between two tables (empty: identical). Example:
    ``assert not table_differences(engine_table, spark_table)``"""
    if not a.schema.remove_metadata().equals(b.schema.remove_metadata()):
        return [f"schemas differ: {a.schema.remove_metadata()} vs {b.schema.remove_metadata()}"]
    if a.num_rows != b.num_rows:
        return [f"{a.num_rows} rows vs {b.num_rows}"]
    out = []
    for name in a.column_names:
        differs = column_differs(a[name], b[name])
        if differs.any():
            out.append(
                f"{name}: {int(differs.sum())} rows differ, the first at row "
                f"{int(np.argmax(differs))}"
            )
    return out


def same_table(a: pa.Table, b: pa.Table) -> bool:
    """Whether two tables are identical, bit for bit (see `table_differences`)."""
    return not table_differences(a, b)


__all__ = ["column_differs", "same_table", "table_differences"]
