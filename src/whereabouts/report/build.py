"""Assemble the evidential report: load inputs, draw maps and charts, render HTML and PDF.

    result = build_report(Path("ws"), out_dir=Path("out"), case_ref="PSD-2024-001")
    result.html, result.pdf, result.key

The HTML is self-contained (figures are data URIs, styles inline) and carries no
generation time, so the same inputs and options give the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from whereabouts import __version__
from whereabouts.analysis.addresses import ADDRESS_RULE, address_phrase, nearest_addresses
from whereabouts.analysis.coverage import coverage_lines, missing_inputs
from whereabouts.analysis.params import AnalysisParams
from whereabouts.basemap import open_basemap
from whereabouts.basemap.draw import BasemapLayer
from whereabouts.errors import ParameterError
from whereabouts.io.files import file_sha256
from whereabouts.progress import track
from whereabouts.report import charts, maps
from whereabouts.report.inputs import ReportInputs, load_inputs
from whereabouts.report.labels import Labels
from whereabouts.report.method import (
    CONFIDENCE_WORDS,
    FLAG_WORDS,
    REASON_SHORT,
    REASON_WORDS,
    limitations,
    method_paragraphs,
    parameters,
    rule_sentences,
)
from whereabouts.report.sources import coverage, sources
from whereabouts.report.wording import (
    count,
    distance,
    duration,
    plain_text,
    tz_sentence,
    uk_datetime,
    uk_span,
)
from whereabouts.settings import BY_NAME, ENCOUNTER_SETTINGS, SETTINGS
from whereabouts.store import atomic
from whereabouts.store.runs import Baseline, PairBaseline, Run, RunStore, RunSummary
from whereabouts.tracks.projection import grid_reference

# The engine's settings a run written without them is taken to have used (their defaults).
DEFAULT_PARAMS = {n: BY_NAME[n].default for n in ENCOUNTER_SETTINGS}
NO_REASON = "no policing reason found"
MAX_STOPS = 40  # stops listed in the report; all of them are in the analysis folder
NEAR_PLACE_M = 150.0  # a named place further than this is given with its distance


@dataclass(frozen=True)
class Exhibit:
    """The exhibit block: what the investigator fills in and how the report was produced.

    `producer` comes from the case store (filled by `build_report` after it audits the
    report, when left empty), the audit head from `ReportOptions.audit_head`; `made_at` is
    stated only when asked for (`--dated`), since a stated time makes every re-run differ."""

    reference: str | None = None
    producer: str | None = None
    made_at: str | None = None
    how: str = (
        "Written by whereabouts from the analysis results fingerprinted in section "
        "13, with the command given there."
    )


@dataclass(frozen=True)
class ReportOptions:
    """How a report is labelled and drawn. Everything here is stated in the report."""

    label_style: str = "pc"
    labels: dict[str, str] = field(default_factory=dict)
    roads: Path | None = None
    basemap: str | None = None  # an .mbtiles/.pmtiles path or a tile URL template
    title: str = "Likely whereabouts of two officers in relation to each other"
    marking: str = "OFFICIAL-SENSITIVE"
    pdf: bool = True
    key_path: Path | None = None  # default: OUT/report-key.csv
    max_occasion_maps: int | None = None  # None: a map for every occasion
    audit_head: str | None = None  # set by build_report: the audit head it was made at
    exhibit: Exhibit | None = None  # the exhibit block (whereabouts report, bundles)


@dataclass(frozen=True)
class ReportResult:
    """Files written by `build_report`."""

    html: Path
    pdf: Path | None
    key: Path
    occasions: int
    pages: int | None


def css_string(text: str) -> str:
    """Text as a quoted CSS string, every character but letters, digits and spaces escaped."""
    return '"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text) + '"'


def _place_names(inp: ReportInputs, labels: Labels) -> dict[str, str]:
    """Named places as the report may show them: a home only as whose home it is."""
    p = inp.places
    if not p.num_rows or "name" not in p.column_names:
        return {}
    owners = (
        p["owner_officer_id"].to_pylist()
        if "owner_officer_id" in p.column_names
        else [None] * p.num_rows
    )
    out = {}
    for name, kind, owner, pid in zip(
        p["name"].to_pylist(), p["kind"].to_pylist(), owners, p["place_id"].to_pylist(), strict=True
    ):
        if kind == "home":
            out[str(name)] = out[str(pid)] = f"home of {labels.of(owner)}"
    return out


def _occasion_rows(inp: ReportInputs, labels: Labels) -> list[dict[str, Any]]:
    """One dict per occasion, sorted by start, with plain-English fields."""
    occ = inp.occasions
    if not occ.num_rows:
        return []
    occ = occ.sort_by([("start", "ascending"), ("occasion_id", "ascending")])
    cols = {c: occ[c].to_pylist() for c in occ.column_names}
    n = occ.num_rows
    start_us = occ["start"].cast(pa.int64()).to_numpy()
    end_us = occ["end"].cast(pa.int64()).to_numpy()
    places = _place_names(inp, labels)
    tz = inp.timezone
    address, address_m = _addresses(inp, occ)

    def plain(text: object) -> str:
        return plain_text(labels.scrub(str(text or "")), tz)

    rows = []
    for i in range(n):
        row = {c: v[i] for c, v in cols.items()}
        get = row.get
        reasons = list(get("reasons") or [])
        flags = list(get("flags") or [])
        evidence = json.loads(get("evidence") or "[]")
        place = get("place")
        place = places.get(str(place), labels.scrub(str(place))) if place else ""
        place_m = get("place_distance_m")
        where_key = place
        if place and place_m is not None and float(place_m) > NEAR_PLACE_M:
            # The nearest named place can be far off: say how far, group by grid square.
            place = f"{distance(float(place_m))} from {place}"
            where_key = ""
        road, road_m = get("road"), get("road_distance_m")
        if road and road_m is not None:  # the nearest road, when one was near enough
            on = f"on {labels.scrub(str(road))} ({distance(float(road_m))})"
            place = f"{on}, {place}" if place else on
        if address[i] is not None:  # the nearest address on record (not a visit)
            near = address_phrase(labels.scrub(str(address[i])), float(address_m[i]), distance)
            place = f"{near}; {place}" if place else near
        explained_s, unexplained_s = get("explained_s"), get("unexplained_s")
        partly = ""
        if not get("explained") and explained_s and float(explained_s) > 0:
            partly = (
                f"a policing reason covers {duration(float(explained_s))} of it; none "
                f"was found for {duration(float(unexplained_s or 0))}"
            )
        rows.append(
            {
                "number": i + 1,
                "id": get("occasion_id"),
                "officer_a": get("officer_a"),
                "officer_b": get("officer_b"),
                "who": f"{labels.of(get('officer_a'))} and {labels.of(get('officer_b'))}",
                "start_us": int(start_us[i]),
                "end_us": int(end_us[i]),
                "when": uk_span(row["start"], row["end"], tz),
                "start_text": uk_datetime(row["start"], tz),
                "duration_s": float(get("duration_s") or 0),
                "duration": duration(float(get("duration_s") or 0)),
                "explained": bool(get("explained")),
                "finding": str(
                    get("finding") or ("reason_found" if get("explained") else "no_reason_found")
                ),
                "not_assessed": [plain(x) for x in get("not_assessed") or []],
                "robustness": plain(get("robustness")),
                "reasons": [REASON_WORDS.get(r, r) for r in reasons],
                "reasons_short": [REASON_SHORT.get(r, r) for r in reasons],
                "flags": [FLAG_WORDS.get(f, f) for f in flags],
                "flag_codes": flags,
                "evidence": [
                    {
                        "label": REASON_WORDS.get(
                            str(e.get("label")),
                            FLAG_WORDS.get(str(e.get("label")), plain(e.get("label"))),
                        ),
                        "kind": e.get("kind", ""),
                        "detail": plain(e.get("detail")),
                        "rows": ", ".join(map(str, e.get("rows") or [])),
                    }
                    for e in evidence
                ],
                "x": float(row["x"]),
                "y": float(row["y"]),
                "grid_ref": get("grid_ref") or "",
                "place": place,
                "where_key": where_key
                or f"grid square {grid_reference(float(row['x']), float(row['y']), 4)}",
                "partly": partly,
                "unexplained_for": duration(float(unexplained_s or get("duration_s") or 0)),
                "min_sep": distance(float(get("min_separation_m") or float("nan"))),
                "median_sep": distance(float(get("median_separation_m") or float("nan"))),
                "stationary": bool(get("stationary")),
                "fixes_per_hour": get("fixes_per_hour"),
                "position_error": distance(float(get("position_error_m") or float("nan"))),
                "confidence": str(get("confidence") or ""),
                "confidence_text": CONFIDENCE_WORDS.get(
                    str(get("confidence")), str(get("confidence") or "")
                ),
                "confidence_basis": plain(get("confidence_basis")),
                "on_duty": plain(get("on_duty")),
                # None: not known (the incident log or attachments do not cover it)
                "incidents": None
                if get("incidents_p1") is None
                else [int(get(f"incidents_p{p}") or 0) for p in (1, 2, 3, 4)],
                "dispatched": None if get("dispatched") is None else bool(get("dispatched")),
                "incidents_why": next(
                    (
                        plain(x.split(": ", 1)[1])
                        for x in get("not_assessed") or []
                        if x.startswith(("same_incident: ", "one_tasked: "))
                    ),
                    "",
                ),
                "unavailable_min": float(get("unavailable_min") or 0),
            }
        )
    return rows


def _addresses(inp: ReportInputs, occ: pa.Table) -> tuple[list[str | None], np.ndarray]:
    """Each occasion's nearest address (analysis.addresses), homes never named."""
    table = getattr(inp, "addresses", None)
    if table is None or not table.num_rows:
        return [None] * occ.num_rows, np.full(occ.num_rows, np.nan)
    p = inp.places
    homes = None
    if p.num_rows and "kind" in p.column_names:
        home = np.asarray(p["kind"].to_pylist(), object) == "home"
        radius = (
            np.nan_to_num(np.asarray(p["radius_m"].to_pylist(), float), nan=50.0)
            if "radius_m" in p.column_names
            else np.full(p.num_rows, 50.0)
        )
        homes = (
            np.asarray(p["x"].to_numpy(zero_copy_only=False), float)[home],
            np.asarray(p["y"].to_numpy(zero_copy_only=False), float)[home],
            radius[home],
        )
    return nearest_addresses(
        np.asarray(occ["x"].to_numpy(zero_copy_only=False), float),
        np.asarray(occ["y"].to_numpy(zero_copy_only=False), float),
        table,
        homes,
    )


def _summary_facts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    unexplained = [r for r in rows if r["finding"] == "no_reason_found"]
    unassessed = [r for r in rows if r["finding"] == "not_assessable"]
    where = Counter(r["where_key"] for r in unexplained)
    flags = Counter(f for r in unexplained for f in r["flags"])
    return {
        "total": count(len(rows), "occasion"),
        "unexplained": count(len(unexplained), "occasion"),
        "unexplained_n": len(unexplained),
        "found": count(len(rows) - len(unexplained) - len(unassessed), "occasion"),
        "found_n": len(rows) - len(unexplained) - len(unassessed),
        "not_assessable": count(len(unassessed), "occasion") if unassessed else "",
        "not_assessable_time": duration(sum(r["duration_s"] for r in unassessed)),
        "unexplained_time": duration(sum(r["duration_s"] for r in unexplained)),
        "total_time": duration(sum(r["duration_s"] for r in rows)),
        "where": [
            f"{k} ({count(v, 'occasion')})"
            for k, v in sorted(where.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        ],
        "flags": [
            f"{count(v, 'occasion')} {k}"
            for k, v in sorted(flags.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "first": rows[0]["start_text"] if rows else "",
        "last": rows[-1]["start_text"] if rows else "",
    }


def _assess(inp: ReportInputs, labels: Labels) -> dict[str, Any]:
    """The first page's "What this report could and could not assess", from the run's
    record of what its inputs cover (none for a run from before it was recorded)."""
    cov = dict(inp.summary.input_coverage or {})
    if not cov:
        return {"lines": [], "missing": []}
    return {
        "lines": [
            (what, plain_text(labels.scrub(allows), inp.timezone))
            for what, allows in coverage_lines(cov, labels.of)
        ],
        "missing": missing_inputs(cov),
    }


def _baseline(inp: ReportInputs, labels: Labels) -> dict[str, Any]:
    """The pair against its peers — only where the run found a comparison possible: chart
    data from baseline.parquet, the test and its assumptions from summary.json; else why
    not."""
    b = inp.baseline
    base = inp.summary.baseline or Baseline(group="")
    pair = (base.subject_pairs or (PairBaseline("", "", ""),))[0]

    def scrub(text: object) -> str:
        return plain_text(labels.scrub(str(text or "")), inp.timezone)

    # a run from before comparability was recorded: comparable when it ranked the pair
    recorded = base.comparable is not None
    comparable = bool(base.comparable) if recorded else pair.rank is not None
    why = base.why if recorded else base.note
    out: dict[str, Any] = {
        "chart": "",
        "pairs": int(base.pairs or b.num_rows),
        "comparable": comparable,
        "why": scrub(why or "no comparison was recorded"),
        "rank": pair.rank if comparable else None,
        "rank_text": str(pair.rank_text or pair.rank or ""),
        "statement": scrub(pair.statement),
        "test": base.test or "",
        "why_test": base.why_test or ("" if recorded else base.why or ""),
        "assumptions": base.assumptions or "",
        "rule": base.rule or "",
        "group": labels.scrub(base.group),
        "p_value": pair.p_value,
    }
    if (
        not comparable
        or not b.num_rows
        or "unexplained_s" not in b.column_names
        or "officer_a" not in b.column_names
    ):
        return out
    h = np.nan_to_num(np.asarray(b["unexplained_s"].to_pylist(), float)) / 3600
    subjects = set(inp.subjects)
    a, c = b["officer_a"].to_pylist(), b["officer_b"].to_pylist()
    is_subj = np.array([x in subjects and y in subjects for x, y in zip(a, c, strict=True)])
    out["chart"] = charts.pair_vs_peers(h, is_subj)
    return out


def _stops(inp: ReportInputs, labels: Labels) -> list[dict[str, str]]:
    s = inp.stops
    if not s.num_rows or "start" not in s.column_names:
        return []
    if s.num_rows > MAX_STOPS:
        # The stops at a home or remote spot first, then the longest; shown in time order.
        flagged = (
            np.array([bool({"home", "remote"} & set(f or [])) for f in s["flags"].to_pylist()])
            if "flags" in s.column_names
            else np.zeros(s.num_rows, bool)
        )
        dur = np.nan_to_num(np.asarray(s["duration_s"].to_pylist(), float))
        keep = np.lexsort((-dur, ~flagged))[:MAX_STOPS]
        s = s.take(pa.array(np.sort(keep)))
    s = s.sort_by([("start", "ascending")])
    cols = {c: s[c].to_pylist() for c in s.column_names}
    places = _place_names(inp, labels)
    out = []
    for i in range(s.num_rows):
        start, end = cols["start"][i], cols["end"][i]
        who = (cols.get("officers") or [None] * s.num_rows)[i] or (
            [cols["officer_id"][i]] if "officer_id" in cols else []
        )
        dev = (cols.get("vehicle") or cols.get("device_id") or [None] * s.num_rows)[i]
        place = (cols.get("place") or [None] * s.num_rows)[i]
        place_m = (cols.get("place_distance_m") or [None] * s.num_rows)[i]
        where = f"grid reference {cols['grid_ref'][i]}" if "grid_ref" in cols else ""
        if place:
            name = places.get(str(place), labels.scrub(str(place)))
            near = place_m is None or float(place_m) <= NEAR_PLACE_M
            where += f"; {name}" if near else f"; {distance(float(place_m))} from {name}"
        road = (cols.get("road") or [None] * s.num_rows)[i]
        road_m = (cols.get("road_distance_m") or [None] * s.num_rows)[i]
        if road and road_m is not None:  # the nearest road, when one was near enough
            where += f"; on {labels.scrub(str(road))} ({distance(float(road_m))})"
        flags = (cols.get("flags") or [None] * s.num_rows)[i] or []
        out.append(
            {
                "when": uk_span(start, end, inp.timezone),
                "duration": duration((end - start).total_seconds()),
                "who": " and ".join(labels.of(w) for w in who),
                "vehicle": str(dev or ""),
                "where": where,
                "flags": "; ".join(FLAG_WORDS.get(f, f) for f in flags),
            }
        )
    return out


def _software() -> dict[str, str]:
    import matplotlib
    import pyarrow
    import weasyprint

    return {
        "whereabouts": __version__,
        "pyarrow": pyarrow.__version__,
        "matplotlib": matplotlib.__version__,
        "weasyprint": weasyprint.__version__,
    }


def render_html(inp: ReportInputs, options: ReportOptions) -> tuple[str, Labels, int]:
    """The report as one self-contained HTML string, the labels used, and the occasions."""
    layer = BasemapLayer(open_basemap(options.basemap)) if options.basemap else None
    try:
        return _render_html(inp, options, layer)
    finally:
        if layer is not None:
            layer.source.close()


def _render_html(
    inp: ReportInputs, options: ReportOptions, layer: BasemapLayer | None
) -> tuple[str, Labels, int]:
    names = {}
    if inp.officers.num_rows and "name" in inp.officers.column_names:
        names = {
            str(o): str(n)
            for o, n in zip(
                inp.officers["officer_id"].to_pylist(),
                inp.officers["name"].to_pylist(),
                strict=True,
            )
            if n
        }
    labels = Labels.make(
        inp.subjects, style=options.label_style, explicit=options.labels, names=names
    )
    params = {**DEFAULT_PARAMS, **inp.summary.params}
    used = AnalysisParams.of(params, strict=False)
    rows = _occasion_rows(inp, labels)
    # Without --roads, the workspace's own roads when the inputs carry them.
    # The workspace's map layers, when it has them, draw the roads (by class, named).
    layers = getattr(inp, "layers", None)
    roads = (
        maps.load_roads(options.roads, inp.crs)
        if options.roads
        else None
        if layers is not None
        else getattr(inp, "roads", None)
    )
    ctx = maps.Context.build(
        inp.places,
        inp.areas,
        labels,
        inp.crs,
        roads=roads,
        incidents=inp.incidents,
        basemap=layer,
        layers=layers,
    )
    idx = (
        maps.TrackIndex.build(inp.tracks)
        if inp.tracks.num_rows
        else maps.TrackIndex.build(pa.table({}))
    )
    radius = used.distance_m / 2
    limit = options.max_occasion_maps
    for r in track(rows, "drawing occasion maps"):
        if limit is None or r["number"] <= limit:
            r["map"] = maps.occasion_map(idx, r, ctx, labels, max(radius, 25.0))
            r["timeline"] = charts.timeline_strip(
                idx, r, labels, inp.timezone, used.distance_m, used.max_gap_s
            )
    by_occ: dict[str, list[dict[str, str]]] = {}
    numbers = {r["id"]: r["number"] for r in rows}
    notes = []
    for a in inp.annotations:
        item = {
            "occasion": str(numbers.get(a.occasion_id, "")),
            "author": a.author,
            "time": uk_datetime(a.time, inp.timezone) if a.time else "time not recorded",
            "note": labels.scrub(a.note),
            "added": REASON_WORDS.get(a.reason_added or "", a.reason_added or ""),
            "rejected": REASON_WORDS.get(a.reason_rejected or "", a.reason_rejected or ""),
        }
        notes.append(item)
        by_occ.setdefault(a.occasion_id, []).append(item)
    for r in rows:
        r["annotations"] = by_occ.get(r["id"], [])
    unexplained = [r for r in rows if r["finding"] == "no_reason_found"]
    occ = inp.occasions
    period = inp.summary.period
    context = {
        "title": options.title,
        "marking": options.marking,
        "case_ref": inp.case_ref or "",
        "demo": inp.demo,
        "marking_css": css_string(options.marking),
        "footer_css": css_string(
            (
                f"DEMO case {inp.case_ref} (self-authorised, not evidence)"
                if inp.demo
                else f"Case {inp.case_ref}"
            )
            if inp.case_ref
            else "Evidential report"
        ),
        "tz_sentence": tz_sentence(inp.timezone),
        "period": uk_span(period.start, period.end, inp.timezone),
        "subjects": [{"label": labels.of(s)} for s in sorted(inp.subjects, key=labels.of)],
        "summary": _summary_facts(rows),
        "assess": _assess(inp, labels),
        "sources": sources(inp.summary.inputs, inp.manifest, inp.workspace, inp.timezone),
        "coverage": coverage(
            inp.tracks,
            inp.duty,
            inp.subjects,
            _period_us(inp),
            labels=labels,
            tz=inp.timezone,
            max_gap_s=used.max_gap_s,
        ),
        "method": method_paragraphs(inp.crs),
        "map_layers": getattr(inp, "layers", None) is not None,
        "rules": [plain_text(r, inp.timezone) for r in rule_sentences(inp.summary)]
        + ([ADDRESS_RULE] if getattr(inp, "addresses", pa.table({})).num_rows else []),
        "parameters": parameters(params),
        "crs": inp.crs,
        "occasions": rows,
        "unexplained": unexplained,
        "maps_limited": limit is not None and len(rows) > limit,
        "map_limit": limit,
        "overview": maps.overview_map(
            np.array([r["x"] for r in unexplained]),
            np.array([r["y"] for r in unexplained]),
            [str(r["number"]) for r in unexplained],
            ctx,
        ),
        "charts": {
            "week": charts.per_week(occ, inp.timezone),
            "hour": charts.time_of_day(occ, inp.timezone),
            "durations": charts.durations(occ),
        },
        "baseline": _baseline(inp, labels),
        "availability": {
            # no_reason_found: every reason was assessed, so the incident log and
            # attachments cover each of them
            "incidents": [sum(r["incidents"][p] for r in unexplained) for p in range(4)],
            "dispatched": sum(bool(r["dispatched"]) for r in unexplained),
            "unavailable": duration(60 * sum(r["unavailable_min"] for r in unexplained)),
        },
        "stops": _stops(inp, labels),
        "stops_total": inp.stops.num_rows,
        "stops_max": MAX_STOPS,
        "annotations": notes,
        "annotations_note": inp.annotations_note,
        "limitations": limitations(params),
        "audit_head": options.audit_head,
        "exhibit": options.exhibit,
        "repro": {
            "software": _software(),
            "analysis_version": inp.summary.version,
            "investigate": _investigate_command(inp, used),
            "report": _command(inp, options),
            "outputs": [
                (f, file_sha256(inp.run_dir / f))
                for f in (
                    "occasions.parquet",
                    "tracks.parquet",
                    "stops.parquet",
                    "baseline.parquet",
                    "summary.json",
                )
                if (inp.run_dir / f).exists()
            ],
            "label_style": options.label_style,
            "basemap": _basemap_record(layer),
        },
    }
    env = Environment(
        loader=PackageLoader("whereabouts.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    css = env.loader.get_source(env, "report.css")[0]  # type: ignore[union-attr]
    html = env.get_template("report.html").render(**context, css=css)
    return html, labels, len(rows)


def _basemap_record(layer: BasemapLayer | None) -> dict[str, Any] | None:
    """What the reproducibility section says of the basemap: source, hashes, the tiles used."""
    if layer is None:
        return None
    info = layer.source.info
    tiles = layer.fingerprints()
    combined = hashlib.sha256("".join(f"{k} {h}\n" for k, h in tiles).encode()).hexdigest()
    return {
        "kind": {"mbtiles": "MBTiles file", "pmtiles": "PMTiles file", "url": "tile server"}[
            info.kind
        ],
        "name": info.name,
        "sha256": info.sha256,
        "attribution": info.attribution,
        "zooms": f"{info.minzoom} to {info.maxzoom}",
        "format": info.format.upper(),
        "tiles": tiles if info.kind == "url" else [],
        "count": len(tiles),
        "combined": combined,
        "notices": layer.notices,
    }


def _period_us(inp: ReportInputs) -> tuple[int, int]:
    """The period examined, in UTC microseconds (the occasions' span when not stated)."""
    p = inp.summary.period
    return int(p.start.timestamp() * 1e6), int(p.end.timestamp() * 1e6)


def _investigate_command(inp: ReportInputs, params: AnalysisParams) -> str:
    """The command that reproduces the analysis (the case names its subjects and period)."""
    parts = ["whereabouts", "investigate", "WORKSPACE"]
    if inp.case_ref:
        parts += ["--case", inp.case_ref]
    values = params.as_dict()
    for s in SETTINGS:  # every setting the run used other than its default
        value = values[s.name]
        if value != s.default:
            parts += (
                [s.option if value else f"--no-{s.option.removeprefix('--')}"]
                if isinstance(value, bool)
                else [s.option, f"{float(value):g}"]
            )
    return " ".join(parts)


def _command(inp: ReportInputs, options: ReportOptions) -> str:
    """The command that reproduces this report (folders named, not their full paths)."""
    parts = ["whereabouts", "report", inp.workspace.path.name or "WORKSPACE"]
    if inp.case_ref:
        parts += ["--case", inp.case_ref]
    else:
        parts += ["--occasions", inp.run_dir.name]
    parts += ["--out", "OUTPUT", "--label-style", options.label_style]
    if options.labels:
        # The officer ids behind the labels belong to the key, not to the report.
        parts += ["--labels", "'<as in the key file>'"]
    if options.roads:
        parts += ["--roads", options.roads.name]
    if options.basemap:
        b = options.basemap
        parts += ["--basemap", b if "://" in b else Path(b).name]
    return " ".join(parts)


def authorise(workspace: Path, case_ref: str | None, user: str, summary: RunSummary) -> str:
    """Check the user may write this case's report, in scope, and audit it (case store);
    the audit head just after (`Anchor.statement`), which the report states."""
    return authorise_as(workspace, case_ref, user, summary)[1]


def authorise_as(
    workspace: Path, case_ref: str | None, user: str, summary: RunSummary
) -> tuple[str, str]:
    """`authorise`, also giving the name of the user the case store acted for."""
    from whereabouts.case import CaseStore

    if not case_ref:
        raise ParameterError(
            "the analysis names no case, so the report cannot be authorised",
            hint="report by --case REF, from an analysis run under a case",
        )
    store = CaseStore.open(workspace)
    try:
        who = store.current_user(user or None)
        period = summary.period
        store.record_read(
            who.username,
            case_ref,
            list(summary.subjects),
            period.start.isoformat(),
            period.end.isoformat(),
            what="report",
            action="report.write",
        )
        return who.username, store.audit.anchor().statement
    finally:
        store.close()


def current_audit_head(workspace: Path) -> str | None:
    """The audit head of the workspace's case store now, or None where it has none (a
    caller that checked and audited the report itself, without a store)."""
    import os

    if not (Path(workspace) / "cases.sqlite").exists() and not os.environ.get(
        "WHEREABOUTS_DATABASE_URL"
    ):
        return None
    from whereabouts.case import CaseStore

    store = CaseStore.open(workspace)
    try:
        return store.audit.anchor().statement
    finally:
        store.close()


def build_report(
    workspace: Path,
    *,
    out_dir: Path,
    case_ref: str | None = None,
    occasions_dir: Path | None = None,
    options: ReportOptions | None = None,
    user: str | None = None,
) -> ReportResult:
    """Write OUT/report.html, OUT/report.pdf and the label key (a separate file).

    With `user` (the CLI passes '' for WHEREABOUTS_USER or the OS user) the case store checks
    the user's role, membership and the case's scope, and audits the report before any
    location data is read; `user=None` is for callers that have done that themselves.
    """
    options = options or ReportOptions()
    if case_ref is None and occasions_dir is None:
        raise ParameterError(
            "a report needs a case or an analysis output folder",
            hint="give --case REF or --occasions DIR",
        )
    workspace = Path(workspace)
    run = Run.open(occasions_dir) if occasions_dir else RunStore(workspace).current(str(case_ref))
    run_dir = run.path
    head: str | None
    if user is not None:
        producer, head = authorise_as(workspace, case_ref or run.summary.case, user, run.summary)
        if options.exhibit is not None and not options.exhibit.producer:
            options = dataclasses.replace(
                options, exhibit=dataclasses.replace(options.exhibit, producer=producer)
            )
    else:
        head = options.audit_head or current_audit_head(workspace)
    options = dataclasses.replace(options, audit_head=head)
    inp = load_inputs(workspace, run_dir=run_dir, case_ref=case_ref)
    html, labels, n = render_html(inp, options)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / "report.html"
    atomic.write_text(html_path, html)  # whole, then renamed into place
    key = labels.write_key(options.key_path or out_dir / "report-key.csv")
    pdf_path, pages = None, None
    if options.pdf:
        from whereabouts.report.pdf import write_pdf

        pdf_path = out_dir / "report.pdf"
        pages = write_pdf(html, pdf_path)
    return ReportResult(html_path, pdf_path, key, n, pages)


__all__ = [
    "Exhibit",
    "ReportOptions",
    "ReportResult",
    "authorise",
    "authorise_as",
    "build_report",
    "current_audit_head",
    "render_html",
]
