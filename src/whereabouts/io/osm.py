"""Map layers from an OpenStreetMap extract (.osm.pbf, .osm), read with pyosmium.

One pass over the file (`read_osm`) sorts every object into the map's kinds by its tags:

| kind | OSM objects (the layer's candidates) |
|---|---|
| roads | ways tagged `highway` (kind: its value), name and `ref` kept |
| buildings | ways and multipolygon relations tagged `building` (not `no`) |
| water | `natural=water`, `waterway=riverbank/dock`, `landuse=reservoir/basin` areas; `waterway=river/stream/canal/drain/ditch` lines |
| green | parks, gardens, grass, woods, meadows, cemeteries and the like (`GREEN_TAGS`) |
| rail | ways tagged `railway=rail/light_rail/tram/subway/narrow_gauge/monorail/preserved` |
| addresses | nodes, ways and relations with `addr:housenumber` |

Every candidate ends accepted or quarantined: a way whose nodes are missing from the
extract (cut at its edge), an outline that is not closed or does not form a polygon, an
address with a house number but no street or place, a feature outside the area the
workspace's CRS covers. A quarantined row's "line" is the object's position in the file
(1-based, nodes then ways then relations) and its raw text names the object ("way 123").
Geometries are built by libosmium (`osmium.geom.WKBFactory`) and projected over all
features at once with shapely and pyproj.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import osmium
import pyarrow as pa
import shapely

from whereabouts.errors import InputError
from whereabouts.io.result import quarantine_table
from whereabouts.io.tabular import Chunk
from whereabouts.tracks.projection import area_of_use, to_projected

OSM_SUFFIXES = (".pbf", ".osm", ".o5m", ".bz2")
WATER_AREAS = {
    "natural": {"water"},
    "waterway": {"riverbank", "dock"},
    "landuse": {"reservoir", "basin"},
}
WATER_LINES = {"river", "stream", "canal", "drain", "ditch"}
GREEN_TAGS = {
    "leisure": {
        "park",
        "garden",
        "playground",
        "pitch",
        "nature_reserve",
        "golf_course",
        "common",
        "recreation_ground",
    },
    "landuse": {
        "grass",
        "forest",
        "meadow",
        "recreation_ground",
        "village_green",
        "cemetery",
        "allotments",
    },
    "natural": {"wood", "scrub", "heath", "grassland"},
}
RAILWAYS = {"rail", "light_rail", "tram", "subway", "narrow_gauge", "monorail", "preserved"}
AREA_KINDS = ("buildings", "water", "green")


def is_osm(path: Path) -> bool:
    """True for an OpenStreetMap extract, by its name (x.osm.pbf, x.osm, x.pbf)."""
    name = path.name.lower()
    return name.endswith((".osm.pbf", ".osm", ".pbf", ".osm.bz2", ".o5m"))


@dataclass
class _Layer:
    """What one pass collected for one kind: candidates, and the geometry of those built."""

    ids: list[str] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)
    kinds: list[str | None] = field(default_factory=list)
    refs: list[str | None] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    wkb: list[str | None] = field(default_factory=list)
    problem: list[str | None] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        oid: str,
        line: int,
        name: str | None,
        kind: str | None,
        *,
        ref: str | None = None,
        wkb: str | None = None,
        problem: str | None = None,
    ) -> None:
        self.index[oid] = len(self.ids)
        self.ids.append(oid)
        self.lines.append(line)
        self.names.append(name)
        self.kinds.append(kind)
        self.refs.append(ref)
        self.wkb.append(wkb)
        self.problem.append(problem)


def _tag(tags: osmium.osm.TagList, key: str) -> str | None:
    value = tags.get(key)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _area_kind(tags: osmium.osm.TagList) -> tuple[str, str] | None:
    """(layer, class) of an object that would be an area, or None."""
    building = _tag(tags, "building")
    if building is not None and building != "no":
        return "buildings", building
    for key, values in WATER_AREAS.items():
        v = _tag(tags, key)
        if v in values:
            return "water", v
    for key, values in GREEN_TAGS.items():
        v = _tag(tags, key)
        if v in values:
            return "green", v
    return None


def _address(tags: osmium.osm.TagList) -> tuple[str | None, str | None]:
    """(address text, problem): "14 Ash Walk, Aberllyn" from addr:* tags."""
    number = _tag(tags, "addr:housenumber")
    street = _tag(tags, "addr:street") or _tag(tags, "addr:place")
    if street is None:
        return None, "address has a house number but no addr:street nor addr:place"
    town = _tag(tags, "addr:city")
    text = f"{number} {street}"
    return (f"{text}, {town}" if town else text), None


def read_osm(path: Path, crs: str) -> dict[str, Chunk]:
    """Every map kind from one OSM extract: {kind: Chunk} with WKB in `crs`.

    One pass serves every kind: `--kind map` ingests the six from one reading of the file
    (the last file read is kept, keyed by its path, size and modification time).
    """
    stat = path.stat()
    return _read_osm(str(path), stat.st_size, stat.st_mtime_ns, crs)


@lru_cache(maxsize=1)
def _read_osm(name: str, _size: int, _mtime: int, crs: str) -> dict[str, Chunk]:
    path = Path(name)
    layers = {k: _Layer() for k in ("roads", "buildings", "water", "green", "rail", "addresses")}
    fab = osmium.geom.WKBFactory()
    built: dict[tuple[str, int], str] = {}  # ("w"|"r", id) → WKB of the area assembled
    pending_areas: list[tuple[str, str, int]] = []  # (layer, "w"|"r", id) candidates
    line = 0
    try:
        processor = osmium.FileProcessor(str(path)).with_locations().with_areas()
        for obj in processor:
            if isinstance(obj, osmium.osm.Area):
                if _area_kind(obj.tags) is not None or "addr:housenumber" in obj.tags:
                    key = ("w" if obj.from_way() else "r", obj.orig_id())
                    # an area libosmium cannot assemble is left unbuilt: its candidate
                    # is quarantined below
                    with suppress(RuntimeError, osmium.InvalidLocationError):
                        built[key] = fab.create_multipolygon(obj)
                continue
            if isinstance(obj, osmium.osm.Changeset):
                continue
            line += 1
            if isinstance(obj, osmium.osm.Node):
                _node(obj, line, layers, fab)
            elif isinstance(obj, osmium.osm.Way):
                _way(obj, line, layers, fab, pending_areas)
            elif isinstance(obj, osmium.osm.Relation):
                _relation(obj, line, layers, pending_areas)
    except RuntimeError as exc:  # libosmium: not an OSM file, truncated, unknown format
        raise InputError(
            f"cannot read the OpenStreetMap extract: {exc}",
            where=str(path),
            hint="give an .osm.pbf or .osm file as downloaded (e.g. from "
            "Geofabrik), whole and uncompressed beyond its own format",
        ) from exc
    _attach_areas(layers, built, pending_areas)
    return {kind: _chunk(kind, lay, crs) for kind, lay in layers.items()}


def _node(
    obj: osmium.osm.Node, line: int, layers: dict[str, _Layer], fab: osmium.geom.WKBFactory
) -> None:
    """A node with a house number: an address point."""
    if "addr:housenumber" not in obj.tags:
        return
    text, problem = _address(obj.tags)
    wkb = None
    if problem is None:
        try:
            wkb = fab.create_point(obj)
        except osmium.InvalidLocationError:
            problem = "node has no valid location"
    layers["addresses"].add(f"node/{obj.id}", line, text, None, wkb=wkb, problem=problem)


def _relation(
    obj: osmium.osm.Relation,
    line: int,
    layers: dict[str, _Layer],
    pending_areas: list[tuple[str, str, int]],
) -> None:
    """A multipolygon of a mapped kind, or an address; its outline comes from the areas."""
    tags = obj.tags
    if _tag(tags, "type") in ("multipolygon", "boundary"):
        found = _area_kind(tags)
        if found is not None:
            layer, cls = found
            layers[layer].add(f"relation/{obj.id}", line, _tag(tags, "name"), cls)
            pending_areas.append((layer, "r", obj.id))
    if "addr:housenumber" in tags:
        text, problem = _address(tags)
        layers["addresses"].add(f"relation/{obj.id}", line, text, None, problem=problem)
        if problem is None:
            pending_areas.append(("addresses", "r", obj.id))


def _attach_areas(
    layers: dict[str, _Layer],
    built: dict[tuple[str, int], str],
    pending_areas: list[tuple[str, str, int]],
) -> None:
    """The assembled outline of each candidate area, or why it has none."""
    for layer, t, oid in pending_areas:
        lay = layers[layer]
        i = lay.index[f"{'way' if t == 'w' else 'relation'}/{oid}"]
        wkb = built.get((t, oid))
        if wkb is not None:
            lay.wkb[i] = wkb
        elif lay.problem[i] is None and lay.wkb[i] is None:
            lay.problem[i] = (
                "outline does not form a polygon: not closed, or some of its "
                "nodes or member ways are missing from the extract"
            )


def _way(
    obj: osmium.osm.Way,
    line: int,
    layers: dict[str, _Layer],
    fab: osmium.geom.WKBFactory,
    pending_areas: list[tuple[str, str, int]],
) -> None:
    tags = obj.tags
    oid = f"way/{obj.id}"
    name = _tag(tags, "name")

    def linestring() -> tuple[str | None, str | None]:
        try:
            return fab.create_linestring(obj), None
        except osmium.InvalidLocationError:
            return None, "some of the way's nodes are missing from the extract"
        except RuntimeError:
            return None, "the way has fewer than two distinct nodes in the extract"

    highway = _tag(tags, "highway")
    if highway is not None and _tag(tags, "area") != "yes":
        wkb, problem = linestring()
        layers["roads"].add(
            oid, line, name, highway, ref=_tag(tags, "ref"), wkb=wkb, problem=problem
        )
    railway = _tag(tags, "railway")
    if railway in RAILWAYS:
        wkb, problem = linestring()
        layers["rail"].add(oid, line, name, railway, wkb=wkb, problem=problem)
    waterway = _tag(tags, "waterway")
    if waterway in WATER_LINES:
        wkb, problem = linestring()
        layers["water"].add(oid, line, name, waterway, wkb=wkb, problem=problem)
    found = _area_kind(tags)
    if found is not None and not (found[0] == "water" and waterway in WATER_LINES):
        layer, cls = found
        layers[layer].add(oid, line, name, cls)
        pending_areas.append((layer, "w", obj.id))
    if "addr:housenumber" in tags:
        text, problem = _address(tags)
        layers["addresses"].add(oid, line, text, None, problem=problem)
        if problem is None:
            if obj.is_closed():
                pending_areas.append(("addresses", "w", obj.id))
            else:
                wkb, problem = linestring()
                layers["addresses"].wkb[-1] = wkb
                layers["addresses"].problem[-1] = problem


def address_points(geoms: np.ndarray) -> np.ndarray:
    """An address's point: its geometry's centroid (a building's middle), or for a shape
    whose centroid falls outside it (an L-shaped block) a point inside it."""
    centre = shapely.centroid(geoms)
    result: np.ndarray = np.where(
        shapely.covers(geoms, centre), centre, shapely.point_on_surface(geoms)
    )
    return result


def _chunk(kind: str, lay: _Layer, crs: str) -> Chunk:
    """The layer's candidates as accepted rows (projected to `crs`) and quarantined ones."""
    n = len(lay.ids)
    problem = np.array([*lay.problem, None], dtype=object)[:n]
    hexes = np.array([w if w is not None else "" for w in lay.wkb] + [""], dtype=object)[:n]
    has = hexes != ""
    geoms = np.full(n, None, dtype=object)
    if has.any():
        geoms[has] = shapely.from_wkb(hexes[has].astype(str))
    if kind == "addresses" and has.any():
        geoms[has] = address_points(geoms[has])
    area = area_of_use(crs)
    ok = has & np.array([p is None for p in problem], dtype=bool)
    if area is not None and ok.any():
        b = shapely.bounds(geoms[ok])
        west, south, east, north = area
        inside = (
            (b[:, 0] >= west - 0.5)
            & (b[:, 2] <= east + 0.5)
            & (b[:, 1] >= south - 0.5)
            & (b[:, 3] <= north + 0.5)
        )
        idx = np.flatnonzero(ok)[~inside]
        problem[idx] = (
            f"lies outside the area {crs} covers (give the workspace the CRS of "
            "the data: `whereabouts init --crs`)"
        )
        ok[idx] = False
    keep = np.flatnonzero(ok)

    def project(lonlat: np.ndarray) -> np.ndarray:
        x, y = to_projected(lonlat[:, 1], lonlat[:, 0], crs)
        return np.column_stack([x, y])

    projected = shapely.transform(geoms[keep], project) if len(keep) else np.array([])
    ids = pa.array([lay.ids[i] for i in keep], pa.string())
    names = pa.array([lay.names[i] for i in keep], pa.string())
    lines = pa.array(np.asarray(lay.lines, np.int64)[keep], pa.int64())
    if kind == "addresses":
        ll = shapely.get_coordinates(geoms[keep]) if len(keep) else np.zeros((0, 2))
        xy = shapely.get_coordinates(projected) if len(keep) else np.zeros((0, 2))
        accepted = pa.table(
            {
                "address_id": ids,
                "address": names,
                "lat": pa.array(ll[:, 1]),
                "lon": pa.array(ll[:, 0]),
                "x": pa.array(xy[:, 0]),
                "y": pa.array(xy[:, 1]),
                "src_line": lines,
            }
        )
    else:
        wkb = pa.array(shapely.to_wkb(projected).tolist() if len(keep) else [], pa.binary())
        kinds = pa.array([lay.kinds[i] for i in keep], pa.string())
        if kind == "roads":
            accepted = pa.table(
                {
                    "road_id": ids,
                    "name": names,
                    "ref": pa.array([lay.refs[i] for i in keep], pa.string()),
                    "kind": kinds,
                    "geometry_wkb": wkb,
                    "src_line": lines,
                }
            )
        else:
            accepted = pa.table(
                {
                    "feature_id": ids,
                    "name": names,
                    "kind": kinds,
                    "geometry_wkb": wkb,
                    "src_line": lines,
                }
            )
    bad = np.flatnonzero(~ok)
    quarantine = quarantine_table(
        np.asarray(lay.lines, np.int64)[bad],
        ["geometry"] * len(bad),
        [str(problem[i]) if problem[i] is not None else "no geometry" for i in bad],
        [
            f"{lay.ids[i].replace('/', ' ')}" + (f" ({lay.kinds[i]})" if lay.kinds[i] else "")
            for i in bad
        ],
    )
    return Chunk(accepted, quarantine, n)


__all__ = [
    "GREEN_TAGS",
    "OSM_SUFFIXES",
    "RAILWAYS",
    "WATER_AREAS",
    "WATER_LINES",
    "address_points",
    "is_osm",
    "read_osm",
]
