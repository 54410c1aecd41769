"""Shared test fixtures: paths to the shipped samples."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from whereabouts.simulate.demo import DemoState

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


@pytest.fixture(scope="session")
def demo_case(tmp_path_factory: pytest.TempPathFactory) -> DemoState:
    """The demo (a force of 30 officers over 2 days, its case investigated and reported),
    built once for the session: tests/test_report_demo.py and test_evidence_bundle.py.
    A test that changes it must work on a copy (shutil.copytree(demo_case.out, ...))."""
    from whereabouts.simulate.demo import run_demo

    return run_demo(tmp_path_factory.mktemp("demo-case"), officers=30, days=2, say=lambda _: None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `spark` need a Java runtime: skipped (saying so) only where none is
    installed; CI installs one (scripts/setup.sh --test), so there they run."""
    import shutil

    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    skip = pytest.mark.skip(reason="no Java runtime (install default-jre-headless)")
    for item in items:
        if "spark" in item.keywords:
            item.add_marker(skip)
