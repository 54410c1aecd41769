"""The public API (`from whereabouts import …`): every exported name resolves and is
documented, options are keyword-only, importing the package stays light, and no module
exports a private name (httpx's tests/test_exported_members.py is the model)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from typing import get_args

import whereabouts
from whereabouts.vocabulary import (
    FLAG_TERMS,
    FLAGS,
    KINDS,
    REASON_TERMS,
    REASONS,
    InputKind,
    Reason,
)

ENTRY_POINTS = {  # function -> how many leading parameters may be positional
    "ingest": 3,
    "investigate": 4,
    "screen": 4,
    "find_encounters": 2,
    "within_periods": 2,
    "build_report": 1,
}


def test_all_exported_names_resolve_and_are_documented() -> None:
    names = whereabouts.__all__
    assert len(names) == len(set(names))
    assert set(names) == set(whereabouts._WHERE) | {"__version__"}
    assert set(names) <= set(dir(whereabouts))
    for name in names:
        value = getattr(whereabouts, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert (value.__doc__ or "").strip(), f"{name} has no docstring"
            assert value.__module__.startswith("whereabouts."), name


def test_entry_points_take_their_options_by_keyword_only() -> None:
    for name, positional in ENTRY_POINTS.items():
        params = list(inspect.signature(getattr(whereabouts, name)).parameters.values())
        leading = [p for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        assert len(leading) == positional, (name, [p.name for p in leading])
        assert all(p.annotation is not inspect.Parameter.empty for p in params), name


def test_choices_are_literals() -> None:
    assert set(get_args(InputKind)) == set(KINDS) | {"map"}
    assert get_args(Reason) == REASONS  # the web app's annotation form takes the same
    assert tuple(REASON_TERMS) == REASONS and tuple(FLAG_TERMS) == FLAGS  # one Term each
    assert set(get_args(whereabouts.BaselineGroup)) == {"team", "station", "none"}


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = (
        "import sys, whereabouts; from whereabouts import SETTINGS, WhereaboutsError; "
        "heavy = {'duckdb', 'pyarrow', 'sqlalchemy', 'fastapi', 'matplotlib', "
        "'weasyprint', 'pyspark', 'numpy'}; print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_module_exports_a_private_name() -> None:
    private = []
    for info in pkgutil.walk_packages(whereabouts.__path__, "whereabouts."):
        if info.name.startswith(
            ("whereabouts.spark", "whereabouts.case.migrations", "whereabouts.__main__")
        ):
            continue  # PySpark is optional; migrations are scripts; __main__ runs the CLI
        module = importlib.import_module(info.name)
        private += [
            f"{info.name}.{n}"
            for n in getattr(module, "__all__", [])
            if n.startswith("_") and n != "__version__"
        ]
    assert private == []
