"""Parsers on the real UN files in ../shared/data, checked against SOURCES.md values."""

from pathlib import Path

import pandas as pd
import pytest

from migstock.errors import InputError
from migstock.parse import parse_workbook
from migstock.parse.harmonize import harmonize_bilateral, harmonize_totals
from migstock.parse.read import read_workbook
from migstock.regions import ARAB_COUNTRIES


def _bilateral(path: Path) -> pd.DataFrame:
    return harmonize_bilateral(parse_workbook(read_workbook(path)), path)


def _totals(path: Path) -> pd.DataFrame:
    return harmonize_totals(parse_workbook(read_workbook(path)))


@pytest.fixture(scope="module")
def bilateral_2015(official_dir: Path) -> pd.DataFrame:
    return _bilateral(official_dir / "UN_MigrantStockByOriginAndDestination_2015.xlsx")


def test_2015_table16_known_values(bilateral_2015: pd.DataFrame) -> None:
    total = bilateral_2015[bilateral_2015.origin_kind == "total"].set_index("destination_code")
    assert set(bilateral_2015.year) == {2015}
    assert set(bilateral_2015.sex) == {"total"}
    assert total.loc[900, "migrants"] == 243_700_236
    assert total.loc[682, "migrants"] == 10_185_945
    assert total.loc[sorted(ARAB_COUNTRIES), "migrants"].sum() == 34_764_700


def test_2015_origins_sum_to_total_column(bilateral_2015: pd.DataFrame) -> None:
    rows = bilateral_2015
    parts = rows[rows.origin_kind.isin(["country", "other_north", "other_south"])]
    summed = parts.groupby("destination_code")["migrants"].sum()
    total = rows[rows.origin_kind == "total"].set_index("destination_code")["migrants"]
    assert len(total) > 200
    pd.testing.assert_series_equal(summed.sort_index(), total.sort_index(), check_names=False)


def test_2015_special_origins_are_kept(bilateral_2015: pd.DataFrame) -> None:
    kinds = bilateral_2015.groupby("origin_kind", observed=True).size()
    assert kinds["other_north"] == kinds["other_south"] == kinds["total"]
    assert (
        bilateral_2015.loc[bilateral_2015.origin_kind == "other_north", "origin_code"].isna().all()
    )


def test_2013_csv_export_known_values(exports_dir: Path) -> None:
    rows = _bilateral(exports_dir / "UN_MigrantStockByOriginAndDestination_2013_Table10.csv")
    total = rows[rows.origin_kind == "total"].set_index("destination_code")["migrants"]
    assert set(rows.revision) == {2013} and set(rows.year) == {2013}
    assert total[900] == 231_522_215
    assert total[682] == 9_060_433


@pytest.mark.parametrize(
    ("file_name", "year", "world", "saudi", "arab"),
    [
        (
            "UN_MigrantStockTotal_2019.xlsx",
            2019,
            271_642_105,
            13_122_338,
            {"total": 40_390_791, "male": 27_052_376, "female": 13_338_415},
        ),
        (
            "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx",
            2020,
            280_598_105,
            13_454_842,
            {"total": 41_416_894, "male": 27_806_942, "female": 13_609_952},
        ),
    ],
)
def test_destination_totals_known_values(
    official_dir: Path, file_name: str, year: int, world: int, saudi: int, arab: dict
) -> None:
    rows = _totals(official_dir / file_name)
    in_year = rows[rows.year == year]
    by_sex = in_year[in_year.destination_code.isin(ARAB_COUNTRIES)].groupby("sex")["migrants"]
    assert by_sex.count().to_dict() == {"female": 22, "male": 22, "total": 22}
    assert by_sex.sum().to_dict() == arab
    total = in_year[in_year.sex == "total"].set_index("destination_code")
    assert total.loc[900, "migrants"] == world
    assert total.loc[682, "migrants"] == saudi
    assert 30 < total.loc[682, "migrant_share"] < 45  # Table 3, percent of population
    assert 30e6 < total.loc[682, "total_population"] < 36e6  # Table 2, thousands -> persons


def test_2020_saudi_by_sex(official_dir: Path) -> None:
    rows = _totals(official_dir / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx")
    saudi = rows[(rows.year == 2020) & (rows.destination_code == 682)].set_index("sex")
    assert saudi.loc["male", "migrants"] == 9_235_130
    assert saudi.loc["female", "migrants"] == 4_219_712
    assert saudi.loc["total", "source_sheet"] == "Table 1"


def test_totals_workbook_without_its_stock_sheet_is_rejected(official_dir: Path) -> None:
    book = read_workbook(official_dir / "UN_MigrantStockTotal_2019.xlsx")
    del book.sheets["Table 1"]
    with pytest.raises(InputError, match=r"UN_MigrantStockTotal_2019.xlsx: no sheet holds the"):
        parse_workbook(book)


def test_moved_header_is_still_found(official_dir: Path) -> None:
    """Header rows are located by their labels: two extra title rows change nothing."""
    book = read_workbook(official_dir / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx")
    before = harmonize_totals(parse_workbook(book))
    for name, grid in book.sheets.items():
        blank = pd.DataFrame([[""] * grid.shape[1]] * 2, columns=grid.columns)
        book.sheets[name] = pd.concat([blank, grid], ignore_index=True)
    after = harmonize_totals(parse_workbook(book))
    pd.testing.assert_series_equal(after["migrants"], before["migrants"])
    assert (after["source_row"] == before["source_row"] + 2).all()
