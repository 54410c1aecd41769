"""The analysis's steps on one connection: what a step declares is checked when it returns,
and whatever else it made is dropped, so no later step can lean on it unseen."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from whereabouts.analysis import reasons, stops
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
