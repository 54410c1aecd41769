"""Vectorised time parsing to UTC, with a reason for every row that cannot be parsed.

Times carry an offset or `Z`; naive local times are read in a time zone (the workspace's,
default Europe/London). A naive local time that does not exist (spring forward) or is
ambiguous (fall back) is refused, row by row, unless it carries an offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.errors import ParameterError
from whereabouts.schema import UTC_TS

DEFAULT_TIMEZONE = "Europe/London"
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)

_ISO = (
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})(?:[T ](?P<h>\d{2})(?::(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?)?\s*(?P<z>Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$"
)
_ZONED = r"(Z|z|UTC|[+-]\d{2}(:?\d{2})?)$"


@dataclass(frozen=True)
class ParsedTimes:
    """UTC times (null where unparsed) and, per row, why not (null where parsed)."""

    times: pa.Array  # timestamp[us, tz=UTC]
    reasons: pa.Array  # string, null = fine

    @property
    def ok(self) -> np.ndarray:
        """Which values were read as times."""
        return np.asarray(pc.is_null(self.reasons).to_numpy(zero_copy_only=False), dtype=bool)


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    result: np.ndarray = era * 146097 + doe - 719468
    return result


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m, 1, 12) - 1]
    result: np.ndarray = days + ((m == 2) & leap)
    return result


def _component(parts: pa.StructArray, name: str, default: int) -> np.ndarray:
    col = parts.field(name)
    col = pc.if_else(pc.equal(pc.utf8_length(col), 0), pa.scalar(None, pa.string()), col)
    return np.asarray(pc.fill_null(col.cast(pa.int64()), default).to_numpy(), dtype=np.int64)


def _parse_iso_slow(strings: pa.Array, timezone: str) -> ParsedTimes:
    """Component-wise parse; reached only when the fast cast meets a bad value."""
    n = len(strings)
    matched = pc.fill_null(pc.match_substring_regex(strings, _ISO), False)
    safe = pc.if_else(matched, strings, pa.scalar("1970-01-01T00:00:00Z"))
    parts = pc.extract_regex(safe, _ISO)
    y, mo, d = (_component(parts, k, 1) for k in ("y", "mo", "d"))
    h, mi, s = (_component(parts, k, 0) for k in ("h", "mi", "s"))
    frac = parts.field("f")
    frac = pc.utf8_rpad(pc.fill_null(frac, ""), width=6, padding="0")
    micros = np.asarray(pc.utf8_slice_codeunits(frac, 0, 6).cast(pa.int64()).to_numpy())
    valid = np.asarray(matched.to_numpy(zero_copy_only=False), dtype=bool)
    bad_value = ~(
        (mo >= 1)
        & (mo <= 12)
        & (d >= 1)
        & (d <= _days_in_month(y, mo))
        & (h < 24)
        & (mi < 60)
        & (s < 61)
    )
    local_us = (
        _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + np.minimum(s, 59)
    ) * 1_000_000 + micros
    zone = pc.fill_null(parts.field("z"), "")
    zoned = np.asarray(pc.not_equal(zone, "").to_numpy(zero_copy_only=False), dtype=bool)
    offset_s = _offsets_seconds(zone)
    utc_us = local_us - offset_s * 1_000_000
    reasons = np.full(n, None, dtype=object)
    reasons[~valid] = "unparseable time (expected ISO 8601, e.g. 2024-02-05T07:41:00Z)"
    reasons[valid & bad_value] = "impossible date or time of day"
    good = valid & ~bad_value
    naive = good & ~zoned
    if naive.any():
        local = pa.array(local_us[naive], pa.timestamp("us"))
        utc_naive, why = _localise(local, timezone)
        utc_us[naive] = utc_naive
        reasons[np.flatnonzero(naive)[why != None]] = why[why != None]  # noqa: E711
    times = pa.array(utc_us, UTC_TS, mask=reasons != None)  # noqa: E711
    return ParsedTimes(times, pa.array(reasons, pa.string()))


def _offsets_seconds(zone: pa.Array) -> np.ndarray:
    z = pc.replace_substring_regex(zone, r"^(Z|z|UTC)$", "+00:00")
    z = pc.replace_substring(z, ":", "")
    z = pc.if_else(pc.equal(pc.utf8_length(z), 3), pc.binary_join_element_wise(z, "00", ""), z)
    z = pc.if_else(pc.equal(z, ""), pa.scalar("+0000"), z)
    sign = np.where(np.asarray(pc.starts_with(z, "-").to_numpy(zero_copy_only=False)), -1, 1)
    hh = np.asarray(pc.utf8_slice_codeunits(z, 1, 3).cast(pa.int64()).to_numpy())
    mm = np.asarray(pc.utf8_slice_codeunits(z, 3, 5).cast(pa.int64()).to_numpy())
    result: np.ndarray = sign * (hh * 3600 + mm * 60)
    return result


def _localise(local: pa.Array, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """Naive local → UTC micros, with a reason where the local time is ambiguous/nonexistent."""
    try:
        early = pc.assume_timezone(
            local, timezone=timezone, ambiguous="earliest", nonexistent="earliest"
        )
    except pa.ArrowInvalid as exc:
        raise ParameterError(
            f"unknown time zone {timezone!r}", hint="use an IANA name such as Europe/London"
        ) from exc
    late = pc.assume_timezone(local, timezone=timezone, ambiguous="latest", nonexistent="latest")
    e = np.asarray(early.cast(pa.int64()).to_numpy(zero_copy_only=False))
    la = np.asarray(late.cast(pa.int64()).to_numpy(zero_copy_only=False))
    why = np.full(len(local), None, dtype=object)
    differ = e != la
    if differ.any():
        # nonexistent: 'earliest' lands just before the gap, so the two are < 1 h apart and
        # 'latest' is not one hour later; ambiguous: exactly the DST shift apart.
        ambiguous = differ & (la - e >= 3_600_000_000 - 1)
        why[ambiguous] = (
            f"ambiguous local time in {timezone} (clock change); give an offset, e.g. +01:00"
        )
        why[differ & ~ambiguous] = (
            f"local time does not exist in {timezone} (clock change); give an offset"
        )
    return e, why


def parse_times(
    values: pa.Array | pa.ChunkedArray, timezone: str = DEFAULT_TIMEZONE, fmt: str | None = None
) -> ParsedTimes:
    """Parse a column of times to UTC.

    `fmt` is None for ISO 8601 (with `Z`, an offset, or naive local time), `epoch_s` or
    `epoch_ms` for numbers, or a strptime pattern (naive patterns are local times).
    Example: ``parse_times(pa.array(["2024-02-05 08:03:00"])).times`` → 08:03 UTC (winter).
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if fmt in ("epoch_s", "epoch_ms"):
        scale = 1_000_000 if fmt == "epoch_s" else 1_000
        num = (
            pc.cast(values, pa.float64(), safe=False)
            if not pa.types.is_floating(values.type)
            else values
        )
        us = pc.multiply(num, scale)
        times = pc.cast(pc.round(us), pa.int64()).cast(UTC_TS)
        reasons = pc.if_else(
            pc.is_null(times), pa.scalar("not a number of seconds"), pa.scalar(None, pa.string())
        )
        return ParsedTimes(times, reasons)
    if pa.types.is_timestamp(values.type):
        if values.type.tz is None:
            e, why = _localise(values.cast(pa.timestamp("us")), timezone)
            return ParsedTimes(
                pa.array(e, UTC_TS, mask=why != None),  # noqa: E711
                pa.array(why, pa.string()),
            )
        times = values.cast(UTC_TS)
        return ParsedTimes(times, pa.nulls(len(times), pa.string()))
    strings = pc.utf8_trim_whitespace(values.cast(pa.string()))
    if fmt is not None:
        parsed = pc.strptime(strings, format=fmt, unit="us", error_is_null=True)
        bad = pc.and_(pc.is_null(parsed), pc.is_valid(strings))
        if parsed.type.tz is None:
            e, why = _localise(pc.fill_null(parsed, pa.scalar(0, pa.timestamp("us"))), timezone)
            why[np.asarray(pc.is_null(parsed).to_numpy(zero_copy_only=False))] = None
            times = pa.array(
                e,
                UTC_TS,
                mask=np.asarray(pc.is_null(parsed).to_numpy(zero_copy_only=False)) | (why != None),  # noqa: E711
            )
        else:
            times, why = parsed.cast(UTC_TS), np.full(len(parsed), None, dtype=object)
        why[np.asarray(bad.to_numpy(zero_copy_only=False))] = f"time does not match format {fmt!r}"
        why[np.asarray(pc.is_null(strings).to_numpy(zero_copy_only=False))] = "missing time"
        return ParsedTimes(times, pa.array(why, pa.string()))
    # Fast path: every value zoned, or every value naive, and all well-formed.
    zoned = pc.fill_null(pc.match_substring_regex(strings, _ZONED), False)
    n_zoned = pc.sum(zoned).as_py() or 0
    if strings.null_count == 0:
        try:
            if n_zoned == len(strings):
                times = pc.replace_substring_regex(strings, r"UTC$", "Z").cast(UTC_TS)
                return ParsedTimes(times, pa.nulls(len(times), pa.string()))
            if n_zoned == 0:
                e, why = _localise(strings.cast(pa.timestamp("us")), timezone)
                return ParsedTimes(
                    pa.array(e, UTC_TS, mask=why != None),  # noqa: E711
                    pa.array(why, pa.string()),
                )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    result = _parse_iso_slow(pc.fill_null(strings, ""), timezone)
    if strings.null_count:
        why = np.asarray(result.reasons.to_numpy(zero_copy_only=False), dtype=object)
        why[np.asarray(pc.is_null(strings).to_numpy(zero_copy_only=False))] = "missing time"
        result = ParsedTimes(
            pc.if_else(pc.is_null(strings), pa.scalar(None, UTC_TS), result.times),
            pa.array(why, pa.string()),
        )
    return result


def implausible(times: pa.Array, now: datetime | None = None) -> pa.Array:
    """Reason per row for times before 1990 or in the future (null where plausible)."""
    now = now or datetime.now(UTC)
    early = pc.less(times, pa.scalar(EARLIEST_PLAUSIBLE, UTC_TS))
    late = pc.greater(times, pa.scalar(now, UTC_TS))
    out = pc.if_else(early, pa.scalar("time before 1990"), pa.scalar(None, pa.string()))
    return pc.if_else(late, pa.scalar("time in the future"), out)


__all__ = ["DEFAULT_TIMEZONE", "ParsedTimes", "implausible", "parse_times"]
