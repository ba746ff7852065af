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
import pickle
import posixpath
import re
import signal
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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
        plain, long_text = check_xlsx_sheets(path)
    else:
        plain, long_text = False, True
    # calamine allocates a sheet's whole bounding box and aborts the process when it
    # cannot: a sheet it could not be proven safe for is read in a child process
    sheets = _read_sheets(path, kind) if plain else _read_sheets_in_child(path, kind)
    if not sheets:
        raise InputError(path, "the workbook has no sheets")
    if long_text:
        _check_text_lengths(path, sheets)
    return Workbook(path, sheets)


def _read_sheets(path: Path, kind: str) -> dict[str, pd.DataFrame]:
    try:
        book = CalamineWorkbook.from_path(str(path))
        return {
            name: _grid(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for name in book.sheet_names
        }
    except Exception as error:  # calamine raises several unrelated types
        raise InputError(path, f"not a readable {kind} workbook ({error})") from error


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


def check_xlsx_sheets(path: Path) -> tuple[bool, bool]:
    """Check every part of an .xlsx before calamine materialises a sheet.

    calamine allocates a sheet's whole bounding box (32 bytes a cell) and aborts
    the process when it cannot. Returns ``(plain, long_text)``. ``plain``: every
    cell tag is ``<c r="A1"`` with a plain reference, so the bounding box is known
    and was checked; otherwise the caller reads the workbook in a child process.
    ``long_text``: a string may exceed :data:`MAX_CELL_CHARS` (named after reading).
    Raises :class:`InputError` for a sheet larger than :data:`MAX_SHEET_CELLS`.
    Every part is scanned, not only ``xl/worksheets/``: a workbook may put a
    sheet anywhere.
    """
    plain, long_text = True, False
    with zipfile.ZipFile(path) as archive:
        sheets = _sheet_parts(archive)
        for member in archive.infolist():
            data = archive.read(member)
            if member.filename == "xl/sharedStrings.xml":
                long_text |= _LONG_TEXT.search(data) is not None
                continue
            if b"<" not in data:
                continue
            rows, columns = _declared_range(data[:2048])
            anything = f"{_UNUSUAL_CELL}|{_INLINE_TEXT}|{_NO_VALUE}|{_beyond(rows, columns)}"
            if not _matches(anything, data):
                continue  # the usual case: one pass over the part
            sheet = sheets.get(member.filename)
            formula = _FORMULA_WITHOUT_VALUE.search(data)
            if formula and sheet is not None:
                raise InputError(
                    path,
                    "the cell holds a formula whose value was never saved (a workbook written "
                    "by a program, not Excel); open and save it in Excel or LibreOffice",
                    sheet=sheet,
                    cell=formula[1].decode(),
                )
            long_text |= _matches(_INLINE_TEXT, data)
            if _matches(_UNUSUAL_CELL, data):
                plain = False  # a cell this scan cannot place: the child process reads
                continue
            rows, columns = _used_range(data)
            if rows * columns > MAX_SHEET_CELLS:
                where = f"sheet '{sheet}'" if sheet else f"part {member.filename}"
                raise InputError(
                    path,
                    f"{where} spans {rows:,} rows x {columns:,} columns from A1 "
                    f"(a cell as far as {_letters(columns)}{rows}); sheets of more than "
                    f"{MAX_SHEET_CELLS:,} cells are refused",
                )
    return plain, long_text


#: largest sheet (rows x columns counted from A1): the real 2024 bilateral table has ~1.1M
MAX_SHEET_CELLS = 20_000_000
#: Excel's own limit on the characters in one cell
MAX_CELL_CHARS = 32_767
#: a child process that reads a workbook may use this much address space
CHILD_MEMORY_BYTES = 8 * 1024**3

_LONG_TEXT = re.compile(rb"<(?:\w+:)?t\b[^>]*>[^<]{%d}" % (MAX_CELL_CHARS + 1))
#: RE2 (through pyarrow: one linear pass, ~0.7 GB/s) for cell tags this scan cannot
#: place: not ``<c r="`` (other white space, attribute order, a namespace prefix,
#: no reference) or a reference that is not 1-3 capitals and 1-7 digits
_UNUSUAL_CELL = (
    r'<c(?:[\t\r\n/>]| [^r]| r[^=]| r=[^"])|<[^>\s/:!?]+:c[\s/>]'
    r'|<c r="(?:[^A-Z]|[A-Z]{4}|[A-Z]{1,3}[^0-9A-Z]|[A-Z]{1,3}[0-9]{1,7}[^0-9"]|[A-Z]{1,3}[0-9]{8})'
)
_CELL_REF = re.compile(rb'<c r="([A-Z]+)([0-9]+)"')


_INLINE_TEXT = r"<is>|:is>"
#: a formula cell that ends without a ``<v>``: calamine would read it as blank
_NO_VALUE = r"</f></c>|<f[^>]*/></c>"
_FORMULA_WITHOUT_VALUE = re.compile(
    rb'<c r="([A-Z]{1,3}[0-9]{1,7})"[^>]*>(?:<f>[^<]*</f>|<f[^>]*/>)</c>'
)
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"
_RELATION_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Part name (``xl/worksheets/sheet2.xml``) -> sheet name, to name sheets in errors."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {
        item.get("Id"): posixpath.normpath(
            item.get("Target", "").lstrip("/")
            if item.get("Target", "").startswith("/")
            else posixpath.join("xl", item.get("Target", ""))
        )
        for item in relations.iter(_RELATIONSHIPS)
    }
    return {
        targets[sheet.get(_RELATION_ID)]: sheet.get("name", "")
        for sheet in book.iter(_SHEET)
        if sheet.get(_RELATION_ID) in targets
    }


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="(?:[A-Z]+[0-9]+:)?([A-Z]{1,3})([0-9]{1,7})"')


def _declared_range(head: bytes) -> tuple[int, int]:
    """Rows and columns to check cells against: the sheet's ``<dimension>`` when it
    is within the limit (it is only a claim: cells beyond it are looked for)."""
    match = _DIMENSION.search(head)
    rows = int(match[2]) if match else 1
    columns = _column(match[1]) if match else 1
    if rows * columns > MAX_SHEET_CELLS:
        return 1, 1
    return max(rows, 1), max(MAX_SHEET_CELLS // max(rows, 1), columns, 1)


def _beyond(rows: int, columns: int) -> str:
    """RE2 pattern: a plain cell below row ``rows`` or right of column ``columns``."""
    return f'<c r="(?:[A-Z]+0*(?:{_greater_number(rows)})"|(?:{_greater_letters(columns)})[0-9])'


def _matches(pattern: str, data: bytes) -> bool:
    """Whether RE2 finds ``pattern`` in ``data`` (no copy of ``data``)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int32))
    array = pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(data)])
    return bool(pc.match_substring_regex(array, pattern)[0].as_py())


def _used_range(data: bytes) -> tuple[int, int]:
    """(rows, columns) from A1 to the farthest plain cell reference (exact, slower)."""
    refs = _CELL_REF.findall(data)
    return (
        max((int(number) for _, number in refs), default=0),
        max((_column(letters) for letters in {letters for letters, _ in refs}), default=0),
    )


def _greater_number(n: int) -> bytes:
    """A regex matching decimal numbers (no leading zeros) greater than ``n``."""
    digits = str(n)
    options = [rf"[1-9][0-9]{{{len(digits)},}}"]
    for i, digit in enumerate(digits):
        if digit != "9":
            rest = len(digits) - i - 1
            options.append(f"{digits[:i]}[{int(digit) + 1}-9]" + (f"[0-9]{{{rest}}}" * (rest > 0)))
    return "|".join(options)


def _greater_letters(column: int) -> bytes:
    """A regex matching Excel column letters after column number ``column``."""
    letters = _letters(column)
    options = [f"[A-Z]{{{len(letters) + 1},}}"]
    for i, letter in enumerate(letters):
        if letter != "Z":
            rest = len(letters) - i - 1
            options.append(
                f"{letters[:i]}[{chr(ord(letter) + 1)}-Z]" + (f"[A-Z]{{{rest}}}" * (rest > 0))
            )
    return "|".join(options)


def _letters(column: int) -> str:
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_text_lengths(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """Refuse a cell holding more text than Excel allows, naming it."""
    for name, grid in sheets.items():
        lengths = grid.map(lambda value: len(value) if isinstance(value, str) else 0)
        hits = np.argwhere(lengths.to_numpy() > MAX_CELL_CHARS)
        if len(hits):
            row, col = (int(i) for i in hits[0])
            raise InputError(
                path,
                f"the cell holds {lengths.iat[row, col]:,} characters, more than the "
                f"{MAX_CELL_CHARS:,} Excel allows",
                sheet=name,
                cell=f"{_letters(col + 1)}{row + 1}",
            )


def _read_sheets_in_child(path: Path, kind: str) -> dict[str, pd.DataFrame]:
    """Read in a child process under a memory limit: if calamine aborts or runs out
    of memory there, this process reports it instead of dying."""
    with tempfile.TemporaryDirectory(prefix="migstock-read-") as folder:
        result = Path(folder) / "sheets.pickle"
        try:
            child = subprocess.run(
                [sys.executable, "-c", _CHILD, str(path), kind, str(result)],
                capture_output=True,
                text=True,
                timeout=CHILD_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise InputError(
                path, f"reading took longer than {CHILD_TIMEOUT_S} s and was stopped"
            ) from None
        if child.returncode == 0:
            with result.open("rb") as handle:
                return pickle.load(handle)
        if child.returncode == 3:  # an InputError, already worded
            raise InputError(path, child.stderr.strip().splitlines()[-1])
        lines = child.stderr.strip().splitlines()
        detail = next((line for line in lines if "allocat" in line), lines[-1] if lines else "")
        how = (
            f"was killed by {signal.Signals(-child.returncode).name}"
            if child.returncode < 0
            else f"failed (exit status {child.returncode})"
        )
        raise InputError(
            path,
            f"the {kind} reader {how}: {detail[:200]}; a sheet is probably far larger than "
            f"its content (the reader may use {CHILD_MEMORY_BYTES // 1024**3} GB of memory)",
        )


CHILD_TIMEOUT_S = 300
_CHILD = f"""
import pickle, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({CHILD_MEMORY_BYTES}, {CHILD_MEMORY_BYTES}))
from migstock.errors import InputError
from migstock.parse.read import _read_sheets
try:
    sheets = _read_sheets(Path(sys.argv[1]), sys.argv[2])
except InputError as error:
    print(error.problem, file=sys.stderr)
    sys.exit(3)
with open(sys.argv[3], "wb") as handle:
    pickle.dump(sheets, handle, protocol=pickle.HIGHEST_PROTOCOL)
"""
