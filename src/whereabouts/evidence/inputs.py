"""The inputs a case's run read, as a bundle carries them: each source file's original bytes
where the bundler has them and they are not too big, else the ingested rows the run could
read (within the case's period and the analysed officers' assignments) as Parquet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from whereabouts.errors import WorkspaceError
from whereabouts.evidence.caserun import CaseRun
from whereabouts.io.files import file_sha256

if TYPE_CHECKING:
    from whereabouts.store.workspace import Workspace

ROWS_NOTE = (
    "The original file was {why}, so this bundle holds the rows ingested from it "
    "that the case's run could read ({rows} of {accepted} accepted rows: {scope}) as "
    "Parquet, with the original's SHA-256. They are placed in the re-built workspace "
    "as ingested; the original's hash cannot be checked from them."
)


@dataclass(frozen=True)
class BundledInput:
    """One input of the run and how the bundle carries it."""

    entry: dict[str, Any]  # the workspace manifest's entry
    form: str  # "original" or "rows"
    path: Path  # the file to bundle
    name: str  # its path inside the bundle's data/
    note: str = ""
    rows: int | None = None

    def record(self, digest: str) -> dict[str, Any]:
        """The input as listed in the bundle, with its file's SHA-256."""
        e = self.entry
        return {
            "name": e.get("name"),
            "kind": e.get("kind"),
            "table": e.get("table"),
            "profile": e.get("profile"),
            "device_id": e.get("device_id"),
            "timezone": e.get("timezone"),
            "sha256": e.get("sha256"),
            "size": e.get("size"),
            "file_id": e.get("file_id"),
            "counts": e.get("counts"),
            "form": self.form,
            "bundled": self.name,
            "bundled_sha256": digest,
            "rows": self.rows,
            "note": self.note,
        }


def run_entries(manifest: list[dict[str, Any]], run: CaseRun) -> list[dict[str, Any]]:
    """The manifest entries of the inputs the run lists, in ingest order."""
    listed = {(str(i.get("sha256")), str(i.get("kind"))) for i in run.summary.get("inputs", [])}
    out = [e for e in manifest if (str(e.get("sha256")), str(e.get("kind"))) in listed]
    if len(out) != len(listed):
        raise WorkspaceError(
            f"the workspace no longer holds every input the run of case "
            f"{run.case_ref} read ({len(out)} of {len(listed)})",
            hint="bundle from the workspace the run was made in",
        )
    return out


def find_originals(folders: list[Path], entries: list[dict[str, Any]]) -> dict[str, Path]:
    """{sha256: path} of the original files found under `folders` (matched by size, then hash)."""
    by_size: dict[int, list[str]] = {}
    for e in entries:
        by_size.setdefault(int(e.get("size") or -1), []).append(str(e["sha256"]))
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            wanted = by_size.get(path.stat().st_size)
            if wanted and not all(w in found for w in wanted):
                digest = file_sha256(path)
                if digest in wanted:
                    found.setdefault(digest, path)
    return found


def scope_spans(workspace: Workspace, run: CaseRun) -> pa.Table:
    """`device_id, start, end`: where the run could read fixes — each device's assignments
    to the officers analysed (subjects and baseline group), widened as the analysis widens
    them, within the period and the tracks' margins."""
    from whereabouts.analysis.investigate import (
        TRACK_MARGIN,
        assigned_spans,
        baseline_group,
        load_inputs,
    )

    small = load_inputs(workspace, [], run.start, run.end)
    group: list[str] = []
    if run.baseline != "none":
        group, _ = baseline_group(small.officers, run.subjects, run.baseline)  # type: ignore[arg-type]
    everyone = group or run.subjects
    p = run.parameters
    pad = 2 * (float(p.get("max_gap_s", 300)) + float(p.get("merge_gap_s", 120)))
    return assigned_spans(small, everyone, run.start - TRACK_MARGIN, run.end + TRACK_MARGIN, pad)


def rows_within(table: pa.Table, spans: pa.Table) -> pa.Table:
    """The rows of a fixes table inside some span of their device, in their stored order."""
    from whereabouts.analysis.intervals import last_at_or_before
    from whereabouts.store.workspace import _merge_spans

    merged = _merge_spans(spans)  # disjoint, sorted by device_id then s0
    if merged.num_rows == 0 or table.num_rows == 0:
        return table.slice(0, 0)
    devices = pc.unique(merged.column("device_id"))
    scode = pc.index_in(merged.column("device_id"), value_set=devices).to_numpy()
    code = pc.index_in(table.column("device_id").cast(pa.string()), value_set=devices)
    known = pc.is_valid(code).to_numpy(zero_copy_only=False)
    fcode = pc.fill_null(code, 0).to_numpy().astype(np.int64)
    t = pc.cast(table.column("time"), pa.int64()).to_numpy()
    s0, s1 = merged.column("s0").to_numpy(), merged.column("s1").to_numpy()
    i = last_at_or_before(scode.astype(np.int64), s0, fcode, t)
    keep = known & (i >= 0) & (t < s1[np.maximum(i, 0)])
    return table.filter(pa.array(keep, pa.bool_()))


def plan_inputs(
    workspace: Workspace,
    run: CaseRun,
    entries: list[dict[str, Any]],
    originals: dict[str, Path],
    max_bytes: int,
    scratch: Path,
) -> list[BundledInput]:
    """How each input goes into the bundle; rows files are written into `scratch`."""
    spans: pa.Table | None = None
    out = []
    for e in entries:
        sha, file_id, name = str(e["sha256"]), str(e["file_id"]), str(e["name"])
        original = originals.get(sha)
        size = int(e.get("size") or 0)
        if original is not None and size <= max_bytes:
            out.append(BundledInput(e, "original", original, f"inputs/{file_id}/{name}"))
            continue
        why = (
            "not found in the folders given with --sources"
            if original is None
            else f"larger than the limit of {max_bytes / 1e6:g} MB for original files"
        )
        table_path = Path(workspace.path) / "tables" / str(e["table"]) / f"{file_id}.parquet"
        if not table_path.is_file():
            raise WorkspaceError(
                f"the workspace lacks the ingested rows of {name} "
                f"(tables/{e['table']}/{file_id}.parquet)",
                hint="restore the workspace from a backup, or give the original with --sources",
            )
        table = pq.read_table(table_path)
        if e["table"] == "fixes":
            if spans is None:
                spans = scope_spans(workspace, run)
            kept = rows_within(table, spans)
            scope = (
                "the fixes of devices while assigned to the officers analysed, widened "
                "by twice the gap and merge settings, in the period with 30 minutes "
                "either side"
            )
        else:
            kept = table
            scope = "the whole table, which every analysis reads"
        # One file can be ingested as several kinds (a GeoPackage's water, green, rail):
        # each kind's rows are a file of their own.
        target = scratch / f"{file_id}.{e['table']}.rows.parquet"
        pq.write_table(kept, target, compression="zstd")
        note = ROWS_NOTE.format(why=why, rows=kept.num_rows, accepted=table.num_rows, scope=scope)
        out.append(
            BundledInput(
                e,
                "rows",
                target,
                f"inputs/{file_id}/{e['table']}.rows.parquet",
                note,
                kept.num_rows,
            )
        )
    return out


__all__ = [
    "BundledInput",
    "find_originals",
    "plan_inputs",
    "rows_within",
    "run_entries",
    "scope_spans",
]
