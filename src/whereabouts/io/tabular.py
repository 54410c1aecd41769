"""CSV and Parquet inputs, streamed in record batches with their real line numbers.

CSV is read by pyarrow's streaming reader and numbered by physical line (header = line 1),
in one of three modes, each a fallback for the one before:

- "typed": numbers parsed as floats and zoned times as UTC timestamps by pyarrow itself
  (the fastest); a value that does not parse sends the file to "text";
- "text": every value read as text, then checked and converted column by column, so a bad
  value is quarantined with its reason;
- "exact": rows of the wrong width or values spanning lines leave pyarrow unable to say on
  which physical line a row was, so Python's csv module (which tracks lines) reads the
  file — slower, but only malformed files come here.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from whereabouts import schema
from whereabouts.errors import InputError, Location, SchemaError
from whereabouts.io.profile import IDENTITY, Profile, suggest_profile
from whereabouts.io.result import QUARANTINE, quarantine_table
from whereabouts.io.tables import POSITION, SPECS, Context, Spec, convert

BATCH_ROWS = 256 * 1024
_BLOCK = 16 << 20


@dataclass
class Chunk:
    """One batch of an input: accepted canonical rows, quarantined rows, records read."""

    accepted: pa.Table = field(repr=False)  # rows hold positions: never in a repr
    quarantine: pa.Table = field(repr=False)
    read: int
    duplicates: int = 0  # already merged by the reader (LIP, GPX, NMEA readers do)


Mode = Literal["typed", "text", "exact"]
# A CSV file's physical line count (None: it has no quote, so rows are lines), or a function
# giving it, asked only once the file has been read (the count may still be under way).
Lines = int | Callable[[], int | None] | None


class Reread(Exception):
    """Read the file again from the start in `mode` (see the module docstring)."""

    def __init__(self, mode: Mode) -> None:
        super().__init__(mode)
        self.mode: Mode = mode


_NUMERIC = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def safe_header(found: list[str]) -> tuple[list[str], bool]:
    """A header fit to quote in a message, and whether it holds values rather than names.

    A file without a header line has data where the names should be; those values (ids,
    positions) never go into a message. Long names are shortened.
    """
    if any(_NUMERIC.match(c) for c in found):
        return ["(values)"], True
    return [c if len(c) <= 40 else c[:40] + "…" for c in found], False


def map_columns(
    found: list[str],
    spec: Spec,
    profile: Profile,
    *,
    file: str,
    kind: str,
    constants: dict[str, str],
) -> dict[str, str]:
    """Canonical column → the file's column, or a SchemaError naming found/expected/profile."""
    twice = sorted(
        {c for c in found if [x.strip().lower() for x in found].count(c.strip().lower()) > 1}
    )
    if twice:
        raise SchemaError(
            f"column(s) {safe_header(twice)[0]} appear more than once in the header",
            where=Location(file, 1),
            hint="give each column once: rename or remove the repeated ones",
        )
    lower = {c.strip().lower(): c for c in found}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for canon, alternatives in profile.columns.items():
        for alt in alternatives:
            if alt.lower() in lower and alt.lower() not in used:
                mapping[canon] = lower[alt.lower()]
                used.add(alt.lower())
                break
    for canon in spec.known:
        if canon not in mapping and canon in lower and canon not in used:
            mapping[canon] = lower[canon]
            used.add(canon)
    ignored = profile.source_columns()  # ignored ones, and alternatives not chosen
    unknown = [c for c in found if c.strip().lower() not in used | ignored]
    have = set(mapping) | set(constants)
    missing = [c for c in spec.required if c not in have]
    if spec.positioned and not ({"lat", "lon"} <= have or {"easting", "northing"} <= have):
        missing.append("lat,lon or easting,northing")
    if spec.one_of and not set(spec.one_of) & have:
        missing.append(" or ".join(spec.one_of))
    if missing or unknown:
        problem = "; ".join(
            part
            for part in (
                f"missing column(s) {missing}" if missing else "",
                f"unknown column(s) {unknown}" if unknown else "",
            )
            if part
        )
        suggestion = suggest_profile(found, kind)
        using = f" (profile {profile.name!r})" if profile is not IDENTITY else ""
        hint = f"try --profile {suggestion}; " if suggestion and suggestion != profile.name else ""
        other = other_kind(found, kind)
        hint = f"this looks like {other}; " + hint if other else hint
        hint += (
            "rename the columns to the canonical names, or give a mapping profile "
            "(`whereabouts profiles` lists the shipped ones)"
        )
        optional = [c for c in spec.known if c not in spec.required]
        shown, values = safe_header(found)
        if values:
            problem = f"the first line holds {len(found)} values, not column names"
            hint = "add a header line naming the columns; " + hint
        found = shown
        raise SchemaError(
            f"{problem} for {kind}{using}. Columns found: {found}. Expected: "
            f"{list(spec.required)}{' + a position' if spec.positioned else ''}, optional "
            f"{optional}",
            where=Location(file),
            hint=hint,
        )
    return mapping


def other_kind(found: list[str], kind: str) -> str | None:
    """`--kind K` when the header looks like another kind of input (NMEA, GPX, LIP, a table)."""
    first = found[0].strip() if found else ""
    if first.startswith("$") or (first.startswith("#") and len(found) == 1):
        return "an NMEA 0183 log: use --kind nmea --device-id ID"
    if first.startswith(("<?xml", "<gpx")):
        return "GPX: use --kind gpx"
    names = {c.strip().lower() for c in found}
    if {"issi", "pdu_hex"} <= names and kind != "lip":
        return "a TETRA LIP log: use --kind lip"
    for other, table in schema.KINDS.items():
        spec = SPECS.get(table)
        if (
            other == table != kind
            and spec is not None
            and set(spec.required) <= names <= set(spec.known)
        ):
            return f"{other}: use --kind {other}"
    return None


def _check_text_file(path: Path) -> bytes:
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    file = str(path)
    if not head.strip():
        raise InputError(
            "empty file: no header line",
            where=file,
            hint="give a CSV with a header line naming the columns",
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise InputError(
            "the file is UTF-16 or binary, not UTF-8 text",
            where=file,
            hint="save the file as UTF-8 CSV",
        )
    return head


def read_header(path: Path) -> list[str]:
    """The header of a CSV file, checking it is non-empty UTF-8 text."""
    head = _check_text_file(path)
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            "the header is not UTF-8 text",
            where=Location(str(path), 1),
            hint="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        ) from exc
    return next(csv.reader([text]))


def _encoding_error(path: Path, exc: Exception) -> InputError:
    line = first_bad_utf8_line(path)
    where = Location(str(path), line) if line is not None else Location(str(path))
    return InputError(
        "the file is not valid UTF-8 text (latin-1 or Windows-1252?)",
        where=where,
        hint="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
    )


def first_bad_utf8_line(path: Path, block: int = 1 << 20) -> int | None:
    """The 1-based line of the first byte that is not UTF-8, or None if the file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    with path.open("rb") as handle:
        while True:
            data = handle.read(block)
            try:
                decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                # the decoder may hold up to 3 bytes of a split sequence from the last block
                return lines + data[: max(exc.start - len(exc.object) + len(data), 0)].count(b"\n")
            if not data:
                return None
            lines += data.count(b"\n")


def _columns(
    batch: pa.RecordBatch | pa.Table, mapping: dict[str, str], n: int, constants: dict[str, str]
) -> dict[str, pa.Array]:
    cols: dict[str, pa.Array] = {}
    for canon, source in mapping.items():
        col = batch.column(source)
        cols[canon] = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    for canon, value in constants.items():
        cols.setdefault(canon, pa.repeat(pa.scalar(value, pa.string()), n))
    return cols


def _chunk(
    spec: Spec,
    batch: pa.RecordBatch | pa.Table,
    lines: np.ndarray,
    mapping: dict[str, str],
    ctx: Context,
    constants: dict[str, str],
) -> Chunk:
    accepted, quarantine = convert(
        spec,
        _columns(batch, mapping, len(lines), constants),
        lines,
        pa.table(batch) if isinstance(batch, pa.RecordBatch) else batch,
        ctx,
    )
    return Chunk(accepted, quarantine, len(lines))


def _blank(batch: pa.RecordBatch) -> np.ndarray:
    """Rows with every field empty (blank lines): not records, but they occupy a line."""
    blank = np.asarray(pc.is_null(batch.column(0)).to_numpy(zero_copy_only=False), dtype=bool)
    if not blank.any():
        return blank
    for col in batch.columns[1:]:
        blank &= np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)
    return blank


def _typed_columns(
    header: list[str], spec: Spec, mapping: dict[str, str], ctx: Context
) -> dict[str, pa.DataType]:
    types: dict[str, pa.DataType] = dict.fromkeys(header, pa.string())
    for canon in (*spec.numbers, *(POSITION if spec.positioned else ())):
        if canon in mapping:
            types[mapping[canon]] = pa.float64()
    if ctx.time_format is None:
        for canon in (*spec.times, *spec.optional_times):
            if canon in mapping:
                types[mapping[canon]] = schema.UTC_TS
    return types


class OriginalText:
    """The text of records as the file holds them, for the quarantine's `raw` column (not
    the fields re-joined: quotes, spaces and line ends inside quotes are kept). Reads the
    file forward only, a block at a time, so a file's chunks are served in one pass; only
    chunks with quarantined rows ask. A record starts at its line and runs on, line by line,
    while a quoted value is open (an odd number of '"' so far)."""

    BLOCK = 1 << 20

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: BinaryIO | None = None
        self.buf = b""
        self.line = 1  # the line of buf's first byte
        self.eof = False

    def _more(self) -> bool:
        if self.eof:
            return False
        if self.handle is None:
            self.handle = self.path.open("rb")
        data = self.handle.read(self.BLOCK)
        if not data:
            self.eof = True
            self.handle.close()
            return False
        self.buf += data
        return True

    def record(self, line: int) -> str | None:
        """The record starting at physical `line` (lines asked in increasing order)."""
        while line > self.line:  # drop the lines before it
            skip = line - self.line
            ends = np.flatnonzero(np.frombuffer(self.buf, np.uint8) == 10)
            if len(ends) >= skip:
                self.buf = self.buf[int(ends[skip - 1]) + 1 :]
                self.line = line
            else:
                self.line += len(ends)
                self.buf = b""
                if not self._more():
                    return None
        if line < self.line:
            return None
        end, quotes = 0, 0
        while True:
            cut = self.buf.find(b"\n", end)
            while cut < 0 and self._more():
                cut = self.buf.find(b"\n", end)
            piece = self.buf[end : cut if cut >= 0 else len(self.buf)]
            quotes += piece.count(b'"')
            if cut < 0 or quotes % 2 == 0:
                text = self.buf[: cut if cut >= 0 else len(self.buf)]
                return text.removesuffix(b"\r").decode("utf-8", "replace")
            end = cut + 1

    def patch(self, chunk: Chunk) -> Chunk:
        """`chunk` with its quarantined rows' raw text as in the file."""
        q = chunk.quarantine
        if q.num_rows == 0:
            return chunk
        lines = q.column("line").to_numpy(zero_copy_only=False)
        order = np.argsort(lines, kind="stable")
        texts: list[str | None] = [None] * len(lines)
        done: dict[int, str | None] = {}
        for i in order:  # quarantined rows only: few, and each a line of text to find
            at = int(lines[i])
            if at not in done:
                done[at] = self.record(at)
            texts[i] = done[at]
        raw = pc.coalesce(pa.array(texts, pa.string()), q.column("raw"))
        return Chunk(
            chunk.accepted,
            q.set_column(q.schema.get_field_index("raw"), "raw", raw),
            chunk.read,
            chunk.duplicates,
        )

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def stream_csv(
    path: Path,
    spec: Spec,
    ctx: Context,
    mapping: dict[str, str],
    constants: dict[str, str],
    *,
    mode: Mode = "typed",
    physical_lines: Lines = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[Chunk]:
    """Chunks of a CSV file. Raises Reread when this mode cannot read the file."""
    header = read_header(path)
    original = OriginalText(path)
    try:
        if mode == "exact":
            chunks = _stream_exact(
                path, spec, ctx, mapping, constants, header=header, batch_rows=batch_rows
            )
        else:
            chunks = _stream_fast(
                path,
                spec,
                ctx,
                mapping,
                constants,
                header=header,
                mode=mode,
                physical_lines=physical_lines,
            )
        for chunk in chunks:
            yield original.patch(chunk)
    finally:
        original.close()


def _stream_fast(
    path: Path,
    spec: Spec,
    ctx: Context,
    mapping: dict[str, str],
    constants: dict[str, str],
    *,
    header: list[str],
    mode: Mode,
    physical_lines: Lines,
) -> Iterator[Chunk]:
    invalid: list[int] = []

    def on_invalid(_row: object) -> str:
        invalid.append(1)
        return "skip"

    types = (
        _typed_columns(header, spec, mapping, ctx)
        if mode == "typed"
        else dict.fromkeys(header, pa.string())
    )
    next_line = 2
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=_BLOCK, use_threads=True),
            parse_options=pacsv.ParseOptions(
                ignore_empty_lines=False, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
        for batch in reader:
            if invalid:
                raise Reread("exact")
            lines = np.arange(next_line, next_line + batch.num_rows, dtype=np.int64)
            next_line += batch.num_rows
            blank = _blank(batch)
            if blank.any():
                keep = pa.array(~blank)
                batch, lines = batch.filter(keep), lines[~blank]
            if batch.num_rows:
                yield _chunk(spec, batch, lines, mapping, ctx, constants)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc):
            raise _encoding_error(path, exc) from exc
        if mode == "typed" and "conversion error" in str(exc).lower():
            raise Reread("text") from exc
        raise Reread("exact") from exc
    if callable(physical_lines):
        physical_lines = physical_lines()
    if invalid or (physical_lines is not None and physical_lines != next_line - 1):
        raise Reread("exact")


def _stream_exact(
    path: Path,
    spec: Spec,
    ctx: Context,
    mapping: dict[str, str],
    constants: dict[str, str],
    *,
    header: list[str],
    batch_rows: int,
) -> Iterator[Chunk]:
    # A loop over records, not fixes: only files the fast path cannot number come here.
    width = len(header)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            previous_end = reader.line_num
            rows: list[list[str]] = []
            lines: list[int] = []
            bad: list[tuple[int, str, str]] = []
            for row in reader:
                start, previous_end = previous_end + 1, reader.line_num
                if not row or (len(row) == width and not any(row)) or row == [""]:
                    continue
                if len(row) != width:
                    bad.append((start, f"expected {width} fields, found {len(row)}", ",".join(row)))
                else:
                    rows.append(row)
                    lines.append(start)
                if len(rows) + len(bad) >= batch_rows:
                    yield _exact_chunk(
                        spec,
                        header,
                        rows,
                        lines,
                        bad,
                        mapping=mapping,
                        ctx=ctx,
                        constants=constants,
                    )
                    rows, lines, bad = [], [], []
            if rows or bad:
                yield _exact_chunk(
                    spec, header, rows, lines, bad, mapping=mapping, ctx=ctx, constants=constants
                )
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, exc) from exc
    except csv.Error as exc:
        raise InputError(
            f"the CSV cannot be parsed: {exc}",
            where=str(path),
            hint="check the quoting of the line named",
        ) from exc


def _exact_chunk(
    spec: Spec,
    header: list[str],
    rows: list[list[str]],
    lines: list[int],
    bad: list[tuple[int, str, str]],
    *,
    mapping: dict[str, str],
    ctx: Context,
    constants: dict[str, str],
) -> Chunk:
    # empty fields become nulls, as on the fast path
    table = pa.Table.from_arrays(
        [pa.array([r[i] or None for r in rows], pa.string()) for i in range(len(header))],
        names=header,
    )
    chunk = (
        _chunk(spec, table, np.asarray(lines, dtype=np.int64), mapping, ctx, constants)
        if rows
        else Chunk(spec_empty(spec, ctx, mapping, constants), QUARANTINE.empty_table(), 0)
    )
    if bad:
        extra = quarantine_table(
            [b[0] for b in bad], [None] * len(bad), [b[1] for b in bad], [b[2] for b in bad]
        )
        chunk = Chunk(
            chunk.accepted, pa.concat_tables([chunk.quarantine, extra]), chunk.read + len(bad)
        )
    return chunk


def spec_empty(
    spec: Spec, ctx: Context, mapping: dict[str, str], constants: dict[str, str]
) -> pa.Table:
    """An empty accepted table with the canonical columns."""
    empty = {c: pa.array([], pa.string()) for c in mapping}
    cols = _columns(
        pa.table(empty) if empty else pa.table({"_": pa.array([], pa.string())}),
        mapping,
        0,
        constants,
    )
    accepted, _ = convert(spec, cols, np.zeros(0, dtype=np.int64), None, ctx)
    return accepted


def parquet_columns(path: Path) -> list[str]:
    """The column names of a Parquet file, or an InputError if it is not one."""
    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(
            f"not a readable Parquet file ({exc})",
            where=str(path),
            hint="give a Parquet file, or a .csv for CSV input",
        ) from exc


def stream_parquet(
    path: Path,
    spec: Spec,
    ctx: Context,
    mapping: dict[str, str],
    constants: dict[str, str],
    *,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[Chunk]:
    """Chunks of a Parquet file; a row's line is its 1-based record number. A column of
    nested values (list, struct, map), text that is not UTF-8 or a damaged page is a message
    naming the column and record, never a traceback."""
    start = 1
    file = pq.ParquetFile(path)

    def nested(kind: pa.DataType) -> bool:
        return bool(
            pa.types.is_nested(kind)
            or (pa.types.is_dictionary(kind) and pa.types.is_nested(kind.value_type))
        )

    for canon, source in mapping.items():
        kind = file.schema_arrow.field(source).type
        if nested(kind):
            raise InputError(
                f"column {source!r} holds {kind} values, not single values",
                where=Location(str(path), None, source),
                hint=f"write {canon} as one number or text per row (flatten the column)",
            )
    # other nested columns are not read (nothing takes them; the quarantine's raw is text)
    batches = file.iter_batches(
        batch_size=batch_rows, columns=[f.name for f in file.schema_arrow if not nested(f.type)]
    )
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                f"the Parquet file is damaged after record {start - 1}: {exc}",
                where=Location(str(path), start),
                hint="the file was cut or corrupted: export it again",
            ) from exc
        lines = np.arange(start, start + batch.num_rows, dtype=np.int64)
        start += batch.num_rows
        yield _chunk(
            spec,
            _as_text(batch, path, int(lines[0]) if len(lines) else 1),
            lines,
            mapping,
            ctx,
            constants,
        )


def _as_text(batch: pa.RecordBatch, path: Path, first: int) -> pa.RecordBatch:
    """Binary columns as UTF-8 text; a value that is not UTF-8 is a message naming its
    column and record."""
    for i, f in enumerate(batch.schema):
        if not (pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)):
            continue
        try:
            text = batch.column(i).cast(pa.string())
        except pa.ArrowInvalid as exc:
            bad = next(
                k
                for k, v in enumerate(batch.column(i).to_pylist())  # the error case
                if v is not None and not _utf8(v)
            )
            raise InputError(
                f"column {f.name!r} holds bytes that are not UTF-8 text",
                where=Location(str(path), first + bad, f.name),
                hint="write the column as UTF-8 text (a string column)",
            ) from exc
        batch = batch.set_column(i, f.name, text)
    return batch


def _utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def digest(path: Path) -> tuple[str, int, int | None]:
    """SHA-256 hex, size in bytes and physical line count of a file.

    The line count is None when the file has no quote character: then no value can span
    lines and the CSV reader's own row count is the line count.
    """
    sha = hashlib.sha256()
    size = lines = 0
    quoted = False
    last = b""
    # One read of the file: each block is hashed in a second thread (hashlib releases the
    # GIL) while this one counts its lines (from the first quote on), so the count costs
    # no time of its own.
    with path.open("rb") as handle, ThreadPoolExecutor(max_workers=1) as hasher:
        hashing: Future[None] | None = None
        while block := handle.read(8 << 20):
            if hashing is not None:
                hashing.result()  # in file order; at most two blocks held
            hashing = hasher.submit(sha.update, block)
            if not quoted and b'"' in block:
                quoted = True
                lines = _count_lines(path, size)  # the blocks before (none, mostly)
            if quoted:
                lines += block.count(b"\n")
            size += len(block)
            last = block[-1:]
        if hashing is not None:
            hashing.result()
    count = lines + (1 if last and last != b"\n" else 0)
    return sha.hexdigest(), size, count if quoted else None


def _count_lines(path: Path, end: int) -> int:
    """The line ends in the first `end` bytes of a file."""
    lines = 0
    with path.open("rb") as handle:
        while end > 0 and (block := handle.read(min(8 << 20, end))):
            lines += block.count(b"\n")
            end -= len(block)
    return lines


__all__ = [
    "BATCH_ROWS",
    "Chunk",
    "Lines",
    "Mode",
    "Reread",
    "digest",
    "map_columns",
    "parquet_columns",
    "read_header",
    "stream_csv",
    "stream_parquet",
]
