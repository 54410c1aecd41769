"""Every setting of the engine and the analysis, declared once as data.

Each `Setting` has a name (as the parameters and every run's summary.json name it), a
default, a unit and a line of help. From this table come the defaults of
`engine.EncounterParams` and `analysis.AnalysisParams`, the command-line options of
`whereabouts encounters` and `whereabouts investigate` (cli/settings.py), and
docs/settings.md (`whereabouts settings-reference`); tests/test_settings.py checks that all
of them agree. A report or the web app reads the values a run used from the run
(`RunSummary.params`), never from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["m", "s", "m/s", "share", "days", "hours", "times", "incidents", "yes/no"]
Group = Literal["encounter", "where", "reasons", "flags", "availability", "stops"]
UNIT_WORDS: dict[str, str] = {
    "m": "metres",
    "s": "seconds",
    "m/s": "metres a second",
    "share": "a share from 0 to 1",
    "days": "days",
    "hours": "hours",
    "times": "times",
    "incidents": "incidents",
    "yes/no": "yes or no",
}
_SUFFIXES = ("_mps", "_m", "_s")


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default, unit, the group it belongs to and what it means."""

    name: str
    default: float | bool
    unit: Unit
    group: Group
    help: str

    @property
    def option(self) -> str:
        """The command-line option: the name without its unit, hyphenated (`--max-gap`)."""
        stem = self.name
        for suffix in _SUFFIXES:
            if stem.endswith(suffix):
                stem = stem.removesuffix(suffix)
                break
        return "--" + stem.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    # The engine's contract (DESIGN.md "Semantics"), applied to devices and to officers.
    Setting("distance_m", 100.0, "m", "encounter", "Together when within this many metres."),
    Setting(
        "max_gap_s",
        300.0,
        "s",
        "encounter",
        "Interpolate between fixes at most this many seconds apart; across a longer gap "
        "the position is unknown.",
    ),
    Setting(
        "merge_gap_s",
        120.0,
        "s",
        "encounter",
        "Join periods together at most this many seconds apart.",
    ),
    Setting(
        "min_duration_s",
        300.0,
        "s",
        "encounter",
        "Keep encounters and occasions lasting at least this many seconds.",
    ),
    Setting(
        "on_duty_only",
        True,
        "yes/no",
        "encounter",
        "Only time when one of the officers was on duty.",
    ),
    # Where an occasion is.
    Setting(
        "sample_s",
        30.0,
        "s",
        "where",
        "Sample the pair's positions along an occasion at this step.",
    ),
    Setting(
        "stationary_radius_m",
        75.0,
        "m",
        "where",
        "The spread of positions reported beside the stationary flag.",
    ),
    Setting(
        "stop_speed_mps",
        1.0,
        "m/s",
        "where",
        "The pair's midpoint slower than this: stopped together.",
    ),
    Setting(
        "stationary_share",
        0.8,
        "share",
        "where",
        "Stopped for at least this share of the occasion: stationary.",
    ),
    Setting(
        "road_distance_m", 50.0, "m", "where", "Name the nearest road only when it is this close."
    ),
    # Reasons.
    Setting(
        "incident_radius_m",
        400.0,
        "m",
        "reasons",
        "Near an incident's location: within this many metres.",
    ),
    Setting(
        "incident_open_s",
        7200.0,
        "s",
        "reasons",
        "An attachment's window when neither cleared nor closed.",
    ),
    Setting(
        "premises_buffer_m",
        50.0,
        "m",
        "reasons",
        "Added to a place's radius for the police premises reason.",
    ),
    Setting(
        "default_place_radius_m",
        100.0,
        "m",
        "reasons",
        "A place's radius when the places table gives none.",
    ),
    Setting(
        "premises_area_m",
        5000.0,
        "m",
        "reasons",
        "Police premises and the remote rule are assessed only within the area the "
        "force's records cover: inside a duty area's boundary, or within this many "
        "metres of a recorded police station, custody suite or incident.",
    ),
    Setting(
        "log_day_min_share",
        0.25,
        "share",
        "reasons",
        "A day between the first and last records of the incident log, the attachments "
        "or the vehicle assignments (the force's local days) is covered by them only "
        "with at least this share of their median day's records (and one): same "
        "incident, one tasked, crewed and remote are not assessed on a day with fewer "
        "(a gap such as an outage). So a log with fewer than 1/share records on its "
        "median day leaves every day without a record uncovered.",
    ),
    Setting(
        "log_silence_factor",
        48.0,
        "times",
        "reasons",
        "A silence in the incident log or the attachments — no record where, at the "
        "log's own rate for those hours of the day, it would have held more than this "
        "many (and for log_silence_min_h) — is not covered, from the record before to "
        "the record after: an outage of hours inside a day.",
    ),
    Setting(
        "log_silence_min_h",
        2.0,
        "hours",
        "reasons",
        "The shortest silence in the incident log or the attachments taken for an outage.",
    ),
    # Flags.
    Setting("home_buffer_m", 50.0, "m", "flags", "Added to a home's radius for the home flag."),
    Setting(
        "remote_incident_radius_m",
        500.0,
        "m",
        "flags",
        "Remote: incidents counted within this many metres.",
    ),
    Setting(
        "remote_lookback_days",
        90.0,
        "days",
        "flags",
        "Remote: incidents counted over this many days before.",
    ),
    Setting(
        "remote_max_incidents",
        20.0,
        "incidents",
        "flags",
        "Remote: at most this many incidents in the look-back (little activity).",
    ),
    Setting(
        "remote_place_distance_m",
        1500.0,
        "m",
        "flags",
        "Remote: no recorded place (homes excepted) within this many metres.",
    ),
    Setting(
        "remote_min_history_days",
        7.0,
        "days",
        "flags",
        "Remote is not assessed on less incident history than this in its look-back.",
    ),
    # Availability.
    Setting(
        "availability_radius_m",
        3000.0,
        "m",
        "availability",
        "Incidents raised within this many metres during an occasion are counted.",
    ),
    # Unexplained stops of vehicles.
    Setting(
        "stop_min_s", 600.0, "s", "stops", "A vehicle's stop lasts at least this many seconds."
    ),
    Setting("stop_radius_m", 30.0, "m", "stops", "A vehicle's stop stays within this many metres."),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
ENCOUNTER_SETTINGS = ("distance_m", "max_gap_s", "merge_gap_s", "min_duration_s")


def default(name: str) -> float:
    """The default of a numeric setting (KeyError for an unknown name: a programming error)."""
    value = BY_NAME[name].default
    assert not isinstance(value, bool), name
    return value


def reference() -> str:
    """docs/settings.md: every setting as a table, by group."""
    lines = [
        "# Settings",
        "",
        "Generated from `whereabouts.settings.SETTINGS` by `whereabouts "
        "settings-reference`; do not edit by hand. Every run records the values it used "
        "in summary.json (`params`).",
        "",
    ]
    for group in ("encounter", "where", "reasons", "flags", "availability", "stops"):
        lines += [
            f"## {group}",
            "",
            "| name | option | default | unit | meaning |",
            "|---|---|---|---|---|",
        ]
        for s in SETTINGS:
            if s.group == group:
                value = (
                    ("yes" if s.default else "no")
                    if isinstance(s.default, bool)
                    else f"{s.default:g}"
                )
                lines.append(
                    f"| `{s.name}` | `{s.option}` | {value} | {UNIT_WORDS[s.unit]} | {s.help} |"
                )
        lines.append("")
    return "\n".join(lines)


__all__ = [
    "BY_NAME",
    "ENCOUNTER_SETTINGS",
    "SETTINGS",
    "UNIT_WORDS",
    "Group",
    "Setting",
    "Unit",
    "default",
    "reference",
]
