"""The web app's only door into the library: workspace tables, analysis outputs, reports.

Routers call `Services`; `Services` calls the store, the analysis output folder, the report
layer and (through `CaseBackend`) the case layer. Everything returned is plain JSON-ready
data. Loaded tables are cached by file modification time, so many users reading the same
case share one copy.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from whereabouts.basemap import TileSource, open_basemap, plan_tiles
from whereabouts.case import Case, CaseStore, UserInfo
from whereabouts.engine.params import EncounterParams
from whereabouts.errors import (
    NoDataError,
    ParameterError,
    PermissionDenied,
    ScopeError,
    WhereaboutsError,
    WorkspaceError,
)
from whereabouts.store import Workspace
from whereabouts.store.runs import Run, RunStore, RunSummary
from whereabouts.tracks.projection import to_projected
from whereabouts.web.simplify import simplify_to_budget

if TYPE_CHECKING:
    from collections.abc import Mapping

    from whereabouts.web.vectortiles import VectorTiles

T = TypeVar("T")

PLAYBACK_MARGIN_S = 30 * 60  # playback shows 30 minutes either side of an occasion


class ServiceUnavailable(WhereaboutsError):
    """A layer the web app relies on is not installed or not built yet."""


@dataclass(frozen=True)
class Tracks:
    """One case's subjects' fixes, sorted by unit then time, as numpy columns."""

    units: list[str]
    offsets: np.ndarray  # fixes of unit i are offsets[i]:offsets[i+1]
    t_s: np.ndarray  # epoch seconds, float64
    x: np.ndarray
    y: np.ndarray
    accuracy_m: np.ndarray  # NaN where unknown


def _epoch_s(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A timestamp column → float epoch seconds (vectorised)."""
    micro = pc.cast(pc.cast(column, pa.timestamp("us", tz="UTC")), pa.int64())
    return np.asarray(micro.to_numpy(zero_copy_only=False), dtype=np.float64) / 1e6


def _jsonable(value: Any) -> Any:  # noqa: ANN401  # a JSON value, of what shape it came
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _case_json(case: Case) -> dict[str, Any]:
    """A case as JSON-ready data (times ISO 8601)."""
    return {
        "ref": case.ref,
        "subjects": list(case.subjects),
        "start": case.start.isoformat(),
        "end": case.end.isoformat(),
        "purpose": case.purpose,
        "legal_basis": case.legal_basis,
        "authorised_by": case.authorised_by,
        "status": case.status,
        "extensions": [
            {
                "kind": e.kind,
                "officers": list(e.officers),
                "start": e.start.isoformat() if e.start else None,
                "end": e.end.isoformat() if e.end else None,
                "authority": e.authority,
            }
            for e in case.extensions
        ],
    }


def rows_json(table: pa.Table) -> list[dict[str, Any]]:
    """Arrow rows → JSON-ready dicts (times as ISO 8601 UTC, NaN as null)."""
    return [_jsonable(r) for r in table.to_pylist()]


def zoom_tolerance(tolerance_m: float) -> float:
    """Snap a requested pixel size down to the zoom ladder 2^(k/2) m, so that users looking at
    the same case at about the same zoom share one cached, simplified answer."""
    if not tolerance_m > 0 or not np.isfinite(tolerance_m):
        raise ParameterError(
            f"tolerance_m must be a positive number of metres, got {tolerance_m!r}",
            hint="pass the ground size of one screen pixel, e.g. tolerance_m=10",
        )
    return float(2.0 ** (np.floor(np.log2(tolerance_m) * 2) / 2))


class _MtimeCache:
    """Values computed from a file, recomputed when the file changes; bounded LRU."""

    def __init__(self, size: int = 64) -> None:
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._making: dict[tuple[Any, ...], threading.Lock] = {}
        self._size = size

    def get(self, key: tuple[object, ...], path: Path, make: Callable[[], T]) -> T:
        stamp = path.stat().st_mtime_ns if path.exists() else 0
        full = (*key, str(path), stamp)
        # a key's value is what its `make` returns (the keys name what they hold)
        with self._lock:
            if full in self._data:
                self._data.move_to_end(full)
                return cast(T, self._data[full])
            # one computation per key: users asking at once wait for it, not redo it
            making = self._making.setdefault(full, threading.Lock())
        with making:
            with self._lock:
                if full in self._data:
                    return cast(T, self._data[full])
            value = make()
            with self._lock:
                self._data[full] = value
                self._making.pop(full, None)
                while len(self._data) > self._size:
                    self._data.popitem(last=False)
        return value


class _Serialised:
    """The case store, called by one thread at a time from this process.

    On SQLite a writer blocks readers, and a blocked connection backs off in growing sleeps;
    with many users that gives a few requests waits of seconds. Taking turns in-process
    (each call is a millisecond or so, plus the audit's commit) keeps the tail short.
    """

    def __init__(self, target: object, lock: threading.RLock) -> None:
        self._target = target
        self._lock = lock

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401  # a proxy: any attribute of the target
        value = getattr(self._target, name)
        if name == "audit":
            return _Serialised(value, self._lock)
        if not callable(value):
            return value
        lock = self._lock

        def call(*args: object, **kwargs: object) -> object:
            with lock:
                return value(*args, **kwargs)

        return call


class _State:
    """What every part of the services holds (set by `Services.__init__`)."""

    workspace: Path
    roads_path: Path | None
    basemap: TileSource | None
    _tiles_lock: threading.Lock
    _tiles: tuple[int, VectorTiles | None] | None
    runs: RunStore
    _ws: Workspace | None
    store: CaseStore
    _cache: _MtimeCache
    _results: _MtimeCache
    _report_writer: Callable[[Path, str, Path], dict[str, Path]]
    _seen_cases: dict[str, Case]
    _overview_parts: dict[str, tuple[tuple[Any, ...], bytes]]


class _WorkspaceContext(_State):
    """The workspace's own tables as context: its CRS and time zone, places, areas, roads."""

    @property
    def ws(self) -> Workspace:
        """The workspace (opened on first use: the sign-in pages need none)."""
        if self._ws is None:
            self._ws = Workspace.open(self.workspace)
        return self._ws

    def crs(self) -> str:
        """The workspace's CRS."""
        return self.ws.crs

    def timezone(self) -> str:
        """The workspace's time zone."""
        return self.ws.timezone

    def table(self, name: str) -> pa.Table:
        """A canonical workspace table (all ingested files), empty when none was ingested."""
        value: pa.Table = self._cache.get(
            ("table", name, *self.ws.table_stamp(name)), self.workspace, lambda: self.ws.table(name)
        )
        return value

    def places(self, case: Case) -> list[dict[str, Any]]:
        """Places to draw. Homes only of the case's subjects: others' addresses are out of scope."""
        value: list[dict[str, Any]] = self._results.get(
            ("places", case.subjects, *self.ws.table_stamp("places")),
            self.workspace,
            lambda: self._places(case.subjects),
        )
        return value

    def _places(self, subjects: tuple[str, ...]) -> list[dict[str, Any]]:
        table = self.table("places")
        if table.num_rows == 0:
            return []
        is_home = pc.equal(table["kind"], "home")
        owner_in = pc.is_in(table["owner_officer_id"], pa.array(list(subjects), pa.string()))
        keep = pc.or_kleene(pc.invert(is_home), pc.fill_null(owner_in, False))
        cols = ["place_id", "kind", "x", "y", "radius_m", "name", "owner_officer_id"]
        return rows_json(table.filter(pc.fill_null(keep, False)).select(cols))

    def areas(self) -> list[dict[str, Any]]:
        """Areas (beats, sectors): id, name and polygon rings in the workspace CRS."""
        value: list[dict[str, Any]] = self._results.get(
            ("areas", *self.ws.table_stamp("areas")), self.workspace, self._areas
        )
        return value

    def _areas(self) -> list[dict[str, Any]]:
        table = self.table("areas")
        if table.num_rows == 0:
            return []
        crs = self.crs()
        out = []
        for row in table.select(["area_id", "name", "geometry_geojson"]).to_pylist():
            geometry = json.loads(row["geometry_geojson"])
            coords = geometry.get("coordinates", [])
            polygons = coords if geometry.get("type") == "MultiPolygon" else [coords]
            rings = []
            for polygon in polygons:
                for ring in polygon:
                    lonlat = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
                    x, y = to_projected(lonlat[:, 1], lonlat[:, 0], crs)
                    rings.append(np.round(np.column_stack([x, y]), 1).tolist())
            out.append({"area_id": row["area_id"], "name": row["name"], "rings": rings})
        return out

    def roads(self) -> list[list[list[float]]]:
        """The roads drawn under the tracks, in grid metres: the `roads` GeoJSON given to the
        app, else the workspace's ingested roads (none when neither exists)."""
        path = self.roads_path
        if path is None and not self.ws.table_stamp("roads"):
            return []

        def load() -> list[list[list[float]]]:
            from whereabouts.report.inputs import workspace_roads
            from whereabouts.report.maps import load_roads

            lines = (
                load_roads(path, self.crs()) if path is not None else workspace_roads(self.ws) or []
            )
            return [np.round(line, 1).tolist() for line in lines]

        key = ("roads",) if path is not None else ("roads", *self.ws.table_stamp("roads"))
        value: list[list[list[float]]] = self._results.get(key, path or self.workspace, load)
        return value


class _CaseAccess(_WorkspaceContext):
    """Users, cases and the audit: the case store, which checks and records every read."""

    def authenticate(self, username: str, password: str) -> UserInfo | None:
        """The user when the password is right (the store audits every attempt), else None."""
        try:
            return self.store.authenticate(username, password)
        except PermissionDenied:
            return None

    def user(self, username: str) -> UserInfo | None:
        """The user's details, or None if there is no such user."""
        try:
            return self.store.get_user(username)
        except PermissionDenied:
            return None

    def require(self, user: UserInfo, action: str, case_ref: str | None = None) -> None:
        """PermissionDenied unless the role (and case membership) allows `action`."""
        self.store.require(user, action, case_ref)

    def may(self, user: UserInfo, action: str) -> bool:
        """Whether the user's role allows the action."""
        try:
            self.store.require(user, action)
        except PermissionDenied:
            return False
        return True

    def cases(self, user: UserInfo) -> list[Case]:
        """The cases the user is a member of."""
        self.require(user, "case.view")
        return self.store.list_cases(member=user.username)

    def case(self, user: UserInfo, ref: str) -> Case:
        """The case, if the user may view it."""
        self.require(user, "case.view", ref)
        return self.store.get_case(ref)

    def record_read(
        self,
        user: UserInfo,
        ref: str,
        what: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        action: str = "location.read",
        off_duty: bool = False,
        **detail: object,
    ) -> Case:
        """Check role, membership and scope for reading the subjects' location data; audit it.

        The period defaults to the case's own. Raises (and audits nothing) when refused.
        The subjects and default period come from the case as last seen (saves a query per
        request); the store checks against the case as it is now, and when that differs
        (the case changed since) the read is recorded again with the case's current values,
        so the last entry always names what is then read.
        """
        seen = self._seen_cases.get(ref)
        try:
            if seen is None:
                seen = self.store.get_case(ref)
            case: Case = self.store.record_read(
                user,
                ref,
                seen.subjects,
                start or seen.start,
                end or seen.end,
                what=what,
                action=action,
                off_duty=off_duty,
                **detail,
            )
        except ScopeError:
            if ref not in self._seen_cases:
                raise
            del self._seen_cases[ref]  # refused on what we remembered: ask again as it is now
            return self.record_read(
                user, ref, what, start, end, action=action, off_duty=off_duty, **detail
            )
        if (case.subjects, case.start, case.end) != (seen.subjects, seen.start, seen.end):
            case = self.store.record_read(
                user,
                ref,
                case.subjects,
                start or case.start,
                end or case.end,
                what=what,
                action=action,
                off_duty=off_duty,
                **detail,
            )
        self._seen_cases[ref] = case
        return case

    def annotate(
        self,
        user: UserInfo,
        ref: str,
        occasion_id: str,
        *,
        note: str,
        reason_added: str | None,
        reason_rejected: str | None,
    ) -> dict[str, Any]:
        """Record the user's annotation on an occasion; returns it as stored."""
        self.store.annotate(occasion_id, ref, user, note, reason_added, reason_rejected)
        return self.annotations(ref, occasion_id)[-1]

    def annotations(self, ref: str, occasion_id: str | None = None) -> list[dict[str, Any]]:
        """The case's annotations (of one occasion if given), as JSON values."""
        rows = self.store.annotations(ref)
        return [
            _jsonable(r) for r in rows if occasion_id is None or r["occasion_id"] == occasion_id
        ]

    def audit_entries(
        self,
        user: UserInfo,
        *,
        case_ref: str | None,
        limit: int,
        actor: str | None = None,
        action: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> list[dict[str, Any]]:
        """The audit log, newest first, filtered by case, user, action and local dates."""
        self.require(user, "audit.read")
        rows = self.store.audit.entries(case_ref=case_ref)
        zone = ZoneInfo(self.timezone())
        lo = datetime.combine(since, time(0), tzinfo=zone) if since else None
        hi = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone) if until else None

        def keep(r: Mapping[str, Any]) -> bool:
            at = r["at"]
            at = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            return (
                (actor is None or r["actor"] == actor)
                and (action is None or r["action"] == action)
                and (lo is None or at >= lo)
                and (hi is None or at < hi)
            )

        picked = [r for r in rows if keep(r)]
        return [_jsonable(dict(r)) for r in reversed(picked[-limit:])]

    def audit_verify(self, user: UserInfo) -> dict[str, Any]:
        """Check the audit chain (if the user may); the result as JSON values."""
        self.require(user, "audit.verify")
        report = self.store.audit.verify()
        return {
            "ok": report.ok,
            "entries": report.entries,
            "head": report.head_hash,
            "problems": [
                {"seq": p.seq, "kind": p.kind, "message": p.message} for p in report.problems
            ],
        }


class _RunOutputs(_CaseAccess):
    """A case's current run: its summary, occasions (filtered, one at a time, the overview) and tracks."""

    def run(self, case_ref: str) -> Run:
        """The case's run (RunStore.current), its summary cached while the run is current."""
        folder = self.runs.locate(case_ref)
        value: Run = self._cache.get(("run",), folder / "summary.json", lambda: Run.open(folder))
        return value

    def run_dir(self, case_ref: str) -> Path:
        """The folder of the case's run."""
        return self.run(case_ref).path

    def summary(self, case_ref: str) -> RunSummary:
        """The case's current run's summary."""
        return self.run(case_ref).summary

    def occasions_table(self, case_ref: str) -> pa.Table:
        """The case's current run's occasions (cached while the file is unchanged)."""
        path = self.run_dir(case_ref) / "occasions.parquet"
        table: pa.Table = self._cache.get(("occ",), path, lambda: pq.read_table(path))
        return table

    def occasions(
        self,
        case_ref: str,
        *,
        no_reason: bool | None = None,
        home: bool | None = None,
        remote: bool | None = None,
        confidence: str | None = None,
    ) -> list[dict[str, Any]]:
        """The case's occasions, filtered; evidence stays on the occasion's own page."""
        path = self.run_dir(case_ref) / "occasions.parquet"
        key = ("occasions", case_ref, no_reason, home, remote, confidence)
        value: list[dict[str, Any]] = self._results.get(
            key, path, lambda: self._occasions(case_ref, no_reason, home, remote, confidence)
        )
        return value

    def _occasions(
        self,
        case_ref: str,
        no_reason: bool | None,
        home: bool | None,
        remote: bool | None,
        confidence: str | None,
    ) -> list[dict[str, Any]]:
        table = self.occasions_table(case_ref)
        mask = pa.array(np.ones(table.num_rows, dtype=bool))
        if no_reason is not None and "finding" in table.column_names:
            # "no policing reason found" is only the finding of that name (not assessable
            # occasions are neither)
            none = pc.fill_null(pc.equal(table["finding"], "no_reason_found"), False)
            mask = pc.and_(mask, none if no_reason else pc.invert(none))
        elif no_reason is not None and "explained" in table.column_names:
            explained = pc.fill_null(table["explained"], False)
            mask = pc.and_(mask, pc.invert(explained) if no_reason else explained)
        for flag, wanted in (("home", home), ("remote", remote)):
            if wanted is not None and "flags" in table.column_names:
                has = self._has_flag(table, flag)
                mask = pc.and_(mask, has if wanted else pc.invert(has))
        if confidence is not None and "confidence" in table.column_names:
            mask = pc.and_(mask, pc.fill_null(pc.equal(table["confidence"], confidence), False))
        chosen = table.filter(mask)
        keep = [c for c in chosen.column_names if c != "evidence"]
        return rows_json(chosen.select(keep))

    @staticmethod
    def _has_flag(table: pa.Table, flag: str) -> pa.ChunkedArray:
        """True where the occasion's `flags` list holds `flag` (vectorised over the list column)."""
        flags = (
            table["flags"].combine_chunks()
            if table.num_rows
            else pa.array([], pa.list_(pa.string()))
        )
        parents = pc.list_parent_indices(flags)
        hits = pc.equal(pc.list_flatten(flags), flag)
        counts = np.zeros(table.num_rows, dtype=np.int64)
        np.add.at(counts, np.asarray(parents)[np.asarray(pc.fill_null(hits, False))], 1)
        return pa.chunked_array([pa.array(counts > 0)])

    def occasion(self, case_ref: str, occasion_id: str) -> dict[str, Any]:
        """One occasion of the case's current run with its evidence, as JSON values."""
        table = self.occasions_table(case_ref)
        one = table.filter(pc.equal(table["occasion_id"], occasion_id))
        if one.num_rows == 0:
            raise NoDataError(
                f"case {case_ref!r} has no occasion {occasion_id!r}",
                hint="pick an occasion from the case's occasions table",
            )
        row: dict[str, Any] = rows_json(one)[0]
        evidence = row.get("evidence")
        if isinstance(evidence, str):
            try:
                row["evidence"] = json.loads(evidence)
            except ValueError:
                row["evidence"] = [{"label": "evidence", "kind": "text", "detail": evidence}]
        return row

    def overview_json(self, case: Case) -> bytes:
        """The case page's data as compact JSON: the case as just read, then its cached parts.

        The parts (summary, occasions, places, areas, roads) are cached by their files'
        modification times; their encoding is kept while every part is the same object.
        """
        summary = self.summary(case.ref)
        parts: tuple[Any, ...] = (
            summary.crs,
            summary.params,
            [c.to_json() for c in summary.coverage],
            self.occasions(case.ref),
            self.places(case),
            self.areas(),
            self.roads(),
        )
        known = self._overview_parts.get(case.ref)
        if (
            known is not None
            and len(known[0]) == len(parts)
            and all(
                a is b or (isinstance(a, str) and a == b)
                for a, b in zip(known[0], parts, strict=True)
            )
        ):
            rest = known[1]
        else:
            names = ("crs", "params", "coverage", "occasions", "places", "areas", "roads")
            rest = json.dumps(dict(zip(names, parts, strict=True)), separators=(",", ":")).encode()
            self._overview_parts[case.ref] = (parts, rest)
        head = json.dumps({"case": _case_json(case)}, separators=(",", ":")).encode()
        return head[:-1] + b"," + rest[1:]

    # --- tracks ----------------------------------------------------------------------
    def tracks(self, case_ref: str) -> Tracks:
        """The case's current run's tracks (cached while the file is unchanged)."""
        path = self.run_dir(case_ref) / "tracks.parquet"
        if not path.exists():
            raise NoDataError(
                f"case {case_ref!r} has no tracks file",
                hint=f"run `whereabouts investigate {self.workspace} --case {case_ref}` again",
            )
        value: Tracks = self._cache.get(("tracks",), path, lambda: self._load_tracks(path))
        return value

    @staticmethod
    def _load_tracks(path: Path) -> Tracks:
        table = pq.read_table(path)
        unit_col = "officer_id" if "officer_id" in table.column_names else "device_id"
        cols = [unit_col, "time", "x", "y"]
        if "accuracy_m" in table.column_names:
            cols.append("accuracy_m")
        table = table.select(cols).sort_by([(unit_col, "ascending"), ("time", "ascending")])
        units_arr = table[unit_col].combine_chunks()
        encoded = pc.dictionary_encode(units_arr)
        labels = encoded.dictionary.to_pylist()
        codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
        # Sorted by unit text, so codes change only at unit boundaries.
        change = np.flatnonzero(np.diff(codes)) + 1 if codes.size else np.zeros(0, np.int64)
        offsets = np.concatenate([[0], change, [codes.size]]).astype(np.int64)
        units = [labels[codes[o]] for o in offsets[:-1]] if codes.size else []
        acc = (
            np.asarray(pc.fill_null(table["accuracy_m"], np.nan).to_numpy(), dtype=np.float64)
            if "accuracy_m" in table.column_names
            else np.full(table.num_rows, np.nan)
        )
        return Tracks(
            units=[str(u) for u in units],
            offsets=offsets if codes.size else np.zeros(1, np.int64),
            t_s=_epoch_s(table["time"]),
            x=np.asarray(table["x"].to_numpy(), dtype=np.float64),
            y=np.asarray(table["y"].to_numpy(), dtype=np.float64),
            accuracy_m=acc,
        )

    def track_json(
        self,
        case_ref: str,
        start: datetime,
        end: datetime,
        *,
        tolerance_m: float,
        max_points: int = 20_000,
    ) -> bytes:
        """Each unit's fixes in [start, end], simplified for a map pixel of `tolerance_m`, as JSON.

        Segments break where the position is unknown: gaps above the run's max_gap_s. Coordinates are
        metres in the workspace CRS; times are epoch seconds. Serialised once and cached:
        encoding tens of thousands of numbers is the costly part of a request.
        """
        if end <= start:
            raise ParameterError(
                "the period's end must be after its start", hint="swap from and to"
            )
        tracks = self.tracks(case_ref)
        t0, t1 = start.timestamp(), end.timestamp()
        tolerance_m = zoom_tolerance(tolerance_m)
        key = (case_ref, t0, t1, round(float(tolerance_m), 3), max_points)
        run = self.run(case_ref)
        max_gap_s = float(run.summary.setting("max_gap_s", EncounterParams().max_gap_s))
        value: bytes = self._results.get(
            ("trackjson", *key),
            run.file("tracks.parquet"),
            lambda: json.dumps(
                self._track_json(tracks, t0, t1, tolerance_m, max_points, max_gap_s),
                separators=(",", ":"),
            ).encode(),
        )
        return value

    @staticmethod
    def _track_json(
        tracks: Tracks,
        t0: float,
        t1: float,
        tolerance_m: float,
        max_points: int,
        max_gap_s: float,
    ) -> dict[str, Any]:
        units: list[dict[str, Any]] = []
        used_tol = tolerance_m
        for i, unit in enumerate(tracks.units):
            lo, hi = int(tracks.offsets[i]), int(tracks.offsets[i + 1])
            t = tracks.t_s[lo:hi]
            a, b = (
                lo + int(np.searchsorted(t, t0, "left")),
                lo + int(np.searchsorted(t, t1, "right")),
            )
            t, x, y = tracks.t_s[a:b], tracks.x[a:b], tracks.y[a:b]
            result, used_tol = simplify_to_budget(
                t, x, y, tolerance_m=tolerance_m, max_points=max_points, max_gap_s=max_gap_s
            )
            keep = result.keep
            bounds = np.concatenate([result.segment_starts, [keep.size]]).astype(np.int64)
            kt = np.round(t[keep]).astype(np.int64)
            kx, ky = np.round(x[keep], 1), np.round(y[keep], 1)
            acc = tracks.accuracy_m[a:b][keep]
            segments = [
                {
                    "t": kt[s:e].tolist(),
                    "x": kx[s:e].tolist(),
                    "y": ky[s:e].tolist(),
                }
                for s, e in itertools.pairwise(bounds)
            ]
            units.append(
                {
                    "unit": unit,
                    "fixes": int(t.size),
                    "drawn": int(keep.size),
                    "median_accuracy_m": float(np.nanmedian(acc))
                    if np.isfinite(acc).any()
                    else None,
                    "segments": segments,
                }
            )
        return {
            "start": datetime.fromtimestamp(t0, UTC).isoformat(),
            "end": datetime.fromtimestamp(t1, UTC).isoformat(),
            "tolerance_m": used_tol,
            "max_gap_s": max_gap_s,
            "units": units,
        }


class _Maps(_RunOutputs):
    """The optional basemap and the workspace's street map (context only, not evidence)."""

    def basemap_tiles(
        self, x0: float, y0: float, x1: float, y1: float, width_px: float
    ) -> dict[str, Any]:
        """The tiles for a map view (grid metres) with the affine that places each one.

        A local tileset's tiles are served by this app (`/api/basemap/z/x/y`); a tile server's
        are fetched by the browser from that server (the CSP allows its origin only).
        """
        if self.basemap is None:
            return {"enabled": False, "tiles": [], "notice": "", "attribution": "", "zoom": None}
        if not (np.all(np.isfinite([x0, y0, x1, y1, width_px])) and x1 > x0 and y1 > y0):
            raise ParameterError(
                "the view's extent is empty", hint="give x0 < x1 and y0 < y1 in grid metres"
            )
        view = plan_tiles(self.basemap.info, (x0, x1, y0, y1), self.crs(), width_px)
        url = getattr(self.basemap, "url", None)
        return {
            "enabled": True,
            "zoom": view.zoom,
            "notice": view.notice,
            "attribution": view.attribution,
            "tiles": [
                {
                    "url": url(t.z, t.x, t.y) if url else f"/api/basemap/{t.z}/{t.x}/{t.y}",
                    "matrix": [round(v, 4) for v in t.matrix],
                }
                for t in view.tiles
            ],
        }

    def basemap_tile(self, z: int, x: int, y: int) -> tuple[bytes, str]:
        """A local tileset's tile bytes and media type."""
        source = self.basemap
        if source is None or source.info.kind == "url":
            raise NoDataError(
                "this app serves no basemap tiles",
                hint="start it with `whereabouts serve WS --basemap FILE`",
            )
        if not (0 <= x < 1 << z and 0 <= y < 1 << z):
            raise NoDataError(f"no tile {z}/{x}/{y}", hint="x and y run from 0 to 2^z - 1")
        data = source.tile(z, x, y)
        if data is None:
            raise NoDataError(
                f"the basemap has no tile {z}/{x}/{y}", hint="the map is drawn without it"
            )
        return data, source.info.mime

    def vector_tiles(self) -> VectorTiles | None:
        """The workspace's map as vector tiles (web.vectortiles), built once per set of map
        inputs; None when the workspace has no map layers."""
        from whereabouts.web.vectortiles import VectorTiles

        with self._tiles_lock:
            manifest = self.workspace / "manifest.json"
            if not manifest.exists():  # nothing ingested (or not a workspace yet): no map
                return None
            key = manifest.stat().st_mtime_ns
            if self._tiles is None or self._tiles[0] != key or self._tiles[1] is None:
                # built in the background on first use: the pages never wait for it
                tiles = VectorTiles.for_workspace(self.workspace, self.crs(), wait=False)
                self._tiles = (key, tiles)
            return self._tiles[1]

    def map_info(self, around: tuple[float, float] | None = None) -> dict[str, Any]:
        """Whether the app has a vector map of the workspace, and where it lies.

        `around` (a grid point): without a built street map, the placement (`affine`) is
        fitted over AROUND_M about that point instead, so a page can still draw tracks on
        a plain map."""
        from whereabouts.web.vectortiles import MAX_ZOOM, MIN_ZOOM, build_error, grid_affine

        tiles = self.vector_tiles()
        bounds = tiles.bounds() if tiles is not None else None
        affine: dict[str, Any] | None
        residual: float | None
        if tiles is not None and bounds is not None:
            affine, residual = self._cache.get(
                ("map-affine", self.crs()), tiles.path, lambda: grid_affine(bounds, self.crs())
            )
        elif around is not None:
            affine, residual = grid_affine(_degrees_around(around, self.crs()), self.crs())
        else:
            affine, residual = None, None
        error = build_error(self.workspace, self.crs()) if tiles is None else None
        return {
            "enabled": tiles is not None and bounds is not None,
            "building": tiles is None and error is None and self._has_map_layers(),
            "error": error,
            "minzoom": MIN_ZOOM,
            "maxzoom": MAX_ZOOM,
            "bounds": list(bounds) if bounds else None,
            "tiles": "/api/map/tiles/{z}/{x}/{y}",
            # grid metres → Web Mercator metres (vectortiles.grid_affine: a cubic in
            # the centred grid coordinates), good to `affine_residual_m` on the ground
            "affine": affine,
            "affine_residual_m": residual,
            "attribution": "Map: the workspace's map layers. Context only, not evidence.",
        }

    def _has_map_layers(self) -> bool:
        from whereabouts.vocabulary import MAP_KINDS

        return any(e.get("kind") in MAP_KINDS for e in self.ws.manifest)

    def map_tile(self, z: int, x: int, y: int) -> bytes | None:
        """One vector tile's bytes (None: nothing there)."""
        tiles = self.vector_tiles()
        if tiles is None:
            raise NoDataError(
                "the workspace's street map is not built (yet)",
                hint="ingest roads, buildings, water, green space or rail "
                "(`whereabouts ingest WS --kind map FILE`)",
            )
        if not (0 <= x < 1 << z and 0 <= y < 1 << z):
            raise NoDataError(f"no tile {z}/{x}/{y}", hint="x and y run from 0 to 2^z - 1")
        return tiles.tile(z, x, y)


class _Screening(_Maps):
    """Incidents in a period, and screening results under the authority they ran under."""

    def incidents(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Incidents raised in [start, end] (times as ISO 8601 UTC)."""
        table = self.table("incidents")
        if table.num_rows == 0:
            return []
        created = table["created_at"]
        mask = pc.and_(
            pc.greater_equal(created, pa.scalar(start, pa.timestamp("us", tz="UTC"))),
            pc.less_equal(created, pa.scalar(end, pa.timestamp("us", tz="UTC"))),
        )
        cols = ["incident_id", "created_at", "x", "y", "category", "priority", "closed_at"]
        return rows_json(table.filter(mask).select(cols).sort_by("created_at"))

    def screening_results(self) -> list[dict[str, Any]]:
        """Every screening output (RunStore.screenings) with the authority it ran under."""
        return [
            {
                "run": name,
                "authority": rec.authority,
                "scope": rec.scope,
                "start": rec.start,
                "end": rec.end,
            }
            for name, _path, rec in self.runs.screenings()
        ]

    def screening(self, user: UserInfo, run: str) -> dict[str, Any]:
        """One screening output's ranked pairs, after the store checks and audits the authority."""
        self.require(user, "screening.run")
        found = {r["run"]: r for r in self.screening_results()}
        meta = found.get(run)
        if meta is None:
            raise NoDataError(f"no screening results {run!r}", hint="pick one from the list")
        if not (meta["authority"] and meta["start"] and meta["end"]):
            raise ScopeError(
                f"screening results {run!r} do not name the authority they ran under",
                hint="run screening again with --authority REF",
            )
        self.store.require_screening(
            user, meta["authority"], meta["scope"], meta["start"], meta["end"]
        )
        path = next(p for name, p, _ in self.runs.screenings() if name == run)
        table: pa.Table = self._cache.get(("screening",), path, lambda: pq.read_table(path))
        return {**meta, "rows": rows_json(table)}


class _Reports(_Screening):
    """The case's reports, written through the report layer."""

    def report_dir(self, case_ref: str) -> Path:
        """The folder of the case's reports."""
        return self.workspace / "reports" / case_ref

    def write_report(self, case_ref: str) -> dict[str, Path]:
        """Generate the case's report through the report layer; returns {"html": path, "pdf": path}."""
        out = self.report_dir(case_ref)
        out.mkdir(parents=True, exist_ok=True)
        return self._report_writer(self.workspace, case_ref, out)

    def report_file(self, case_ref: str, kind: str) -> Path:
        """The path of the case's report in a format (html or pdf), else an error naming them."""
        name = {"html": "report.html", "pdf": "report.pdf"}.get(kind)
        if name is None:
            raise ParameterError(f"unknown report format {kind!r}", hint="use html or pdf")
        path = self.report_dir(case_ref) / name
        if not path.exists():
            raise NoDataError(
                f"case {case_ref!r} has no {kind} report yet",
                hint="generate the report first",
            )
        return path


class Services(_Reports):
    """The library as the web app sees it: the case store plus the workspace's files, in
    parts by concept, each building on the ones before: `_WorkspaceContext`, `_CaseAccess`,
    `_RunOutputs` (with the tracks), `_Maps`, `_Screening`, `_Reports`."""

    def __init__(
        self,
        workspace: Path,
        store: CaseStore | None = None,
        *,
        report_writer: Callable[[Path, str, Path], dict[str, Path]] | None = None,
        roads: Path | None = None,
        basemap: str | Path | None = None,
    ) -> None:
        self.workspace = Path(workspace)
        self.roads_path = Path(roads) if roads is not None else None
        # Opened now, so a missing or vector tileset stops the app at start, not a page.
        self.basemap: TileSource | None = open_basemap(basemap) if basemap else None
        self._tiles_lock = threading.Lock()
        self._tiles: tuple[int, VectorTiles | None] | None = None
        if not self.workspace.is_dir():
            raise WorkspaceError(
                f"no workspace at {self.workspace}",
                hint="create one with `whereabouts init WS` or run `whereabouts demo`",
            )
        self.runs = RunStore(self.workspace)
        self._ws: Workspace | None = None
        raw = store if store is not None else CaseStore.open(self.workspace)
        self.store = cast(CaseStore, _Serialised(raw, threading.RLock()))
        self._cache = _MtimeCache(32)  # loaded tables
        self._results = _MtimeCache(256)  # simplified tracks per (period, zoom)
        self._report_writer = report_writer if report_writer is not None else _build_report
        self._seen_cases: dict[str, Case] = {}  # per ref, as the last audited read returned it
        self._overview_parts: dict[str, tuple[tuple[Any, ...], bytes]] = {}


def _build_report(workspace: Path, case_ref: str, out_dir: Path) -> dict[str, Path]:
    """The report layer's `build_report`, or ServiceUnavailable when it is not installed."""
    try:
        from whereabouts.report import build_report
    except ImportError as exc:
        raise ServiceUnavailable(
            "the report layer is not available in this installation",
            hint="use `whereabouts report` on the command line",
        ) from exc
    result = build_report(workspace, out_dir=out_dir, case_ref=case_ref)
    paths = {"html": Path(result.html)}
    if result.pdf is not None:
        paths["pdf"] = Path(result.pdf)
    return paths


__all__ = [
    "PLAYBACK_MARGIN_S",
    "ServiceUnavailable",
    "Services",
    "Tracks",
    "rows_json",
    "zoom_tolerance",
]


AROUND_M = 25_000.0  # half the width of the box a plain map's placement is fitted over


def _degrees_around(point: tuple[float, float], crs: str) -> tuple[float, float, float, float]:
    """The box (degrees west, south, east, north) AROUND_M either side of a grid point."""
    from pyproj import Transformer

    x, y = point
    xs = np.array([x - AROUND_M, x + AROUND_M, x - AROUND_M, x + AROUND_M])
    ys = np.array([y - AROUND_M, y - AROUND_M, y + AROUND_M, y + AROUND_M])
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    return float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))
