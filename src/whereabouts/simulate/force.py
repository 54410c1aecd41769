"""Simulate a force: geography, people, every shift day by day, sensors, files and truth.

``simulate(SimConfig(...), out)`` writes into `out`::

    officers.csv devices.csv assignments.csv duty.csv incidents.csv attachments.csv
    places.csv areas.geojson roads.geojson fixes.parquet (AVL) lip.csv (TETRA)
    map.gpkg map.osm.pbf        the area's map (simulate.mapdata): roads, buildings with
                                numbered addresses, water, parks and woods, a railway, as
                                OS-style GeoPackage layers and as OpenStreetMap data
    addresses.csv               every house's address, OS style (profile `os-addresses`)
    vendor/avl_generic.csv      AVL of a second supplier's cars (profile `generic-avl`)
    vendor/traccar_positions.csv  and of others as a Traccar export (profile `traccar`)
    truth/occasions.csv         planted occasions: officer_a, officer_b, start, end (UTC),
                                kind, place, lat, lon, reason, vehicles (';'-joined call
                                signs; for crewed_secluded the pair's stopped car); decoys
                                with their policing reason; `incidental`: two cars that
                                happened to be together 5+ minutes with no reason
    truth/positions.parquet     the true position behind every report
    truth/together.parquet      every pair's true time together, with the reason
    truth/spots.csv, truth/cast.json, truth/realism.json
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts import __version__
from whereabouts.progress import track
from whereabouts.schema import POLICE_PLACE_KINDS, UTC_TS
from whereabouts.simulate import export as ex
from whereabouts.simulate.config import SimConfig
from whereabouts.simulate.geography import Geography, build_geography
from whereabouts.simulate.incidental import incidental
from whereabouts.simulate.misconduct import Plan, plan_misconduct
from whereabouts.simulate.people import Force, build_force, shifts_on
from whereabouts.simulate.policing import ShiftRecords, simulate_shift
from whereabouts.simulate.realism import Tally
from whereabouts.simulate.sensors import (
    avl_table,
    lip_table,
    sample_avl,
    sample_lip,
    subset,
    truth_table,
)
from whereabouts.tracks.projection import to_wgs84

OCCASION_HEADER = (
    "officer_a",
    "officer_b",
    "start",
    "end",
    "kind",
    "place",
    "lat",
    "lon",
    "reason",
    "vehicles",
)


@dataclass(frozen=True)
class Simulation:
    """What a simulation wrote: the folder, the file names per table, row counts, realism."""

    out: Path
    files: dict[str, str]
    rows: dict[str, int]
    realism: dict[str, object]
    cast: dict[str, tuple[str, ...]]


def _together_table(rec: ShiftRecords) -> pa.Table:
    rows = rec.together
    start = np.array([r[2] for r in rows], float)
    end = np.array([r[3] for r in rows], float)
    return pa.table(
        {
            "officer_a": pa.array([r[0] for r in rows], pa.string()),
            "officer_b": pa.array([r[1] for r in rows], pa.string()),
            "start": pa.array(np.round(start * 1e6).astype(np.int64)).cast(UTC_TS),
            "end": pa.array(np.round(end * 1e6).astype(np.int64)).cast(UTC_TS),
            "reason": pa.array([r[4] for r in rows], pa.string()),
        }
    )


def _add_incidental(rec: ShiftRecords, force: Force, premises: np.ndarray) -> None:
    """Add the day's incidental co-location of cars (see incidental.py) to the truth: an
    `incidental` occasion and together-time with no reason for each pair of their crews."""
    station_of = {c: st for st, cs in force.vehicles.items() for c in cs}
    tasked: dict[str, list[tuple[float, float]]] = {}
    for _, _, device, sent, _, cleared in rec.attachments:
        if device is not None:
            tasked.setdefault(device, []).append((sent, cleared))
    planted = [(s, e, set(v.split(";"))) for _, _, s, e, _, _, _, _, _, v in rec.occasions]
    cars = [t for t in rec.tracks if t.kind == "vehicle"]
    for st in sorted({station_of[c.device_id] for c in cars}):  # cars meet within a station
        mine = [c for c in cars if station_of[c.device_id] == st]
        for car_a, car_b, s, e, x, y in incidental(mine, tasked, premises, planted):
            crew_a = {o for o, d, a0, a1 in rec.assignments if d == car_a and a0 < e and a1 > s}
            crew_b = {o for o, d, a0, a1 in rec.assignments if d == car_b and a0 < e and a1 > s}
            for oa in sorted(crew_a):
                for ob in sorted(crew_b - {oa}):
                    a, b = sorted((oa, ob))
                    rec.occasions.append(
                        (a, b, s, e, "incidental", "", x, y, "none", f"{car_a};{car_b}")
                    )
                    rec.together.append((a, b, s, e, "none"))


def simulate(config: SimConfig, out: Path, *, map_layers: bool = True) -> Simulation:
    """Run the whole simulation for `config` and write every file into `out`.

    map_layers=False leaves out the map (map.gpkg, map.osm.pbf, addresses.csv), which only
    the report and the web map draw; every other file is the same (the map has its own
    random stream). The method-validation exercise uses it: its findings never read a map.
    The force's random stream is drawn in one order (geography, force, plan, the second
    supplier's cars); each shift and each day's sensors have streams of their own.
    """
    ex.output_folder(out)
    rng = np.random.default_rng(config.seed)
    geo = build_geography(config, rng)
    force = build_force(config, geo, rng)
    plan = plan_misconduct(config, geo, force, rng)
    all_cars = sorted(c for cars in force.vehicles.values() for c in cars)
    n_vendor = round(config.vendor_share * len(all_cars))
    vendor = set(rng.choice(all_cars, size=n_vendor, replace=False).tolist()) if n_vendor else set()
    fleet = _Fleet(
        vendor,
        traccar=sorted(vendor)[1::2],  # half the second supplier's cars: a Traccar export
        depots=np.array([[s.x, s.y] for s in geo.stations]),
    )
    premises = np.array(
        [[p.x, p.y, p.radius_m + 50.0] for p in geo.places if p.kind in POLICE_PLACE_KINDS]
    )
    streams = ex.Streams(out)
    tally = Tally()
    tables = _Tables()
    decoy_ids = set(plan.cast.get("decoy_pairs", ()))
    for day in track(range(config.days), "simulating days", total=config.days):
        day_rec = _shifts_of_day(config, geo, force, plan, day, tally)
        _add_incidental(day_rec, force, premises)
        _sense(config, day, day_rec, fleet, streams, tally)
        tables.add_day(day_rec, config.timezone, decoy_ids)
    streams.close()
    # Incidental rows last: the planted ones open the file, as readers of it expect.
    files = _write_tables(
        out,
        geo,
        force,
        incidents=tables.incidents,
        attachments=tables.attachments,
        duty=tables.duty,
        assignments=tables.assignments,
        occasions=tables.occasions + tables.incidentals,
        rows=streams.rows,
        seed=config.seed,
    )
    if map_layers:
        files.update(_write_map(out, geo, config, streams.rows))
    realism = tally.summary()
    ex.write_json(out / "truth" / "realism.json", realism)
    ex.write_json(
        out / "truth" / "cast.json",
        {
            "cast": {k: list(v) for k, v in plan.cast.items()},
            "config": {k: str(v) for k, v in asdict(config).items()},
            "version": __version__,
            "vendor_vehicles": sorted(vendor),
        },
    )
    return Simulation(out, files, streams.rows, realism, plan.cast)


@dataclass(frozen=True)
class _Fleet:
    """What the sensors need of the force's vehicles: the second supplier's cars (those of
    them exported by Traccar) and the stations' depots."""

    vendor: set[str]
    traccar: list[str]
    depots: np.ndarray


def _shifts_of_day(
    config: SimConfig, geo: Geography, force: Force, plan: Plan, day: int, tally: Tally
) -> ShiftRecords:
    """Every shift of `day`, each on its own random stream, gathered in one record."""
    day_rec = ShiftRecords()
    for shift in shifts_on(config, force, day):
        srng = np.random.default_rng([config.seed, day, shift.station, shift.team])
        rec = simulate_shift(
            shift,
            config,
            geo,
            force,
            srng,
            planted=plan.events.get((day, shift.station, shift.team), []),
            planted_team=plan.roles.get((shift.station, shift.team), {}),
        )
        tally.shifts += 1
        tally.incidents += len(rec.incidents)
        for f in (
            "tracks",
            "incidents",
            "attachments",
            "duty",
            "assignments",
            "occasions",
            "together",
        ):
            getattr(day_rec, f).extend(getattr(rec, f))
    tally.officer_shifts += sum(1 for d in day_rec.duty if d[3] == "briefing")
    return day_rec


def _sense(
    config: SimConfig,
    day: int,
    day_rec: ShiftRecords,
    fleet: _Fleet,
    streams: ex.Streams,
    tally: Tally,
) -> None:
    """The day's AVL (own and the second supplier's) and TETRA reports of its tracks, with
    the truth behind them and the pairs' true time together, appended to the streams."""
    drng = np.random.default_rng([config.seed, day, 1_000_003])
    vendor = fleet.vendor
    cars = [t for t in day_rec.tracks if t.kind == "vehicle"]
    radios = [t for t in day_rec.tracks if t.kind == "radio"]
    avl = sample_avl(cars, config, drng, fleet.depots)
    lip = sample_lip(radios, config, drng)
    vendor_codes = np.flatnonzero(np.isin(avl.names, sorted(vendor)))
    is_vendor = np.isin(avl.device, vendor_codes)
    on = {
        src: sum(t.end - t.start for t in cars if (t.device_id in vendor) == v)
        for src, v in (("avl", False), ("vendor", True))
    }
    own, other = subset(avl, ~is_vendor), subset(avl, is_vendor)
    tally.add_samples("avl", own, on["avl"])
    if vendor:
        tally.add_samples("vendor", other, on["vendor"])
    tally.add_samples("tetra", lip, sum(t.end - t.start for t in radios))
    tally.add_coverage(lip, sum(t.end - t.start for t in radios))
    streams.parquet("fixes.parquet", avl_table(own, config, drng))
    theirs = avl_table(other, config, drng)
    via_traccar = pc.is_in(theirs["device_id"], pa.array(fleet.traccar, pa.string()))
    streams.csv(
        ex.VENDOR_AVL,
        ex.VENDOR_AVL_HEADER,
        ex.vendor_avl(theirs.filter(pc.invert(via_traccar))),
    )
    streams.csv(
        ex.VENDOR_TRACCAR, ex.VENDOR_TRACCAR_HEADER, ex.traccar_avl(theirs.filter(via_traccar))
    )
    streams.csv("lip.csv", ex.LIP_HEADER, lip_table(lip, config, drng))
    for src, samples in (("avl", own), ("vendor", other), ("tetra", lip)):
        streams.parquet("truth/positions.parquet", truth_table(samples, src))
    together = _together_table(day_rec)
    if together.num_rows:
        streams.parquet("truth/together.parquet", together)
        secs = np.array([r[3] - r[2] for r in day_rec.together])
        tally.add_together(secs, np.array([r[4] != "none" for r in day_rec.together]))


@dataclass
class _Tables:
    """The roster- and CAD-sized tables' rows and the planted occasions, as text, gathered
    day by day (incidental occasions apart: they are written last)."""

    incidents: list[list[object]] = field(default_factory=list)
    attachments: list[list[object]] = field(default_factory=list)
    duty: list[list[object]] = field(default_factory=list)
    assignments: list[list[object]] = field(default_factory=list)
    occasions: list[list[object]] = field(default_factory=list)
    incidentals: list[list[object]] = field(default_factory=list)

    def add_day(self, day_rec: ShiftRecords, tz: str, decoy_ids: set[str]) -> None:
        """The day's rows; a decoy pair's time together is an occasion with its reason."""
        self.incidents += [
            [i, ex.local_text(t, tz), ex.bng_text(x), ex.bng_text(y), cat, p, ex.local_text(c, tz)]
            for i, t, x, y, cat, p, c in day_rec.incidents
        ]
        self.attachments += [
            [i, o, d, ex.local_text(s, tz), ex.local_text(a, tz), ex.local_text(c, tz)]
            for i, o, d, s, a, c in day_rec.attachments
        ]
        self.duty += [[o, ex.utc_text(s), ex.utc_text(e), k, a] for o, s, e, k, a in day_rec.duty]
        self.assignments += [
            [o, d, ex.utc_text(s), ex.utc_text(e)] for o, d, s, e in day_rec.assignments
        ]
        for a, b, s, e, kind, place, x, y, reason, vehicles in day_rec.occasions:
            lat, lon = to_wgs84(np.array([x]), np.array([y]))
            (self.incidentals if kind == "incidental" else self.occasions).append(
                [
                    a,
                    b,
                    ex.utc_text(s),
                    ex.utc_text(e),
                    kind,
                    place,
                    f"{lat[0]:.6f}",
                    f"{lon[0]:.6f}",
                    reason,
                    vehicles,
                ]
            )
        for a, b, s, e, reason in day_rec.together:
            if a in decoy_ids and b in decoy_ids and reason in ("crewed", "same_incident"):
                self.occasions.append(
                    [a, b, ex.utc_text(s), ex.utc_text(e), "decoy", "", "", "", reason, ""]
                )


def _write_map(
    out: Path, geo: Geography, config: SimConfig, rows: dict[str, int]
) -> dict[str, str]:
    """The area's map (simulate.mapdata) as map.gpkg, map.osm.pbf and addresses.csv."""
    from whereabouts.simulate.mapdata import build_map, write_addresses, write_gpkg, write_osm

    m = build_map(
        geo.roads, geo.towns, config.seed, (config.origin_e, config.origin_n, config.size_m)
    )
    rows["map.gpkg"] = sum(write_gpkg(out / "map.gpkg", m).values())
    rows["map.osm.pbf"] = write_osm(out / "map.osm.pbf", m)["ways"]
    rows["addresses.csv"] = write_addresses(out / "addresses.csv", m)
    return {"map_gpkg": "map.gpkg", "map_osm": "map.osm.pbf", "addresses": "addresses.csv"}


def _write_tables(
    out: Path,
    geo: Geography,
    force: Force,
    *,
    incidents: list[list[object]],
    attachments: list[list[object]],
    duty: list[list[object]],
    assignments: list[list[object]],
    occasions: list[list[object]],
    rows: dict[str, int],
    seed: int = 0,
) -> dict[str, str]:
    """Write the roster-, CAD- and place-sized tables; add their row counts to `rows`."""
    n = rows
    n["officers.csv"] = ex.write_csv(
        out / "officers.csv",
        ("officer_id", "name", "rank", "team", "station", "status"),
        (
            [o, n, r, f"Team {'ABCDE'[t]}", geo.stations[s].name.replace(" police station", ""), st]
            for o, n, r, t, s, st in zip(
                force.officer_id,
                force.name,
                force.rank,
                force.team,
                force.station,
                force.status,
                strict=True,
            )
        ),
    )
    devices = [
        [r, "radio", f"radio of {o}"] for o, r in zip(force.officer_id, force.radio, strict=True)
    ]
    devices += [[r, "radio", "spare radio"] for rs in force.spare_radios.values() for r in rs]
    devices += [
        [c, "vehicle", force.vehicle_label[c]] for cs in force.vehicles.values() for c in cs
    ]
    n["devices.csv"] = ex.write_csv(out / "devices.csv", ("device_id", "kind", "label"), devices)
    n["assignments.csv"] = ex.write_csv(
        out / "assignments.csv", ("officer_id", "device_id", "start", "end"), assignments
    )
    n["duty.csv"] = ex.write_csv(
        out / "duty.csv", ("officer_id", "start", "end", "duty_type", "area_id"), duty
    )
    n["incidents.csv"] = ex.write_csv(
        out / "incidents.csv",
        ("incident_id", "created_at", "easting", "northing", "category", "priority", "closed_at"),
        incidents,
    )
    n["attachments.csv"] = ex.write_csv(
        out / "attachments.csv",
        ("incident_id", "officer_id", "device_id", "dispatched_at", "arrived_at", "cleared_at"),
        attachments,
    )
    homes = [
        (h.place_id, h.kind, h.x, h.y, h.radius_m, h.name, h.owner_officer_id) for h in force.home
    ]
    fixed = [(p.place_id, p.kind, p.x, p.y, p.radius_m, p.name, None) for p in geo.places]
    n["places.csv"] = ex.write_csv(
        out / "places.csv",
        ("place_id", "kind", "lat", "lon", "radius_m", "name", "owner_officer_id"),
        ex.feature_places(fixed + homes),
    )
    (out / "areas.geojson").write_text(geo.areas_geojson() + "\n", encoding="utf-8")
    n["roads.geojson"] = ex.write_roads(out / "roads.geojson", geo.roads, geo.towns, seed)
    n["truth/occasions.csv"] = ex.write_csv(
        out / "truth" / "occasions.csv", OCCASION_HEADER, occasions
    )
    ex.write_csv(
        out / "truth" / "spots.csv",
        ("place_id", "kind", "lat", "lon", "radius_m", "name", "owner_officer_id"),
        ex.feature_places(
            (p.place_id, p.kind, p.x, p.y, p.radius_m, p.name, None) for p in geo.spots
        ),
    )
    return {
        "officers": "officers.csv",
        "devices": "devices.csv",
        "assignments": "assignments.csv",
        "duty": "duty.csv",
        "incidents": "incidents.csv",
        "attachments": "attachments.csv",
        "places": "places.csv",
        "areas": "areas.geojson",
        "roads": "roads.geojson",
        "fixes": "fixes.parquet",
        "lip": "lip.csv",
        "vendor_avl": ex.VENDOR_AVL,
        "vendor_traccar": ex.VENDOR_TRACCAR,
    }


__all__ = ["Simulation", "simulate"]
