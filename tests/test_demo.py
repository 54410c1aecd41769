"""The demo: simulate, ingest into a workspace; the engine finds the planted meetings."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from whereabouts.cli import app
from whereabouts.engine import EncounterParams, find_encounters
from whereabouts.errors import WorkspaceError
from whereabouts.schema import UTC_TS
from whereabouts.simulate.demo import run_demo
from whereabouts.store import Workspace


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_demo_ingests_every_file_without_loss(demo_out: tuple[Path, str]) -> None:
    out, text = demo_out
    # every simulated input, roads.geojson included, and five map layers: buildings from
    # map.osm.pbf, water, green and rail from map.gpkg, addresses from addresses.csv
    assert "Ingested 18 files" in text
    ws = Workspace.open(out / "workspace")
    manifest = ws.manifest
    assert len(manifest) == 18
    assert ws.table("roads").num_rows > 0
    layers = {
        e["kind"]: e["name"]
        for e in manifest
        if e["kind"] in ("buildings", "addresses", "water", "green", "rail")
    }
    assert layers == {
        "buildings": "map.osm.pbf",
        "addresses": "addresses.csv",
        "water": "map.gpkg",
        "green": "map.gpkg",
        "rail": "map.gpkg",
    }
    assert ws.table("addresses").num_rows == ws.table("buildings").num_rows > 1000
    for entry in manifest:
        c = entry["counts"]
        assert c["read"] == c["accepted"] + c["duplicates"] + c["quarantined"]
        assert c["quarantined"] == 0, entry["name"]
    fixes_accepted = sum(e["counts"]["accepted"] for e in manifest if e["kind"] in ("fixes", "lip"))
    n = ws.connect().execute("select count(*) from fixes").fetchone()
    assert n is not None and n[0] == fixes_accepted
    sources = {r[0] for r in ws.connect().execute("select distinct source from fixes").fetchall()}
    assert {"avl", "tetra"} <= sources


def test_engine_finds_every_planted_meeting(demo_out: tuple[Path, str]) -> None:
    """Each remote or home meeting is an encounter of the two officers' cars (truth ± noise)."""
    out, _ = demo_out
    with (out / "data" / "truth" / "occasions.csv").open(encoding="utf-8") as fh:
        meetings = [
            r for r in csv.DictReader(fh) if r["kind"] in ("remote_meeting", "home_meeting")
        ]
    assert len(meetings) >= 5
    with (out / "data" / "assignments.csv").open(encoding="utf-8") as fh:
        cars = [r for r in csv.DictReader(fh) if not r["device_id"].startswith("62")]
    ws = Workspace.open(out / "workspace")
    fixes = ws.fixes(devices=sorted({r["device_id"] for r in cars}))
    for m in meetings:
        start, end = _utc(m["start"]), _utc(m["end"])
        mine = {
            o: {
                r["device_id"]
                for r in cars
                if r["officer_id"] == o and _utc(r["start"]) <= start and _utc(r["end"]) >= end
            }
            for o in (m["officer_a"], m["officer_b"])
        }
        a, b = mine[m["officer_a"]], mine[m["officer_b"]]
        assert len(a) == 1 and len(b) == 1 and a != b, m
        assert m["vehicles"] == ";".join(sorted(a | b))
        window = fixes.filter(
            pc.and_(
                pc.is_in(fixes["device_id"], pa.array(sorted(a | b))),
                pc.and_(
                    pc.greater(fixes["time"], pa.scalar(start - timedelta(hours=1), UTC_TS)),
                    pc.less(fixes["time"], pa.scalar(end + timedelta(hours=1), UTC_TS)),
                ),
            )
        )
        enc = find_encounters(window, EncounterParams())
        s = enc["start"].cast(pa.int64()).to_numpy() / 1e6
        e = enc["end"].cast(pa.int64()).to_numpy() / 1e6
        overlap = (
            (e.clip(None, end.timestamp()) - s.clip(start.timestamp(), None)).clip(0, None).sum()
        )
        # AVL every 10–30 s and dropouts of up to 15 min: most of the meeting is found.
        assert overlap >= 0.6 * (end - start).total_seconds(), m


def test_demo_refuses_to_reuse_a_workspace(demo_out: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = demo_out
    with pytest.raises(WorkspaceError):
        run_demo(out, days=1, officers=30, say=lambda _: None)
