"""Per-request savings stay exact: the remembered case never changes what is audited or
refused, and the pre-encoded case page data is the same JSON and follows file changes."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from test_web_support import shared_workspace, test_client_class
from whereabouts.case import CaseStore
from whereabouts.web import create_app
from whereabouts.web.services import Services


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A private copy of the shared workspace: these tests rewrite its files."""
    fx = shared_workspace(tmp_path_factory.mktemp("web"))
    root = tmp_path_factory.mktemp("web-cache") / "ws"
    shutil.copytree(fx.workspace, root)
    return dataclasses.replace(fx, workspace=root)


def _last_read(workspace: Path, ref: str) -> dict[str, Any]:
    store = CaseStore.open(workspace)
    try:
        entries = [e for e in store.audit.entries(case_ref=ref) if e["action"] == "location.read"]
        return dict(entries[-1]["detail"])
    finally:
        store.close()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_stale_remembered_case_is_corrected_in_the_audit(ws: Any) -> None:
    svc = Services(ws.workspace)
    ivy = svc.user("ivy")
    assert ivy is not None
    real = svc.store.get_case(ws.case_ref)
    # Remember a case whose period is narrower than the real one (as if it changed since).
    svc._seen_cases[ws.case_ref] = dataclasses.replace(real, end=real.end - timedelta(days=1))
    case = svc.record_read(ivy, ws.case_ref, "tracks")
    assert (case.start, case.end) == (real.start, real.end)
    detail = _last_read(ws.workspace, ws.case_ref)
    assert _time(detail["end"]) == real.end  # the last entry names what is then read
    assert svc._seen_cases[ws.case_ref] == case


def test_a_remembered_case_out_of_scope_is_asked_again_not_refused(ws: Any) -> None:
    svc = Services(ws.workspace)
    ivy = svc.user("ivy")
    assert ivy is not None
    real = svc.store.get_case(ws.case_ref)
    # A remembered period wider than the case's: the store refuses it, the service retries.
    svc._seen_cases[ws.case_ref] = dataclasses.replace(real, end=real.end + timedelta(days=30))
    case = svc.record_read(ivy, ws.case_ref, "overview")
    assert case.end == real.end
    assert _time(_last_read(ws.workspace, ws.case_ref)["end"]) == real.end


def test_overview_is_the_parts_as_json_and_follows_a_new_analysis(ws: Any) -> None:
    client = test_client_class()(create_app(ws.workspace))
    assert (
        client.post("/api/session", json={"username": "ivy", "password": ws.password}).status_code
        == 200
    )
    url = f"/api/cases/{ws.case_ref}/overview"
    first = client.get(url)
    assert first.status_code == 200
    body = json.loads(first.content)
    assert list(body) == [
        "case",
        "crs",
        "params",
        "coverage",
        "occasions",
        "places",
        "areas",
        "roads",
    ]
    assert body["case"]["ref"] == ws.case_ref
    occasions = client.get(f"/api/cases/{ws.case_ref}/occasions").json()
    assert body["occasions"] == occasions
    assert json.loads(client.get(url).content) == body  # the cached encoding, same answer
    # A new analysis with fewer occasions replaces the file: the page data follows it.
    path = next((ws.workspace / "runs").glob("**/occasions.parquet"))
    table = pq.read_table(path)
    keep = table.filter(pc.not_equal(table["occasion_id"], ws.occasion_ids[0]))
    assert keep.num_rows == table.num_rows - 1
    pq.write_table(keep, path)
    after = json.loads(client.get(url).content)
    assert {o["occasion_id"] for o in after["occasions"]} == {
        o["occasion_id"] for o in occasions
    } - {ws.occasion_ids[0]}
