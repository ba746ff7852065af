"""Read any supported container into the same grid of cells.

A *grid* is an object ``pandas.DataFrame`` of the raw cells, no header: row
``i`` and column ``j`` are Excel row ``i + 1`` and column ``j + 1``. Workbooks
are read with python-calamine directly (numbers come as floats, blanks as '');
going through ``pandas.read_excel`` would add its type inference, which the
parsers redo anyway, for about 70% more time. Parsers work on
grids only, so they never care whether the table came from .xlsx, .xls or a
CSV export of one table.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from migstock.errors import InputError

CSV_SHEET = "csv"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SPREADSHEET_SUFFIXES = (".xlsx", ".xls", ".csv")
#: the real 2024 bilateral workbook (6 MB) unpacks to about 60 MB, ratio ~10:1
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_PACKING_RATIO = 100


@dataclass
class Workbook:
    """The sheets of one raw file, each as a grid."""

    path: Path
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)

    def sheet(self, name: str) -> pd.DataFrame:
        try:
            return self.sheets[name]
        except KeyError:
            raise InputError(
                self.path, f"sheet '{name}' is missing (sheets: {', '.join(self.sheets)})"
            ) from None


def sniff_format(path: Path, head: bytes) -> str:
    """Tell the container from the first bytes: ``xlsx``, ``xls`` or ``csv``.

    Raises :class:`InputError` for empty files, HTML pages and other non-tables.
    """
    if not head:
        raise InputError(path, "the file is empty")
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        return "xls"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml", b"<body")):
        raise InputError(
            path,
            "this is an HTML/XML page, not a spreadsheet (the server probably answered with "
            "an error or login page); download the workbook again",
        )
    if b"\x00" in head:
        raise InputError(path, "not a spreadsheet: neither .xlsx (zip), .xls (OLE) nor text")
    return "csv"


def read_workbook(path: Path) -> Workbook:
    """Read every sheet of ``path`` (.xlsx, .xls or a CSV of one table) into grids."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as error:
        raise InputError(path, f"cannot open: {error.strerror or error}") from error
    kind = sniff_format(path, head)
    if kind == "csv":
        return Workbook(path, {CSV_SHEET: _read_csv(path)})
    if kind == "xlsx":
        check_zip(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheets = {
            name: _grid(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for name in book.sheet_names
        }
    except Exception as error:  # calamine raises several unrelated types
        raise InputError(path, f"not a readable {kind} workbook ({error})") from error
    if not sheets:
        raise InputError(path, "the workbook has no sheets")
    return Workbook(path, sheets)


def _grid(rows: list[list[object]]) -> pd.DataFrame:
    """A rectangular object grid; calamine gives numbers as floats and blanks as ''."""
    width = max((len(row) for row in rows), default=0)
    if any(len(row) != width for row in rows):
        rows = [row + [""] * (width - len(row)) for row in rows]
    return pd.DataFrame(np.array(rows, dtype=object).reshape(len(rows), width))


def check_zip(path: Path) -> None:
    """An .xlsx must be a readable zip holding a workbook, and no zip bomb.

    Only the central directory is read: sizes are what the archive declares.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise InputError(path, f"the .xlsx file is damaged or truncated ({error})") from error
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise InputError(path, "the zip file holds no Excel workbook (xl/workbook.xml missing)")
    unpacked = sum(m.file_size for m in members)
    packed = max(path.stat().st_size, 1)
    if unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_PACKING_RATIO:
        raise InputError(
            path,
            f"refused as a possible zip bomb: it unpacks to {unpacked:,} bytes from {packed:,} "
            f"(limits {MAX_UNPACKED_BYTES:,} bytes, ratio {MAX_PACKING_RATIO}:1)",
        )


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise InputError(path, "the CSV file is neither UTF-8 nor Windows-1252 text")
    try:
        grid = pd.read_csv(
            io.StringIO(text), header=None, dtype=str, keep_default_na=False, na_filter=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(path, f"not a readable CSV table ({error})") from error
    return grid.replace("", np.nan)
