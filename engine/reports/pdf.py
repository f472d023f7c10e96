"""The account report rendered to PDF by WeasyPrint (HTML and CSS in, PDF out; pango lays the text
out in DejaVu Sans), in steps a caller can follow: gather the figures, lay the document out, write
the PDF."""

from __future__ import annotations

from collections.abc import Callable

from engine.reports.content import ReportData
from engine.reports.document import html_document

Progress = Callable[[int, int], None]  # (steps done, steps in all)
STEPS = 3


def render(data: ReportData, progress: Progress | None = None) -> bytes:
    """The PDF of gathered report data."""
    import weasyprint

    document = weasyprint.HTML(string=html_document(data)).render()
    if progress:
        progress(2, STEPS)
    pdf = document.write_pdf()
    if progress:
        progress(3, STEPS)
    return pdf
