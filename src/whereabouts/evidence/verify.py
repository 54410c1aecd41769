"""`verify_bundle`: check a bundle offline, item by item, in plain words.

    result = verify_bundle(Path("bundle.zip"), key=Path("force.pub"))
    for item in result.items: print(item.line())
    result.ok   # True only when every item holds

Checks, in order: the bag is complete and every file matches its hash; the statement's
signature holds (with the force's public key) and names every bundled file with its hash;
the RFC 3161 timestamp (if any) is over the tag manifest; the audit entries match their
hashes and the audit head is stated; the inputs re-ingest into a temporary workspace with
the recorded counts; the analysis and the report re-run with the recorded parameters give
every output byte for byte; pymeos re-derives each occasion's device periods.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from whereabouts.errors import WhereaboutsError
from whereabouts.evidence import bag, caserun, keys, statement
from whereabouts.evidence.bundle import (
    PDF_CERT,
    PUBLIC_FILE,
    SIGNED_PDF,
    STATEMENT_FILE,
    TIMESTAMP_FILE,
    TSA_CERT_FILE,
)
from whereabouts.evidence.rerun import (
    BundleContentError,
    read_json,
    rebuild_workspace,
    render_report,
    rerun_analysis,
)

Verdict = Literal["holds", "fails", "note"]


@dataclass(frozen=True)
class Item:
    """One thing checked and what was found."""

    what: str
    verdict: Verdict
    words: str

    def line(self) -> str:
        """The item as one line of the verification's output."""
        mark = {"holds": "HOLDS", "fails": "FAILS", "note": "NOTE "}[self.verdict]
        return f"{mark}  {self.what}: {self.words}"


@dataclass
class Verification:
    """Every item checked; `ok` when none fails."""

    items: list[Item] = field(default_factory=list)
    first_difference: str | None = None

    @property
    def ok(self) -> bool:
        """Whether anything was checked and nothing failed."""
        return bool(self.items) and all(i.verdict != "fails" for i in self.items)

    def add(self, what: str, verdict: Verdict, words: str) -> None:
        """Record the outcome of one check."""
        self.items.append(Item(what, verdict, words))

    def failures(self) -> list[Item]:
        """The checks that failed."""
        return [i for i in self.items if i.verdict == "fails"]


def verify_bundle(
    path: Path,
    *,
    key: Path | None = None,
    tsa_roots: list[Path] | None = None,
    rerun: bool = True,
    oracle: bool = True,
) -> Verification:
    """Check the bundle at `path` (a folder or a .zip); nothing is read from elsewhere."""
    path = Path(path)
    result = Verification()
    with tempfile.TemporaryDirectory(prefix="wa-verify-") as tmp:
        if path.is_file():
            root = bag.unzip_bag(path, Path(tmp) / "bundle")
        elif (path / "bagit.txt").exists() or (path / bag.MANIFEST).exists():
            root = path
        else:
            raise bag.BagError(
                f"{path} is not a bundle (no bagit.txt)",
                hint="give the folder or .zip made by `whereabouts bundle`",
            )
        _check_bag(root, result)
        body = _check_signature(root, key, result)
        _check_timestamp(root, tsa_roots or [], result)
        _check_audit(root, body, result)
        _check_software(root, result)
        _check_signed_pdf(root, result)
        if rerun:
            _check_rerun(root, Path(tmp) / "rerun", result, oracle=oracle)
    return result


def _check_bag(root: Path, result: Verification) -> None:
    problems = bag.check_bag(root)
    if not problems:
        n = sum(1 for _ in (root / "data").rglob("*") if _.is_file())
        result.add(
            "bag",
            "holds",
            f"complete: {n} files, each matching its SHA-256 in the "
            "manifest; the tag files match the tag manifest",
        )
    for p in problems:
        result.add(f"file {p.path}", "fails", p.what)


def _check_signature(root: Path, key: Path | None, result: Verification) -> dict[str, Any] | None:
    envelope = root / STATEMENT_FILE
    if not envelope.is_file():
        result.add("signature", "fails", f"the bundle has no {STATEMENT_FILE}")
        return None
    try:
        if key is not None:
            public = keys.load_public(key)
            source = f"the key given ({key.name})"
        else:
            public = keys.parse_public((root / PUBLIC_FILE).read_bytes(), PUBLIC_FILE)
            source = (
                "the copy of the key inside the bundle — this shows the bundle is intact "
                "since signing, not who signed it: give --key with the force's published "
                "public key"
            )
        body = statement.verify(envelope.read_bytes(), public, STATEMENT_FILE)
    except (statement.StatementError, keys.SigningKeyError, FileNotFoundError) as exc:
        msg = exc.message if isinstance(exc, WhereaboutsError) else f"{PUBLIC_FILE} is missing"
        result.add("signature", "fails", msg)
        return None
    result.add(
        "signature",
        "holds",
        f"the statement is signed by key {keys.key_id(public)[:16]}…, checked against {source}",
    )
    # Every payload file is named in the signed statement with the hash it has now.
    named: dict[str, str] = {s["name"]: s["digest"]["sha256"] for s in body.get("subject", [])}
    pred = body.get("predicate") or {}
    for i in pred.get("inputs", []):
        named[i["bundled"]["name"]] = i["bundled"]["digest"]["sha256"]
    for name, d in (pred.get("files") or {}).items():
        named[name] = d["sha256"]
    listed = bag.read_manifest(root / bag.MANIFEST, [], root)
    bad = sorted(n for n in set(listed) | set(named) if listed.get(n) != named.get(n))
    if bad:
        for n in bad:
            result.add(
                f"file {n}",
                "fails",
                "its hash differs from the one in the signed statement"
                if n in named and n in listed
                else "not named in the signed statement"
                if n in listed
                else "named in the signed statement but not in the bag",
            )
    else:
        result.add(
            "statement",
            "holds",
            f"names all {len(listed)} bundled files with the "
            "hashes they have; its subjects are the "
            f"{len(body.get('subject', []))} outputs",
        )
    return body


def _check_timestamp(root: Path, roots: list[Path], result: Verification) -> None:
    token = root / TIMESTAMP_FILE
    if not token.is_file():
        result.add(
            "timestamp",
            "note",
            "the bundle carries no RFC 3161 timestamp; its time rests on the audit log",
        )
        return
    from whereabouts.evidence.timestamp import TimestampError, verify_timestamp

    carried = root / TSA_CERT_FILE
    try:
        given = [p.read_bytes() for p in roots]
        info = verify_timestamp(
            token.read_bytes(),
            (root / bag.TAGMANIFEST).read_bytes(),
            given or ([carried.read_bytes()] if carried.is_file() else []),
        )
    except (TimestampError, OSError) as exc:
        result.add("timestamp", "fails", getattr(exc, "message", str(exc)))
        return
    trust = (
        "chained to the root certificate given"
        if given
        else "chained to the root certificate carried in the bundle — this shows the tag "
        "manifest is unchanged since stamping, not who the authority is: give "
        "--tsa-cert with the authority's published root"
    )
    result.add(
        "timestamp",
        "holds",
        f"the tag manifest existed at "
        f"{info.time.isoformat()} according to {info.authority} (serial "
        f"{info.serial}); {trust}",
    )


def _check_audit(root: Path, body: dict[str, Any] | None, result: Verification) -> None:
    try:
        entries = read_json(root, "audit/entries.json")
        head = read_json(root, "audit/head.json")
    except BundleContentError as exc:
        result.add("audit", "fails", exc.message)
        return
    problems = caserun.check_entries(entries)
    stated = ((body or {}).get("predicate") or {}).get("auditHead")
    if body is not None and stated != head:
        problems.append("the audit head in audit/head.json is not the one signed")
    if problems:
        result.add("audit", "fails", "; ".join(problems))
        return
    result.add(
        "audit",
        "holds",
        f"{len(entries)} audit entries of the case, each matching "
        f"its hash; made at audit head seq {head['seq']}, hash {head['hash']} — ask "
        "the force to show its log still holds that entry",
    )


def _run_software(root: Path) -> dict[str, Any] | None:
    """The software record of the bundled run's summary (None before summary format 2)."""
    try:
        summary = read_json(root, "outputs/run/summary.json")
    except BundleContentError:
        return None
    soft = summary.get("software") if isinstance(summary, dict) else None
    return soft if isinstance(soft, dict) else None


def _check_software(root: Path, result: Verification) -> None:
    """The software that ran the analysis (the run's summary) and made the bundle
    (software.json), each against the software verifying now."""
    from whereabouts.store.software import differences, run_record

    try:
        bundling = read_json(root, "software.json")
    except BundleContentError as exc:
        result.add("software", "fails", exc.message)
        return
    now = run_record()
    ran = _run_software(root)
    if ran is None:
        diff = differences(bundling, now, made="made the bundle", here="this verifier is")
        result.add(
            "software",
            "note",
            "the run did not record the software that ran it "
            "(made before whereabouts recorded it in the run summary); compared with "
            "the software that made the bundle instead: "
            + ("; ".join(diff) if diff else "the same as this verifier"),
        )
        return
    w = ran.get("whereabouts") or {}
    diff = differences(ran, now, made="ran the analysis", here="this verifier is")
    if diff:
        result.add(
            "software",
            "note",
            "the software verifying differs from the software "
            "that ran the analysis: " + "; ".join(diff) + " — the re-run below shows "
            "whether the outputs still come out the same",
        )
    else:
        result.add(
            "software",
            "holds",
            f"the analysis ran with the same software as this "
            f"verifier: whereabouts {w.get('version')} (source "
            f"{str(w.get('source_sha256'))[:16]}…), Python {ran.get('python')} and "
            f"the same {len(ran.get('packages') or {})} package versions and files",
        )
    made = differences(ran, bundling, made="ran the analysis", here="the bundle was made by")
    if made:
        result.add(
            "software of the bundle",
            "note",
            "the bundle and its report were made "
            "by other software than ran the analysis: " + "; ".join(made),
        )


def same_but_software(bundled: bytes, remade: bytes) -> bool:
    """Whether two summary.json texts are the same bytes once the re-run's record of the
    software is replaced by the bundled one."""
    from whereabouts.store.runs import RunSummary

    try:
        a, b = json.loads(bundled), json.loads(remade)
        if not (isinstance(a, dict) and isinstance(b, dict)) or a.get("software") == b.get(
            "software"
        ):
            return False
        swapped = RunSummary.from_json({**b, "software": a.get("software")})
    except (ValueError, WhereaboutsError):
        return False
    return swapped.to_text().encode() == bundled


def _check_rerun(root: Path, work: Path, result: Verification, *, oracle: bool) -> None:
    try:
        ws_dir, checks = rebuild_workspace(root, work)
    except (BundleContentError, WhereaboutsError, FileNotFoundError) as exc:
        result.add("re-ingest", "fails", getattr(exc, "message", str(exc)))
        return
    for c in checks:
        result.add(f"input {c.name}", "holds" if c.ok else "fails", c.detail)
    if not all(c.ok for c in checks):
        result.add("re-run", "fails", "not attempted: an input is not as recorded")
        return
    params = read_json(root, "parameters.json")
    try:
        run_dir = rerun_analysis(root, ws_dir)
        record = read_json(root, "case/record.json")
        render_report(
            ws_dir, run_dir, str(params["case"]), params["report"], work / "report", record
        )
    except WhereaboutsError as exc:
        result.add("re-run", "fails", f"the analysis could not be re-run: {exc.message}")
        return
    bundled = {
        p.relative_to(root / "data" / "outputs").as_posix(): p
        for p in sorted((root / "data" / "outputs").rglob("*"))
        if p.is_file()
    }
    made = {
        f"run/{p.relative_to(run_dir).as_posix()}": p
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }
    made |= {f"report/{n}": work / "report" / n for n in ("report.html", "report.pdf")}
    bundled.pop(SIGNED_PDF, None)  # checked against the bundled PDF (_check_signed_pdf)
    for name, path in bundled.items():
        other = made.get(name)
        if other is None:
            result.add(f"output {name}", "fails", "the re-run did not produce it")
            result.first_difference = result.first_difference or name
            continue
        a, b = path.read_bytes(), other.read_bytes()
        if a == b:
            result.add(f"output {name}", "holds", f"identical byte for byte ({len(a)} bytes)")
        elif name == "run/summary.json" and same_but_software(a, b):
            result.add(
                f"output {name}",
                "holds",
                "identical byte for byte but for its record "
                "of the software, which is this verifier's (see 'software')",
            )
        else:
            at = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)),
            )
            result.add(
                f"output {name}",
                "fails",
                f"the re-run differs from byte {at} (bundled {len(a)} bytes, re-run {len(b)})",
            )
            result.first_difference = result.first_difference or name
    for name in sorted(set(made) - set(bundled)):
        result.add(f"output {name}", "note", "made by the re-run but not in the bundle")
    if oracle:
        _check_oracle(root, ws_dir, params, result)


def _check_signed_pdf(root: Path, result: Verification) -> None:
    from whereabouts.evidence.pades import PadesError, verify_pdf

    signed = root / "data" / "outputs" / SIGNED_PDF
    if not signed.is_file():
        return
    remade = root / "data" / "outputs" / "report" / "report.pdf"
    try:
        public = keys.parse_public((root / PUBLIC_FILE).read_bytes(), PUBLIC_FILE)
        words = verify_pdf(
            signed.read_bytes(),
            remade.read_bytes(),
            (root / "data" / PDF_CERT).read_bytes(),
            public,
        )
    except (PadesError, keys.SigningKeyError, OSError) as exc:
        result.add(f"output {SIGNED_PDF}", "fails", getattr(exc, "message", str(exc)))
        return
    result.add(f"output {SIGNED_PDF}", "holds", words)


def _check_oracle(root: Path, ws_dir: Path, params: dict[str, Any], result: Verification) -> None:
    import pyarrow.parquet as pq

    from whereabouts.evidence.oracle import OracleMissing, check_occasions
    from whereabouts.store import Workspace

    occ_path = root / "data" / "outputs" / "run" / "occasions.parquet"
    if not occ_path.is_file():
        result.add("independent check", "fails", "the bundle has no occasions.parquet")
        return
    occasions = pq.read_table(occ_path)
    ws = Workspace.open(ws_dir)
    assignments = ws.table("assignments")
    fixes = ws.fixes(
        devices=sorted(
            {str(d) for d in assignments.column("device_id").to_pylist() if d is not None}
        )
    )
    try:
        checks = check_occasions(fixes, assignments, occasions, params["analysis"], ws.crs)
    except OracleMissing as exc:
        result.add("independent check", "fails", str(exc))
        return
    if not checks:
        result.add("independent check", "note", "the run found no occasions to check")
    for c in checks:
        result.add(
            f"occasion {c.occasion_id}",
            "holds" if c.agree else "fails",
            ("engine and pymeos agree: " if c.agree else "engine and pymeos disagree: ") + c.detail,
        )


def summary_line(result: Verification) -> str:
    """The overall verdict in one sentence."""
    if result.ok:
        return f"VERDICT: every check holds ({len(result.items)} items)."
    bad = result.failures()
    first = (
        f"; the first differing output is {result.first_difference}"
        if result.first_difference
        else ""
    )
    return f"VERDICT: {len(bad)} of {len(result.items)} checks fail (first: {bad[0].what}){first}."


def as_json(result: Verification) -> str:
    """The items as JSON (for tools)."""
    return json.dumps(
        {
            "ok": result.ok,
            "first_difference": result.first_difference,
            "items": [i.__dict__ for i in result.items],
        },
        indent=1,
    )


__all__ = ["Item", "Verification", "as_json", "same_but_software", "summary_line", "verify_bundle"]
