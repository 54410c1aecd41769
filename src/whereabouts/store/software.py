"""The software identity a bundle records: whereabouts' version and the hash of its own
source files, Python, and every installed distribution with its version and the SHA-256 of
its RECORD (which lists a hash of each installed file)."""

from __future__ import annotations

import hashlib
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from whereabouts import __version__

_SOURCE_SUFFIXES = {".py", ".toml", ".html", ".css", ".js", ".json", ".svg", ".geojson",
                    ".ini", ".mako", ".csv", ".typed"}


def source_sha256() -> str:
    """SHA-256 over the whereabouts package's own files (path and content of each, sorted)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()
                       and p.suffix in _SOURCE_SUFFIXES and "__pycache__" not in p.parts):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _record_sha256(dist: metadata.Distribution) -> str | None:
    text = dist.read_text("RECORD")
    return hashlib.sha256(text.encode()).hexdigest() if text else None


def software() -> dict[str, Any]:
    """What ran: whereabouts (version, source hash), Python, platform, installed packages."""
    packages: dict[str, dict[str, Any]] = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name and name not in packages:
            packages[name] = {"version": dist.version, "record_sha256": _record_sha256(dist)}
    return {
        "whereabouts": {"version": __version__, "source_sha256": source_sha256()},
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": f"{platform.system()} {platform.machine()}",
        "packages": dict(sorted(packages.items())),
    }


def differences(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Plain-words differences between the recorded software and this one."""
    out = []
    a, b = recorded.get("whereabouts") or {}, now.get("whereabouts") or {}
    if a.get("version") != b.get("version"):
        out.append(f"whereabouts {a.get('version')} made the bundle; this is {b.get('version')}")
    elif a.get("source_sha256") != b.get("source_sha256"):
        out.append("whereabouts' source files differ from those that made the bundle")
    if recorded.get("python") != now.get("python"):
        out.append(f"Python {recorded.get('python')} made the bundle; this is {now.get('python')}")
    pa_, pb = recorded.get("packages") or {}, now.get("packages") or {}
    changed = sorted(n for n in pa_ if n in pb and pa_[n].get("version") != pb[n].get("version"))
    missing = sorted(n for n in pa_ if n not in pb)
    if changed:
        out.append("other versions here of " + ", ".join(
            f"{n} ({pa_[n].get('version')} → {pb[n].get('version')})" for n in changed[:8])
            + (f" and {len(changed) - 8} more" if len(changed) > 8 else ""))
    if missing:
        out.append(f"{len(missing)} recorded packages are not installed here "
                   f"({', '.join(missing[:5])}{', …' if len(missing) > 5 else ''})")
    return out


__all__ = ["differences", "software", "source_sha256"]
