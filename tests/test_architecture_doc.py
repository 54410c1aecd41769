"""docs/architecture.md's signatures are the code's: every `name(params)` it quotes for a
function or class of whereabouts names parameters the code has, in the code's order, on the
right side of `*`, with the code's default where it states a plain one (None, True, False,
a number) (inspect.signature; a quoted call the test cannot find fails it too, unless it is
listed below as not a whereabouts callable)."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
CALL = re.compile(r"`([A-Za-z_][\w.]*)\(([^`]*)\)(?:\s*->\s*[^`]*)?`", re.S)
# What a quoted name stands for when it is an instance or a short name in the text.
ALIASES = {
    "ws": "store.workspace.Workspace",
    "Workspace": "store.workspace.Workspace",
    "store.audit": "case.audit.AuditLog",
    "AuditLog": "case.audit.AuditLog",
    "store": "case.store.CaseStore",
    "CaseStore": "case.store.CaseStore",
    "m": "case.misconduct.MisconductRecord",
    "case": "case.cases.Case",
    "run": "store.runs.Run",
    "Run": "store.runs.Run",
    "RunStore": "store.runs.RunStore",
    "RunWriter": "store.runs.RunWriter",
    "IngestReport": "store.workspace.IngestReport",
    "WebSessions": "case.sessions.WebSessions",
    "users": "case.users",
    "whereabouts": "",
}
# Quoted calls that are not whereabouts callables (another library's, SQL, or prose).
NOT_OURS = {
    "dataclasses.field",
    "tgeo_split_each_n_stboxes",
    "RunStore",
    "create",
    "get",
    "drop",
    "check",
    "failures",
    "add_failure",
    "clear_failures",
    "csrf_for",
    "drop_user",
}


def _resolve(name: str) -> Any:
    found = _dotted(name)
    if found is not None:
        return found
    for alias in sorted(ALIASES, key=len, reverse=True):
        if name == alias or name.startswith(alias + "."):
            return _dotted((ALIASES[alias] + name[len(alias) :]).lstrip("."))
    return _by_name(name)


def _dotted(name: str) -> Any:
    """whereabouts.<name>: a module's attribute, or a module's function of its own name."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module("whereabouts." + ".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
        if inspect.ismodule(obj):
            obj = getattr(obj, parts[-1], None)
        return obj if callable(obj) else None  # (not `annotations`, the __future__ feature)
    return None


def _by_name(name: str) -> Any:
    """A bare function name: the one public callable of that name the package exports."""
    import whereabouts

    for owner in (
        "whereabouts",
        "whereabouts.report",
        "whereabouts.evidence",
        "whereabouts.web",
        "whereabouts.exports",
        "whereabouts.engine",
        "whereabouts.basemap",
        "whereabouts.analysis.labelling",
        "whereabouts.engine.encounters",
        "whereabouts.report.build",
        "whereabouts.web.app",
        "whereabouts.basemap.layer",
        "whereabouts.evidence.verify",
        "whereabouts.evidence.keys",
        "whereabouts.io.lip",
        "whereabouts.case.store",
    ):
        module = importlib.import_module(owner)
        found = getattr(module, name, None) or getattr(
            getattr(module, "CaseStore", None), name, None
        )
        if found is not None:
            return found
    return getattr(whereabouts, name, None)


def _split(args: str) -> list[str]:
    """Top-level comma-separated items (commas inside brackets or quotes kept)."""
    items, depth, cur, quote = [], 0, "", ""
    for ch in args:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
            continue
        cur += ch
    items.append(cur.strip())
    return [" ".join(i.split()) for i in items if i.strip()]


def _problems(name: str, args: str, fn: Callable[..., Any]) -> list[str]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
    names = [p.name for p in params]
    out, last, star = [], -1, False
    for item in _split(args):
        if item in ("...", "…") or item.startswith(("…", "...")):
            last = max(last, 0)
            continue
        if item == "*":
            star = True
            continue
        m = re.fullmatch(r"(\w+)\s*(?::[^=]*)?(?:=(.*))?", item)
        if not m or m.group(1) not in names:
            if (
                m
                and "=" in item
                and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
            ):
                # a keyword the code does not have
                out.append(f"{name}: no parameter {m.group(1)!r} (has {names})")
            continue  # a value shown in place of a positional parameter
        p = params[names.index(m.group(1))]
        kw_only = p.kind is inspect.Parameter.KEYWORD_ONLY
        i = names.index(p.name)
        if i < last and not kw_only:  # keyword-only ones may come in any order
            out.append(f"{name}: {p.name!r} is out of the code's order {names}")
        last = max(last, i)
        if star and not kw_only:
            out.append(f"{name}: {p.name!r} is after * in the doc, not keyword-only in the code")
        value = (m.group(2) or "").strip()
        plain = value in ("None", "True", "False") or re.fullmatch(r"-?\d+(\.\d+)?", value)
        # (workers=2 is quoted as a choice, not as the default)
        if (
            plain
            and p.name != "workers"
            and p.default is not inspect.Parameter.empty
            and p.default != ast.literal_eval(value)
        ):
            out.append(f"{name}: {p.name}={value} in the doc, {p.default!r} in the code")
    return out


def test_the_architecture_docs_signatures_are_the_codes() -> None:
    text = DOC.read_text(encoding="utf-8")
    problems, checked = _check(text)
    assert checked >= 80, checked
    assert problems == []


def test_a_changed_signature_is_caught() -> None:
    text = (
        "`io.read.read(kind, path, *, profile=None, device_id=None, timezone=None) -> R`, "
        "`io.read.read(path, kind)`, `io.read.read(kind, path, profile=1)`, "
        "`io.read.read(kind, path, colour=None)`, `io.read.gone(path)`"
    )
    problems, checked = _check(text)
    assert checked == 4 and len(problems) == 4, problems
    assert [p.split(":")[0] for p in problems] == ["io.read.read"] * 3 + ["io.read.gone"]


def _check(text: str) -> tuple[list[str], int]:
    problems: list[str] = []
    checked = 0
    for m in CALL.finditer(text):
        name, args = m.group(1), m.group(2)
        if name in NOT_OURS or name.split(".")[-1] in NOT_OURS:
            continue
        fn = _resolve(name)
        if fn is None or not callable(fn):
            problems.append(f"{name}: not found in whereabouts (renamed or removed?)")
            continue
        checked += 1
        problems += _problems(name, args, fn)
    return problems, checked
