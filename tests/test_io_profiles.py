"""Mapping profiles: the shipped ones, units, time zones, and the Liverpool bus golden file."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from whereabouts.errors import ProfileError
from whereabouts.io.profile import load_profile, shipped_profiles, suggest_profile
from whereabouts.io.read import read

LIVERPOOL = "liverpool_bus_route14_outbound.csv"


def test_shipped_profiles_have_descriptions() -> None:
    profiles = shipped_profiles()
    assert {"traccar", "generic-avl", "liverpool-bus"} <= set(profiles)
    assert all(p.description for p in profiles.values())
    assert {name for name, p in profiles.items() if p.kinds != ("fixes",)} == {"os-addresses"}
    assert profiles["os-addresses"].kinds == ("addresses",)


def test_liverpool_bus_golden(real_data: Path) -> None:
    path = real_data / LIVERPOOL
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    r = read("fixes", path, profile="liverpool-bus")
    assert r.counts == {"read": 1533, "accepted": 1533, "duplicates": 0, "quarantined": 0}
    assert len(rows) == 1533
    first, last = r.accepted.to_pylist()[0], r.accepted.to_pylist()[-1]
    # the sample's first and last lines: naive timestamps are UTC in this export
    assert (first["device_id"], first["time"], first["lat"], first["lon"]) == (
        "4716",
        datetime(2026, 1, 26, 15, 57, 2, tzinfo=UTC),
        53.44451,
        -2.925173,
    )
    assert (last["device_id"], last["time"], last["lat"], last["lon"]) == (
        "4842",
        datetime(2026, 1, 26, 18, 18, 55, tzinfo=UTC),
        53.441316,
        -2.93262,
    )
    headings = [float(row["bearing"]) if row["bearing"] else None for row in rows]
    assert r.accepted["heading_deg"].to_pylist() == headings
    assert set(r.accepted["source"].to_pylist()) == {"bods-avl"}


def test_liverpool_sample_suggests_its_profile(real_data: Path) -> None:
    header = (real_data / LIVERPOOL).read_text().splitlines()[0].replace('"', "").split(",")
    assert suggest_profile(header, "fixes") == "liverpool-bus"


def test_traccar_speed_in_knots_and_utc_times(tmp_path: Path) -> None:
    path = tmp_path / "positions.csv"
    path.write_text(
        "id,protocol,deviceid,servertime,devicetime,fixtime,valid,latitude,longitude,altitude,"
        "speed,course,address,attributes,accuracy,network\n"
        "7,osmand,12,2024-07-01 12:00:05,2024-07-01 12:00:00,2024-07-01 12:00:00,1,51.48,"
        '-3.18,10,10,90,,"{""battery"": 80}",8,\n'
    )
    row = read("fixes", path, profile="traccar").accepted.to_pylist()[0]
    assert row["device_id"] == "12"
    assert row["time"] == datetime(2024, 7, 1, 12, tzinfo=UTC)  # UTC even in summer
    assert row["speed_mps"] == pytest.approx(10 * 1852 / 3600)
    assert (row["heading_deg"], row["accuracy_m"], row["source"]) == (90, 8, "traccar")


def test_generic_avl_kmh_and_workspace_zone(tmp_path: Path) -> None:
    path = tmp_path / "avl.csv"
    path.write_text(
        "unit,timestamp,latitude,longitude,speed_kmh,heading\n"
        "V1,2024-07-01 12:00:00,51.48,-3.18,36,180\n"
    )
    row = read("fixes", path, profile="generic-avl").accepted.to_pylist()[0]
    assert row["speed_mps"] == pytest.approx(10.0)
    assert row["time"] == datetime(2024, 7, 1, 11, tzinfo=UTC)  # naive: Europe/London, BST


def test_profile_from_a_toml_file_with_mph_and_grid(tmp_path: Path) -> None:
    toml = tmp_path / "cad.toml"
    toml.write_text(
        'kinds = ["fixes"]\n[columns]\ndevice_id = "callsign"\ntime = "when"\n'
        'easting = "e"\nnorthing = "n"\nspeed_mps = "mph"\n[units]\n'
        'speed_mps = "mph"\n[time]\nformat = "%d/%m/%Y %H:%M"\nzone = "UTC"\n'
    )
    path = tmp_path / "cad.csv"
    path.write_text("callsign,when,e,n,mph\nRV21,05/02/2024 07:42,318540,176420,10\n")
    row = read("fixes", path, profile=str(toml)).accepted.to_pylist()[0]
    assert row["time"] == datetime(2024, 2, 5, 7, 42, tzinfo=UTC)
    assert row["speed_mps"] == pytest.approx(4.4704)
    assert 51 < row["lat"] < 52


def test_bad_profiles(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[units]\nspeed_mps = 'furlongs per fortnight'\n")
    with pytest.raises(ProfileError, match="unknown unit"):
        load_profile(str(bad))
    bad.write_text("[columns\n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(str(bad))
