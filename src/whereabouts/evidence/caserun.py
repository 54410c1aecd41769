"""The one door from the evidence layer to the case's run and its audit (an adapter).

A bundle needs: the case's latest complete run (its folder, outputs and recorded
parameters), the case's audit entries and the audit head. Only this module knows where
those come from, so a change in the run store or the audit anchor is a change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whereabouts.errors import NoDataError

if TYPE_CHECKING:
    from whereabouts.case.store import CaseStore

# Files of a run that are never bundled: the key to the labels stays apart.
NEVER_BUNDLED = ("report-key.csv",)


@dataclass(frozen=True)
class CaseRun:
    """One complete analysis run of a case, as the bundle takes it."""

    case_ref: str
    folder: Path
    summary: dict[str, Any]
    outputs: dict[str, Path]  # name in the run (forward slashes) -> file

    @property
    def subjects(self) -> list[str]:
        """The run's subjects' officer ids, sorted."""
        subj = self.summary.get("subjects") or []
        return sorted(str(s["officer_id"]) if isinstance(s, dict) else str(s) for s in subj)

    @property
    def start(self) -> datetime:
        """The start of the run's period."""
        return datetime.fromisoformat(str(self.summary["period"]["start"]))

    @property
    def end(self) -> datetime:
        """The end of the run's period."""
        return datetime.fromisoformat(str(self.summary["period"]["end"]))

    @property
    def parameters(self) -> dict[str, Any]:
        """The run's analysis settings as recorded."""
        return dict(self.summary.get("params") or {})

    @property
    def baseline(self) -> str:
        """The baseline group asked for (team, station or none), read from the summary."""
        base = self.summary.get("baseline") or {}
        group, note = str(base.get("group") or "none"), str(base.get("note") or "")
        for kind in ("team", "station"):
            if group.startswith(f"{kind} ") or f"subjects' {kind}" in note:
                return kind
        return "none"


def case_run(workspace: Path, case_ref: str) -> CaseRun:
    """The case's current run (the run store's), every file but the report and its key."""
    import json

    from whereabouts.store.runs import RunStore

    folder = RunStore(Path(workspace)).current(case_ref).path
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    if not (summary.get("period") or {}).get("start"):
        raise NoDataError(
            f"the run {folder.name} of case {case_ref} states no period",
            hint=f"re-run `whereabouts investigate WS --case {case_ref}`",
        )
    outputs = {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and p.name not in NEVER_BUNDLED
        and p.relative_to(folder).parts[0] != "report"
    }
    return CaseRun(case_ref, folder, summary, outputs)


def audit_head(store: CaseStore) -> dict[str, Any]:
    """The audit chain's head (the anchor): {"seq", "hash", "statement"}."""
    anchor = store.audit.anchor()
    return {"seq": int(anchor.seq), "hash": str(anchor.hash), "statement": anchor.statement}


def audit_entries(store: CaseStore, case_ref: str) -> list[dict[str, Any]]:
    """The case's audit entries in order, as JSON-ready dicts (time as UTC ISO text)."""
    from whereabouts.case.audit import _at_text

    out = []
    for e in store.audit.entries(case_ref=case_ref):
        out.append(
            {
                "seq": int(e["seq"]),
                "at": _at_text(e["at"]),
                "actor": e["actor"],
                "action": e["action"],
                "case_ref": e["case_ref"],
                "detail": e["detail"],
                "prev_hash": e["prev_hash"],
                "hash": e["hash"],
            }
        )
    return out


def check_entries(entries: list[dict[str, Any]]) -> list[str]:
    """Problems of bundled audit entries: each must hash to its recorded hash from its
    recorded previous hash (the links to entries of other cases cannot be followed here)."""
    from whereabouts.case.audit import canonical, entry_hash

    problems = []
    for e in entries:
        try:
            at = datetime.fromisoformat(str(e["at"]).replace("Z", "+00:00"))
            digest = entry_hash(
                str(e["prev_hash"]),
                at,
                str(e["actor"]),
                str(e["action"]),
                e.get("case_ref"),
                canonical(e["detail"]),
            )
        except (KeyError, ValueError, TypeError):
            problems.append(f"entry {e.get('seq', '?')} cannot be read")
            continue
        if digest != e.get("hash"):
            problems.append(f"entry {e.get('seq')} does not match its hash (edited)")
    return problems


__all__ = ["NEVER_BUNDLED", "CaseRun", "audit_entries", "audit_head", "case_run", "check_entries"]
