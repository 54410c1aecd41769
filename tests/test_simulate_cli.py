"""`whereabouts simulate`: options, the realism summary, and errors that say how to fix."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from whereabouts.cli import app
from whereabouts.errors import ParameterError
from whereabouts.simulate.config import SimConfig


def test_simulate_prints_the_realism_summary(tmp_path: Path) -> None:
    out = tmp_path / "force"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--out",
            str(out),
            "--seed",
            "5",
            "--officers",
            "30",
            "--days",
            "2",
            "--start",
            "2024-10-26",
            "--remote-meetings",
            "3",
            "--home-meetings",
            "0",
            "--secluded-stops",
            "0",
            "--minutes",
            "30",
            "40",
        ],
    )
    assert result.exit_code == 0, result.output
    for phrase in (
        "fixes per device-hour",
        "incidents per team shift",
        "co-location time with a policing reason",
        "duty time with a known position",
    ):
        assert phrase in result.output
    realism = json.loads((out / "truth" / "realism.json").read_text(encoding="utf-8"))
    planted = (out / "truth" / "occasions.csv").read_text(encoding="utf-8")
    assert planted.count("remote_meeting") == 3
    assert "home_meeting" not in planted and "crewed_secluded" not in planted
    for row in csv.DictReader(io.StringIO(planted)):
        if row["kind"] == "remote_meeting":
            length = datetime.fromisoformat(row["end"]) - datetime.fromisoformat(row["start"])
            assert 30 * 60 - 1 <= length.total_seconds() <= 40 * 60 + 1
    assert f"{realism['duty_known_position_share']:.1%}" in result.output
    for name in (
        "officers.csv",
        "devices.csv",
        "assignments.csv",
        "duty.csv",
        "incidents.csv",
        "attachments.csv",
        "places.csv",
        "areas.geojson",
        "fixes.parquet",
        "lip.csv",
        "vendor/avl_generic.csv",
        "vendor/traccar_positions.csv",
        "truth/occasions.csv",
        "truth/positions.parquet",
    ):
        assert (out / name).is_file(), name
    # The autumn clock change (27 October 2024): a repeated local hour carries its offset.
    cad = (out / "incidents.csv").read_text(encoding="utf-8") + (out / "attachments.csv").read_text(
        encoding="utf-8"
    )
    assert "2024-10-27 01:" in cad
    repeated = [
        field
        for line in cad.splitlines()
        for field in line.split(",")
        if field.startswith("2024-10-27 01:")
    ]
    assert repeated
    assert all(field.endswith(("+01:00", "+00:00")) for field in repeated)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--officers", "5"], "at least 30 officers"),
        (["--days", "0"], "--days 14"),
        (["--start", "25/03/2024"], "YYYY-MM-DD"),
        (["--minutes", "60", "20"], "--minutes LOW HIGH"),
        (["--remote-meetings", "-1"], "0 or more"),
    ],
)
def test_bad_options_say_how_to_fix(tmp_path: Path, args: list[str], needle: str) -> None:
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), *args])
    assert isinstance(result.exception, ParameterError)
    assert needle in str(result.exception)


def test_config_refuses_impossible_sensor_settings() -> None:
    with pytest.raises(ParameterError):
        SimConfig(avl_interval_s=(30.0, 10.0))


@pytest.mark.parametrize("command", ["simulate", "demo"])
def test_an_out_that_is_a_file_is_refused(tmp_path: Path, command: str) -> None:
    taken = tmp_path / "taken.csv"
    taken.write_text("x\n")
    extra = ["--officers", "30", "--days", "1"] if command == "simulate" else []
    result = CliRunner().invoke(app, [command, "--out", str(taken), *extra])
    assert isinstance(result.exception, ParameterError)
    assert "is a file, not a folder" in str(result.exception)
    assert taken.read_text() == "x\n"
