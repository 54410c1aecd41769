"""The review tools' data (AVL playback, i2 timeline, who was near, exports) for the web app.

Each function takes the `Services` (the app's door into the library) and a case the caller
has already checked and audited the read of; it calls `analysis.playback` and
`exports` and returns JSON-ready data. Positions are the case's run's tracks: the
case's subjects only, so nothing outside the case's scope is ever searched or shown.
"""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.analysis import playback
from whereabouts.case import Case
from whereabouts.settings import default

if TYPE_CHECKING:
    from whereabouts.web.services import Services

DEFAULT_NEAR_M = 200.0  # "who was near here then": the default search distance
MAX_PAIR_UNITS = 6  # distance series for every pair of the first six officers (15 pairs)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _setting(svc: Services, ref: str, name: str) -> float:
    """A setting as the case's run used it (the default for a run from before it existed)."""
    return float(svc.run(ref).summary.setting(name, default(name)))


def officer_labels(svc: Services, officers: list[str]) -> dict[str, str]:
    """Each officer as the case page names them: the id, with rank and name when the
    workspace's officers table has them ("P1001 (PC Carys Rees)")."""
    table = svc.table("officers")
    labels = {o: o for o in officers}
    if table.num_rows:
        mine = table.filter(pc.is_in(table["officer_id"], pa.array(officers, pa.string())))
        for row in mine.select(["officer_id", "rank", "name"]).to_pylist():
            who = " ".join(v for v in (row["rank"], row["name"]) if v)
            if who:
                labels[row["officer_id"]] = f"{row['officer_id']} ({who})"
    return labels


def review_json(
    svc: Services, case: Case, start: datetime, end: datetime, *, samples: int = 600
) -> dict[str, Any]:
    """Playback and timeline data of the case's subjects in [start, end]: their labels, the
    distance between each pair over time (`t`, and per pair `d`: metres or None where either
    position is unknown), stops, occasions, incidents raised, and each officer's duty,
    incidents attended, occasions and stops as timeline bands."""
    ref = case.ref
    tracks = svc.tracks(ref)
    max_gap = _setting(svc, ref, "max_gap_s")
    t0, t1 = start.timestamp(), end.timestamp()
    grid = playback.time_grid(t0, t1, samples)
    units = list(tracks.units)
    labels = officer_labels(svc, units)
    px, py = playback.positions_at(
        tracks.t_s, tracks.x, tracks.y, tracks.offsets, grid, max_gap_s=max_gap
    )
    pairs = []
    for a, b in itertools.combinations(range(min(len(units), MAX_PAIR_UNITS)), 2):
        d = np.hypot(px[a] - px[b], py[a] - py[b])
        pairs.append(
            {
                "a": units[a],
                "b": units[b],
                "d": [None if not np.isfinite(v) else round(float(v), 1) for v in d],
            }
        )
    found = playback.stops(
        tracks.t_s,
        tracks.x,
        tracks.y,
        tracks.offsets,
        units,
        radius_m=_setting(svc, ref, "stop_radius_m"),
        min_s=_setting(svc, ref, "stop_min_s"),
        max_gap_s=max_gap,
        within=(t0, t1),
    )
    stops = [
        {
            "unit": s.unit,
            "start": _iso(s.start_s),
            "end": _iso(s.end_s),
            "duration_s": round(s.end_s - s.start_s),
            "x": round(s.x, 1),
            "y": round(s.y, 1),
            "fixes": s.fixes,
        }
        for s in found
    ]
    occasions = [
        o
        for o in svc.occasions(ref)
        if datetime.fromisoformat(o["start"]) <= end and datetime.fromisoformat(o["end"]) >= start
    ]
    bands = playback.timeline_bands(
        {n: svc.table(n) for n in ("duty", "attachments", "incidents", "assignments")},
        units,
        start,
        end,
    )
    out_bands = [
        {
            **b,
            "start": b["start"].astimezone(UTC).isoformat(),
            "end": b["end"].astimezone(UTC).isoformat(),
        }
        for b in bands
    ]
    for o in occasions:
        for unit in (o["officer_a"], o["officer_b"]):
            if unit in labels:
                other = o["officer_b"] if unit == o["officer_a"] else o["officer_a"]
                out_bands.append(
                    {
                        "officer_id": unit,
                        "kind": "occasion",
                        "start": o["start"],
                        "end": o["end"],
                        "label": f"with {labels.get(other, other)}",
                        "occasion_id": o["occasion_id"],
                        "finding": o.get("finding"),
                    }
                )
    for s in found:
        out_bands.append(
            {
                "officer_id": s.unit,
                "kind": "stop",
                "start": _iso(s.start_s),
                "end": _iso(s.end_s),
                "label": f"stopped {round((s.end_s - s.start_s) / 60)} min",
            }
        )
    return {
        "start": start.astimezone(UTC).isoformat(),
        "end": end.astimezone(UTC).isoformat(),
        "units": [{"unit": u, "label": labels[u]} for u in units],
        "t": np.round(grid).astype(np.int64).tolist(),
        "pairs": pairs,
        "stops": stops,
        "occasions": [
            {k: o[k] for k in ("occasion_id", "start", "end", "officer_a", "officer_b", "x", "y")}
            | {"finding": o.get("finding")}
            for o in occasions
        ],
        "incidents": svc.incidents(start, end),
        "bands": out_bands,
        "band_kinds": list(playback.BAND_KINDS),
        "max_gap_s": max_gap,
        "distance_m": _setting(svc, ref, "distance_m"),
    }


def near_json(
    svc: Services, case: Case, at: datetime, x: float, y: float, distance_m: float
) -> dict[str, Any]:
    """Every officer of the case whose likely position at `at` was within `distance_m` of
    (x, y), nearest first, with how far and where."""
    tracks = svc.tracks(case.ref)
    max_gap = _setting(svc, case.ref, "max_gap_s")
    hits = playback.near(
        tracks.t_s,
        tracks.x,
        tracks.y,
        tracks.offsets,
        list(tracks.units),
        at=at.timestamp(),
        point=(x, y),
        distance_m=distance_m,
        max_gap_s=max_gap,
    )
    labels = officer_labels(svc, list(tracks.units))
    return {
        "at": at.astimezone(UTC).isoformat(),
        "x": x,
        "y": y,
        "distance_m": distance_m,
        "searched": [labels[u] for u in tracks.units],
        "officers": [{**h, "label": labels[h["unit"]]} for h in hits],
    }


def export_bytes(svc: Services, ref: str, fmt: str) -> tuple[bytes, str]:
    """The case's current run written by `exports` as `fmt`: (bytes, file name). The caller
    has checked and audited the export."""
    from whereabouts.exports import SUFFIXES, export_case

    name = f"{ref}{SUFFIXES.get(fmt, '')}" if fmt != "i2" else f"{ref}-i2.csv"
    with tempfile.TemporaryDirectory(prefix="whereabouts-export-") as tmp:
        out = Path(tmp) / name
        export_case(svc.workspace, ref, fmt, out, user=None)
        return out.read_bytes(), name


__all__ = ["DEFAULT_NEAR_M", "export_bytes", "near_json", "officer_labels", "review_json"]
