"""Time parsing: offsets, Z, naive local time and clock changes, per-row reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whereabouts.io.times import implausible, parse_times


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def test_zoned_times_become_utc() -> None:
    got = parse_times(pa.array(["2024-02-05T07:41:00Z", "2024-07-05T07:41:12.5+01:00"]))
    assert got.times.to_pylist() == [utc(2024, 2, 5, 7, 41), utc(2024, 7, 5, 6, 41, 12, 500000)]
    assert got.ok.all()


def test_naive_local_time_uses_the_zone_in_summer_and_winter() -> None:
    got = parse_times(pa.array(["2024-02-05 08:03:00", "2024-07-01 12:00:00"]), "Europe/London")
    assert got.times.to_pylist() == [utc(2024, 2, 5, 8, 3), utc(2024, 7, 1, 11, 0)]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-03-31 01:30:00", "does not exist"),
        ("2024-10-27 01:30:00", "ambiguous"),
        ("2024-13-05 08:00:00", "impossible"),
        ("yesterday", "unparseable"),
    ],
)
def test_bad_times_get_a_reason_and_others_survive(value: str, reason: str) -> None:
    got = parse_times(pa.array(["2024-02-05T07:41:00Z", value]))
    assert got.times[0].as_py() == utc(2024, 2, 5, 7, 41)
    assert got.times[1].as_py() is None
    assert reason in got.reasons[1].as_py()


def test_an_offset_resolves_a_clock_change() -> None:
    got = parse_times(pa.array(["2024-10-27 01:30:00+01:00", "2024-10-27 01:30:00+00:00"]))
    assert got.times.to_pylist() == [utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 1, 30)]


def test_explicit_format_and_epoch() -> None:
    got = parse_times(pa.array(["05/02/2024 08:03:00", "5th Feb"]), fmt="%d/%m/%Y %H:%M:%S")
    assert got.times[0].as_py() == utc(2024, 2, 5, 8, 3)
    assert "format" in got.reasons[1].as_py()
    epoch = parse_times(pa.array([1707118860]), fmt="epoch_s")
    assert epoch.times[0].as_py() == utc(2024, 2, 5, 7, 41)


def test_implausible_times() -> None:
    times = pa.array([utc(1980, 1, 1), utc(2024, 1, 1), utc(2999, 1, 1)], pa.timestamp("us", "UTC"))
    assert implausible(times).to_pylist() == ["time before 1990", None, "time in the future"]


# Forms the fast path (Arrow's ISO 8601 cast) and the slow path (component regex) might
# read differently, with good and bad times, zoned and naive, around a clock change.
FORMS = [
    "2024-02-05T07Z",
    "2024-02-05 07",
    "2024-02-05T07:41Z",
    "2024-02-05T07:41",
    "2024-02-05T07:41:00+0100",
    "2024-02-05T07:41:00+01",
    "2024-02-05T07:41:00.5",
    "2024-02-05T07:41:00.123456789Z",
    "2024-02-05T07:41:00,5Z",
    "2024-02-05",
    "2024-02-05Z",
    "2024-02-05T07:41:00UTC",
    "2024-02-05T07:41:60Z",
    "2024-02-05T24:00:00Z",
    "2024-02-30T07:41:00Z",
    "2024-02-05T0741Z",
    "20240205T074100Z",
    "not a time",
    "",
    "2024-03-31 01:30:00",
    "2024-10-27 01:30:00",
    "2024-10-27 01:30:00+01:00",
    "2024-02-05 08:03:00",
    "2024-07-01 12:00:00Z",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FORMS), min_size=1, max_size=8))
def test_a_value_reads_the_same_whatever_else_is_in_its_chunk(values: list[str]) -> None:
    """Streamed files are parsed a chunk at a time: a value's time and reason must not
    depend on the other values parsed with it (the fast path for uniform chunks and the
    slow one for mixed chunks agree)."""
    together = parse_times(pa.array(values))
    alone = [parse_times(pa.array([v])) for v in values]
    assert together.times.to_pylist() == [a.times[0].as_py() for a in alone]
    assert together.reasons.to_pylist() == [a.reasons[0].as_py() for a in alone]


def test_an_hour_only_time_is_read_in_any_company() -> None:
    got = parse_times(pa.array(["2024-02-05T07Z", "2024-02-05T07:41:00.123456789Z"]))
    assert got.times.to_pylist() == [utc(2024, 2, 5, 7), utc(2024, 2, 5, 7, 41, 0, 123456)]
