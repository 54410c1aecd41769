"""The optional compiled part of the engine (engine/_native.c: candidate search, kernel, union).

Everything else is in pyproject.toml. Plain C functions (and an empty module, so the library
imports), called through ctypes by whereabouts.engine.native; without a C compiler the
install still succeeds and the engine uses its numpy path (the same results, slower).
scripts/setup.sh installs gcc and the Python headers.
"""

import hashlib
from pathlib import Path

from setuptools import Extension, setup

SOURCE = "src/whereabouts/engine/_native.c"
# the library says which source it was built from: engine/native.py refuses a library built
# from another version of it (a stale build)
DIGEST = hashlib.sha256((Path(__file__).parent / SOURCE).read_bytes()).hexdigest()

setup(
    ext_modules=[
        Extension(
            "whereabouts.engine._native",
            sources=[SOURCE],
            define_macros=[("WA_SOURCE_SHA256", f'"{DIGEST}"')],
            # no fused multiply-add: every float operation rounds as numpy's does
            extra_compile_args=["-O2", "-ffp-contract=off"],
            optional=True,
        )
    ]
)
