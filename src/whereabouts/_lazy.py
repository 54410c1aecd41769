"""Names of a package imported when first used: one module `__getattr__` for all of them.

`import whereabouts` (and the CLI's help) must load no DuckDB, pyarrow, SQLAlchemy, FastAPI
or matplotlib; a package lists which submodule holds each of its public names, and
`lazy(__name__, where)` gives the `__getattr__` and `__dir__` that import it on first use.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy(
    package: str, where: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """`(__getattr__, __dir__)` for `package`: each name of `where` (name → submodule of
    the package) imported from its submodule when first asked for, then kept."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__


__all__ = ["lazy"]
