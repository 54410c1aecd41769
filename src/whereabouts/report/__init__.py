"""The evidential report: a self-contained HTML file and a PDF of the same content.

    from whereabouts.report import build_report, ReportOptions
    build_report(Path("ws"), case_ref="PSD-2024-001", out_dir=Path("out"))

Modules: inputs (what a report is made from), labels (pseudonyms and the separate key),
wording (UK dates, units in words), sources (files, hashes, coverage), method (parameters
and limitations in plain English), maps, charts, figures (reproducible SVG), build
(assembly and the Jinja2 template), pdf (WeasyPrint).
"""

from whereabouts.report.build import ReportOptions, ReportResult, build_report, render_html
from whereabouts.report.labels import LABEL_STYLES, Labels, parse_label_option

__all__ = [
    "LABEL_STYLES",
    "Labels",
    "ReportOptions",
    "ReportResult",
    "build_report",
    "parse_label_option",
    "render_html",
]
