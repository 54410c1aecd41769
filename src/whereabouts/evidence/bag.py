"""A small BagIt (RFC 8493) writer and checker, zipped or as a folder.

    write_bag(folder, {"inputs/a.csv": Path("a.csv"), "parameters.json": b"{...}"},
              info={"Source-Organization": "..."}, tags={"statement.dsse.json": b"..."})
    problems = check_bag(folder)   # [] when every file is there and matches its hash

Payload files go under `data/` and are listed with their SHA-256 in `manifest-sha256.txt`;
`bagit.txt`, `bag-info.txt`, the manifest and any extra tag files are listed in
`tagmanifest-sha256.txt`. The `bagit` package validates what this writes (tested).
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from whereabouts.errors import WhereaboutsError
from whereabouts.io.files import file_sha256

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"


class BagError(WhereaboutsError):
    """A bag cannot be written or opened."""


@dataclass(frozen=True)
class Problem:
    """One file of a bag that is missing, extra or changed."""

    path: str  # relative to the bag's top folder, with forward slashes
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


def _safe(rel: str) -> str:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts or any(c in rel for c in "\r\n%\\"):
        raise BagError(
            f"{rel!r} cannot be a file name in a bag",
            hint="this is a bug in whereabouts; please report it",
        )
    return p.as_posix()


def write_bag(
    folder: Path,
    payload: Mapping[str, Path | bytes],
    *,
    info: Mapping[str, str],
    tags: Mapping[str, bytes] | None = None,
) -> dict[str, str]:
    """Write a bag into `folder` (new or empty) and return {data/path: sha256} of the payload."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BagError(f"{folder} is not empty", hint="give a new folder for the bundle")
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    digests: dict[str, str] = {}
    size = 0
    for rel, source in sorted(payload.items()):
        target = data / _safe(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            target.write_bytes(source)
        else:
            shutil.copyfile(source, target)
        digests[f"data/{_safe(rel)}"] = file_sha256(target)
        size += target.stat().st_size
    _write_manifest(folder / MANIFEST, digests)
    (folder / "bagit.txt").write_bytes(BAGIT_TXT)
    lines = [f"{k}: {v}" for k, v in info.items()]
    lines.append(f"Payload-Oxum: {size}.{len(digests)}")
    (folder / "bag-info.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    names = ["bagit.txt", "bag-info.txt", MANIFEST]
    for name, body in (tags or {}).items():
        (folder / _safe(name)).write_bytes(body)
        names.append(_safe(name))
    _write_manifest(folder / TAGMANIFEST, {n: file_sha256(folder / n) for n in names})
    return digests


def _write_manifest(path: Path, digests: Mapping[str, str]) -> None:
    path.write_text("".join(f"{h}  {p}\n" for p, h in sorted(digests.items())), encoding="utf-8")


def read_manifest(path: Path, problems: list[Problem], root: Path) -> dict[str, str]:
    """{path: sha256} of a manifest file; unreadable lines become problems."""
    out: dict[str, str] = {}
    name = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(name, "missing"))
        return out
    except (OSError, UnicodeDecodeError):
        problems.append(Problem(name, "cannot be read as UTF-8 text (changed)"))
        return out
    for number, line in enumerate(text.splitlines(), 1):
        digest, _, rel = line.partition(" ")
        rel = rel.lstrip(" *")
        if len(digest) != 64 or not rel or any(c not in "0123456789abcdef" for c in digest):
            problems.append(Problem(name, f"line {number} is not 'sha256  path' (changed)"))
            continue
        out[rel] = digest
    return out


def check_bag(folder: Path) -> list[Problem]:
    """Every problem of the bag at `folder`: missing, extra or changed files, a wrong
    Payload-Oxum; [] when it is complete and every hash matches."""
    folder = Path(folder)
    problems: list[Problem] = []
    bagit = folder / "bagit.txt"
    if not bagit.is_file():
        problems.append(Problem("bagit.txt", "missing"))
    elif bagit.read_bytes() != BAGIT_TXT:
        problems.append(Problem("bagit.txt", "does not declare BagIt 1.0 in UTF-8 (changed)"))
    tags = read_manifest(folder / TAGMANIFEST, problems, folder)
    for rel, digest in sorted(tags.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(Problem(rel, "missing (listed in the tag manifest)"))
        elif file_sha256(path) != digest:
            problems.append(Problem(rel, "changed: its SHA-256 differs from the tag manifest"))
    listed = read_manifest(folder / MANIFEST, problems, folder)
    present = (
        {p.relative_to(folder).as_posix() for p in (folder / "data").rglob("*") if p.is_file()}
        if (folder / "data").is_dir()
        else set()
    )
    size = 0
    for rel, digest in sorted(listed.items()):
        path = folder / rel
        if rel not in present:
            problems.append(Problem(rel, "missing (listed in the manifest)"))
            continue
        size += path.stat().st_size
        if file_sha256(path) != digest:
            problems.append(Problem(rel, "changed: its SHA-256 differs from the manifest"))
    for rel in sorted(present - set(listed)):
        problems.append(Problem(rel, "extra: not listed in the manifest"))
    oxum = _info(folder).get("Payload-Oxum")
    if oxum is not None and oxum != f"{size}.{len(listed)}":
        problems.append(
            Problem(
                "bag-info.txt",
                f"Payload-Oxum {oxum} does not match the "
                f"payload ({size} bytes in {len(listed)} files)",
            )
        )
    return problems


def _info(folder: Path) -> dict[str, str]:
    try:
        text = (folder / "bag-info.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def zip_bag(folder: Path, target: Path, *, top: str | None = None) -> Path:
    """Zip the bag at `folder` into `target`, under one top folder (default: the zip's name)."""
    top = top or target.stem
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
    return target


def unzip_bag(archive: Path, into: Path) -> Path:
    """Extract a zipped bag into `into` and return its top folder (the one with bagit.txt)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                p = PurePosixPath(member)
                if p.is_absolute() or ".." in p.parts:
                    raise BagError(
                        f"{archive}: member {member!r} would be written outside the folder",
                        hint="do not use this archive",
                    )
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        raise BagError(
            f"{archive}: not a readable zip file ({exc})", hint="ask for a fresh copy of the bundle"
        ) from exc
    found = sorted(p.parent for p in into.rglob("bagit.txt"))
    if not found:
        found = sorted(p.parent for p in into.rglob(MANIFEST))
    if not found:
        raise BagError(
            f"{archive}: holds no bag (no bagit.txt)",
            hint="give the bundle made by `whereabouts bundle`",
        )
    return min(found, key=lambda p: len(p.parts))


def sha256_bytes(data: bytes) -> str:
    """SHA-256 of bytes in hex."""
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "MANIFEST",
    "TAGMANIFEST",
    "BagError",
    "Problem",
    "check_bag",
    "read_manifest",
    "sha256_bytes",
    "unzip_bag",
    "write_bag",
    "zip_bag",
]
