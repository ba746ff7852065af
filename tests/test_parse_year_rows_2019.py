"""2019 bilateral layout (Tables 1-3, destination x year rows), generated from the
real 2019 CSV exports in shared, so the numbers checked are the UN's."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from migstock.parse import parse_workbook
from migstock.parse.harmonize import harmonize_bilateral
from migstock.parse.read import read_workbook
from migstock.regions import ARAB_COUNTRIES


@pytest.fixture(scope="module")
def bilateral_2019(bilateral_2019_path: Path) -> pd.DataFrame:
    return harmonize_bilateral(
        parse_workbook(read_workbook(bilateral_2019_path)), bilateral_2019_path
    )


def test_layout_and_keys(bilateral_2019: pd.DataFrame) -> None:
    rows = bilateral_2019
    assert set(rows.revision) == {2019}
    assert set(rows.year) == {1990, 1995, 2000, 2005, 2010, 2015, 2019}
    assert set(rows.sex) == {"total", "male", "female"}
    key = ["year", "destination_code", "origin_code", "origin_kind", "sex"]
    assert not rows.duplicated(key).any()


def test_world_total_matches_the_totals_workbook(bilateral_2019: pd.DataFrame) -> None:
    total = bilateral_2019[
        (bilateral_2019.origin_kind == "total") & (bilateral_2019.sex == "total")
    ]
    world = total[(total.destination_code == 900) & (total.year == 2019)]["migrants"]
    assert world.tolist() == [271_642_105]
    arab = total[total.destination_code.isin(ARAB_COUNTRIES) & (total.year == 2019)]
    assert arab["migrants"].sum() == 40_390_791


def test_origins_sum_to_total_per_destination_year_sex(bilateral_2019: pd.DataFrame) -> None:
    rows = bilateral_2019[bilateral_2019.destination_code < 900]
    parts = rows[rows.origin_kind.isin(["country", "other_north", "other_south"])]
    key = ["year", "destination_code", "sex"]
    summed = parts.groupby(key)["migrants"].sum()
    total = rows[rows.origin_kind == "total"].set_index(key)["migrants"]
    both = pd.concat({"summed": summed, "total": total}, axis=1).dropna()
    assert len(both) > 1000
    assert np.array_equal(both["summed"].to_numpy(), both["total"].to_numpy())


def test_male_plus_female_is_total(bilateral_2019: pd.DataFrame) -> None:
    rows = bilateral_2019[bilateral_2019.origin_kind == "total"]
    wide = rows.pivot_table(
        index=["year", "destination_code"], columns="sex", values="migrants", aggfunc="first"
    ).dropna()
    assert (wide["male"] + wide["female"] == wide["total"]).all()
