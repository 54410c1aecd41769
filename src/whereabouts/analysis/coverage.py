"""What the inputs of a run cover: the facts every finding's assessability rests on.

`input_coverage(inputs, officers, subjects, start, end)` measures, from the data alone:
the span and density (records per day) of the incident log and of the attachments, police
places by kind, whose homes are known, each officer's duty and assignment hours and each
device's assigned hours in the period, the duty areas and whether their polygons are
there, and the roads. `coverage_lines(cov)` says it in plain words ("What this report could
and could not assess"): the CLI prints them, the report puts them on its first page.
Assessability per occasion (assessability.py) applies the same facts to each time and place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts.analysis.extent import LogDays, day_rule, day_text, local_day, local_days
from whereabouts.analysis.inputs import US, Inputs, times_as_us, to_us
from whereabouts.schema import POLICE_PLACE_KINDS
from whereabouts.settings import default

LOG_DAY_SHARE = default("log_day_min_share")
SILENCE = (float(default("log_silence_factor")), float(default("log_silence_min_h")))
AREA_M = default("premises_area_m")


def log_days(
    table: pa.Table,
    column: str,
    share: float,
    end: str | None = None,
    *,
    timezone: str = "UTC",
    silence: tuple[float, float] | None = None,
) -> LogDays:
    """The days (and, with `silence`, times) `table`'s records (times in `column`, or spans
    to `end`) cover, in the force's local days."""
    cols = [column] if end is None else [column, end]
    t = times_as_us(table.select(cols)).filter(pc.is_valid(table.column(column)))
    return LogDays.of(
        np.asarray(t.column(column).to_numpy(), np.int64),
        None
        if end is None
        else np.asarray(pc.fill_null(t.column(end), t.column(column)).to_numpy(), np.int64),
        share=share,
        timezone=timezone,
        silence=silence,
    )


def _log(
    table: pa.Table,
    column: str,
    start_us: int,
    end_us: int,
    share: float,
    *,
    timezone: str,
    silence: tuple[float, float],
) -> dict[str, Any]:
    """Rows, first and last record, records per local day of the period, and the days and
    silences of the period inside the log's span that it does not cover (`LogDays`)."""
    t = pc.drop_null(times_as_us(table.select([column])).column(column)).to_numpy()
    t = np.asarray(t, np.int64)
    days = log_days(table, column, share, timezone=timezone, silence=silence)
    period, starts = local_days(timezone, start_us, max(end_us - 1, start_us))
    keep = (starts[1:] > start_us) & (starts[:-1] < end_us)  # the local days of the period
    period, starts = period[keep], np.append(starts[:-1][keep], starts[1:][keep][-1:])
    n_days = len(period) if end_us > start_us else 0
    inside = t[(t >= start_us) & (t < end_us)]
    per_day = (
        np.bincount(np.searchsorted(starts, inside, side="right") - 1, minlength=n_days)[:n_days]
        if n_days
        else np.zeros(0, np.int64)
    )
    first_last = local_day(np.array([t.min(), t.max()]), timezone) if len(t) else None
    return {
        "rows": len(t),
        "first": day_text(int(first_last[0])) if first_last is not None else None,
        "last": day_text(int(first_last[1])) if first_last is not None else None,
        "rows_in_period": len(inside),
        "days_in_period": n_days,
        "days_with_records": int((per_day > 0).sum()),
        "uncovered_days": days.days_text(start_us, end_us),
        "silences": days.silences_text(start_us, end_us),
        "per_day": {day_text(int(d)): int(n) for d, n in zip(period, per_day, strict=False)},
    }


def _hours(
    table: pa.Table, key: str, keys: list[str], start_us: int, end_us: int
) -> dict[str, float]:
    """Hours of [start, end) rows of each key, cut to the period (overlaps counted once
    per row, as the roster or assignments record them)."""
    t = times_as_us(table.select([key, "start", "end"]))
    s = np.maximum(t.column("start").to_numpy(zero_copy_only=False), start_us)
    e = np.minimum(t.column("end").to_numpy(zero_copy_only=False), end_us)
    length = np.maximum(e - s, 0) / US / 3600
    ids = t.column(key).to_pylist()
    out = dict.fromkeys(keys, 0.0)
    for k, h in zip(ids, length.tolist(), strict=True):
        if k in out:
            out[k] += h
    return {k: round(v, 2) for k, v in out.items()}


def input_coverage(
    inputs: Inputs,
    officers: list[str],
    subjects: list[str],
    start: datetime,
    end: datetime,
    *,
    share: float = LOG_DAY_SHARE,
    area_m: float = AREA_M,
    silence: tuple[float, float] = SILENCE,
) -> dict[str, Any]:
    """What the inputs cover for a run over `officers` (subjects and their group) in
    [start, end), by the force's local days (`inputs.timezone`). JSON-ready; the same
    inputs give the same dict. share, area_m, silence: the `log_day_min_share`
    (`LogDays`), `premises_area_m` and (`log_silence_factor`, `log_silence_min_h`)
    settings."""
    tz = inputs.timezone
    s_us, e_us = to_us(start), to_us(end)
    officers = sorted(set(officers) | set(subjects))
    places = inputs.places
    kinds = pc.value_counts(places.column("kind")).to_pylist() if places.num_rows else []
    by_kind = {str(k["values"]): int(k["counts"]) for k in kinds}
    homes = places.filter(pc.equal(places.column("kind"), "home")) if places.num_rows else places
    owners = {str(o) for o in homes.column("owner_officer_id").to_pylist() if o is not None}
    asg = inputs.assignments
    mine = asg.filter(pc.is_in(asg.column("officer_id"), pa.array(officers, pa.string())))
    devices = sorted({str(d) for d in mine.column("device_id").to_pylist()})
    kind_of = dict(
        zip(
            inputs.devices.column("device_id").to_pylist(),
            inputs.devices.column("kind").to_pylist(),
            strict=True,
        )
    )
    vehicles = asg.filter(
        pc.is_in(
            asg.column("device_id"),
            pa.array(sorted(d for d, k in kind_of.items() if k == "vehicle"), pa.string()),
        )
    )
    duty = inputs.duty
    area_ids = sorted({str(a) for a in duty.column("area_id").to_pylist() if a is not None})
    polygons = {str(a) for a in inputs.areas.column("area_id").to_pylist()}
    duty_h = _hours(duty, "officer_id", officers, s_us, e_us)
    asg_h = _hours(mine, "officer_id", officers, s_us, e_us)
    dev_h = _hours(mine, "device_id", devices, s_us, e_us)
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "day_rule": day_rule(share, *silence, timezone=tz),
        "timezone": tz,
        "area_m": area_m,
        "incidents": {
            **_log(inputs.incidents, "created_at", s_us, e_us, share, timezone=tz, silence=silence),
            "located": int(pc.sum(pc.is_valid(inputs.incidents.column("x"))).as_py() or 0),
        },
        "attachments": _log(
            inputs.attachments, "dispatched_at", s_us, e_us, share, timezone=tz, silence=silence
        ),
        "places": {
            "by_kind": dict(sorted(by_kind.items())),
            "police": int(sum(by_kind.get(k, 0) for k in POLICE_PLACE_KINDS)),
        },
        "homes": {
            "known": [o for o in officers if o in owners],
            "unknown": [o for o in officers if o not in owners],
        },
        "officers": [
            {"officer_id": o, "duty_h": duty_h[o], "assigned_h": asg_h[o]} for o in officers
        ],
        "devices": [
            {"device_id": d, "kind": kind_of.get(d), "assigned_h": dev_h[d]} for d in devices
        ],
        "vehicle_assignments": vehicles.num_rows,
        "vehicle_assignment_uncovered_days": log_days(
            vehicles, "start", share, "end", timezone=tz
        ).days_text(s_us, e_us),
        "areas": {
            "duty_area_ids": len(area_ids),
            "with_polygon": sum(1 for a in area_ids if a in polygons),
            "without_polygon": [a for a in area_ids if a not in polygons],
            "polygons": inputs.areas.num_rows,
        },
        "roads": inputs.roads.num_rows,
    }


def _share(days: int, of: int) -> str:
    return f"{days} of {of} days" if of else "no days"


def _gaps(what: str, days: list[str] | None, verb: str = "") -> str:
    """The days (or silences) the input does not cover, as '; the incident log does not
    cover 2026-01-26, …' (none: '')."""
    if not days:
        return ""
    shown = ", ".join(days[:8]) + (f" and {len(days) - 8} more" if len(days) > 8 else "")
    if verb:
        return f"; the {what} {verb} from {shown}"
    return f"; the {what} {'do' if what.endswith('s') else 'does'} not cover {shown}"


def coverage_lines(cov: dict[str, Any], label: Callable[[str], str] = str) -> list[tuple[str, str]]:
    """(what, what the inputs allow) in plain words, one line per input: the first page's
    "What this report could and could not assess". `label` turns an officer id into how
    the reader knows them."""
    out: list[tuple[str, str]] = []
    inc, att = cov["incidents"], cov["attachments"]
    if not inc["rows"] or not att["rows"]:
        missing = [
            w
            for w, t in (
                ("no incident log", inc),
                ("no attachments (who was sent to which incident)", att),
            )
            if not t["rows"]
        ]
        out.append(
            (
                "Same incident, one officer tasked",
                f"not assessed: "
                f"{' and '.join(missing)} {'was' if len(missing) == 1 else 'were'} "
                "provided",
            )
        )
    else:
        out.append(
            (
                "Same incident, one officer tasked",
                (
                    f"incident log {inc['first']} to {inc['last']}, records on "
                    f"{_share(inc['days_with_records'], inc['days_in_period'])} of the period "
                    f"({inc['rows_in_period']:,} incidents); attachments {att['first']} to "
                    f"{att['last']}, on {_share(att['days_with_records'], att['days_in_period'])} "
                    f"({att['rows_in_period']:,}); assessed only on days and times both cover"
                    + _gaps("incident log", inc.get("uncovered_days"))
                    + _gaps("attachments", att.get("uncovered_days"))
                    + _gaps("incident log", inc.get("silences"), "has no record")
                    + _gaps("attachments", att.get("silences"), "have no record")
                ),
            )
        )
    places = cov["places"]
    out.append(
        (
            "Police premises",
            f"{places['police']} police stations or custody suites "
            "recorded; assessed only inside the duty areas' boundaries or within "
            f"{cov.get('area_m', 5000) / 1000:g} km of one of them or of a recorded "
            "incident"
            if places["police"]
            else "not assessed: no police stations or custody suites were provided",
        )
    )
    out.append(
        (
            "Crewed together",
            f"{cov['vehicle_assignments']:,} vehicle assignments "
            "recorded; assessed only on days they cover"
            + _gaps("vehicle assignments", cov.get("vehicle_assignment_uncovered_days"))
            if cov["vehicle_assignments"]
            else "not assessed: no assignments of officers to vehicles were provided",
        )
    )
    no_duty = [o["officer_id"] for o in cov["officers"] if not o["duty_h"]]
    out.append(
        (
            "Shared duty (briefing, training …)",
            "not assessed for "
            + ", ".join(label(o) for o in no_duty)
            + ": no duty roster in the period"
            if no_duty
            else "duty rosters for every officer compared",
        )
    )
    homes = cov["homes"]
    out.append(
        (
            "At an officer's home",
            "homes known for every officer compared"
            if not homes["unknown"]
            else "not assessed for "
            + ", ".join(label(o) for o in homes["unknown"][:12])
            + (f" and {len(homes['unknown']) - 12} more" if len(homes["unknown"]) > 12 else "")
            + ": no home recorded (a home is flagged only where known)",
        )
    )
    out.append(
        (
            "Remote spot",
            f"incident history {inc['first']} to {inc['last']}; "
            "assessed only where it covers the rule's minimum history (days and "
            "silences the log does not cover left out) and inside the area its records "
            "cover"
            if inc["rows"]
            else "not assessed: no incident history was provided",
        )
    )
    areas = cov["areas"]
    if cov.get("day_rule"):
        out.append(("A day or time covered by a log", cov["day_rule"]))
    out.append(
        (
            "Outside the assigned area",
            "not assessed: the duty roster names no areas"
            if not areas["duty_area_ids"]
            else f"{areas['with_polygon']} of {areas['duty_area_ids']} duty areas have "
            "a boundary"
            + (
                ""
                if not areas["without_polygon"]
                else "; not assessed where the boundary is missing"
            ),
        )
    )
    out.append(
        (
            "Roads named",
            f"{cov['roads']:,} road sections"
            if cov["roads"]
            else "no roads layer: places are given as grid references only",
        )
    )
    return out


def missing_inputs(cov: dict[str, Any]) -> list[str]:
    """The inputs not provided at all, in words."""
    names = []
    for key, words in (("incidents", "incident log"), ("attachments", "attachments")):
        if not cov[key]["rows"]:
            names.append(words)
    if not cov["places"]["police"]:
        names.append("police places")
    if not cov["homes"]["known"]:
        names.append("homes")
    if not cov["areas"]["polygons"]:
        names.append("areas")
    if not cov["roads"]:
        names.append("roads")
    return names


__all__ = ["coverage_lines", "input_coverage", "missing_inputs"]
