"""The method, its parameters and its limits, in plain English for a panel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whereabouts.report.wording import distance, duration
from whereabouts.settings import default
from whereabouts.store.runs import RunSummary
from whereabouts.vocabulary import FLAG_WORDS, REASON_SHORT, REASON_WORDS

CONFIDENCE_WORDS = {
    "high": "high: frequent position reports from both officers",
    "medium": "medium: some positions are estimated between reports",
    "low": "low: positions are sparse, so the occasion rests partly on estimates",
}


def _param(name: str, value: object) -> tuple[str, str]:  # noqa: PLR0911  # one answer per setting: a table written as code
    """(plain-English name, what it means) for one analysis parameter."""
    v = float(value) if isinstance(value, int | float) else None
    if name == "distance_m" and v is not None:
        return (
            "How close counts as together",
            f"{distance(v)}. Two officers are treated as "
            f"together while their likely positions are no more than {distance(v)} apart.",
        )
    if name == "max_gap_s" and v is not None:
        return (
            "Longest gap bridged between position reports",
            f"{duration(v)}. Between two "
            f"reports from one device at most {duration(v)} apart, the device is assumed to "
            "have moved in a straight line at a steady speed; across a longer gap its "
            "position is treated as unknown and nothing is inferred.",
        )
    if name == "merge_gap_s" and v is not None:
        return (
            "Short breaks joined",
            f"{duration(v)}. If two officers part for no longer "
            "than this and come back together, it is counted as one occasion.",
        )
    if name == "min_duration_s" and v is not None:
        return (
            "Shortest occasion counted",
            f"{duration(v)}. Shorter spells together, such "
            "as passing each other on a road, are not counted.",
        )
    if name == "road_distance_m" and v is not None:
        return (
            "Nearest road named within",
            f"{distance(v)}. Where a roads layer was given, "
            "an occasion's place names the nearest road when one lies within "
            f"{distance(v)} of the occasion's point; otherwise only the nearest place.",
        )
    plain = name.replace("_", " ")
    if isinstance(value, bool):
        return (plain, "yes" if value else "no")
    if name.endswith("_days") and v is not None:
        return (plain.removesuffix(" days"), f"{v:g} days")
    if name.endswith("_h") and v is not None:
        return (plain.removesuffix(" h"), f"{v:g} hours")
    if name.endswith("_factor") and v is not None:
        return (plain, f"{v:g} times")
    if name.endswith("_share") and v is not None:
        return (plain, f"{v:.0%}")
    if name.endswith("_mps") and v is not None:
        return (plain.removesuffix(" mps"), f"{v:g} metres a second")
    if name.endswith("_m") and v is not None:
        return (plain.removesuffix(" m"), distance(v))
    if name.endswith("_s") and v is not None:
        return (plain.removesuffix(" s"), duration(v))
    return (plain, str(value))


def parameters(params: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Each parameter as (plain name, meaning, the value exactly as used)."""
    return [(*_param(k, params[k]), f"{k} = {params[k]}") for k in sorted(params)]


def method_paragraphs(crs: str) -> list[str]:
    """How the occasions were found, step by step."""
    return [
        "Police vehicles report their position automatically (automatic vehicle location, "
        "from satellite positioning, GPS) and police radios (TETRA) send location reports. "
        "Each report is a 'fix': a device, a time and a position, with an estimate of its error.",
        "The records of which officer had which radio or vehicle, and when, were used to turn "
        "each device's fixes into each officer's likely whereabouts over time.",
        "Between two fixes close together in time, the position is estimated by assuming "
        "steady movement in a straight line (interpolation). Across a longer gap the position "
        "is treated as unknown, and no occasion is inferred there.",
        "An 'occasion' is a period when two officers' likely positions were within the "
        "distance given below of each other, for at least the shortest time given below. "
        "Distances are straight-line distances on the map, in metres, measured in the "
        f"coordinate system {crs}"
        + (" (the Ordnance Survey's British National Grid)" if crs.upper() == "EPSG:27700" else "")
        + ".",
        "Each occasion was then checked against the dispatch log (incidents and who was sent), "
        "vehicle crewing, duty rosters and police premises for a policing reason, each only "
        'where the records it needs were provided and cover that time and place ("What this '
        'report could and could not assess" states the rules). Where every reason could be '
        "checked and none was found, the occasion is labelled 'no policing reason found'; "
        "where none was found but some could not be checked, 'not assessable'. This is a "
        "finding about the records, not a conclusion about why the officers were together.",
        "Each occasion also carries flags describing where it was (for example at an "
        "officer's home, or at a remote spot), each with the measurement behind it, and a "
        "confidence rating based on how often both devices reported their position.",
    ]


def limitations(params: Mapping[str, Any]) -> list[str]:
    """What the figures cannot show, stated plainly."""
    gap = params.get("max_gap_s", default("max_gap_s"))
    return [
        "Positions are likely whereabouts, not certainties. Satellite positions (GPS) in "
        "vehicles are usually within about 5 to 15 metres, but can be tens of metres out near "
        "tall buildings, under trees or in car parks, and occasionally jump further.",
        "Radio location reports (TETRA LIP) state their own error band, which can be tens or "
        "hundreds of metres, and are sent less often than vehicle positions; the report gives "
        "each occasion's typical position error beside it.",
        f"Between fixes up to {duration(float(gap))} apart, positions are estimated by "
        "interpolation; a device that stopped or turned between two fixes is placed where it "
        "probably was, not where it certainly was.",
        "Where fixes are sparse, an occasion may rest largely on interpolation; its confidence "
        "rating says so. A device that is switched off, out of coverage, or carried by someone "
        "else is not seen, so time together can be missed as well as found.",
        "Who had which device comes from the assignment records; if those are wrong, the "
        "occasions are wrong. The absence of a policing reason in the records does not prove "
        "there was none: the dispatch log and rosters may be incomplete.",
        "Location data outside duty periods is not shown unless the case's scope allows it.",
    ]


def rule_sentences(summary: RunSummary) -> list[str]:
    """The analysis's stated rules (remote, explained) as sentences for the panel."""
    out = []
    if summary.remote_rule:
        out.append(f"A spot counts as remote when there was {summary.remote_rule}.")
    rule = summary.explained_rule
    if "one_tasked" in rule:
        out.append(
            "An occasion counts as explained only when a policing reason other than "
            "'only one of them was tasked there' covers it; a reason covering part of "
            "it leaves the rest with no policing reason found."
        )
    elif rule:
        out.append(rule)
    return out


__all__ = [
    "CONFIDENCE_WORDS",
    "FLAG_WORDS",
    "REASON_SHORT",
    "REASON_WORDS",
    "limitations",
    "method_paragraphs",
    "parameters",
    "rule_sentences",
]
