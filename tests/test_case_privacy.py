"""No personal data (names, positions, free-text purposes, password hashes) in the reprs of
the foundation, simulator and case layers' objects: a repr ends up in logs and tracebacks."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from whereabouts.case import CaseStore
from whereabouts.case.cases import Case, ScopeExtension
from whereabouts.case.models import User
from whereabouts.io.read import read
from whereabouts.io.tabular import Chunk
from whereabouts.simulate.geography import Place
from whereabouts.simulate.people import Force
from whereabouts.simulate.policing import DeviceTrack, Unit
from whereabouts.simulate.sensors import Samples

SECRET = "Constable Jane Example"  # stands for any name or free text about a person
T0 = datetime(2024, 2, 5, tzinfo=UTC)


def test_user_repr_hides_the_password_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    store = CaseStore.open(tmp_path)
    try:
        store.add_user("admin1", "a long enough password", "administrator")
        from sqlalchemy.orm import Session

        with Session(store.engine) as s:
            row = s.get(User, "admin1")
            assert row is not None and row.password_hash
            assert row.password_hash not in repr(row) and "argon2" not in repr(row)
            assert "admin1" in repr(row)
        info = store.get_user("admin1")
        assert "argon2" not in repr(info)
    finally:
        store.close()


def test_case_repr_keeps_ids_and_drops_free_text() -> None:
    ext = ScopeExtension("subjects", ("O9",), None, None, "SUP1", f"seen with {SECRET}", T0)
    case = Case(
        "PSD-1",
        ("O1", "O2"),
        T0,
        T0,
        f"complaint by {SECRET}",
        "uk_gdpr",
        "SUP1",
        "inv1",
        "open",
        False,
        T0,
        extensions=(ext,),
    )
    text = repr(case)
    assert "PSD-1" in text and "O1" in text and "O9" in text
    assert SECRET not in text


def test_read_results_and_chunks_show_counts_not_rows(examples: Path) -> None:
    result = read("fixes", examples / "fixes.csv")
    assert result.accepted.num_rows == 3
    text = repr(result)
    assert "fixes.csv" in text and "read=3" in text
    assert "51.48" not in text and "-3.17" not in text
    chunk = Chunk(result.accepted, result.quarantine, result.read)
    assert "51.48" not in repr(chunk) and "read=3" in repr(chunk)


def test_a_home_place_repr_has_no_position_or_name() -> None:
    home = Place("H7", "home", 318_541.25, 176_422.75, 30.0, SECRET, owner_officer_id="O7")
    text = repr(home)
    assert "H7" in text and "O7" in text
    assert SECRET not in text and "318541" not in text and "176422" not in text


@pytest.mark.parametrize(
    ("cls", "personal"),
    [
        (Force, {"name", "home"}),
        (Samples, {"x", "y", "ox", "oy"}),
        (DeviceTrack, {"x", "y"}),
        (Unit, {"centre"}),
        (Case, {"purpose"}),
        (ScopeExtension, {"reason"}),
    ],
)
def test_personal_fields_are_left_out_of_reprs(cls: type, personal: set[str]) -> None:
    shown = {f.name for f in dataclasses.fields(cls) if f.repr}
    assert not personal & shown
