"""The analysis's steps on one connection: what a step declares is checked when it returns,
and whatever else it made is dropped, so no later step can lean on it unseen."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from whereabouts.analysis import context, reasons, stops
from whereabouts.analysis.inputs import Inputs
from whereabouts.analysis.params import AnalysisParams
from whereabouts.analysis.pipeline import (
    EVIDENCE,
    REASON_WINDOWS,
    TASKS,
    Analysis,
    Relation,
    StepError,
)

PAIRS = Relation("pairs", {"a": "VARCHAR", "n": "BIGINT"})
SCHEMA = pa.schema([pa.field("a", pa.string()), pa.field("n", pa.int64())])


def _pairs(con: duckdb.DuckDBPyConnection) -> pa.Table:
    con.execute("CREATE TEMP TABLE scratch AS SELECT 'x' AS a, 1::BIGINT AS n")
    con.execute("CREATE TEMP VIEW scratch_v AS SELECT * FROM scratch")
    con.execute("CREATE TABLE pairs AS SELECT * FROM scratch_v")
    return con.sql("SELECT * FROM pairs").to_arrow_table()


def test_a_steps_own_names_are_dropped_and_its_declared_ones_kept() -> None:
    with Analysis(Inputs()) as analysis:
        got = analysis.step("pairs", _pairs, writes=(PAIRS,), returns=SCHEMA)
        assert got is not None and got.to_pylist() == [{"a": "x", "n": 1}]
        names = {n for _, n in analysis._names()}
        assert "pairs" in names and not {"scratch", "scratch_v"} & names
        # a later step may read what was declared
        again = analysis.step(
            "count",
            lambda con: con.sql("SELECT a, count(*) AS n FROM pairs GROUP BY a").to_arrow_table(),
            reads=(PAIRS,),
            returns=SCHEMA,
        )
        assert again is not None and again.num_rows == 1


def test_a_step_that_breaks_its_declaration_is_stopped() -> None:
    with Analysis(Inputs()) as analysis:
        with pytest.raises(StepError, match="did not leave pairs"):
            analysis.step("nothing", lambda con: None, writes=(PAIRS,))
        with pytest.raises(StepError, match="other columns"):
            analysis.step(
                "wrong",
                lambda con: (
                    con.execute("CREATE TABLE pairs AS SELECT 1 AS a, 1::BIGINT AS n") and None
                ),
                writes=(PAIRS,),
            )
        with pytest.raises(StepError, match="not its declared schema"):
            analysis.step("schema", lambda con: pa.table({"a": [1]}), returns=SCHEMA)
        with pytest.raises(StepError, match="no earlier step declared"):
            analysis.step("early", lambda con: None, reads=(Relation("nowhere"),))


def test_the_stops_step_leaves_only_what_prepare_declared() -> None:
    params = AnalysisParams()
    with Analysis(Inputs()) as analysis:
        analysis.step(
            "prepare_tasks",
            lambda con: reasons.prepare(con, params),
            writes=(TASKS, EVIDENCE, REASON_WINDOWS),
            macros=("ts", "ref"),
        )
        before = analysis._names()
        table = analysis.step(
            "stops",
            lambda con: stops.find_stops(con, params, ["P1"], "EPSG:27700"),
            reads=(TASKS, EVIDENCE),
            returns=stops.STOPS,
        )
        assert table is not None and table.num_rows == 0
        assert analysis._names() == before


def test_a_steps_own_macros_are_dropped_and_its_declared_ones_kept() -> None:
    """Macros are listed once per step (the list after one step is the next one's before)."""

    def macros(analysis: Analysis) -> set[str]:
        return {n for k, n in analysis._names() if k == "MACRO"}

    with Analysis(Inputs()) as analysis:
        analysis.step(
            "two",
            lambda con: (
                con.execute("CREATE MACRO kept(x) AS x + 1; CREATE MACRO scratch(x) AS x") and None
            ),
            macros=("kept",),
        )
        assert macros(analysis) == {"kept"}
        analysis.con.execute("CREATE MACRO between(x) AS x")  # outside any step
        analysis.step("none", lambda con: None)
        assert macros(analysis) == {"kept"}
        analysis.step(
            "replace", lambda con: con.execute("CREATE OR REPLACE MACRO kept(x) AS x + 2") and None
        )
        assert macros(analysis) == {"kept"}
        assert analysis.con.execute("SELECT kept(1)").fetchone() == (3,)


def test_a_partial_reason_that_writes_windows_is_stopped() -> None:
    """A reason declared as not explaining (like one_tasked) may not cover time; a reason
    may not write rows of another's label."""
    from whereabouts.analysis.labelling import label_occasions
    from whereabouts.engine import PERIODS
    from whereabouts.vocabulary import Term

    def find(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> None:
        con.execute("INSERT INTO rwin VALUES ('O1', 'toy', 0, 1)")

    toy = reasons.ReasonStep(
        "toy",
        find,
        lambda con, params, target: "SELECT 'O1' AS occasion_id, 'why' AS why WHERE false",
        (),
        explains=False,
    )
    with (
        reasons.registered(toy, Term("toy", "toy", "a toy")),
        pytest.raises(StepError, match="reason toy wrote rows to rwin labelled toy"),
    ):
        label_occasions(Inputs(), PERIODS.empty_table(), None, AnalysisParams(), workers=1)
    assert "toy" not in reasons.STEPS

    def other(con: duckdb.DuckDBPyConnection, params: AnalysisParams, target: str) -> None:
        con.execute("INSERT INTO evid VALUES ('O1', 'crewed', 'reason', 'not mine', [])")

    with (
        reasons.registered(
            reasons.ReasonStep("toy", other, toy.unassessable, ()), Term("toy", "toy", "a toy")
        ),
        pytest.raises(StepError, match="reason toy wrote rows to evid labelled crewed"),
    ):
        label_occasions(Inputs(), PERIODS.empty_table(), None, AnalysisParams(), workers=1)


def _flag_rule(
    find: context.Rule, writes: tuple[Relation, ...] = (), code: str = "toy"
) -> context.FlagRule:
    return context.FlagRule(code, find, lambda con, params, at: None, (), writes=writes)


def test_each_flag_rule_is_a_declared_step_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flag rule runs as the step `flag <code>`: the relations it declares are kept (and
    checked), whatever else it made is dropped, and its rows reach the evidence."""
    from whereabouts.analysis.labelling import label_occasions
    from whereabouts.analysis.pipeline import recording
    from whereabouts.engine import PERIODS

    seen: list[tuple[bool, list[tuple[object, ...]]]] = []
    measure = Relation("toy_measure", {"occasion_id": "VARCHAR", "n": "BIGINT"})

    def find(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: context.Scope) -> None:
        con.execute("CREATE TEMP TABLE toy_scratch AS SELECT 1 AS x")
        con.execute("CREATE TEMP TABLE toy_measure AS SELECT 'O1' AS occasion_id, 2::BIGINT AS n")
        con.execute(f"INSERT INTO {at.evidence} VALUES ('O1', 'toy', 'flag', 'a toy flag', [])")  # noqa: S608  # the scope's relation name, the test's own rows

    def after(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: context.Scope) -> None:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        rows = con.execute(f"SELECT label, detail FROM {at.evidence} WHERE label = 'toy'")  # noqa: S608  # the scope's relation name, the test's own rows
        seen.append(("toy_measure" in tables and "toy_scratch" not in tables, rows.fetchall()))

    monkeypatch.setitem(context.FLAG_RULES, "toy", _flag_rule(find, (measure,)))
    monkeypatch.setitem(context.FLAG_RULES, "later", _flag_rule(after, code="later"))
    with recording() as log:
        label_occasions(Inputs(), PERIODS.empty_table(), None, AnalysisParams(), workers=1)
    names = [s.name for s in log]
    assert names.index("flag home") < names.index("flag toy") < names.index("flag later")
    (toy,) = [s for s in log if s.name == "flag toy"]
    assert [r.name for r in toy.writes] == ["evid", "toy_measure"]
    assert seen == [(True, [("toy", "a toy flag")])]


@pytest.mark.parametrize(
    ("row", "stray"),
    [
        ("('O1', 'home', 'flag', 'not mine', [])", "labelled home \\(kind flag\\)"),
        ("('O1', 'toy', 'reason', 'not a flag', [])", "labelled toy \\(kind reason\\)"),
    ],
)
def test_a_flag_rule_writing_another_label_is_stopped(
    monkeypatch: pytest.MonkeyPatch, row: str, stray: str
) -> None:
    """In the labelling's steps and in the stops (find_flags on their own tables) alike."""
    from whereabouts.analysis.labelling import label_occasions
    from whereabouts.engine import PERIODS

    def find(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: context.Scope) -> None:
        con.execute(f"INSERT INTO {at.evidence} VALUES {row}")  # noqa: S608  # the scope's relation name, the test's own rows

    monkeypatch.setitem(context.FLAG_RULES, "toy", _flag_rule(find))
    with pytest.raises(StepError, match=f"flag toy wrote rows to evid {stray}"):
        label_occasions(Inputs(), PERIODS.empty_table(), None, AnalysisParams(), workers=1)
    with pytest.raises(StepError, match=f"flag toy wrote rows to stop_evid {stray}"):
        stops.subject_stops(Inputs(), AnalysisParams(), ["A", "B"])


def test_a_flag_rule_leaving_other_columns_than_it_declares_is_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from whereabouts.analysis.labelling import label_occasions
    from whereabouts.engine import PERIODS

    def find(con: duckdb.DuckDBPyConnection, params: AnalysisParams, at: context.Scope) -> None:
        con.execute("CREATE TEMP TABLE toy_measure AS SELECT 'O1' AS occasion_id, 2.5 AS n")

    declared = Relation("toy_measure", {"occasion_id": "VARCHAR", "n": "BIGINT"})
    monkeypatch.setitem(context.FLAG_RULES, "toy", _flag_rule(find, (declared,)))
    with pytest.raises(StepError, match="step flag toy left toy_measure with other columns"):
        label_occasions(Inputs(), PERIODS.empty_table(), None, AnalysisParams(), workers=1)


def test_the_macros_are_listed_only_after_a_step_that_may_have_made_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Listing the macros reads every DuckDB function: it is done after a step whose
    statements could make a macro, or when something ran between steps; a macro made by
    any of these ways is still dropped unless declared."""
    listed: list[str] = []
    real = Analysis._macros

    def counting(self: Analysis) -> set[tuple[str, str]]:
        listed.append("x")
        return real(self)

    monkeypatch.setattr(Analysis, "_macros", counting)

    def macros(analysis: Analysis) -> set[str]:
        return {n for k, n in analysis._names() if k == "MACRO"}

    with Analysis(Inputs()) as analysis:
        analysis.step("first", lambda con: None)
        analysis.step("plain", _pairs, writes=(PAIRS,), returns=SCHEMA)
        listed.clear()
        analysis.step("read", lambda con: con.sql("SELECT count(*) FROM pairs").to_arrow_table())
        assert listed == []  # a step that made no macro: none listed
        analysis.step("by sql", lambda con: con.sql("create function lower_case(x) as x") and None)
        assert listed == ["x"] and macros(analysis) == set()
        analysis.con.execute("CREATE TEMP MACRO between_steps(x) AS x")
        listed.clear()
        analysis.step("next", lambda con: None)
        assert listed == ["x"] and macros(analysis) == set()
        # a use the step's connection does not know (a cursor) counts as one that may have
        analysis.step(
            "cursor", lambda con: con.cursor().execute("CREATE MACRO m(x) AS x + 1") and None
        )
        assert macros(analysis) == set()
