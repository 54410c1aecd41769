"""Sources (each input file, its SHA-256, rows and what it covers) and each subject's
coverage (share of duty time with a known position, and the gaps)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from whereabouts import schema
from whereabouts.report.labels import Labels
from whereabouts.report.wording import duration, share, uk_date, uk_span
from whereabouts.spans import joined
from whereabouts.store import Workspace
from whereabouts.store.runs import InputRecord

KIND_WORDS = {
    "fixes": "vehicle or radio positions",
    "lip": "radio location reports (TETRA LIP)",
    "gpx": "positions from a GPS track file",
    "nmea": "positions from a GPS receiver log",
    "devices": "the list of vehicles and radios",
    "officers": "the list of officers",
    "assignments": "who had which radio or vehicle, and when",
    "duty": "duty rosters",
    "incidents": "incidents from the dispatch log",
    "attachments": "who was sent to which incident",
    "places": "police premises and other places",
    "areas": "beat and sector boundaries",
    "buildings": "building outlines (map context)",
    "water": "water (map context)",
    "green": "parks and green space (map context)",
    "rail": "railways (map context)",
    "addresses": "address points",
}
_TIME_COLUMN = {
    "fixes": "time",
    "incidents": "created_at",
    "attachments": "dispatched_at",
    "duty": "start",
    "assignments": "start",
}


@dataclass(frozen=True)
class Source:
    """One input file as the panel sees it."""

    name: str
    kind: str
    sha256: str
    rows: int | None
    covers: str
    check: str  # whether the hash matches the workspace's record


def time_bounds(ws: Workspace, kind: str, file_id: str) -> tuple[datetime, datetime] | None:
    """The first and last time of a file's rows, from its Parquet statistics (no data read)."""
    table = schema.KINDS.get(kind, kind)
    col = _TIME_COLUMN.get(table)
    if col is None:
        return None
    return ws.file_time_range(table, file_id, col)


def _time_span(
    ws: Workspace, kind: str, file_id: str, tz: str, recorded: list[str] | None = None
) -> str:
    """The time span of a file's rows: as recorded with the input (an evidence bundle that
    holds only some of its rows records the whole file's), else from its Parquet statistics."""
    span = (
        (datetime.fromisoformat(recorded[0]), datetime.fromisoformat(recorded[1]))
        if recorded
        else time_bounds(ws, kind, file_id)
    )
    if span is None:
        return ""
    lo, hi = span
    return (
        f"{uk_date(lo, tz)} to {uk_date(hi, tz)}"
        if uk_date(lo, tz) != uk_date(hi, tz)
        else uk_date(lo, tz)
    )


def sources(
    inputs: Sequence[InputRecord], manifest: list[dict[str, Any]], ws: Workspace, tz: str
) -> list[Source]:
    """Every input behind the analysis, with its hash checked against the manifest."""
    by_sha = {str(m.get("sha256")): m for m in manifest}
    listed = list(inputs) or [
        InputRecord(
            m.get("name"), m.get("sha256"), m.get("kind"), (m.get("counts") or {}).get("accepted")
        )
        for m in manifest
    ]
    out = []
    for item in listed:
        sha = str(item.sha256 or "")
        m = by_sha.get(sha)
        kind = str(item.kind or (m or {}).get("kind") or "")
        what = KIND_WORDS.get(kind, kind or "input")
        device = (m or {}).get("device_id")
        if device:
            what += f" from one device ({device})"
        span = _time_span(
            ws, kind, str((m or {}).get("file_id") or sha[:16]), tz, (m or {}).get("time_span")
        )
        if m is None:
            check = "not found in the workspace's record of inputs"
        else:
            check = "matches the workspace's record"
        rows = item.rows
        out.append(
            Source(
                name=Path(str(item.file or (m or {}).get("name") or "")).name,
                kind=kind,
                sha256=sha,
                rows=int(rows) if rows is not None else None,
                covers=f"{what}; {span}" if span else what,
                check=check,
            )
        )
    return sorted(out, key=lambda s: (s.kind, s.name, s.sha256))


@dataclass(frozen=True)
class Coverage:
    """One subject's coverage: share of duty time with a known position, and the gaps."""

    label: str
    duty: str
    known: str
    share: str
    gaps: list[str]
    more_gaps: int
    share_value: float = float("nan")


_US = 10**6
GRID_S = 30  # coverage is measured on a 30-second grid over duty time
MIN_GAP_S = 600  # gaps shorter than ten minutes are not listed one by one


def _merged(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping or touching intervals joined; inputs in any order."""
    j = joined(np.zeros(len(starts), np.int64), starts, ends)
    return j.start, j.end


def officer_coverage(
    fix_us: np.ndarray, duty_start_us: np.ndarray, duty_end_us: np.ndarray, max_gap_s: float
) -> tuple[float, float, list[tuple[int, int]]]:
    """(duty seconds, known seconds, gaps as (start_us, end_us)) for one officer.

    A position is known at an instant when a fix falls on it, or the fixes either side are
    at most `max_gap_s` apart (the interpolation rule of the analysis).
    """
    s, e = _merged(np.asarray(duty_start_us, np.int64), np.asarray(duty_end_us, np.int64))
    if not len(s):
        return 0.0, 0.0, []
    step = GRID_S * _US
    n = np.maximum((e - s + step - 1) // step, 1)
    which = np.repeat(np.arange(len(s)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    grid = s[which] + offset * step
    t = np.sort(np.asarray(fix_us, np.int64))
    if len(t):
        j = np.searchsorted(t, grid, side="right")
        prev = t[np.clip(j - 1, 0, len(t) - 1)]
        nxt = t[np.clip(j, 0, len(t) - 1)]
        known = (j > 0) & (((j < len(t)) & (nxt - prev <= max_gap_s * _US)) | (prev == grid))
    else:
        known = np.zeros(len(grid), bool)
    duty_s = float((e - s).sum() / _US)
    known_s = float(known.mean() * duty_s)
    # Runs of unknown grid points within one duty period are the gaps.
    unknown = ~known
    starts = unknown & np.r_[True, known[:-1] | (which[1:] != which[:-1])]
    ends = unknown & np.r_[known[1:] | (which[1:] != which[:-1]), True]
    g0, g1 = grid[starts], np.minimum(grid[ends] + step, e[which[ends]])
    return duty_s, known_s, list(zip(g0.tolist(), g1.tolist(), strict=True))


def coverage(
    tracks: pa.Table,
    duty: pa.Table,
    subjects: list[str],
    period: tuple[int, int],
    *,
    labels: Labels,
    tz: str,
    max_gap_s: float,
    max_gaps: int = 10,
) -> list[Coverage]:
    """Each subject's share of rostered duty time in the period with a known position."""
    out = []
    t_off = (
        np.asarray(tracks["officer_id"].to_pylist(), object)
        if tracks.num_rows
        else np.empty(0, object)
    )
    t_us = tracks["time"].cast(pa.int64()).to_numpy() if tracks.num_rows else np.empty(0, np.int64)
    d_off = np.asarray(duty["officer_id"].to_pylist(), object) if duty.num_rows else t_off[:0]
    d_s = duty["start"].cast(pa.int64()).to_numpy() if duty.num_rows else t_us[:0]
    d_e = duty["end"].cast(pa.int64()).to_numpy() if duty.num_rows else t_us[:0]
    lo, hi = period
    for officer in sorted(subjects, key=labels.of):
        m = d_off == officer
        s, e = np.clip(d_s[m], lo, hi), np.clip(d_e[m], lo, hi)
        keep = e > s
        duty_s, known_s, gaps = officer_coverage(
            t_us[t_off == officer], s[keep], e[keep], max_gap_s
        )
        gaps = sorted(
            (g for g in gaps if g[1] - g[0] >= MIN_GAP_S * _US), key=lambda g: (g[0] - g[1], g[0])
        )
        texts = [
            f"{uk_span(_dt(a), _dt(b), tz)} ({duration((b - a) / _US)})" for a, b in gaps[:max_gaps]
        ]
        frac = known_s / duty_s if duty_s else float("nan")
        out.append(
            Coverage(
                labels.of(officer),
                duration(duty_s) if duty_s else "no duty recorded",
                duration(known_s),
                share(frac),
                texts,
                max(0, len(gaps) - max_gaps),
                frac,
            )
        )
    return out


def _dt(us: int) -> datetime:
    return datetime.fromtimestamp(us / _US, UTC)


__all__ = [
    "KIND_WORDS",
    "Coverage",
    "Source",
    "coverage",
    "officer_coverage",
    "sources",
    "time_bounds",
]
