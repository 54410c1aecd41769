"""The workspace: a folder of read-only Parquet tables, a manifest of every input, a DuckDB
catalog over them. Layout and API as docs/architecture.md ("store") describes.

Ingest streams each input in chunks (projecting positions into the workspace CRS and
writing Parquet incrementally), then merges exact duplicates, so memory stays bounded
whatever the file's size.

Crash safety: every file is written under a temporary name and renamed (`store.atomic`);
`manifest.json` is the commit point, and views read only the files it lists. An ingest
first records itself in `ingest.json`; if it never reaches the manifest, the next open of
the workspace (when no ingest is under way) removes what it left and notes that in
`recovery.json`, which `status` shows.
"""

from __future__ import annotations

import contextlib
import errno
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from whereabouts import __version__, progress, schema
from whereabouts.arrays import mask
from whereabouts.errors import (
    InputError,
    Location,
    ParameterError,
    WhereaboutsError,
    WorkspaceError,
)
from whereabouts.io.read import open_input, require_file
from whereabouts.io.result import QUARANTINE
from whereabouts.io.tabular import Chunk, Mode, Reread, digest
from whereabouts.io.times import DEFAULT_TIMEZONE
from whereabouts.spans import joined
from whereabouts.store import atomic, catalog, recovery
from whereabouts.store.dedupe import DuplicateFinder
from whereabouts.store.lock import exclusive
from whereabouts.store.readahead import ReadAhead
from whereabouts.store.settings import read_manifest, read_settings
from whereabouts.tracks.projection import BNG, normalise_crs, to_projected
from whereabouts.vocabulary import InputKind

POSITIONED = ("fixes", "incidents", "places", "addresses")
# Dictionary-encode repetitive text only; coordinates and times gain nothing from it.
_DICTIONARY = ["device_id", "source", "src_file", "kind", "officer_id", "duty_type", "category"]
SORT_ROWS = 1 << 21  # ingest sorts fixes by device and time in runs of about this many rows
ROW_GROUP_ROWS = 1 << 14  # and writes them in row groups of at most this many
READ_THREADS = 2  # parts of the fixes files read at once (fixes_within_many)
_SLICE_GROUPS = 8  # row groups gathered at a time while the ones before are written


@dataclass
class IngestReport:
    """What happened to one input file."""

    file: str
    kind: str
    table: str
    file_id: str
    sha256: str
    counts: dict[str, int]
    skipped: bool = False  # the same file was ingested before: nothing done
    quarantine: str | None = None
    notes: list[str] = field(default_factory=list)
    failed: str | None = None  # why the file was not ingested (nothing of it was kept)
    supersedes: dict[str, Any] | None = None  # the manifest entry this ingest replaced

    @property
    def outcome(self) -> str:
        """ingested, already ingested, or failed."""
        return "failed" if self.failed else "already ingested" if self.skipped else "ingested"

    def summary(self) -> str:
        """One line for people: read = accepted + duplicates + quarantined."""
        if self.failed:
            return f"{self.file}: FAILED, nothing of it ingested: {self.failed}"
        if self.skipped:
            return (
                f"{self.file}: already ingested as {self.kind} (sha256 "
                f"{self.sha256[:16]}); nothing to do"
            )
        c = self.counts
        text = (
            f"{self.file}: read {c['read']} = accepted {c['accepted']} + duplicates "
            f"{c['duplicates']} + quarantined {c['quarantined']}"
        )
        if c["quarantined"]:
            text += f"; quarantine: {self.quarantine}"
        return text

    def problems(self, limit: int = 8) -> list[str]:
        """The quarantined rows grouped by reason, most first: `N × reason (first at
        file:line, column 'c')` (never the raw row; `whereabouts quarantine` shows those)."""
        if self.skipped or self.failed or not self.quarantine or not self.counts.get("quarantined"):
            return []
        rows = pq.read_table(self.quarantine, columns=["line", "column", "reason"])
        rows = rows.append_column("n", pa.array(np.arange(rows.num_rows)))
        groups = rows.group_by("reason").aggregate([("n", "count"), ("n", "min")])
        groups = groups.sort_by([("n_count", "descending"), ("n_min", "ascending")])
        name = Path(self.file).name
        out = []
        for g in groups.slice(0, limit).to_pylist():
            first = rows.slice(g["n_min"], 1).to_pylist()[0]
            out.append(
                f"{g['n_count']} × {g['reason']} (first at "
                f"{Location(name, first['line'], first['column'])})"
            )
        if groups.num_rows > limit:
            rest = sum(groups["n_count"].to_pylist()[limit:])
            out.append(f"… and {rest} rows for {groups.num_rows - limit} other reasons")
        return out


class Workspace:
    """A workspace folder. Create with `Workspace.init`, open with `Workspace.open`."""

    def __init__(self, path: Path, settings: dict[str, Any]) -> None:
        self.path = path
        self.settings = settings

    # -- creation ---------------------------------------------------------------------
    @classmethod
    def init(
        cls, path: Path | str, *, crs: str = BNG, timezone: str = DEFAULT_TIMEZONE
    ) -> Workspace:
        """Create an empty workspace at `path` (a new or empty folder)."""
        path = Path(path)
        if (path / "workspace.json").exists():
            raise WorkspaceError(
                f"{path} is already a workspace", hint="open it, or choose another folder"
            )
        if path.exists() and not path.is_dir():
            raise WorkspaceError(
                f"{path} is a file, not a folder",
                hint="give a new or empty folder for the workspace",
            )
        if path.exists() and any(path.iterdir()):
            raise WorkspaceError(
                f"{path} is not empty", hint="give a new or empty folder for the workspace"
            )
        _check_zone(timezone)
        settings = {
            "crs": normalise_crs(crs),
            "timezone": timezone,
            "created": _now(),
            "version": __version__,
        }
        for sub in ("tables", "quarantine", "runs"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        atomic.write_json(path / "workspace.json", settings)
        atomic.write_json(path / "manifest.json", {"inputs": []})
        ws = cls(path, settings)
        ws._write_catalog()
        return ws

    @classmethod
    def open(cls, path: Path | str) -> Workspace:
        """Open an existing workspace."""
        path = Path(path)
        ws = cls(path, read_settings(path))
        ws.recover()
        return ws

    # -- properties -------------------------------------------------------------------
    @property
    def crs(self) -> str:
        """The workspace's CRS."""
        return str(self.settings["crs"])

    @property
    def timezone(self) -> str:
        """The workspace's time zone (IANA name)."""
        return str(self.settings["timezone"])

    @property
    def manifest(self) -> list[dict[str, Any]]:
        """One entry per ingested input (see docs/architecture.md)."""
        return read_manifest(self.path)

    def files(self, table: str) -> list[Path]:
        """The committed Parquet files of `table` (those the manifest lists), by file id."""
        return committed(self.path, table, self.manifest)

    def listing(self) -> dict[str, list[Path]]:
        """The committed Parquet files of every canonical table."""
        manifest = self.manifest
        return {t: committed(self.path, t, manifest) for t in schema.TABLES}

    # -- crash recovery (store.recovery) ------------------------------------------------
    def recover(self) -> list[dict[str, Any]]:
        """Roll back what an interrupted ingest left, unless an ingest is under way now."""
        return recovery.recover(self.path)

    def recoveries(self) -> list[dict[str, Any]]:
        """What opening the workspace repaired after crashes (recovery.json), oldest first."""
        return recovery.recoveries(self.path)

    def check(self) -> list[str]:
        """Damage recovery cannot repair; empty when manifest, files and views agree."""
        return recovery.check(self.path)

    # -- reading ----------------------------------------------------------------------
    def connect(self, tables: Sequence[str] | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection (UTC) with one view per canonical table, over the
        committed files only (of `tables` only when given: the others are empty)."""
        if tables is None:
            return catalog.connect(self.listing())
        manifest = self.manifest
        return catalog.connect({t: committed(self.path, t, manifest) for t in tables})

    def table(self, name: str) -> pa.Table:
        """A canonical table with its schema."""
        if name not in schema.TABLES:
            raise WorkspaceError(
                f"unknown table {name!r}", hint=f"use one of {', '.join(schema.TABLES)}"
            )
        return self._query(name, f'SELECT * FROM "{name}"', {})  # noqa: S608  # name: one of schema.TABLES

    def tables(self, names: Sequence[str]) -> dict[str, pa.Table]:
        """Several whole canonical tables, read through one connection."""
        unknown = [n for n in names if n not in schema.TABLES]
        if unknown:
            raise WorkspaceError(
                f"unknown tables {unknown}", hint=f"use some of {', '.join(schema.TABLES)}"
            )
        con = self.connect(names)
        try:
            return {
                n: con.sql(f'SELECT * FROM "{n}"')  # noqa: S608  # names from schema.TABLES; values as parameters
                .to_arrow_table()
                .select(schema.TABLES[n].names)
                .cast(schema.TABLES[n])
                for n in names
            }
        finally:
            con.close()

    def fixes(
        self,
        devices: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pa.Table:
        """Fixes of `devices` with start <= time < end, filtered inside DuckDB's Parquet scan."""
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if devices is not None:
            clauses.append("list_contains($devices, device_id)")
            params["devices"] = [str(d) for d in devices]
        if start is not None:
            clauses.append("time >= $start")
            params["start"] = start
        if end is not None:
            clauses.append("time < $end")
            params["end"] = end
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return self._query(
            "fixes",
            f"SELECT * FROM fixes{where} ORDER BY device_id, time",  # noqa: S608  # names from schema.TABLES; values as parameters
            params,
        )

    def fixes_within(self, spans: pa.Table, columns: Sequence[str] | None = None) -> pa.Table:
        """Fixes of each span's device with start <= time < end, sorted by device_id, time.

        spans: device_id, start, end (timestamps; overlapping spans are fine). Only the
        Parquet row groups whose statistics (device and time ranges) can hold such fixes are
        read, so a few devices' shifts over months read a small part of a force's fixes
        (ingest writes fixes sorted by device and time in short runs); of those, device and
        time are read first, the other columns only of row groups with a fix inside.
        columns: those to return (default all; the rows are in device and time order
        whichever are chosen); ties of device and time keep the files' order.
        """
        return fixes_within_files(self.files("fixes"), spans, columns)

    def fixes_within_many(
        self, wanted: Sequence[tuple[pa.Table, Sequence[str] | None]]
    ) -> list[pa.Table]:
        """`fixes_within(spans, columns)` of each (spans, columns) in `wanted`, from one pass
        over the files (a row group several need is read once): the same tables."""
        return fixes_within_many(self.files("fixes"), wanted)

    def file_time_range(
        self, table: str, file_id: str, column: str
    ) -> tuple[datetime, datetime] | None:
        """(earliest, latest) of `column` in one ingested file's rows of `table`, from the
        Parquet statistics (no rows are read); None when the file or statistics are absent."""
        path = self.path / "tables" / table / f"{file_id}.parquet"
        if not path.exists():
            return None
        meta = pq.ParquetFile(path).metadata
        try:
            i = meta.schema.to_arrow_schema().get_field_index(column)
        except KeyError:
            return None
        lows, highs = [], []
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(i).statistics
            if stats is not None and stats.has_min_max:
                lows.append(stats.min)
                highs.append(stats.max)
        if not lows:
            return None
        lo, hi = min(lows), max(highs)
        if not isinstance(lo, datetime) or not isinstance(hi, datetime):
            return None
        return lo, hi

    def table_stamp(self, name: str) -> tuple[str, ...]:
        """A key that changes when rows are added to `name` (its committed files, which
        never change once written), for callers that cache what they make from a table."""
        return tuple(f.name for f in self.files(name))

    def _query(self, name: str, sql: str, params: dict[str, Any]) -> pa.Table:
        con = self.connect([name])
        try:
            result = con.sql(sql, params=params or None).to_arrow_table()
        finally:
            con.close()
        return result.select(schema.TABLES[name].names).cast(schema.TABLES[name])

    # -- ingest -----------------------------------------------------------------------
    def ingest(
        self,
        kind: str,
        paths: Sequence[Path | str],
        profile: str | None = None,
        device_id: str | None = None,
        timezone: str | None = None,
        *,
        keep_going: bool = False,
        on_wait: Callable[[float], None] | None = None,
        supersede: bool = False,
    ) -> list[IngestReport]:
        """Ingest input files of one kind; a file ingested before (same SHA-256) is skipped.

        With `keep_going` a file that cannot be ingested (its InputError, ParameterError …)
        is reported as failed, with why, and the next file is read; otherwise it raises.
        `on_wait(timeout_s)` is called if another process holds the workspace's lock.
        With `supersede`, a file ingested before is read again with the device id, time zone
        or profile given now; the earlier ingest stays in the workspace as evidence (its
        table file and manifest entry, marked `superseded_by`) but no view reads it.
        """
        if timezone is not None:
            _check_zone(timezone)  # before any file: a zone only naive times would use
        if kind == "map":  # every map layer a file holds, each ingested as its own kind
            from whereabouts.io.read import map_kinds

            return [
                r
                for p in paths
                for k in map_kinds(p)
                for r in self.ingest(
                    k,
                    [p],
                    profile,
                    device_id,
                    timezone,
                    keep_going=keep_going,
                    on_wait=on_wait,
                    supersede=supersede,
                )
            ]
        reports: list[IngestReport] = []
        try:
            with exclusive(self.path / ".lock", on_wait=on_wait):
                if recovery.recover_locked(self.path):
                    self._write_catalog()
                try:
                    for path in map(Path, paths):
                        try:
                            reports.append(
                                self._ingest_one(
                                    kind, path, profile, device_id, timezone, supersede
                                )
                            )
                        except (WhereaboutsError, OSError) as exc:
                            if not keep_going:
                                raise
                            problem = (
                                exc
                                if isinstance(exc, WhereaboutsError)
                                else self._os_error(exc, [])
                            )
                            if problem is None or (
                                isinstance(exc, OSError)
                                and exc.errno in (errno.ENOSPC, errno.EDQUOT)
                            ):
                                raise  # the workspace's fault: no later file would fare better
                            reports.append(
                                IngestReport(
                                    str(path),
                                    kind,
                                    schema.KINDS.get(kind, kind),
                                    "",
                                    "",
                                    {"read": 0, "accepted": 0, "duplicates": 0, "quarantined": 0},
                                    failed=str(problem),
                                )
                            )
                finally:
                    # a convenience copy of the views; the manifest holds the truth
                    with contextlib.suppress(OSError, duckdb.Error):
                        self._write_catalog()
        except OSError as exc:
            problem = self._os_error(exc, reports)
            if problem is None:
                raise
            raise problem from exc
        return reports

    def _os_error(self, exc: OSError, done: list[IngestReport]) -> WhereaboutsError | None:
        """An operating-system refusal as a message: the workspace's or the input's fault."""
        ingested = f" ({len(done)} file(s) before it were ingested)" if done else ""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc):
            return WorkspaceError(
                f"{self.path}: the disk is full; the file being ingested was rolled back "
                f"and nothing of it is counted{ingested}",
                hint="free space on the workspace's disk (or move the workspace), then "
                "ingest the file again",
            )
        if exc.filename is None:
            return None
        what = exc.strerror or type(exc).__name__
        target = Path(str(exc.filename)).resolve()
        if target.is_relative_to(self.path.resolve()):
            return WorkspaceError(
                f"{self.path}: cannot write to the workspace: {what}{ingested}",
                hint="ingest as a user who may write to the workspace folder, or make it "
                "writable (ingested tables stay read-only), and check the disk has room",
            )
        return InputError(
            f"cannot read the file: {what}{ingested}",
            where=str(exc.filename),
            hint="check the file's permissions, or copy it somewhere readable",
        )

    def _superseded(
        self,
        kind: str,
        path: Path,
        sha: str,
        profile: str | None,
        device_id: str | None,
        timezone: str | None,
    ) -> tuple[str, dict[str, Any] | None]:
        """The file id of a superseding ingest and the earlier entry it supersedes."""
        earlier = [e for e in self.manifest if e["sha256"] == sha and e["kind"] == kind]
        if not earlier:
            return sha[:16], None
        old = next((e for e in earlier if not e.get("superseded_by")), None)
        zone_now = timezone or _profile_zone(profile) or self.timezone
        if old is not None and (old.get("device_id"), old.get("timezone"), old.get("profile")) == (
            device_id,
            zone_now,
            profile,
        ):
            raise ParameterError(
                f"{path}: ingested before with this device id, time zone and profile; "
                "superseding it would change nothing",
                hint="give the corrected --device-id or --timezone",
            )
        return f"{sha[:16]}-{len(earlier) + 1}", old  # the earlier file stays, as evidence

    def _ingest_one(
        self,
        kind: str,
        path: Path,
        profile: str | None,
        device_id: str | None,
        timezone: str | None,
        supersede: bool = False,
    ) -> IngestReport:
        require_file(path)
        # The file is hashed in a thread while its first chunks are read: nothing is
        # written before the hash shows the file is new (see store.readahead).
        with ThreadPoolExecutor(max_workers=1) as hasher:
            hashed = hasher.submit(digest, path)
            ahead = ReadAhead(
                lambda: open_input(
                    kind,
                    path,
                    profile=profile,
                    device_id=device_id,
                    timezone=timezone or _profile_zone(profile) or self.timezone,
                    crs=self.crs,
                    physical_lines=lambda: hashed.result()[2],
                ),
                until=hashed,
            )
            try:
                sha, size, _lines = hashed.result()
                return self._ingest_hashed(
                    kind,
                    path,
                    profile,
                    device_id,
                    timezone,
                    supersede=supersede,
                    sha=sha,
                    size=size,
                    ahead=ahead,
                )
            finally:
                ahead.close()

    def _ingest_hashed(
        self,
        kind: str,
        path: Path,
        profile: str | None,
        device_id: str | None,
        timezone: str | None,
        *,
        supersede: bool,
        sha: str,
        size: int,
        ahead: ReadAhead,
    ) -> IngestReport:
        """`_ingest_one` once the file's hash is known; `ahead` holds what was read."""
        table = schema.KINDS.get(kind, kind)
        file_id, old = sha[:16], None  # old: the earlier ingest this one supersedes
        if supersede:
            file_id, old = self._superseded(kind, path, sha, profile, device_id, timezone)
        for entry in self.manifest:
            if entry["sha256"] == sha and entry["kind"] == kind and not supersede:
                return IngestReport(
                    str(path), kind, table, file_id, sha, dict(entry["counts"]), skipped=True
                )
            if (
                entry["sha256"] == sha
                and entry["kind"] != kind
                and not (kind in schema.MAP_KINDS and entry["kind"] in schema.MAP_KINDS)
            ):
                raise WorkspaceError(
                    f"{path}: this file was ingested before as {entry['kind']}, not {kind}",
                    hint="one file holds one kind of input; check --kind",
                )
        zone = timezone or _profile_zone(profile) or self.timezone
        source = ahead.source()
        final = self.path / "tables" / table / f"{file_id}.parquet"
        if final.exists():  # committed once, but manifest.json no longer lists it
            raise WorkspaceError(
                f"{final} exists already; ingested data is never overwritten",
                hint="manifest.json and tables/ disagree (see `whereabouts "
                "status`): restore manifest.json from a backup rather "
                "than ingesting again",
            )
        final.parent.mkdir(parents=True, exist_ok=True)
        # not *.parquet, so no view ever reads a half-written file
        partial = final.with_name(f"{file_id}.parquet.partial")
        merged_path = final.with_name(f"{file_id}.parquet.merged")
        qpath = self.path / "quarantine" / recovery.quarantine_name(file_id, kind)
        qpartial = qpath.with_name(f"{qpath.name}.partial")
        # the journal first: if this ingest never commits, the next open rolls it back
        atomic.write_json(
            self.path / recovery.JOURNAL,
            {
                "file_id": file_id,
                "name": path.name,
                "kind": kind,
                "table": table,
                "started": _now(),
                "files": [str(p.relative_to(self.path)) for p in (final, qpath)],
            },
        )
        done = False
        try:
            mode: Mode = "typed"
            while True:
                try:
                    chunks = ahead.chunks() if mode == "typed" else source.chunks(mode=mode)
                    read, merged, finder = self._write(
                        chunks, table, file_id, partial, qpartial, path.name
                    )
                    break
                except Reread as again:  # CSV: start again in a slower, surer mode
                    mode = again.mode
            finished, duplicates = finder.finish(partial, merged_path)
            accepted = pq.read_metadata(finished).num_rows
            quarantined = pq.read_metadata(qpartial).num_rows
            counts = {
                "read": read,
                "accepted": accepted,
                "duplicates": merged + duplicates,
                "quarantined": quarantined,
            }
            if read != accepted + counts["duplicates"] + quarantined:
                raise WorkspaceError(
                    f"{path}: counts do not add up: {counts}",
                    hint="this is a bug in whereabouts; please report it",
                )
            atomic.commit(finished, final)
            atomic.commit(qpartial, qpath)
            final.chmod(0o444)
            qpath.chmod(0o444)
            entry = {
                "file_id": file_id,
                "sha256": sha,
                "size": size,
                "name": path.name,
                "kind": kind,
                "table": table,
                "profile": source.profile.name if profile else None,
                "device_id": device_id,
                "timezone": zone,
                "ingested_at": _now(),
                "version": __version__,
                "counts": counts,
            }
            manifest = self.manifest
            if old is not None:  # one commit: the new entry and the old one marked
                entry["supersedes"] = old["file_id"]
                for e in manifest:
                    if e["file_id"] == old["file_id"]:
                        e["superseded_by"], e["superseded_at"] = file_id, entry["ingested_at"]
            manifest.append(entry)
            atomic.write_json(self.path / "manifest.json", {"inputs": manifest})  # the commit
            done = True
        finally:
            partial.unlink(missing_ok=True)
            merged_path.unlink(missing_ok=True)
            qpartial.unlink(missing_ok=True)
            if not done:  # nothing of a failed ingest stays behind
                qpath.unlink(missing_ok=True)
                final.unlink(missing_ok=True)
            (self.path / recovery.JOURNAL).unlink(missing_ok=True)
        notes = list(source.notes)
        if old is not None:
            notes.append(
                f"supersedes its ingest of {old.get('ingested_at')} (device id "
                f"{old.get('device_id') or 'as in the file'!r} → "
                f"{device_id or 'as in the file'!r}, time zone {old.get('timezone')} → "
                f"{zone}); the earlier rows stay in the workspace as evidence, no longer read"
            )
        return IngestReport(
            str(path),
            kind,
            table,
            file_id,
            sha,
            counts,
            quarantine=str(qpath),
            notes=notes,
            supersedes=old,
        )

    def _write(
        self,
        chunks: Iterator[Chunk],
        table: str,
        file_id: str,
        partial: Path,
        qpath: Path,
        name: str,
    ) -> tuple[int, int, DuplicateFinder]:
        target = schema.TABLES[table]
        finder = DuplicateFinder(table, name)
        read = merged = 0
        qpath.unlink(missing_ok=True)
        floats = [f.name for f in target if pa.types.is_floating(f.type)]
        # byte-stream-split floats: smaller and cheaper to compress than plain ones
        with (
            pq.ParquetWriter(
                partial,
                target,
                compression="zstd",
                compression_level=1,
                use_dictionary=_DICTIONARY,
                use_byte_stream_split=floats,
            ) as writer,
            pq.ParquetWriter(qpath, QUARANTINE, compression="zstd") as qwriter,
            ThreadPoolExecutor(max_workers=2) as projector,
            ThreadPoolExecutor(max_workers=1) as storer,
            ThreadPoolExecutor(max_workers=1) as taker,
            ThreadPoolExecutor(max_workers=1) as sorter,
        ):
            # fixes waiting to be sorted and written: each chunk's device and time as read,
            # and its rows projected (under way); the sort needs only the first
            held: list[tuple[pa.Table, Future[pa.Table]]] = []

            def flush(last: bool = False) -> None:
                read_rows = pa.concat_tables([r for r, _ in held])
                # Sorted by device and time in runs of about SORT_ROWS rows, written in row
                # groups of ROW_GROUP_ROWS: each row group then holds few devices over a
                # short time, so its Parquet statistics let a read of some devices' shifts
                # skip the rest (Workspace.fixes_within). The sort is stable: rows of one
                # device and time keep the file's order. It is found while the last chunks
                # are still being projected.
                order: np.ndarray | None = _device_time_order(read_rows)
                del read_rows
                if order is not None and (len(order) < 2 or (order[1:] > order[:-1]).all()):
                    order = None  # in order already
                rows = pa.concat_tables([projected.result() for _, projected in held])
                held.clear()
                finder.add(rows, order, sorter=sorter if last else None)
                _write_sorted(writer, rows, order, taker, file_id)
                atomic.step()

            def store(chunk: Chunk, rows: Future[pa.Table]) -> None:
                qwriter.write_table(chunk.quarantine.cast(QUARANTINE))
                atomic.step()
                if table != "fixes":
                    done = rows.result()
                    finder.add(done)
                    writer.write_table(done)
                    atomic.step()
                    return
                held.append((chunk.accepted.select(["device_id", "time"]), rows))
                if sum(r.num_rows for r, _ in held) >= SORT_ROWS:
                    flush()

            # A pipeline: chunk k is parsed and checked here while k-1 and k-2 are projected
            # (two at a time, so projecting, the longest stage, can use both cores once the
            # file is read) and earlier ones stored (pyarrow, pyproj and numpy release the
            # GIL). The storer takes chunks in file order; at most a few are in flight, so
            # memory stays bounded.
            pending: deque[tuple[Future[pa.Table], Future[None]]] = deque()
            for chunk in progress.track(chunks, f"ingest {name}"):
                rows = projector.submit(self._canonical, chunk, table, file_id)
                pending.append((rows, storer.submit(store, chunk, rows)))
                read += chunk.read
                merged += chunk.duplicates
                while len(pending) > 2:
                    projected, stored = pending.popleft()
                    projected.result()
                    stored.result()
            while pending:
                pending.popleft()[1].result()  # the last chunks may still be projected
            if held:
                storer.submit(flush, True).result()
        return read, merged, finder

    def _canonical(self, chunk: Chunk, table: str, file_id: str) -> pa.Table:
        rows = chunk.accepted
        n = rows.num_rows
        if table in POSITIONED and "x" not in rows.column_names:
            lat = np.asarray(rows["lat"].to_numpy(), dtype=float)
            lon = np.asarray(rows["lon"].to_numpy(), dtype=float)
            x, y = to_projected(lat, lon, self.crs)
            rows = rows.append_column("x", pa.array(x)).append_column("y", pa.array(y))
        if "src_file" not in rows.column_names:
            rows = rows.append_column("src_file", pa.repeat(pa.scalar(file_id, pa.string()), n))
        target = schema.TABLES[table]
        for f in target:
            if f.name not in rows.column_names:
                rows = rows.append_column(f.name, pa.nulls(n, f.type))
        return rows.select(target.names).cast(target)

    def _write_catalog(self, manifest: list[dict[str, Any]] | None = None) -> None:
        """catalog.duckdb: the views for other tools (DuckDB's CLI), written then renamed."""
        manifest = self.manifest if manifest is None else manifest
        listing = {t: committed(self.path, t, manifest) for t in schema.TABLES}
        path = self.path / "catalog.duckdb"
        tmp = atomic.temporary(path)
        try:
            tmp.unlink(missing_ok=True)
            con = catalog.connect(listing, str(tmp))
            con.close()
            atomic.commit(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def ingest(
    workspace: Workspace | Path | str,
    kind: InputKind,
    paths: Sequence[Path | str],
    *,
    profile: str | None = None,
    device_id: str | None = None,
    timezone: str | None = None,
) -> list[IngestReport]:
    """Ingest input files of one kind into a workspace (`Workspace.ingest`).

    kind: the input's kind ("fixes", "lip", "officers", …; "map" for every map layer a
    file holds). profile: a vendor mapping profile (`whereabouts profiles`). device_id: the
    device of a GPX or NMEA file. timezone: the zone of naive local times in these files.
    Example: ``ingest("ws", "fixes", ["avl.csv"], profile="generic-avl")``
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    return ws.ingest(kind, paths, profile=profile, device_id=device_id, timezone=timezone)


def committed(path: Path, table: str, manifest: list[dict[str, Any]] | None = None) -> list[Path]:
    """The Parquet files of `table` in workspace `path` that its manifest lists, by file id.

    The manifest is read from `path` unless given. Readers outside this class (report, web)
    use this rather than a folder's listing, which can hold files not yet committed.
    """
    if manifest is None:
        manifest = Workspace(path, {}).manifest
    return sorted(
        path / "tables" / table / f"{e['file_id']}.parquet"
        for e in manifest
        if e.get("table") == table and not e.get("superseded_by")
    )


def fixes_within_files(
    files: Sequence[Path], spans: pa.Table, columns: Sequence[str] | None = None
) -> pa.Table:
    """`Workspace.fixes_within` over these fixes files (a workspace's committed ones, as
    `Workspace.files("fixes")` lists them): for a process that must not open the workspace
    itself (a Spark executor: opening recovers, which may write)."""
    return fixes_within_many(files, [(spans, columns)])[0]


def fixes_within_many(
    files: Sequence[Path],
    wanted: Sequence[tuple[pa.Table, Sequence[str] | None]],
    *,
    threads: int = READ_THREADS,
) -> list[pa.Table]:
    """`fixes_within_files` of each (spans, columns) in `wanted`, in one pass over the
    files: a row group that several of them need is read once (its device and time once,
    each other column once, over the row groups where some span set that wants it has a
    fix). Parts of the files are read in `threads` threads (Parquet decoding and the
    matching release the GIL); the tables are the same as read one after another."""
    asks = [_Ask.of(spans, columns) for spans, columns in wanted]
    live = [a for a in asks if len(a.keys.code)]
    if not files or not live:
        return [a.out.empty_table() for a in asks]
    tasks: list[tuple[Path, pq.FileMetaData, np.ndarray, np.ndarray, list[np.ndarray]]] = []
    for path in files:  # the chosen row groups of each file, in file order
        meta = pq.read_metadata(path)
        ranges = _row_group_ranges(meta)
        each = [
            a.keys.row_groups(*ranges) if len(a.keys.code) else np.empty(0, np.int64) for a in asks
        ]
        ids = np.unique(np.concatenate(each))
        if len(ids) == 0:
            continue
        sizes = np.array([meta.row_group(int(i)).num_rows for i in ids], dtype=np.int64)
        chosen = [np.isin(ids, e) for e in each]
        batch = (np.cumsum(sizes) - sizes) // _BATCH_ROWS  # so memory stays bounded
        for b in np.unique(batch):
            at = batch == b
            tasks.append((path, meta, ids[at], sizes[at], [c[at] for c in chosen]))
    parts: list[list[tuple[pa.Table, np.ndarray]]] = [[] for _ in asks]

    def read(
        task: tuple[Path, pq.FileMetaData, np.ndarray, np.ndarray, list[np.ndarray]],
    ) -> list[Any]:
        path, meta, ids, sizes, chosen = task
        return _read_within(path, meta, ids, sizes, asks, chosen)

    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(tasks)))) as pool:
        for got in pool.map(read, tasks):  # in file and batch order
            for i, one in enumerate(got):
                if one is not None:
                    parts[i].append(one)
    return [a.table(p) for a, p in zip(asks, parts, strict=True)]


@dataclass(frozen=True)
class _Ask:
    """One span set of `fixes_within_many`: the columns to return and the spans' keys."""

    names: list[str]  # the columns returned
    out: pa.Schema
    keys: _SpanKeys
    others: list[str]  # the columns read besides device_id and time

    @classmethod
    def of(cls, spans: pa.Table, columns: Sequence[str] | None) -> _Ask:
        names = list(columns) if columns is not None else list(schema.FIXES.names)
        unknown = [c for c in names if c not in schema.FIXES.names]
        if unknown:
            raise WorkspaceError(
                f"fixes have no columns {unknown}",
                hint=f"use some of {', '.join(schema.FIXES.names)}",
            )
        out = pa.schema([schema.FIXES.field(c) for c in names])
        others = [c for c in names if c not in ("device_id", "time")]
        return cls(names, out, _SpanKeys.of(_merge_spans(spans)), others)

    def table(self, parts: list[tuple[pa.Table, np.ndarray]]) -> pa.Table:
        """The fixes found, from the parts read (in file order), sorted by device, time."""
        if not parts:
            return self.out.empty_table()
        table = pa.concat_tables([p[0] for p in parts])
        key = np.concatenate([p[1] for p in parts])
        if bool((key[1:] < key[:-1]).any()):
            # Keys order by device name, then time; the sort is stable (timsort, which
            # merges the files' and sort runs' sorted stretches), so ties keep file order.
            order = np.argsort(key, kind="stable")
            table, key = table.take(pa.array(order)), key[order]
        if "device_id" in self.names:  # each device's rows follow one another
            keys = self.keys
            rows = np.diff(np.r_[np.searchsorted(key, keys.base), len(key)])
            table = table.append_column(
                "device_id", keys.devices.take(pa.array(np.repeat(np.arange(len(rows)), rows)))
            )
        return table.select(self.names).cast(self.out)


def _merge_spans(spans: pa.Table) -> pa.Table:
    """Spans (device_id, start, end) as disjoint `device_id, s0, s1` (µs since 1970 UTC),
    sorted by device_id, s0; empty spans dropped, overlapping or touching ones joined."""
    missing = [c for c in ("device_id", "start", "end") if c not in spans.column_names]
    if missing:
        raise WorkspaceError(
            f"spans lack columns {missing}", hint="give spans with device_id, start and end"
        )
    dev = spans.column("device_id").cast(pa.string())
    s0, s1 = _micros(spans.column("start")), _micros(spans.column("end"))
    keep = s1 > s0
    if not keep.all():
        dev, s0, s1 = dev.filter(pa.array(keep)), s0[keep], s1[keep]
    if len(s0) == 0:
        return pa.table(
            {
                "device_id": pa.array([], pa.string()),
                "s0": pa.array([], pa.int64()),
                "s1": pa.array([], pa.int64()),
            }
        )
    names = pc.unique(dev).sort()
    code = np.asarray(pc.index_in(dev, value_set=names).to_numpy(), dtype=np.int64)
    j = joined(code, s0, s1)
    return pa.table({"device_id": names.take(pa.array(code[j.first])), "s0": j.start, "s1": j.end})


_PER_US = {"s": (1_000_000, 1), "ms": (1000, 1), "us": (1, 1), "ns": (1, 1000)}
_NO_BOUND = 1 << 62  # µs: a time statistic a row group lacks
_WIDE = 64  # a row group whose device range holds more of the spans' devices is just read
_BLOCK = 1 << 16  # rows matched with the spans at a time
_BATCH_ROWS = 1 << 22  # rows of a file read at a time (at least one row group)


@dataclass(frozen=True)
class _SpanKeys:
    """Disjoint, sorted spans (as `_merge_spans` gives) as integer keys ordered by device,
    then time: each device's times, clamped to just outside its spans' extent, shifted past
    the devices before it. One binary search then finds a fix's span, and the keys sort
    fixes by device name and time."""

    devices: pa.Array  # the spans' distinct device ids, sorted
    code: np.ndarray  # per span: its device's index in devices
    s0: np.ndarray  # per span: start and end, µs since 1970 UTC
    s1: np.ndarray
    lo: np.ndarray  # per device: just before its first span, the end of its last,
    hi: np.ndarray
    base: np.ndarray  # and where its keys start
    s0key: np.ndarray  # per span: the keys of its start and end
    s1key: np.ndarray

    @classmethod
    def of(cls, merged: pa.Table) -> _SpanKeys:
        devices = pc.unique(merged.column("device_id"))  # sorted, as the spans are
        code = np.asarray(
            pc.index_in(merged.column("device_id"), value_set=devices).to_numpy(
                zero_copy_only=False
            ),
            dtype=np.int64,
        )
        s0 = np.asarray(merged.column("s0").to_numpy(), dtype=np.int64)
        s1 = np.asarray(merged.column("s1").to_numpy(), dtype=np.int64)
        first = np.r_[0, np.flatnonzero(np.diff(code)) + 1] if len(code) else np.empty(0, np.int64)
        lo = np.minimum.reduceat(s0, first) - 1 if len(code) else s0
        hi = np.maximum.reduceat(s1, first) if len(code) else s1
        width = hi - lo + 1
        if float(width.sum()) >= 2.0**62:
            raise WorkspaceError(
                "the spans reach over too long a time to read at once",
                hint="read fewer devices or a shorter period at a time",
            )
        base = np.r_[0, np.cumsum(width)[:-1]].astype(np.int64)
        # a span lies within its device's [lo, hi]: its keys need no clamping
        return cls(
            devices,
            code,
            s0,
            s1,
            lo,
            hi,
            base,
            base[code] + (s0 - lo[code]),
            base[code] + (s1 - lo[code]),
        )

    def key(self, code: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The keys of times `t` of devices `code` (indices in devices)."""
        lo = self.lo[code]
        result: np.ndarray = self.base[code] + (np.minimum(np.maximum(t, lo), self.hi[code]) - lo)
        return result

    def locate(
        self, devices: pa.ChunkedArray, times: pa.ChunkedArray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Whether each row (device, time) falls in a span, and the keys of those that do.
        A key is inside a span if and only if it is below the end key of the last span
        starting at or before it (keys of other devices and clamped times never are)."""
        at, code = _dictionary_codes(devices, self.devices)
        # per dictionary value: the offset from times to keys and the device's key range;
        # a device without spans (code -1, the last slot) has key -1
        off = np.r_[self.base - self.lo, -1][code]
        first = np.r_[self.base, -1][code]
        last = np.r_[self.base + self.hi - self.lo, -1][code]
        t = _micros(times)
        span = (int(self.lo.min()), int(self.hi.max()))  # (times beyond: no overflow)
        inside = np.empty(len(t), dtype=bool)
        found = [np.empty(0, dtype=np.int64)]
        for a in range(0, len(t), _BLOCK):  # blocks that stay in the CPU's cache
            d = at[a : a + _BLOCK]
            k = np.take(off, d)
            k += np.clip(t[a : a + _BLOCK], *span)
            np.maximum(k, np.take(first, d), out=k)
            np.minimum(k, np.take(last, d), out=k)
            ok = self._inside(k)
            inside[a : a + _BLOCK] = ok
            found.append(k[ok])
        return inside, np.concatenate(found)

    def _inside(self, k: np.ndarray) -> np.ndarray:
        """Whether each key (-1: of a device without spans) lies in a span. Keys in order
        (a file sorted by device and time, each of these devices' rows with spans): where
        each span's keys start and end among them, by one binary search per span that can
        hold one. Otherwise one binary search per key."""
        n = len(k)
        if n and k[0] >= 0 and bool((k[1:] >= k[:-1]).all()):
            lo = int(np.searchsorted(self.s1key, k[0], side="right"))
            hi = int(np.searchsorted(self.s0key, k[-1], side="right"))
            a = np.searchsorted(k, self.s0key[lo:hi], side="left")
            b = np.searchsorted(k, self.s1key[lo:hi], side="left")
            edge = np.bincount(a, minlength=n + 1) - np.bincount(b, minlength=n + 1)
            inside: np.ndarray = np.cumsum(edge[:n]) > 0
            return inside
        i = np.searchsorted(self.s0key, k, side="right") - 1
        result: np.ndarray = (k < np.take(self.s1key, i)) & (i >= 0)
        return result

    def row_groups(
        self,
        has: np.ndarray,
        dmin: np.ndarray,
        dmax: np.ndarray,
        tmin: np.ndarray,
        tmax: np.ndarray,
    ) -> np.ndarray:
        """Indices of the row groups whose device range [dmin, dmax] (where it `has` one;
        else any device) and time range [tmin, tmax] (µs) meet a span."""
        names = np.asarray(self.devices.to_pylist(), dtype=object)
        lo = np.where(has, np.searchsorted(names, dmin, side="left"), 0)
        hi = np.where(has, np.searchsorted(names, dmax, side="right"), len(names))
        count = np.maximum(hi - lo, 0)
        wide = count > _WIDE
        count[wide] = 0
        # one (row group, device) pair for each of the spans' devices in its device range:
        # does that device's first span ending after tmin start by tmax?
        group = np.repeat(np.arange(len(count)), count)
        dev = lo[group] + np.arange(len(group)) - np.repeat(np.cumsum(count) - count, count)
        j = np.searchsorted(self.s1key, self.key(dev, tmin[group]), side="right")
        k = np.minimum(j, len(self.s1) - 1)
        hit = (j < len(self.s1)) & (self.code[k] == dev) & (self.s0[k] <= tmax[group])
        chosen = wide.copy()
        chosen[group[hit]] = True
        return np.flatnonzero(chosen)


def _read_within(
    path: Path,
    meta: pq.FileMetaData,
    ids: np.ndarray,
    sizes: np.ndarray,
    asks: list[_Ask],
    chosen: list[np.ndarray],
) -> list[tuple[pa.Table, np.ndarray] | None]:
    """Per ask, the fixes inside its spans of row groups `ids` (of `sizes` rows; `chosen`:
    per ask, those its spans may reach) of the file at `path`, in file order: their time and other columns, and their keys (None if there
    are none). Device and time first, each other column then only of the row groups where
    an ask that wants it has a fix inside. Each read on one thread (the caller reads parts
    in threads): threads over the columns of small row groups cost more than they save."""
    wanted = {c for a in asks for c in a.others}
    source = pq.ParquetFile(
        path,
        metadata=meta,
        read_dictionary=[c for c in ("device_id", *sorted(wanted)) if c in _DICTIONARY],
        pre_buffer=False,  # whole column chunks, read as they are decoded
    )
    first = source.read_row_groups(ids.tolist(), columns=["device_id", "time"], use_threads=False)
    ends = np.cumsum(sizes)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = []
    need: dict[str, np.ndarray] = {}  # per column: the row groups to read it of
    for ask, mine in zip(asks, chosen, strict=True):
        if not mine.any():
            found.append(None)
            continue
        inside, key = _locate(ask.keys, first, mine, sizes)
        if len(key) == 0:
            found.append(None)
            continue
        hit = np.zeros(len(ids), dtype=bool)
        hit[np.searchsorted(ends, np.flatnonzero(inside), side="right")] = True
        found.append((inside, key, hit))
        for name in ask.others:
            need[name] = need[name] | hit if name in need else hit
    read: dict[str, tuple[pa.ChunkedArray, np.ndarray]] = {}
    for groups in {g.tobytes(): g for g in need.values()}.values():  # each set read once
        names = [c for c in schema.FIXES.names if c in need and np.array_equal(need[c], groups)]
        rest = source.read_row_groups(ids[groups].tolist(), columns=names, use_threads=False)
        for name in names:
            read[name] = (rest.column(name), groups)
    out: list[tuple[pa.Table, np.ndarray] | None] = []
    for ask, got in zip(asks, found, strict=True):
        if got is None:
            out.append(None)
            continue
        inside, key, _ = got
        part = pa.table({"time": first.column("time").filter(mask(inside))})
        for name in ask.others:  # dictionary-encoded text as text
            column, groups = read[name]
            keep = inside if groups.all() else inside[np.repeat(groups, sizes)]
            part = part.append_column(
                name, column.filter(mask(keep)).cast(schema.FIXES.field(name).type)
            )
        out.append((part, key))
    return out


def _locate(
    keys: _SpanKeys, first: pa.Table, mine: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`keys.locate` of the rows of `first` (device_id, time) in the row groups `mine` (of
    `sizes` rows each); the other rows are outside."""
    if mine.all():
        return keys.locate(first.column("device_id"), first.column("time"))
    # runs of chosen row groups as slices of the rows (no copy)
    edge = np.flatnonzero(np.diff(np.r_[0, mine.astype(np.int8), 0]))
    at = np.r_[0, np.cumsum(sizes)]
    rows = pa.concat_tables(
        [first.slice(0, 0)]
        + [first.slice(at[a], at[b] - at[a]) for a, b in zip(edge[::2], edge[1::2], strict=True)]
    )
    part, key = keys.locate(rows.column("device_id"), rows.column("time"))
    inside = np.zeros(len(first), dtype=bool)
    inside[np.repeat(mine, sizes)] = part
    return inside, key


def _row_group_ranges(meta: pq.FileMetaData) -> tuple[np.ndarray, ...]:
    """Per row group of a fixes file: whether its statistics give a device_id range, that
    range (empty text where not) and its time range in µs (±2**62 where it has none). A
    loop over row groups' metadata only (thousands), never over rows."""
    leaves = [meta.schema.column(i).path for i in range(meta.num_columns)]
    dev, tim = leaves.index("device_id"), leaves.index("time")
    mul, div = _PER_US[meta.schema.to_arrow_schema().field("time").type.unit]
    n = meta.num_row_groups
    has = np.zeros(n, dtype=bool)
    dmin, dmax = np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    tmin, tmax = np.full(n, -_NO_BOUND, dtype=np.int64), np.full(n, _NO_BOUND, dtype=np.int64)
    for i in range(n):
        group = meta.row_group(i)
        d, t = group.column(dev).statistics, group.column(tim).statistics
        if d is not None and d.has_min_max:
            low, high = _text(d.min_raw), _text(d.max_raw)
            if low is not None and high is not None:
                has[i], dmin[i], dmax[i] = True, low, high
        if t is not None and t.has_min_max:
            tmin[i], tmax[i] = t.min_raw * mul // div, -(-t.max_raw * mul // div)
    return has, dmin, dmax, tmin, tmax


def _text(raw: bytes | str) -> str | None:
    """A statistic as text; None (no bound) when it is not UTF-8."""
    try:
        return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    except UnicodeDecodeError:
        return None


def _write_sorted(
    writer: pq.ParquetWriter,
    rows: pa.Table,
    order: np.ndarray | None,
    taker: ThreadPoolExecutor,
    file_id: str,
) -> None:
    """Write `rows` in `order` (None: as they are) in row groups of ROW_GROUP_ROWS.

    The rows are gathered a few row groups at a time in `taker` while the slice before is
    encoded and written here (both release the GIL), so the two run on two cores and only
    two slices are copied at once. `src_file` (`file_id` on every row) is not gathered but
    made again for each slice.
    """
    if order is None:
        writer.write_table(rows, row_group_size=ROW_GROUP_ROWS)
        return
    at = rows.schema.get_field_index("src_file")
    field = rows.schema.field(at)
    rest = rows.remove_column(at)

    def take(part: np.ndarray) -> pa.Table:
        taken = rest.take(part)
        return taken.add_column(at, field, pa.repeat(pa.scalar(file_id, field.type), len(part)))

    step = ROW_GROUP_ROWS * _SLICE_GROUPS  # whole row groups: the same groups as one write
    ahead: deque[Future[pa.Table]] = deque()
    for a in range(0, len(order), step):
        ahead.append(taker.submit(take, order[a : a + step]))
        if len(ahead) > 1:
            writer.write_table(ahead.popleft().result(), row_group_size=ROW_GROUP_ROWS)
    while ahead:
        writer.write_table(ahead.popleft().result(), row_group_size=ROW_GROUP_ROWS)


def _device_time_order(rows: pa.Table) -> np.ndarray:
    """The stable order of `rows` by (device_id, time): the permutation Arrow's
    `sort_indices` gives, found by numpy's lexsort on integer keys (device ids ranked by
    their dictionary), which is about twice as fast as sorting the strings."""
    dev = rows["device_id"].combine_chunks().dictionary_encode()
    rank = np.empty(len(dev.dictionary), dtype=np.int64)
    rank[np.asarray(pc.sort_indices(dev.dictionary).to_numpy(), dtype=np.int64)] = np.arange(
        len(dev.dictionary)
    )
    codes = rank[np.asarray(dev.indices.to_numpy(zero_copy_only=False), dtype=np.int64)]
    return np.lexsort((_micros(rows["time"]), codes))


def _micros(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    if pa.types.is_timestamp(col.type):
        col = pc.cast(pc.cast(col, schema.UTC_TS), pa.int64())
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.int64)


def _dictionary_codes(col: pa.ChunkedArray, devices: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A device column as each row's index in one dictionary (its last slot for nulls) and
    each dictionary value's index in `devices` (-1: not there). Matched per dictionary value
    (a row group's few devices), never with string work per row."""
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    col = pa.table({"d": col}).unify_dictionaries().column("d")  # one dictionary
    values = col.chunk(0).dictionary if col.num_chunks else pa.array([], pa.string())
    code = np.r_[_index_in(values, devices), -1]
    at = pa.chunked_array([c.indices for c in col.chunks], type=col.type.index_type)
    return np.asarray(pc.fill_null(at, len(code) - 1).to_numpy(), dtype=np.int64), code


def _index_in(values: pa.Array, devices: pa.Array) -> np.ndarray:
    found = pc.index_in(values.cast(pa.string()), value_set=devices)
    return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)


def _check_zone(zone: str) -> None:
    """Refuse a time zone Arrow does not know (a ParameterError naming it)."""
    from whereabouts.io.times import parse_times

    parse_times(pa.array(["2024-01-01 00:00:00"]), zone)


def _profile_zone(profile: str | None) -> str | None:
    if profile is None:
        return None
    from whereabouts.io.profile import load_profile

    return load_profile(profile).time_zone


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


__all__ = [
    "IngestReport",
    "Workspace",
    "committed",
    "fixes_within_files",
    "fixes_within_many",
    "ingest",
]
