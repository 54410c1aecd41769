"""Hand-built analysis output folders and workspaces for the report tests.

Follows docs/architecture.md ("store" and "analysis") column by column, so the report can be
tested without the rest of the pipeline: two subjects (P1001, P1002) meeting near Cardiff,
peers for the baseline, places (a station, a custody suite, a home), one area, incidents,
and real input files whose SHA-256 goes into the manifest and summary.json.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from whereabouts import schema
from whereabouts.store.runs import RunSummary, RunWriter
from whereabouts.tracks.projection import grid_reference, to_wgs84

if TYPE_CHECKING:
    from whereabouts.case import CaseStore

SUBJECTS = ("P1001", "P1002")
NAMES = {
    "P1001": "Alex Morgan",
    "P1002": "Sam Price",
    "P1003": "Jo Hughes",
    "P1004": "Chris Evans",
    "P1005": "Dee Jones",
}
STATION_XY = (318540.0, 176420.0)
HOME_XY = (316900.0, 178950.0)
LAYBY_XY = (321800.0, 179300.0)
CRS = "EPSG:27700"
PARAMS = {"distance_m": 100, "max_gap_s": 300, "merge_gap_s": 120, "min_duration_s": 300}
T0 = datetime(2024, 2, 5, 9, 0, tzinfo=UTC)  # a Monday in GMT
HOME_NAME = "12 Acacia Avenue (Sam Price)"  # a home's name may hold an address and a name


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_inputs(inputs: Path) -> list[dict[str, object]]:
    """Small CSV inputs, as a force would hand them over; returns manifest entries."""
    inputs.mkdir(parents=True, exist_ok=True)
    files = {
        "officers.csv": "officer_id,name,rank,team,station,status\n"
        + "".join(f"{o},{n},PC,Team B,Riverside,serving\n" for o, n in NAMES.items()),
        "places.csv": "place_id,kind,easting,northing,radius_m,name,owner_officer_id\n"
        f"STN-RS,police_station,{STATION_XY[0]},{STATION_XY[1]},80,Riverside police station,\n"
        "CUS-1,custody,319300,175900,60,Central custody suite,\n"
        f"H-P1002,home,{HOME_XY[0]},{HOME_XY[1]},40,{HOME_NAME},P1002\n",
        "fixes.csv": "device_id,time,lat,lon\n6200101,2024-02-05T07:41:12Z,51.480101,-3.179701\n",
    }
    entries: list[dict[str, object]] = []
    for name, text in files.items():
        p = inputs / name
        p.write_text(text, encoding="utf-8")
        sha = _sha(p)
        rows = text.count("\n") - 1
        entries.append(
            {
                "file_id": sha[:16],
                "sha256": sha,
                "size": p.stat().st_size,
                "name": name,
                "kind": name.removesuffix(".csv"),
                "profile": None,
                "device_id": None,
                "timezone": "Europe/London",
                "ingested_at": "2024-06-01T10:00:00+00:00",
                "version": "0.1.0",
                "counts": {"read": rows, "accepted": rows, "duplicates": 0, "quarantined": 0},
            }
        )
    return entries


def _positioned(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    lat, lon = to_wgs84(np.asarray(x, float), np.asarray(y, float), CRS)
    return {"lat": lat, "lon": lon, "x": np.asarray(x, float), "y": np.asarray(y, float)}


def _workspace(
    ws: Path, manifest: list[dict[str, object]], duty: list[tuple[str, tuple[datetime, datetime]]]
) -> None:
    (ws / "runs").mkdir(parents=True, exist_ok=True)
    (ws / "workspace.json").write_text(
        json.dumps(
            {
                "crs": CRS,
                "timezone": "Europe/London",
                "created": "2024-06-01T10:00:00+00:00",
                "version": "0.1.0",
            }
        ),
        encoding="utf-8",
    )
    # as ingest writes it: each entry names its table (the files it lists are the data)
    manifest = [{**e, "table": schema.KINDS.get(str(e["kind"]), str(e["kind"]))} for e in manifest]
    (ws / "manifest.json").write_text(json.dumps({"inputs": manifest}, indent=1), encoding="utf-8")
    by_kind = {str(e["kind"]): str(e["file_id"]) for e in manifest}

    def put(table: str, data: dict[str, object], file_id: str) -> None:
        n = len(next(iter(data.values())))  # type: ignore[arg-type]
        data = {**data, "src_file": [file_id] * n, "src_line": list(range(2, n + 2))}
        t = pa.table(data).select(schema.TABLES[table].names).cast(schema.TABLES[table])
        (ws / "tables" / table).mkdir(parents=True, exist_ok=True)
        pq.write_table(t, ws / "tables" / table / f"{file_id}.parquet")

    put(
        "officers",
        {
            "officer_id": list(NAMES),
            "name": list(NAMES.values()),
            "rank": ["PC"] * 5,
            "team": ["Team B"] * 5,
            "station": ["Riverside"] * 5,
            "status": ["serving"] * 5,
        },
        by_kind["officers"],
    )
    px = np.array([STATION_XY[0], 319300.0, HOME_XY[0]])
    py = np.array([STATION_XY[1], 175900.0, HOME_XY[1]])
    put(
        "places",
        {
            "place_id": ["STN-RS", "CUS-1", "H-P1002"],
            "kind": ["police_station", "custody", "home"],
            **_positioned(px, py),
            "radius_m": [80.0, 60.0, 40.0],
            "name": ["Riverside police station", "Central custody suite", HOME_NAME],
            "owner_officer_id": [None, None, "P1002"],
        },
        by_kind["places"],
    )
    ring = [[-3.20, 51.48], [-3.16, 51.48], [-3.16, 51.51], [-3.20, 51.51], [-3.20, 51.48]]
    import shapely
    from shapely.geometry import Polygon

    from whereabouts.tracks.projection import to_projected

    lon, lat = np.array(ring).T
    ax, ay = to_projected(lat, lon, CRS)
    put(
        "areas",
        {
            "area_id": ["RS-NORTH"],
            "name": ["Riverside north beat"],
            "geometry_geojson": [json.dumps({"type": "Polygon", "coordinates": [ring]})],
            "geometry_wkb": [shapely.to_wkb(Polygon(np.c_[ax, ay]))],
        },
        by_kind["officers"],
    )
    put(
        "duty",
        {
            "officer_id": [o for o, _ in duty],
            "start": [s for _, (s, _e) in duty],
            "end": [e for _, (_s, e) in duty],
            "duty_type": ["response"] * len(duty),
            "area_id": ["RS-NORTH"] * len(duty),
        },
        by_kind["officers"],
    )
    ix = np.array([318900.0, 321500.0])
    iy = np.array([176800.0, 179100.0])
    put(
        "incidents",
        {
            "incident_id": ["240205-0031", "240205-0044"],
            "created_at": [T0 + timedelta(minutes=10), T0 + timedelta(days=2)],
            **_positioned(ix, iy),
            "category": ["road traffic collision", "theft"],
            "priority": pa.array([1, 3], pa.int8()),
            "closed_at": [T0 + timedelta(hours=1), T0 + timedelta(days=2, hours=1)],
        },
        by_kind["officers"],
    )


def _occasions(
    n: int, rng: np.random.Generator
) -> tuple[pa.Table, pa.Table, list[tuple[str, tuple[datetime, datetime]]]]:
    """n occasions of the two subjects and the tracks around them (fixes every 30 s)."""
    spots = [(LAYBY_XY, "remote", None), (HOME_XY, "home", None), (STATION_XY, None, "premises")]
    occ: dict[str, list[object]] = {
        k: []
        for k in (
            "occasion_id",
            "officer_a",
            "officer_b",
            "start",
            "end",
            "duration_s",
            "explained",
            "reasons",
            "flags",
            "evidence",
            "x",
            "y",
            "grid_ref",
            "place",
            "place_distance_m",
            "explained_s",
            "unexplained_s",
            "min_separation_m",
            "median_separation_m",
            "stationary",
            "fixes_per_hour",
            "position_error_m",
            "confidence",
            "confidence_basis",
            "on_duty",
            "incidents_p1",
            "incidents_p2",
            "incidents_p3",
            "incidents_p4",
            "dispatched",
            "unavailable_min",
        )
    }
    tracks: list[pa.Table] = []
    duty: list[tuple[str, tuple[datetime, datetime]]] = []
    for i in range(n):
        (sx, sy), flag, reason = spots[i % len(spots)]
        # Spread over ten weeks, so some fall in British Summer Time (from 31 March 2024).
        start = T0 + timedelta(days=int(i * 70 / max(n, 1)), hours=int(rng.integers(0, 10)))
        dur = float(rng.integers(10, 60) * 60)
        end = start + timedelta(seconds=dur)
        # Both on duty from two hours before to two hours after: the tracks cover only the
        # 30 minutes either side, so coverage has known gaps.
        duty += [(o, (start - timedelta(hours=2), end + timedelta(hours=2))) for o in SUBJECTS]
        oid = hashlib.sha256(f"P1001|P1002|{start.isoformat()}".encode()).hexdigest()[:16]
        evidence = []
        if reason:
            evidence.append(
                {
                    "label": "police premises",
                    "kind": "reason",
                    "detail": "both within 80 metres of STN-RS",
                    "rows": ["places:2"],
                }
            )
        if flag == "home":
            evidence.append(
                {
                    "label": "at an officer's home",
                    "kind": "flag",
                    "detail": "within 40 metres of the home address of P1002 (Sam Price)",
                    "rows": ["places:4"],
                }
            )
        if flag == "remote":
            evidence.append(
                {
                    "label": "remote",
                    "kind": "flag",
                    "detail": "no incidents within 500 metres in the previous 90 days",
                    "rows": [],
                }
            )
        for k, v in {
            "occasion_id": oid,
            "officer_a": "P1001",
            "officer_b": "P1002",
            "start": start,
            "end": end,
            "duration_s": dur,
            "explained": bool(reason),
            "reasons": [reason] if reason else [],
            "flags": [flag] if flag else [],
            "evidence": json.dumps(evidence),
            "x": sx,
            "y": sy,
            "grid_ref": grid_reference(sx, sy),
            "place": {"home": HOME_NAME, "remote": None}.get(
                flag or "", "Riverside police station"
            ),
            "place_distance_m": 5.0 if flag != "remote" else None,
            "explained_s": dur if reason else 0.0,
            "unexplained_s": 0.0 if reason else dur,
            "min_separation_m": float(rng.uniform(2, 30)),
            "median_separation_m": float(rng.uniform(20, 60)),
            "stationary": True,
            "fixes_per_hour": float(120),
            "position_error_m": 12.0,
            "confidence": ["high", "medium", "low"][i % 3],
            "confidence_basis": "fixes every 30 seconds from both radios",
            "on_duty": "both on duty",
            "incidents_p1": i % 2,
            "incidents_p2": 0,
            "incidents_p3": 1,
            "incidents_p4": 0,
            "dispatched": False,
            "unavailable_min": dur / 60,
        }.items():
            occ[k].append(v)
        # Tracks: each officer drives in from 2 km away, waits, and drives off.
        t = np.arange(-1800, dur + 1800 + 1, 30.0)
        for officer, device, ang in (("P1001", "6200101", 0.3), ("P1002", "6200102", 2.4)):
            far = np.array([np.cos(ang), np.sin(ang)]) * 2000
            w = np.clip(np.where(t < 0, -t / 1800, np.where(t > dur, (t - dur) / 1800, 0)), 0, 1)
            x = sx + w * far[0] + rng.normal(0, 5, len(t))
            y = sy + w * far[1] + rng.normal(0, 5, len(t))
            times = pa.array([start + timedelta(seconds=float(s)) for s in t], schema.UTC_TS)
            tracks.append(
                pa.table(
                    {
                        "officer_id": [officer] * len(t),
                        "device_id": [device] * len(t),
                        "time": times,
                        **_positioned(x, y),
                        "accuracy_m": np.full(len(t), 10.0),
                        "source": ["tetra"] * len(t),
                    }
                )
            )
    occ_t = pa.table(
        {
            **occ,
            "start": pa.array(occ["start"], schema.UTC_TS),
            "end": pa.array(occ["end"], schema.UTC_TS),
            "reasons": pa.array(occ["reasons"], pa.list_(pa.string())),
            "flags": pa.array(occ["flags"], pa.list_(pa.string())),
            "place": pa.array(occ["place"], pa.string()),
            "place_distance_m": pa.array(occ["place_distance_m"], pa.float64()),
            "incidents_p1": pa.array(occ["incidents_p1"], pa.int64()),
        }
    )
    lat, lon = to_wgs84(np.asarray(occ["x"], float), np.asarray(occ["y"], float), CRS)
    occ_t = occ_t.append_column("lat", pa.array(lat)).append_column("lon", pa.array(lon))
    if tracks:
        tr = pa.concat_tables(tracks)
    else:
        tr = pa.table(
            {
                "officer_id": pa.array([], pa.string()),
                "device_id": pa.array([], pa.string()),
                "time": pa.array([], schema.UTC_TS),
                "lat": pa.array([], pa.float64()),
                "lon": pa.array([], pa.float64()),
                "x": pa.array([], pa.float64()),
                "y": pa.array([], pa.float64()),
            }
        )
    return occ_t, tr, duty


def build(
    root: Path, *, occasions: int = 6, seed: int = 7, case_ref: str = "PSD-2024-001"
) -> tuple[Path, Path]:
    """Write inputs/, ws/ and ws/runs/<case_ref>/; return (workspace, run folder)."""
    rng = np.random.default_rng(seed)
    manifest = _write_inputs(root / "inputs")
    ws = root / "ws"
    occ, tracks, duty = _occasions(occasions, rng)
    _workspace(ws, manifest, duty)
    run = ws / "runs" / case_ref
    writer = RunWriter.to_folder(run)
    writer.table("occasions", occ)
    writer.table("tracks", tracks)
    sx, sy = LAYBY_XY
    stops = pa.table(
        {
            "stop_id": ["S1", "S2"],
            "device_id": ["RV21", "RV21"],
            "vehicle": ["RV21 response car (YX19 ABC)"] * 2,
            "officers": pa.array([["P1001"], ["P1001", "P1002"]], pa.list_(pa.string())),
            "start": pa.array([T0 + timedelta(days=3), T0 + timedelta(days=9)], schema.UTC_TS),
            "end": pa.array(
                [T0 + timedelta(days=3, minutes=25), T0 + timedelta(days=9, minutes=40)],
                schema.UTC_TS,
            ),
            "duration_s": [1500.0, 2400.0],
            "x": [sx, sx + 300],
            "y": [sy, sy - 200],
            "grid_ref": [grid_reference(sx, sy), grid_reference(sx + 300, sy - 200)],
            "place": ["Riverside police station", None],
            "place_distance_m": [2400.0, None],
            "flags": pa.array([["remote"], ["remote", "stationary"]], pa.list_(pa.string())),
        }
    )
    writer.table("stops", stops)
    peers = ["P1001", "P1002", "P1003", "P1004", "P1005"]
    pairs = [(a, b) for i, a in enumerate(peers) for b in peers[i + 1 :]]
    unexplained = [
        float(occ.num_rows and sum(1 for e in occ["explained"].to_pylist() if not e)) * 1800.0
        if (a, b) == SUBJECTS
        else float(rng.integers(0, 4) * 600)
        for a, b in pairs
    ]
    writer.table(
        "baseline",
        pa.table(
            {
                "officer_a": [a for a, _ in pairs],
                "officer_b": [b for _, b in pairs],
                "occasions": [int(u // 600) + 2 for u in unexplained],
                "unexplained_s": unexplained,
                "shared_duty_s": [36000.0] * len(pairs),
            }
        ),
    )
    n_unexpl = sum(1 for e in occ["explained"].to_pylist() if not e) if occ.num_rows else 0
    summary = {
        "case": case_ref,
        "subjects": [{"officer_id": o} for o in SUBJECTS],
        "period": {"start": "2024-02-01T00:00:00+00:00", "end": "2024-04-30T00:00:00+00:00"},
        "params": PARAMS,
        "crs": CRS,
        "version": "0.1.0",
        "remote_rule": "no incident raised within 500 m in the 90 days before",
        "explained_rule": "explained = any reason other than one_tasked",
        "inputs": [
            {
                "file": e["name"],
                "sha256": e["sha256"],
                "rows": e["counts"]["accepted"],  # type: ignore[index]
                "kind": e["kind"],
            }
            for e in manifest
        ],
        "coverage": [{"officer_id": o, "fixes_on_duty": 0} for o in SUBJECTS],
        "baseline": {
            "group": "team Team B",
            "pairs": len(pairs),
            "test": "one-sided exact Poisson test",
            "why": "occasions are counts of rare events",
            "subject_pairs": [
                {
                    "officer_a": "P1001",
                    "officer_b": "P1002",
                    "rank": 1,
                    "p_value": 0.003,
                    "unexplained": n_unexpl,
                    "statement": f"Among {len(pairs)} pairs of officers in team Team B, P1001 and "
                    f"P1002 rank 1 (p = 0.003).",
                }
            ],
        },
    }
    with writer:
        writer.commit(RunSummary.from_json(summary))
    return ws, run


def authorised_case(ws: Path, case_ref: str = "PSD-2024-001") -> CaseStore:
    """The workspace's case store with four users and the case `case_ref` on the subjects,
    opened and authorised (no location data is read before that); the store stays open."""
    from whereabouts.case import CaseStore

    store = CaseStore.open(ws)
    store.add_user("admin", "admin-password-1", "administrator")
    store.add_user("sup", "sup-password-123", "supervisor", actor="admin")
    store.add_user("inv", "inv-password-123", "investigator", actor="admin")
    store.add_user("other", "other-password-1", "investigator", actor="admin")
    store.open_case(
        case_ref,
        list(SUBJECTS),
        "2024-02-01T00:00:00+00:00",
        "2024-04-30T00:00:00+00:00",
        "alleged misuse of duty time",
        authorised_by="sup",
        actor="inv",
    )
    store.authorise_case(case_ref, actor="sup")
    return store
