"""The calendar's export tables (engine.portfolio.api.Table) as an Excel workbook: the CSV's rows and
columns, with numbers as numbers and dates as dates, each column in its number format (money to
cents, % to 4 places, R to 2), a bold frozen header and widths that fit."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import xlsxwriter

from engine.portfolio.api import Table

# Excel number formats per column kind (engine.portfolio.exports.Kind). "exact" prices and amounts
# keep every digit a double holds: "General" shows them without padding.
FORMATS = {"date": "yyyy-mm-dd", "money": "#,##0.00", "percent": "0.0000", "r": "0.00", "int": "0", "exact": "General"}


def _width(name: str, values: list[Any]) -> int:
    longest = max((len(str(v)) for v in values if v is not None), default=0)
    return min(max(len(name), longest, 10) + 2, 40)


def workbook(table: Table) -> bytes:
    """The table as one sheet named after its kind ("trades" or "daily")."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(table.kind)
    header = book.add_format({"bold": True, "bottom": 1})
    formats = {kind: book.add_format({"num_format": fmt}) for kind, fmt in FORMATS.items()}
    for col, (name, kind) in enumerate(table.columns):
        sheet.write_string(0, col, name, header)
        sheet.set_column(col, col, _width(name, [row[col] for row in table.rows]), formats.get(kind))
    for r, row in enumerate(table.rows, start=1):
        for col, (value, (_, kind)) in enumerate(zip(row, table.columns, strict=True)):
            _write(sheet, r, col, value, formats.get(kind))
    sheet.freeze_panes(1, 0)
    if table.rows:
        sheet.autofilter(0, 0, len(table.rows), len(table.columns) - 1)
    book.close()
    return out.getvalue()


def _write(sheet: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None:
        return  # an empty cell, as the CSV's empty field
    if isinstance(value, date):
        sheet.write_datetime(row, col, value, fmt)
    elif isinstance(value, Decimal | int):
        # A cell holds a double: the Decimals are already rounded to what they show (cents, 4 or 2
        # places), and prices and amounts have far fewer than 15 significant digits.
        sheet.write_number(row, col, float(value), fmt)
    else:
        sheet.write_string(row, col, str(value))
