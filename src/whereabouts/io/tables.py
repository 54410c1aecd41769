"""What each canonical table needs from an input, declared as data (`Spec`), and the
vectorised conversion of a batch of raw columns into canonical rows plus quarantined ones.

Every check runs over whole columns; a row's first problem (column and reason) is the one
recorded in the quarantine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from whereabouts import schema
from whereabouts.io.profile import Profile
from whereabouts.io.result import quarantine_table
from whereabouts.io.times import DEFAULT_TIMEZONE, implausible, parse_times
from whereabouts.tracks.projection import BNG, area_of_use, to_wgs84

POSITION = ("lat", "lon", "easting", "northing")
_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$|^\s*[-+]?(nan|NaN|NAN|inf|Inf)\s*$"


@dataclass(frozen=True)
class Spec:
    """The columns of one canonical table and the rules its rows must follow."""

    table: str
    ids: tuple[str, ...]  # required text
    times: tuple[str, ...] = ()  # required times
    optional_times: tuple[str, ...] = ()
    text: tuple[str, ...] = ()  # optional text
    numbers: dict[str, tuple[float, float]] = field(default_factory=dict)  # optional, ranges
    integers: dict[str, tuple[int, int]] = field(default_factory=dict)
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    required_enums: tuple[str, ...] = ()
    positioned: bool = False
    order: tuple[tuple[str, str], ...] = ()  # (earlier, later) pairs
    one_of: tuple[str, ...] = ()  # at least one of these set per row

    @property
    def known(self) -> tuple[str, ...]:
        """Every column the table knows, in declaration order."""
        cols = (
            *self.ids,
            *self.times,
            *self.optional_times,
            *self.text,
            *self.numbers,
            *self.integers,
            *self.enums,
            *self.one_of,
        )
        return (*dict.fromkeys(cols), *(POSITION if self.positioned else ()))

    @property
    def required(self) -> tuple[str, ...]:
        """The columns every input of the table must have."""
        return (*self.ids, *self.times, *self.required_enums)


SPECS: dict[str, Spec] = {
    "fixes": Spec(
        "fixes",
        ids=("device_id",),
        times=("time",),
        text=("source",),
        numbers={
            "accuracy_m": (0, 1e6),
            "speed_mps": (0, 350),
            "heading_deg": (0, 360),
            "time_uncertainty_s": (0, 1e6),
        },
        positioned=True,
    ),
    "devices": Spec(
        "devices",
        ids=("device_id",),
        text=("label",),
        enums={"kind": schema.DEVICE_KINDS},
        required_enums=("kind",),
    ),
    "officers": Spec(
        "officers",
        ids=("officer_id",),
        text=("name", "rank", "team", "station"),
        enums={"status": schema.OFFICER_STATUSES},
    ),
    "assignments": Spec(
        "assignments",
        ids=("officer_id", "device_id"),
        times=("start", "end"),
        order=(("start", "end"),),
    ),
    "duty": Spec(
        "duty",
        ids=("officer_id",),
        times=("start", "end"),
        text=("duty_type", "area_id"),
        order=(("start", "end"),),
    ),
    "incidents": Spec(
        "incidents",
        ids=("incident_id",),
        times=("created_at",),
        optional_times=("closed_at",),
        text=("category",),
        integers={"priority": (1, 4)},
        positioned=True,
        order=(("created_at", "closed_at"),),
    ),
    "attachments": Spec(
        "attachments",
        ids=("incident_id",),
        times=("dispatched_at",),
        optional_times=("arrived_at", "cleared_at"),
        one_of=("officer_id", "device_id"),
        order=(
            ("dispatched_at", "arrived_at"),
            ("dispatched_at", "cleared_at"),
            ("arrived_at", "cleared_at"),
        ),
    ),
    "places": Spec(
        "places",
        ids=("place_id",),
        text=("name", "owner_officer_id"),
        numbers={"radius_m": (0, 1e5)},
        enums={"kind": schema.PLACE_KINDS},
        required_enums=("kind",),
        positioned=True,
    ),
    "addresses": Spec("addresses", ids=("address_id", "address"), positioned=True),
}


@dataclass(frozen=True)
class Context:
    """How to read one file: its time zone, profile and constant columns."""

    file: str
    timezone: str = DEFAULT_TIMEZONE
    profile: Profile | None = None
    device_id: str | None = None
    now: datetime | None = None
    workspace_crs: str | None = None  # where the data should lie (swapped lat/lon check)

    @property
    def time_format(self) -> str | None:
        """The profile's time format, or None to parse ISO 8601."""
        return self.profile.time_format if self.profile else None

    @property
    def crs(self) -> str:
        """The coordinates' CRS: the profile's, else British National Grid."""
        return self.profile.crs if self.profile else BNG


class Problems:
    """The first problem of each row: column and reason, None where the row is fine."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._bad = np.zeros(n, dtype=bool)
        self._reason: np.ndarray | None = None
        self._column: np.ndarray | None = None

    def flag(self, mask: np.ndarray, column: str | None, reason: str | np.ndarray) -> None:
        """Mark the rows of `mask` not already bad with `column` and `reason`."""
        fresh = mask & ~self._bad
        if not fresh.any():
            return
        if self._reason is None:
            self._reason = np.empty(self.n, dtype=object)
            self._column = np.empty(self.n, dtype=object)
        assert self._column is not None
        self._reason[fresh] = reason[fresh] if isinstance(reason, np.ndarray) else reason
        self._column[fresh] = column
        self._bad |= fresh

    @property
    def bad(self) -> np.ndarray:
        """Which rows have a problem."""
        return self._bad

    @property
    def reason(self) -> np.ndarray:
        """Each row's first problem (None where the row is fine)."""
        return self._reason if self._reason is not None else np.empty(self.n, dtype=object)

    @property
    def column(self) -> np.ndarray:
        """The column of each row's first problem (None where fine or not one column's)."""
        return self._column if self._column is not None else np.empty(self.n, dtype=object)


def _bool(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _text(col: pa.Array) -> pa.Array:
    """Strings, trimmed, with empty values as null."""
    s = pc.utf8_trim_whitespace(col.cast(pa.string()))
    return pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s)


def _numbers(
    col: pa.Array, problems: Problems, name: str, *, nan_is_missing: bool = False
) -> np.ndarray:
    """Floats with NaN for missing; unparseable values flagged.

    A NaN in an optional measurement (speed, accuracy) means "not measured", as many
    exports write it; in a coordinate it is a problem, and infinities always are.
    """
    if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
        num = col.cast(pa.float64())
    else:
        num = _parse_numbers(col, problems, name)
    values = np.asarray(pc.fill_null(num, np.nan).to_numpy(), dtype=float)
    nonfinite = np.isinf(values) if nan_is_missing else ~np.isfinite(values)
    if nonfinite.any():
        problems.flag(_bool(pc.is_valid(num)) & nonfinite, name, "not a finite number")
    return values


def _parse_numbers(col: pa.Array, problems: Problems, name: str) -> pa.Array:
    try:
        num = col.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        s = _text(col)
        ok = pc.match_substring_regex(s, _NUMBER)
        problems.flag(
            _bool(pc.and_(pc.is_valid(s), pc.invert(pc.fill_null(ok, True)))), name, "not a number"
        )
        num = pc.if_else(ok, s, pa.scalar(None, pa.string())).cast(pa.float64())
    return num


def _positions(
    cols: dict[str, pa.Array], problems: Problems, ctx: Context
) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lat/lon from lat/lon columns or from easting/northing in the profile's CRS."""
    if "lat" in cols:
        lat = _numbers(cols["lat"], problems, "lat")
        lon = _numbers(cols["lon"], problems, "lon")
        problems.flag(np.isnan(lat), "lat", "missing latitude")
        problems.flag(np.isnan(lon), "lon", "missing longitude")
        problems.flag(
            (np.abs(lat) > 180) & (np.abs(lon) > 180),
            "lat",
            "latitude out of range [-90, 90]: these look like easting/northing "
            "metres; name the columns easting,northing",
        )
        problems.flag(np.abs(lat) > 90, "lat", "latitude out of range [-90, 90]")
        problems.flag(np.abs(lon) > 180, "lon", "longitude out of range [-180, 180]")
        if ctx.workspace_crs:
            _swapped(lat, lon, problems, ctx.workspace_crs)
    else:
        east = _numbers(cols["easting"], problems, "easting")
        north = _numbers(cols["northing"], problems, "northing")
        problems.flag(np.isnan(east), "easting", "missing easting")
        problems.flag(np.isnan(north), "northing", "missing northing")
        if ctx.crs == BNG:
            problems.flag(
                (east < 0) | (east >= 700_000),
                "easting",
                "easting outside the British National Grid (0–700000 m)",
            )
            problems.flag(
                (north < 0) | (north >= 1_300_000),
                "northing",
                "northing outside the British National Grid (0–1300000 m)",
            )
        good = ~problems.bad
        lat = np.full(len(east), np.nan)
        lon = np.full(len(east), np.nan)
        if good.any():
            lat[good], lon[good] = to_wgs84(east[good], north[good], ctx.crs)
        problems.flag(
            ~np.isfinite(lat) | ~np.isfinite(lon),
            "easting",
            f"easting/northing cannot be converted from {ctx.crs}",
        )
    problems.flag((lat == 0) & (lon == 0), "lat", "position at (0, 0): no fix")
    far, why = far_outside(lat, lon, ctx.workspace_crs)
    problems.flag(far, "lat" if "lat" in cols else "easting", why)
    return lat, lon


FAR_DEGREES = 3.0  # how far beyond a CRS's area of use a position is "far outside" its grid


def far_outside(lat: np.ndarray, lon: np.ndarray, crs: str | None) -> tuple[np.ndarray, str]:
    """Positions far outside the workspace's grid (more than FAR_DEGREES beyond the area
    of use of `crs`), and the reason to quarantine them with; every reader applies it."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    box = area_of_use(crs) if crs else None
    if box is None:
        return np.zeros(len(lat), bool), ""
    west, south, east, north = box
    m = FAR_DEGREES
    with np.errstate(invalid="ignore"):
        far = (lat < south - m) | (lat > north + m)
        if west <= east:  # an area across the antimeridian: latitude only
            far |= (lon < west - m) | (lon > east + m)
    return far, (
        f"position far outside the workspace's grid ({crs}, for {west:g}..{east:g}°E "
        f"{south:g}..{north:g}°N): check the position, or ingest it into a "
        "workspace whose CRS covers it"
    )


def _swapped(lat: np.ndarray, lon: np.ndarray, problems: Problems, crs: str) -> None:
    """Flag rows outside `crs`'s area of use that would lie inside it with lat and lon swapped."""
    box = area_of_use(crs)
    if box is None:
        return
    west, south, east, north = box

    def inside(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        return np.asarray((la >= south) & (la <= north) & (lo >= west) & (lo <= east))

    problems.flag(
        ~inside(lat, lon) & inside(lon, lat),
        "lat",
        f"latitude and longitude look swapped (outside the area of {crs}, inside "
        "it if swapped); check which column is which",
    )


def _raw_rows(raw: pa.Table | None, idx: np.ndarray) -> pa.Array:
    """The quarantined rows as read, fields joined by commas."""
    if raw is None or raw.num_columns == 0 or len(idx) == 0:
        return pa.nulls(len(idx), pa.string())
    taken = raw.take(pa.array(idx))
    parts = [pc.fill_null(c.cast(pa.string()), "") for c in taken.columns]
    if len(parts) == 1:
        return parts[0].combine_chunks()
    return pc.binary_join_element_wise(*parts, ",").combine_chunks()


_Out = dict[str, pa.Array | np.ndarray]  # the converted columns, by canonical name


def _ids(spec: Spec, cols: dict[str, pa.Array], problems: Problems, out: _Out, n: int) -> None:
    """Identifiers: text, required; of `one_of`, at least one given."""
    for name in spec.ids:
        value = _text(cols[name])
        problems.flag(_bool(pc.is_null(value)), name, "missing value")
        out[name] = value
    for name in spec.one_of:
        out[name] = _text(cols[name]) if name in cols else pa.nulls(n, pa.string())
    if spec.one_of:
        none = np.ones(n, dtype=bool)
        for name in spec.one_of:
            none &= _bool(pc.is_null(out[name]))
        problems.flag(none, spec.one_of[0], f"neither {' nor '.join(spec.one_of)} given")


def _times(
    spec: Spec, cols: dict[str, pa.Array], problems: Problems, out: _Out, n: int, ctx: Context
) -> None:
    """Times in the input's zone and format, to UTC; missing or implausible ones flagged."""
    for name in (*spec.times, *spec.optional_times):
        if name not in cols:
            out[name] = pa.nulls(n, schema.UTC_TS)
            continue
        col = cols[name]
        required = name in spec.times
        if not required and pa.types.is_string(col.type):
            col = _text(col)
        parsed = parse_times(col, ctx.timezone, ctx.time_format)
        if parsed.reasons.null_count < n:  # some rows have a reason: skip the work if none
            reasons = np.asarray(parsed.reasons.to_numpy(zero_copy_only=False), dtype=object)
            if not required:
                reasons[_bool(pc.is_null(col))] = None
            problems.flag(reasons != None, name, reasons)  # noqa: E711
        if required and parsed.times.null_count:
            problems.flag(_bool(pc.is_null(parsed.times)), name, "missing time")
        late = implausible(parsed.times, ctx.now)
        if late.null_count < n:
            problems.flag(
                _bool(pc.is_valid(late)),
                name,
                np.asarray(late.to_numpy(zero_copy_only=False), dtype=object),
            )
        out[name] = parsed.times


def _enums(spec: Spec, cols: dict[str, pa.Array], problems: Problems, out: _Out, n: int) -> None:
    """Choices, lower-cased; unknown ones (and missing required ones) flagged."""
    for name, allowed in spec.enums.items():
        value = pc.utf8_lower(_text(cols[name])) if name in cols else pa.nulls(n, pa.string())
        if name in spec.required_enums:
            problems.flag(_bool(pc.is_null(value)), name, "missing value")
        unknown = pc.and_(pc.is_valid(value), pc.invert(pc.is_in(value, pa.array(allowed))))
        problems.flag(
            _bool(unknown), name, f"unknown {name} (expected one of {', '.join(allowed)})"
        )
        out[name] = value


def _measures(
    spec: Spec, cols: dict[str, pa.Array], problems: Problems, out: _Out, n: int, ctx: Context
) -> None:
    """Numbers in the profile's units, in their range (and whole where they must be)."""
    factor = ctx.profile.factor if ctx.profile else (lambda _c: 1.0)
    for name, (lo, hi) in {**spec.numbers, **spec.integers}.items():
        if name not in cols:
            out[name] = np.full(n, np.nan)
            continue
        values = _numbers(cols[name], problems, name, nan_is_missing=True) * factor(name)
        problems.flag(
            (values < lo) | (values > hi), name, f"{name} out of range [{lo:.10g}, {hi:.10g}]"
        )
        if name in spec.integers:
            problems.flag(
                np.isfinite(values) & (values != np.round(values)), name, "not a whole number"
            )
        out[name] = values


def _texts(spec: Spec, cols: dict[str, pa.Array], out: _Out, n: int, ctx: Context) -> None:
    """Free text: the input's, else the profile's constant, else null."""
    for name in spec.text:
        if name in cols:
            out[name] = _text(cols[name])
        elif ctx.profile and name in ctx.profile.constants:
            out[name] = pa.repeat(pa.scalar(ctx.profile.constants[name], pa.string()), n)
        else:
            out[name] = pa.nulls(n, pa.string())


def _accepted(spec: Spec, out: _Out, lines: np.ndarray, bad: np.ndarray) -> pa.Table:
    """The rows without a problem, as the canonical table's columns (with src_line)."""
    good = ~bad
    arrays = []
    names = []
    all_good = not bad.any()
    keep = None if all_good else pa.array(good)
    for f in schema.TABLES[spec.table]:
        if f.name in ("src_file", "x", "y"):
            continue
        if f.name == "src_line":
            arrays.append(pa.array(lines if all_good else lines[good], pa.int64()))
        else:
            v = out[f.name]
            if isinstance(v, np.ndarray):
                v = v if all_good else v[good]
                nan = np.isnan(v)
                col = pa.array(v, pa.float64(), mask=nan if nan.any() else None)
            else:
                col = v if keep is None else v.filter(keep)
            arrays.append(col if col.type == f.type else col.cast(f.type))
        names.append(f.name)
    return pa.table(arrays, names=names)


def convert(
    spec: Spec, cols: dict[str, pa.Array], lines: np.ndarray, raw: pa.Table | None, ctx: Context
) -> tuple[pa.Table, pa.Table]:
    """Raw columns (canonical names) → (accepted canonical rows with src_line, quarantine).

    Each row keeps its first problem, in the order of the steps below.
    """
    n = len(lines)
    problems = Problems(n)
    out: _Out = {}
    _ids(spec, cols, problems, out, n)
    _times(spec, cols, problems, out, n, ctx)
    _enums(spec, cols, problems, out, n)
    if spec.positioned:
        lat, lon = _positions(cols, problems, ctx)
        out["lat"], out["lon"] = lat, lon
    _measures(spec, cols, problems, out, n, ctx)
    _texts(spec, cols, out, n, ctx)
    for early, late_name in spec.order:
        a, b = out[early], out[late_name]
        before = pc.less(b, a)
        problems.flag(_bool(before), late_name, f"{late_name} before {early}")
    bad = problems.bad
    accepted = _accepted(spec, out, lines, bad)
    idx = np.flatnonzero(bad)
    q_raw = _raw_rows(raw, idx)
    quarantine = quarantine_table(
        lines[idx], list(problems.column[idx]), list(problems.reason[idx]), q_raw
    )
    return accepted, quarantine


__all__ = ["POSITION", "SPECS", "Context", "Problems", "Spec", "convert"]
