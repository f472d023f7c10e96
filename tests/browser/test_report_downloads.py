"""The calendar page's downloads in the browser: the trades as xlsx and the view's report as PDF
(its button disabled with a spinner while it renders), a screenshot of the buttons."""

from __future__ import annotations

import calendar
import io
from datetime import date
from pathlib import Path

import openpyxl
import pypdfium2
from playwright.sync_api import expect

from tests.browser.test_calendar_pages import desk, open_seeded_month  # noqa: F401 - the module's fixture
from tests.helpers.browser import NewPage, shot, sign_in


def test_the_xlsx_and_pdf_downloads_give_the_views_figures(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "tina", "/calendar")
    month = open_seeded_month(page, base_url, "tina")
    expect(page.locator("#cal-downloads")).to_be_visible()
    shot(page, "calendar-downloads-light")
    with page.expect_download(timeout=20_000) as xlsx:
        page.click("#cal-export-trades-xlsx")
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(xlsx.value.path()).read_bytes())).active
    assert sheet.cell(1, 1).value == "day"
    assert sheet.max_row > 1
    with page.expect_download(timeout=30_000) as pdf:
        page.click("#cal-report")
    assert pdf.value.suggested_filename == f"tradeblock-report-{month:%Y-%m}-01-{month:%Y-%m}-{_last(month)}.pdf"
    doc = pypdfium2.PdfDocument(Path(pdf.value.path()).read_bytes())
    text = " ".join(doc[0].get_textpage().get_text_range().split())
    doc.close()
    assert f"Account report · {month:%B %Y}" in text
    assert "Trader tina" in text
    expect(page.locator("#cal-report")).to_be_enabled()


def _last(month: date) -> str:
    return f"{calendar.monthrange(month.year, month.month)[1]:02d}"
