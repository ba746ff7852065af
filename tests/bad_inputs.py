"""Bad inputs generated from the real UN workbooks, for the reliability suite.

Each :class:`Case` writes one bad file (or folder entry) into a raw folder and
says what the one-line rejection must contain. ``level`` tells where it is
caught: ``file`` (reading or parsing: the file alone is rejected) or
``revision`` (a blocking validation check: the revision is not loaded).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import string
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from migstock.demo.samples import write_grids
from migstock.parse.read import read_workbook
from tests.workbooks import declare, rewrite_parts

T20 = "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
T15 = "UN_MigrantStockTotal_2015.xlsx"
B15 = "UN_MigrantStockByOriginAndDestination_2015.xlsx"
#: the good file every case's store already holds, and the one loaded beside them
LOADED = "UN_MigrantStockTotal_2019.xlsx"
BESIDE = "UN_MigrantStockTotal_2017.xlsx"


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path, Path], Path]  # (official_dir, raw_dir) -> the bad entry
    expect: tuple[str, ...]  # fragments of the one-line message
    level: str = "file"


_GRIDS: dict[str, dict[str, pd.DataFrame]] = {}


def _grids(official: Path, name: str) -> dict[str, pd.DataFrame]:
    """The real workbook's sheets as grids (read once, copied for each edit)."""
    if name not in _GRIDS:
        _GRIDS[name] = read_workbook(official / name).sheets
    return {sheet: grid.copy() for sheet, grid in _GRIDS[name].items()}


def edited(source: str, edit: Callable[[dict[str, pd.DataFrame]], object], out: str):
    def build(official: Path, raw: Path) -> Path:
        grids = _grids(official, source)
        edit(grids)
        return write_grids(grids, raw / out)

    return build


def _row_of(grid: pd.DataFrame, code: int) -> int:
    return int(grid.index[grid[3] == code][0])


def set_cell(sheet: str, code: int, col: int, value: object):
    def edit(grids: dict[str, pd.DataFrame]) -> None:
        grid = grids[sheet]
        grid.iat[_row_of(grid, code), col] = value

    return edit


def rename(code: int, name: str):
    """Give location ``code`` another name in every table of a totals workbook."""

    def edit(grids: dict[str, pd.DataFrame]) -> None:
        for grid in grids.values():
            if 3 in grid.columns and (grid[3] == code).any():
                grid.iat[_row_of(grid, code), 1] = name

    return edit


def _bytes(data: bytes, out: str):
    def build(official: Path, raw: Path) -> Path:
        (raw / out).write_bytes(data)
        return raw / out

    return build


def _xml(source: str, part: str, edit: Callable[[bytes], bytes], out: str):
    def build(official: Path, raw: Path) -> Path:
        return rewrite_parts(
            official / source, raw / out, lambda name, data: edit(data) if name == part else data
        )

    return build


def _far_cell(tag: bytes) -> Callable[[bytes], bytes]:
    return lambda data: data.replace(
        b"</sheetData>", b'<row r="1048576">' + tag + b"<v>1</v></c></row></sheetData>"
    )


def _cells_without_references(data: bytes) -> bytes:
    """One row at 1,000,000 holding 100 cells that name no position (no ``r=``): calamine
    places them by counting, a box of 100 million cells."""
    row = b'<row r="1000000">' + b"<c><v>1</v></c>" * 100 + b"</row>"
    return data.replace(b"</sheetData>", row + b"</sheetData>")


def _retitle(year_from: str, year_to: str, sheets: tuple[str, ...] | None = None):
    def edit(grids: dict[str, pd.DataFrame]) -> None:
        for name, grid in grids.items():
            if sheets is None or name in sheets:
                for col in grid.columns:
                    values = grid[col].tolist()
                    grid[col] = [
                        v.replace(year_from, year_to) if isinstance(v, str) else v for v in values
                    ]

    return edit


def _truncated(official: Path, raw: Path) -> Path:
    data = (official / T20).read_bytes()
    (raw / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    return raw / "truncated.xlsx"


def _zip_bomb(official: Path, raw: Path) -> Path:
    with zipfile.ZipFile(raw / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 300_000_000)
    return raw / "bomb.xlsx"


def _lying_sizes(official: Path, raw: Path) -> Path:
    """The real 2020 workbook with its first sheet padded to about 400 MB, while its zip
    directory (central and local headers) declares 2,000 bytes for it: a zip bomb whose
    declared sizes pass every check of them. The CRC is the true one."""
    part = "xl/worksheets/sheet1.xml"
    out = raw / "liar.xlsx"
    with (
        zipfile.ZipFile(official / T20) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for member in source.infolist():
            data = source.read(member)
            if member.filename != part:
                archive.writestr(member.filename, data)
                continue
            end = data.index(b"</sheetData>")
            with archive.open(part, "w") as stream:  # streamed: never 400 MB in memory
                stream.write(data[:end])
                for _ in range(400):
                    stream.write(b" " * 1_000_000)
                stream.write(data[end:])
    return declare(out, part, size=2_000)


def _not_a_workbook_zip(official: Path, raw: Path) -> Path:
    with zipfile.ZipFile(raw / "report.xlsx", "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    return raw / "report.xlsx"


def _folder(official: Path, raw: Path) -> Path:
    (raw / "folder.xlsx").mkdir()
    return raw / "folder.xlsx"


def _fifo(official: Path, raw: Path) -> Path:
    os.mkfifo(raw / "pipe.xlsx")
    return raw / "pipe.xlsx"


def _broken_link(official: Path, raw: Path) -> Path:
    (raw / "gone.xlsx").symlink_to(raw / "does-not-exist.xlsx")
    return raw / "gone.xlsx"


def _huge_name(data: bytes) -> bytes:
    """Jordan's name as 1 MB of text (Excel itself stops at 32,767 characters)."""
    letters = "".join(random.Random(13).choices(string.ascii_letters, k=1_000_000)).encode()
    return re.sub(rb"(<t[^>]*>)\s*Jordan(</t>)", rb"\g<1>" + letters + rb"\g<2>", data, count=1)


def _long_name(grids: dict[str, pd.DataFrame]) -> None:
    grid = grids["Table 1"]
    grid.iat[_row_of(grid, 400), 1] = "Jordan " * 50


def _drop_sheet(name: str):
    return lambda grids: grids.pop(name)


def _blank_sheet(name: str):
    def edit(grids: dict[str, pd.DataFrame]) -> None:
        grids[name] = grids[name].map(lambda _: "")

    return edit


def _move_header(grids: dict[str, pd.DataFrame]) -> None:
    grid = grids["Table 1"]
    grid.iloc[10, :] = ""  # the header row is gone


def _wrong_table(grids: dict[str, pd.DataFrame]) -> None:
    grids["Table 1"] = grids.pop("Notes")  # a notes sheet where Table 1 should be


def _drop_row(code: int):
    def edit(grids: dict[str, pd.DataFrame]) -> None:
        for name in ("Table 1", "Table 2", "Table 3", "Table 4", "Table 5", "Table 6"):
            grid = grids[name]
            if (grid[3] == code).any():
                grids[name] = grid.drop(index=_row_of(grid, code)).reset_index(drop=True)

    return edit


def _duplicate_row(code: int):
    def edit(grids: dict[str, pd.DataFrame]) -> None:
        grid = grids["Table 1"]
        row = _row_of(grid, code)
        twin = grid.iloc[row : row + 1].copy()
        twin.iat[0, 5] = twin.iat[0, 5] + 1000  # the same place twice, with other numbers
        grids["Table 1"] = pd.concat(
            [grid.iloc[: row + 1], twin, grid.iloc[row + 1 :]]
        ).reset_index(drop=True)

    return edit


def _drop_year_column(grids: dict[str, pd.DataFrame]) -> None:
    grid = grids["Table 1"]
    column = next(c for c in grid.columns if grid.iat[10, c] in (2020, 2020.0))
    grids["Table 1"] = grid.drop(columns=column).T.reset_index(drop=True).T


def _origin_renamed(grids: dict[str, pd.DataFrame]) -> None:
    grid = grids["Table 16"]
    column = next(c for c in grid.columns if grid.iat[15, c] == "Albania")
    grid.iat[15, column] = "Atlantis"


def _bilateral_text(grids: dict[str, pd.DataFrame]) -> None:
    grid = grids["Table 16"]
    grid.iat[_row_of(grid, 682), 9] = "many"


def _formula_without_value(data: bytes) -> bytes:
    # Saudi Arabia's 1990 stock (F148 of Table 1) becomes a formula nobody calculated
    start = data.index(b'<c r="F148"')
    end = data.index(b"</c>", start) + len(b"</c>")
    return data[:start] + b'<c r="F148"><f>SUM(G148:H148)</f></c>' + data[end:]


CASES: list[Case] = [
    # the container
    Case("empty-file", _bytes(b"", "empty.xlsx"), ("empty.xlsx", "the file is empty")),
    Case("truncated", _truncated, ("truncated.xlsx", "damaged or truncated")),
    Case(
        "html-page",
        _bytes(b"<!DOCTYPE html><html><body>Access denied</body></html>", "page.xlsx"),
        ("page.xlsx", "HTML/XML page"),
    ),
    Case(
        "encrypted",  # Excel writes a password-protected .xlsx as an OLE container
        _bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"EncryptionInfo" * 64, "locked.xlsx"),
        ("locked.xlsx", "not a readable xls workbook"),
    ),
    Case("zip-bomb", _zip_bomb, ("bomb.xlsx", "possible zip bomb")),
    Case(
        "zip-bomb-lying-sizes",
        _lying_sizes,
        ("liar.xlsx", "possible zip bomb", "xl/worksheets/sheet1.xml", "2,000 bytes"),
    ),
    Case("zip-not-excel", _not_a_workbook_zip, ("report.xlsx", "xl/workbook.xml missing")),
    Case(
        "random-bytes",
        _bytes(bytes(range(256)) * 40, "noise.xlsx"),
        ("noise.xlsx", "not a spreadsheet"),
    ),
    Case("folder", _folder, ("folder.xlsx", "is a folder")),
    Case("fifo", _fifo, ("pipe.xlsx", "not a regular file")),
    Case("broken-link", _broken_link, ("gone.xlsx", "does not exist")),
    # sheet sizes that would abort calamine
    Case(
        "cell-at-XFD1048576",
        _xml(T20, "xl/worksheets/sheet2.xml", _far_cell(b'<c r="XFD1048576">'), "far.xlsx"),
        ("far.xlsx", "sheet 'Table 1'", "XFD1048576", "refused"),
    ),
    Case(
        "far-cell-odd-markup",
        _xml(T20, "xl/worksheets/sheet2.xml", _far_cell(b'<c\tr="XFD1048576">'), "odd.xlsx"),
        ("odd.xlsx", "sheet 'Table 1'", "XFD1048576", "refused"),
    ),
    Case(
        "far-cell-attribute-order",
        _xml(T20, "xl/worksheets/sheet2.xml", _far_cell(b'<c s="0" r="XFD1048576">'), "ord.xlsx"),
        ("ord.xlsx", "sheet 'Table 1'", "XFD1048576", "refused"),
    ),
    Case(
        "cells-without-references",
        _xml(T20, "xl/worksheets/sheet2.xml", _cells_without_references, "noref.xlsx"),
        ("noref.xlsx", "sheet 'Table 1'", "1,000,000 rows x 100 columns", "refused"),
    ),
    # title blocks and layout
    Case(
        "unknown-revision-2099",
        edited(T20, _retitle("2020", "2099"), "r2099.xlsx"),
        ("r2099.xlsx", "revision 2099, which migstock does not know"),
    ),
    Case(
        "mixed-revision",
        edited(T20, _retitle("2020", "2019", ("Table 2",)), "mixed.xlsx"),
        ("mixed.xlsx",),
    ),
    Case("missing-sheet", edited(T20, _drop_sheet("Table 1"), "nosheet.xlsx"), ("nosheet.xlsx",)),
    Case("blank-sheet", edited(T20, _blank_sheet("Table 1"), "blank.xlsx"), ("blank.xlsx",)),
    Case(
        "moved-header",
        edited(T20, _move_header, "header.xlsx"),
        ("header.xlsx", "Table 1"),
    ),
    Case("wrong-table", edited(T20, _wrong_table, "wrong.xlsx"), ("wrong.xlsx",)),
    Case(
        "deleted-year-column",
        edited(T20, _drop_year_column, "noyear.xlsx"),
        ("noyear.xlsx", "2020"),
    ),
    # cell values
    Case(
        "text-in-count",
        edited(T20, set_cell("Table 1", 682, 5, "about five million"), "text.xlsx"),
        ("text.xlsx", "sheet 'Table 1'", "F148"),
    ),
    Case(
        "date-in-count",
        edited(T20, set_cell("Table 1", 682, 5, dt.datetime(2020, 7, 1)), "date.xlsx"),
        ("date.xlsx", "sheet 'Table 1'", "F148"),
    ),
    Case(
        "fractional-count",
        edited(T20, set_cell("Table 1", 682, 5, 12.5), "frac.xlsx"),
        ("frac.xlsx", "sheet 'Table 1'", "F148", "12.5"),
    ),
    Case(
        "text-inf-in-count",
        edited(T20, set_cell("Table 1", 682, 5, "inf"), "inf.xlsx"),
        ("inf.xlsx", "sheet 'Table 1'", "F148", "'inf'"),
    ),
    Case(
        "text-1e400-in-count",
        edited(T20, set_cell("Table 1", 682, 5, "1e400"), "e400.xlsx"),
        ("e400.xlsx", "sheet 'Table 1'", "F148", "'1e400'"),
    ),
    Case(
        "decimal-comma",
        edited(T20, set_cell("Table 1", 682, 5, "12,5"), "comma.xlsx"),
        ("comma.xlsx", "sheet 'Table 1'", "F148"),
    ),
    Case(  # '~' is NULL plus a flag, as the UN's notes define it; an Arab country
        # without a value then fails the completeness check of the 22
        "suppressed-arab-country",
        edited(T20, set_cell("Table 1", 682, 5, "~"), "tilde.xlsx"),
        ("revision 2020",),
        level="revision",
    ),
    Case(
        "formula-without-value",
        _xml(T20, "xl/worksheets/sheet2.xml", _formula_without_value, "formula.xlsx"),
        ("formula.xlsx", "sheet 'Table 1'", "F148"),
    ),
    Case(
        "text-code",
        edited(T20, set_cell("Table 1", 682, 3, "SAU"), "code.xlsx"),
        ("code.xlsx", "sheet 'Table 1'", "D148"),
    ),
    Case(
        "name-1MB",
        _xml(T20, "xl/sharedStrings.xml", _huge_name, "huge.xlsx"),
        ("huge.xlsx", "sheet 'Table 1'", "cell B", "1,000,000 characters"),
    ),
    Case(
        "name-300-chars",
        edited(T20, _long_name, "long.xlsx"),
        ("long.xlsx", "location name of", "characters"),
    ),
    Case(
        "bilateral-unknown-origin",
        edited(B15, _origin_renamed, "atlantis.xlsx"),
        ("atlantis.xlsx", "Atlantis"),
    ),
    Case(
        "bilateral-text",
        edited(B15, _bilateral_text, "bitext.xlsx"),
        ("bitext.xlsx", "sheet 'Table 16'"),
    ),
    # blocking validation checks: the revision is rejected
    Case(
        "negative-count",
        edited(T20, set_cell("Table 1", 682, 5, -1.0), "negative.xlsx"),
        ("revision 2020", "expect_column_values_to_be_between on migrants"),
        level="revision",
    ),
    Case(
        "male-female-not-total",
        edited(T20, set_cell("Table 1", 682, 14, 1.0), "sexes.xlsx"),
        ("revision 2020",),
        level="revision",
    ),
    Case(
        "arab-country-missing",
        edited(T20, _drop_row(682), "nosaudi.xlsx"),
        ("revision 2020",),
        level="revision",
    ),
    Case(
        "duplicate-row",
        edited(T20, _duplicate_row(400), "dupe.xlsx"),
        ("dupe.xlsx", "sheet 'Table 1'", "D144", "duplicated destination row"),
    ),
    Case(
        "code-not-in-M49",
        edited(T20, set_cell("Table 1", 682, 3, 687.0), "m49.xlsx"),
        ("revision 2020",),
        level="revision",
    ),
]
