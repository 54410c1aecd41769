"""whereabouts: where officers were in relation to each other while on duty.

A library first; the CLI (`whereabouts.cli`) and the web app (`whereabouts.web`) are thin
edges over it. See docs/architecture.md for the layers and the contracts between them.
"""

from whereabouts._version import __version__

__all__ = ["__version__"]
