"""Screening end to end: a force-wide authority covers `screen` with no officers named; the
ranked pairs are kept in the workspace under their authority, and the web app lists and opens
them."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from test_web_support import test_client_class
from whereabouts.case import CaseStore
from whereabouts.cli import app
from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.demo import ingest_simulation
from whereabouts.simulate.force import simulate
from whereabouts.web import create_app

PW = "a long enough password"


@pytest.mark.slow
def test_force_wide_screening_kept_and_opened_in_the_web_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("WHEREABOUTS_USER", raising=False)
    monkeypatch.setenv("WHEREABOUTS_PASSWORD", PW)
    cfg = SimConfig(seed=3, officers=30, days=2)
    simulate(cfg, tmp_path / "data")
    ws, _ = ingest_simulation(tmp_path / "data", tmp_path / "ws", cfg.timezone)
    store = CaseStore.open(ws.path)
    store.add_user("boss", PW, "administrator")
    store.add_user("sup", PW, "supervisor", actor="boss")
    store.add_user("ana", PW, "analyst", actor="boss")
    store.close()
    t = str(ws.path)
    r = CliRunner().invoke(
        app,
        [
            "case",
            "screening",
            t,
            "SCR-1",
            "--scope",
            "force",
            "--from",
            "2024-03-25",
            "--to",
            "2024-03-26",
            "--purpose",
            "screening",
            "--authorised-by",
            "sup",
            "--user",
            "sup",
        ],
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        app,
        [
            "screen",
            t,
            "--authority",
            "SCR-1",
            "--from",
            "2024-03-25",
            "--to",
            "2024-03-26",
            "--user",
            "ana",
        ],
    )
    assert r.exit_code == 0, (r.output, r.exception)
    assert "30 officers" in r.output and "under authority SCR-1 (force)" in r.output
    kept = list((ws.path / "runs").glob("screening-SCR-1-*/screening.parquet"))
    assert len(kept) == 1
    ranked = pq.read_table(kept[0])
    pairs = set(zip(ranked["officer_a"].to_pylist(), ranked["officer_b"].to_pylist(), strict=True))
    assert ("P1001", "P1002") in pairs  # the planted pair, across teams and stations
    assert {o for p in pairs for o in p} > {"P1001", "P1002"}
    # a narrower scope than the authority is still covered; another team's authority is not
    r = CliRunner().invoke(
        app,
        [
            "screen",
            t,
            "--authority",
            "SCR-1",
            "--from",
            "2024-03-25",
            "--to",
            "2024-03-26",
            "--station",
            "Aberllyn",
            "--user",
            "ana",
            "--out",
            str(tmp_path / "mine"),
        ],
    )
    assert r.exit_code == 0 and (tmp_path / "mine" / "screening.parquet").exists()

    web = create_app(ws.path)
    try:
        client = test_client_class()(web)
        assert (
            client.post("/api/session", json={"username": "ana", "password": PW}).status_code == 200
        )
        listed = {x["run"]: x for x in client.get("/api/screening").json()}
        name = kept[0].parent.name
        assert listed[name]["authority"] == "SCR-1" and listed[name]["scope"] == "force"
        opened = client.get(f"/api/screening/{name}")
        assert opened.status_code == 200, opened.text
        assert len(opened.json()["rows"]) == ranked.num_rows
        page = client.get("/screening")
        assert page.status_code == 200
    finally:
        web.state.sessions.db.close()
