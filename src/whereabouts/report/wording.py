"""Plain-English wording for a non-technical reader: UK dates with the time zone, durations
and distances with their units spelled out.

    >>> uk_datetime(datetime(2024, 2, 5, 7, 41, tzinfo=UTC), "Europe/London")
    'Monday 5 February 2024, 07:41 GMT'
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_ORDINALS = (
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
    "Twenty",
)


def ordinal_word(n: int) -> str:
    """1 → 'One', … 20 → 'Twenty'; beyond that the number itself."""
    return _ORDINALS[n - 1] if 1 <= n <= len(_ORDINALS) else str(n)


def _local(t: datetime, tz: str) -> datetime:
    if t.tzinfo is None:  # times inside whereabouts are UTC
        t = t.replace(tzinfo=UTC)
    return t.astimezone(ZoneInfo(tz))


def uk_date(t: datetime, tz: str) -> str:
    """'Monday 5 February 2024' in the given time zone."""
    lt = _local(t, tz)
    return f"{lt:%A} {lt.day} {lt:%B %Y}"


def uk_time(t: datetime, tz: str) -> str:
    """'07:41 GMT' (or BST in summer) in the given time zone."""
    lt = _local(t, tz)
    return f"{lt:%H:%M} {lt.tzname()}"


def uk_datetime(t: datetime, tz: str) -> str:
    """'Monday 5 February 2024, 07:41 GMT'."""
    return f"{uk_date(t, tz)}, {uk_time(t, tz)}"


def uk_span(start: datetime, end: datetime, tz: str) -> str:
    """'Monday 5 February 2024, 07:41 GMT to 08:02 GMT' (the date once when it is one day)."""
    if uk_date(start, tz) == uk_date(end, tz):
        return f"{uk_datetime(start, tz)} to {uk_time(end, tz)}"
    return f"{uk_datetime(start, tz)} to {uk_datetime(end, tz)}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def duration(seconds: float) -> str:
    """3900 → '1 hour 5 minutes'; under a minute → '40 seconds'."""
    s = round(float(seconds))
    if s < 60:
        return _plural(s, "second")
    minutes = round(s / 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = []
    if days:
        parts.append(_plural(days, "day"))
    if hours:
        parts.append(_plural(hours, "hour"))
    if minutes or not parts:
        parts.append(_plural(minutes, "minute"))
    return " ".join(parts)


def distance(metres: float) -> str:
    """35.2 → '35 metres'; 2400 → '2.4 kilometres'."""
    m = float(metres)
    if math.isnan(m):
        return "not known"
    if m < 1000:
        return _plural(round(m), "metre")
    return f"{m / 1000:.1f} kilometres"


def count(n: int, word: str, plural: str | None = None) -> str:
    """A number with its noun: '1 occasion', '2 occasions' (`plural` where not noun + s)."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def share(fraction: float) -> str:
    """0.934 → '93%'."""
    f = float(fraction)
    return "not known" if math.isnan(f) else f"{round(100 * f)}%"


def tz_sentence(tz: str) -> str:
    """How times are given, for the reader."""
    if tz == "Europe/London":
        return (
            "Times are UK local time: GMT (Greenwich Mean Time) in winter and BST "
            "(British Summer Time, one hour ahead of GMT) in summer; each time says which."
        )
    return f"Times are local time in the {tz} time zone; each time gives the zone's abbreviation."


_ISO_TIME = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})"
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_UNITS = (
    (re.compile(r"(\d) ?m/s\b"), r"\1 metres a second"),
    (re.compile(r"(\d) ?km\b"), r"\1 kilometres"),
    (re.compile(r"(\d) ?m\b"), r"\1 metres"),
    (re.compile(r"(\d) ?min\b"), r"\1 minutes"),
    (re.compile(r"(\d) ?s\b"), r"\1 seconds"),
    (re.compile(r"(\d) ?h\b"), r"\1 hours"),
)


def plain_text(text: str, tz: str) -> str:
    """Machine wording made plain: ISO times → '25 March 2024 07:00 GMT', '40 m' → '40 metres'."""

    def when(m: re.Match[str]) -> str:
        offset = "+00:00" if m.group(3) == "Z" else m.group(3)
        lt = _local(datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{offset}"), tz)
        return f"{lt.day} {lt:%B %Y} {lt:%H:%M} {lt.tzname()}"

    def day(m: re.Match[str]) -> str:
        d = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return f"{d.day} {d:%B %Y}"

    out = _ISO_DATE.sub(day, _ISO_TIME.sub(when, text))
    out = re.sub(r"(?<=[a-z])_(?=[a-z])", " ", out)  # police_station → police station
    for pattern, words in _UNITS:
        out = pattern.sub(words, out)
    return out


__all__ = [
    "count",
    "distance",
    "duration",
    "ordinal_word",
    "plain_text",
    "share",
    "tz_sentence",
    "uk_date",
    "uk_datetime",
    "uk_span",
    "uk_time",
]
