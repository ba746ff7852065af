"""Parsers and their errors on small generated workbooks of each layout."""

from pathlib import Path

import pandas as pd
import pytest

from migstock.catalog import revision
from migstock.demo.samples import write_long_rows, write_wide_origins
from migstock.errors import InputError
from migstock.parse import parse_workbook
from migstock.parse.harmonize import harmonize_bilateral
from migstock.parse.read import read_workbook

DESTINATIONS = [("WORLD", 900), ("Saudi Arabia", 682), ("Egypt", 818), ("France*", 250)]
ORIGINS = ["Total", "Other North", "Other South", "Egypt", "India", "France"]


def _matrix(scale: int) -> dict[int, list[object]]:
    rows = {}
    for i, (_, code) in enumerate(DESTINATIONS):
        parts = [scale * (i + 1), 0, scale, 2 * scale, None]  # blank = no migrants
        rows[code] = [sum(p or 0 for p in parts), *parts]
    return rows


def _parse(path: Path) -> pd.DataFrame:
    return harmonize_bilateral(parse_workbook(read_workbook(path)), path)


def test_wide_origins_all_tables_any_subset(tmp_path: Path) -> None:
    tables = [
        (1, "total", 1990, _matrix(10)),
        (2, "male", 1990, _matrix(6)),
        (17, "male", 2015, _matrix(3)),
    ]
    path = write_wide_origins(tmp_path / "w.xlsx", 2015, tables, DESTINATIONS, ORIGINS)
    rows = _parse(path)
    assert set(zip(rows.year, rows.sex, strict=True)) == {
        (1990, "total"),
        (1990, "male"),
        (2015, "male"),
    }
    saudi = rows[(rows.destination_code == 682) & (rows.year == 1990) & (rows.sex == "male")]
    by_origin = dict(zip(saudi.origin_code.fillna(-1), saudi.migrants, strict=True))
    assert by_origin[900] == 6 * 2 + 0 + 6 + 12  # Total column as published
    assert by_origin[818] == 6 and by_origin[356] == 12 and by_origin[250] == 0
    assert rows.loc[rows.origin_kind == "other_north", "origin_code"].isna().all()


def test_long_rows_block_titles_give_sex(tmp_path: Path) -> None:
    years = list(revision(2024).years)  # 1990, 1995, ..., 2015, 2020, 2024
    early = [7] * (len(years) - 3)  # the same count every five years before 2020
    rows = [
        (
            ("Saudi Arabia", 682),
            ("WORLD", 900),
            {
                "total": [30, *early, 40, 50],
                "male": [20, *early, 25, 30],
                "female": [10, *early, 15, 20],
            },
        ),
        (
            ("Saudi Arabia", 682),
            ("Egypt*", 818),
            {
                "total": [3, *early, 4, ".."],
                "male": [2, *early, 2, ".."],
                "female": [1, *early, 2, ".."],
            },
        ),
        (
            ("Saudi Arabia", 682),
            ("Others", None),
            {
                "total": [27, *early, 36, 50],
                "male": [18, *early, 23, 30],
                "female": [9, *early, 13, 20],
            },
        ),
    ]
    path = write_long_rows(tmp_path / "l.xlsx", 2024, years, rows)
    tidy = _parse(path)
    assert len(tidy) == 3 * 3 * len(years)
    egypt = tidy[tidy.origin_code == 818].set_index(["year", "sex"])["migrants"]
    assert egypt[(2020, "female")] == 2
    assert pd.isna(egypt[(2024, "total")])  # '..' = not available, not zero
    others = tidy[tidy.origin_kind == "other"]
    assert len(others) == 3 * len(years) and others.origin_code.isna().all()


def test_text_in_a_number_cell_names_the_cell(tmp_path: Path) -> None:
    matrix = _matrix(10)
    matrix[818][3] = "about 20"
    path = write_wide_origins(
        tmp_path / "t.xlsx", 2015, [(16, "total", 2015, matrix)], DESTINATIONS, ORIGINS
    )
    with pytest.raises(InputError) as raised:
        _parse(path)
    # Egypt is the third destination (Excel row 19); origin 'Egypt' is column I
    assert (
        str(raised.value)
        == "t.xlsx, sheet 'Table 16', cell I19: expected a number, found text 'about 20'"
    )


def test_unknown_origin_name_names_its_header_cell(tmp_path: Path) -> None:
    origins = [*ORIGINS[:-1], "Atlantis"]
    path = write_wide_origins(
        tmp_path / "u.xlsx", 2015, [(16, "total", 2015, _matrix(1))], DESTINATIONS, origins
    )
    with pytest.raises(InputError, match=r"u.xlsx, sheet 'Table 16', cell K16: origin 'Atlantis'"):
        _parse(path)


def test_duplicated_destination_dropped_if_identical_else_error(tmp_path: Path) -> None:
    destinations = [*DESTINATIONS, ("Saudi Arabia", 682)]
    path = write_wide_origins(
        tmp_path / "d.xlsx", 2015, [(16, "total", 2015, _matrix(1))], destinations, ORIGINS
    )
    book = read_workbook(path)
    assert (parse_workbook(book).rows.destination_code == 682).sum() == len(
        ORIGINS
    )  # same: dropped
    book.sheets["Table 16"].iat[20, 5] = 999  # the repeat now disagrees on its Total
    with pytest.raises(
        InputError,
        match=r"cell D21: duplicated destination row \(year=2015, destination_code=682\) with "
        r"values that differ from row 18",
    ):
        parse_workbook(book)


def test_header_renamed_is_reported(tmp_path: Path) -> None:
    path = write_wide_origins(
        tmp_path / "h.xlsx",
        2015,
        [(16, "total", 2015, _matrix(1))],
        DESTINATIONS,
        ["Sum", *ORIGINS[1:]],
    )
    with pytest.raises(InputError, match=r"h.xlsx: no International Migrant Stock table found"):
        _parse(path)


def test_missing_revision_in_title_block(tmp_path: Path) -> None:
    path = write_wide_origins(
        tmp_path / "r.xlsx", 2015, [(16, "total", 2015, _matrix(1))], DESTINATIONS, ORIGINS
    )
    book = read_workbook(path)
    book.sheets["Table 16"].iat[10, 4] = None  # drop "POP/DB/MIG/Stock/Rev.2015"
    book.sheets["Table 16"].iat[8, 4] = None
    with pytest.raises(InputError, match=r"sheet 'Table 16'.*names no revision"):
        parse_workbook(book)


def test_sheets_with_different_origin_lists_combine(tmp_path: Path) -> None:
    tables = [(16, "total", 2015, _matrix(10)), (17, "male", 2015, _matrix(6))]
    path = write_wide_origins(tmp_path / "o.xlsx", 2015, tables, DESTINATIONS, ORIGINS)
    book = read_workbook(path)
    book.sheets["Table 17"].iat[15, 5 + len(ORIGINS) - 1] = ""  # Table 17 loses origin 'France'
    rows = harmonize_bilateral(parse_workbook(book), path)
    per_sheet = rows.groupby("source_sheet", observed=True)["origin_code"].nunique()
    assert per_sheet.to_dict() == {"Table 16": 4, "Table 17": 3}  # World, Egypt, India(, France)
