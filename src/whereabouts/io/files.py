"""Checks on input paths, kept free of heavy imports so every layer can use them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from whereabouts.errors import InputError


def require_file(path: Path) -> None:
    """Refuse a missing path, a folder or a symbolic link with an InputError saying which.

    A link is refused, not followed: it can point anywhere (a system file included), and
    nothing of what it points to is read or echoed.
    """
    if path.is_symlink():
        raise InputError(
            "is a symbolic link, not a file: links are not followed",
            where=str(path),
            hint="give the file it points to by its own path, or copy the file here",
        )
    if path.is_dir():
        raise InputError(
            "is a folder, not a file",
            where=str(path),
            hint=f"give the files inside it, e.g. {path}/*.csv",
        )
    if not path.is_file():
        raise InputError(
            "no such file",
            where=str(path),
            hint="check the path (and that the file has not been moved)",
        )


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


__all__ = ["file_sha256", "require_file"]
