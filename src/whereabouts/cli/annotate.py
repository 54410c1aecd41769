"""`whereabouts annotate` and `whereabouts annotations`: investigators' decisions on
occasions from the command line, through the same library call as the web app.

An annotation (a note, optionally a policing reason added or a found one rejected) is kept
in the case record with its author and time, apart from the computed results: the run's
occasions.parquet is read, never written. Role, case membership and scope are checked, and
the annotation (or the reading of a case's annotations) is written to the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from whereabouts.cli.acting import UserOpt, err, out, session
from whereabouts.errors import NoDataError, ParameterError, ScopeError
from whereabouts.vocabulary import REASONS

if TYPE_CHECKING:
    import pyarrow as pa

    from whereabouts.case.cases import Case

Workspace = Annotated[
    Path, typer.Argument(help="The workspace folder (its runs/ hold the occasions).")
]
CaseOpt = Annotated[str, typer.Option("--case", help="Case reference the occasion belongs to.")]
_REASONS = ", ".join(REASONS)


def annotate(
    workspace: Workspace,
    case: CaseOpt,
    occasion: Annotated[str, typer.Option(help="occasion_id, as in the run's occasions.csv.")],
    note: Annotated[
        str,
        typer.Option(
            help="What you found and why (always needed, also for a reason added or rejected)."
        ),
    ],
    add_reason: Annotated[
        str | None,
        typer.Option(help=f"A policing reason the analysis did not find: one of {_REASONS}."),
    ] = None,
    reject_reason: Annotated[
        str | None,
        typer.Option(
            help="A reason the analysis found that you reject (one of the occasion's reasons)."
        ),
    ] = None,
    occasions: Annotated[
        Path | None,
        typer.Option(help="The analysis output folder (default: the case's current run)."),
    ] = None,
    user: UserOpt = None,
) -> None:
    """Annotate an occasion: a note, or a policing reason added or rejected (audited)."""
    from whereabouts.analysis.annotations import annotate as record

    if add_reason is not None and reject_reason is not None:
        raise ParameterError(
            "an annotation adds a reason or rejects one, not both",
            hint="give --add-reason or --reject-reason, each in its own annotation",
        )
    store, who = session(str(workspace), user)
    try:
        store.require(who, "annotate", case)  # role and membership, before anything is read
        table = _occasions(workspace, case, occasions)
        _in_scope(store.get_case(case), table, occasion)
        ident = record(
            store,
            table,
            case,
            occasion,
            who,
            note,
            reason_added=add_reason,
            reason_rejected=reject_reason,
        )
        row = next(r for r in store.annotations(case) if r["id"] == ident)
    finally:
        store.close()
    decision = (
        f"; reason added: {add_reason}"
        if add_reason
        else f"; reason rejected: {reject_reason}"
        if reject_reason
        else ""
    )
    out.print(
        f"annotation {ident} on occasion {occasion} of case {case} by {row['author']} at "
        f"{row['created_at']:%Y-%m-%d %H:%M:%S} UTC{decision}"
    )
    err.print(
        "kept in the case record beside the computed results, which are unchanged; "
        "recorded in the audit log"
    )


def list_annotations(
    workspace: Annotated[str, typer.Argument(help="Workspace folder, or a database URL.")],
    case: CaseOpt,
    occasion: Annotated[str | None, typer.Option(help="Only this occasion's annotations.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    user: UserOpt = None,
) -> None:
    """List a case's (or one occasion's) annotations, oldest first (the reading is audited)."""
    if fmt not in ("table", "json"):
        raise ParameterError(f"unknown format {fmt!r}", hint="table or json")
    store, who = session(workspace, user)
    try:
        record = store.get_case(case)
        store.record_read(
            who,
            case,
            record.subjects,
            record.start,
            record.end,
            what="annotations",
            occasion_id=occasion,
        )
        rows = [
            r for r in store.annotations(case) if occasion is None or r["occasion_id"] == occasion
        ]
    finally:
        store.close()
    if fmt == "json":
        out.print_json(json.dumps([_plain(r) for r in rows]))
        return
    if not rows:
        err.print(f"no annotations on {'occasion ' + occasion if occasion else 'case ' + case}")
        return
    t = Table("id", "occasion", "author", "time (UTC)", "decision", "note")
    for r in rows:
        decision = (
            f"+ {r['reason_added']}"
            if r["reason_added"]
            else f"− {r['reason_rejected']}"
            if r["reason_rejected"]
            else "note"
        )
        t.add_row(
            str(r["id"]),
            r["occasion_id"],
            r["author"],
            f"{r['created_at']:%Y-%m-%d %H:%M:%S}",
            decision,
            r["note"],
        )
    out.print(t)


def _occasions(workspace: Path, case: str, folder: Path | None) -> pa.Table:
    """The columns of the case's occasions that annotating needs (ids, reasons, who, when)."""
    import pyarrow.parquet as pq

    from whereabouts.store.runs import Run, RunStore

    run = Run.open(folder) if folder is not None else RunStore(workspace).current(case)
    if not run.has("occasions"):
        raise NoDataError(
            f"no occasions.parquet in {run.path}",
            hint="give the folder written by `whereabouts investigate` with --occasions",
        )
    named = run.summary.case
    if named is not None and named != case:
        raise ScopeError(
            f"the occasions in {run.path} are of case {named}, not {case}",
            hint=f"give the output folder of case {case}, or --case {named}",
        )
    path = run.file("occasions.parquet")
    return pq.read_table(
        path, columns=["occasion_id", "officer_a", "officer_b", "start", "end", "reasons"]
    )


def _in_scope(record: Case, table: pa.Table, occasion: str) -> None:
    """The occasion's officers and times must be inside the case's scope (and the case open)."""
    import pyarrow.compute as pc

    row = table.filter(pc.equal(table.column("occasion_id"), occasion))
    if row.num_rows == 0:
        return  # the library call names the missing occasion
    first = row.slice(0, 1).to_pylist()[0]
    record.require_scope([first["officer_a"], first["officer_b"]], first["start"], first["end"])


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(annotate)
    app.command("annotations")(list_annotations)


__all__ = ["annotate", "list_annotations", "register"]
