"""Writing the simulated force's files: the canonical inputs, vendor shapes and the truth.

Fix-sized outputs (fixes.parquet, lip.csv, vendor AVL, truth positions) stream day by day;
the roster- and CAD-sized tables are written once at the end. CAD times are naive local
time as CAD systems record them, with an offset only where the clock change makes a local
time ambiguous.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from whereabouts.errors import ParameterError
from whereabouts.simulate.roads import RoadNetwork, Town, roads_geojson
from whereabouts.tracks.projection import to_wgs84

VENDOR_AVL = "vendor/avl_generic.csv"  # read with the `generic-avl` mapping profile
VENDOR_AVL_HEADER = ("unit", "timestamp", "latitude", "longitude", "speed_kmh", "heading")
VENDOR_TRACCAR = "vendor/traccar_positions.csv"  # read with the `traccar` mapping profile
VENDOR_TRACCAR_HEADER = (
    "deviceid",
    "fixtime",
    "latitude",
    "longitude",
    "speed",
    "course",
    "accuracy",
)
LIP_HEADER = ("issi", "received_at", "pdu_hex")


def output_folder(out: Path) -> Path:
    """Create `out` (and its parents) for the simulator's files; a file there is refused."""
    if out.exists() and not out.is_dir():
        raise ParameterError(
            f"--out {out} is a file, not a folder", hint="give a new or empty folder for the output"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def utc_text(t: float | None) -> str:
    """Epoch seconds → '2024-02-05T07:00:00Z' ('' for None)."""
    if t is None:
        return ""
    return datetime.fromtimestamp(round(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_text(t: float | None, timezone: str) -> str:
    """Epoch seconds → naive local '2024-02-05 08:03:00', with an offset when ambiguous."""
    if t is None:
        return ""
    tz = ZoneInfo(timezone)
    local = datetime.fromtimestamp(round(t), tz)
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() != local.utcoffset():  # the repeated hour in autumn
        return local.isoformat(sep=" ")
    return local.strftime("%Y-%m-%d %H:%M:%S")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """A small CSV table (roster, CAD, places); returns the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow(["" if v is None else v for v in row])
            n += 1
    return n


def bng_text(x: float) -> str:
    """A British National Grid coordinate as written in the files (whole metres)."""
    return f"{x:.0f}"


class Streams:
    """Open writers of the fix-sized outputs; `write_day` appends a day, `close` finishes."""

    def __init__(self, out: Path) -> None:
        (out / "vendor").mkdir(parents=True, exist_ok=True)
        (out / "truth").mkdir(parents=True, exist_ok=True)
        self.out = out
        self._parquet: dict[str, pq.ParquetWriter] = {}
        self._csv: dict[str, IO[bytes]] = {}
        self.rows: dict[str, int] = {}

    def parquet(self, name: str, table: pa.Table) -> None:
        """Append a table to a Parquet file (created with the first table's schema)."""
        if name not in self._parquet:
            self._parquet[name] = pq.ParquetWriter(
                self.out / name, table.schema, compression="zstd"
            )
        self._parquet[name].write_table(table, row_group_size=1_000_000)
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def csv(self, name: str, header: Sequence[str], table: pa.Table) -> None:
        """Append rows to a CSV file (header written once, values unquoted)."""
        if name not in self._csv:
            fh = (self.out / name).open("wb")
            fh.write((",".join(header) + "\n").encode())
            self._csv[name] = fh
        if table.num_rows:
            pacsv.write_csv(
                table,
                self._csv[name],
                pacsv.WriteOptions(include_header=False, quoting_style="none"),
            )
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def close(self) -> None:
        """Close every file written so far."""
        for w in self._parquet.values():
            w.close()
        for fh in self._csv.values():
            fh.close()


def vendor_avl(fixes: pa.Table) -> pa.Table:
    """Canonical AVL rows in the generic vendor shape: km/h, ISO times, other names."""
    return pa.table(
        {
            "unit": fixes["device_id"],
            "timestamp": pc.strftime(
                fixes["time"].cast(pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ"
            ),
            "latitude": fixes["lat"],
            "longitude": fixes["lon"],
            "speed_kmh": pc.round(pc.multiply(fixes["speed_mps"], 3.6), 1),
            "heading": fixes["heading_deg"],
        }
    )


def traccar_avl(fixes: pa.Table) -> pa.Table:
    """Canonical AVL rows as a Traccar positions export: knots, naive UTC times."""
    return pa.table(
        {
            "deviceid": fixes["device_id"],
            "fixtime": pc.strftime(
                fixes["time"].cast(pa.timestamp("s", tz="UTC")), format="%Y-%m-%d %H:%M:%S"
            ),
            "latitude": fixes["lat"],
            "longitude": fixes["lon"],
            "speed": pc.round(pc.divide(fixes["speed_mps"], 1852 / 3600), 2),
            "course": fixes["heading_deg"],
            "accuracy": fixes["accuracy_m"],
        }
    )


def feature_places(
    places: Iterable[tuple[str, str, float, float, float, str, str | None]],
) -> list[list[object]]:
    """places.csv rows (lat/lon) from (id, kind, x, y, radius, name, owner)."""
    rows = list(places)
    if not rows:
        return []
    lat, lon = to_wgs84([r[2] for r in rows], [r[3] for r in rows])  # type: ignore[arg-type]
    return [
        [r[0], r[1], f"{la:.6f}", f"{lo:.6f}", f"{r[4]:.0f}", r[5], r[6]]
        for r, la, lo in zip(rows, lat, lon, strict=True)
    ]


def write_roads(path: Path, network: RoadNetwork, towns: list[Town], seed: int) -> int:
    """roads.geojson: every road named and/or numbered (simulate.roads.name_roads), WGS84
    lines with road_id, name, ref and kind; returns the number of roads."""
    text = roads_geojson(network, towns, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text.count('"type": "Feature",')


def write_json(path: Path, data: object) -> None:
    """Write `data` as sorted, indented JSON (creating the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


__all__ = [
    "LIP_HEADER",
    "VENDOR_AVL",
    "VENDOR_AVL_HEADER",
    "VENDOR_TRACCAR",
    "VENDOR_TRACCAR_HEADER",
    "Streams",
    "bng_text",
    "feature_places",
    "local_text",
    "traccar_avl",
    "utc_text",
    "vendor_avl",
    "write_csv",
    "write_json",
    "write_roads",
]
