"""Sources (each input file, its SHA-256, rows and what it covers) and each subject's
coverage (share of duty time with a known position, and the gaps)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from whereabouts import schema
from whereabouts.report.labels import Labels
from whereabouts.report.wording import duration, share, uk_date, uk_span

KIND_WORDS = {
    "fixes": "vehicle or radio positions", "lip": "radio location reports (TETRA LIP)",
    "gpx": "positions from a GPS track file", "nmea": "positions from a GPS receiver log",
    "devices": "the list of vehicles and radios", "officers": "the list of officers",
    "assignments": "who had which radio or vehicle, and when",
    "duty": "duty rosters", "incidents": "incidents from the dispatch log",
    "attachments": "who was sent to which incident", "places": "police premises and other places",
    "areas": "beat and sector boundaries",
}
_TIME_COLUMN = {"fixes": "time", "incidents": "created_at", "attachments": "dispatched_at",
                "duty": "start", "assignments": "start"}


@dataclass(frozen=True)
class Source:
    """One input file as the panel sees it."""

    name: str
    kind: str
    sha256: str
    rows: int | None
    covers: str
    check: str  # whether the hash matches the workspace's record


def _time_span(ws: Path, kind: str, file_id: str, tz: str) -> str:
    """The time span of a file's rows, from its Parquet statistics (no data is read)."""
    table = schema.KINDS.get(kind, kind)
    col = _TIME_COLUMN.get(table)
    path = ws / "tables" / table / f"{file_id}.parquet"
    if col is None or not path.exists():
        return ""
    meta = pq.ParquetFile(path).metadata
    try:
        i = meta.schema.to_arrow_schema().get_field_index(col)
    except KeyError:
        return ""
    lows, highs = [], []
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(i).statistics
        if stats is not None and stats.has_min_max:
            lows.append(stats.min)
            highs.append(stats.max)
    if not lows:
        return ""
    lo, hi = min(lows), max(highs)
    if not isinstance(lo, datetime) or not isinstance(hi, datetime):
        return ""
    return f"{uk_date(lo, tz)} to {uk_date(hi, tz)}" if uk_date(lo, tz) != uk_date(hi, tz) \
        else uk_date(lo, tz)


def sources(summary: dict[str, Any], manifest: list[dict[str, Any]], ws: Path, tz: str
            ) -> list[Source]:
    """Every input behind the analysis, with its hash checked against the manifest."""
    by_sha = {str(m.get("sha256")): m for m in manifest}
    listed = summary.get("inputs") or [
        {"file": m.get("name"), "sha256": m.get("sha256"),
         "rows": (m.get("counts") or {}).get("accepted"), "kind": m.get("kind")}
        for m in manifest]
    out = []
    for item in listed:
        sha = str(item.get("sha256") or "")
        m = by_sha.get(sha)
        kind = str(item.get("kind") or (m or {}).get("kind") or "")
        what = KIND_WORDS.get(kind, kind or "input")
        device = (m or {}).get("device_id")
        if device:
            what += f" from one device ({device})"
        span = _time_span(ws, kind, str((m or {}).get("file_id") or sha[:16]), tz)
        if m is None:
            check = "not found in the workspace's record of inputs"
        else:
            check = "matches the workspace's record"
        rows = item.get("rows")
        out.append(Source(
            name=Path(str(item.get("file") or item.get("name") or (m or {}).get("name") or "")
                      ).name,
            kind=kind, sha256=sha, rows=int(rows) if rows is not None else None,
            covers=f"{what}; {span}" if span else what, check=check))
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


def coverage(summary: dict[str, Any], labels: Labels, tz: str, max_gaps: int = 12
             ) -> list[Coverage]:
    """Each subject's coverage from summary.json, longest gaps first."""
    raw = summary.get("coverage") or {}
    items = raw.items() if isinstance(raw, dict) else (
        (str(r.get("officer_id")), r) for r in raw)
    out = []
    for officer, c in items:
        duty_s = float(c.get("duty_s") or 0)
        known_s = float(c.get("known_s") or 0)
        frac = c.get("share")
        frac = float(frac) if frac is not None else (known_s / duty_s if duty_s else float("nan"))
        gaps = sorted(c.get("gaps") or [], key=lambda g: -float(g.get("duration_s") or 0))
        texts = []
        for g in gaps[:max_gaps]:
            s, e = datetime.fromisoformat(g["start"]), datetime.fromisoformat(g["end"])
            texts.append(f"{uk_span(s, e, tz)} ({duration((e - s).total_seconds())})")
        out.append(Coverage(labels.of(officer), duration(duty_s), duration(known_s),
                            share(frac), texts, max(0, len(gaps) - max_gaps)))
    return sorted(out, key=lambda c: c.label)


__all__ = ["KIND_WORDS", "Coverage", "Source", "coverage", "sources"]
