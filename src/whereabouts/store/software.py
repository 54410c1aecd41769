"""The software that ran: whereabouts' version and the hash of its own source files, Python,
and every installed distribution with its version and the SHA-256 of its RECORD (which
lists a hash of each installed file).

`software()` is the full list (an evidence bundle's software.json); `run_record()` the
compact form every run's summary keeps (store.runs: RunSummary.software), with the package
versions by name and one digest over every package's name, version and RECORD hash.
Both are computed once per process: the record is of the code this process loaded.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from whereabouts import __version__

_SOURCE_SUFFIXES = {
    ".py",
    ".toml",
    ".html",
    ".css",
    ".js",
    ".json",
    ".svg",
    ".geojson",
    ".ini",
    ".mako",
    ".csv",
    ".typed",
}


@cache
def source_sha256() -> str:
    """SHA-256 over the whereabouts package's own files (path and content of each, sorted)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix in _SOURCE_SUFFIXES and "__pycache__" not in p.parts
    ):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _record_sha256(dist: metadata.Distribution) -> str | None:
    text = dist.read_text("RECORD")
    return hashlib.sha256(text.encode()).hexdigest() if text else None


@cache
def _software() -> str:
    packages: dict[str, dict[str, Any]] = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name and name not in packages:
            packages[name] = {"version": dist.version, "record_sha256": _record_sha256(dist)}
    return json.dumps(
        {
            "whereabouts": {"version": __version__, "source_sha256": source_sha256()},
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
            "platform": f"{platform.system()} {platform.machine()}",
            "packages": dict(sorted(packages.items())),
        }
    )


def software() -> dict[str, Any]:
    """What runs: whereabouts (version, source hash), Python, platform, installed packages
    (each {version, record_sha256})."""
    return dict(json.loads(_software()))


def packages_sha256(packages: dict[str, Any]) -> str:
    """One digest over every package's name, version and RECORD hash (sorted by name)."""
    lines = "".join(
        f"{n}\0{p.get('version')}\0{p.get('record_sha256')}\n" for n, p in sorted(packages.items())
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def run_record() -> dict[str, Any]:
    """The software a run records in its summary: whereabouts' version and source hash,
    Python, platform, each package's version, and the digest of the packages' files."""
    soft = software()
    return {
        "whereabouts": soft["whereabouts"],
        "python": soft["python"],
        "implementation": soft["implementation"],
        "platform": soft["platform"],
        "packages": {n: p["version"] for n, p in soft["packages"].items()},
        "packages_sha256": packages_sha256(soft["packages"]),
    }


def _versions(record: dict[str, Any]) -> dict[str, str]:
    """{package: version} of a full list or of a run's record."""
    out = {}
    for name, p in (record.get("packages") or {}).items():
        out[name] = str(p.get("version") if isinstance(p, dict) else p)
    return out


def _digest(record: dict[str, Any]) -> str | None:
    if "packages_sha256" in record:
        return str(record["packages_sha256"])
    packages = record.get("packages")
    if isinstance(packages, dict) and all(isinstance(p, dict) for p in packages.values()):
        return packages_sha256(packages)
    return None


def _packages(names: list[str]) -> str:
    """'1 package (a)' / '7 packages (a, b, c, d, e, …)'."""
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    return f"{len(names)} package{'' if len(names) == 1 else 's'} ({shown})"


def differences(
    recorded: dict[str, Any],
    now: dict[str, Any],
    *,
    made: str = "made the bundle",
    here: str = "this is",
) -> list[str]:
    """Plain-words differences between a recorded software and another (a full list as
    `software()` gives, or a run's record as `run_record()` gives; either may be given)."""
    out = []
    a, b = recorded.get("whereabouts") or {}, now.get("whereabouts") or {}
    if a.get("version") != b.get("version"):
        out.append(f"whereabouts {a.get('version')} {made}; {here} {b.get('version')}")
    elif a.get("source_sha256") != b.get("source_sha256"):
        out.append(
            f"whereabouts {a.get('version')} with other source files (source "
            f"{str(a.get('source_sha256'))[:16]}… {made}; {here} "
            f"{str(b.get('source_sha256'))[:16]}…)"
        )
    if recorded.get("python") != now.get("python"):
        out.append(f"Python {recorded.get('python')} {made}; {here} {now.get('python')}")
    pa_, pb = _versions(recorded), _versions(now)
    changed = sorted(n for n in pa_ if n in pb and pa_[n] != pb[n])
    missing = sorted(n for n in pa_ if n not in pb)
    added = sorted(n for n in pb if n not in pa_)
    if changed:
        out.append(
            "other versions here of "
            + ", ".join(f"{n} ({pa_[n]} → {pb[n]})" for n in changed[:8])
            + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
        )
    if missing:
        out.append(
            f"{_packages(missing)} recorded {'is' if len(missing) == 1 else 'are'} "
            "not installed here"
        )
    if added:
        out.append(
            f"{_packages(added)} installed here {'was' if len(added) == 1 else 'were'} not recorded"
        )
    da, db = _digest(recorded), _digest(now)
    if not (changed or missing or added) and da and db and da != db:
        out.append(
            "the same package versions, but their installed files differ (the "
            "digest of their RECORD hashes)"
        )
    return out


__all__ = ["differences", "packages_sha256", "run_record", "software", "source_sha256"]
