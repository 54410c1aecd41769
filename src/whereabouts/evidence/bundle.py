"""`make_bundle`: seal a case's inputs, parameters, outputs, software and audit in a signed
BagIt bag that `whereabouts verify` can check and re-run offline.

Layout (inside the bag's `data/`):

    inputs/inputs.json               every input: kind, profile, SHA-256, counts, how bundled
    inputs/<file_id>/<name>          an original source file, byte for byte, or
    inputs/<file_id>/rows.parquet    the ingested rows the run could read (with a note)
    workspace/workspace.json         the workspace's CRS and time zone
    workspace/manifest.json          the workspace's record of those inputs
    parameters.json                  case, subjects, period, analysis settings, report options
    outputs/run/...                  every file of the case's run (never the label key);
                                     its summary.json records the software that ran it
    outputs/report/report.html, report.pdf   the report made for the bundle
    outputs/report/report.signed.pdf, signature/pdf-signer.pem   with --sign-pdf: the PDF
                                     signed (PAdES) with the force's key, and its certificate
    case/record.json            the investigators' notes the report shows
    audit/entries.json, audit/head.json      the case's audit entries and the chain's head
    software.json                    the software that made the bundle (and its report):
                                     whereabouts' version and source hash, every package
    README.txt                       what this is and how to check it

Tag files beside `data/`: `statement.dsse.json` (the in-toto Statement signed with the
force's Ed25519 key), `signer.pub` (that key's public half, for convenience: a verifier
should be given the force's key independently), and optionally `timestamp.tsr` (an RFC 3161
token over `tagmanifest-sha256.txt`) with `timestamp-root.pem` (the authority's root
certificate, for convenience too).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whereabouts import __version__
from whereabouts.errors import ParameterError
from whereabouts.evidence import bag, caserun, keys, statement
from whereabouts.evidence.inputs import find_originals, plan_inputs, run_entries
from whereabouts.evidence.rerun import render_report
from whereabouts.io.files import file_sha256
from whereabouts.store.software import packages_sha256, software

if TYPE_CHECKING:
    from whereabouts.evidence.inputs import BundledInput
    from whereabouts.store.workspace import Workspace

STATEMENT_FILE = "statement.dsse.json"
PUBLIC_FILE = "signer.pub"
TIMESTAMP_FILE = "timestamp.tsr"
TSA_CERT_FILE = "timestamp-root.pem"
SIGNED_PDF = "report/report.signed.pdf"  # under data/outputs/
PDF_CERT = "signature/pdf-signer.pem"  # under data/
DEFAULT_MAX_SOURCE_MB = 200.0

README = """\
Evidence bundle of case {case} (whereabouts {version})

A BagIt bag (RFC 8493). Every file under data/ is listed with its SHA-256 in
manifest-sha256.txt; the tag files are listed in tagmanifest-sha256.txt. statement.dsse.json
is an in-toto Statement signed with the force's Ed25519 key (DSSE): its subjects are the
outputs with their SHA-256, its predicate the inputs, parameters, software and the audit
head at which this bundle was made (seq {seq}, {head}).

To check it, offline, with whereabouts installed (pip install 'whereabouts[verify]'):

    whereabouts verify THIS-FOLDER-OR-ZIP --key FORCE-PUBLIC-KEY.pub

It checks every hash, the signature and any timestamp, re-ingests the inputs into a
temporary workspace, re-runs the analysis and the report with the recorded parameters and
compares every output byte for byte, and re-derives each occasion's device periods with an
independent implementation (pymeos). The key to the report's labels is not in the bundle.
To check the audit head, ask the force to show that its audit log still holds entry {seq}
with hash {head}.
"""


@dataclass(frozen=True)
class BundleOptions:
    """How a bundle is made; everything but the key and TSA is recorded in it."""

    key: Path
    sources: list[Path] = field(default_factory=list)
    max_source_mb: float = DEFAULT_MAX_SOURCE_MB
    tsa_url: str | None = None
    tsa_cert: Path | None = None  # the authority's root certificate (PEM), kept in the bundle
    exhibit: str | None = None
    dated: bool = False
    label_style: str = "pc"
    marking: str = "OFFICIAL-SENSITIVE"
    sign_pdf: bool = False  # also the report's PDF signed (PAdES, pyHanko)


@dataclass(frozen=True)
class BundleResult:
    """What `make_bundle` wrote."""

    path: Path
    files: int
    inputs: dict[str, int]  # form -> count
    audit_head: dict[str, Any]
    key_id: str
    timestamped: bool


def _json(obj: object) -> bytes:
    return (
        json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    ).encode()


def _audited_export(
    workspace: Path, case_ref: str, run: caserun.CaseRun, user: str | None
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """Check and audit the export of the run's location data (as `user`, default the
    current one); the audit head after it, the case's entries and who produced the bundle."""
    from whereabouts.case import CaseStore

    store = CaseStore.open(workspace)
    try:
        who = store.current_user(user or None)
        store.record_read(
            who,
            case_ref,
            run.subjects,
            run.start,
            run.end,
            what="bundle",
            action="export",
            run=run.folder.name,
        )
        return (caserun.audit_head(store), caserun.audit_entries(store, case_ref), who.username)
    finally:
        store.close()


def _bag_info(
    case_ref: str, run_name: str, head: dict[str, Any], options: BundleOptions
) -> dict[str, str]:
    """The bag-info.txt fields: source, case, description, audit head, exhibit, date."""
    info = {
        "Source-Organization": "whereabouts evidence bundle",
        "External-Identifier": case_ref,
        "External-Description": f"case {case_ref}: inputs, parameters, outputs, "
        f"software and audit of run {run_name}",
        "Audit-Head": f"{head['seq']} {head['hash']}",
    }
    if options.exhibit:
        info["Exhibit-Reference"] = options.exhibit
    if options.dated:
        info["Bagging-Date"] = datetime.now(UTC).date().isoformat()
    return info


def _timestamp(folder: Path, options: BundleOptions, tags: dict[str, bytes]) -> bool:
    """Timestamp the bag's tag manifest at the TSA, if one is given; whether it was."""
    if not options.tsa_url:
        return False
    from whereabouts.evidence.timestamp import request_timestamp, verify_timestamp

    manifest = (folder / bag.TAGMANIFEST).read_bytes()
    token = request_timestamp(options.tsa_url, manifest)
    if options.tsa_cert is not None:  # a token that will not verify is refused now
        verify_timestamp(token, manifest, [tags[TSA_CERT_FILE]])
    (folder / TIMESTAMP_FILE).write_bytes(token)
    return True


def _place(folder: Path, out: Path) -> None:
    """Move the finished bag to `out`: zipped when `out` ends in .zip, else as a folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".zip":
        partial = out.with_name(out.name + ".partial")
        bag.zip_bag(folder, partial, top=out.stem)
        partial.replace(out)
    else:
        if out.is_dir():
            out.rmdir()  # an empty folder given as the target
        shutil.move(str(folder), out)


def make_bundle(
    workspace: Path, case_ref: str, out: Path, options: BundleOptions, *, user: str | None = ""
) -> BundleResult:
    """Seal the case's latest run into `out` (a new folder, or a .zip file)."""
    from whereabouts.store import Workspace

    out = Path(out)
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise ParameterError(f"{out} exists already", hint="give a new folder or .zip name")
    signer = keys.load_private(options.key)  # a bad key is refused before anything is read
    if options.max_source_mb < 0:
        raise ParameterError("--max-source-mb must be zero or more", hint="e.g. 200")
    ws = Workspace.open(workspace)
    run = caserun.case_run(Path(workspace), case_ref)
    head, entries, producer = _audited_export(Path(workspace), case_ref, run, user)
    with tempfile.TemporaryDirectory(prefix="wa-bundle-") as tmp:
        scratch = Path(tmp)
        entries_in = run_entries(ws.manifest, run)
        originals = find_originals(options.sources, entries_in)
        planned = plan_inputs(
            ws, run, entries_in, originals, int(options.max_source_mb * 1e6), scratch
        )
        report_opts = {
            "label_style": options.label_style,
            "marking": options.marking,
            "exhibit": {
                "reference": options.exhibit,
                "producer": producer,
                "audit_head": head,
                "key_id": keys.key_id(signer.public_key()),
                "dated": datetime.now(UTC).strftime("%d/%m/%Y %H:%M:%S UTC")
                if options.dated
                else None,
            },
        }
        record = render_report(
            Path(workspace), run.folder, case_ref, report_opts, scratch / "report"
        )
        payload: dict[str, Path | bytes] = {}
        for item in planned:
            payload[item.name] = item.path
        for name, path in run.outputs.items():
            payload[f"outputs/run/{name}"] = path
        for name in ("report.html", "report.pdf"):
            payload[f"outputs/report/{name}"] = scratch / "report" / name
        if options.sign_pdf:
            from whereabouts.evidence.pades import sign_pdf

            signed, cert = sign_pdf((scratch / "report" / "report.pdf").read_bytes(), signer)
            payload[f"outputs/{SIGNED_PDF}"] = signed
            payload[PDF_CERT] = cert
        parameters = {
            "case": case_ref,
            "run": run.folder.name,
            "subjects": run.subjects,
            "period": dict(run.summary["period"]),
            "analysis": run.parameters,
            "baseline": run.baseline,
            "report": report_opts,
            "workspace": {
                "name": Path(workspace).resolve().name,
                "crs": ws.crs,
                "timezone": ws.timezone,
            },
        }
        soft = software()
        payload["parameters.json"] = _json(parameters)
        payload["software.json"] = _json(soft)
        payload["workspace/workspace.json"] = _json({"crs": ws.crs, "timezone": ws.timezone})
        payload["workspace/manifest.json"] = _json(
            {"inputs": [_with_span(ws, item) for item in planned]}
        )
        payload["case/record.json"] = _json(record)
        payload["audit/entries.json"] = _json(entries)
        payload["audit/head.json"] = _json(head)
        payload["README.txt"] = README.format(
            case=case_ref, version=__version__, seq=head["seq"], head=head["hash"]
        ).encode()
        digests = {item.name: file_sha256(item.path) for item in planned}
        payload["inputs/inputs.json"] = _json([item.record(digests[item.name]) for item in planned])
        body = _statement(payload, planned, parameters, soft, head, run.summary.get("software"))
        envelope = statement.sign(body, signer)
        folder = scratch / "bag"  # moved into place only when complete
        info = _bag_info(case_ref, run.folder.name, head, options)
        tags = {STATEMENT_FILE: envelope, PUBLIC_FILE: keys.public_pem(signer.public_key())}
        if options.tsa_cert is not None:
            tags[TSA_CERT_FILE] = Path(options.tsa_cert).read_bytes()
        written = bag.write_bag(folder, payload, info=info, tags=tags)
        stamped = _timestamp(folder, options, tags)
        _place(folder, out)
        forms = dict(Counter(item.form for item in planned))
        return BundleResult(
            out, len(written), forms, head, keys.key_id(signer.public_key()), stamped
        )


def _with_span(workspace: Workspace, item: BundledInput) -> dict[str, Any]:
    """The manifest entry of an input; for one bundled as rows, with the whole file's time
    span, which the report states and the rows alone would not give."""
    from whereabouts.report.sources import time_bounds

    entry = dict(item.entry)
    if item.form == "rows":
        bounds = time_bounds(workspace, str(entry["kind"]), str(entry["file_id"]))
        if bounds is not None:
            entry["time_span"] = [bounds[0].isoformat(), bounds[1].isoformat()]
    return entry


def _statement(
    payload: dict[str, Path | bytes],
    planned: list[Any],
    parameters: dict[str, Any],
    soft: dict[str, Any],
    head: dict[str, Any],
    ran: dict[str, Any] | None,
) -> dict[str, Any]:
    """The in-toto Statement: outputs as subjects; inputs, parameters, software (that made
    the bundle, and the run's record of what ran it), audit head and every other bundled
    file (with digests) in the predicate."""
    soft_digest = packages_sha256(soft["packages"])
    run_soft = (
        None
        if not isinstance(ran, dict)
        else {
            "whereabouts": ran.get("whereabouts"),
            "python": ran.get("python"),
            "packages": len(ran.get("packages") or {}),
            "packages_sha256": ran.get("packages_sha256"),
            "recordedIn": "data/outputs/run/summary.json",
        }
    )
    digests = {
        name: (bag.sha256_bytes(src) if isinstance(src, bytes) else file_sha256(src))
        for name, src in payload.items()
    }
    subjects = {f"data/{n}": d for n, d in digests.items() if n.startswith("outputs/")}
    inputs = [
        {
            "name": item.entry.get("name"),
            "kind": item.entry.get("kind"),
            "digest": {"sha256": item.entry.get("sha256")},
            "form": item.form,
            "bundled": {"name": f"data/{item.name}", "digest": {"sha256": digests[item.name]}},
        }
        for item in planned
    ]
    known = {item.name for item in planned} | {n for n in digests if n.startswith("outputs/")}
    return statement.statement(
        subjects,
        {
            "case": parameters["case"],
            "inputs": inputs,
            "parameters": parameters,
            "software": {
                "whereabouts": soft["whereabouts"],
                "python": soft["python"],
                "packages": len(soft["packages"]),
                "packages_sha256": soft_digest,
                "run": run_soft,
            },
            "auditHead": head,
            "files": {
                f"data/{n}": {"sha256": d} for n, d in sorted(digests.items()) if n not in known
            },
        },
    )


__all__ = ["BundleOptions", "BundleResult", "make_bundle"]
