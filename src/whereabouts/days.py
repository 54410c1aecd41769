"""The one meaning of --from/--to: whole local days in the workspace's time zone, both
included, or exact times when an offset is given.

    day_span("2024-03-25", "2024-04-07", "Europe/London")
    # 2024-03-25 00:00 GMT (= 00:00 UTC) to 2024-04-08 00:00 BST (= 2024-04-07 23:00 UTC)

Every command taking --from/--to (investigate, screen, case open, case extend, case
screening) reads them with `day_span`, says so in its help (FROM_HELP, TO_HELP) and states
the span it used with `describe`.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from whereabouts.errors import ParameterError

FROM_HELP: Final = (
    "First day, included: YYYY-MM-DD, a whole local day in the workspace's "
    "time zone (or an exact time with an offset, e.g. 2024-03-01T08:00+00:00)."
)
TO_HELP: Final = (
    "Last day, included: YYYY-MM-DD, a whole local day in the workspace's time "
    "zone (or an exact time with an offset)."
)


def parse_when(text: str, zone: str, *, end: bool = False) -> datetime:
    """YYYY-MM-DD as the start of that local day (with `end`, the start of the next: the day
    is included), or an ISO time (naive times are local)."""
    try:
        if len(text) == 10:
            d = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            return datetime.combine(d, time(0), tzinfo=ZoneInfo(zone))
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ParameterError(
            f"{text!r} is not a date or time",
            hint="give YYYY-MM-DD (a whole local day) or e.g. 2024-03-01T08:00+00:00",
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


def day_span(start: str, end: str, zone: str) -> tuple[datetime, datetime]:
    """--from and --to as the UTC instants [start, end): whole local days, both included."""
    t0 = parse_when(start, zone).astimezone(UTC)
    t1 = parse_when(end, zone, end=True).astimezone(UTC)
    if t1 <= t0:
        raise ParameterError(
            f"--to {end} is before --from {start}",
            hint="--to is the last day included: give a day on or after --from",
        )
    return t0, t1


def describe(t0: datetime, t1: datetime, zone: str) -> str:
    """A span as people read it: local days when it is whole local days, and always in UTC.

    >>> describe(*day_span("2024-03-25", "2024-04-07", "Europe/London"), "Europe/London")
    '2024-03-25 to 2024-04-07 (whole days in Europe/London, both included; 2024-03-25 00:00 – 2024-04-07 23:00 UTC)'
    """
    tz = ZoneInfo(zone)
    a, b = t0.astimezone(tz), t1.astimezone(tz)
    utc = f"{t0.astimezone(UTC):%Y-%m-%d %H:%M} – {t1.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if a.time() == time(0) and b.time() == time(0):
        last = (b.date() - timedelta(days=1)).isoformat()
        return f"{a.date().isoformat()} to {last} (whole days in {zone}, both included; {utc})"
    return f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M} {zone} ({utc})"


def zone_of(target: str | Path) -> str:
    """The time zone of the workspace at `target` (a folder), else the default."""
    from whereabouts.io.times import DEFAULT_TIMEZONE

    try:
        settings = json.loads((Path(target) / "workspace.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return DEFAULT_TIMEZONE
    return str(settings.get("timezone") or DEFAULT_TIMEZONE)


__all__ = ["FROM_HELP", "TO_HELP", "day_span", "describe", "parse_when", "zone_of"]
