"""`whereabouts serve WS`: the investigator's web app on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    workspace: Annotated[Path, typer.Argument(help="the workspace folder to serve")],
    host: Annotated[
        str, typer.Option(help="address to listen on; keep 127.0.0.1 unless behind a TLS proxy")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="worker processes (sessions are shared through the case database); "
            "more than one helps only with spare cores: every audited read is "
            "written to the one audit chain in turn"
        ),
    ] = 1,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies", help="mark the session cookie Secure (when served over HTTPS)"
        ),
    ] = False,
    roads: Annotated[
        Path | None,
        typer.Option(
            help="a GeoJSON of roads (WGS84 lines) drawn under the tracks "
            "(default: the roads ingested into the workspace, if any)"
        ),
    ] = None,
    basemap: Annotated[
        str | None,
        typer.Option(
            help="a background map under the tracks (context only): a raster .mbtiles or .pmtiles file served by the app, or a tile URL such as https://tiles.force.example/{z}/{x}/{y}.png fetched by the browser"
        ),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help="address of a reverse (TLS) proxy in front of the app "
            "(repeat for several): its X-Forwarded-For then names the "
            "client, so sign-in limits count per person, not per proxy"
        ),
    ] = None,
    max_request_kb: Annotated[
        int, typer.Option(help="largest request body accepted, in KiB (larger: refused with 413)")
    ] = 1024,
) -> None:
    """Serve the web app (map, playback, occasion review) for a workspace."""
    from whereabouts.web.app import run

    print(f"whereabouts: serving {workspace} on http://{host}:{port}/ (Ctrl-C to stop)")
    run(
        workspace,
        host=host,
        port=port,
        workers=workers,
        secure_cookies=secure_cookies,
        roads=roads,
        basemap=basemap,
        trusted_proxies=",".join(trusted_proxy or []),
        max_request_bytes=max_request_kb * 1024,
    )


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command()(serve)
