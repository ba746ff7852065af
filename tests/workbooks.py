"""Small, layout-faithful International Migrant Stock workbooks for tests.

Each writer reproduces the title block, header labels and value conventions
of one layout family (see ../shared/data/un-ims/SOURCES.md); the numbers are
whatever the test passes in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import xlsxwriter

SEX_TITLE = {"total": "Total", "male": "Male", "female": "Female"}
LONG_BLOCKS = {
    "total": "International migrant stock at mid-year, both sexes combined",
    "male": "International migrant stock at mid-year, males",
    "female": "International migrant stock at mid-year, females",
}

Destination = tuple[str, int]  # (name, code)


def _title_block(sheet, revision: int, title: str) -> None:
    sheet.write(4, 4, "United Nations")
    sheet.write(5, 4, "Population Division")
    sheet.write(6, 4, "Department of Economic and Social Affairs")
    sheet.write(8, 4, "Trends in International Migrant Stock: Migrants by Destination and Origin")
    sheet.write(9, 4, title)
    sheet.write(10, 4, f"POP/DB/MIG/Stock/Rev.{revision}")
    sheet.write(12, 1, f"Suggested citation: United Nations ({revision}).")


def write_wide_origins(
    path: Path,
    revision: int,
    tables: Sequence[tuple[int, str, int, dict[int, list[object]]]],
    destinations: Sequence[Destination],
    origins: Sequence[str],
) -> Path:
    """2013/2015 layout: one sheet per (year, sex).

    ``tables`` holds (table number, sex, year, {destination code: row values}),
    row values being one cell per origin (Total first).
    """
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("CONTENTS").write(9, 0, "TABLE OF CONTENTS")
    for number, sex, year, values in tables:
        sheet = book.add_worksheet(f"Table {number}")
        title = (
            f"Table {number}. {SEX_TITLE[sex]} migrant stock at mid-year by origin and by major "
            f"area, region, country or area of destination, {year}"
        )
        _title_block(sheet, revision, title)
        left = [
            "Sort\norder",
            "Major area, region, country or area of destination",
            "Notes",
            "Country code",
            "Type of data (a)",
        ]
        for col, label in enumerate(left):
            sheet.write(14, col, label)
        sheet.write(14, 5, "Country of origin")
        for col, origin in enumerate(origins, start=5):
            sheet.write(15, col, origin)
        for i, (name, code) in enumerate(destinations):
            row = 16 + i
            sheet.write(row, 0, i + 1)
            sheet.write(row, 1, name)
            sheet.write(row, 3, code)
            for col, value in enumerate(values.get(code, []), start=5):
                if value is not None:
                    sheet.write(row, col, value)
    book.add_worksheet("NOTES").write(0, 0, "NOTES")
    book.close()
    return path


def write_long_rows(
    path: Path,
    revision: int,
    years: Sequence[int],
    rows: Sequence[tuple[Destination, Destination, dict[str, list[object]]]],
) -> Path:
    """2020/2024 layout: Table 1, one row per destination x origin, years x sex blocks.

    ``rows`` holds (destination, origin, {sex: one value per year}).
    """
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Contents").write(2, 1, "Table of contents")
    sheet = book.add_worksheet("Table 1")
    sheet.write(1, 4, f"International Migrant Stock {revision}")
    sheet.write(
        2,
        4,
        "Table 1: International migrant stock at mid-year by sex, destination and origin, "
        f"{years[0]}-{years[-1]}",
    )
    sheet.write(3, 4, f"POP/DB/MIG/Stock/Rev.{revision}")
    header = [
        "Index",
        "Region, development group, country or area of destination",
        "Notes of destination",
        "Location code of destination",
        "Type of data of destination",
        "Region, development group, country or area of origin",
        "Location code of origin",
    ]
    for col, label in enumerate(header):
        sheet.write(10, col, label)
    first = len(header)
    for block, sex in enumerate(("total", "male", "female")):
        start = first + block * len(years)
        sheet.write(7, start, LONG_BLOCKS[sex])
        for offset, year in enumerate(years):
            sheet.write(10, start + offset, year)
    for i, ((dest, dest_code), (origin, origin_code), values) in enumerate(rows):
        row = 11 + i
        sheet.write(row, 0, i + 1)
        sheet.write(row, 1, dest)
        sheet.write(row, 3, dest_code)
        sheet.write(row, 5, origin)
        if origin_code is not None:
            sheet.write(row, 6, origin_code)
        for block, sex in enumerate(("total", "male", "female")):
            for offset, value in enumerate(values[sex]):
                if value is not None:
                    sheet.write(row, first + block * len(years) + offset, value)
    book.close()
    return path


def write_year_rows(
    path: Path,
    revision: int,
    tables: dict[str, list[list[object]]],
    origins: Sequence[str],
    codes: dict[str, int],
) -> Path:
    """2017/2019 layout: Tables 1/2/3 (total/male/female), rows are destination x year.

    ``tables[sex]`` holds rows ``[year, destination name, value per origin...]``
    (``origins`` names the value columns, Total first). Destinations missing
    from ``codes`` are section titles and get no code, as in the originals.
    """
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("CONTENTS").write(9, 0, "TABLE OF CONTENTS")
    for number, sex in enumerate(("total", "male", "female"), start=1):
        if sex not in tables:
            continue
        sheet = book.add_worksheet(f"Table {number}")
        _title_block(
            sheet, revision,
            f"Table {number}. {SEX_TITLE[sex]} migrant stock at mid-year by origin and by major "
            f"area, region, country or area of destination, 1990-{revision}",
        )
        left = ["Year", "Sort\norder", "Major area, region, country or area of destination",
                "Notes", "Code", "Type of data (a)"]
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
            for col, value in enumerate(values, start=len(left)):
                if value is not None:
                    sheet.write(row, col, value)
    book.close()
    return path
