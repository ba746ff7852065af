"""One Excel workbook per profile: a sheet per chart or table, then "About".

The About sheet says what ``migstock export``'s does (``store.access.about_sheet``:
citation, licence, every source file with its sha256). Cells are written with
xlsxwriter directly and in memory: pandas' ``to_excel`` and xlsxwriter's temporary
files cost more than the 27 small workbooks themselves.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import xlsxwriter

from migstock.store.access import About


def _cell(value: object) -> object:
    """A value xlsxwriter writes as it is: numbers, text, or blank for missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _sheet(book: xlsxwriter.Workbook, name: str, frame: pd.DataFrame, start: int = 0) -> None:
    sheet = book.get_worksheet_by_name(name) or book.add_worksheet(name)
    header = book.add_format({"bold": True})
    columns = [str(c) for c in frame.columns]
    sheet.write_row(start, 0, columns, header)
    widths = [len(c) for c in columns]
    rows = frame.to_numpy(dtype=object).tolist()  # Python values, one conversion
    for offset, row in enumerate(rows, start=start + 1):
        values = [_cell(v) for v in row]
        sheet.write_row(offset, 0, values)
        widths = [
            max(w, len(str(v)) if v is not None else 0) for w, v in zip(widths, values, strict=True)
        ]
    if start == 0:
        sheet.freeze_panes(1, 0)
        for position, width in enumerate(widths):
            sheet.set_column(position, position, min(max(width + 2, 8), 60))


def write_profile_workbook(frames: dict[str, pd.DataFrame], about: About, output: Path) -> None:
    """``frames`` one sheet each (frozen header, fitted widths), then the About sheet."""
    book = xlsxwriter.Workbook(str(output), {"in_memory": True})
    try:
        for name, frame in frames.items():
            _sheet(book, name[:31], frame)
        sheet = book.add_worksheet("About")
        _sheet(book, "About", pd.DataFrame(about.fields, columns=["about", "value"]))
        start = len(about.fields) + 2
        sheet.write(start - 1, 0, "Source files", book.add_format({"bold": True}))
        _sheet(book, "About", about.sources, start)
        sheet.set_column(0, 0, 14)
        sheet.set_column(1, 1, 70, book.add_format({"text_wrap": True}))
        sheet.set_column(2, len(about.sources.columns), 22)
        sheet.set_column(3, 3, 66)  # sha256
    finally:
        book.close()
