"""docs/inputs.md: its input tables are generated from the readers' declarations and must
match them; every input column is documented; its walkthrough from the real Liverpool
recording to a report runs as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from test_readme import readme_commands, run_as_written
from whereabouts import schema
from whereabouts.io.inputs_doc import BEGIN, END, render_tables
from whereabouts.io.tables import POSITION, SPECS

DOC = Path(__file__).resolve().parents[1] / "docs" / "inputs.md"


def test_the_generated_section_matches_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"
    assert section == render_tables(), (
        "docs/inputs.md is out of date: run `python -m whereabouts.io.inputs_doc docs/inputs.md`"
    )


def test_every_input_column_has_type_unit_required_example_and_bad_value() -> None:
    tables = render_tables()
    for kind, spec in SPECS.items():
        part = tables.split(f"### `{kind}`", 1)[1].split("\n### ", 1)[0]
        rows = {m[1]: m[0] for m in re.finditer(r"^\| `([^`]+)` \|.*$", part, flags=re.M)}
        # every canonical column a reader fills from the input (not derived x/y, provenance)
        canonical = {f.name for f in schema.TABLES[spec.table]} - {"x", "y", "src_file", "src_line"}
        wanted = canonical | set(spec.known) | (set(POSITION) if spec.positioned else set())
        assert wanted <= set(rows), (kind, wanted - set(rows))
        for name, row in rows.items():
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert len(cells) == 6 and all(cells[i] for i in (0, 1, 3, 5)), (kind, name, row)
            assert cells[4], f"{kind}.{name} has no example"
            if name in spec.required:
                assert cells[3] == "yes" and "quarantined" in cells[5], (kind, name)


def test_the_doc_has_the_profile_guide_and_the_walkthrough() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "## Writing a mapping profile" in text and "### Worked example" in text
    shipped = (
        (
            Path(__file__).resolve().parents[1]
            / "src"
            / "whereabouts"
            / "io"
            / "profiles"
            / "liverpool-bus.toml"
        )
        .read_text(encoding="utf-8")
        .strip()
    )
    assert shipped in text  # the worked example is the shipped profile, word for word
    assert "Open Government Licence" in text  # the recording's licence, cited


@pytest.mark.slow
def test_the_liverpool_walkthrough_runs_as_written(tmp_path: Path, real_data: Path) -> None:
    commands = readme_commands(
        DOC.read_text(encoding="utf-8"), "## Walkthrough: a real recording to a report"
    )
    work = tmp_path / "repo"
    work.mkdir()
    (tmp_path / "shared" / "data").mkdir(parents=True)
    shutil.copytree(real_data, tmp_path / "shared" / "data" / "real")  # ../shared/data/real
    said = "\n".join(run_as_written(commands, work).values())
    assert "read 1533 = accepted 1533" in said
    assert "case LPL-2026-001:" in said and "report:" in said
    runs = list((work / "lpool" / "runs" / "LPL-2026-001").glob("*/report/report.html"))
    assert runs and "LPL-2026-001" in runs[0].read_text(encoding="utf-8")
