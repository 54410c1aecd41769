"""Checks on input paths, kept free of heavy imports so every layer can use them."""

from __future__ import annotations

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


__all__ = ["require_file"]
