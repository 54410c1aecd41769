"""A plain confidence grade for each occasion, with its basis in words.

high: at least 30 fixes per device-hour, median position error ≤ 25 m and no gap between a
device's fixes longer than 2 minutes; medium: at least 6 fixes per device-hour and error
≤ 100 m; otherwise low — the occasion rests on interpolation across sparse fixes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def grade(
    fixes_per_hour: np.ndarray, error_m: np.ndarray, max_gap_s: np.ndarray
) -> tuple[list[str], list[str]]:
    """(grades, bases) for parallel arrays; unknown error counts as 50 m."""
    fph = np.nan_to_num(np.asarray(fixes_per_hour, float), nan=0.0)
    err = np.nan_to_num(np.asarray(error_m, float), nan=50.0)
    gap = np.nan_to_num(np.asarray(max_gap_s, float), nan=np.inf)
    high = (fph >= 30) & (err <= 25) & (gap <= 120)
    medium = ~high & (fph >= 6) & (err <= 100)
    grades = np.where(high, "high", np.where(medium, "medium", "low"))
    gap_text = np.where(
        np.isfinite(gap), np.round(np.where(np.isfinite(gap), gap, 0)).astype(int).astype(str), "?"
    )
    # an unknown error is graded as 50 m but said as unknown: one figure, one value (the
    # report's "typical position error not known" beside it)
    known = np.isfinite(np.asarray(error_m, float))
    err_text = np.where(
        known,
        np.char.add(
            np.char.add("median position error ", np.round(err).astype(int).astype(str)), " m"
        ),
        "position error not known (graded as 50 m)",
    )
    bases = np.char.add(
        np.char.add(
            np.char.add(
                np.char.add(
                    np.char.add(np.round(fph).astype(int).astype(str), " fixes per device-hour, "),
                    err_text,
                ),
                ", longest gap between fixes ",
            ),
            gap_text,
        ),
        " s",
    )
    bases = np.where(
        grades == "low", np.char.add(bases, "; rests on interpolation across sparse fixes"), bases
    )
    return grades.tolist(), bases.tolist()


def grade_table(table: pa.Table, rows: np.ndarray | None = None) -> pa.Table:
    """Append `confidence` and `confidence_basis` from fixes_per_hour, position_error_m,
    max_fix_gap_s; rows: only the rows of this boolean mask graded, the others null (None:
    every row)."""
    at = np.arange(table.num_rows) if rows is None else np.flatnonzero(rows)

    def col(name: str) -> np.ndarray:
        return np.asarray(table.column(name).to_numpy(zero_copy_only=False), float)[at]

    grades, bases = grade(col("fixes_per_hour"), col("position_error_m"), col("max_fix_gap_s"))
    g: list[str | None] = [*grades] if rows is None else _spread(grades, at, table.num_rows)
    b: list[str | None] = [*bases] if rows is None else _spread(bases, at, table.num_rows)
    return table.append_column("confidence", pa.array(g, pa.string())).append_column(
        "confidence_basis", pa.array(b, pa.string())
    )


def _spread(values: list[str], at: np.ndarray, n: int) -> list[str | None]:
    """`values` at rows `at` of n, None elsewhere."""
    out = np.full(n, None, object)
    out[at] = np.asarray(values, object)
    spread: list[str | None] = out.tolist()
    return spread


__all__ = ["grade", "grade_table"]
