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

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.errors import InputError
from whereabouts.io.lip.reader import merge_duplicates
from whereabouts.io.result import ReadResult, quarantine_table
from whereabouts.io.times import implausible, parse_times

SOURCE = "gpx"
UERE_M = 5.0
_MARK = "\x00"
_POINT_OPEN = r"<((?:\w+:)?(?:trkpt|rtept|wpt))\b"
_FLOAT = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("the file is empty", where=str(path), hint="export the GPX again")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    m = _DECL.match(raw)
    encoding = m.group(1).decode() if m else "utf-8"
    try:
        text = raw.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot decode the file as {encoding}", where=str(path),
                         hint="save the GPX as UTF-8 (its XML declaration must name the "
                              "encoding it really uses)") from exc
    if "<gpx" not in text:
        raise InputError("not a GPX file (no <gpx> element)", where=str(path),
                         hint="check the file kind: --kind gpx expects GPX 1.0 or 1.1")
    return re.sub(r"(?s)<!--.*?-->", "", text)


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


def read_gpx(path: Path, *, device_id: str | None = None) -> ReadResult:
    """Read a GPX file into fixes (source "gpx"); device_id defaults to the file's stem."""
    path = Path(path)
    text = _text(path)
    marked = pc.replace_substring_regex(pa.array([text]), _POINT_OPEN, _MARK + r"<\1")
    chunks = pc.list_flatten(pc.split_pattern(marked, _MARK))[1:]
    n = len(chunks)
    if n == 0:
        raise InputError("no track points, route points or waypoints", where=str(path),
                         hint="a GPX file to ingest needs timed <trkpt> elements")
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

    has_time = np.asarray(pc.fill_null(pc.greater(pc.utf8_length(raw_time), 0), False)
                          .to_numpy(zero_copy_only=False), dtype=bool)
    if not has_time.any():
        raise InputError(
            f"no point has a time ({n} points without <time>)", where=str(path),
            hint="a GPX without times cannot place anyone at any moment; export the "
                 "recorded track (with times), not a planned route")
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
    # the plausibility rules of every reader: accuracy and speed finite and >= 0
    flag((hdop < 0) | np.isinf(hdop) | bad_hdop, "hdop",
         "HDOP negative, infinite or not a number: no accuracy")
    flag((speed < 0) | np.isinf(speed) | bad_speed, "speed",
         "speed negative, infinite or not a number")
    flag(~has_time & (kinds == "trkpt"), "time", "track point without a time")
    flag(~has_time, "time", "route point or waypoint without a time: a planned place, not a fix")
    why_t = np.asarray(parsed.reasons.to_numpy(zero_copy_only=False), dtype=object)
    flag(why_t != None, "time", why_t)  # noqa: E711
    why_late = np.asarray(implausible(pc.fill_null(parsed.times, 0)).to_numpy(
        zero_copy_only=False), dtype=object)
    flag(why_late != None, "time", why_late)  # noqa: E711

    ok = reason == None  # noqa: E711
    record = np.arange(1, n + 1, dtype=np.int64)
    acc = hdop * UERE_M

    def col(v: np.ndarray) -> pa.Array:
        return pa.array(v[ok], pa.float64(), mask=np.isnan(v[ok]))

    accepted = pa.table({
        "device_id": pa.array(np.full(int(ok.sum()), device_id or path.stem), pa.string()),
        "time": parsed.times.filter(pa.array(ok)),
        "lat": pa.array(lat[ok]), "lon": pa.array(lon[ok]),
        "accuracy_m": col(acc), "speed_mps": col(speed), "heading_deg": col(course % 360.0),
        "time_uncertainty_s": pa.nulls(int(ok.sum()), pa.float64()),
        "source": pa.array(np.full(int(ok.sum()), SOURCE), pa.string()),
        "src_line": pa.array(record[ok]),
    })
    accepted, duplicates = merge_duplicates(accepted)
    bad = ~ok
    raw = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(chunks.filter(pa.array(bad))), 0, 500)
    quarantine = quarantine_table(record[bad], list(column[bad]), list(reason[bad]), raw)
    return ReadResult(table="fixes", file=str(path), accepted=accepted, quarantine=quarantine,
                      read=n, duplicates=duplicates).check()


__all__ = ["read_gpx"]
