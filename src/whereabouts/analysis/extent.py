"""What the force's records cover: the area (`area_box`) and whole days (`DAY`), as the
reasons and flags judge whether their inputs could assess an occasion."""

from __future__ import annotations

import duckdb
import numpy as np
import shapely

from whereabouts.analysis.inputs import US, fetch
from whereabouts.analysis.params import AnalysisParams
from whereabouts.schema import POLICE_PLACE_KINDS

DAY = 86_400 * US
OUTSIDE = "outside the area the force's records cover"


def quoted(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def area_box(con: duckdb.DuckDBPyConnection, params: AnalysisParams) -> str:
    """A one-row query `(x0, x1, y0, y1)`: the area the force's records are taken to cover
    — the bounding box of its police places, incidents and duty areas' boundaries, widened
    by `premises_area_m` (null when none of them is recorded)."""
    police = ", ".join(f"'{k}'" for k in POLICE_PLACE_KINDS)
    boxes = [f"SELECT min(x) AS x0, max(x) AS x1, min(y) AS y0, max(y) AS y1 FROM places "  # noqa: S608  # our own words
             f"WHERE kind IN ({police}) AND x IS NOT NULL",
             "SELECT min(x), max(x), min(y), max(y) FROM incidents WHERE x IS NOT NULL"]
    wkb = fetch(con, "SELECT geometry_wkb FROM areas").column("geometry_wkb").to_pylist()
    if wkb:
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(shapely.from_wkb(wkb)))
        if np.isfinite([x0, y0, x1, y1]).all():
            boxes.append(f"SELECT {x0!r}, {x1!r}, {y0!r}, {y1!r}")
    m = params.premises_area_m
    return (f"SELECT min(x0) - {m} AS x0, max(x1) + {m} AS x1, min(y0) - {m} AS y0, "  # noqa: S608  # numbers
            f"max(y1) + {m} AS y1 FROM ({' UNION ALL '.join(boxes)})")


__all__ = ["DAY", "OUTSIDE", "area_box", "quoted"]
