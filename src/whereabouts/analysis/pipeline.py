"""The analysis as steps with declared inputs and outputs, on one connection one object owns.

An `Analysis` holds the DuckDB connection of one analysis (over `Inputs.connect()`: one view
per canonical table, times as µs). `Analysis.step(...)` runs one step and then:

- checks what it promised: each relation it declares as written (`Relation`: a name and
  every one of its columns, in order, with their DuckDB types) exists on the connection
  with exactly those columns, and the table it returns has the schema it declares;
- drops every table, view and macro the step made that it did not declare, so a later step
  can rely only on what an earlier one declared (temporary names are private to the step;
  a macro made between steps, outside any, counts as the next step's).

Listing the macros reads every DuckDB function (about 15 ms), so it is done only after a
step that may have made one: the step runs on a `_Watched` connection that sees each
statement's text (a macro needs a CREATE MACRO or FUNCTION), and a statement run between
steps shows in the connection's catalog version.

The steps, what each reads and writes and every relation's columns: docs/pipeline.md,
generated from the steps as they run (`whereabouts pipeline-reference`, analysis/reference.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self, TypeVar, cast

import duckdb
import pyarrow as pa

from whereabouts.analysis.inputs import Inputs
from whereabouts.errors import WhereaboutsError

R = TypeVar("R")  # what a step's function returns


class StepError(WhereaboutsError):
    """A step did not produce what it declares (a programming error, said plainly)."""


@dataclass(frozen=True)
class Relation:
    """A table or view a step leaves on the connection: its name and columns (DuckDB types)."""

    name: str
    columns: Mapping[str, str] = field(default_factory=dict)

    def create(self, con: duckdb.DuckDBPyConnection, name: str | None = None) -> None:
        """An empty temporary table of these columns, named `name` (default: its own)."""
        cols = ", ".join(f'"{c}" {t}' for c, t in self.columns.items())
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{name or self.name}"({cols})')


# The relations the labelling's steps leave for later ones (labelling.label_occasions), in
# the order they are made; each lists every column it has, in order (µs times as BIGINT).
_V, _B, _D = "VARCHAR", "BIGINT", "DOUBLE"
PERIODS = Relation(
    "periods", {"device_a": _V, "device_b": _V, "start": _B, "end": _B, "min_distance_m": _D}
)
ASSIGNED = Relation("asg", {"officer_id": _V, "device_id": _V, "start": _B, "end": _B})
WANTED = Relation("wanted", {"officer_id": _V})
COVERAGE = Relation("coverage", {"device_id": _V, "start": _B, "end": _B, "n": _B})
PIECES = Relation(
    "pieces",
    {
        "officer_a": _V,
        "officer_b": _V,
        "device_a": _V,
        "device_b": _V,
        "start": _B,
        "end": _B,
        "min_distance_m": _D,
    },
)
OCCASION_ROWS = Relation(
    "occ",
    {
        "occasion_id": _V,
        "officer_a": _V,
        "officer_b": _V,
        "grp": _B,
        "start": _B,
        "end": _B,
        "duration_s": _D,
        "period_min_distance_m": _D,
    },
)
OCCASION_PIECES = Relation(
    "occ_pieces",
    {
        "occasion_id": _V,
        "officer_a": _V,
        "officer_b": _V,
        "device_a": _V,
        "device_b": _V,
        "start": _B,
        "end": _B,
        "min_distance_m": _D,
    },
)
DEVICE_CODES = Relation("dev_code", {"device_id": _V, "code": _B})
OCCASION_CODES = Relation("occ_map", {"occasion_id": _V, "occ": _B})
POINTS = Relation(  # (the occasion by its code: occ_map)
    "pts", {"occ": _B, "t": _B, "mx": _D, "my": _D, "dt": _B, "stopped": "BOOLEAN"}
)
SAMPLES = Relation(
    "occ_samples",
    {
        "occ": _B,
        "sample_min_m": _D,
        "median_separation_m": _D,
        "n_samples": _B,
        "x": _D,
        "y": _D,
        "sampled_s": _D,
        "stopped_s": _D,
    },
)
DESCRIBED = Relation(
    "occw",
    {
        **OCCASION_ROWS.columns,
        "x": _D,
        "y": _D,
        "min_separation_m": _D,
        "median_separation_m": _D,
        "spread_m": _D,
        "stopped_s": _D,
        "stationary": "BOOLEAN",
        "n_fixes": _B,
        "fixes_per_hour": _D,
        "position_error_m": _D,
        "max_fix_gap_s": _D,
    },
)
COVER = Relation(
    "cover",
    {"occasion_id": _V, "explained_s": _D, "unexplained_s": _D, "unexplained_stopped_s": _D},
)
ACTIVITY = Relation(
    "activity",
    {
        "occasion_id": _V,
        "w0": _B,
        "w1": _B,
        "n_inc": _B,
        "place_m": _D,
        "history_us": _B,
        "lost_days": _D,
    },
)
DETAIL = Relation("occ_detail", {"occasion_id": _V})  # the occasions described in full
DETAIL_VIEW = Relation("occw_detail", DESCRIBED.columns)
FLAG_VIEW = Relation("occw_flag", DESCRIBED.columns)  # described, or unexplained long enough
UNASSESSED = Relation("unassessed", {"occasion_id": _V, "label": _V, "why": _V})
REMOTE_NOT_ASSESSED = Relation("remote_na", {"occasion_id": _V, "why": _V})

# What reasons.prepare leaves for later steps (the stops and the labelling read it).
TASKS = Relation(
    "tasks",
    {
        "incident_id": _V,
        "officer_id": _V,
        "device_id": _V,
        "dispatched_at": _B,
        "arrived_at": _B,
        "cleared": _B,
        "x": _D,
        "y": _D,
        "priority": "TINYINT",
        "created_at": _B,
        "att_ref": _V,
        "inc_ref": _V,
    },
)
REASON_WINDOWS = Relation(
    "rwin", {"occasion_id": "VARCHAR", "label": "VARCHAR", "w0": "BIGINT", "w1": "BIGINT"}
)
EVIDENCE = Relation(
    "evid",
    {
        "occasion_id": "VARCHAR",
        "label": "VARCHAR",
        "kind": "VARCHAR",
        "detail": "VARCHAR",
        "rows": "VARCHAR[]",
    },
)


@dataclass(frozen=True)
class StepRecord:
    """One step as it ran: its name and what it declared (`recording`)."""

    name: str
    reads: tuple[Relation, ...]
    writes: tuple[Relation, ...]
    returns: pa.Schema | None
    macros: tuple[str, ...]


_RECORDING: list[list[StepRecord]] = []


@contextmanager
def recording() -> Iterator[list[StepRecord]]:
    """Every step any `Analysis` runs inside the block, in order, with its declarations
    (the steps' reference, docs/pipeline.md, is made this way: it cannot go stale)."""
    log: list[StepRecord] = []
    _RECORDING.append(log)
    try:
        yield log
    finally:
        _RECORDING.remove(log)


# Words of a statement that may make or drop a macro (or bring in a catalog holding some).
_MAY_MAKE_MACROS = re.compile(r"\b(MACRO|FUNCTION|ATTACH|DETACH|IMPORT|LOAD)\b", re.IGNORECASE)


def _catalog_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """How many statements that may change the catalog have run on `con` (None when this
    DuckDB does not say)."""
    version = getattr(con, "_catalog_version", None)
    return int(version()) if callable(version) else None


class _Watched:
    """A step's connection: each statement's text is seen before it runs, so the analysis
    knows whether the step may have made a macro. Any use it does not know (a cursor, a
    relation made from Python objects, ...) counts as one that may have."""

    _SAFE = frozenset({"register", "unregister", "fetchall", "fetchone", "fetchmany", "close"})

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.may_have_made_macros = False

    def _see(self, query: object) -> None:
        if not isinstance(query, str) or _MAY_MAKE_MACROS.search(query):
            self.may_have_made_macros = True

    def execute(self, query: object, *args: object, **kwargs: object) -> object:
        self._see(query)
        return self._con.execute(query, *args, **kwargs)  # type: ignore[arg-type]

    def executemany(self, query: object, *args: object, **kwargs: object) -> object:
        self._see(query)
        return self._con.executemany(query, *args, **kwargs)  # type: ignore[arg-type]

    def sql(self, query: object, *args: object, **kwargs: object) -> object:
        self._see(query)
        return self._con.sql(query, *args, **kwargs)  # type: ignore[arg-type]

    def query(self, query: object, *args: object, **kwargs: object) -> object:
        self._see(query)
        return self._con.query(query, *args, **kwargs)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        if name not in self._SAFE:
            self.may_have_made_macros = True
        return getattr(self._con, name)


class Analysis:
    """One analysis's DuckDB connection and the relations its steps declared on it."""

    def __init__(
        self,
        inputs: Inputs | None,
        con: duckdb.DuckDBPyConnection | None = None,
        given: Sequence[Relation] = (),
    ) -> None:
        self._owned = con is None
        if con is None:
            if inputs is None:
                raise StepError(
                    "an analysis needs its inputs or a connection",
                    hint="give Analysis(inputs) or Analysis.over(con)",
                )
            con = inputs.connect()
        self.con: duckdb.DuckDBPyConnection = con
        self.declared: dict[str, Relation] = {r.name: r for r in given}
        # the macros after the last step (None before the first): a macro made between
        # steps, outside any, counts as made by the next step; and the catalog's version
        # then (another at the next step's start: something ran between them)
        self._known_macros: set[tuple[str, str]] | None = None
        self._version: int | None = None

    @classmethod
    def over(cls, con: duckdb.DuckDBPyConnection, given: Sequence[Relation] = ()) -> Analysis:
        """Steps on a connection the caller owns (and closes), holding `given` already."""
        return cls(None, con, given)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection if this analysis opened it."""
        if self._owned:
            self.con.close()

    def _names(self, macros: set[tuple[str, str]] | None = None) -> set[tuple[str, str]]:
        """The connection's tables, views and macros; `macros`: the macros as known already
        (listing them reads every DuckDB function, about 16 ms: once per step, not twice)."""
        rows = self.con.execute("""
            SELECT 'TABLE', table_name FROM duckdb_tables()
            UNION ALL SELECT 'VIEW', view_name FROM duckdb_views() WHERE NOT internal
        """).fetchall()
        if macros is None:
            return {(str(k), str(n)) for k, n in rows} | self._macros()
        return {(str(k), str(n)) for k, n in rows} | macros

    def _macros(self) -> set[tuple[str, str]]:
        rows = self.con.execute("""
            SELECT 'MACRO', function_name FROM duckdb_functions()
            WHERE function_type IN ('macro', 'table_macro') AND NOT internal""").fetchall()
        return {(str(k), str(n)) for k, n in rows}

    def _columns(self, name: str) -> dict[str, str]:
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [name],
        ).fetchall()
        return {str(c): str(t) for c, t in rows}

    def step(
        self,
        name: str,
        run: Callable[[duckdb.DuckDBPyConnection], R],
        *,
        reads: Sequence[Relation] = (),
        writes: Sequence[Relation] = (),
        returns: pa.Schema | None = None,
        macros: Sequence[str] = (),
    ) -> R:
        """Run `run(con)` as the step `name`; check and tidy as the module says. Returns
        what `run` returns (a table of schema `returns`, when that is given)."""
        missing = [r.name for r in reads if r.name not in self.declared]
        if missing:
            raise StepError(
                f"step {name} reads {missing}, which no earlier step declared",
                hint="run the steps that write them first",
            )
        before = self._names(self._known_macros)
        version = _catalog_version(self.con)
        watched = _Watched(self.con)
        result = run(cast(duckdb.DuckDBPyConnection, watched))
        for rel in writes:
            have = self._columns(rel.name)
            if not have:
                raise StepError(
                    f"step {name} did not leave {rel.name}",
                    hint="declare only the relations the step writes",
                )
            if have != dict(rel.columns) or list(have) != list(rel.columns):
                wrong = {
                    c: (rel.columns.get(c), have.get(c))
                    for c in {**rel.columns, **have}
                    if rel.columns.get(c) != have.get(c)
                }
                raise StepError(
                    f"step {name} left {rel.name} with other columns: "
                    f"{wrong or 'in another order'} (declared, left)",
                    hint="make the step's SQL match its declared relation",
                )
            self.declared[rel.name] = rel
        if returns is not None and (
            not isinstance(result, pa.Table) or not result.schema.equals(returns)
        ):
            got = result.schema if isinstance(result, pa.Table) else None
            raise StepError(
                f"step {name} returned {got}, not its declared schema",
                hint="cast the result to the declared schema",
            )
        for log in _RECORDING:
            log.append(StepRecord(name, tuple(reads), tuple(writes), returns, tuple(macros)))
        kept = {r.name for r in writes} | set(macros) | set(self.declared)
        unseen = version is None or version != self._version  # something ran between steps
        may_have = self._known_macros is None or unseen or watched.may_have_made_macros
        after = self._names(None if may_have else self._known_macros)
        for kind, made in sorted(after - before):
            if made not in kept:
                self.con.execute(f'DROP {kind} IF EXISTS "{made}"')
                after.discard((kind, made))
        self._known_macros = {(k, n) for k, n in after if k == "MACRO"}
        self._version = _catalog_version(self.con)
        return result


__all__ = [
    "ACTIVITY",
    "ASSIGNED",
    "COVER",
    "COVERAGE",
    "DESCRIBED",
    "DETAIL",
    "DETAIL_VIEW",
    "DEVICE_CODES",
    "EVIDENCE",
    "FLAG_VIEW",
    "OCCASION_CODES",
    "OCCASION_PIECES",
    "OCCASION_ROWS",
    "PERIODS",
    "PIECES",
    "POINTS",
    "REASON_WINDOWS",
    "REMOTE_NOT_ASSESSED",
    "SAMPLES",
    "TASKS",
    "UNASSESSED",
    "WANTED",
    "Analysis",
    "Relation",
    "StepError",
    "StepRecord",
    "recording",
]
