"""Exports of a case for the investigator's other tools: KML, GeoJSON, GPX, CSV and an i2
Analyst's Notebook import file. Scoped to the case and audited like every read.

    result = export_case(Path("ws"), "PSD-2024-001", "kml", Path("case.kml"), user="")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from whereabouts.errors import ParameterError

Format = Literal["kml", "geojson", "gpx", "csv", "i2"]
FORMATS: tuple[str, ...] = get_args(Format)
SUFFIXES = {"kml": ".kml", "geojson": ".geojson", "gpx": ".gpx", "csv": ".csv", "i2": ".csv"}


@dataclass(frozen=True)
class ExportResult:
    """What was written: the file, its format and how many occasions it holds."""

    path: Path
    format: str
    occasions: int
    audit_head: str | None = None  # the audit head it was made at (also in OUT.audit)


def export_case(
    workspace: Path, case_ref: str, fmt: str, out: Path, *, user: str | None = ""
) -> ExportResult:
    """Write case `case_ref`'s current analysis as `fmt` to `out`, after the case store has
    checked the user (role, membership, scope) and audited the export.

    `user` '' is WHEREABOUTS_USER or the OS user; None skips the check (caller did it).
    """
    from whereabouts.exports.content import load_case
    from whereabouts.exports.formats import write_csv, write_geojson, write_gpx, write_kml
    from whereabouts.exports.i2 import write_i2

    writers = {
        "kml": write_kml,
        "geojson": write_geojson,
        "gpx": write_gpx,
        "csv": write_csv,
        "i2": write_i2,
    }
    if fmt not in writers:
        raise ParameterError(
            f"unknown export format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}"
        )
    suffix = Path(out).suffix.lower()
    if suffix != SUFFIXES[fmt] and not (fmt == "geojson" and suffix == ".json"):
        named = [f for f, x in SUFFIXES.items() if x == suffix]
        raise ParameterError(
            f"cannot write {Path(out).name} as {fmt}: the extension {suffix or '(none)'} "
            f"names another format"
            if named
            else f"cannot write {Path(out).name} as {fmt}: its extension {suffix or '(none)'} is "
            "not an export format",
            hint=f"name it …{SUFFIXES[fmt]}"
            + (f", or give --format {' or '.join(named)}" if named else "")
            + "; the formats: "
            + ", ".join(f"{f} ({x})" for f, x in SUFFIXES.items()),
        )
    data = load_case(Path(workspace), case_ref, user=user)
    n = writers[fmt](data, Path(out))
    head = None
    if user is not None:  # audited by load_case: state the head just after that entry
        from whereabouts.case import CaseStore
        from whereabouts.case.audit import state_anchor

        store = CaseStore.open(workspace)
        try:
            anchor = store.audit.anchor()
        finally:
            store.close()
        state_anchor(Path(out), anchor)
        head = anchor.statement
    return ExportResult(Path(out), fmt, n, head)


__all__ = ["FORMATS", "SUFFIXES", "ExportResult", "Format", "export_case"]
