"""The run store: one way to write, find and read the analysis runs of a workspace.

A *run* is one investigation's output folder: its tables as Parquet (occasions, tracks,
stops, baseline, and whatever later steps add), occasions.csv, `summary.json` (the typed
`RunSummary`) and `run.json`, written last, which lists every file with its SHA-256 and the
summary's format. Layout (docs/architecture.md "runs")::

    WS/runs/<case>/<run id>/        one folder per run of the case, never changed once written
    WS/runs/<case>/current.json     {"run": "<run id>"}: the case's run, replaced atomically

Writing is crash-safe: a run is written into a hidden partial folder, renamed into place
when complete, and only then named by `current.json` (`os.replace`), so a reader sees the
old run or the new one, never a mix, and a crash leaves at most an unused partial folder.
A run can also be written to a folder of its own (`write_run_folder`, the CLI's `--out`);
`Run.open` reads a run from any folder.

    store = RunStore(ws.path)
    with store.writer("PSD-2024-001") as w:       # or RunWriter.to_folder(path)
        w.table("occasions", occasions)
        run = w.commit(summary)                    # now store.current("PSD-2024-001")
    run = store.current("PSD-2024-001")
    run.summary.period.start, run.table("occasions")
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from whereabouts.errors import NoDataError, ParameterError, WorkspaceError
from whereabouts.outfiles import write_csv
from whereabouts.store import atomic

V = TypeVar("V")
# The version of summary.json's shape (RunSummary), kept in run.json. 2: `software`, the
# software that made the run (store.software.run_record), filled in when a run is committed.
SUMMARY_FORMAT = 2
RUN_FILE = "run.json"  # written last in a run folder: what is in it, with hashes
SUMMARY_FILE = "summary.json"
CURRENT_FILE = "current.json"  # in WS/runs/<case>/: which run is the case's
_PARTIAL = ".partial-"
_SAFE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

# --- the typed summary ------------------------------------------------------------------
SettingValue = float | bool | int | str


def _need(data: Mapping[str, Any], key: str, kind: type[V], where: str) -> V:
    """`data[key]` when it is of `kind`, else a WorkspaceError naming the key."""
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise WorkspaceError(
            f"{where}: {key!r} is missing or not a {kind.__name__}",
            hint="re-run `whereabouts investigate` to write the run again",
        )
    return value


def _need_mapping(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """`data[key]` when it is a mapping (an abstract class, which `_need` cannot take)."""
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise WorkspaceError(
            f"{where}: {key!r} is missing or not a Mapping",
            hint="re-run `whereabouts investigate` to write the run again",
        )
    return value


@dataclass(frozen=True)
class Period:
    """The period a run examined, [start, end), times with their offsets as given."""

    start: datetime
    end: datetime

    def to_json(self) -> dict[str, str]:
        """The period as JSON (ISO 8601 times)."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> Period:
        """The period read from JSON; `where` names the file in errors."""
        try:
            return cls(
                datetime.fromisoformat(_need(data, "start", str, where)),
                datetime.fromisoformat(_need(data, "end", str, where)),
            )
        except ValueError as exc:
            raise WorkspaceError(
                f"{where}: the period's times cannot be read ({exc})",
                hint="re-run `whereabouts investigate`",
            ) from exc


@dataclass(frozen=True)
class InputRecord:
    """One workspace input behind a run, as the manifest recorded it."""

    file: str | None
    sha256: str | None
    kind: str | None
    rows: int | None

    def to_json(self) -> dict[str, Any]:
        """The input as JSON."""
        return {"file": self.file, "sha256": self.sha256, "kind": self.kind, "rows": self.rows}


@dataclass(frozen=True)
class FixCoverage:
    """How many of a subject's fixes fall on duty (the tracks' rows of that officer)."""

    officer_id: str
    fixes_on_duty: int

    def to_json(self) -> dict[str, Any]:
        """The subject as JSON."""
        return {"officer_id": self.officer_id, "fixes_on_duty": self.fixes_on_duty}


@dataclass(frozen=True)
class Counts:
    """The run's headline counts."""

    occasions: int
    unexplained: int  # occasions with finding no_reason_found
    unexplained_stops_together: int
    stops: int
    not_assessable: int | None = None  # None in runs written before findings
    nulls: frozenset[str] = frozenset()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The counts as JSON."""
        return _record_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Counts:
        """The counts read from JSON."""
        return cls(**_record_args(cls, data))


_META = ("nulls", "extra")


def _record_json(obj: Counts | PairBaseline | Baseline) -> dict[str, Any]:
    """A record's JSON: its known fields (absent when None, unless recorded as null), then
    the keys this version does not know, as read."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        if f.name in _META:
            continue
        value = getattr(obj, f.name)
        if value is None and f.name not in obj.nulls:
            continue
        if isinstance(value, tuple):
            value = [v.to_json() if hasattr(v, "to_json") else v for v in value]
        out[f.name] = value
    out.update(obj.extra)
    return out


def _record_args(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of a record from its JSON: known fields, which were null, the rest."""
    known = {f.name for f in fields(cls)} - set(_META)
    args = {k: v for k, v in data.items() if k in known}
    args["nulls"] = frozenset(k for k, v in args.items() if v is None)
    args["extra"] = {k: v for k, v in data.items() if k not in known}
    return args


@dataclass(frozen=True)
class PairBaseline:
    """One subject pair against its group: its standing and test, or why there is none."""

    officer_a: str
    officer_b: str
    statement: str
    comparable: bool | None = None
    why: str | None = None
    rank: int | None = None
    tied_with: int | None = None
    rank_text: str | None = None
    percentile: float | None = None
    unexplained: int | None = None
    unexplained_s: float | None = None
    unexplained_stops: int | None = None
    unexplained_stopped_s: float | None = None
    expected_stops: float | None = None
    shared_duty_h: float | None = None
    p_value: float | None = None
    nulls: frozenset[str] = frozenset()  # fields recorded as null rather than left out
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys this version does not know

    def to_json(self) -> dict[str, Any]:
        """The pair's comparison as JSON."""
        return _record_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PairBaseline:
        """The pair's comparison read from JSON."""
        return cls(**_record_args(cls, data))


@dataclass(frozen=True)
class Baseline:
    """The subjects' pairs against the other pairs of their group (analysis.baseline)."""

    group: str
    note: str | None = None
    pairs: int | None = None
    comparable: bool | None = None
    why: str | None = None
    rule: str | None = None
    test: str | None = None
    why_test: str | None = None
    assumptions: str | None = None
    subject_pairs: tuple[PairBaseline, ...] | None = None
    nulls: frozenset[str] = frozenset()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The baseline as JSON."""
        return _record_json(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Baseline:
        """The baseline read from JSON."""
        args = _record_args(cls, data)
        if args.get("subject_pairs") is not None:
            args["subject_pairs"] = tuple(PairBaseline.from_json(p) for p in args["subject_pairs"])
        return cls(**args)


@dataclass(frozen=True)
class RunSummary:
    """What `summary.json` records of a run: the case, subjects, period, settings, inputs,
    rules in words, software version and headline figures (format `SUMMARY_FORMAT`).

    `to_text()` gives the file's exact bytes (sorted keys, two-space indent): the same
    inputs and settings give the same summary.
    """

    case: str | None
    subjects: tuple[str, ...]
    period: Period
    params: Mapping[str, SettingValue]  # every analysis setting by name (AnalysisParams)
    crs: str
    version: str
    remote_rule: str = ""
    road_rule: str = ""
    explained_rule: str = ""
    inputs: tuple[InputRecord, ...] = ()
    coverage: tuple[FixCoverage, ...] = ()
    counts: Counts | None = None
    baseline: Baseline | None = None
    finding_rule: str | None = None
    # What the inputs cover (analysis.coverage.input_coverage; that module owns its shape).
    input_coverage: Mapping[str, Any] | None = None
    # The sensitivity ladder's settings and rule (analysis.sensitivity; its results are
    # the run's sensitivity table).
    sensitivity: Mapping[str, Any] | None = None
    # The software that made the run (store.software.run_record: whereabouts' version and
    # source hash, Python, package versions and a digest of their files); RunWriter.commit
    # fills it in. None for a run written before summary format 2.
    software: Mapping[str, Any] | None = None
    # Keys this version does not know (written by a later one), kept as read.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The summary as summary.json holds it."""
        out: dict[str, Any] = {
            "case": self.case,
            "subjects": [{"officer_id": s} for s in self.subjects],
            "period": self.period.to_json(),
            "params": dict(self.params),
            "remote_rule": self.remote_rule,
            "road_rule": self.road_rule,
            "explained_rule": self.explained_rule,
            "crs": self.crs,
            "version": self.version,
            "inputs": [i.to_json() for i in self.inputs],
            "coverage": [c.to_json() for c in self.coverage],
        }
        if self.counts is not None:
            out["counts"] = self.counts.to_json()
        if self.baseline is not None:
            out["baseline"] = self.baseline.to_json()
        if self.finding_rule is not None:
            out["finding_rule"] = self.finding_rule
        if self.input_coverage is not None:
            out["input_coverage"] = dict(self.input_coverage)
        if self.sensitivity is not None:
            out["sensitivity"] = dict(self.sensitivity)
        if self.software is not None:
            out["software"] = dict(self.software)
        out.update(self.extra)
        return out

    def to_text(self) -> str:
        """summary.json's text."""
        return json.dumps(self.to_json(), indent=2, sort_keys=True, default=str) + "\n"

    @classmethod
    def from_json(cls, data: object, where: str = SUMMARY_FILE) -> RunSummary:
        """Read a summary; WorkspaceError naming the key when one is missing or mistyped."""
        if not isinstance(data, Mapping):
            raise WorkspaceError(
                f"{where} does not hold a run summary",
                hint="re-run `whereabouts investigate` to write it again",
            )
        subjects = _need(data, "subjects", list, where)
        if not all(
            isinstance(s, Mapping) and isinstance(s.get("officer_id"), str) for s in subjects
        ):
            raise WorkspaceError(
                f"{where}: 'subjects' is not a list of {{officer_id: …}}",
                hint="re-run `whereabouts investigate` to write it again",
            )
        case = data.get("case")
        counts = data.get("counts")
        base = data.get("baseline")
        return cls(
            case=case if isinstance(case, str) else None,
            subjects=tuple(str(s["officer_id"]) for s in subjects),
            period=Period.from_json(_need_mapping(data, "period", where), where),
            params=dict(_need_mapping(data, "params", where)),
            crs=_need(data, "crs", str, where),
            version=str(data.get("version") or ""),
            remote_rule=str(data.get("remote_rule") or ""),
            road_rule=str(data.get("road_rule") or ""),
            explained_rule=str(data.get("explained_rule") or ""),
            inputs=tuple(
                InputRecord(i.get("file"), i.get("sha256"), i.get("kind"), i.get("rows"))
                for i in data.get("inputs") or ()
            ),
            coverage=tuple(
                FixCoverage(str(c["officer_id"]), int(c["fixes_on_duty"]))
                for c in data.get("coverage") or ()
            ),
            counts=Counts.from_json(counts) if isinstance(counts, Mapping) else None,
            baseline=Baseline.from_json(base) if isinstance(base, Mapping) else None,
            finding_rule=data.get("finding_rule"),
            input_coverage=(
                dict(data["input_coverage"])
                if isinstance(data.get("input_coverage"), Mapping)
                else None
            ),
            sensitivity=(
                dict(data["sensitivity"]) if isinstance(data.get("sensitivity"), Mapping) else None
            ),
            software=(
                dict(data["software"]) if isinstance(data.get("software"), Mapping) else None
            ),
            extra={k: v for k, v in data.items() if k not in _SUMMARY_KEYS},
        )

    def setting(self, name: str, default: SettingValue) -> SettingValue:
        """One analysis setting the run used (`default` for a run written before it existed)."""
        return self.params.get(name, default)


_SUMMARY_KEYS = frozenset({f.name for f in fields(RunSummary)} - {"extra"})


# --- a run on disk ------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """One complete run in its folder: the typed summary and its tables, read on demand."""

    path: Path
    summary: RunSummary
    files: Mapping[str, str] = field(default_factory=dict)  # name -> SHA-256 (run.json)

    @property
    def id(self) -> str:
        """The run's folder name (for a case's run, its run id)."""
        return self.path.name

    @classmethod
    def open(cls, folder: Path | str) -> Run:
        """The run in `folder` (written by this store, or by a version before run.json)."""
        folder = Path(folder)
        meta_path, summary_path = folder / RUN_FILE, folder / SUMMARY_FILE
        if not summary_path.exists():
            raise NoDataError(
                f"{folder} is not an analysis run (no {SUMMARY_FILE})",
                hint="give the folder written by `whereabouts investigate`",
            )
        files: dict[str, str] = {}
        if meta_path.exists():
            read = _read_json(meta_path)
            meta = read if isinstance(read, dict) else {}
            fmt = meta.get("summary_format")
            if not isinstance(fmt, int) or fmt > SUMMARY_FORMAT:
                raise WorkspaceError(
                    f"{meta_path} has summary format {fmt!r}; this whereabouts reads up to "
                    f"{SUMMARY_FORMAT}",
                    hint="read it with the newer whereabouts that wrote it",
                )
            files = {str(k): str(v) for k, v in (meta.get("files") or {}).items()}
        summary = RunSummary.from_json(_read_json(summary_path), str(summary_path))
        return cls(folder, summary, files)

    def file(self, name: str) -> Path:
        """The path of one of the run's files (e.g. "occasions.parquet")."""
        return self.path / name

    def has(self, table: str) -> bool:
        """Whether the run holds the table `table` (e.g. "stops")."""
        return (self.path / f"{table}.parquet").exists()

    def table(self, name: str) -> pa.Table:
        """One of the run's tables (occasions, tracks, stops, baseline, …)."""
        path = self.path / f"{name}.parquet"
        if not path.exists():
            raise NoDataError(
                f"run {self.path} has no {name} table",
                hint="re-run `whereabouts investigate` with this version",
            )
        return pq.read_table(path)

    def table_or_empty(self, name: str) -> pa.Table:
        """The table `name`, or a table of no columns when this run has none."""
        return self.table(name) if self.has(name) else pa.table({})


class RunWriter:
    """Writes one run into a partial folder; `commit` makes it complete, then current.

    Use as a context manager: leaving without `commit` (an error) removes the partial folder.
    """

    def __init__(self, partial: Path, commit_to: Path, pointer: Path | None) -> None:
        self.path = partial  # write extra files here (`file(name)`)
        self._final = commit_to
        self._pointer = pointer
        self._done = False
        partial.mkdir(parents=True)

    @classmethod
    def to_folder(cls, folder: Path | str) -> RunWriter:
        """A writer of a run into `folder` itself (replaced whole when it holds a run)."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise WorkspaceError(f"{folder} is a file", hint="give a folder for the run")
        if folder.is_dir() and any(folder.iterdir()) and not (folder / SUMMARY_FILE).exists():
            raise WorkspaceError(
                f"{folder} holds files that are not an analysis run",
                hint="give a new or empty folder, or an earlier run's folder to replace",
            )
        partial = folder.parent / f"{_PARTIAL}{folder.name}-{secrets.token_hex(4)}"
        return cls(partial, folder, None)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._done:
            shutil.rmtree(self.path, ignore_errors=True)

    def file(self, name: str) -> Path:
        """The path to write an extra file of the run to (listed in run.json on commit)."""
        return self.path / name

    def table(self, name: str, table: pa.Table) -> None:
        """Write `name`.parquet (deterministic bytes for the same table)."""
        pq.write_table(table, self.path / f"{name}.parquet")
        atomic.step()

    def csv(self, name: str, table: pa.Table) -> None:
        """Write `name`.csv (formula-like text neutralised: outfiles.write_csv)."""
        write_csv(table, self.path / f"{name}.csv")
        atomic.step()

    def commit(self, summary: RunSummary) -> Run:
        """Write summary.json and run.json, move the run into place, then make it current.

        The summary records the software that makes the run (`software`), unless given."""
        if self._done:
            raise WorkspaceError(
                "this run was committed already", hint="start a new writer for another run"
            )
        if summary.software is None:
            from whereabouts.store.software import run_record

            summary = replace(summary, software=run_record())
        (self.path / SUMMARY_FILE).write_text(summary.to_text(), encoding="utf-8")
        atomic.step()
        files = {p.name: _sha256(p) for p in sorted(self.path.iterdir()) if p.is_file()}
        meta = {"summary_format": SUMMARY_FORMAT, "case": summary.case, "files": files}
        (self.path / RUN_FILE).write_text(
            json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        atomic.step()
        _fsync_dir(self.path)
        final = self._final
        if final.exists():  # a run folder given again (--out): swap the old one out
            old = final.parent / f"{_PARTIAL}{final.name}-old-{secrets.token_hex(4)}"
            final.rename(old)
            atomic.step()
            self.path.rename(final)
            atomic.step()
            shutil.rmtree(old, ignore_errors=True)
        else:
            self.path.rename(final)
            atomic.step()
        self._done = True
        _fsync_dir(final.parent)
        if self._pointer is not None:
            _write_json_atomic(self._pointer, {"run": final.name})
            atomic.step()
        return Run(final, summary, files)


class RunStore:
    """The analysis runs of one workspace, under WS/runs (see the module's docstring)."""

    def __init__(self, workspace: Path | str) -> None:
        self.root = Path(workspace) / "runs"

    def case_folder(self, case_ref: str) -> Path:
        """WS/runs/<case> (the case reference checked to be a safe folder name)."""
        if not _SAFE_REF.match(case_ref):
            raise ParameterError(
                f"case reference {case_ref!r} cannot name a folder",
                hint="use letters, digits, '.', '_' and '-' only",
            )
        return self.root / case_ref

    def writer(self, case_ref: str) -> RunWriter:
        """A writer of a new run of the case; it becomes `current(case_ref)` on commit."""
        folder = self.case_folder(case_ref)
        run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(2)}"
        return RunWriter(folder / f"{_PARTIAL}{run_id}", folder / run_id, folder / CURRENT_FILE)

    def current(self, case_ref: str) -> Run:
        """The case's run: the one `current.json` names, else a run written straight into
        WS/runs/<case> (by versions before the run store, or with --out there)."""
        return Run.open(self.locate(case_ref))

    def locate(self, case_ref: str) -> Path:
        """The folder of `current(case_ref)`, found without reading its summary."""
        folder = self.case_folder(case_ref)
        pointer = folder / CURRENT_FILE
        if pointer.exists():
            data = _read_json(pointer)
            name = data.get("run") if isinstance(data, dict) else None
            if not isinstance(name, str) or not (folder / name / SUMMARY_FILE).exists():
                raise WorkspaceError(
                    f"{pointer} names no run of the case",
                    hint=f"re-run `whereabouts investigate WS --case {case_ref}`",
                )
            return folder / name
        if (folder / SUMMARY_FILE).exists():
            return folder
        raise NoDataError(
            f"case {case_ref} has no analysis run yet",
            hint=f"run `whereabouts investigate {self.root.parent} --case "
            f"{case_ref}` first, or give the run's folder with --occasions DIR",
        )

    def has_run(self, case_ref: str) -> bool:
        """Whether the case has a run (`current` would return one)."""
        folder = self.case_folder(case_ref)
        return (folder / CURRENT_FILE).exists() or (folder / SUMMARY_FILE).exists()

    def history(self, case_ref: str) -> list[Run]:
        """Every complete run of the case, oldest first (the current one among them)."""
        folder = self.case_folder(case_ref)
        found = (
            [
                Run.open(p)
                for p in sorted(folder.iterdir())
                if p.is_dir() and not p.name.startswith(".") and (p / RUN_FILE).exists()
            ]
            if folder.is_dir()
            else []
        )
        return found

    def cases(self) -> list[str]:
        """The case references with a run."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and self.has_run(p.name)
        )

    def screenings(self) -> Iterator[tuple[str, Path, ScreeningRecord]]:
        """(name, screening.parquet, what it ran under) of each screening under WS/runs."""
        for path in sorted(self.root.glob(f"*/{SCREENING_FILE}")):
            meta_path = path.parent / SUMMARY_FILE
            meta = _read_json(meta_path) if meta_path.exists() else {}
            yield path.parent.name, path, ScreeningRecord.from_json(meta)


# --- screening outputs -------------------------------------------------------------------
SCREENING_FILE = "screening.parquet"


@dataclass(frozen=True)
class ScreeningRecord:
    """What a screening output ran under: authority, scope and period (any may be unknown)."""

    authority: str | None
    scope: str
    start: str | None
    end: str | None

    def to_json(self) -> dict[str, Any]:
        """The screening record as JSON."""
        return {
            "screening": self.authority,
            "scope": self.scope,
            "start": self.start,
            "end": self.end,
        }

    @classmethod
    def from_json(cls, data: object) -> ScreeningRecord:
        """The screening record read from JSON (older runs named the authority `authority`)."""
        d = data if isinstance(data, Mapping) else {}
        return cls(
            d.get("screening") or d.get("authority"),
            str(d.get("scope") or "force"),
            d.get("start"),
            d.get("end"),
        )


def write_screening(folder: Path | str, ranked: pa.Table, record: ScreeningRecord) -> Path:
    """Write a screening's ranked pairs (Parquet and CSV) and what it ran under into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # each file whole, then renamed into place (store.atomic); the Parquet file last
    atomic.write_with(folder / "screening.csv", lambda tmp: write_csv(ranked, tmp))
    atomic.write_json(folder / SUMMARY_FILE, record.to_json())
    atomic.write_with(folder / SCREENING_FILE, lambda tmp: pq.write_table(ranked, tmp))
    return folder / SCREENING_FILE


# --- helpers ------------------------------------------------------------------------------
def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkspaceError(
            f"{path} cannot be read ({type(exc).__name__})", hint="re-run the step that wrote it"
        ) from exc


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_json_atomic(path: Path, data: object) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = [
    "CURRENT_FILE",
    "RUN_FILE",
    "SCREENING_FILE",
    "SUMMARY_FILE",
    "SUMMARY_FORMAT",
    "Baseline",
    "Counts",
    "FixCoverage",
    "InputRecord",
    "PairBaseline",
    "Period",
    "Run",
    "RunStore",
    "RunSummary",
    "RunWriter",
    "ScreeningRecord",
    "write_screening",
]
