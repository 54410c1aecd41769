"""Re-build a bundle's workspace from its inputs and re-run its analysis and report.

Used by `whereabouts verify` (in a temporary folder) and by the validation report's
reproducibility test. The report of a bundle is rendered by `render_report` both when the
bundle is made and when it is checked, so the two are the same code.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from whereabouts import __version__
from whereabouts.errors import WhereaboutsError
from whereabouts.io.files import file_sha256

BUNDLE_HOW = (
    "Written by whereabouts {version} from the analysis results fingerprinted in "
    "section 13, and sealed with its inputs, settings, results, software list and "
    "the case's audit entries in an evidence bundle signed with the force's key "
    "{key}…; `whereabouts verify` checks that bundle and re-runs it offline, "
    "comparing every result byte for byte."
)


class BundleContentError(WhereaboutsError):
    """A file the re-run needs is missing or unreadable in the bundle."""


@dataclass(frozen=True)
class InputCheck:
    """What happened to one bundled input on re-ingest."""

    name: str
    form: str  # original | rows
    ok: bool
    detail: str


def read_json(root: Path, rel: str) -> Any:  # noqa: ANN401  # any JSON value
    """A JSON file of the bundle's payload, or a BundleContentError naming it."""
    path = root / "data" / rel
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BundleContentError(
            f"the bundle has no data/{rel}", hint="the bundle is incomplete; ask for a fresh copy"
        ) from exc
    except (OSError, ValueError) as exc:
        raise BundleContentError(
            f"data/{rel} in the bundle cannot be read as JSON",
            hint="the file was changed; ask for a fresh copy",
        ) from exc


def rebuild_workspace(root: Path, into: Path) -> tuple[Path, list[InputCheck]]:
    """A new workspace under `into` (named as the original) holding the bundle's inputs:
    originals re-ingested with their recorded kind, profile, device and time zone, rows
    placed as ingested; the workspace's record of inputs restored as bundled."""
    from whereabouts.store import Workspace

    params = read_json(root, "parameters.json")
    meta = read_json(root, "workspace/workspace.json")
    manifest = read_json(root, "workspace/manifest.json")
    records = read_json(root, "inputs/inputs.json")
    ws_dir = Path(into) / str(params["workspace"]["name"])
    ws = Workspace.init(ws_dir, crs=str(meta["crs"]), timezone=str(meta["timezone"]))
    checks: list[InputCheck] = []
    for rec in records:
        source = root / "data" / str(rec["bundled"])
        name = str(rec["name"])
        if rec["form"] == "original":
            digest = file_sha256(source)
            if digest != rec["sha256"]:
                checks.append(
                    InputCheck(
                        name,
                        "original",
                        False,
                        f"its SHA-256 {digest[:16]}… is not the recorded "
                        f"{str(rec['sha256'])[:16]}…",
                    )
                )
                continue
            report = ws.ingest(
                str(rec["kind"]),
                [source],
                profile=rec.get("profile"),
                device_id=rec.get("device_id"),
                timezone=rec.get("timezone"),
            )[0]
            same = report.counts == rec["counts"]
            c = report.counts
            checks.append(
                InputCheck(
                    name,
                    "original",
                    same,
                    f"re-ingested: read {c['read']} = accepted "
                    f"{c['accepted']} + duplicates {c['duplicates']} + "
                    f"quarantined {c['quarantined']}"
                    + ("" if same else f"; recorded {rec['counts']}"),
                )
            )
        else:
            target = ws_dir / "tables" / str(rec["table"]) / f"{rec['file_id']}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            target.chmod(0o444)
            checks.append(
                InputCheck(
                    name,
                    "rows",
                    True,
                    f"{rec.get('rows')} ingested rows placed as bundled "
                    "(the original was not bundled, so its SHA-256 "
                    f"{str(rec['sha256'])[:16]}… cannot be checked)",
                )
            )
    (ws_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return ws_dir, checks


def rerun_analysis(root: Path, ws_dir: Path) -> Path:
    """Run the bundle's recorded analysis in the re-built workspace; returns the run folder."""
    from whereabouts.analysis.investigate import investigate
    from whereabouts.analysis.params import AnalysisParams

    params = read_json(root, "parameters.json")
    out = ws_dir / "runs" / str(params["run"])
    investigate(
        ws_dir,
        list(params["subjects"]),
        datetime.fromisoformat(params["period"]["start"]),
        datetime.fromisoformat(params["period"]["end"]),
        params=AnalysisParams.of(params["analysis"]),
        out_dir=out,
        case=str(params["case"]),
        baseline=params["baseline"],
    )
    return out


def render_report(
    workspace: Path,
    run_dir: Path,
    case_ref: str,
    report: dict[str, Any],
    out: Path,
    record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write out/report.html and report.pdf of a run with the bundle's report options.

    What the report takes from the case record (annotations, whether it is a DEMO case)
    comes from the case store, or, on a re-run, from the bundle's `record`; the facts used
    are returned, for the bundle to keep."""
    import dataclasses

    from whereabouts.report import ReportOptions
    from whereabouts.report.build import Exhibit, render_html
    from whereabouts.report.inputs import Annotation, load_inputs
    from whereabouts.report.pdf import write_pdf

    inp = load_inputs(workspace, run_dir=run_dir, case_ref=case_ref)
    if record is not None:
        inp = dataclasses.replace(
            inp,
            demo=bool(record["demo"]),
            annotations=[
                Annotation(
                    occasion_id=a["occasion_id"],
                    author=a["author"],
                    time=datetime.fromisoformat(a["time"]) if a.get("time") else None,
                    note=a["note"],
                    reason_added=a.get("reason_added"),
                    reason_rejected=a.get("reason_rejected"),
                )
                for a in record["annotations"]
            ],
            annotations_note=record["note"],
        )
    ex = report.get("exhibit") or {}
    head = ex.get("audit_head") or {}
    exhibit = Exhibit(
        reference=ex.get("reference"),
        producer=ex.get("producer"),
        made_at=ex.get("dated"),
        how=BUNDLE_HOW.format(version=__version__, key=str(ex.get("key_id", ""))[:16]),
    )
    options = ReportOptions(
        label_style=report["label_style"],
        marking=report["marking"],
        exhibit=exhibit,
        audit_head=head.get("statement"),
    )
    html, _, _ = render_html(inp, options)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(html, encoding="utf-8")
    write_pdf(html, out / "report.pdf")
    return {
        "annotations": [
            {
                "occasion_id": a.occasion_id,
                "author": a.author,
                "time": a.time.isoformat() if a.time else None,
                "note": a.note,
                "reason_added": a.reason_added,
                "reason_rejected": a.reason_rejected,
            }
            for a in inp.annotations
        ],
        "note": inp.annotations_note,
        "demo": inp.demo,
    }


__all__ = [
    "BundleContentError",
    "InputCheck",
    "read_json",
    "rebuild_workspace",
    "render_report",
    "rerun_analysis",
]
