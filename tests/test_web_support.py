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
    spec = importlib.util.spec_from_file_location("whereabouts_bench_web", REPO / "bench" / "web.py")
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


DEMO_PASSWORD = "demo password for tests"


def demo_workspace(root: Path) -> dict[str, Any]:
    """The demo force (small), a case on its planted pair, and the investigation's outputs.

    Users: ivy (investigator) and aud (auditor), with DEMO_PASSWORD; case PSD-DEMO-1 on
    the first planted pair of the ground truth, authorised by sam (supervisor).
    """
    if "demo" in _built:
        return dict(_built["demo"])
    import csv
    from datetime import UTC, datetime, timedelta

    from whereabouts.analysis.investigate import investigate
    from whereabouts.case import CaseStore
    from whereabouts.simulate.demo import run_demo
    from whereabouts.store import Workspace

    days = 3
    state = run_demo(root / "demo", officers=30, days=days, say=lambda _: None)
    with open(state.data_dir / "truth" / "occasions.csv", newline="") as f:
        planted = [r for r in csv.DictReader(f) if r["reason"] == "none"]
    subjects = [planted[0]["officer_a"], planted[0]["officer_b"]]
    first = datetime.fromisoformat(planted[0]["start"].replace("Z", "+00:00"))
    start = first.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=UTC)
    end = start + timedelta(days=days)
    ws = Path(state.workspace_dir)
    ref = "PSD-DEMO-1"
    store = CaseStore.open(ws)
    store.add_user("admin", DEMO_PASSWORD, "administrator")
    for name, role in (("ivy", "investigator"), ("sam", "supervisor"), ("aud", "auditor")):
        store.add_user(name, DEMO_PASSWORD, role, actor="admin")
    store.open_case(ref, subjects, start, end, "planted misconduct in the demo force",
                    authorised_by="sam", actor="ivy")
    store.close()
    investigate(Workspace.open(ws), subjects, start, end, out_dir=ws / "runs" / ref, case=ref)
    _built["demo"] = {"workspace": ws, "case_ref": ref, "subjects": tuple(sorted(subjects)),
                      "password": DEMO_PASSWORD, "run": ws / "runs" / ref}
    return dict(_built["demo"])
