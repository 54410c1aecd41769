"""Read GPX 1.0 / 1.1 files into canonical fixes.

Track points (trk/trkseg/trkpt), route points (rte/rtept) and waypoints (wpt) are read
with Arrow regular-expression kernels over all points at once (no per-point Python). A
point is a fix when it has a time; an untimed route point or waypoint is a planned place,
quarantined as such, and a GPX file with no timed point at all is refused as a whole.

- src_line is the point's record number (1-based, trkpt, rtept and wpt counted together in
  document order): GPX files are often a single line, so physical lines would not tell
  points apart.
- GPX times are UTC by the standard; a time without `Z` or offset is read as UTC.
- accuracy_m is estimated as HDOP x 5 m (a typical user equivalent range error of a
  consumer receiver); points without HDOP have none.
- speed (m/s) and course (degrees) come from GPX 1.0 `<speed>`/`<course>` or from the
  Garmin TrackPointExtension's `speed`/`course`, whatever the namespace prefix.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.errors import InputError
from whereabouts.io.lip.reader import merge_duplicates
from whereabouts.io.result import ReadResult, quarantine_table
from whereabouts.io.tables import far_outside
from whereabouts.io.tabular import Chunk
from whereabouts.io.times import implausible, parse_times

SOURCE = "gpx"
UERE_M = 5.0
_MARK = "\x00"
_POINT_OPEN = r"<((?:\w+:)?(?:trkpt|rtept|wpt))\b"
_FLOAT = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_POINT_OPEN_RE = re.compile(_POINT_OPEN)
_COMMENT = re.compile(r"(?s)<!--.*?-->")
BLOCK_BYTES = 16 << 20  # the file is read this much at a time
MAX_POINT_CHARS = 64 << 20
_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def _decoder(path: Path, head: bytes) -> tuple[codecs.IncrementalDecoder, int, str]:
    """The decoder of the encoding the file's XML declaration names (UTF-8 if none), the
    BOM's length and the encoding's name."""
    skip = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    m = _DECL.match(head[skip:])
    encoding = m.group(1).decode() if m else "utf-8"
    try:
        return codecs.getincrementaldecoder(encoding)(), skip, encoding
    except LookupError as exc:
        raise _undecodable(path, encoding) from exc


def _undecodable(path: Path, encoding: str) -> InputError:
    return InputError(
        f"cannot decode the file as {encoding}",
        where=str(path),
        hint="save the GPX as UTF-8 (its XML declaration must name the encoding it really uses)",
    )


def _texts(path: Path, size: int) -> Iterator[tuple[str, bool]]:
    """The file's text (comments removed) in pieces of about `size` bytes, each ending just
    before a point's opening tag (or at the end: then True), so no point is ever cut."""
    rest = ""
    first = True
    with open(path, "rb") as f:
        step = max(size, 1 << 10)  # the first block holds the XML declaration
        raw = f.read(step)
        if len(raw) < step and not raw.strip():
            raise InputError("the file is empty", where=str(path), hint="export the GPX again")
        decoder, skip, encoding = _decoder(path, raw)
        raw = raw[skip:]
        while True:
            end = not raw
            try:
                text = rest + decoder.decode(raw, final=end)
            except (UnicodeDecodeError, ValueError) as exc:
                raise _undecodable(path, encoding) from exc
            if first and "<gpx" not in text and (end or len(text) > (1 << 20)):
                raise InputError(
                    "not a GPX file (no <gpx> element)",
                    where=str(path),
                    hint="check the file kind: --kind gpx expects GPX 1.0 or 1.1",
                )
            text = _COMMENT.sub("", text)
            if end:
                yield text, True
                return
            open_comment = text.find("<!--")
            safe = text if open_comment < 0 else text[:open_comment]
            cut = None
            for m in _POINT_OPEN_RE.finditer(safe, max(0, len(safe) - (1 << 20))):
                cut = m.start()
            if cut is None and len(safe) > (1 << 20):  # the last point is far back: search all
                for m in _POINT_OPEN_RE.finditer(safe):
                    cut = m.start()
            if cut:
                if first and "<gpx" not in text[:cut]:
                    raise InputError(
                        "not a GPX file (no <gpx> element)",
                        where=str(path),
                        hint="check the file kind: --kind gpx expects GPX 1.0 or 1.1",
                    )
                first = False
                yield text[:cut], False
                rest = text[cut:]
            else:
                rest = text
            if len(rest) > MAX_POINT_CHARS:
                raise InputError(
                    f"one point (or comment) is longer than {MAX_POINT_CHARS:,} characters: "
                    "not a GPS track",
                    where=str(path),
                    hint="check the file: a <trkpt> holds a few hundred characters",
                )
            raw = f.read(size)


def _first(chunks: pa.Array, pattern: str) -> pa.Array:
    """The first capture group of `pattern` in each chunk (null where absent)."""
    named = re.sub(r"\((?!\?)", "(?P<v>", pattern, count=1)  # Arrow wants a named group
    found = pc.extract_regex(chunks, named)
    return pc.utf8_trim_whitespace(found.field(0))


def _floats(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers; returns (values with NaN where absent or bad, bad-but-present mask)."""
    ok = pc.fill_null(pc.match_substring_regex(values, _FLOAT), False)
    present = pc.fill_null(pc.greater(pc.utf8_length(values), 0), False)  # absent: null or ""
    safe = pc.if_else(ok, values, pa.scalar(None, pa.string()))
    num = np.asarray(pc.fill_null(pc.cast(safe, pa.float64()), np.nan).to_numpy(), dtype=float)
    bad = np.asarray(pc.and_(present, pc.invert(ok)).to_numpy(zero_copy_only=False), dtype=bool)
    return num, bad


def stream_gpx(
    path: Path,
    *,
    device_id: str | None = None,
    block_bytes: int | None = None,
    crs: str | None = None,
) -> Iterator[Chunk]:
    """A GPX file as `Chunk`s of about `block_bytes` of it each (default 16 MB), so memory
    stays bounded whatever its size; device_id defaults to the file's stem. Record numbers
    run on across chunks; exact duplicates are merged within a chunk (across chunks: the
    consumer's, as the store's `DuplicateFinder` and `read_gpx` do). A file with no point,
    or no timed point, is refused when its end is reached. Positions far outside the grid
    of `crs` (the workspace's) are quarantined."""
    path = Path(path)
    size = BLOCK_BYTES if block_bytes is None else max(int(block_bytes), 1)
    record0, timed = 0, False
    for text, _end in _texts(path, size):
        marked = pc.replace_substring_regex(pa.array([text]), _POINT_OPEN, _MARK + r"<\1")
        chunks = pc.list_flatten(pc.split_pattern(marked, _MARK))[1:]  # [0]: before a point
        if len(chunks):
            result, any_timed = _read_points(path, chunks, record0, device_id or path.stem, crs)
            record0 += len(chunks)
            timed |= any_timed
            yield Chunk(result.accepted, result.quarantine, result.read, result.duplicates)
    if record0 == 0:
        raise InputError(
            "no track points, route points or waypoints",
            where=str(path),
            hint="a GPX file to ingest needs timed <trkpt> elements",
        )
    if not timed:
        raise InputError(
            f"no point has a time ({record0} points without <time>)",
            where=str(path),
            hint="a GPX without times cannot place anyone at any moment; export the "
            "recorded track (with times), not a planned route",
        )


def read_gpx(
    path: Path, *, device_id: str | None = None, block_bytes: int | None = None
) -> ReadResult:
    """Read a GPX file into fixes (source "gpx"); device_id defaults to the file's stem. The
    whole result in memory, gathered from `stream_gpx` (duplicates across blocks merged)."""
    path = Path(path)
    chunks = list(stream_gpx(path, device_id=device_id, block_bytes=block_bytes))
    accepted, across = merge_duplicates(pa.concat_tables([c.accepted for c in chunks]))
    return ReadResult(
        table="fixes",
        file=str(path),
        accepted=accepted,
        quarantine=pa.concat_tables([c.quarantine for c in chunks]),
        read=sum(c.read for c in chunks),
        duplicates=sum(c.duplicates for c in chunks) + across,
    ).check()


def _read_points(
    path: Path, chunks: pa.Array, record0: int, device_id: str, crs: str | None = None
) -> tuple[ReadResult, bool]:
    """Points (each from its opening tag to the next point) as fixes and quarantined rows,
    numbered on from `record0`; and whether any point has a time."""
    n = len(chunks)
    kind = _first(chunks, r"^<(?:\w+:)?(trkpt|rtept|wpt)\b")
    attrs = _first(chunks, r"^(<[^>]*>)")
    # A chunk runs from a point's opening tag to the next point: what follows the point's
    # closing tag is only closing tags and track/route names, never time, hdop or speed.
    body = chunks
    lat, bad_lat = _floats(_first(attrs, r"\blat\s*=\s*[\"']([^\"']*)[\"']"))
    lon, bad_lon = _floats(_first(attrs, r"\blon\s*=\s*[\"']([^\"']*)[\"']"))
    tag = r"<(?:\w+:)?{0}>([^<]*)</(?:\w+:)?{0}\s*>"
    raw_time = _first(body, tag.format("time"))
    hdop, bad_hdop = _floats(_first(body, tag.format("hdop")))
    speed, bad_speed = _floats(_first(body, tag.format("speed")))
    course, _ = _floats(_first(body, tag.format("course")))

    has_time = np.asarray(
        pc.fill_null(pc.greater(pc.utf8_length(raw_time), 0), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    parsed = parse_times(pc.if_else(pa.array(has_time), raw_time, pa.scalar("")), "UTC")
    kinds = np.asarray(kind.to_numpy(zero_copy_only=False), dtype=object)
    reason = np.full(n, None, dtype=object)
    column = np.full(n, None, dtype=object)

    def flag(mask: np.ndarray, col: str | None, why: str | np.ndarray) -> None:
        new = mask & (reason == None)  # noqa: E711
        reason[new] = why[new] if isinstance(why, np.ndarray) else why
        column[new] = col

    flag(bad_lat | np.isnan(lat), "lat", "missing or unreadable lat")
    flag(bad_lon | np.isnan(lon), "lon", "missing or unreadable lon")
    flag(np.abs(lat) > 90, "lat", "lat out of range (-90..90)")
    flag(np.abs(lon) > 180, "lon", "lon out of range (-180..180)")
    flag((lat == 0) & (lon == 0), "lat", "position at (0, 0): no fix")
    far, why_far = far_outside(lat, lon, crs)
    flag(far, "lat", why_far)
    # the plausibility rules of every reader: accuracy and speed finite and >= 0
    flag(
        (hdop < 0) | np.isinf(hdop) | bad_hdop,
        "hdop",
        "HDOP negative, infinite or not a number: no accuracy",
    )
    flag(
        (speed < 0) | np.isinf(speed) | bad_speed,
        "speed",
        "speed negative, infinite or not a number",
    )
    flag(~has_time & (kinds == "trkpt"), "time", "track point without a time")
    flag(~has_time, "time", "route point or waypoint without a time: a planned place, not a fix")
    why_t = np.asarray(parsed.reasons.to_numpy(zero_copy_only=False), dtype=object)
    flag(why_t != None, "time", why_t)  # noqa: E711
    why_late = np.asarray(
        implausible(pc.fill_null(parsed.times, 0)).to_numpy(zero_copy_only=False), dtype=object
    )
    flag(why_late != None, "time", why_late)  # noqa: E711

    ok = reason == None  # noqa: E711
    record = np.arange(record0 + 1, record0 + n + 1, dtype=np.int64)
    acc = hdop * UERE_M

    def col(v: np.ndarray) -> pa.Array:
        return pa.array(v[ok], pa.float64(), mask=np.isnan(v[ok]))

    accepted = pa.table(
        {
            "device_id": pa.array(np.full(int(ok.sum()), device_id), pa.string()),
            "time": parsed.times.filter(pa.array(ok)),
            "lat": pa.array(lat[ok]),
            "lon": pa.array(lon[ok]),
            "accuracy_m": col(acc),
            "speed_mps": col(speed),
            "heading_deg": col(course % 360.0),
            "time_uncertainty_s": pa.nulls(int(ok.sum()), pa.float64()),
            "source": pa.array(np.full(int(ok.sum()), SOURCE), pa.string()),
            "src_line": pa.array(record[ok]),
        }
    )
    accepted, duplicates = merge_duplicates(accepted)
    bad = ~ok
    raw = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(chunks.filter(pa.array(bad))), 0, 500)
    quarantine = quarantine_table(record[bad], list(column[bad]), list(reason[bad]), raw)
    return ReadResult(
        table="fixes",
        file=str(path),
        accepted=accepted,
        quarantine=quarantine,
        read=n,
        duplicates=duplicates,
    ).check(), bool(has_time.any())


__all__ = ["read_gpx", "stream_gpx"]
