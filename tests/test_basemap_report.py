"""The basemap in the evidential report: tiles embedded in the maps (HTML self-contained and
byte-identical), the attribution and "context only, not evidence" on each map, the PDF
showing the tiles, a tile server fetched at report time with every tile's SHA-256 recorded,
and clear refusals (vector tiles, an unreachable server, an area the set does not cover)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pypdfium2 as pdfium
import pytest
from typer.testing import CliRunner

import report_fixtures as rf
from test_basemap import PALETTE, _png, colour_of, make_mbtiles, make_pmtiles
from whereabouts.basemap import BasemapUnavailable
from whereabouts.report import ReportOptions, build_report

CASE = "PSD-2024-001"


def _svgs(html: str) -> list[str]:
    return [
        base64.b64decode(b).decode("utf-8")
        for b in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    ]


def _map_svgs(html: str) -> list[str]:
    """The maps' SVGs (occasion maps and the overview), not the charts."""
    return [s for s in _svgs(html) if "British National Grid" in s]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("bmreport")
    ws, _ = rf.build(root, occasions=2)
    tiles = make_mbtiles(root / "area.mbtiles")
    result = build_report(
        ws, out_dir=root / "out", case_ref=CASE, options=ReportOptions(basemap=str(tiles))
    )
    return SimpleNamespace(
        root=root, ws=ws, tiles=tiles, result=result, html=result.html.read_text(encoding="utf-8")
    )


def test_maps_embed_the_tiles_with_attribution(built: SimpleNamespace) -> None:
    maps = _map_svgs(built.html)
    assert len(maps) == 3  # two occasions and the overview
    for svg in maps:
        images = re.findall(r"<image [^>]*>", svg, re.S)
        assert len(images) >= 2
        # Each tile an <image> under its own affine, its pixels inline as a PNG data: URI.
        assert all(
            'transform="matrix(' in i and 'href="data:image/png;base64,' in i for i in images
        )
        assert "© Test Mapping contributors" in svg and "not evidence" in svg
    # Still self-contained: nothing fetched from anywhere when the report is opened.
    assert not re.search(r"""(src|href)=["'](https?:|//|file:)""", built.html)
    assert all(not re.search(r"""href=["'](https?:|//|file:)""", s) for s in maps)


def test_reproducibility_section_names_the_basemap(built: SimpleNamespace) -> None:
    html = built.html
    sha = hashlib.sha256(built.tiles.read_bytes()).hexdigest()
    assert "Background map" in html and sha in html
    assert "context only, not evidence" in html
    assert "--basemap area.mbtiles" in html  # the command names the file, not its folder
    assert str(built.root) not in html


def test_same_inputs_give_identical_html_with_a_basemap(
    built: SimpleNamespace, tmp_path: Path
) -> None:
    options = ReportOptions(pdf=False, basemap=str(built.tiles))
    again = build_report(built.ws, out_dir=tmp_path / "again", case_ref=CASE, options=options)
    # made twice at one audit head: byte for byte the same
    twice = build_report(built.ws, out_dir=tmp_path / "twice", case_ref=CASE, options=options)
    assert twice.html.read_bytes() == again.html.read_bytes()
    # and the same as the first but for the audit head each was made at (the first report's
    # own audited read moved the head), the one line meant to differ
    audit = re.compile(r'<meta name="whereabouts-audit"[^>]*>\n|<tr><th>Audit</th>.*</tr>\n')
    first = built.result.html.read_text(encoding="utf-8")
    second = again.html.read_text(encoding="utf-8")
    assert len(audit.findall(second)) == 2
    assert audit.sub("", second) == audit.sub("", first)


def _palette_share(img: np.ndarray) -> list[float]:
    return [float((np.abs(img - np.array(c)).max(axis=2) <= 12).mean()) for c in PALETTE]


def test_pdf_pages_show_the_tiles(built: SimpleNamespace) -> None:
    pdf = pdfium.PdfDocument(built.result.pdf)
    try:
        texts = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
        overview = next(i for i, t in enumerate(texts) if "7. Map of the occasions" in t)
        first = next(i for i, t in enumerate(texts) if "Occasion 1:" in t)
        shares = {}
        for i in (overview, first):
            img = np.asarray(pdf[i].render(scale=1).to_pil().convert("RGB")).astype(int)
            shares[i] = _palette_share(img)
        summary = np.asarray(pdf[0].render(scale=1).to_pil().convert("RGB")).astype(int)
    finally:
        pdf.close()
    for share in shares.values():
        # A map fills about a third of its page: tile colours there, from several tiles.
        assert 0.08 < sum(share) < 0.6, share
        assert sum(s > 0.003 for s in share) >= 2, share
    assert sum(_palette_share(summary)) < 0.001  # the summary page has no map


def test_pmtiles_draws_the_same_tiles(built: SimpleNamespace, tmp_path: Path) -> None:
    pm = make_pmtiles(tmp_path / "area.pmtiles")
    out = build_report(
        built.ws,
        out_dir=tmp_path / "pm",
        case_ref=CASE,
        options=ReportOptions(pdf=False, basemap=str(pm)),
    )
    html = out.html.read_text(encoding="utf-8")
    # Same tiles, same pixels, same drawing: the maps match the MBTiles report's.
    assert _map_svgs(html) == _map_svgs(built.html)
    assert hashlib.sha256(pm.read_bytes()).hexdigest() in html


def test_an_area_the_set_does_not_cover_is_said_on_the_map(
    built: SimpleNamespace, tmp_path: Path
) -> None:
    elsewhere = make_mbtiles(
        tmp_path / "north.mbtiles", bounds=(-1.70, 54.90, -1.50, 55.00), zooms=(12, 13)
    )
    out = build_report(
        built.ws,
        out_dir=tmp_path / "far",
        case_ref=CASE,
        options=ReportOptions(pdf=False, basemap=str(elsewhere)),
    )
    maps = _map_svgs(out.html.read_text(encoding="utf-8"))
    assert maps and all("does not cover this area" in s and "<image" not in s for s in maps)


def test_workspace_roads_are_drawn_without_a_roads_file(
    built: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whereabouts.report import build as build_module

    real = build_module.load_inputs  # type: ignore[attr-defined]  # the name the report calls, replaced below
    sx, sy = rf.STATION_XY

    class WithRoads:
        def __init__(self, inner: Any) -> None:
            self._inner = inner
            self.roads = [np.array([[sx - 3000, sy - 50], [sx + 3000, sy + 50]])]

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    monkeypatch.setattr(build_module, "load_inputs", lambda *a, **k: WithRoads(real(*a, **k)))
    out = build_report(
        built.ws, out_dir=tmp_path / "roads", case_ref=CASE, options=ReportOptions(pdf=False)
    )
    overview = _map_svgs(out.html.read_text(encoding="utf-8"))[-1]
    assert "#c8c8c8" in overview  # the road's grey line
    monkeypatch.undo()
    plain = build_report(
        built.ws,
        out_dir=tmp_path / "plain",
        case_ref=CASE,
        options=ReportOptions(pdf=False, max_occasion_maps=0),
    )
    assert "#c8c8c8" not in _map_svgs(plain.html.read_text(encoding="utf-8"))[-1]


# ---- a force's tile server, fetched at report time ---------------------------------------


class _Tiles(http.server.BaseHTTPRequestHandler):
    served: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        m = re.fullmatch(r"/tiles/(\d+)/(\d+)/(\d+)\.png", self.path)
        if not m:
            self.send_error(404)
            return
        _z, x, y = (int(v) for v in m.groups())
        body = _png(colour_of(x, y), 64)  # the same pixels at any zoom
        self.served[self.path] = hashlib.sha256(body).hexdigest()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def tile_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Tiles.served = {}
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_tile_server_fetched_and_every_tile_fingerprinted(
    built: SimpleNamespace, tile_server: str, tmp_path: Path
) -> None:
    template = f"{tile_server}/tiles/{{z}}/{{x}}/{{y}}.png"
    out = build_report(
        built.ws,
        out_dir=tmp_path / "url",
        case_ref=CASE,
        options=ReportOptions(pdf=False, basemap=template, max_occasion_maps=1),
    )
    html = out.html.read_text(encoding="utf-8")
    assert _Tiles.served and len(_Tiles.served) <= 2 * 64
    listed = dict(re.findall(r'(\d+/\d+/\d+) <span class="hash">([0-9a-f]{64})</span>', html))
    assert listed == {
        p.removeprefix("/tiles/").removesuffix(".png"): h for p, h in _Tiles.served.items()
    }
    combined = hashlib.sha256(
        "".join(
            f"{k} {listed[k]}\n"
            for k in sorted(listed, key=lambda k: tuple(int(v) for v in k.split("/")))
        ).encode()
    ).hexdigest()
    assert combined in html
    assert "context only, not evidence" in html and f"tiles from {tile_server}" in html
    assert template in html  # the command and the record name the server


def test_unreachable_tile_server_is_a_clear_error(built: SimpleNamespace, tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BasemapUnavailable, match="did not answer") as err:
        build_report(
            built.ws,
            out_dir=tmp_path / "down",
            case_ref=CASE,
            options=ReportOptions(
                pdf=False,
                basemap=f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png",
                max_occasion_maps=0,
            ),
        )
    assert "leave out --basemap" in err.value.hint


def test_cli_refuses_vector_tiles_before_any_work(built: SimpleNamespace, tmp_path: Path) -> None:
    from whereabouts.cli import app

    vector = make_mbtiles(tmp_path / "v.mbtiles", fmt="pbf", zooms=(12, 12))
    res = CliRunner().invoke(
        app,
        [
            "report",
            str(built.ws),
            "--case",
            CASE,
            "--out",
            str(tmp_path / "o"),
            "--no-pdf",
            "--basemap",
            str(vector),
        ],
    )
    assert res.exit_code != 0
    text = res.output + str(res.exception or "")
    assert "vector tiles" in text and "raster" in text
    assert not (tmp_path / "o" / "report.html").exists()


def test_investigate_refuses_a_bad_basemap_before_the_analysis(tmp_path: Path) -> None:
    from whereabouts.cli import app

    res = CliRunner().invoke(
        app,
        [
            "investigate",
            str(tmp_path / "ws"),
            "--case",
            CASE,
            "--basemap",
            str(tmp_path / "missing.pmtiles"),
        ],
    )
    assert res.exit_code != 0
    assert "basemap file does not exist" in res.output + str(res.exception or "")
    assert not (tmp_path / "ws").exists()
