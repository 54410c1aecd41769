"""The PDF of the same HTML, through WeasyPrint (needs Debian's pango; scripts/setup.sh).

No creation or modification date is written (the HTML carries none), and WeasyPrint adds
no random file identifier by default, so the same HTML gives the same PDF text.
"""

from __future__ import annotations

from pathlib import Path

from whereabouts.errors import WhereaboutsError


class RendererMissing(WhereaboutsError):
    """The PDF renderer or its system libraries are not installed."""


def write_pdf(html: str, path: Path) -> int:
    """Render `html` to `path`; returns the number of pages."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: pango/harfbuzz libraries missing
        raise RendererMissing(
            "the PDF renderer (WeasyPrint) cannot start",
            hint="run scripts/setup.sh to install its system libraries, "
            "or pass --no-pdf for the HTML report alone",
        ) from exc
    document = HTML(string=html, base_url=None).render()
    document.write_pdf(path)
    return len(document.pages)


__all__ = ["RendererMissing", "write_pdf"]
