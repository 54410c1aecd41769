"""Read NMEA 0183 logs (RMC and GGA sentences) into canonical fixes.

A log is streamed in blocks of about 8 MB (`stream_nmea`), so memory stays bounded
whatever its length; each block is handled as numpy / Arrow columns, no Python loop over
sentences: lines are split, the bytes of every '*' and ',' located at once (so every field's
start and end), checksums XORed with `np.bitwise_xor.reduceat`, and each field gathered
into one Arrow string column and parsed (numbers by one cast per field). The
last dated RMC is carried from block to block (to date the GGA sentences after it), and the
sentences of a block's last epoch are held over to the next block, so an RMC and the GGA of
its epoch are always read together.

How lines count (read = accepted + duplicates + quarantined):
- every non-blank line is read; blank lines are not records;
- `#` comment lines are quarantined with reason "comment line", so they are counted and
  shown, never silently dropped; so are sentences of other types (GSV, GSA, VTG, ...),
  which carry no fix, and lines that are not NMEA sentences;
- a sentence with a bad or missing checksum, an RMC with status V (or NMEA 2.3 mode N), a
  GGA with fix quality 0,
  or a GGA before any dated RMC is quarantined with that reason;
- RMC gives date, time, position, speed and course; a GGA of the same epoch as an RMC is
  merged into it (its HDOP becomes the fix's accuracy) and counted as a duplicate; a GGA
  alone is a fix of its own, dated by the latest RMC before it (a day later if its time of
  day is more than 12 h before that RMC's, i.e. midnight passed).
- accuracy_m is HDOP x 5 m (as for GPX); two-digit years are 19yy from 80, else 20yy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.errors import InputError
from whereabouts.io.lip.bits import string_bytes
from whereabouts.io.lip.reader import merge_duplicates
from whereabouts.io.result import ReadResult, quarantine_table
from whereabouts.io.tables import far_outside
from whereabouts.io.tabular import Chunk
from whereabouts.io.times import implausible
from whereabouts.schema import UTC_TS

SOURCE = "nmea"
UERE_M = 5.0
KNOT_MPS = 1852.0 / 3600.0
_HEXDIGIT = np.zeros(256, bool)
_HEXDIGIT[np.frombuffer(b"0123456789ABCDEFabcdef", np.uint8)] = True
_NIBBLE = np.zeros(256, np.int64)
_NIBBLE[np.frombuffer(b"0123456789ABCDEF", np.uint8)] = np.arange(16)
_NIBBLE[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
BLOCK_BYTES = 8 << 20  # the log is read this much at a time
MAX_LINE_BYTES = 1 << 20  # a "line" longer than this is not NMEA (sentences are ~82 bytes)


def _np(a: pa.Array | pa.ChunkedArray, dtype: type | str = float) -> np.ndarray:
    return np.asarray(a.to_numpy(zero_copy_only=False), dtype=dtype)


def _num(values: pa.Array) -> np.ndarray:
    """Numbers from strings; NaN where empty or unreadable."""
    blank = pc.equal(pc.fill_null(values, ""), "")
    try:  # the common case: every field a number or empty, no regex needed
        nums = pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), values), pa.float64())
        return _np(pc.fill_null(nums, np.nan))
    except pa.ArrowInvalid:
        pass
    ok = pc.fill_null(pc.match_substring_regex(values, r"^[-+]?(\d+\.?\d*|\.\d+)$"), False)
    safe = pc.if_else(ok, values, pa.scalar(None, pa.string()))
    return _np(pc.fill_null(pc.cast(safe, pa.float64()), np.nan))


def _degrees(value: pa.Array, hemi: pa.Array, negative: str) -> np.ndarray:
    v = _num(value)
    d = np.floor(v / 100.0)
    deg = d + (v - 100.0 * d) / 60.0
    return np.where(_np(pc.equal(pc.fill_null(hemi, ""), negative), bool), -deg, deg)


def _seconds_of_day(value: pa.Array) -> np.ndarray:
    v = _num(value)
    hh, mm, ss = np.floor(v / 10000.0), np.floor(v / 100.0) % 100, v % 100.0
    ok = (hh < 24) & (mm < 60) & (ss < 61)
    # One leap-second rule for every reader (io.times.parse_times): second 60 is read as
    # second 59 (its fraction kept), never as the next day's 00:00:00.
    ss = np.where(ss >= 60, ss - 1.0, ss)
    return np.where(ok, hh * 3600.0 + mm * 60.0 + ss, np.nan)


def _days(value: pa.Array) -> np.ndarray:
    """ddmmyy → days since 1970-01-01 (NaN where unreadable)."""
    v = _num(
        pc.if_else(
            pc.equal(pc.utf8_length(pc.fill_null(value, "")), 6),
            value,
            pa.scalar(None, pa.string()),
        )
    )
    ok = np.isfinite(v)
    vi = np.where(ok, v, 10100).astype(np.int64)
    dd, mo, yy = vi // 10000, vi // 100 % 100, vi % 100
    year = np.where(yy >= 80, 1900 + yy, 2000 + yy)
    good = ok & (mo >= 1) & (mo <= 12) & (dd >= 1)
    month = ((year - 1970) * 12 + np.clip(mo, 1, 12) - 1).astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    days_in = ((month + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(int)
    good &= dd <= days_in
    days = (first.astype(np.int64) + dd - 1).astype(float)
    return np.where(good, days, np.nan)


def _blocks(path: Path, size: int) -> Iterator[tuple[pa.Array, np.ndarray]]:
    """The log's non-blank lines (trimmed) and their physical line numbers, a block of about
    `size` bytes at a time (the first at least 64 KB, enough to tell an NMEA log), each
    block ending at a line end."""
    line0 = 0
    rest = b""
    step = max(size, 1 << 16)
    with open(path, "rb") as f:
        while True:
            data = f.read(step)
            step = size
            buf = rest + data
            if data:
                cut = buf.rfind(b"\n")
                if cut < 0:
                    if len(buf) > MAX_LINE_BYTES:
                        raise InputError(
                            f"line {line0 + 1} is longer than {MAX_LINE_BYTES} bytes: not an "
                            "NMEA log (sentences are about 80 characters)",
                            where=str(path),
                            hint="check the file kind, or split the log into lines",
                        )
                    rest = buf
                    continue
                block, rest = buf[: cut + 1], buf[cut + 1 :]
            else:
                block, rest = buf, b""
            if block:
                text = block.decode("latin-1")  # NMEA is ASCII; other bytes fail checksums
                lines = pc.list_flatten(pc.split_pattern(pa.array([text]), "\n"))
                if block.endswith(b"\n"):
                    lines = lines[:-1]  # the empty piece after the final line end
                numbers = np.arange(line0 + 1, line0 + len(lines) + 1, dtype=np.int64)
                line0 += len(lines)
                lines = pc.utf8_trim_whitespace(lines)
                keep = _np(pc.greater(pc.utf8_length(lines), 0), bool)
                if keep.any():
                    yield lines.filter(pa.array(keep)), numbers[keep]
            if not data:
                return


def _epoch_start(lines: pa.Array) -> int:
    """Where the block's last epoch begins: the first of the trailing lines whose time of day
    is that of the last RMC or GGA (lines of no epoch in between go with it). Only the
    block's tail is looked at, widened until the epoch before the last is in it."""
    n, window = len(lines), 256
    while True:
        lo = max(0, n - window)
        cut = _epoch_start_in(lines[lo:])
        if lo == 0 or 0 < cut < n - lo:
            return lo + cut
        window *= 4


def _epoch_start_in(lines: pa.Array) -> int:
    found = pc.extract_regex(lines, r"^[$!][A-Z]{2}(?:RMC|GGA),(?P<t>[^,*]*)")
    tod = np.asarray(
        pc.fill_null(found.field(0) if len(lines) else pa.array([], pa.string()), "\x00").to_numpy(
            zero_copy_only=False
        ),
        dtype=object,
    )
    timed = np.flatnonzero(tod != "\x00")
    if not len(timed):
        return len(lines)
    last = tod[timed[-1]]
    differ = timed[tod[timed] != last]
    return int(differ[-1]) + 1 if len(differ) else 0


def _not_nmea(path: Path, first: str) -> InputError:
    """No line of the file is a sentence: say so as a whole, naming the kind it looks like."""
    import csv

    from whereabouts.io.tabular import other_kind

    other = other_kind(next(csv.reader([first]), []), "nmea")
    return InputError(
        "no NMEA sentence in the file (no line starts with $ or !)",
        where=str(path),
        hint=(
            f"this looks like {other}"
            if other
            else "an NMEA 0183 log has one sentence per line ($GPRMC, $GPGGA, ...)"
        ),
    )


def stream_nmea(
    path: Path, *, device_id: str, block_bytes: int | None = None, crs: str | None = None
) -> Iterator[Chunk]:
    """An NMEA log as `Chunk`s of about `block_bytes` of it each (default 8 MB), so memory
    stays bounded whatever its length. Rows keep their physical line numbers; exact
    duplicates are merged within a chunk (across chunks: the consumer's, as the store's
    `DuplicateFinder` and `read_nmea` do). Whole-file problems (empty, no sentence at all)
    are raised before the first chunk. Positions far outside the grid of `crs` (the
    workspace's) are quarantined."""
    path = Path(path)
    size = BLOCK_BYTES if block_bytes is None else max(int(block_bytes), 1)
    rmc = (np.nan, np.nan)  # the last dated RMC so far: (days, time of day)
    held: tuple[pa.Array, np.ndarray] | None = None
    first = True
    for lines, numbers in _blocks(path, size):
        if first and not _np(pc.match_substring_regex(lines, r"^[$!]"), bool).any():
            raise _not_nmea(path, str(lines[0]))
        first = False
        if held is not None:
            lines = pa.concat_arrays([held[0], lines])
            numbers = np.concatenate([held[1], numbers])
        cut = _epoch_start(lines)
        held = (lines[cut:], numbers[cut:]) if cut < len(lines) else None
        if cut:
            result, rmc = _read_lines(path, lines[:cut], numbers[:cut], device_id, rmc, crs)
            yield Chunk(result.accepted, result.quarantine, result.read, result.duplicates)
    if first:
        raise InputError(
            "the file is empty",
            where=str(path),
            hint="an NMEA log has one sentence per line ($GPRMC, $GPGGA, ...)",
        )
    if held is not None:
        result, rmc = _read_lines(path, held[0], held[1], device_id, rmc, crs)
        yield Chunk(result.accepted, result.quarantine, result.read, result.duplicates)


def read_nmea(path: Path, *, device_id: str, block_bytes: int | None = None) -> ReadResult:
    """Read an NMEA 0183 log of one device into fixes (source "nmea"): the whole result in
    memory, gathered from `stream_nmea` (exact duplicates in different blocks merged too)."""
    path = Path(path)
    chunks = list(stream_nmea(path, device_id=device_id, block_bytes=block_bytes))
    accepted, across = merge_duplicates(pa.concat_tables([c.accepted for c in chunks]))
    quarantine = pa.concat_tables([c.quarantine for c in chunks])
    reasons = quarantine.column("reason").to_pylist()
    merged = sum(c.duplicates for c in chunks)
    notes = (
        f"{sum(r == 'comment line' for r in reasons)} comment lines",
        f"{sum(str(r).endswith('(only RMC and GGA are read)') for r in reasons)} "
        "sentences of other types (no fix)",
    )
    return ReadResult(
        table="fixes",
        file=str(path),
        accepted=accepted,
        quarantine=quarantine,
        read=sum(c.read for c in chunks),
        duplicates=merged + across,
        notes=notes,
    ).check()


class _Reasons:
    """Each line's reason for quarantine; the first one given wins (None: none yet)."""

    def __init__(self, n: int) -> None:
        self.why = np.full(n, None, dtype=object)

    def flag(self, mask: np.ndarray, why: str | np.ndarray) -> None:
        """Give the lines of `mask` that have no reason yet this one (or theirs in `why`)."""
        new = mask & (self.why == None)  # noqa: E711
        self.why[new] = why[new] if isinstance(why, np.ndarray) else why


@dataclass
class _Sentences:
    """A block's bytes, which lines are sentences (framing and checksum), and where fields
    0..12 of each sentence body lie in the bytes ((n, 14) start and end, -1 where absent)."""

    data: np.ndarray
    is_sentence: np.ndarray
    bad_cs: np.ndarray
    f_start: np.ndarray
    f_end: np.ndarray

    def field(self, i: int, rows: np.ndarray | None = None) -> pa.Array:
        """Field i of every line as strings ("" where absent; null outside `rows`)."""
        return self.gather(self.f_start[:, i], self.f_end[:, i], rows)

    def gather(self, s: np.ndarray, e: np.ndarray, rows: np.ndarray | None) -> pa.Array:
        """The bytes s..e of each line as one string column (only `rows`' bytes copied)."""
        n = len(s)
        take = (s >= 0) & (e >= s)
        if rows is not None:
            take &= rows
        size = np.where(take, e - s, 0)
        offs = np.zeros(n + 1, np.int64)
        np.cumsum(size, out=offs[1:])
        index = np.repeat(s - offs[:-1], size) + np.arange(offs[-1])
        valid = None if rows is None else pa.py_buffer(np.packbits(rows, bitorder="little"))
        return pa.LargeStringArray.from_buffers(
            n,
            pa.py_buffer(offs),
            pa.py_buffer(self.data[index].tobytes()),
            valid,
            -1 if rows is not None else 0,
        )


def _sentences(lines: pa.Array, reasons: _Reasons) -> _Sentences:
    """The lines' sentences: comments, lines that are not sentences ($ or ! first, '*' then
    two hex digits last, no other '*') and bad checksums flagged; every field located."""
    n = len(lines)
    reasons.flag(_np(pc.starts_with(lines, "#"), bool), "comment line")
    data, offsets = string_bytes(lines)
    data, offsets = data[offsets[0] : offsets[-1]], offsets - offsets[0]
    starts, ends = offsets[:-1], offsets[1:]
    length = ends - starts
    first = data[starts]  # lines are never empty (blank lines are not records)
    line_of = np.zeros(len(data), np.int32)  # the line of every byte
    line_of[starts[1:]] = 1
    np.cumsum(line_of, out=line_of)
    star = np.flatnonzero(data == 42)
    star_line = line_of[star]
    stars = np.bincount(star_line, minlength=n)[:n] if n else np.zeros(0, np.int64)
    tail = np.maximum(ends - 3, starts)
    hi, lo = data[np.maximum(ends - 2, starts)], data[ends - 1]
    is_sentence = (
        ((first == 36) | (first == 33))
        & (length >= 4)
        & (data[tail] == 42)
        & (stars == 1)
        & _HEXDIGIT[hi]
        & _HEXDIGIT[lo]
    )
    reasons.flag(
        ~is_sentence & ((first == 36) | (first == 33)), "NMEA sentence without a checksum (*hh)"
    )
    reasons.flag(~is_sentence, "not an NMEA sentence")
    body_start = starts + 1
    body_end = np.where(is_sentence, ends - 3, body_start)
    given = _NIBBLE[hi] * 16 + _NIBBLE[lo]
    bad_cs = _bad_checksums(data, body_start, body_end, is_sentence, given, reasons)
    comma = np.flatnonzero(data == 44)
    c_line = line_of[comma]
    del line_of
    f_start, f_end = _field_bounds(comma, c_line, is_sentence, body_start, body_end)
    return _Sentences(data, is_sentence, bad_cs, f_start, f_end)


def _bad_checksums(
    data: np.ndarray,
    body_start: np.ndarray,
    body_end: np.ndarray,
    is_sentence: np.ndarray,
    given: np.ndarray,
    reasons: _Reasons,
) -> np.ndarray:
    """The sentences whose body's XOR is not the checksum `given` (flagged, in hex)."""
    n = len(body_start)
    nonempty = body_end > body_start
    xor = np.zeros(n, np.int64)
    if nonempty.any():
        edges = np.stack([body_start[nonempty], body_end[nonempty]], 1).ravel()
        xor[nonempty] = np.bitwise_xor.reduceat(data, edges)[::2]
    bad_cs: np.ndarray = is_sentence & (xor != given)
    if bad_cs.any():  # a message per bad sentence (few): the checksums in hex
        why = np.full(n, None, dtype=object)
        why[bad_cs] = [
            f"bad checksum (computed {c:02X}, sentence says {h:X}{g:X})"
            for c, h, g in zip(
                xor[bad_cs] & 255, given[bad_cs] // 16, given[bad_cs] % 16, strict=True
            )
        ]
        reasons.flag(bad_cs, why)
    return bad_cs


def _field_bounds(
    comma: np.ndarray,
    c_line: np.ndarray,
    is_sentence: np.ndarray,
    body_start: np.ndarray,
    body_end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Fields 0..12 of each sentence body as (start, end) byte positions, from the commas
    (`comma`, on lines `c_line`); -1 where a line has no such field."""
    n = len(is_sentence)
    inside = is_sentence[c_line] & (comma < body_end[c_line])
    comma, c_line = comma[inside], c_line[inside]
    count = np.bincount(c_line, minlength=n)[:n] if n else np.zeros(0, np.int64)
    rank = np.arange(len(comma)) - (np.cumsum(count) - count)[c_line]
    nf = 13
    f_start = np.full((n, nf + 1), -1, np.int64)
    f_end = np.full((n, nf + 1), -1, np.int64)
    f_start[is_sentence, 0] = body_start[is_sentence]
    few = rank < nf
    f_end[c_line[few], rank[few]] = comma[few]
    f_start[c_line[few], rank[few] + 1] = comma[few] + 1
    last = is_sentence & (count <= nf)
    f_end[last, count[last]] = body_end[last]
    return f_start, f_end


def _kinds(sent: _Sentences, reasons: _Reasons) -> tuple[np.ndarray, np.ndarray]:
    """(RMC, GGA): the sentences read; those of other types are flagged as carrying no fix."""
    head = sent.field(0)
    kind = pc.utf8_slice_codeunits(head, 2, 5)
    own = _np(pc.starts_with(head, "P"), bool)  # proprietary ($P...) sentences
    is_rmc = sent.is_sentence & _np(pc.equal(kind, "RMC"), bool) & ~own
    is_gga = sent.is_sentence & _np(pc.equal(kind, "GGA"), bool) & ~own
    other = sent.is_sentence & ~is_rmc & ~is_gga
    if other.any():
        reasons.flag(
            other,
            _np(
                pc.binary_join_element_wise(
                    head,
                    pa.scalar(
                        " sentence carries no fix (only RMC and GGA are read)", pa.large_string()
                    ),
                    pa.scalar("", pa.large_string()),
                ),
                object,
            ),
        )
    return is_rmc, is_gga


@dataclass
class _Values:
    """The fields of the RMC and GGA sentences, as numbers (NaN where absent)."""

    is_rmc: np.ndarray
    is_gga: np.ndarray
    tod: np.ndarray  # seconds of the day
    lat: np.ndarray
    lon: np.ndarray
    speed: np.ndarray  # m/s
    course: np.ndarray
    hdop: np.ndarray
    rmc_days: np.ndarray  # days since 1970 of the RMC sentences


def _values(sent: _Sentences, reasons: _Reasons, crs: str | None) -> _Values:
    """The RMC and GGA sentences' values, those that are no fix or not plausible flagged."""
    is_rmc, is_gga = _kinds(sent, reasons)
    fix = is_rmc | is_gga

    def either(i_rmc: int, i_gga: int) -> pa.Array:
        """Field i_rmc of RMC sentences beside field i_gga of GGA ones (null elsewhere)."""
        return sent.gather(
            np.where(is_rmc, sent.f_start[:, i_rmc], sent.f_start[:, i_gga]),
            np.where(is_rmc, sent.f_end[:, i_rmc], sent.f_end[:, i_gga]),
            fix,
        )

    # RMC: 2 status, 3-4 lat, 5-6 lon, 7 speed (knots), 8 course, 9 date
    # GGA: 2-3 lat, 4-5 lon, 6 quality, 7 satellites, 8 hdop
    v = _Values(
        is_rmc,
        is_gga,
        tod=_seconds_of_day(sent.field(1)),
        lat=_degrees(either(3, 2), either(4, 3), "S"),
        lon=_degrees(either(5, 4), either(6, 5), "W"),
        speed=_num(sent.field(7, is_rmc)) * KNOT_MPS,
        course=_num(sent.field(8, is_rmc)),
        hdop=_num(sent.field(8, is_gga)),
        rmc_days=_days(sent.field(9, is_rmc & ~sent.bad_cs)),
    )
    quality = _num(sent.field(6, is_gga))
    lat, lon = v.lat, v.lon
    flag = reasons.flag
    flag(
        is_rmc & ~_np(pc.fill_null(pc.equal(sent.field(2, is_rmc), "A"), False), bool),
        "no fix: RMC status V (receiver warning)",
    )
    flag(
        is_rmc & _np(pc.fill_null(pc.equal(sent.field(12, is_rmc), "N"), False), bool),
        "no fix: RMC mode indicator N",
    )
    flag(is_gga & ~(quality > 0), "no fix: GGA fix quality 0")
    flag(fix & (np.isnan(lat) | np.isnan(lon)), "missing or unreadable position")
    flag(fix & ((np.abs(lat) > 90) | (np.abs(lon) > 180)), "position out of range")
    flag(fix & (lat == 0) & (lon == 0), "position at (0, 0): no fix")
    far, why_far = far_outside(lat, lon, crs)
    flag(fix & far, why_far)
    flag(fix & np.isnan(v.tod), "missing or impossible time of day")
    flag(is_rmc & np.isnan(v.rmc_days), "RMC without a readable date (ddmmyy)")
    # the plausibility rules of every reader: accuracy and speed finite and >= 0
    flag(is_gga & ((v.hdop < 0) | np.isinf(v.hdop)), "HDOP negative or infinite: no accuracy")
    flag(is_rmc & ((v.speed < 0) | np.isinf(v.speed)), "speed negative or infinite")
    return v


def _times(
    v: _Values, rmc: tuple[float, float], reasons: _Reasons
) -> tuple[np.ndarray, pa.Array, tuple[float, float]]:
    """(µs, UTC times) of every sentence, and the last dated RMC (days, seconds of the day)
    after the block; `rmc` is the last one before it.

    A GGA is dated by the latest dated RMC before it, a day on if midnight passed between.
    """
    n = len(v.tod)
    dated = np.isfinite(v.rmc_days) & np.isfinite(v.tod)
    last = np.where(dated, np.arange(n), -1)
    last = np.maximum.accumulate(last) if n else last
    prev_days = np.where(last >= 0, v.rmc_days[np.maximum(last, 0)], rmc[0])
    prev_tod = np.where(last >= 0, v.tod[np.maximum(last, 0)], rmc[1])
    if dated.any():
        k = int(np.flatnonzero(dated)[-1])
        rmc = (float(v.rmc_days[k]), float(v.tod[k]))
    gga_days = prev_days + (v.tod < prev_tod - 43200)
    reasons.flag(v.is_gga & np.isnan(gga_days), "GGA before any dated RMC: no date to place it")
    days = np.where(v.is_rmc, v.rmc_days, gga_days)
    us = np.where(
        np.isfinite(days) & np.isfinite(v.tod),
        np.round((days * 86400.0 + np.nan_to_num(v.tod)) * 1e6),
        0,
    ).astype(np.int64)
    times = pa.array(us, pa.int64()).cast(UTC_TS)
    why_late = _np(implausible(times), object)
    reasons.flag((v.is_rmc | v.is_gga) & (why_late != None), why_late)  # noqa: E711
    return us, times, rmc


def _merge_gga(v: _Values, us: np.ndarray, reasons: _Reasons) -> tuple[np.ndarray, np.ndarray, int]:
    """(accepted lines, accuracy in m, GGA merged): a GGA of the same epoch as an accepted
    RMC is merged into it (its HDOP becomes the RMC's accuracy; reason "merged")."""
    ok: np.ndarray = reasons.why == None  # noqa: E711
    rmc_rows = np.flatnonzero(ok & v.is_rmc)
    gga_rows = np.flatnonzero(ok & v.is_gga)
    acc = v.hdop * UERE_M
    merged = 0
    if len(rmc_rows) and len(gga_rows):
        g_order = np.argsort(us[gga_rows], kind="stable")
        g_sorted = us[gga_rows][g_order]
        pos = np.clip(np.searchsorted(g_sorted, us[rmc_rows]), 0, len(g_sorted) - 1)
        has_gga = g_sorted[pos] == us[rmc_rows]
        acc[rmc_rows[has_gga]] = acc[gga_rows[g_order[pos[has_gga]]]]
        in_rmc = np.isin(us[gga_rows], us[rmc_rows])
        ok[gga_rows[in_rmc]] = False
        reasons.why[gga_rows[in_rmc]] = "merged"
        merged = int(in_rmc.sum())
    return ok, acc, merged


def _read_lines(
    path: Path,
    lines: pa.Array,
    numbers: np.ndarray,
    device_id: str,
    rmc: tuple[float, float],
    crs: str | None = None,
) -> tuple[ReadResult, tuple[float, float]]:
    """One block's lines as fixes and quarantined rows; `rmc` the last dated RMC before the
    block, and the last dated RMC after it."""
    n = len(lines)
    reasons = _Reasons(n)
    v = _values(_sentences(lines, reasons), reasons, crs)
    us, times, rmc = _times(v, rmc, reasons)
    ok, acc, merged = _merge_gga(v, us, reasons)
    sel = pa.array(ok)

    def col(values: np.ndarray) -> pa.Array:
        return pa.array(values[ok], pa.float64(), mask=np.isnan(values[ok]))

    k = int(ok.sum())
    accepted = pa.table(
        {
            "device_id": pa.array(np.full(k, device_id), pa.string()),
            "time": times.filter(sel),
            "lat": pa.array(v.lat[ok]),
            "lon": pa.array(v.lon[ok]),
            "accuracy_m": col(acc),
            "speed_mps": col(v.speed),
            "heading_deg": col(v.course % 360.0),
            "time_uncertainty_s": pa.nulls(k, pa.float64()),
            "source": pa.array(np.full(k, SOURCE), pa.string()),
            "src_line": pa.array(numbers[ok]),
        }
    )
    accepted, duplicates = merge_duplicates(accepted)
    reason = reasons.why
    bad = ~ok & (reason != "merged")
    quarantine = quarantine_table(
        numbers[bad], [None] * int(bad.sum()), list(reason[bad]), lines.filter(pa.array(bad))
    )
    return ReadResult(
        table="fixes",
        file=str(path),
        accepted=accepted,
        quarantine=quarantine,
        read=n,
        duplicates=duplicates + merged,
    ).check(), rmc


__all__ = ["read_nmea", "stream_nmea"]
