"""Read a TETRA LIP log (CSV: issi, received_at, pdu_hex) into canonical fixes.

A fix's device_id is the ISSI; its time is the long report's time of position where it
has one, else received_at; the time-elapsed bound is its time uncertainty and the position
error (or horizontal uncertainty) its accuracy. Every row ends accepted, merged as an
exact duplicate, or quarantined with its line, column and reason.

A log is read in pieces of about `BLOCK_BYTES` (`stream_lip` yields one `Chunk` each), so
a log of any length is ingested in bounded memory; `read_lip` gathers them into one result.

Time of position carries only day, hour, minute and second (UTC): the month and year are
those of the latest such instant at or before received_at, allowing the radio's clock to
run up to `CLOCK_SKEW_S` ahead of the receiver's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from whereabouts.errors import InputError, ParameterError, SchemaError
from whereabouts.io.lip import codes as C
from whereabouts.io.lip.decode import decode_columns
from whereabouts.io.result import ReadResult, quarantine_table
from whereabouts.io.tables import far_outside
from whereabouts.io.tabular import Chunk, OriginalText, other_kind, safe_header
from whereabouts.io.times import DEFAULT_TIMEZONE, implausible, parse_times
from whereabouts.schema import UTC_TS

COLUMNS = ("issi", "received_at", "pdu_hex")
CLOCK_SKEW_S = 3600
SOURCE = "tetra"
_US = 1_000_000
BLOCK_BYTES = 16 << 20  # bytes of the log per chunk (about 300 k rows)
ACCEPTED = pa.schema(
    [
        pa.field("device_id", pa.string()),
        pa.field("time", UTC_TS),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        pa.field("accuracy_m", pa.float64()),
        pa.field("speed_mps", pa.float64()),
        pa.field("heading_deg", pa.float64()),
        pa.field("time_uncertainty_s", pa.float64()),
        pa.field("source", pa.string()),
        pa.field("src_line", pa.int64()),
    ]
)


def _lines(buf: np.ndarray, first: int) -> np.ndarray:
    """1-based numbers of the lines of `buf` that start a record (non-empty, not inside a
    quoted value), `buf` starting outside quotes on line `first`."""
    ends = np.flatnonzero(buf == 10)
    if len(ends) == 0 or ends[-1] != len(buf) - 1:
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1))
    span = ends - starts
    cr = (span > 0) & (buf[np.maximum(ends - 1, 0)] == 13)
    starts_record = (span - cr) > 0
    quotes = np.flatnonzero(buf == 34)
    if len(quotes):  # a line starting after an odd number of quotes continues a value
        starts_record &= np.searchsorted(quotes, starts) % 2 == 0
    return (np.flatnonzero(starts_record) + first).astype(np.int64)


def _blocks(path: Path, block_bytes: int) -> Iterator[tuple[bytes, int]]:
    """The file in pieces that end at a line end outside quotes, each with its first line.

    A piece is at least `block_bytes` long (bar the last), so a line is never cut; a newline
    inside a quoted value (an odd number of quote characters before it) does not end one.
    """
    line = 1
    quotes = 0  # quote characters seen before the current piece
    rest = b""
    block_bytes = min(block_bytes, max(path.stat().st_size, 1))
    with path.open("rb") as handle:
        while True:
            data = handle.read(block_bytes)
            buf = rest + data
            if len(data) < block_bytes:  # the end of the file: the rest in one piece
                if buf:
                    yield buf, line
                return
            arr = np.frombuffer(buf, np.uint8)
            newlines = np.flatnonzero(arr == 10)
            at = np.flatnonzero(arr == 34)  # quote characters in this buffer
            if len(newlines) and (quotes % 2 or len(at)):
                newlines = newlines[(quotes + np.searchsorted(at, newlines)) % 2 == 0]
            if len(newlines) == 0:
                rest = buf
                continue
            cut = int(newlines[-1]) + 1
            piece, rest = buf[:cut], buf[cut:]
            quotes += int(np.searchsorted(at, cut))
            yield piece, line
            line += int(np.count_nonzero(arr[:cut] == 10))


def _parse(raw: bytes, path: Path) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    """A header line plus rows, as strings; rows with the wrong field count kept aside."""
    bad_rows: list[tuple[int | None, str]] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        bad_rows.append((row.number, row.text))
        return "skip"

    try:
        table = pcsv.read_csv(
            pa.py_buffer(raw),
            read_options=pcsv.ReadOptions(use_threads=False),
            parse_options=pcsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in COLUMNS}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputError(
            f"not a readable CSV ({str(exc).splitlines()[0]})",
            where=str(path),
            hint="save the log as UTF-8 CSV with a header row",
        ) from exc
    return table, bad_rows


def _check_columns(found: list[str], path: Path) -> None:
    missing = [c for c in COLUMNS if c not in found]
    unknown = [c for c in found if c not in COLUMNS]
    if missing or unknown:
        shown, values = safe_header(found)
        problem = (
            "the first line holds values, not column names"
            if values
            else "; ".join(
                part
                for part in (
                    f"missing column(s) {missing}" if missing else "",
                    f"unknown column(s) {unknown}" if unknown else "",
                )
                if part
            )
        )
        other = other_kind(found, "lip")
        raise SchemaError(
            f"{problem}; found {shown}, expected {list(COLUMNS)}",
            where=str(path),
            hint=(f"this looks like {other}; " if other else "")
            + "a TETRA LIP log has exactly the columns issi, received_at, pdu_hex (a header "
            "line, then one row per PDU); fixes already decoded to lat/lon are read with "
            "--kind fixes",
        )


@dataclass
class _Piece:
    """Rows of one piece of the log as strings, with their physical lines."""

    table: pa.Table
    lines: np.ndarray
    bad_rows: list[tuple[int | None, str]]


def _check_text(head: bytes, path: Path) -> None:
    """Refuse a log that is not UTF-8 text (UTF-16, binary garbage) before parsing it, with
    a message rather than a decoding traceback; the bytes are never echoed."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise InputError(
            "the file is UTF-16 or binary, not UTF-8 text",
            where=str(path),
            hint="save the log as UTF-8 CSV (e.g. iconv -f UTF-16 -t UTF-8)",
        )
    try:
        head.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the block's end
            line = head[: exc.start].count(b"\n") + 1
            raise InputError(
                "the file is not UTF-8 text (binary or another encoding)",
                where=f"{path}:{line}",
                hint="a LIP log is a UTF-8 CSV of issi, received_at, pdu_hex; "
                "convert it (iconv -t UTF-8) or check the file",
            ) from None


def _pieces(path: Path, block_bytes: int) -> Iterator[_Piece]:
    """The log's rows piece by piece. Whole-file problems (empty, not CSV, wrong columns,
    header only) are raised before the first piece is yielded."""
    blocks = _blocks(path, block_bytes)
    header: bytes | None = None
    header_line = 0
    rows_before = 0  # rows read in earlier pieces (for files with values across lines)
    pending: list[_Piece] = []  # pieces held until the file is known to have a row
    seen_row = False
    for raw, first in blocks:
        if header is None:
            if re.search(rb"\S", raw) is None:
                continue
            buf = np.frombuffer(raw, np.uint8)
            nonempty = _lines(buf, first)
            header_line = int(nonempty[0])
            # the header line's bytes (BOM included) head every later piece
            newlines = np.flatnonzero(buf == 10)
            at = header_line - first
            end = int(newlines[at]) + 1 if at < len(newlines) else len(raw)
            start = int(newlines[at - 1]) + 1 if at > 0 else 0
            header = raw[start:end] if raw[start:end].endswith(b"\n") else raw[start:end] + b"\n"
            _check_text(raw[:4096], path)
            table, _ = _parse(header, path)
            _check_columns(table.column_names, path)
            raw, first = raw[end:], header_line + 1
            if not raw:
                continue
        buf = np.frombuffer(raw, np.uint8)
        table, bad_rows = _parse(header + raw, path)
        nonempty = np.concatenate(([header_line], _lines(buf, first)))
        # pyarrow numbers invalid rows among the non-empty lines (header = 1).
        bad_rows = [
            (int(nonempty[b - 1]) if b is not None and 0 < b <= len(nonempty) else b, t)
            for b, t in bad_rows
        ]
        lines = nonempty[1:]
        skipped = [b for b, _ in bad_rows if b is not None]
        if skipped:
            lines = lines[~np.isin(lines, skipped)]
        if len(lines) != table.num_rows:  # quotes we cannot follow: number the rows
            lines = np.arange(rows_before + 2, rows_before + table.num_rows + 2)
        rows_before += table.num_rows
        piece = _Piece(table.select(list(COLUMNS)), lines.astype(np.int64), bad_rows)
        if seen_row:
            yield piece
            continue
        pending.append(piece)
        if piece.table.num_rows or piece.bad_rows:
            seen_row = True
            yield from pending
            pending.clear()
    if header is None:
        raise InputError(
            "the file is empty",
            where=str(path),
            hint=f"a LIP log needs a header {','.join(COLUMNS)} and one row per PDU",
        )
    if not seen_row:
        raise InputError(
            "the file has a header but no rows",
            where=str(path),
            hint="check the export: a LIP log has one row per PDU",
        )


def _time_of_position(received_us: np.ndarray, ints: dict[str, np.ndarray]) -> np.ndarray:
    """UTC micros of the time of position, month and year taken from received_at."""
    rec = received_us.astype("datetime64[us]")
    month0 = rec.astype("datetime64[M]")
    day = np.maximum(ints["day"], 1)
    secs = ints["hour"] * 3600 + ints["minute"] * 60 + ints["second"]
    chosen = np.full(len(rec), np.iinfo(np.int64).min)
    for back in (2, 1, 0):  # the latest month that fits wins: try the oldest first
        month = month0 - np.timedelta64(back, "M")
        first = month.astype("datetime64[D]")
        days_in = ((month + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(int)
        cand = (first.astype("datetime64[s]").astype(np.int64) + (day - 1) * 86400 + secs) * _US
        fits = (day <= days_in) & (cand <= received_us + CLOCK_SKEW_S * _US)
        chosen = np.where(fits, cand, chosen)
    return chosen


class _Reasons:
    """First reason per row, as integer codes into a list of texts (no object arrays)."""

    def __init__(self, n: int) -> None:
        self.code = np.zeros(n, np.int32)
        self.column = np.zeros(n, np.int8)
        self._texts: list[str | None] = [None]
        self._columns: list[str | None] = [None]

    def _col(self, name: str) -> int:
        if name not in self._columns:
            self._columns.append(name)
        return self._columns.index(name)

    def flag(self, mask: np.ndarray, column: str, why: str | pa.Array) -> None:
        new = mask & (self.code == 0)
        if not new.any():
            return
        if isinstance(why, str):
            self._texts.append(why)
            self.code[new] = len(self._texts) - 1
        else:
            enc = pc.dictionary_encode(why)
            base = len(self._texts)
            self._texts.extend(enc.dictionary.to_pylist())
            idx = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
            self.code[new] = idx[new] + base
        self.column[new] = self._col(column)

    def flag_codes(
        self, mask: np.ndarray, column: str, codes: np.ndarray, texts: list[str]
    ) -> None:
        """Reasons given as 1-based codes into `texts`."""
        new = mask & (self.code == 0)
        if not new.any():
            return
        base = len(self._texts)
        self._texts.extend(texts)
        self.code[new] = codes[new] - 1 + base
        self.column[new] = self._col(column)

    def texts(self, rows: np.ndarray) -> tuple[list[str | None], list[str | None]]:
        """(columns, reasons) of the selected rows."""
        cols = np.array(self._columns, dtype=object)[self.column[rows]]
        return list(cols), list(np.array(self._texts, dtype=object)[self.code[rows]])


def merge_duplicates(fixes: pa.Table) -> tuple[pa.Table, int]:
    """Keep the first of fixes identical in every column but src_line; count the rest.

    Same rule as `io.result.merge_exact_duplicates`, done with a numpy lexsort and adjacent
    comparison (a few times faster than a group-by over every column on a million rows).
    """
    n = fixes.num_rows
    if n < 2:
        return fixes, 0
    keys: list[np.ndarray] = []
    for name in fixes.column_names:
        if name == "src_line":
            continue
        col = fixes[name].combine_chunks()
        if pa.types.is_string(col.type):
            keys.append(
                np.asarray(
                    pc.dictionary_encode(col).indices.fill_null(-1).to_numpy(zero_copy_only=False),
                    np.int64,
                )
            )
        elif pa.types.is_timestamp(col.type):
            keys.append(np.asarray(col.cast(pa.int64()).fill_null(-(2**62)).to_numpy()))
        else:
            keys.append(
                np.asarray(col.fill_null(np.nan).to_numpy(zero_copy_only=False), np.float64)
            )
    # Duplicates share device and time: only rows whose (device, time) recurs need the full
    # comparison, done by a stable lexsort over every column and adjacent comparison.
    names = [c for c in fixes.column_names if c != "src_line"]
    dev = keys[names.index("device_id")] if "device_id" in names else keys[0]
    when = keys[names.index("time")] if "time" in names else keys[-1]
    first = np.lexsort((when, dev))
    tie = (dev[first[1:]] == dev[first[:-1]]) & (when[first[1:]] == when[first[:-1]])
    if not tie.any():
        return fixes, 0
    cand = np.zeros(n, bool)
    cand[first[1:][tie]] = True
    cand[first[:-1][tie]] = True
    rows = np.flatnonzero(cand)  # file order
    sub = [k[rows] for k in keys]
    order = np.lexsort(sub[::-1])  # stable: equal rows stay in file order
    same = np.ones(len(rows) - 1, bool)
    for k in sub:
        a, b = k[order[1:]], k[order[:-1]]
        eq = a == b
        if k.dtype.kind == "f":
            eq |= np.isnan(a) & np.isnan(b)
        same &= eq
    if not same.any():
        return fixes, 0
    keep = np.ones(n, bool)
    keep[rows[order[1:][same]]] = False
    return fixes.filter(pa.array(keep)), int(n - keep.sum())


def _decode(piece: _Piece, path: Path, timezone: str, crs: str | None = None) -> Chunk:
    """Fixes of one piece: accepted (exact duplicates within it merged) and quarantined."""
    table, lines, bad_rows = piece.table, piece.lines, piece.bad_rows
    n = table.num_rows
    issi = pc.utf8_trim_whitespace(table["issi"].combine_chunks())
    received = table["received_at"].combine_chunks()
    pdu = pc.utf8_trim_whitespace(table["pdu_hex"].combine_chunks())
    why = _Reasons(n)
    why.flag(
        np.asarray(pc.equal(pc.utf8_length(issi), 0).to_numpy(zero_copy_only=False)),
        "issi",
        "missing issi",
    )
    parsed = parse_times(received, timezone)
    why.flag(~parsed.ok, "received_at", parsed.reasons)
    ints, floats, _, out = decode_columns(pdu)
    why.flag_codes(out.err != 0, "pdu_hex", out.err, out.reasons)
    pe = ints["position_error_code"]
    why.flag(
        pe == C.POSITION_ERROR_TOO_COARSE,
        "pdu_hex",
        "position error > 200 km (code 6): too coarse to place the radio",
    )
    why.flag(
        np.isnan(floats["lat"]),
        "pdu_hex",
        "long location report without a position (location shape 0)",
    )
    why.flag(
        (ints["lat_code"] == 0) & (ints["lon_code"] == 0),
        "pdu_hex",
        "position at (0, 0): the radio had no fix",
    )
    far, why_far = far_outside(floats["lat"], floats["lon"], crs)
    why.flag(far, "pdu_hex", why_far)

    received_us = np.asarray(pc.fill_null(parsed.times.cast(pa.int64()), 0).to_numpy())
    has_tp = ints["time_type"] == C.TIME_OF_POSITION
    time_us = np.where(has_tp, _time_of_position(received_us, ints), received_us)
    times = pa.array(time_us, pa.int64()).cast(UTC_TS)
    late = implausible(times)
    why.flag(
        np.asarray(pc.is_valid(late).to_numpy(zero_copy_only=False), bool), "received_at", late
    )

    ok = why.code == 0
    keep = pa.array(ok)
    speed = floats["speed_kmh"] / 3.6
    accepted = pa.table(
        {
            "device_id": issi.filter(keep),
            "time": times.filter(keep),
            "lat": pa.array(floats["lat"][ok]),
            "lon": pa.array(floats["lon"][ok]),
            "accuracy_m": pa.array(
                floats["accuracy_m"][ok], mask=np.isnan(floats["accuracy_m"][ok])
            ),
            "speed_mps": pa.array(speed[ok], mask=np.isnan(speed[ok])),
            "heading_deg": pa.array(
                floats["heading_deg"][ok], mask=np.isnan(floats["heading_deg"][ok])
            ),
            "time_uncertainty_s": pa.array(
                floats["time_uncertainty_s"][ok], mask=np.isnan(floats["time_uncertainty_s"][ok])
            ),
            "source": pa.array(np.full(int(ok.sum()), SOURCE), pa.string()),
            "src_line": pa.array(lines[ok], pa.int64()),
        },
        schema=ACCEPTED,
    )
    accepted, duplicates = merge_duplicates(accepted)
    bad = ~ok
    raw = pc.binary_join_element_wise(
        pc.fill_null(table["issi"].combine_chunks(), ""),
        pc.fill_null(received, ""),
        pc.fill_null(pdu, ""),
        ",",
    ).filter(pa.array(bad))
    quarantine = quarantine_table(lines[bad], *why.texts(bad), raw)
    if bad_rows:
        extra = quarantine_table(
            [b if b is not None else 0 for b, _ in bad_rows],
            [None] * len(bad_rows),
            [f"expected {len(COLUMNS)} fields ({', '.join(COLUMNS)})"] * len(bad_rows),
            [t for _, t in bad_rows],
        )
        quarantine = pa.concat_tables([quarantine, extra]).sort_by("line")
    return Chunk(accepted, quarantine, n + len(bad_rows), duplicates)


def stream_lip(
    path: Path,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    block_bytes: int | None = None,
    crs: str | None = None,
) -> Iterator[Chunk]:
    """A LIP log as `Chunk`s of about `block_bytes` of the file each (default `BLOCK_BYTES`),
    so memory stays bounded whatever the log's length.

    Rows keep their physical line numbers; exact duplicates are merged within a chunk and
    counted in its `duplicates` (duplicates in different chunks are the consumer's to merge,
    as the store's `DuplicateFinder` and `read_lip` do). Whole-file problems (empty file,
    header only, wrong columns) are raised before the first chunk; a byte that is not UTF-8
    stops the read when its chunk is reached. Positions far outside the grid of `crs` (the
    workspace's) are quarantined; the quarantine's raw is each line as the file holds it.
    """
    path = Path(path)
    size = BLOCK_BYTES if block_bytes is None else block_bytes
    if size < 1:
        raise ParameterError(f"block size {size} bytes", hint="give a block size of 1 or more")
    original = OriginalText(path)
    try:
        for piece in _pieces(path, size):
            yield original.patch(_decode(piece, path, timezone, crs))
    finally:
        original.close()


def read_lip(
    path: Path, *, timezone: str = DEFAULT_TIMEZONE, block_bytes: int | None = None
) -> ReadResult:
    """Read a LIP log into fixes (source "tetra"); naive received_at is read in `timezone`.

    The whole result in memory, built from `stream_lip` (exact duplicates in different
    chunks merged too); for logs of any length, stream them instead.
    """
    path = Path(path)
    chunks = list(stream_lip(path, timezone=timezone, block_bytes=block_bytes))
    accepted = pa.concat_tables([c.accepted for c in chunks])
    quarantine = pa.concat_tables([c.quarantine for c in chunks])
    accepted, across = merge_duplicates(accepted)
    return ReadResult(
        table="fixes",
        file=str(path),
        accepted=accepted,
        quarantine=quarantine,
        read=sum(c.read for c in chunks),
        duplicates=across + sum(c.duplicates for c in chunks),
    ).check()


__all__ = ["ACCEPTED", "BLOCK_BYTES", "CLOCK_SKEW_S", "read_lip", "stream_lip"]
