"""The report's parts: UK wording, labels and the key, sources, maps and charts."""

from __future__ import annotations

import base64
import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from whereabouts.errors import InputError, ParameterError
from whereabouts.report import charts, maps
from whereabouts.report.labels import Labels, parse_label_option
from whereabouts.report.method import parameters
from whereabouts.report.wording import distance, duration, uk_datetime, uk_span


def test_uk_dates_state_gmt_in_winter_and_bst_in_summer() -> None:
    winter = datetime(2024, 2, 5, 7, 41, tzinfo=UTC)
    summer = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)  # 13:00 in London (UTC+1)
    assert uk_datetime(winter, "Europe/London") == "Monday 5 February 2024, 07:41 GMT"
    assert uk_datetime(summer, "Europe/London") == "Monday 1 July 2024, 13:00 BST"
    # A span across midnight names both days; within a day the date is said once.
    assert (
        uk_span(winter, datetime(2024, 2, 5, 8, 2, tzinfo=UTC), "Europe/London")
        == "Monday 5 February 2024, 07:41 GMT to 08:02 GMT"
    )
    late = uk_span(
        datetime(2024, 2, 5, 23, 50, tzinfo=UTC),
        datetime(2024, 2, 6, 0, 10, tzinfo=UTC),
        "Europe/London",
    )
    assert "Tuesday 6 February 2024, 00:10 GMT" in late


def test_clock_change_night_is_in_local_time() -> None:
    # 31 March 2024: clocks go forward at 01:00 GMT, so 01:30 UTC is 02:30 BST.
    assert uk_datetime(datetime(2024, 3, 31, 0, 30, tzinfo=UTC), "Europe/London").endswith(
        "00:30 GMT"
    )
    assert uk_datetime(datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "Europe/London").endswith(
        "02:30 BST"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (40, "40 seconds"),
        (60, "1 minute"),
        (300, "5 minutes"),
        (3900, "1 hour 5 minutes"),
        (7200, "2 hours"),
        (90000, "1 day 1 hour"),
    ],
)
def test_durations_are_spelled_out(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_distances_are_spelled_out() -> None:
    assert distance(1) == "1 metre"
    assert distance(35.4) == "35 metres"
    assert distance(2400) == "2.4 kilometres"
    assert distance(float("nan")) == "not known"


def test_labels_styles_and_overrides() -> None:
    assert Labels.make(["P2", "P1"], style="pc").by_officer == {"P1": "PC One", "P2": "PC Two"}
    assert Labels.make(["P2", "P1"], style="officer").of("P2") == "Officer B"
    assert Labels.make(["P1", "P2"], style="mr-ms").by_officer == {"P1": "Mr A", "P2": "Ms B"}
    explicit = Labels.make(["P1", "P2"], explicit=parse_label_option("P2=Ms B, P1=Mr A"))
    assert explicit.of("P1") == "Mr A" and explicit.of("P2") == "Ms B"
    assert explicit.of("P9") == "another officer"


@pytest.mark.parametrize("bad", ["P1", "=Mr A", "P1="])
def test_bad_label_option_says_how_to_write_it(bad: str) -> None:
    with pytest.raises(ParameterError) as info:
        parse_label_option(bad)
    assert "OFFICER_ID=LABEL" in str(info.value)


def test_labels_refuse_duplicates_unknown_officers_and_styles() -> None:
    with pytest.raises(ParameterError):
        Labels.make(["P1", "P2"], explicit={"P1": "X", "P2": "X"})
    with pytest.raises(ParameterError):
        Labels.make(["P1"], explicit={"P7": "X"})
    with pytest.raises(ParameterError, match="label style"):
        Labels.make(["P1"], style="nickname")


def test_scrub_replaces_ids_and_names_as_whole_words() -> None:
    labels = Labels.make(["P1001", "P1002"], names={"P1001": "Alex Morgan", "P1003": "Jo Hughes"})
    text = "P1001 met P1002 near P10011; Alex Morgan and Jo Hughes were told"
    assert labels.scrub(text) == (
        "PC One met PC Two near P10011; PC One and another officer were told"
    )


def test_key_is_a_separate_csv(tmp_path: Path) -> None:
    labels = Labels.make(["P1", "P2"], names={"P1": "Alex Morgan", "P2": "Sam Price"})
    path = labels.write_key(tmp_path / "secret" / "key.csv")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [
        {"label": "PC One", "officer_id": "P1", "name": "Alex Morgan"},
        {"label": "PC Two", "officer_id": "P2", "name": "Sam Price"},
    ]


def test_parameters_in_plain_english_keep_exact_values() -> None:
    rows = parameters({"distance_m": 100, "max_gap_s": 300, "remote_radius_m": 500})
    by_exact = {exact: (name, meaning) for name, meaning, exact in rows}
    assert "100 metres" in by_exact["distance_m = 100"][1]
    assert "5 minutes" in by_exact["max_gap_s = 300"][1]
    assert by_exact["remote_radius_m = 500"] == ("remote radius", "500 metres")


def _svg(uri: str) -> str:
    assert uri.startswith("data:image/svg+xml;base64,")
    return base64.b64decode(uri.split(",", 1)[1]).decode("utf-8")


def _tracks() -> pa.Table:
    t = np.arange(0, 3600 * 10**6, 30 * 10**6, dtype=np.int64)
    n = len(t)
    return pa.table(
        {
            "officer_id": ["A"] * n + ["B"] * n,
            "time": pa.array(np.concatenate([t, t]), pa.timestamp("us", tz="UTC")),
            "x": np.concatenate([318000 + t / 1e7, 318050 - t / 1e7]),
            "y": np.full(2 * n, 176000.0),
        }
    )


def test_occasion_map_is_deterministic_and_draws_scale_and_grid() -> None:
    idx = maps.TrackIndex.build(_tracks())
    labels = Labels.make(["A", "B"])
    ctx = maps.Context.build(pa.table({}), pa.table({}), labels, "EPSG:27700")
    occ = {
        "start_us": 1200 * 10**6,
        "end_us": 2400 * 10**6,
        "officer_a": "A",
        "officer_b": "B",
        "x": 318100.0,
        "y": 176000.0,
    }
    one = maps.occasion_map(idx, occ, ctx, labels, 50.0)
    assert one == maps.occasion_map(idx, occ, ctx, labels, 50.0)
    svg = _svg(one)
    assert "<dc:date" not in svg  # no time of making
    assert "grid square ST" in svg and "metres" in svg and ">N<" in svg
    assert "PC One" in svg and "PC Two" in svg


def test_window_selects_one_officer_in_time() -> None:
    idx = maps.TrackIndex.build(_tracks())
    w = idx.window("B", 60 * 10**6, 120 * 10**6)
    assert set(idx.officer[w]) == {"B"}
    assert idx.t[w].tolist() == [60 * 10**6, 90 * 10**6]  # [start, end) at 30 s spacing


def test_roads_layer_is_read_and_bad_roads_say_what_to_give(tmp_path: Path) -> None:
    good = tmp_path / "roads.geojson"
    good.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[-3.18, 51.48], [-3.17, 51.49]],
                        },
                    },
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {
                            "type": "MultiLineString",
                            "coordinates": [
                                [[-3.19, 51.48], [-3.18, 51.48]],
                                [[-3.2, 51.5], [-3.19, 51.5], [-3.18, 51.51]],
                            ],
                        },
                    },
                ],
            }
        )
    )
    lines = maps.load_roads(good, "EPSG:27700")
    assert [len(line) for line in lines] == [2, 2, 3]
    assert 310_000 < lines[0][0, 0] < 330_000  # projected to British National Grid metres
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="GeoJSON"):
        maps.load_roads(bad, "EPSG:27700")


def test_local_parts_use_local_time_and_monday_weeks() -> None:
    times = pa.array(
        [
            datetime(2024, 7, 7, 23, 30, tzinfo=UTC),  # Monday 8 July 00:30 BST
            datetime(2024, 2, 4, 12, 0, tzinfo=UTC),
        ],  # Sunday 4 Feb 12:00 GMT
        pa.timestamp("us", tz="UTC"),
    )
    hour, monday = charts.local_parts(times, "Europe/London")
    assert hour.tolist() == [0.5, 12.0]
    assert monday.astype(str).tolist() == ["2024-07-08", "2024-01-29"]


def test_timeline_marks_unknown_positions_across_long_gaps() -> None:
    # B reports twice, 20 minutes apart: longer than max_gap, so its position is unknown.
    t = np.array([0, 1200], dtype=np.int64) * 10**6
    idx = maps.TrackIndex.build(
        pa.table(
            {
                "officer_id": ["B", "B"],
                "time": pa.array(t, pa.timestamp("us", tz="UTC")),
                "x": [0.0, 0.0],
                "y": [0.0, 0.0],
            }
        )
    )
    grid = np.array([0, 600, 1200], dtype=np.int64) * 10**6
    _, _, known = charts._known(idx, idx.window("B", 0, 2000 * 10**6), grid, 300 * 10**6)
    assert known.tolist() == [True, False, True]


def test_coverage_share_and_gaps_follow_the_interpolation_rule() -> None:
    from whereabouts.report.sources import officer_coverage

    us = 10**6
    # On duty 10:00–11:00 and 12:00–12:30 (two rota entries, one overlapping the first).
    starts = np.array([0, 600, 7200]) * us
    ends = np.array([3600, 1200, 9000]) * us
    # Fixes every 60 s for the first half hour, one lone fix at 12:10 (no neighbour ≤ 5 min).
    fixes = np.r_[np.arange(0, 1801, 60), 7800] * us
    duty_s, known_s, gaps = officer_coverage(fixes, starts, ends, max_gap_s=300)
    assert duty_s == 3600 + 1800
    # Known from 10:00 to 10:30 on a 30-second grid (61 points); the lone fix adds one point.
    assert known_s == pytest.approx(30.0 * (61 + 1), abs=1e-6)
    assert [(a // us, b // us) for a, b in gaps] == [(1830, 3600), (7200, 7800), (7830, 9000)]


def test_coverage_without_fixes_or_duty() -> None:
    from whereabouts.report.sources import officer_coverage

    assert officer_coverage(np.empty(0, np.int64), np.array([0]), np.array([600 * 10**6]), 300) == (
        600.0,
        0.0,
        [(0, 600 * 10**6)],
    )
    assert officer_coverage(np.array([5]), np.empty(0, np.int64), np.empty(0, np.int64), 300) == (
        0.0,
        0.0,
        [],
    )
