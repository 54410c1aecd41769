"""Shared test fixtures: paths to the shipped samples."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("WHEREABOUTS_QUIET", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """../shared/data/real: real GPS/AVL, GPX and NMEA samples."""
    assert SHARED_DATA.is_dir(), f"expected the shared data beside the repository at {SHARED_DATA}"
    return SHARED_DATA / "real"


@pytest.fixture(scope="session")
def examples() -> Path:
    """../shared/data/examples: a few rows of every canonical table."""
    return SHARED_DATA / "examples"
