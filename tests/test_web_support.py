"""Shared set-up for the web tests: one synthetic workspace per test session (no tests here).

The data comes from bench/web.py's generator (a case of two subjects, occasions, places,
incidents, areas, and a case store with one user per role), so the benchmark and the tests
exercise the same shapes.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@cache
def bench_web() -> ModuleType:
    """bench/web.py as a module (it holds the data generator and the uvicorn helper)."""
    spec = importlib.util.spec_from_file_location(
        "whereabouts_bench_web", REPO / "bench" / "web.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_built: dict[str, Any] = {}


def shared_workspace(root: Path) -> Any:
    """Build the shared workspace once per session (argon2 hashing makes it cost seconds)."""
    if "fx" not in _built:
        _built["fx"] = bench_web().make_workspace(root / "ws", days=3)
    return _built["fx"]


def test_client_class() -> Any:
    """Starlette's TestClient, imported without its httpx deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette: "install httpx2" (not packaged here)
        from fastapi.testclient import TestClient
    return TestClient


test_client_class.__test__ = False  # type: ignore[attr-defined]


def demo_workspace(root: Path) -> dict[str, Any]:
    """The demo force (small), a case on its planted pair and one more officer (three in
    each playback), and the investigation's outputs (built once per session by
    bench/web.py's `make_demo_workspace`)."""
    if "demo" not in _built:
        _built["demo"] = bench_web().make_demo_workspace(root / "demo", days=3, extra_subjects=1)
    return dict(_built["demo"])
