"""The analysis as steps with declared inputs and outputs, on one connection one object owns.

An `Analysis` holds the DuckDB connection of one analysis (over `Inputs.connect()`: one view
per canonical table, times as µs). `Analysis.step(...)` runs one step and then:

- checks what it promised: each relation it declares as written (`Relation`: a name and
  its columns with their DuckDB types) exists on the connection with those columns, and the
  table it returns has the schema it declares;
- drops every table, view and macro the step made that it did not declare, so a later step
  can rely only on what an earlier one declared (temporary names are private to the step).

Steps so far (docs in /work/notes/i15.md; the labelling chain inside `label_occasions`
still shares one connection among its sub-steps):

| step | reads | writes / returns |
|---|---|---|
| prepare_tasks (`reasons.prepare`) | attachments, incidents, assignments | TASKS, macros ts, ref |
| stops (`stops.find_stops`) | fixes, assignments, devices, places, areas, incidents, TASKS | `stops.STOPS` |
| label (`labelling.label_occasions`) | engine periods + every input | `labelling.OCCASIONS` |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import duckdb
import pyarrow as pa

from whereabouts.analysis.inputs import Inputs
from whereabouts.errors import WhereaboutsError


class StepError(WhereaboutsError):
    """A step did not produce what it declares (a programming error, said plainly)."""


@dataclass(frozen=True)
class Relation:
    """A table or view a step leaves on the connection: its name and columns (DuckDB types)."""

    name: str
    columns: Mapping[str, str] = field(default_factory=dict)


# What reasons.prepare leaves for later steps (the stops and the labelling read it).
TASKS = Relation("tasks", {"officer_id": "VARCHAR", "incident_id": "VARCHAR",
                           "dispatched_at": "BIGINT", "cleared": "BIGINT"})
REASON_WINDOWS = Relation("rwin", {"occasion_id": "VARCHAR", "label": "VARCHAR",
                                   "w0": "BIGINT", "w1": "BIGINT"})
EVIDENCE = Relation("evid", {"occasion_id": "VARCHAR", "label": "VARCHAR", "kind": "VARCHAR",
                             "detail": "VARCHAR", "rows": "VARCHAR[]"})


class Analysis:
    """One analysis's DuckDB connection and the relations its steps declared on it."""

    def __init__(self, inputs: Inputs) -> None:
        self.inputs = inputs
        self.con: duckdb.DuckDBPyConnection = inputs.connect()
        self.declared: dict[str, Relation] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def _names(self) -> set[tuple[str, str]]:
        rows = self.con.execute("""
            SELECT 'TABLE', table_name FROM duckdb_tables()
            UNION ALL SELECT 'VIEW', view_name FROM duckdb_views() WHERE NOT internal
            UNION ALL SELECT 'MACRO', function_name FROM duckdb_functions()
                      WHERE function_type IN ('macro', 'table_macro') AND NOT internal
        """).fetchall()
        return {(str(k), str(n)) for k, n in rows}

    def _columns(self, name: str) -> dict[str, str]:
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position", [name]).fetchall()
        return {str(c): str(t) for c, t in rows}

    def step(self, name: str, run: Callable[[duckdb.DuckDBPyConnection], pa.Table | None], *,
             reads: Sequence[Relation] = (), writes: Sequence[Relation] = (),
             returns: pa.Schema | None = None, macros: Sequence[str] = ()) -> pa.Table | None:
        """Run `run(con)` as the step `name`; check and tidy as the module says."""
        missing = [r.name for r in reads if r.name not in self.declared]
        if missing:
            raise StepError(f"step {name} reads {missing}, which no earlier step declared",
                            hint="run the steps that write them first")
        before = self._names()
        result = run(self.con)
        for rel in writes:
            have = self._columns(rel.name)
            if not have:
                raise StepError(f"step {name} did not leave {rel.name}",
                                hint="declare only the relations the step writes")
            wrong = {c: (t, have.get(c)) for c, t in rel.columns.items() if have.get(c) != t}
            if wrong:
                raise StepError(f"step {name} left {rel.name} with other columns: {wrong}",
                                hint="make the step's SQL match its declared relation")
            self.declared[rel.name] = rel
        if returns is not None and (result is None or not result.schema.equals(returns)):
            got = None if result is None else result.schema
            raise StepError(f"step {name} returned {got}, not its declared schema",
                            hint="cast the result to the declared schema")
        kept = {r.name for r in writes} | set(macros) | set(self.declared)
        for kind, made in sorted(self._names() - before):
            if made not in kept:
                self.con.execute(f'DROP {kind} IF EXISTS "{made}"')
        return result


__all__ = ["EVIDENCE", "REASON_WINDOWS", "TASKS", "Analysis", "Relation", "StepError"]
