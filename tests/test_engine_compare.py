"""`engine.table_differences`: the bit-for-bit check the backends are held to can fail."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from whereabouts.engine import same_table, table_differences


def table(**changes: object) -> pa.Table:
    cols: dict[str, object] = {
        "device_a": pa.array(["A", "A", "B"]),
        "start": pa.array([1, 2, 3], pa.int64()),
        "min_distance_m": pa.array([1.5, float("nan"), 0.25]),
        "certain_s": pa.array([60.0, 0.0, 12.000001]),
    }
    cols.update(changes)
    return pa.table(cols)


def test_identical_tables_and_nan_equals_nan() -> None:
    a = table()
    b = table().replace_schema_metadata({b"whereabouts": b"{}"})  # metadata ignored
    assert table_differences(a, b) == [] and same_table(a, b)


def test_one_ulp_is_a_difference() -> None:
    nudged = np.nextafter(12.000001, 13.0)
    diff = table_differences(table(), table(certain_s=pa.array([60.0, 0.0, nudged])))
    assert diff == ["certain_s: 1 rows differ, the first at row 2"]


def test_signed_zero_nan_against_number_and_nulls_differ() -> None:
    assert not same_table(table(), table(certain_s=pa.array([60.0, -0.0, 12.000001])))
    assert not same_table(table(), table(min_distance_m=pa.array([1.5, 2.0, 0.25])))
    assert not same_table(table(), table(min_distance_m=pa.array([1.5, None, 0.25])))
    assert not same_table(table(), table(start=pa.array([1, None, 3], pa.int64())))


def test_strings_rows_and_schemas() -> None:
    assert table_differences(table(), table(device_a=pa.array(["A", "C", "B"]))) == [
        "device_a: 1 rows differ, the first at row 1"
    ]
    assert table_differences(table(), table().slice(1))[0] == "3 rows vs 2"
    assert table_differences(table(), table(start=pa.array([1, 2, 3], pa.int32())))[0].startswith(
        "schemas differ"
    )
