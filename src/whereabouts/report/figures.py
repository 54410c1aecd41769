"""Matplotlib figures rendered reproducibly and embedded in the report without files.

Every figure is drawn on its own `Figure` (no pyplot state), saved as SVG with a fixed
hash salt and no date, so the same data give the same bytes, and embedded as a base64
data URI: self-contained, no clashing ids between figures, and WeasyPrint draws it too.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import matplotlib
from matplotlib.figure import Figure

# Colours that stay distinct for colour-blind readers and in greyscale print (Okabe–Ito).
SUBJECT_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
GREY = "#777777"
UNEXPLAINED = "#D55E00"
EXPLAINED = "#0072B2"

_RC: dict[str, Any] = {
    "svg.hashsalt": "whereabouts-report",
    "svg.fonttype": "none",  # text stays text: searchable in the PDF, small in the HTML
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": True,
}


@contextmanager
def style() -> Iterator[None]:
    """The report's matplotlib settings, applied only inside the block."""
    with matplotlib.rc_context(cast(Any, _RC)):
        yield


def new_figure(
    width_in: float, height_in: float, margins: tuple[float, float, float, float] | None = None
) -> Figure:
    """A figure of the given size in inches, not attached to any GUI backend.

    `margins` (left, bottom, right, top as fractions) fixes the layout, which is much
    faster than the constrained layout used otherwise (maps and timelines are many).
    """
    if margins is None:
        return Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    fig = Figure(figsize=(width_in, height_in), dpi=100)
    left, bottom, right, top = margins
    fig.subplots_adjust(left=left, bottom=bottom, right=right, top=top)
    return fig


def to_data_uri(fig: Figure) -> str:
    """The figure as an SVG data URI, byte-identical for identical drawings."""
    buf = io.BytesIO()
    with style():
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


__all__ = [
    "EXPLAINED",
    "GREY",
    "SUBJECT_COLOURS",
    "UNEXPLAINED",
    "new_figure",
    "style",
    "to_data_uri",
]
