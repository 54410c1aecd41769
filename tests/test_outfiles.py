"""Every output path's extension is honoured, and every CSV the product writes neutralises
cells a spreadsheet would run as formulas (CSV injection)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from whereabouts.cli import app
from whereabouts.errors import ParameterError
from whereabouts.outfiles import output_format, safe_cell, safe_table, write_table

FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "-1+2",
    "@SUM(A1)",
    "\tlead tab",
    "\r=1",
]
NUMBERS = ["-3.17", "+44", "-0.5e-3", "12", "-.5"]


def test_formula_like_text_gets_an_apostrophe_and_numbers_stay() -> None:
    assert [safe_cell(v) for v in FORMULAS] == ["'" + v for v in FORMULAS]
    assert [safe_cell(v) for v in NUMBERS] == NUMBERS
    assert [safe_cell(v) for v in ("Sam Price", "", None, -3.5, "a=b")] == [
        "Sam Price",
        "",
        None,
        -3.5,
        "a=b",
    ]


@settings(deadline=None)  # the first call loads pyarrow.compute
@given(
    st.lists(
        st.one_of(st.none(), st.text(alphabet="=+-@\t\r\n0123456789.eE ab\u0663", max_size=12)),
        max_size=30,
    )
)
def test_the_vectorised_table_agrees_with_the_cell_rule(values: list[str | None]) -> None:
    got = safe_table(pa.table({"t": pa.array(values, pa.string())}))["t"].to_pylist()
    assert got == [safe_cell(v) for v in values]


def test_extensions_are_honoured_or_refused_with_the_choices(tmp_path: Path) -> None:
    t = pa.table({"a": ["=1+1", "x"], "n": [-1.5, 2.0]})
    assert write_table(t, tmp_path / "t.csv") == "csv"
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert rows == [["a", "n"], ["'=1+1", "-1.5"], ["x", "2"]]
    assert write_table(t, tmp_path / "t.parquet") == "parquet"
    assert pq.read_table(tmp_path / "t.parquet").equals(t)  # Parquet keeps the data as it is
    with pytest.raises(ParameterError) as err:
        output_format(tmp_path / "t.xlsx")
    assert ".csv or .parquet" in err.value.hint


def test_encounters_write_what_the_name_says(examples: Path, tmp_path: Path) -> None:
    fixes = tmp_path / "fixes.csv"
    shutil.copy(examples / "fixes.csv", fixes)
    r = CliRunner().invoke(
        app, ["encounters", str(fixes), "--out", str(tmp_path / "enc.csv"), "--min-duration", "0"]
    )
    assert r.exit_code == 0, r.output
    head = (tmp_path / "enc.csv").read_bytes()[:40]
    assert head.startswith(b'"device_a","device_b"') or head.startswith(b"device_a,device_b")
    r = CliRunner().invoke(
        app,
        ["encounters", str(fixes), "--out", str(tmp_path / "enc.parquet"), "--min-duration", "0"],
    )
    assert r.exit_code == 0 and (tmp_path / "enc.parquet").read_bytes()[:4] == b"PAR1"
    r = CliRunner().invoke(app, ["encounters", str(fixes), "--out", str(tmp_path / "enc.xls")])
    assert isinstance(r.exception, ParameterError) and ".csv or .parquet" in r.exception.hint
    assert not (tmp_path / "enc.xls").exists()


def test_table_export_and_audit_export_neutralise_formulas(tmp_path: Path) -> None:
    from whereabouts.store import Workspace

    ws = tmp_path / "ws"
    Workspace.init(ws)
    officers = tmp_path / "officers.csv"
    officers.write_text(
        "officer_id,name,rank,team,station,status\n"
        'P1,"=HYPERLINK(""http://evil"",""x"")",PC,-T1,Riverside,serving\n'
    )
    assert (
        CliRunner().invoke(app, ["ingest", str(ws), "--kind", "officers", str(officers)]).exit_code
        == 0
    )
    from whereabouts.case import CaseStore

    store = CaseStore.open(ws)
    store.add_user("boss", "long enough pass", "administrator")
    store.add_user("aud", "long enough pass", "auditor", actor="boss")
    store.close()
    admin = CliRunner(env={"WHEREABOUTS_PASSWORD": "long enough pass"})
    r = admin.invoke(
        app,
        [
            "export",
            str(ws),
            "--table",
            "officers",
            "--out",
            str(tmp_path / "o.csv"),
            "--purpose",
            "testing the CSV writer",
            "--user",
            "boss",
        ],
    )
    assert r.exit_code == 0, r.output
    row = next(iter(csv.DictReader(io.StringIO((tmp_path / "o.csv").read_text()))))
    assert row["name"] == '\'=HYPERLINK("http://evil","x")' and row["team"] == "'-T1"
    r = admin.invoke(
        app,
        [
            "export",
            str(ws),
            "--table",
            "officers",
            "--out",
            str(tmp_path / "o.txt"),
            "--purpose",
            "testing the CSV writer",
            "--user",
            "boss",
        ],
    )
    assert isinstance(r.exception, ParameterError) and not (tmp_path / "o.txt").exists()
    # the audit export: a user name cannot start with =, but a purpose can
    store = CaseStore.open(ws)
    store.audit.append("boss", "note", None, {"purpose": "=cmd()"})
    store.close()
    r = CliRunner(env={"WHEREABOUTS_PASSWORD": "long enough pass"}).invoke(
        app, ["audit", "export", str(ws), "--user", "aud", "--out", str(tmp_path / "a.csv")]
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "a.csv").read_text())))
    assert [x["purpose"] for x in rows if x["action"] == "note"] == ["'=cmd()"]
    r = CliRunner(env={"WHEREABOUTS_PASSWORD": "long enough pass"}).invoke(
        app, ["audit", "export", str(ws), "--user", "aud", "--out", str(tmp_path / "a.xlsx")]
    )
    assert isinstance(r.exception, ParameterError) and ".csv or .json" in r.exception.hint
