"""Crash safety of the workspace: an ingest killed (kill -9) at every one of its writes, a
disk that fills up, and readers running while an ingest writes.

Each time the workspace must stay consistent: the manifest, the files in tables/ and
quarantine/, and the views agree; every input's counts add up; the file ingests again.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from whereabouts import schema
from whereabouts.errors import WorkspaceError
from whereabouts.store import Workspace
from whereabouts.store.atomic import CRASH_AFTER

HEADER = "device_id,time,lat,lon,accuracy_m"


def _fixes(path: Path, n: int, *, seed: int = 0, bad: int = 0, duplicates: int = 0) -> Path:
    """n fixes of three devices; `bad` quarantined rows and `duplicates` exact repeats."""
    rows = [
        f"R{(i * 7 + seed) % 3},2024-02-05T07:{(i // 60) % 60:02d}:{i % 60:02d}Z,"
        f"{51.4 + i * 1e-5 + seed * 1e-3:.6f},{-3.2 + i * 1e-5:.6f},5"
        for i in range(n)
    ]
    rows += rows[:duplicates]
    rows += ["R9,not a time,51.4,-3.2,5" for _ in range(bad)]
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


EXPORT = (
    "import sys; from whereabouts.store import Workspace; "
    "from whereabouts.store.export import export_table; "
    "export_table(Workspace.open(sys.argv[1]), 'fixes', sys.argv[2])"
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop(CRASH_AFTER, None)
    return subprocess.run(
        [sys.executable, "-m", "whereabouts", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _ingest_in_child(path: Path, files: list[Path]) -> None:
    Workspace.open(path).ingest("fixes", files)


def _ingest_killed(path: Path, files: list[Path], crash_after: int) -> int:
    """Ingest in a forked process that kills itself at its `crash_after`-th write; its exit
    code (-9: killed there; 0: the ingest finished first). Forked, so each of the many
    runs costs no interpreter start."""
    os.environ[CRASH_AFTER] = str(crash_after)
    try:
        child = multiprocessing.get_context("fork").Process(
            target=_ingest_in_child, args=(path, files)
        )
        child.start()
        child.join(300)
    finally:
        del os.environ[CRASH_AFTER]
    assert child.exitcode is not None
    return child.exitcode


def assert_consistent(path: Path) -> dict[str, dict[str, int]]:
    """Open (which rolls back an interrupted ingest) and check manifest = files = views."""
    ws = Workspace.open(path)
    assert ws.check() == []
    assert not (path / "ingest.json").exists()
    manifest = ws.manifest
    want_tables = {f"tables/{e['table']}/{e['file_id']}.parquet" for e in manifest}
    want_quarantine = {f"quarantine/{e['file_id']}.parquet" for e in manifest}
    on_disk = {str(f.relative_to(path)) for f in (path / "tables").rglob("*") if f.is_file()}
    assert on_disk == want_tables
    assert {str(f.relative_to(path)) for f in (path / "quarantine").iterdir()} == want_quarantine
    assert not [f for f in path.iterdir() if f.name.endswith((".tmp", ".partial"))]
    con = ws.connect()
    try:
        for table in schema.TABLES:
            rows = con.sql(f'SELECT count(*) FROM "{table}"').fetchall()  # noqa: S608  # names from schema.TABLES
            assert rows[0][0] == sum(
                e["counts"]["accepted"] for e in manifest if e["table"] == table
            ), table
    finally:
        con.close()
    for e in manifest:
        c = e["counts"]
        assert c["read"] == c["accepted"] + c["duplicates"] + c["quarantined"]
    return {e["name"]: dict(e["counts"]) for e in manifest}


def _fresh(tmp_path: Path, name: str, officers: Path) -> Path:
    """A workspace holding `officers`, committed before: it must survive every crash."""
    template = tmp_path / "template"
    if not template.exists():
        Workspace.init(template).ingest("officers", [officers])
    return Path(shutil.copytree(template, tmp_path / name))


@pytest.mark.slow
def test_ingest_killed_at_every_write_leaves_a_consistent_workspace(
    tmp_path: Path, examples: Path
) -> None:
    a = _fixes(tmp_path / "a.csv", 300, bad=3, duplicates=20)
    b = _fixes(tmp_path / "b.csv", 200, seed=1)
    officers = examples / "officers.csv"
    clean = _fresh(tmp_path, "clean", officers)
    assert _cli("ingest", str(clean), str(a), str(b), "--kind", "fixes").returncode == 0
    assert _ingest_killed(_fresh(tmp_path, "count", officers), [a, b], 10**6) == 0
    want = assert_consistent(clean)
    assert want["a.csv"]["duplicates"] == 20 and want["a.csv"]["quarantined"] == 3
    reference = (
        pq.read_table(clean / "tables" / "fixes")
        .sort_by([("device_id", "ascending"), ("time", "ascending")])
        .drop_columns(["src_file"])
    )

    n = 0
    outcomes = set()
    while True:
        n += 1
        assert n < 200, "the ingest never finished"
        path = _fresh(tmp_path, f"crash{n}", officers)
        code = _ingest_killed(path, [a, b], n)
        if code == 0:
            break
        assert code == -9  # killed, not failed
        counts = assert_consistent(path)
        assert set(counts) <= {"officers.csv", "a.csv", "b.csv"}
        for name, c in counts.items():  # what committed, committed whole
            if name != "officers.csv":
                assert c == want[name]
        outcomes.add(tuple(sorted(counts)))
        # and the same files ingest again, to the same result as a clean ingest
        Workspace.open(path).ingest("fixes", [a, b])
        assert assert_consistent(path) == want
        table = (
            pq.read_table(path / "tables" / "fixes")
            .sort_by([("device_id", "ascending"), ("time", "ascending")])
            .drop_columns(["src_file"])
        )
        assert table.equals(reference)
        shutil.rmtree(path)
    print(f"{n - 1} crash points")
    assert n > 10  # every write of both files was a crash point
    # crashes before the first commit, between the two files, and after both
    assert len(outcomes) >= 3


def test_an_interrupted_ingest_is_rolled_back_and_status_says_so(
    tmp_path: Path, examples: Path
) -> None:
    a = _fixes(tmp_path / "a.csv", 300, duplicates=5)
    path = _fresh(tmp_path, "ws", examples / "officers.csv")
    # killed while merging duplicates: the old failure left a table file with no footer
    crashed = None
    for n in range(1, 60):
        if _ingest_killed(path, [a], n):
            if list((path / "tables" / "fixes").glob("*.merged")):
                crashed = n
                break
            shutil.rmtree(path)
            path = _fresh(tmp_path, "ws", examples / "officers.csv")
    assert crashed is not None, "no crash point inside the duplicate merge"
    status = _cli("status", str(path))
    assert status.returncode == 0, status.stderr
    assert "a.csv (fixes) was rolled back" in status.stdout
    assert "ingest the file again" in status.stdout
    assert "consistent" in status.stdout
    as_json = json.loads(_cli("status", str(path), "--json").stdout)
    assert as_json["problems"] == []
    assert as_json["recoveries"][0]["action"] == "rolled back"
    assert any(r.endswith(".merged") for r in as_json["recoveries"][0]["removed"])
    # export and encounters read only committed data
    assert _cli("ingest", str(path), str(a), "--kind", "fixes").returncode == 0
    assert assert_consistent(path)["a.csv"]["duplicates"] == 5


def test_status_names_damage_it_cannot_repair(tmp_path: Path, examples: Path) -> None:
    path = _fresh(tmp_path, "ws", examples / "officers.csv")
    Workspace.open(path).ingest("fixes", [_fixes(tmp_path / "a.csv", 50)])
    table = next((path / "tables" / "fixes").glob("*.parquet"))
    table.chmod(0o644)
    table.write_bytes(table.read_bytes()[:100])  # cut short behind the tool's back
    status = _cli("status", str(path))
    assert status.returncode == 0
    assert f"tables/fixes/{table.name} is damaged" in status.stdout
    assert "restore it from a backup" in status.stdout


def test_readers_never_fail_while_an_ingest_writes(tmp_path: Path) -> None:
    path = Workspace.init(tmp_path / "ws").path
    Workspace.open(path).ingest("fixes", [_fixes(tmp_path / "first.csv", 1000)])
    files = [_fixes(tmp_path / f"f{k}.csv", 20_000, seed=k, duplicates=50) for k in range(1, 4)]
    errors: list[BaseException] = []

    def ingest() -> None:
        try:
            Workspace.open(path).ingest("fixes", files)
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=ingest)
    writer.start()
    seen: set[int] = set()
    allowed = {1000, 21050 - 50 + 1000, 2 * 20000 + 1000, 3 * 20000 + 1000}
    while writer.is_alive() or not seen:
        ws = Workspace.open(path)  # a reader: never rolls back an ingest under way
        rows = ws.table("fixes").num_rows
        assert rows in allowed, rows
        seen.add(rows)
        # a reader in another process, as `export` reads
        got = subprocess.run(
            [sys.executable, "-c", EXPORT, str(path), str(tmp_path / "out.parquet")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert got.returncode == 0, got.stderr
        assert pq.read_metadata(tmp_path / "out.parquet").num_rows in allowed
    writer.join()
    assert not errors
    assert max(seen) <= 61000
    assert Workspace.open(path).table("fixes").num_rows == 61000


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("the disk-full test mounts a small tmpfs, which needs root (CI runs as root)")
    got = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if got.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({got.stderr.strip()}); in CI it runs as root")


@pytest.mark.slow
@pytest.mark.parametrize("size", ["700k", "1500k", "3000k"])
def test_a_full_disk_ends_in_a_message_with_nothing_half_counted(tmp_path: Path, size: str) -> None:
    small = tmp_path / "small"
    _mount_tmpfs(small, size)
    try:
        path = Workspace.init(small / "ws").path
        Workspace.open(path).ingest("fixes", [_fixes(tmp_path / "first.csv", 500)])
        big = _fixes(tmp_path / "big.csv", 60_000, seed=2, duplicates=100)
        with pytest.raises(WorkspaceError, match="the disk is full") as info:
            Workspace.open(path).ingest("fixes", [big])
        assert "ingest the file again" in str(info.value.hint)
        counts = assert_consistent(path)
        assert set(counts) == {"first.csv"}  # nothing of big.csv counted
        got = _cli("ingest", str(path), str(big), "--kind", "fixes")
        assert got.returncode != 0
        assert "the disk is full" in got.stdout + got.stderr
        assert "Traceback" not in got.stdout + got.stderr
        assert set(assert_consistent(path)) == {"first.csv"}
    finally:
        # lazily: a file still open (a traceback holding a reader) must not fail the test
        subprocess.run(["umount", "--lazy", str(small)], check=False)
