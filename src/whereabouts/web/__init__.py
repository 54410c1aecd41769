"""The investigator's web app: FastAPI over the same library the CLI uses.

`create_app(workspace)` builds it; `whereabouts serve WS` runs it with uvicorn.
"""

from whereabouts.web.app import create_app

__all__ = ["create_app"]
