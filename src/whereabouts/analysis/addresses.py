"""The nearest address to a point, in words, with the rule and its caveat.

    text, metres = nearest_addresses(x, y, addresses, homes)
    address_phrase(text[i], metres[i])  # "outside 14 Ash Walk, Aberllyn (12 m)"

An address point (OS AddressBase / Open UPRN, OSM addr:*) within `ADDRESS_DISTANCE_M` of
the point is named: "outside" it within `OUTSIDE_M`, "near" it beyond. Equally near
addresses are told apart by their id. The address is the nearest one on record, not a
place anyone is shown to have entered. An address within an officer's home radius (plus
`HOME_MARGIN_M`) is never named: the report shows a home only as whose home it is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import shapely

ADDRESS_DISTANCE_M = 60.0
OUTSIDE_M = 25.0
HOME_MARGIN_M = 50.0
ADDRESS_RULE = (
    f"The nearest address is the address point on record closest to the "
    f"occasion's point, named when it lies within {ADDRESS_DISTANCE_M:.0f} metres "
    f'("outside" within {OUTSIDE_M:.0f} metres, "near" beyond). It is the '
    "nearest address, not a visit: nothing in the location data shows that "
    "anyone entered it or had anything to do with it. Addresses at or near an "
    "officer's home are not named."
)


def nearest_addresses(
    x: np.ndarray,
    y: np.ndarray,
    addresses: pa.Table,
    homes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    *,
    max_distance_m: float = ADDRESS_DISTANCE_M,
) -> tuple[list[str | None], np.ndarray]:
    """For each point (workspace-CRS metres): the nearest address's text, or None, and its
    distance in metres (NaN when none is named). `homes` = (x, y, radius) of homes."""
    n = len(x)
    out: list[str | None] = [None] * n
    dist = np.full(n, np.nan)
    if not n or addresses is None or not addresses.num_rows:
        return out, dist
    t = addresses.sort_by([("address_id", "ascending")])
    ax = np.asarray(t["x"].to_numpy(zero_copy_only=False), float)
    ay = np.asarray(t["y"].to_numpy(zero_copy_only=False), float)
    text = t["address"].to_pylist()
    keep = np.ones(len(ax), bool)
    if homes is not None and len(homes[0]):
        hx, hy, hr = (np.asarray(v, float) for v in homes)
        tree = shapely.STRtree(shapely.points(ax, ay))
        pairs = tree.query(
            shapely.buffer(shapely.points(hx, hy), hr + HOME_MARGIN_M), predicate="intersects"
        )
        keep[pairs[1]] = False
    idx = np.flatnonzero(keep)
    if not len(idx):
        return out, dist
    pts = shapely.points(ax[idx], ay[idx])
    tree = shapely.STRtree(pts)
    q, d = tree.query_nearest(
        shapely.points(x, y), max_distance=max_distance_m, return_distance=True, all_matches=True
    )
    # all_matches: equally near addresses all come back; the first by id (sorted) wins
    first = np.unique(q[0], return_index=True)[1]
    for point, k, metres in zip(
        q[0][first].tolist(), q[1][first].tolist(), d[first].tolist(), strict=True
    ):
        out[point] = str(text[idx[k]])
        dist[point] = metres
    return out, dist


def address_phrase(
    address: str, metres: float, unit: Callable[[float], str] = lambda m: f"{m:.0f} m"
) -> str:
    """The address in words: "outside 14 Ash Walk (12 m)" within OUTSIDE_M, else "near …"."""
    word = "outside" if metres <= OUTSIDE_M else "near"
    return f"{word} {address} ({unit(metres)})"


__all__ = [
    "ADDRESS_DISTANCE_M",
    "ADDRESS_RULE",
    "HOME_MARGIN_M",
    "OUTSIDE_M",
    "address_phrase",
    "nearest_addresses",
]
