"""Helpers that write test workbooks: grids back to .xlsx, parts of an .xlsx rewritten."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import xlsxwriter


def write_grids(grids: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write grids back as an .xlsx, cell for cell (numbers stay numbers)."""
    book = xlsxwriter.Workbook(str(path))
    for name, grid in grids.items():
        sheet = book.add_worksheet(name)
        for (row, col), value in grid.stack().items():
            if isinstance(value, str) and value == "":
                continue
            sheet.write(row, col, value)
    book.close()
    return path


def rewrite_parts(source: Path, target: Path, edit: Callable[[str, bytes], bytes | None]) -> Path:
    """Copy an .xlsx part by part; ``edit(name, data)`` may change a part or drop it (None)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for member in old.infolist():
            data = edit(member.filename, old.read(member))
            if data is not None:
                new.writestr(member.filename, data)
    return target
