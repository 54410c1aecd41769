"""A result folder: a table as Parquet parts and a manifest, the manifest written last.

Both backends write the same layout, and `read_result` reads either:

```
out/
  gen-1/                   one generation of the result:
    part-00000-….parquet   the rows, in parts (Spark: one per task, each holding whole
    part-00001-….parquet   pairs; the embedded engine: runs of the sorted table); each part
    …                      sorted by the table's sort keys
  manifest.json            written last, atomically: the commit point
```

The manifest lists every part (by its path under the folder) with its size in bytes, the
row count, the sort keys and the table's Arrow schema with its provenance metadata
(parameters, CRS, software, counts). A folder without a manifest, or whose parts do not
match it, is not a result: a job stopped part-way (killed, out of memory, a machine lost)
leaves nothing that reads as complete.

A result written over an older one goes into the next generation (`gen-2/`, …) beside it;
the old generation stays complete and readable until the new manifest replaces the old one
in one rename, and is deleted only after. A job stopped part-way therefore leaves the old
result as it was, never a mixture; its half-written generation is cleared by the next write.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from whereabouts.errors import InputError, WorkspaceError

MANIFEST = "manifest.json"
FORMAT = "whereabouts-result/1"
ROWS_PER_PART = 1_000_000
PAIR_ORDER = ("device_a", "device_b", "start")


@dataclass(frozen=True)
class Part:
    """One Parquet file of a result: its name in the folder and its size in bytes."""

    path: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    """What a complete result folder holds (see the module's docstring)."""

    table: str
    rows: int
    parts: tuple[Part, ...]
    sort_by: tuple[str, ...]
    schema: pa.Schema
    written_by: str

    def to_json(self) -> str:
        """The manifest as JSON text."""
        meta = self.schema.metadata or {}
        about = json.loads(meta[b"whereabouts"]) if b"whereabouts" in meta else None
        return (
            json.dumps(
                {
                    "format": FORMAT,
                    "table": self.table,
                    "rows": self.rows,
                    "parts": [{"path": p.path, "bytes": p.bytes} for p in self.parts],
                    "sort_by": list(self.sort_by),
                    "written_by": self.written_by,
                    "metadata": about,  # for people; the schema below is what readers use
                    "schema": base64.b64encode(self.schema.serialize().to_pybytes()).decode(),
                },
                indent=1,
                sort_keys=True,
            )
            + "\n"
        )

    @classmethod
    def from_json(cls, text: str, *, where: str) -> Manifest:
        """The manifest read from JSON text; `where` names its file in errors."""
        try:
            raw = json.loads(text)
            if raw.get("format") != FORMAT:
                raise ValueError(f"format {raw.get('format')!r}")
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(raw["schema"])))
            return cls(
                str(raw["table"]),
                int(raw["rows"]),
                tuple(Part(str(p["path"]), int(p["bytes"])) for p in raw["parts"]),
                tuple(raw["sort_by"]),
                schema,
                str(raw["written_by"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"the result's manifest cannot be read ({exc})",
                where=where,
                hint="write the result again",
            ) from exc


def manifest_bytes(manifest: Manifest) -> bytes:
    return manifest.to_json().encode()


def _sorted(table: pa.Table, sort_by: Sequence[str]) -> pa.Table:
    if not sort_by or table.num_rows < 2:
        return table
    return table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in sort_by]))


def is_result(folder: str | Path) -> bool:
    """Whether `folder` holds a complete result (its manifest is there)."""
    return (Path(folder) / MANIFEST).is_file()


GENERATION = "gen-"


def _ours(folder: Path) -> list[Path]:
    """What a result folder may hold: the manifest, generations, and (Spark's own)
    _SUCCESS, _temporary/ and .crc checksums; parts at the top from older versions."""
    return [
        p
        for p in folder.iterdir()
        if p.name.startswith(("part-", "_", ".part-", "._", ".manifest", GENERATION))
        or p.name == MANIFEST
    ]


def _current(folder: Path) -> set[str]:
    """The top-level names the folder's complete result uses (none if there is none)."""
    try:
        manifest = read_manifest(folder)
    except InputError:
        return set()
    return {MANIFEST} | {Path(p.path).parts[0] for p in manifest.parts}


def _remove(p: Path) -> None:
    if p.is_dir():
        import shutil

        shutil.rmtree(p)
    elif p.exists():
        p.unlink()


def next_generation(folder: Path) -> str:
    """Make `folder` ready for a new result beside its current one and name the new
    generation (`gen-N`, one past the highest there). Removes what no complete result
    uses (a stopped job's leftovers); refuses a folder holding other files, so a wrong
    --out never deletes someone's data."""
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(
            f"{folder} is a file, not a result folder",
            hint="give a new folder, or a path ending in .parquet for one file",
        )
    folder.mkdir(parents=True, exist_ok=True)
    ours = _ours(folder)
    others = sorted(p.name for p in folder.iterdir() if p not in ours)
    if others:
        raise WorkspaceError(
            f"{folder} holds files that are not a result's ({others[0]}, …)",
            hint="give an empty or new folder for the result",
        )
    keep = _current(folder)
    for p in ours:
        if p.name not in keep:
            _remove(p)
    numbers = [
        int(n[len(GENERATION) :])
        for n in keep
        if n.startswith(GENERATION) and n[len(GENERATION) :].isdigit()
    ]
    return f"{GENERATION}{max(numbers, default=0) + 1}"


def drop_old_generations(folder: Path) -> None:
    """After a new manifest is in place: remove what it does not use (the old generation)."""
    keep = _current(folder)
    if keep:
        for p in _ours(folder):
            if p.name not in keep:
                _remove(p)


def _fsync(path: Path) -> None:
    """On disk before the manifest names it (a power cut must not commit an empty part)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest_file(folder: Path, manifest: Manifest) -> None:
    """Write the manifest atomically (a temporary name, fsync, then rename)."""
    tmp = folder / f".manifest-{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(manifest_bytes(manifest))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / MANIFEST)


def write_result(
    table: pa.Table,
    folder: str | Path,
    *,
    sort_by: Sequence[str] = PAIR_ORDER,
    rows_per_part: int = ROWS_PER_PART,
) -> Manifest:
    """Write an engine table (with its metadata) as a result folder; the manifest last.

    Example: ``write_result(find_encounters(fixes), "out/encounters")``
    """
    folder = Path(folder)
    generation = next_generation(folder)
    (folder / generation).mkdir()
    table = _sorted(table, [k for k in sort_by if k in table.column_names])
    parts = []
    for i, start in enumerate(range(0, max(table.num_rows, 1), rows_per_part)):
        name = f"{generation}/part-{i:05d}.parquet"
        pq.write_table(table.slice(start, rows_per_part), folder / name)
        _fsync(folder / name)
        parts.append(Part(name, (folder / name).stat().st_size))
    manifest = Manifest(
        _table_name(table), table.num_rows, tuple(parts), tuple(sort_by), table.schema, "embedded"
    )
    write_manifest_file(folder, manifest)
    drop_old_generations(folder)
    return manifest


def _table_name(table: pa.Table) -> str:
    meta = table.schema.metadata or {}
    if b"whereabouts" in meta:
        return str(json.loads(meta[b"whereabouts"]).get("table", "table"))
    return "table"


def read_manifest(folder: str | Path) -> Manifest:
    """The manifest of a complete result folder; an error naming the fix when incomplete."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        leftovers = folder.is_dir() and any(folder.iterdir())
        raise InputError(
            "not a complete result: no manifest"
            + (" (the job that wrote it stopped before it finished)" if leftovers else ""),
            where=str(folder),
            hint="run the job again; a result is complete only once its manifest.json is written",
        )
    manifest = Manifest.from_json(path.read_text(), where=str(path))
    for part in manifest.parts:
        p = folder / part.path
        if not p.is_file() or p.stat().st_size != part.bytes:
            raise InputError(
                f"part {part.path} is missing or not the size the manifest "
                f"records ({part.bytes} bytes)",
                where=str(folder),
                hint="the result was changed after it was written; write it again",
            )
    return manifest


def read_result(folder: str | Path) -> pa.Table:
    """A result folder's table, as the engine returned it: the manifest's schema and
    metadata, rows in the sort order (so `engine.same_table` compares backends)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    schema = manifest.schema
    tables = [_conform(pq.read_table(folder / p.path), schema) for p in manifest.parts]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    if table.num_rows != manifest.rows:
        raise InputError(
            f"{table.num_rows} rows where the manifest records {manifest.rows}",
            where=str(folder),
            hint="the result is damaged; write it again",
        )
    return _sorted(table, manifest.sort_by).replace_schema_metadata(schema.metadata)


def _conform(part: pa.Table, schema: pa.Schema) -> pa.Table:
    """A part's columns as the schema's (Spark writes every column nullable, and its own
    metadata): the same values, the schema's types."""
    cols: list[Any] = [part[f.name].cast(f.type) for f in schema]
    return pa.Table.from_arrays(cols, schema=schema.remove_metadata())


__all__ = [
    "FORMAT",
    "MANIFEST",
    "PAIR_ORDER",
    "Manifest",
    "Part",
    "drop_old_generations",
    "is_result",
    "next_generation",
    "read_manifest",
    "read_result",
    "write_manifest_file",
    "write_result",
]
