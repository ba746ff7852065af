"""Cells read as the UN's notes define them; header labels matched however they are
written; incomplete workbooks named, never quietly NULL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from migstock.errors import InputError
from migstock.parse import parse_workbook
from migstock.parse.cells import SheetRef, to_numbers
from migstock.parse.harmonize import harmonize_totals
from migstock.parse.labels import is_label, normalize_label
from migstock.parse.read import Workbook, read_workbook
from migstock.parse.sheets import classify_sheet
from migstock.validate.gx import _plain

REF = SheetRef(Path("book.xlsx"), "Table 1")


def _numbers(*cells: object, whole: bool = False):
    block = pd.DataFrame([list(cells)], dtype=object)
    return to_numbers(block, REF, 11, list(range(4, 4 + len(cells))), blank=np.nan, whole=whole)


def test_cell_conventions_of_the_un_notes() -> None:
    numbers = _numbers("..", "-", "\u2014", "~", "231 522 215", "3,017,401", 12.0, "", "…")
    values = numbers.values[0]
    assert np.isnan(values[0])  # '..' not available
    assert values[1] == 0 and values[2] == 0  # '-' and the em dash: zero, or rounded to zero
    assert np.isnan(values[3])  # '~' suppressed for privacy ...
    assert numbers.suppressed is not None and numbers.suppressed[0].tolist() == [
        False,
        False,
        False,
        True,  # ... and flagged
        False,
        False,
        False,
        False,
        False,
    ]
    assert values[4] == 231_522_215 and values[5] == 3_017_401 and values[6] == 12
    assert np.isnan(values[7]) and np.isnan(values[8])


def test_no_flag_when_nothing_is_suppressed() -> None:
    assert _numbers(1.0, "..").suppressed is None


@pytest.mark.parametrize("cell", ["12,5", "1,23", "12 5", "1,2345"])
def test_a_decimal_comma_is_never_read_as_thousands(cell: str) -> None:
    with pytest.raises(InputError, match=rf"book.xlsx, sheet 'Table 1', cell E12: .*{cell!r}"):
        _numbers(cell)


def test_a_fractional_count_names_its_cell() -> None:
    with pytest.raises(
        InputError, match=r"cell F12: expected a whole number of persons, found 12.5"
    ):
        _numbers(3.0, 12.5, whole=True)
    # float noise of the UN's formulas is not a fraction (2019 Table 1, Andorra)
    assert _numbers(38891.00000000001, whole=True).values[0, 0] == pytest.approx(38891)


def test_a_name_with_nan_in_it_stays_as_written() -> None:
    record = {"name": "NaN Islands", "value": float("nan"), "code": np.int16(5), "na": pd.NA}
    assert _plain([record]) == [{"name": "NaN Islands", "value": None, "code": 5, "na": None}]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Sort\norder", "index"),
        ("Index", "index"),
        ("Type of data (a)", "data_type"),
        ("Data type", "data_type"),
        ("Code", "destination_code"),
        ("Country code", "destination_code"),
        ("Location code", "destination_code"),
        ("Location code of destination", "destination_code"),
        ("Location\u00a0code of destination*", "destination_code"),
        ("LOCATION CODE (b)", "destination_code"),
        ("Location code of origin", "origin_code"),
        ("Major area, region, country or area of destination", "destination"),
        ("Region, development group, country or area", "destination"),
        ("Region, development group, country or area of destination 1", "destination"),
        ("Country or area of origin", "origin"),
        ("Region, development group, country or area of origin", "origin"),
        ("Total", "total_origin"),
        ("World*", "total_origin"),
        ("Notes of destination", "notes"),
        ("Coverage", "notes"),
        ("Year", "year"),
    ],
)
def test_labels_match_however_they_are_written(text: str, label: str) -> None:
    assert is_label(text, label), normalize_label(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Location code of origin", "destination_code"),
        ("Country or area of origin", "destination"),
        ("Total population", "total_origin"),
        ("Other North", "total_origin"),
    ],
)
def test_labels_do_not_match_their_neighbours(text: str, label: str) -> None:
    assert not is_label(text, label)  # type: ignore[arg-type]


def test_footnote_marker_glued_to_a_bracket() -> None:
    """2017 Table 2: 'Total population of both sexes at mid-year (thousands)g'."""
    assert (
        normalize_label("Total population of both sexes at mid-year (thousands)g")
        == "total population of both sexes at mid-year (thousands)"
    )


# ---- completeness: a missing table is named, a missing year column is an error ----


@pytest.fixture(scope="module")
def totals_2020(official_dir: Path) -> Workbook:
    return read_workbook(official_dir / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx")


def _without(book: Workbook, table: int) -> Workbook:
    kept = {
        name: grid
        for name, grid in book.sheets.items()
        if classify_sheet(grid, SheetRef(book.path, name)).table != table
    }
    return Workbook(book.path, kept)


def test_a_missing_table_is_a_named_warning_not_a_silent_null(totals_2020: Workbook) -> None:
    parsed = parse_workbook(_without(totals_2020, 3))
    assert parsed.notes == [
        "Table 3 (migrants as a percentage of the population) not found: migrant_share left empty"
    ]
    rows = harmonize_totals(parsed)
    assert rows["migrant_share"].isna().all() and rows["total_population"].notna().any()
    assert parse_workbook(totals_2020).notes == []  # the complete workbook: nothing to say


def test_without_the_migrant_stock_table_the_workbook_is_refused(totals_2020: Workbook) -> None:
    with pytest.raises(InputError, match=r"no sheet holds the international migrant stock"):
        parse_workbook(_without(totals_2020, 1))


def test_a_deleted_year_column_is_an_error_naming_the_block(totals_2020: Workbook) -> None:
    """2020 Table 1 without its 2020 both-sexes column must not load 282 fewer rows."""
    grids = dict(totals_2020.sheets)
    grid = grids["Table 1"]
    year_col = next(
        c for c in range(grid.shape[1]) if grid.iat[10, c] == 2020.0
    )  # the first 2020 column: both sexes
    grids["Table 1"] = grid.drop(columns=year_col).T.reset_index(drop=True).T
    with pytest.raises(
        InputError,
        match=r"sheet 'Table 1', cell F8: the both sexes block has no column for 2020",
    ):
        parse_workbook(Workbook(totals_2020.path, grids))


def test_a_table_2_row_that_does_not_line_up_names_its_cell(official_dir: Path) -> None:
    """2024 Table 2 has no codes: rows align to Table 1 by index and name, or fail."""
    book = read_workbook(official_dir / "undesa_pd_2024_ims_stock_by_sex_and_destination.xlsx")
    grids = dict(book.sheets)
    grid = grids["Table 2"].copy()
    saudi = next(i for i, v in enumerate(grid.iloc[:, 1].tolist()) if v == "Saudi Arabia")
    grid.iat[saudi, 1] = "Jordan"  # the index says Saudi Arabia, the name does not
    grids["Table 2"] = grid
    with pytest.raises(
        InputError,
        match=rf"sheet 'Table 2', cell A{saudi + 1}: row index \d+ is 'Jordan' here but "
        r"'Saudi Arabia' in Table 1",
    ):
        parse_workbook(Workbook(book.path, grids))


@pytest.mark.parametrize("cell", ["inf", "-inf", "nan", "NaN", "Infinity", "1e400"])
def test_text_that_is_no_finite_number_names_its_cell(cell: str) -> None:
    """``inf`` converts to a float, then to -9,223,372,036,854,775,808 as a count."""
    for cells in ((12.0, cell), ("..", 12.0, cell)):  # every cell a number, or not
        with pytest.raises(InputError, match=rf"cell {chr(69 + len(cells) - 1)}12: .*{cell!r}"):
            _numbers(*cells, whole=True)


def test_an_infinite_number_names_its_cell() -> None:
    with pytest.raises(InputError, match=r"cell F12: .*inf"):
        _numbers(12.0, float("inf"))


def test_a_blank_float_is_still_not_available() -> None:
    assert np.isnan(_numbers(12.0, float("nan")).values[0][1])


def test_locations_take_the_m49_name_whatever_a_workbook_says() -> None:
    from migstock.parse.harmonize import build_locations, m49_reference

    names = pd.DataFrame(
        {
            "revision": [2024, 2020, 2024, 2024],
            "code": [400, 400, 344, 1833],
            "name": ["Jordania", "Jordan", "China, Hong Kong SAR", "Western Asia"],
        }
    )
    table = build_locations(names).set_index("code")["name"]
    assert table[400] == "Jordan"  # the newest revision's "Jordania" does not rewrite it
    reference = m49_reference().set_index("code")["name"]
    assert table[344] == reference[344] == "China, Hong Kong Special Administrative Region"
    assert table[1833] == "Western Asia"  # aggregates: the reference has none, as published
    assert len(table) == len(reference) + 1


@pytest.mark.parametrize("cell", ["inf", "1e400", float("inf")])
def test_an_infinite_location_code_names_its_cell(cell: object) -> None:
    from migstock.parse.rows import parse_codes

    column = pd.Series([400.0, cell], dtype=object)
    with pytest.raises(InputError, match=r"cell D13: location code .* is not a number"):
        parse_codes(column, SheetRef(Path("book.xlsx"), "Table 1"), first_row=11, col=3)
