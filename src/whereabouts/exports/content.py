"""What a case export holds: the case's current run (occasions, tracks), read only after the
case store has checked the user's role, membership and the case's scope and audited the read.

    data = load_case(ws, "PSD-2024-001", user="")       # audited as "export"
    segments = track_segments(data.tracks, data.max_gap_s)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from whereabouts.settings import default
from whereabouts.vocabulary import FLAG_WORDS, REASON_SHORT

FINDING_WORDS = {True: "policing reason found", False: "no policing reason found"}
# The three findings of a run (analysis.assessability): "no policing reason found" only for
# no_reason_found.
FINDINGS_IN_WORDS = {
    "reason_found": "policing reason found",
    "no_reason_found": "no policing reason found",
    "not_assessable": "not assessable",
}


@dataclass(frozen=True)
class CaseData:
    """One case's occasions and tracks (from its current run), with the run's settings."""

    case_ref: str
    run_dir: Path
    occasions: pa.Table
    tracks: pa.Table
    subjects: tuple[str, ...]
    period: tuple[str, str]
    crs: str
    max_gap_s: float
    version: str


@dataclass(frozen=True)
class Segment:
    """A stretch of one device's track with no gap longer than the run's max_gap_s."""

    officer_id: str
    device_id: str
    times: np.ndarray  # datetime64[us], UTC
    lon: np.ndarray
    lat: np.ndarray


def load_case(workspace: Path, case_ref: str, *, user: str | None) -> CaseData:
    """The case's current run, after the case store allows and audits the export.

    `user` '' means WHEREABOUTS_USER or the OS user; None skips the check (the caller did it).
    """
    from whereabouts.store.runs import RunStore

    workspace = Path(workspace)
    run = RunStore(workspace).current(case_ref)
    summary = run.summary
    subjects = summary.subjects
    period = (summary.period.start.isoformat(), summary.period.end.isoformat())
    if user is not None:
        _authorise(workspace, case_ref, user, subjects, *period)
    occasions = run.table("occasions")
    tracks = (
        pq.read_table(
            run.file("tracks.parquet"), columns=["officer_id", "device_id", "time", "lat", "lon"]
        )
        if run.has("tracks")
        else pa.table(
            {
                "officer_id": pa.array([], pa.string()),
                "device_id": pa.array([], pa.string()),
                "time": pa.array([], pa.timestamp("us", tz="UTC")),
                "lat": pa.array([], pa.float64()),
                "lon": pa.array([], pa.float64()),
            }
        )
    )
    return CaseData(
        case_ref,
        run.path,
        occasions.sort_by([("start", "ascending"), ("occasion_id", "ascending")]),
        tracks,
        subjects,
        period,
        summary.crs,
        float(summary.setting("max_gap_s", default("max_gap_s"))),
        summary.version,
    )


def _authorise(
    workspace: Path, case_ref: str, user: str, subjects: tuple[str, ...], start: str, end: str
) -> None:
    from whereabouts.case import CaseStore

    store = CaseStore.open(workspace)
    try:
        who = store.current_user(user or None)
        store.record_read(
            who.username, case_ref, subjects, start, end, what="export", action="export"
        )
    finally:
        store.close()


def track_segments(tracks: pa.Table, max_gap_s: float) -> list[Segment]:
    """Each officer's devices' tracks cut where fixes are more than `max_gap_s` apart
    (the position is unknown across such a gap), sorted by officer, device and time."""
    if not tracks.num_rows:
        return []
    t = tracks.sort_by(
        [("officer_id", "ascending"), ("device_id", "ascending"), ("time", "ascending")]
    )
    officer = np.asarray(t["officer_id"].to_numpy(zero_copy_only=False), dtype=object)
    device = np.asarray(t["device_id"].to_numpy(zero_copy_only=False), dtype=object)
    times = np.asarray(pc.cast(t["time"], pa.timestamp("us")).to_numpy(), "datetime64[us]")
    lat = np.asarray(t["lat"].to_numpy(), float)
    lon = np.asarray(t["lon"].to_numpy(), float)
    step = np.diff(times).astype(np.int64) / 1e6
    cut = (officer[1:] != officer[:-1]) | (device[1:] != device[:-1]) | (step > max_gap_s)
    starts = np.concatenate([[0], np.flatnonzero(cut) + 1])
    ends = np.concatenate([starts[1:], [len(times)]])
    return [
        Segment(str(officer[a]), str(device[a]), times[a:b], lon[a:b], lat[a:b])
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def utc_text(t: datetime | np.datetime64) -> str:
    """ISO 8601 in UTC to the second, with Z: 2024-03-25T07:00:01Z."""
    if isinstance(t, np.datetime64):
        return str(t.astype("datetime64[s]")) + "Z"
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def facts(row: dict[str, Any]) -> dict[str, str]:
    """An occasion's facts in words and plain numbers, in the order people read them."""
    reasons = [REASON_SHORT.get(r, r) for r in row.get("reasons") or []]
    flags = [FLAG_WORDS.get(f, f) for f in row.get("flags") or []]
    out = {
        "occasion": str(row["occasion_id"]),
        "officers": f"{row['officer_a']} and {row['officer_b']}",
        "start": utc_text(row["start"]),
        "end": utc_text(row["end"]),
        "duration_min": f"{float(row['duration_s']) / 60:.0f}",
        "finding": (
            FINDINGS_IN_WORDS[str(row["finding"])]
            if row.get("finding")
            else FINDING_WORDS[bool(row.get("explained"))]
        ),
        "reasons": "; ".join(reasons) or "none found",
        "flags": "; ".join(flags) or "none",
        "not_assessed": "; ".join(row.get("not_assessed") or []),
        "where": str(row.get("where_text") or ""),
        "grid_ref": str(row.get("grid_ref") or ""),
        "closest_m": _num(row.get("min_separation_m")),
        "confidence": str(row.get("confidence") or ""),
        "unavailable_min": _num(row.get("unavailable_min")),
    }
    return out


def _num(v: float | None) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{float(v):.0f}"


def evidence_details(row: dict[str, Any]) -> list[str]:
    """The evidence sentences of an occasion (its `evidence` JSON)."""
    try:
        items = json.loads(row.get("evidence") or "[]")
    except ValueError:
        return []
    return [str(i.get("detail")) for i in items if isinstance(i, dict) and i.get("detail")]


__all__ = [
    "FINDING_WORDS",
    "CaseData",
    "Segment",
    "evidence_details",
    "facts",
    "load_case",
    "track_segments",
    "utc_text",
]
