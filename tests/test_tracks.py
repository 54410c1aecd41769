"""Tracks: sorting, exact duplicates, conflicting fixes and splitting at gaps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pytest

from whereabouts.errors import InputError
from whereabouts.schema import UTC_TS
from whereabouts.tracks.projection import grid_reference, grid_references
from whereabouts.tracks.track import clean, fixes_from_table, segments

T0 = 1_707_120_000_000_000


def table(rows: Sequence[tuple[str, int, float, float]]) -> pa.Table:
    return pa.table(
        {
            "device_id": [r[0] for r in rows],
            "time": pa.array([T0 + r[1] * 1_000_000 for r in rows], pa.int64()).cast(UTC_TS),
            "easting": [r[2] for r in rows],
            "northing": [r[3] for r in rows],
        }
    )


def test_device_codes_follow_id_order() -> None:
    f, crs = fixes_from_table(table([("b", 0, 1, 1), ("a", 0, 2, 2), ("c", 0, 3, 3)]))
    assert crs == "EPSG:27700"
    assert list(f.ids) == ["a", "b", "c"]
    assert list(f.ids[f.device]) == ["b", "a", "c"]


def test_clean_sorts_and_counts_duplicates() -> None:
    rows = [("a", 60, 1, 1), ("a", 0, 0, 0), ("a", 60, 1, 1), ("a", 60, 5, 5), ("b", 0, 9, 9)]
    f, dropped = clean(fixes_from_table(table(rows))[0])
    assert dropped == 2  # one exact duplicate, one conflicting position at the same instant
    assert list(f.t - T0) == [0, 60_000_000, 0]
    assert list(f.x) == [0.0, 1.0, 9.0]  # the conflict keeps the smallest position


def test_segments_split_at_gaps_and_keep_isolated_fixes() -> None:
    rows = [("a", 0, 0, 0), ("a", 100, 10, 0), ("a", 401, 20, 0), ("a", 500, 30, 0), ("b", 0, 0, 0)]
    f, _ = clean(fixes_from_table(table(rows))[0])
    s = segments(f, 300)
    spans = sorted(
        zip(
            ((s.t0 - T0) // 1_000_000).tolist(),
            ((s.t1 - T0) // 1_000_000).tolist(),
            s.device.tolist(),
            strict=True,
        )
    )
    assert spans == [(0, 0, 1), (0, 100, 0), (401, 500, 0)]


def test_lat_lon_is_projected_to_a_chosen_crs() -> None:
    t = pa.table(
        {
            "device_id": ["a"],
            "time": pa.array([T0], pa.int64()).cast(UTC_TS),
            "lat": [51.48],
            "lon": [-3.18],
        }
    )
    f, crs = fixes_from_table(t)
    assert crs == "EPSG:27700"
    assert 310_000 < f.x[0] < 320_000 and 170_000 < f.y[0] < 180_000
    f, crs = fixes_from_table(t, "EPSG:32630")
    assert crs == "EPSG:32630" and 4_000_000 < f.y[0] < 6_000_000


@pytest.mark.parametrize("bad", ["no_position", "nan", "negative_accuracy", "no_device"])
def test_bad_inputs_are_refused_with_a_hint(bad: str) -> None:
    t = table([("a", 0, 0, 0)])
    if bad == "no_position":
        t = t.drop_columns(["easting", "northing"])
    elif bad == "nan":
        t = t.set_column(2, "easting", pa.array([np.nan]))
    elif bad == "negative_accuracy":
        t = t.append_column("accuracy_m", pa.array([-1.0]))
    else:
        t = t.drop_columns(["device_id"])
    with pytest.raises(InputError, match="How to fix"):
        fixes_from_table(t)


def test_grid_references_are_grid_reference_of_each_point() -> None:
    rng = np.random.default_rng(3)
    e = rng.uniform(-1e4, 7.2e5, 5_000)
    n = rng.uniform(-1e4, 1.32e6, 5_000)
    e[::7], n[::11] = np.round(e[::7], -5), np.round(n[::11], -5)  # on square edges
    e[5], n[9], e[10] = np.nan, np.inf, 699_999.9999999
    for digits in (10, 4, 2):
        want = [
            grid_reference(a, b, digits) if np.isfinite(a) and np.isfinite(b) else ""
            for a, b in zip(e.tolist(), n.tolist(), strict=True)
        ]
        assert grid_references(e, n, digits) == want
        assert "" in want and len(set(want)) > 1_000
    assert grid_references(np.array([]), np.array([])) == []
