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

import copy
import io
import json
import os
import pickle
import posixpath
import re
import signal
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineWorkbook

from migstock.errors import InputError, printable

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
        grid = _read_csv(path)
        _check_text_lengths(path, {CSV_SHEET: grid.to_numpy()})
        return Workbook(path, {CSV_SHEET: grid})
    if kind == "xlsx":
        check_zip(path)
        in_process = check_xlsx_sheets(path)
    else:
        in_process = False
    # calamine allocates a sheet's whole bounding box and aborts the process when it
    # cannot: a workbook whose every cell the scan could place is read here, any
    # other (unusual markup, .xls) in a child process under a memory limit
    cells = _read_sheets(path, kind) if in_process else _read_sheets_in_child(path, kind)
    if not cells:
        raise InputError(path, "the workbook has no sheets")
    _check_text_lengths(path, cells)
    return Workbook(path, {name: pd.DataFrame(grid, copy=False) for name, grid in cells.items()})


def _read_sheets(path: Path, kind: str) -> dict[str, np.ndarray]:
    try:
        book = CalamineWorkbook.from_path(str(path))
        return {
            name: _grid(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for name in book.sheet_names
        }
    except Exception as error:  # calamine raises several unrelated types
        raise InputError(path, f"not a readable {kind} workbook ({error})") from error


def _grid(rows: list[list[object]]) -> np.ndarray:
    """A rectangular object array; calamine gives numbers as floats and blanks as ''."""
    width = max((len(row) for row in rows), default=0)
    if any(len(row) != width for row in rows):
        rows = [row + [""] * (width - len(row)) for row in rows]
    return np.array(rows, dtype=object).reshape(len(rows), width)


def check_zip(path: Path) -> None:
    """An .xlsx must be a readable zip holding a workbook, and no zip bomb.

    Only the central directory is read: sizes are what the archive declares. The scan
    of :func:`check_xlsx_sheets` then unpacks every part no further than its declared
    size (:func:`_unpack`), so these limits hold for the bytes as unpacked too.
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


def check_xlsx_sheets(path: Path) -> bool:
    """Check every part of an .xlsx before calamine materialises a sheet.

    calamine allocates a sheet's whole bounding box and aborts the process when
    it cannot, so the workbook is held to :data:`MAX_WORKBOOK_CELLS` (rows x
    columns from A1, summed over its sheets) whatever its XML says. The usual
    part takes one RE2 pass: its cells are ``<c r="A1"`` tags within the sheet's
    ``<dimension>``, and no formula lacks its saved value. Only a part where
    that pass finds something is looked at again: cells beyond the dimension are
    measured exactly, cells the pass cannot place (no ``r=``, other markup) are
    placed as calamine places them. Every part is scanned, not only
    ``xl/worksheets/`` (a workbook may put a sheet anywhere): the sheets together,
    and any other part alone, are held to the limit.
    Returns whether the workbook may be read in this process: False when a cell
    was placed by emulating calamine (read in a child process, to be safe).
    Raises :class:`InputError` naming the sheet (and the cell for a formula).
    """
    try:
        return _check_parts(path)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:  # a part's data is damaged
        raise InputError(path, f"the .xlsx file is damaged or truncated ({error})") from None


def _check_parts(path: Path) -> bool:
    """:func:`check_xlsx_sheets` without the wording of a damaged zip."""
    in_process, total = True, 0
    with zipfile.ZipFile(path) as archive:
        sheets = _sheet_parts(path, archive)
        for part, data, (rows, columns), found in _first_pass(path, archive):
            sheet = sheets.get(part)
            if found:
                formula = _FORMULA_WITHOUT_VALUE.search(data) if sheet is not None else None
                if formula:
                    raise InputError(
                        path,
                        "the cell holds a formula whose value was never saved (a workbook "
                        "written by a program, not Excel); open and save it in Excel or "
                        "LibreOffice",
                        sheet=sheet,
                        cell=formula[1].decode(),
                    )
                if _matches(_UNUSUAL_CELL, data):
                    in_process = False  # placed here as calamine would; read in a child
                    rows, columns = _placed_range(data)
                elif _matches(_beyond(rows, columns), data):
                    rows, columns = _used_range(data)
            if sheet is not None:  # calamine reads sheets only: other parts count alone
                total += rows * columns
            _check_size(path, sheet, part, rows, columns, total)
    return in_process


#: parts smaller than this are matched together, one RE2 pass per declared range,
#: until they hold :data:`_BATCH_HELD_BYTES` between them
_BATCH_BYTES = 1024 * 1024
_BATCH_HELD_BYTES = 32 * 1024 * 1024


#: how much of a part is decompressed at a time
_UNPACK_CHUNK_BYTES = 1024 * 1024


def _unpack(path: Path, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    """A part's bytes, decompressed a chunk at a time and never beyond the size the zip
    directory declares for it: a part that unpacks to more is refused once it has, a zip
    bomb whose directory lies (the declared sizes are what :func:`check_zip` limits).

    zipfile itself stops at the declared size and then fails the CRC check; it is told
    one byte more and no CRC, so that a longer part shows, and the CRC is checked here.
    """
    name = printable(member.filename)
    probe = copy.copy(member)
    probe.file_size = member.file_size + 1
    probe.CRC = None  # type: ignore[assignment]  # zipfile checks no CRC without one
    chunks, size, crc = [], 0, 0
    with archive.open(probe) as stream:
        while chunk := stream.read(_UNPACK_CHUNK_BYTES):
            size += len(chunk)
            if size > member.file_size:
                raise InputError(
                    path,
                    f"refused as a possible zip bomb: part {name} unpacks to more than the "
                    f"{member.file_size:,} bytes its zip directory declares",
                )
            crc = zlib.crc32(chunk, crc)
            chunks.append(chunk)
    if crc != member.CRC:
        raise InputError(
            path, f"the .xlsx file is damaged or truncated (part {name} fails its CRC-32 check)"
        )
    return b"".join(chunks)


def _first_pass(
    path: Path, archive: zipfile.ZipFile
) -> Iterator[tuple[str, bytes, tuple[int, int], bool]]:
    """Each part with its declared range and whether one RE2 pass found anything to look
    at again (see :data:`_ANYTHING`). A pattern is compiled for each pass, so the many
    small parts of a workbook (styles, themes, small sheets) are matched together."""
    small: dict[tuple[int, int], list[tuple[str, bytes]]] = defaultdict(list)
    held = 0
    for member in archive.infolist():
        data = _unpack(path, archive, member)
        declared = _declared_range(data[:2048])
        if len(data) >= _BATCH_BYTES:
            yield member.filename, data, declared, _matches(_look_again(*declared), data)
            continue
        small[declared].append((member.filename, data))
        held += len(data)
        if held >= _BATCH_HELD_BYTES:
            yield from _match_batches(small)
            small, held = defaultdict(list), 0
    yield from _match_batches(small)


def _match_batches(
    small: dict[tuple[int, int], list[tuple[str, bytes]]],
) -> Iterator[tuple[str, bytes, tuple[int, int], bool]]:
    for declared, parts in small.items():
        array = pa.array([data for _, data in parts], type=pa.binary())
        found = pc.match_substring_regex(array, _look_again(*declared)).to_pylist()
        for (part, data), hit in zip(parts, found, strict=True):
            yield part, data, declared, bool(hit)


def _look_again(rows: int, columns: int) -> str:
    return f"{_ANYTHING}|{_beyond(rows, columns)}"


#: largest workbook: cells counted from A1 (rows x columns), summed over its sheets;
#: the real 2024 bilateral table has ~1.1M, the 2019 one ~1.5M over three sheets
MAX_WORKBOOK_CELLS = 20_000_000
MAX_SHEET_CELLS = MAX_WORKBOOK_CELLS
#: Excel's own limit on the characters in one cell
MAX_CELL_CHARS = 32_767
#: what the child reader needs for one cell at its peak: calamine's list of cells and
#: the bounding box it builds from them. Measured (peak RSS, sheets of numbers without
#: cell references, 1 and 4 million cells): 71 bytes a cell above about 100 MB. The
#: child hands rows over a few thousand at a time, so Python's objects for a whole
#: sheet are never held there.
CHILD_BYTES_PER_CELL = 80
#: the child's interpreter, python-calamine and its buffers (about 100 MB measured)
CHILD_BASE_BYTES = 256 * 1024**2
#: a child process that reads a workbook may use this much address space (1.7 GiB)
CHILD_MEMORY_BYTES = CHILD_BASE_BYTES + MAX_SHEET_CELLS * CHILD_BYTES_PER_CELL


def _check_size(
    path: Path, sheet: str | None, part: str, rows: int, columns: int, total: int
) -> None:
    """Refuse a sheet, or a workbook, of more than :data:`MAX_WORKBOOK_CELLS` cells."""
    if rows * columns > MAX_WORKBOOK_CELLS:
        where = "" if sheet is not None else f"part {part} "
        raise InputError(
            path,
            f"{where}spans {rows:,} rows x {columns:,} columns from A1 (a cell as far as "
            f"{_letters(columns)}{rows}); sheets of more than {MAX_WORKBOOK_CELLS:,} cells "
            "are refused",
            sheet=sheet,
        )
    if total > MAX_WORKBOOK_CELLS:
        raise InputError(
            path,
            f"its sheets span {total:,} cells from A1 together (the last one checked "
            f"{rows:,} rows x {columns:,} columns); workbooks of more than "
            f"{MAX_WORKBOOK_CELLS:,} cells are refused",
            sheet=sheet,
        )


#: RE2 (through pyarrow: one linear pass) for cell tags the scan cannot place:
#: not ``<c r="`` (other white space, attribute order, a namespace prefix, no
#: reference) or a reference that is not 1-3 capitals and 1-7 digits
_UNUSUAL_CELL = (
    r'<c(?:[\t\r\n/>]| [^r]| r[^=]| r=[^"])|<[^>\s/:!?]+:c[\s/>]'
    r'|<c r="(?:[^A-Z]|[A-Z]{4}|[A-Z]{1,3}[^0-9A-Z]|[A-Z]{1,3}[0-9]{1,7}[^0-9"]|[A-Z]{1,3}[0-9]{8})'
)
_CELL_REF = re.compile(rb'<c r="([A-Z]+)([0-9]+)"')
#: a formula cell that ends without a ``<v>``: calamine would read it as blank
_NO_VALUE = r"</f></c>|<f[^>]*/></c>"
_FORMULA_WITHOUT_VALUE = re.compile(
    rb'<c r="([A-Z]{1,3}[0-9]{1,7})"[^>]*>(?:<f>[^<]*</f>|<f[^>]*/>)</c>'
)
_ANYTHING = f"{_UNUSUAL_CELL}|{_NO_VALUE}"


_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"
_RELATION_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _sheet_parts(path: Path, archive: zipfile.ZipFile) -> dict[str, str]:
    """Part name (``xl/worksheets/sheet2.xml``) -> sheet name, to name sheets in errors."""
    try:
        book = ElementTree.fromstring(_unpack(path, archive, archive.getinfo("xl/workbook.xml")))
        relations = ElementTree.fromstring(
            _unpack(path, archive, archive.getinfo("xl/_rels/workbook.xml.rels"))
        )
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
    """Rows and columns of the sheet's ``<dimension>``, to check its cells against (it is
    only a claim); (0, 0), so that every cell is measured, when missing or too large."""
    match = _DIMENSION.search(head)
    if not match:
        return 0, 0
    rows, columns = int(match[2]), _column(match[1])
    if rows * columns > MAX_WORKBOOK_CELLS:
        return 0, 0
    return rows, columns


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


#: a ``<row>`` or ``<c>`` tag in any namespace, its attributes (quoted values may hold ``>``)
_ROW_OR_CELL_TAG = re.compile(
    rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
)
_R_ATTRIBUTE = re.compile(rb"(?:^|\s)r\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REFERENCE = re.compile(rb"([A-Za-z]{1,9})([0-9]{1,9})")


def _placed_range(data: bytes) -> tuple[int, int]:
    """(rows, columns) from A1 to the farthest cell, every cell placed as calamine places
    it: at its ``r=`` reference, or (without one) after the cell before it in its row,
    the row being the ``<row r=>`` or the one after the previous row. Where the two
    could differ both count: the range is never smaller than calamine's."""
    rows = columns = 0
    row = column = 0  # 0-based position of the next row and of the next cell in it
    for tag in _ROW_OR_CELL_TAG.finditer(data):
        closing, name, attributes = tag[1], tag[2], tag[3]
        if name == b"row":
            if closing:
                row, column = row + 1, 0
                continue
            number = _R_ATTRIBUTE.search(attributes)
            value = (number[1] or number[2] or b"").strip() if number else b""
            if value.isdigit():
                row = max(int(value) - 1, 0)
            column = 0
            if attributes.rstrip().endswith(b"/"):
                row += 1
            continue
        if closing:
            continue
        rows, columns = max(rows, row + 1), max(columns, column + 1)
        reference = _R_ATTRIBUTE.search(attributes)
        placed = (
            _REFERENCE.fullmatch((reference[1] or reference[2] or b"").strip())
            if (reference)
            else None
        )
        if placed:
            at_row, at_column = int(placed[2]), _column(placed[1].upper())
            rows, columns = max(rows, at_row), max(columns, at_column)
            column = max(column, at_column - 1)
        column += 1
    return rows, columns


def _greater_number(n: int) -> str:
    """A regex matching decimal numbers (no leading zeros) greater than ``n``."""
    digits = str(n)
    options = [rf"[1-9][0-9]{{{len(digits)},}}"]
    for i, digit in enumerate(digits):
        if digit != "9":
            rest = len(digits) - i - 1
            options.append(f"{digits[:i]}[{int(digit) + 1}-9]" + (f"[0-9]{{{rest}}}" * (rest > 0)))
    return "|".join(options)


def _greater_letters(column: int) -> str:
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


def _check_text_lengths(path: Path, sheets: dict[str, np.ndarray]) -> None:
    """Refuse a cell holding more text than Excel allows, naming it.

    One pass over the cells in C (about 35 ms a million cells); the cell is
    looked for only when there is one."""
    for name, grid in sheets.items():
        cells = grid.ravel()
        if max(map(len, filter(str.__instancecheck__, cells)), default=0) <= MAX_CELL_CHARS:
            continue
        position = next(
            i
            for i, value in enumerate(cells)
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS
        )
        row, col = divmod(position, grid.shape[1])
        raise InputError(
            path,
            f"the cell holds {len(cells[position]):,} characters, more than the "
            f"{MAX_CELL_CHARS:,} Excel allows",
            sheet=name,
            cell=f"{_letters(col + 1)}{row + 1}",
        )


def _read_sheets_in_child(path: Path, kind: str) -> dict[str, np.ndarray]:
    """Read in a child process under a memory limit that follows from the cell limit:
    if calamine aborts or runs out of memory there, this process reports it instead
    of dying. The child imports only python-calamine and hands over one sheet at a
    time, refusing a sheet (or workbook) larger than :data:`MAX_WORKBOOK_CELLS`."""
    with tempfile.TemporaryDirectory(prefix="migstock-read-") as folder:
        result = Path(folder) / "sheets.pickle"
        try:
            child = subprocess.run(
                [sys.executable, "-I", "-c", _CHILD, str(path), str(result), str(os.getpid())],
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
            sheets = {}
            with result.open("rb") as handle:
                for _ in range(pickle.load(handle)):
                    name, rows = pickle.load(handle), []
                    while (chunk := pickle.load(handle)) is not None:
                        rows += chunk
                    above = pickle.load(handle)
                    sheets[name] = _grid([[]] * above + rows)
            return sheets
        lines = child.stderr.strip().splitlines()
        if child.returncode == 3 and lines:  # a refusal, already worded: [sheet, problem]
            sheet, problem = json.loads(lines[-1])
            if problem.startswith("not a readable workbook"):
                problem = problem.replace("workbook", f"{kind} workbook", 1)
            raise InputError(path, problem, sheet=sheet or None)
        detail = next((line for line in lines if "allocat" in line), lines[-1] if lines else "")
        how = (
            f"was killed by {signal.Signals(-child.returncode).name}"
            if child.returncode < 0
            else f"failed (exit status {child.returncode})"
        )
        raise InputError(
            path,
            f"the {kind} reader {how}: {detail[:200]}; a sheet is probably far larger than "
            f"its content (the reader may use {CHILD_MEMORY_BYTES / 1024**3:.1f} GB of memory)",
        )


CHILD_TIMEOUT_S = 300
#: run with ``python -I``: nothing of migstock, pandas or pyarrow is imported
_CHILD = f"""
import ctypes, json, os, pickle, resource, signal, sys
try:  # Linux: end with the run, even when it is killed outright (PR_SET_PDEATHSIG)
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
except (OSError, AttributeError):
    pass
if os.getppid() != int(sys.argv[3]):  # the run ended before the line above
    sys.exit(1)
resource.setrlimit(resource.RLIMIT_AS, ({CHILD_MEMORY_BYTES}, {CHILD_MEMORY_BYTES}))
from python_calamine import CalamineWorkbook

def refuse(sheet, problem):
    print(json.dumps([sheet, problem]), file=sys.stderr)
    sys.exit(3)

try:
    book = CalamineWorkbook.from_path(sys.argv[1])
    names = book.sheet_names
except Exception as error:
    refuse("", f"not a readable workbook ({{error}})")
total = 0
with open(sys.argv[2], "wb") as handle:
    pickle.dump(len(names), handle)
    for name in names:
        try:
            sheet = book.get_sheet_by_name(name)
        except Exception as error:
            refuse("", f"not a readable workbook ({{error}})")
        end = sheet.end  # (row, column) of the last cell, 0-based; None when empty
        rows, columns = (end[0] + 1, end[1] + 1) if end else (0, 0)
        total += rows * columns
        if rows * columns > {MAX_WORKBOOK_CELLS} or total > {MAX_WORKBOOK_CELLS}:
            refuse(name, f"spans {{rows:,}} rows x {{columns:,}} columns from A1 (the workbook "
                   f"{{total:,}} cells so far); workbooks of more than {MAX_WORKBOOK_CELLS:,} "
                   "cells are refused")
        # the rows of to_python(skip_empty_area=False), a few thousand at a time: only
        # calamine's box and one chunk of Python objects are held here at once
        pickle.dump(name, handle)
        chunk, count = [], 0
        for row in sheet.iter_rows():
            chunk.append([""] * (columns - len(row)) + row if len(row) < columns else row)
            if len(chunk) >= 4096:
                pickle.dump(chunk, handle, protocol=pickle.HIGHEST_PROTOCOL)
                count, chunk = count + len(chunk), []
        pickle.dump(chunk, handle, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(None, handle)
        pickle.dump(rows - count - len(chunk), handle)  # blank rows above the first given
        del sheet
"""
