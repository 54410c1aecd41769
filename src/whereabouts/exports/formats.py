"""A case's occasions and tracks written for other tools: KML (Google Earth, ArcGIS Pro),
GeoJSON (RFC 7946), GPX 1.1, CSV, and an i2 Analyst's Notebook import file (`i2.py`).

Every writer takes a `CaseData` and a path and returns the number of occasions written.
Coordinates are WGS84 (lon, lat to 6 decimals, about 0.1 m); times UTC ISO 8601 with Z.
Output is deterministic: the same run gives the same bytes.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from whereabouts import __version__
from whereabouts.exports.content import (
    CaseData,
    Segment,
    evidence_details,
    facts,
    track_segments,
    utc_text,
)
from whereabouts.outfiles import safe_row
from whereabouts.store import atomic

KML_NS = "http://www.opengis.net/kml/2.2"
GPX_NS = "http://www.topografix.com/GPX/1/1"
# One colour per officer (KML's aabbggrr), distinct on a map and in greyscale print.
TRACK_COLOURS = ("ffb45f1f", "ff0e7fff", "ff2ca02c", "ff2827d6", "ffbd6794", "ff4b568c")
CSV_COLUMNS = (
    "occasion",
    "officers",
    "start",
    "end",
    "duration_min",
    "finding",
    "reasons",
    "flags",
    "where",
    "grid_ref",
    "lat",
    "lon",
    "closest_m",
    "confidence",
    "unavailable_min",
)


def _coord(lon: float, lat: float) -> str:
    return f"{lon:.6f},{lat:.6f}"


def _occasion_rows(data: CaseData) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = data.occasions.to_pylist()
    return rows


def _officers(data: CaseData, segments: list[Segment]) -> list[str]:
    return sorted(set(data.subjects) | {s.officer_id for s in segments})


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def _write_xml(root: ET.Element, path: Path) -> None:
    ET.indent(root, space=" ")
    tree = ET.ElementTree(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_with(path, lambda tmp: tree.write(tmp, encoding="UTF-8", xml_declaration=True))


def write_kml(data: CaseData, path: Path) -> int:
    """KML: a folder of each officer's tracks (one placemark per device, its stretches as a
    MultiGeometry, with its time span) and a folder with one placemark per occasion (its
    point, time span, facts as ExtendedData and a description in words)."""
    ET.register_namespace("", KML_NS)
    k = f"{{{KML_NS}}}"
    root = ET.Element(f"{k}kml")
    doc = _sub(root, f"{k}Document")
    _sub(doc, f"{k}name", f"Case {data.case_ref}")
    _sub(
        doc,
        f"{k}description",
        f"Occasions and tracks of case {data.case_ref} ({data.period[0]} to "
        f"{data.period[1]}), whereabouts {__version__}. Likely whereabouts from AVL and radio "
        "location data: a track is drawn only between fixes at most "
        f"{data.max_gap_s:.0f} s apart.",
    )
    segments = track_segments(data.tracks, data.max_gap_s)
    officers = _officers(data, segments)
    for i in range(len(officers)):
        style = _sub(doc, f"{k}Style", id=f"track-{i}")
        line = _sub(style, f"{k}LineStyle")
        _sub(line, f"{k}color", TRACK_COLOURS[i % len(TRACK_COLOURS)])
        _sub(line, f"{k}width", "3")
    for name, colour in (("unexplained", "ff0000ff"), ("explained", "ff808080")):
        style = _sub(doc, f"{k}Style", id=f"occasion-{name}")
        icon = _sub(style, f"{k}IconStyle")
        _sub(icon, f"{k}color", colour)
    tracks = _sub(doc, f"{k}Folder")
    _sub(tracks, f"{k}name", "Tracks")
    for i, officer in enumerate(officers):
        folder = _sub(tracks, f"{k}Folder")
        _sub(folder, f"{k}name", officer)
        mine = [s for s in segments if s.officer_id == officer]
        for device in sorted({s.device_id for s in mine}):
            parts = [s for s in mine if s.device_id == device]
            mark = _sub(folder, f"{k}Placemark")
            _sub(mark, f"{k}name", f"{officer}: device {device}")
            span = _sub(mark, f"{k}TimeSpan")
            _sub(span, f"{k}begin", utc_text(parts[0].times[0]))
            _sub(span, f"{k}end", utc_text(parts[-1].times[-1]))
            _sub(mark, f"{k}styleUrl", f"#track-{i}")
            multi = _sub(mark, f"{k}MultiGeometry")
            for s in parts:
                if len(s.times) == 1:
                    geom = _sub(multi, f"{k}Point")
                else:
                    geom = _sub(multi, f"{k}LineString")
                    _sub(geom, f"{k}tessellate", "1")
                _sub(
                    geom,
                    f"{k}coordinates",
                    " ".join(
                        _coord(a, b) for a, b in zip(s.lon.tolist(), s.lat.tolist(), strict=True)
                    ),
                )
    occ = _sub(doc, f"{k}Folder")
    _sub(occ, f"{k}name", "Occasions")
    rows = _occasion_rows(data)
    for n, row in enumerate(rows, 1):
        f = facts(row)
        mark = _sub(occ, f"{k}Placemark", id=f"occasion-{row['occasion_id']}")
        _sub(mark, f"{k}name", f"Occasion {n}: {f['officers']}")
        lines = [
            f"{f['start']} to {f['end']} ({f['duration_min']} min)",
            f"Finding: {f['finding']}",
            f"Reasons: {f['reasons']}",
            f"Flags: {f['flags']}",
            f"Where: {f['where']}",
            *evidence_details(row),
        ]
        _sub(mark, f"{k}description", "\n".join(lines))
        span = _sub(mark, f"{k}TimeSpan")
        _sub(span, f"{k}begin", f["start"])
        _sub(span, f"{k}end", f["end"])
        _sub(
            mark,
            f"{k}styleUrl",
            "#occasion-explained" if row.get("explained") else "#occasion-unexplained",
        )
        extended = _sub(mark, f"{k}ExtendedData")
        for key, value in f.items():
            d = _sub(extended, f"{k}Data", name=key)
            _sub(d, f"{k}value", value)
        point = _sub(mark, f"{k}Point")
        _sub(point, f"{k}coordinates", _coord(float(row["lon"]), float(row["lat"])))
    _write_xml(root, path)
    return len(rows)


def write_geojson(data: CaseData, path: Path) -> int:
    """GeoJSON (RFC 7946, WGS84): a MultiLineString per officer and device (stretches
    without long gaps) and a Point per occasion with its facts as properties."""
    features: list[dict[str, Any]] = []
    segments = track_segments(data.tracks, data.max_gap_s)
    for officer in _officers(data, segments):
        mine = [s for s in segments if s.officer_id == officer]
        for device in sorted({s.device_id for s in mine}):
            parts = [s for s in mine if s.device_id == device]
            lines = [
                [
                    [round(a, 6), round(b, 6)]
                    for a, b in zip(s.lon.tolist(), s.lat.tolist(), strict=True)
                ]
                for s in parts
            ]
            lines = [ln if len(ln) > 1 else ln * 2 for ln in lines]  # a lone fix: a dot
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "layer": "track",
                        "officer": officer,
                        "device": device,
                        "start": utc_text(parts[0].times[0]),
                        "end": utc_text(parts[-1].times[-1]),
                        "fixes": sum(len(s.times) for s in parts),
                    },
                    "geometry": {"type": "MultiLineString", "coordinates": lines},
                }
            )
    rows = _occasion_rows(data)
    for row in rows:
        props: dict[str, Any] = {
            "layer": "occasion",
            **facts(row),
            "evidence": evidence_details(row),
        }
        features.append(
            {
                "type": "Feature",
                "id": str(row["occasion_id"]),
                "properties": props,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(row["lon"]), 6), round(float(row["lat"]), 6)],
                },
            }
        )
    doc = {"type": "FeatureCollection", "name": f"case {data.case_ref}", "features": features}
    _write_text(path, json.dumps(doc, ensure_ascii=False, indent=None) + "\n")
    return len(rows)


def write_gpx(data: CaseData, path: Path) -> int:
    """GPX 1.1: a waypoint per occasion (time = its start) and a track per officer and
    device, one track segment per stretch without a long gap."""
    ET.register_namespace("", GPX_NS)
    g = f"{{{GPX_NS}}}"
    root = ET.Element(f"{g}gpx", version="1.1", creator=f"whereabouts {__version__}")
    meta = _sub(root, f"{g}metadata")
    _sub(meta, f"{g}name", f"Case {data.case_ref}")
    rows = _occasion_rows(data)
    for n, row in enumerate(rows, 1):
        f = facts(row)
        wpt = _sub(root, f"{g}wpt", lat=f"{float(row['lat']):.6f}", lon=f"{float(row['lon']):.6f}")
        _sub(wpt, f"{g}time", f["start"])
        _sub(wpt, f"{g}name", f"Occasion {n}")
        _sub(
            wpt,
            f"{g}desc",
            f"{f['officers']}, {f['start']} to {f['end']} "
            f"({f['duration_min']} min); {f['finding']}; reasons: "
            f"{f['reasons']}; flags: {f['flags']}; {f['where']}",
        )
    segments = track_segments(data.tracks, data.max_gap_s)
    for officer in _officers(data, segments):
        mine = [s for s in segments if s.officer_id == officer]
        for device in sorted({s.device_id for s in mine}):
            trk = _sub(root, f"{g}trk")
            _sub(trk, f"{g}name", f"{officer}: device {device}")
            for s in (s for s in mine if s.device_id == device):
                seg = _sub(trk, f"{g}trkseg")
                for t, lon, lat in zip(s.times, s.lon.tolist(), s.lat.tolist(), strict=True):
                    pt = _sub(seg, f"{g}trkpt", lat=f"{lat:.6f}", lon=f"{lon:.6f}")
                    _sub(pt, f"{g}time", utc_text(t))
    _write_xml(root, path)
    return len(rows)


def write_csv(data: CaseData, path: Path) -> int:
    """CSV: one row per occasion with its facts in words (`CSV_COLUMNS`)."""
    rows = _occasion_rows(data)
    table = []
    for row in rows:
        f = facts(row)
        f["lat"], f["lon"] = f"{float(row['lat']):.6f}", f"{float(row['lon']):.6f}"
        table.append([f[c] for c in CSV_COLUMNS])
    write_csv_rows(path, list(CSV_COLUMNS), table)
    return len(rows)


def write_csv_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """A CSV file (RFC 4180, UTF-8), written whole then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            w = csv.writer(handle, lineterminator="\r\n")
            w.writerow(header)
            w.writerows(safe_row(r) for r in rows)  # no formula reaches a spreadsheet

    atomic.write_with(path, write)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, text)


Writer = Callable[[CaseData, Path], int]

__all__ = [
    "CSV_COLUMNS",
    "GPX_NS",
    "KML_NS",
    "Writer",
    "write_csv",
    "write_csv_rows",
    "write_geojson",
    "write_gpx",
    "write_kml",
]
