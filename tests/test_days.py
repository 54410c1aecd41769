"""One meaning of --from/--to in every command: whole local days in the workspace's time zone,
both included; stated in each command's help and in its output."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from whereabouts.case import CaseStore
from whereabouts.cli import app
from whereabouts.days import day_span, describe, parse_when
from whereabouts.store import Workspace

PW = "a long enough password"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("WHEREABOUTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("WHEREABOUTS_USER", raising=False)
    monkeypatch.setenv("WHEREABOUTS_PASSWORD", PW)
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path) as folder:
        path = Path(folder) / "ws"
        Workspace.init(path)
        store = CaseStore.open(path)
        store.add_user("boss", PW, "administrator")
        for name, role in (("sup", "supervisor"), ("inv", "investigator"), ("ana", "analyst")):
            store.add_user(name, PW, role, actor="boss")
        store.close()
        yield path


def test_a_local_day_range_across_the_clock_change() -> None:
    t0, t1 = day_span("2024-03-25", "2024-04-07", "Europe/London")
    assert (t0, t1) == (datetime(2024, 3, 25, tzinfo=UTC), datetime(2024, 4, 7, 23, tzinfo=UTC))
    assert describe(t0, t1, "Europe/London").startswith(
        "2024-03-25 to 2024-04-07 (whole days in Europe/London, both included"
    )
    assert parse_when("2024-03-25T08:00+00:00", "Europe/London") == datetime(
        2024, 3, 25, 8, tzinfo=UTC
    )


def test_a_case_covers_what_investigate_reads_for_the_same_days(ws: Path) -> None:
    t = str(ws)
    r = CliRunner().invoke(
        app,
        [
            "case",
            "open",
            t,
            "C1",
            "--subjects",
            "A,B",
            "--from",
            "2024-03-25",
            "--to",
            "2024-04-07",
            "--purpose",
            "p",
            "--authorised-by",
            "sup",
            "--user",
            "inv",
        ],
    )
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())
    assert "2024-03-25 to 2024-04-07 (whole days in Europe/London, both included" in said
    store = CaseStore.open(ws)
    store.authorise_case("C1", actor="sup")
    # investigate --case C1 --from 2024-03-25 --to 2024-04-07 reads exactly this span
    t0, t1 = (
        parse_when("2024-03-25", "Europe/London"),
        parse_when("2024-04-07", "Europe/London", end=True),
    )
    store.record_read("inv", "C1", ["A", "B"], t0, t1)
    store.close()


def test_a_screening_authority_covers_screen_for_the_same_days(ws: Path) -> None:
    r = CliRunner().invoke(
        app,
        [
            "case",
            "screening",
            str(ws),
            "SCR-1",
            "--scope",
            "force",
            "--from",
            "2024-03-25",
            "--to",
            "2024-04-07",
            "--purpose",
            "p",
            "--authorised-by",
            "sup",
            "--user",
            "sup",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "2024-03-25 to 2024-04-07 (whole days" in " ".join(r.output.split())
    store = CaseStore.open(ws)
    # what `screen --from 2024-03-25 --to 2024-04-07` asks for
    store.require_screening(
        "ana", "SCR-1", "force", *day_span("2024-03-25", "2024-04-07", "Europe/London")
    )
    store.close()


def _params(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    # typer may bring its own copy of click: duck-typed, not isinstance
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _params(sub, f"{path} {name}")
    else:
        for p in command.params:
            yield path, p


def test_every_from_and_to_says_local_days_included() -> None:
    from whereabouts.cli import MODULES, module_commands

    seen = []
    for module in MODULES:
        for name, command in module_commands(module).items():
            for path, p in _params(command, name):
                if p.param_type_name == "option" and ("--from" in p.opts or "--to" in p.opts):
                    seen.append(path)
                    assert "included" in (p.help or "") and "local" in (p.help or ""), (
                        path,
                        p.help,
                    )
    assert {"investigate", "screen", "case open", "case extend", "case screening"} <= set(seen)
