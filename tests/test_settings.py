"""Settings are declared once (whereabouts.settings.SETTINGS): the parameter classes, the
command-line options and docs/settings.md all come from that table and agree with it."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from whereabouts.analysis.params import AnalysisParams
from whereabouts.cli import app
from whereabouts.cli.reference import commands
from whereabouts.engine.params import EncounterParams
from whereabouts.errors import ParameterError
from whereabouts.settings import BY_NAME, ENCOUNTER_SETTINGS, SETTINGS, reference

REPO = Path(__file__).resolve().parents[1]


def _command(name: str) -> Any:
    return dict(commands(app))[name]


def test_the_parameter_classes_take_their_defaults_from_the_table() -> None:
    assert AnalysisParams().as_dict() == {s.name: s.default for s in SETTINGS}
    assert [f.name for f in fields(EncounterParams)] == list(ENCOUNTER_SETTINGS)
    assert AnalysisParams().encounter == EncounterParams()
    # the analysis holds the engine's parameters, not a copy of them
    assert not {f.name for f in fields(AnalysisParams)} & set(ENCOUNTER_SETTINGS)


def test_settings_by_name_round_trip_and_unknown_names_are_refused() -> None:
    values = {
        **AnalysisParams().as_dict(),
        "distance_m": 50.0,
        "on_duty_only": False,
        "remote_lookback_days": 60.0,
    }
    params = AnalysisParams.of(values)
    assert params.as_dict() == values and params.distance_m == 50.0
    assert params.encounter == EncounterParams(distance_m=50.0)
    with pytest.raises(ParameterError, match="unknown settings"):
        AnalysisParams.of({"distance": 50})
    assert AnalysisParams.of({"later_setting": 1}, strict=False) == AnalysisParams()


@pytest.mark.parametrize(
    ("command", "names"),
    [("investigate", [s.name for s in SETTINGS]), ("encounters", list(ENCOUNTER_SETTINGS))],
)
def test_every_setting_is_an_option_with_the_tables_default_and_help(
    command: str, names: list[str]
) -> None:
    options = {p.name: p for p in _command(command).params if p.param_type_name == "option"}
    for name in names:
        s = BY_NAME[name]
        option = options[name]
        assert s.option in option.opts and option.default == s.default, name
        assert option.help == s.help


def test_an_option_reaches_the_analysis(tmp_path: Path) -> None:
    # a setting given on the command line is the one the parameters hold
    command = _command("investigate")
    ctx = command.make_context(
        "investigate", [str(tmp_path), "--max-gap", "60", "--no-on-duty-only"]
    )
    assert ctx.params["max_gap_s"] == 60.0 and ctx.params["on_duty_only"] is False


def test_docs_settings_md_matches_the_table() -> None:
    doc = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert doc == reference(), "run: .venv/bin/whereabouts settings-reference > docs/settings.md"
    for s in SETTINGS:
        assert f"`{s.name}`" in doc and s.help in doc
