"""Layout-faithful International Migrant Stock workbooks, for tests and the demo.

Each writer reproduces the title block, header labels and value conventions
of one layout family (see ../shared/data/un-ims/SOURCES.md); the numbers are
whatever the caller passes in. ``write_demo_workbooks`` fills every layout
with clearly labelled synthetic numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Literal

import numpy as np
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from migstock.catalog import AGE_LAYOUTS, CATALOG

SEX_TITLE = {"total": "Total", "male": "Male", "female": "Female"}
SEX_BLOCKS = {
    "total": "International migrant stock at mid-year, both sexes combined",
    "male": "International migrant stock at mid-year, males",
    "female": "International migrant stock at mid-year, females",
}

Destination = tuple[str, int]  # (name, code)
HEADER_2020 = [
    "Index",
    "Region, development group, country or area of destination",
    "Notes of destination",
    "Location code of destination",
    "Type of data of destination",
    "Region, development group, country or area of origin",
    "Location code of origin",
]
HEADER_2024 = [
    "Index",
    "Region, development group, country or area of destination",
    "Coverage",
    "Data type",
    "Location code of destination",
    "Region, development group, country or area of origin",
    "Location code of origin",
]


BILATERAL_HEADING = "Trends in International Migrant Stock: Migrants by Destination and Origin"


class _XlsSheet:
    """An xlwt sheet behind xlsxwriter's ``write(row, col, value)``."""

    def __init__(self, sheet: object) -> None:
        self._sheet = sheet

    def write(self, row: int, col: int, value: object, *_: object) -> None:
        self._sheet.write(row, col, value)  # type: ignore[attr-defined]

    write_number = write


class _XlsBook:
    """The .xls container (BIFF8, as the UN published 2013) behind the part of
    xlsxwriter's ``Workbook`` the writers use. xlwt is a development dependency."""

    def __init__(self, path: Path) -> None:
        import xlwt

        self._path = path
        self._book = xlwt.Workbook(encoding="utf-8")

    def add_worksheet(self, name: str) -> _XlsSheet:
        return _XlsSheet(self._book.add_sheet(name[:31], cell_overwrite_ok=True))

    def close(self) -> None:
        self._book.save(str(self._path))


def _write_cells(sheet, row: int, first_col: int, values: Iterable[object]) -> None:
    """One row's values from ``first_col`` on; None leaves a cell blank. Plain numbers go
    straight to ``write_number`` (a workbook of the real size has millions)."""
    for col, value in enumerate(values, start=first_col):
        if value is None:
            continue
        if type(value) is int or type(value) is float:
            sheet.write_number(row, col, value)
        else:
            sheet.write(row, col, value)


def _workbook(path: Path) -> object:
    """A new workbook: ``.xls`` through xlwt, anything else as .xlsx through xlsxwriter
    (shared strings, as Excel writes them)."""
    if path.suffix.lower() == ".xls":
        return _XlsBook(path)
    return xlsxwriter.Workbook(str(path))


def _title_block(
    sheet,
    revision: int,
    title: str,
    *,
    heading: str = BILATERAL_HEADING,
    note: str | None = None,
) -> None:
    """The 2013-2019 title block (rows 5-13, column E); ``note`` goes on row 12."""
    sheet.write(4, 4, "United Nations")
    sheet.write(5, 4, "Population Division")
    sheet.write(6, 4, "Department of Economic and Social Affairs")
    sheet.write(8, 4, heading)
    sheet.write(9, 4, title)
    sheet.write(10, 4, f"POP/DB/MIG/Stock/Rev.{revision}")
    if note:
        sheet.write(11, 4, note)
    sheet.write(12, 1, f"Suggested citation: United Nations ({revision}).")


def _title_block_2020(
    sheet, revision: int, title: str, *, col: int = 4, note: str | None = None
) -> None:
    """The 2020/2024 title block (rows 2-4; 2024 in column F); ``note`` goes on row 6."""
    sheet.write(1, col, f"International Migrant Stock {revision}")
    sheet.write(2, col, title)
    sheet.write(3, col, f"POP/DB/MIG/Stock/Rev.{revision}")
    if note:
        sheet.write(5, col, note)


def _year_blocks(sheet, first_col: int, years: Sequence[int]) -> None:
    """Block titles on Excel row 8, years on the header row 11, one block per sex."""
    for block, sex in enumerate(("total", "male", "female")):
        start = first_col + block * len(years)
        sheet.write(7, start, SEX_BLOCKS[sex])
        for offset, year in enumerate(years):
            sheet.write(10, start + offset, year)


#: a row of the ANNEX sheet (2013-2019): code, name, major area and its code, region
#: and its code
AnnexRow = tuple[int, str, str, int, str, int]


def write_wide_origins(
    path: Path,
    revision: int,
    tables: Sequence[tuple[int, str, int, dict[int, list[object]]]],
    destinations: Sequence[Destination],
    origins: Sequence[str],
    *,
    more: dict[int, str] | None = None,
    data_types: dict[int, str] | None = None,
    annex: Sequence[AnnexRow] | None = None,
    note: str | None = None,
) -> Path:
    """2013/2015 layout: one sheet per (year, sex).

    ``tables`` holds (table number, sex, year, {destination code: row values}),
    row values being one cell per origin (Total first; None leaves the cell blank).
    ``more`` (2013): the "More" column (code -> "Yes"/"No"), written before the
    origins, with the labels and origin names on one header row as in 2013 (2015:
    labels on row 15, origin names on row 16). ``data_types``: type-of-data letters
    per code; ``annex``: an ANNEX sheet; ``note``: a line in every title block. A
    ``.xls`` path writes the .xls container.
    """
    book = _workbook(path)
    book.add_worksheet("CONTENTS").write(9, 0, "TABLE OF CONTENTS")
    left = [
        "Sort\norder",
        "Major area, region, country or area of destination",
        "Notes",
        "Country code",
        "Type of data (a)",
    ]
    label_row = 14
    if more is not None:
        left.append("More")
        label_row = 15
    first = len(left)
    for number, sex, year, values in tables:
        sheet = book.add_worksheet(f"Table {number}")
        title = (
            f"Table {number}. {SEX_TITLE[sex]} migrant stock at mid-year by origin and by major "
            f"area, region, country or area of destination, {year}"
        )
        _title_block(sheet, revision, title, note=note)
        for col, label in enumerate(left):
            sheet.write(label_row, col, label)
        sheet.write(14, first, "Country of origin")
        for col, origin in enumerate(origins, start=first):
            sheet.write(15, col, origin)
        for i, (name, code) in enumerate(destinations):
            row = 16 + i
            sheet.write(row, 0, i + 1)
            sheet.write(row, 1, name)
            sheet.write(row, 3, code)
            if data_types and code in data_types:
                sheet.write(row, 4, data_types[code])
            if more and code in more:
                sheet.write(row, 5, more[code])
            _write_cells(sheet, row, first, values.get(code, []))
    if annex is not None:
        _annex_sheet(book, revision, annex, note)
    book.add_worksheet("NOTES").write(0, 0, "NOTES")
    book.close()
    return path


def _annex_sheet(book: object, revision: int, rows: Sequence[AnnexRow], note: str | None) -> None:
    """The ANNEX of 2013-2019 workbooks: each country's code, major area and region."""
    sheet = book.add_worksheet("ANNEX")  # type: ignore[attr-defined]
    _title_block(
        sheet,
        revision,
        "ANNEX. Classification of countries and areas by major area and region",
        note=note,
    )
    for col, label in enumerate(
        ["Country code", "Country or area", "Major area", "Code", "Region", "Code"]
    ):
        sheet.write(14, col, label)
    for i, cells in enumerate(rows):
        for col, value in enumerate(cells):
            sheet.write(15 + i, col, value)


def write_long_rows(
    path: Path,
    revision: int,
    years: Sequence[int],
    rows: Sequence[tuple[Destination, Destination, dict[str, list[object]]]],
    *,
    data_types: dict[int, str] | None = None,
    note: str | None = None,
) -> Path:
    """2020/2024 layout: Table 1, one row per destination x origin, years x sex blocks.

    ``rows`` holds (destination, origin, {sex: one value per year}).
    ``data_types``: type-of-data letters per destination code; ``note``: a line in
    the title block.
    """
    book = _workbook(path)
    book.add_worksheet("Contents").write(2, 1, "Table of contents")
    sheet = book.add_worksheet("Table 1")
    _title_block_2020(
        sheet,
        revision,
        "Table 1: International migrant stock at mid-year by sex, destination and origin, "
        f"{years[0]}-{years[-1]}",
        note=note,
    )
    header = HEADER_2024 if revision >= 2024 else HEADER_2020
    for col, label in enumerate(header):
        sheet.write(10, col, label)
    first = len(header)
    _year_blocks(sheet, first, years)
    destination_code_col = header.index("Location code of destination")
    type_col = header.index("Data type" if revision >= 2024 else "Type of data of destination")
    origin_col = header.index("Region, development group, country or area of origin")
    origin_code_col = header.index("Location code of origin")
    for i, ((dest, dest_code), (origin, origin_code), values) in enumerate(rows):
        row = 11 + i
        sheet.write(row, 0, i + 1)
        sheet.write(row, 1, dest)
        sheet.write(row, destination_code_col, dest_code)
        if data_types and dest_code in data_types:
            sheet.write(row, type_col, data_types[dest_code])
        sheet.write(row, origin_col, origin)
        if origin_code is not None:
            sheet.write(row, origin_code_col, origin_code)
        for block, sex in enumerate(("total", "male", "female")):
            _write_cells(sheet, row, first + block * len(years), values[sex])
    book.close()
    return path


def write_year_rows(
    path: Path,
    revision: int,
    tables: dict[str, list[list[object]]],
    origins: Sequence[str],
    codes: dict[str, int],
    *,
    data_types: dict[int, str] | None = None,
    annex: Sequence[AnnexRow] | None = None,
    note: str | None = None,
) -> Path:
    """2017/2019 layout: Tables 1/2/3 (total/male/female), rows are destination x year.

    ``tables[sex]`` holds rows ``[year, destination name, value per origin...]``
    (``origins`` names the value columns, Total first). Destinations missing
    from ``codes`` are section titles and get no code, as in the originals.
    ``data_types``: type-of-data letters per code; ``annex``: an ANNEX sheet;
    ``note``: a line in every title block.
    """
    book = _workbook(path)
    book.add_worksheet("CONTENTS").write(9, 0, "TABLE OF CONTENTS")
    for number, sex in enumerate(("total", "male", "female"), start=1):
        if sex not in tables:
            continue
        sheet = book.add_worksheet(f"Table {number}")
        _title_block(
            sheet,
            revision,
            f"Table {number}. {SEX_TITLE[sex]} migrant stock at mid-year by origin and by major "
            f"area, region, country or area of destination, 1990-{revision}",
            note=note,
        )
        left = [
            "Year",
            "Sort\norder",
            "Major area, region, country or area of destination",
            "Notes",
            "Code",
            "Type of data (a)",
        ]
        for col, label in enumerate(left):
            sheet.write(15, col, label)
        sheet.write(14, len(left), "Country of origin")
        for col, origin in enumerate(origins, start=len(left)):
            sheet.write(15, col, origin)
        for i, (year, name, *values) in enumerate(tables[sex]):
            row = 16 + i
            sheet.write(row, 0, year)
            sheet.write(row, 1, i + 1)
            sheet.write(row, 2, name)
            if name in codes:
                sheet.write(row, 4, codes[name])
                if data_types and codes[name] in data_types:
                    sheet.write(row, 5, data_types[codes[name]])
            _write_cells(sheet, row, len(left), values)
    if annex is not None:
        _annex_sheet(book, revision, annex, note)
    book.close()
    return path


#: the layouts of the destination-totals workbooks: "classic" 2013-2019 (title block
#: in column E, labels on row 15, years on row 16), "2020", "2024" (labels and years on
#: row 11; 2024: unlabelled index, "Coverage", "Data type", and a Table 2 without codes)
TotalsStyle = Literal["classic", "2020", "2024"]

#: table titles (the 2020 wording; "classic" says "by major area, region, country or area")
TOTALS_TABLES = {
    1: "International migrant stock at mid-year by sex and by region, country or area of "
    "destination",
    2: "Total population at mid-year by sex and by region, country or area of destination "
    "(thousands)",
    3: "International migrant stock as a percentage of the total population by sex and by "
    "region, country or area of destination",
    4: "Female migrants as a percentage of the international migrant stock by region, country "
    "or area of destination",
    5: "Annual rate of change of the migrant stock by sex and by region, country or area of "
    "destination (percentage)",
    6: "Estimated refugee stock (including asylum seekers) at mid-year by region, country or "
    "area of destination",
}
_SEXES = ("total", "male", "female")
_SEX_WORDS_2020 = {"total": "both sexes combined", "male": "males", "female": "females"}
_SEX_WORDS_CLASSIC = {"total": "both sexes", "male": "male", "female": "female"}


def _block_titles(number: int, style: TotalsStyle) -> list[str]:
    """The title over each column block of a totals table, as the style writes it."""
    if style == "classic":
        words = _SEX_WORDS_CLASSIC
        return {
            1: [f"International migrant stock at mid-year ({words[s]})" for s in _SEXES],
            2: [
                "Total population of both sexes at mid-year (thousands)",
                "Total male population at mid-year (thousands)",
                "Total female population at mid-year (thousands)",
            ],
            3: [
                f"International migrant stock as a percentage of the total population ({words[s]})"
                for s in _SEXES
            ],
            4: ["Female migrants as a percentage of the international migrant stock"],
            5: [f"Annual rate of change of the migrant stock ({words[s]})" for s in _SEXES],
            6: [
                "Estimated refugee stock at mid-year (both sexes)",
                "Refugees as a percentage of the international migrant stock",
                "Annual rate of change of the refugee stock",
            ],
        }[number]
    words = _SEX_WORDS_2020
    return {
        1: [f"International migrant stock at mid-year, {words[s]}" for s in _SEXES],
        2: [f"Total population at mid-year, {words[s]} (thousands)" for s in _SEXES],
        3: [
            f"International migrant stock as a percentage of the total population, {words[s]}"
            for s in _SEXES
        ],
        4: ["Female migrants as a percentage of the international migrant stock"],
        5: [f"Annual rate of change of the migrant stock, {words[s]}" for s in _SEXES],
        6: [
            "Refugee and asylum seekers at mid-year, both sexes combined",
            "Refugee and asylum seekers as a percentage of the international migrant stock",
            "Annual rate of change of the refugee and asylum seekers, both sexes combined",
        ],
    }[number]


def _rates(values: Sequence[float], years: Sequence[int]) -> list[object]:
    """Annual rate of change in percent between successive years ('..' where undefined)."""
    return [
        100 * float(np.log(later / earlier)) / (end - start) if earlier > 0 and later > 0 else ".."
        for (earlier, later), (start, end) in zip(pairwise(values), pairwise(years), strict=True)
    ]


def _share(part: float, whole: float) -> object:
    return 100 * part / whole if whole else ".."


def write_destination_totals(
    path: Path,
    revision: int,
    years: Sequence[int],
    rows: dict[Destination, dict[str, list[int]]],
    *,
    population: dict[Destination, dict[str, list[float]]] | None = None,
    refugees: dict[Destination, list[int]] | None = None,
    data_types: dict[int, str] | None = None,
    notes: dict[int, tuple[int, str]] | None = None,
    style: TotalsStyle = "2020",
    derived: bool = False,
    annex: Sequence[AnnexRow] | None = None,
    note: str | None = None,
) -> Path:
    """Destination-totals workbook: Table 1 (migrants by sex), and with ``population``
    (persons) Tables 2 and 3 (population in thousands, migrants as a percentage of it),
    with ``refugees`` Table 6 (refugees, both sexes, and their share of the migrants).
    ``data_types``: type-of-data letters per code; ``notes``: code -> (note number,
    text), written in the Notes column and on a notes sheet.

    ``style`` (see :data:`TotalsStyle`) picks the layout of the revision; ``derived``
    adds what the official workbooks derive and migstock does not read: Table 4 (female
    share), Table 5 (annual rate of change) and Table 6's rate-of-change block.
    ``annex``: an ANNEX sheet (2013-2019); ``note``: a line in every title block. A
    ``.xls`` path writes the .xls container.
    """
    book = _workbook(path)
    places = list(rows)
    periods = [f"{a}-{b}" for a, b in pairwise(years)]
    # number -> (one column-label list per block, cells per place)
    tables: dict[int, tuple[list[list[object]], list[list[object]]]] = {
        1: ([list(years)] * 3, [[v for s in _SEXES for v in rows[d][s]] for d in places])
    }
    if population is not None:
        tables[2] = (
            [list(years)] * 3,
            [[v / 1000 for s in _SEXES for v in population[d][s]] for d in places],
        )
        tables[3] = (
            [list(years)] * 3,
            [
                [
                    100 * m / p
                    for s in _SEXES
                    for m, p in zip(rows[d][s], population[d][s], strict=True)
                ]
                for d in places
            ],
        )
    if derived:
        tables[4] = (
            [list(years)],
            [
                [_share(f, t) for f, t in zip(rows[d]["female"], rows[d]["total"], strict=True)]
                for d in places
            ],
        )
        tables[5] = (
            [periods] * 3,
            [[rate for s in _SEXES for rate in _rates(rows[d][s], years)] for d in places],
        )
    if refugees is not None:
        blocks = [list(years), list(years)] + ([periods] if derived else [])
        cells = []
        for place, counts in refugees.items():
            migrants = rows[place]["total"]
            line = [*counts, *(_share(c, m) for c, m in zip(counts, migrants, strict=True))]
            if derived:
                line += _rates(counts, years)
            cells.append(line)
        tables[6] = (blocks, cells)
    for number, (blocks, cells) in tables.items():
        table_places = list(refugees) if number == 6 and refugees is not None else places
        _totals_sheet(
            book,
            style,
            revision,
            number,
            f"{TOTALS_TABLES[number]}, {years[0]}-{years[-1]}",
            list(zip(_block_titles(number, style), blocks, strict=False)),
            table_places,
            cells,
            data_types=data_types,
            notes=notes,
            note=note,
        )
    if annex is not None:
        _annex_sheet(book, revision, annex, note)
    if notes:
        sheet = book.add_worksheet(
            {"classic": "NOTES", "2020": "Notes", "2024": "Migrant notes"}[style]
        )
        if style == "classic":
            _title_block(sheet, revision, "NOTES", note=note)
        else:
            _title_block_2020(sheet, revision, "Notes", note=note)
        for i, (number, text) in enumerate(sorted(set(notes.values()))):
            sheet.write(11 + i, 0, number)
            sheet.write(11 + i, 1, text)
    book.close()
    return path


def _totals_sheet(
    book: object,
    style: TotalsStyle,
    revision: int,
    number: int,
    title: str,
    blocks: list[tuple[str, list[object]]],
    places: list[Destination],
    cells: list[list[object]],
    *,
    data_types: dict[int, str] | None,
    notes: dict[int, tuple[int, str]] | None,
    note: str | None,
) -> None:
    """One table of a destination-totals workbook in ``style``: title block, block titles,
    the id and column labels, then one row per place (index, name, notes, code, type)."""
    sheet = book.add_worksheet(f"Table {number}")  # type: ignore[attr-defined]
    if style == "classic":
        code_label = "Country code" if revision <= 2015 else "Code"
        labels: list[str | None] = [
            "Sort\norder",
            "Major area, region, country or area of destination",
            "Notes",
            code_label,
        ]
        if number != 2:
            labels.append("Type of data (a)")
        title = title.replace(
            "by region, country or area of destination", "by major area, region, country or area"
        )
        _title_block(
            sheet,
            revision,
            f"Table {number} -  {title}",
            heading=f"Trends in International Migrant Stock: The {revision} Revision",
            note=note,
        )
        block_row, label_row, first_row = 14, 15, 16
        columns = {"index": 0, "name": 1, "notes": 2, "code": 3, "type": 4}
    elif style == "2024":
        _title_block_2020(sheet, revision, f"Table {number}: {title}", col=5, note=note)
        if number == 2:  # the official Table 2: type letters under "Location code", no code
            labels = [None, "Region, development group, country or area", "Population notes"]
            labels.append("Location code")
            columns = {"index": 0, "name": 1, "type": 3}
        else:
            labels = [None, "Region, development group, country or area", "Coverage"]
            labels += ["Data type", "Location code"]
            columns = {"index": 0, "name": 1, "notes": 2, "type": 3, "code": 4}
        block_row, label_row, first_row = 7, 10, 11
    else:
        _title_block_2020(sheet, revision, f"Table {number}: {title}", note=note)
        labels = ["Index", "Region, development group, country or area", "Notes"]
        labels.append("Location code")
        if number != 2:
            labels.append("Type of data")
        block_row, label_row, first_row = 7, 10, 11
        columns = {"index": 0, "name": 1, "notes": 2, "code": 3, "type": 4}
    header_row = 14 if style == "classic" else label_row
    for col, label in enumerate(labels):
        if label is not None:
            sheet.write(header_row, col, label)
    if len(labels) <= columns["type"]:
        del columns["type"]
    first = len(labels)
    col = first
    for block_title, column_labels in blocks:
        sheet.write(block_row, col, block_title)
        for label in column_labels:
            sheet.write(label_row, col, label)
            col += 1
    for i, ((name, code), values) in enumerate(zip(places, cells, strict=True)):
        row = first_row + i
        sheet.write(row, columns["index"], i + 1)
        sheet.write(row, columns["name"], name)
        if "code" in columns:
            sheet.write(row, columns["code"], code)
        if notes and code in notes and "notes" in columns:
            sheet.write(row, columns["notes"], notes[code][0])
        if data_types and code in data_types and "type" in columns:
            sheet.write(row, columns["type"], data_types[code])
        _write_cells(sheet, row, first, values)


# --- age workbooks -------------------------------------------------------------------

#: the age groups as the UN heads its columns, youngest first, then the all-ages Total
AGE_LABELS: tuple[str, ...] = (*(f"{a}-{a + 4}" for a in range(0, 75, 5)), "75+", "Total")
#: one place's values of one year: sex -> one value per column of ``AGE_LABELS``
AgeValues = dict[str, list[object]]
AgeTable = dict[Destination, dict[int, AgeValues]]
_AGE_SEX_TITLES = {
    # 2015: the block titles over the ages, as published
    "age_sheets": {
        "migrants": "International migrant stock at mid-year by age ({})",
        "population": "Total {} population at mid-year by age (thousands)",
    },
    "two_rows": {
        "migrants": "International migrant stock at mid-year ({})",
        "population": "Total {} population at mid-year (thousands)",
    },
}
_AGE_SEX_WORDS = {
    "age_sheets": {"total": "both sexes", "male": "male", "female": "female"},
    "two_rows": {"total": "both sexes", "male": "male", "female": "female"},
    "one_row": {"total": "Both sexes combined", "male": "Males", "female": "Females"},
}
_AGE_TABLE_TITLES = {
    "migrants": "International migrant stock at mid-year by age and sex and by major area, "
    "region, country or area of destination",
    "population": "Total population at mid-year by age and sex and by major area, region, "
    "country or area",
    "distribution": "Percentage distribution of the international migrant stock by age and "
    "sex and by region, country or area of destination",
}


def _age_cells(values: list[object], thousands: bool) -> list[object]:
    """The cells of one block: counts of persons, or thousands for the population table."""
    if not thousands:
        return values
    return [v / 1000 if isinstance(v, (int, float)) else v for v in values]


def write_age_workbook(
    path: Path,
    revision: int,
    years: Sequence[int],
    migrants: AgeTable,
    population: AgeTable | None = None,
    *,
    band_labels: Sequence[str] = AGE_LABELS,
    data_types: dict[int, str] | None = None,
    distribution: bool = False,
) -> Path:
    """An age workbook in the layout of ``revision`` (see SOURCES.md and DESIGN.md, "Age
    workbooks"): 2015 one sheet per year (the year in the table title, header on Excel
    rows 15-16), 2017/2019 a Year column under a two-row header (rows 15-16), 2020 a Year
    column under one header row (row 11, the sex labels on row 10).

    ``migrants`` and ``population`` (persons; written in thousands, as published) hold,
    per place and year, the 17 values of each sex (``AGE_LABELS``); a place missing a
    year writes no row for it. ``band_labels`` replaces the age headers (e.g. ``" 15-19"``
    with a stray space); ``distribution`` adds the derived percentage table (2020 Table 4).
    """
    if len(band_labels) != len(AGE_LABELS):
        raise ValueError(f"band_labels needs {len(AGE_LABELS)} labels")
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("CONTENTS").write(9, 0, "TABLE OF CONTENTS")
    tables: list[tuple[str, AgeTable]] = [("migrants", migrants)]
    if population is not None:
        tables.append(("population", population))
    if distribution:
        tables.append(("distribution", _distribution(migrants)))
    if revision == 2015:
        number = 1
        for measure, table in tables:
            for year in years:
                if any(year in by_year for by_year in table.values()):
                    sheet = book.add_worksheet(f"Table {number}")
                    _age_sheet_2015(sheet, number, revision, year, measure, table, band_labels,
                                    data_types)  # fmt: skip
                number += 1
    else:
        for number, (measure, table) in enumerate(tables, start=1):
            number = 4 if measure == "distribution" else number
            _age_sheet_year_rows(
                book, number, revision, years, measure, table, band_labels, data_types
            )
    book.add_worksheet("NOTES").write(0, 0, "NOTES")
    book.close()
    return path


def _distribution(migrants: AgeTable) -> AgeTable:
    """Percentages of each band in the total (the derived 2020 Table 4)."""
    shares: AgeTable = {}
    for place, by_year in migrants.items():
        shares[place] = {}
        for year, by_sex in by_year.items():
            shares[place][year] = {}
            for sex, values in by_sex.items():
                total = values[-1]
                shares[place][year][sex] = [
                    100 * v / total
                    if isinstance(v, int) and isinstance(total, int) and total
                    else ".."
                    for v in values
                ]
    return shares


def _age_title_block(sheet: Worksheet, revision: int, title: str, rows: tuple[int, ...]) -> None:
    lines = [
        "United Nations",
        "Population Division",
        "Department of Economic and Social Affairs",
        "Trends in International Migrant Stock: Migrants by Age and Sex",
        title,
        f"POP/DB/MIG/Stock/Rev.{revision}",
    ]
    for row, line in zip(rows, lines, strict=True):
        sheet.write(row, 4, line)


def _age_sheet_2015(
    sheet: Worksheet,
    number: int,
    revision: int,
    year: int,
    measure: str,
    table: AgeTable,
    band_labels: Sequence[str],
    data_types: dict[int, str] | None,
) -> None:
    suffix = " (thousands)" if measure == "population" else ""
    title = f"Table {number}. {_AGE_TABLE_TITLES[measure]}, {year}{suffix}"
    _age_title_block(sheet, revision, title, (4, 5, 6, 8, 9, 10))
    left = [
        "Sort\norder",
        "Major area, region, country or area of destination",
        "Notes",
        "Country code",
        "Type of data (a)",
    ]
    for col, label in enumerate(left):
        sheet.write(14, col, label)
    first = len(left)
    _age_header(sheet, 14, 15, first, measure, "age_sheets", band_labels)
    row = 16
    for i, ((name, code), by_year) in enumerate(table.items()):
        if year not in by_year:
            continue
        sheet.write(row, 0, i + 1)
        sheet.write(row, 1, name)
        sheet.write(row, 3, code)
        if data_types and code in data_types:
            sheet.write(row, 4, data_types[code])
        _age_values(sheet, row, first, by_year[year], measure == "population")
        row += 1


def _age_sheet_year_rows(
    book: xlsxwriter.Workbook,
    number: int,
    revision: int,
    years: Sequence[int],
    measure: str,
    table: AgeTable,
    band_labels: Sequence[str],
    data_types: dict[int, str] | None,
) -> None:
    sheet = book.add_worksheet(f"Table {number}")
    suffix = " (thousands)" if measure == "population" else ""
    span = f"{years[0]}-{years[-1]}"
    title = f"Table {number}: {_AGE_TABLE_TITLES[measure]}, {span}{suffix}"
    if revision >= 2020:  # one header row (Excel row 11), the sex labels on row 10
        _title_block_2020(sheet, revision, title)
        sheet.write(1, 4, f"International Migrant Stock {revision}: Age and sex")
        header_row, band_row, style = 10, 10, "one_row"
        left = [
            "Index",
            "Year",
            "Region, development group, country or area",
            "Notes",
            "Location code",
            "Type of data",
        ]
    else:  # two header rows (Excel rows 15 and 16)
        _age_title_block(sheet, revision, title, (4, 5, 6, 8, 9, 10))
        header_row, band_row, style = 14, 15, "two_rows"
        left = [
            "Year",
            "Sort\norder",
            "Major area, region, country or area of destination",
            "Notes",
            "Code",
            "Type of data (a)",
        ]
    for col, label in enumerate(left):
        sheet.write(header_row, col, label)
    first = len(left)
    title_row = header_row - 1 if style == "one_row" else header_row
    _age_header(sheet, title_row, band_row, first, measure, style, band_labels)
    name_col, code_col = 2, 4
    row = band_row + 1
    for year in years:
        for i, ((name, code), by_year) in enumerate(table.items()):
            if year not in by_year:
                continue
            sheet.write(row, left.index("Year"), year)
            sheet.write(row, 0 if style == "one_row" else 1, i + 1)
            sheet.write(row, name_col, name)
            sheet.write(row, code_col, code)
            if data_types and code in data_types:
                sheet.write(row, 5, data_types[code])
            _age_values(sheet, row, first, by_year[year], measure == "population")
            row += 1


def _age_header(
    sheet: Worksheet,
    title_row: int,
    band_row: int,
    first: int,
    measure: str,
    style: str,
    band_labels: Sequence[str],
) -> None:
    """The three sex blocks: a block title over each, the age groups below."""
    for block, sex in enumerate(("total", "male", "female")):
        start = first + block * len(AGE_LABELS)
        words = _AGE_SEX_WORDS[style][sex]
        if style == "one_row" or measure == "distribution":
            sheet.write(title_row, start, words)
        else:
            sheet.write(title_row, start, _AGE_SEX_TITLES[style][measure].format(words))
        for offset, label in enumerate(band_labels):
            sheet.write(band_row, start + offset, label)


def _age_values(sheet: Worksheet, row: int, first: int, by_sex: AgeValues, thousands: bool) -> None:
    for block, sex in enumerate(("total", "male", "female")):
        for offset, value in enumerate(_age_cells(by_sex[sex], thousands)):
            if value is not None:
                sheet.write(row, first + block * len(AGE_LABELS) + offset, value)


#: synthetic age profiles (shares of the 16 bands, youngest first): migrants are mostly
#: of working age, the population younger
_MIGRANT_PROFILE = (3, 3, 3, 5, 10, 13, 13, 12, 10, 8, 6, 4, 3, 2, 2, 3)
_FEMALE_MIGRANT_PROFILE = (4, 4, 4, 6, 11, 13, 12, 11, 9, 7, 5, 4, 3, 2, 2, 3)
_POPULATION_PROFILE = (12, 11, 10, 9, 9, 8, 8, 7, 6, 5, 4, 3, 3, 2, 2, 1)


def split_by_age(total: int, profile: Sequence[int] = _MIGRANT_PROFILE) -> list[int]:
    """``total`` split over the 16 bands in proportion to ``profile`` (largest remainders),
    so the bands add up to it exactly; the total itself appended (17 values)."""
    weights = np.asarray(profile, dtype=np.float64)
    exact = total * weights / weights.sum()
    bands = np.floor(exact).astype(np.int64)
    short = int(total - bands.sum())
    bands[np.argsort(bands - exact, kind="stable")[:short]] += 1
    return [*(int(b) for b in bands), int(total)]


def age_values(
    male: int,
    female: int,
    profile: Sequence[int] = _MIGRANT_PROFILE,
    female_profile: Sequence[int] | None = None,
) -> AgeValues:
    """One place-year of an age table from its male and female totals: each sex split by
    its profile (``female_profile``, default ``profile``), both sexes their sum (so every
    sum of the table reconciles)."""
    males = split_by_age(male, profile)
    females = split_by_age(female, female_profile or profile)
    return {
        "total": [m + f for m, f in zip(males, females, strict=True)],
        "male": males,
        "female": females,
    }


DEMO_DESTINATIONS: list[Destination] = [
    ("Saudi Arabia", 682),
    ("United Arab Emirates", 784),
    ("Egypt", 818),
    ("Jordan", 400),
    ("Morocco", 504),
    ("Yemen", 887),
    ("Bahrain", 48),
    ("Kuwait", 414),
    ("Oman", 512),
    ("Qatar", 634),
    ("Iraq", 368),
    ("Lebanon", 422),
    ("State of Palestine", 275),
    ("Syrian Arab Republic", 760),
    ("Algeria", 12),
    ("Libya", 434),
    ("Tunisia", 788),
    ("Comoros", 174),
    ("Djibouti", 262),
    ("Mauritania", 478),
    ("Somalia", 706),
    ("Sudan", 729),
    ("France", 250),
    ("India", 356),
]
DEMO_DATA_TYPES = ("B", "C R", "B R", "I")
DEMO_ORIGINS: list[Destination] = [("Egypt", 818), ("India", 356), ("France", 250), ("Yemen", 887)]


def _synthetic(seed: int, years: Sequence[int]) -> dict[tuple[int, int, int], tuple[int, int]]:
    """(destination, origin, year) -> (male, female) synthetic counts; origin 0 = Other South."""
    rng = np.random.default_rng(seed)
    origins = [code for _, code in DEMO_ORIGINS] + [0]
    return {
        (dest, origin, year): (int(rng.integers(0, 50_000)), int(rng.integers(0, 50_000)))
        for _, dest in DEMO_DESTINATIONS
        for origin in origins
        for year in years
    }


def write_demo_workbooks(directory: Path) -> list[Path]:
    """One synthetic workbook per revision and layout, all consistent (parts sum to totals)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in CATALOG:
        years = list(entry.years)
        data = _synthetic(entry.revision, years)

        def value(dest: int, origin: int, year: int, sex: str, data=data) -> int:
            male, female = data[(dest, origin, year)]
            return {"total": male + female, "male": male, "female": female}[sex]

        def total(dest: int, year: int, sex: str, data=data) -> int:
            return sum(value(dest, o, year, sex) for _, o in DEMO_ORIGINS) + value(
                dest, 0, year, sex
            )

        layout = entry.file("bilateral").layout
        name = entry.file("bilateral").file_name.replace(".xls", ".xlsx").replace(".xlsxx", ".xlsx")
        path = directory / f"SYNTHETIC_{name}"
        origin_names = ["Total", "Other North", "Other South", *(n for n, _ in DEMO_ORIGINS)]
        if layout == "origin_matrix":
            tables = []
            for index, (year, sex) in enumerate(
                (y, s) for y in years for s in ("total", "male", "female")
            ):
                tables.append(
                    (
                        index + 1,
                        sex,
                        year,
                        {
                            dest: [
                                total(dest, year, sex),
                                0,
                                value(dest, 0, year, sex),
                                *(value(dest, o, year, sex) for _, o in DEMO_ORIGINS),
                            ]
                            for _, dest in DEMO_DESTINATIONS
                        },
                    )
                )
            write_wide_origins(path, entry.revision, tables, DEMO_DESTINATIONS, origin_names)
        elif layout == "year_rows":
            tables_by_sex = {
                sex: [
                    [
                        year,
                        dest_name,
                        total(dest, year, sex),
                        0,
                        value(dest, 0, year, sex),
                        *(value(dest, o, year, sex) for _, o in DEMO_ORIGINS),
                    ]
                    for year in years
                    for dest_name, dest in DEMO_DESTINATIONS
                ]
                for sex in ("total", "male", "female")
            }
            write_year_rows(
                path, entry.revision, tables_by_sex, origin_names, dict(DEMO_DESTINATIONS)
            )
        else:
            rows = []
            for dest_name, dest in DEMO_DESTINATIONS:
                rows.append(
                    (
                        (dest_name, dest),
                        ("WORLD", 900),
                        {
                            s: [total(dest, y, s) for y in years]
                            for s in ("total", "male", "female")
                        },
                    )
                )
                for origin_name, origin in [*DEMO_ORIGINS, ("Others", 0)]:
                    rows.append(
                        (
                            (dest_name, dest),
                            (origin_name, origin or None),
                            {
                                s: [value(dest, origin, y, s) for y in years]
                                for s in ("total", "male", "female")
                            },
                        )
                    )
            write_long_rows(path, entry.revision, years, rows)
        written.append(path)
        totals_path = directory / f"SYNTHETIC_totals_{entry.revision}.xlsx"
        stock = {
            (dest_name, dest): {
                s: [total(dest, y, s) for y in years] for s in ("total", "male", "female")
            }
            for dest_name, dest in DEMO_DESTINATIONS
        }
        write_destination_totals(
            totals_path,
            entry.revision,
            years,
            stock,
            population={  # synthetic: migrants are a fifth of the population
                place: {s: [5 * m for m in values[s]] for s in values}
                for place, values in stock.items()
            },
            refugees={place: [m // 10 for m in values["total"]] for place, values in stock.items()}
            if entry.refugee_table
            else None,
            data_types={
                dest: DEMO_DATA_TYPES[i % 4] for i, (_, dest) in enumerate(DEMO_DESTINATIONS)
            },
            notes={729: (1, "SYNTHETIC note: the estimates for 1990 to 2005 refer to Sudan.")},
        )
        written.append(totals_path)
        if entry.has("age") and entry.file("age").layout in AGE_LAYOUTS:
            age_path = directory / f"SYNTHETIC_age_{entry.revision}.xlsx"
            places = dict(DEMO_DESTINATIONS)
            migrants = {
                (name, dest): {
                    y: age_values(
                        total(dest, y, "male"),
                        total(dest, y, "female"),
                        female_profile=_FEMALE_MIGRANT_PROFILE,
                    )
                    for y in years
                }
                for name, dest in places.items()
            }
            population = {  # a fifth of the population are migrants, as in the totals
                (name, dest): {
                    y: age_values(
                        5 * total(dest, y, "male"),
                        5 * total(dest, y, "female"),
                        _POPULATION_PROFILE,
                    )
                    for y in years
                }
                for name, dest in places.items()
            }
            write_age_workbook(age_path, entry.revision, years, migrants, population)
            written.append(age_path)
    return written


def write_grids(sheets: dict[str, object], path: Path) -> Path:
    """Write grids (as :func:`migstock.parse.read.read_workbook` returns them) back into a
    workbook, cell for cell: numbers stay numbers, blanks stay blank.

    ``.xlsx`` through xlsxwriter, ``.xls`` through xlwt (a development dependency:
    the .xls container is only ever written by tests).
    """
    import pandas as pd

    def cells(grid: pd.DataFrame):
        for (row, col), value in grid.stack().items():
            if value is None or (isinstance(value, float) and value != value) or value == "":
                continue
            yield int(row), int(col), value

    if path.suffix.lower() == ".xls":
        import xlwt

        xls = xlwt.Workbook()
        for name, grid in sheets.items():
            sheet = xls.add_sheet(name[:31])
            for row, col, value in cells(grid):  # type: ignore[arg-type]
                sheet.write(row, col, value)
        xls.save(str(path))
        return path
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, grid in sheets.items():
        sheet = book.add_worksheet(name)
        for row, col, value in cells(grid):  # type: ignore[arg-type]
            if isinstance(value, dt.date):  # a real date cell, as Excel stores one
                sheet.write_datetime(row, col, value, date_format)
            else:
                sheet.write(row, col, value)
    book.close()
    return path
