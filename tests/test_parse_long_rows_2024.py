"""2024 bilateral layout (long rows, years x sex blocks), generated from the real
2024 country-pairs export in shared, so the numbers checked are the UN's."""

from pathlib import Path

import pandas as pd
import pytest

from migstock.parse import parse_workbook
from migstock.parse.harmonize import harmonize_bilateral
from migstock.parse.read import read_workbook
from tests.real_exports import SEX_SUFFIX_2024, YEARS_2024

YEARS = YEARS_2024
SEX_SUFFIX = SEX_SUFFIX_2024


@pytest.fixture(scope="module")
def bilateral_2024(bilateral_2024_path: Path) -> pd.DataFrame:
    return harmonize_bilateral(
        parse_workbook(read_workbook(bilateral_2024_path)), bilateral_2024_path
    )


def test_every_pair_year_and_sex_comes_out(bilateral_2024: pd.DataFrame, export_2024) -> None:
    assert len(bilateral_2024) == len(export_2024) * len(YEARS) * 3
    assert set(bilateral_2024.revision) == {2024}
    assert set(bilateral_2024.origin_kind) == {"country"}


def test_values_match_the_export_cell_for_cell(bilateral_2024: pd.DataFrame, export_2024) -> None:
    long = export_2024.melt(
        id_vars=["Location code of destination", "Location code of origin"],
        value_vars=[f"{y}_{s}" for y in YEARS for s in SEX_SUFFIX.values()],
    )
    long[["year", "suffix"]] = long["variable"].str.split("_", expand=True)
    long["sex"] = long["suffix"].map({v: k for k, v in SEX_SUFFIX.items()})
    expected = long.set_index(
        ["Location code of destination", "Location code of origin", long["year"].astype(int), "sex"]
    )["value"].sort_index()
    got = bilateral_2024.astype({"sex": str}).set_index(
        ["destination_code", "origin_code", "year", "sex"]
    )["migrants"]
    got = got.sort_index()
    assert got.to_numpy().tolist() == expected.round().astype("int64").to_numpy().tolist()


def test_saudi_arabia_from_india_2024(bilateral_2024: pd.DataFrame, export_2024) -> None:
    pair = export_2024[
        (export_2024["Location code of destination"] == 682)
        & (export_2024["Location code of origin"] == 356)
    ]
    rows = bilateral_2024[
        (bilateral_2024.destination_code == 682)
        & (bilateral_2024.origin_code == 356)
        & (bilateral_2024.year == 2024)
    ].set_index("sex")["migrants"]
    assert rows["female"] == pair["2024_females"].iat[0]
    assert rows["male"] + rows["female"] == rows["total"]
