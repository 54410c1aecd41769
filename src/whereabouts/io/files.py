"""Checks on input paths, kept free of heavy imports so every layer can use them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from whereabouts.errors import InputError


def require_file(path: Path) -> None:
    """Refuse a missing path or a folder with an InputError saying which it is."""
    if path.is_dir():
        raise InputError("is a folder, not a file", where=str(path),
                         hint=f"give the files inside it, e.g. {path}/*.csv")
    if not path.is_file():
        raise InputError("no such file", where=str(path),
                         hint="check the path (and that the file has not been moved)")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


__all__ = ["file_sha256", "require_file"]
