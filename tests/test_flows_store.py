"""Flows from a store: the stock tables' SQL, the entry point's rows, and WPP's file."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from migstock.flows import (
    FLOW_COLUMNS,
    METHODS,
    VitalEvents,
    estimate_flows,
    find_wpp_indicators,
    read_wpp_indicators,
)
from migstock.flows.stocks import reference_years, stock_tables
from migstock.flows.wpp import WppFormatError

SCHEMA = Path(__file__).parents[1] / "src" / "migstock" / "store" / "sql" / "schema.sql"


def store(bilateral: list[tuple], totals: list[tuple]) -> duckdb.DuckDBPyConnection:
    """An in-memory store with the real schema and these rows.

    bilateral: (revision, year, destination, origin, origin_kind, sex, migrants);
    totals: (revision, year, destination, sex, migrants, total_population).
    """
    con = duckdb.connect()
    con.execute(SCHEMA.read_text())
    con.executemany(
        "INSERT INTO bilateral_stock (revision, year, destination_code, origin_code, "
        "origin_kind, sex, migrants, raw_sha256, source_sheet, source_row) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'x', 'Table 1', 1)",
        bilateral,
    )
    con.executemany(
        "INSERT INTO destination_totals (revision, year, destination_code, sex, migrants, "
        "total_population, raw_sha256, source_sheet, source_row) "
        "VALUES (?, ?, ?, ?, ?, ?, 'x', 'Table 1', 1)",
        totals,
    )
    return con


# places 4, 12, 818 (Afghanistan, Algeria, Egypt) and 682 (Saudi Arabia)
def small_store() -> duckdb.DuckDBPyConnection:
    b = []
    for year, k in ((2000, 1.0), (2005, 1.5), (2010, 2.0)):
        for sex in ("total", "female", "male"):
            share = {"total": 1.0, "female": 0.4, "male": 0.6}[sex]
            v = k * share
            b += [
                (2019, year, 682, 818, "country", sex, int(1000 * v)),
                (2019, year, 682, 4, "country", sex, int(300 * v)),
                (2019, year, 682, 12, "country", sex, None),  # '..'
                (2019, year, 818, 682, "country", sex, int(50 * v)),
                (2019, year, 12, 818, "country", sex, int(20 * v)),
                (2019, year, 682, None, "other_south", sex, 999),  # not a country
                (2019, year, 682, 900, "total", sex, 99999),
                (2019, year, 682, 410, "country", sex, 77),  # origin not a place
                (2019, year, 950, 818, "country", sex, 5),  # an aggregate destination
                (2019, year, 682, 682, "country", sex, 0),  # self, left out
            ]
    t = []
    for year, k in ((2000, 1.0), (2005, 1.5), (2010, 2.0)):
        for sex in ("total", "female", "male"):
            share = {"total": 1.0, "female": 0.4, "male": 0.6}[sex]
            t += [
                (2019, year, 682, sex, int(1300 * k * share), int(20000 * share)),
                (2019, year, 818, sex, int(50 * k * share), int(70000 * share)),
                (2019, year, 12, sex, int(20 * k * share), int(30000 * share)),
                # migrants above the population: native born counted as 0
                (2019, year, 4, sex, int(500 * share), int(400 * share)),
                (2019, year, 950, sex, 10, 1000),  # aggregate: not a place
            ]
    # a place known in 2000 only (no population in 2005): not a place of 2000-2005
    t.append((2019, 2000, 400, "total", 5, 1000))
    t.append((2019, 2005, 400, "total", 6, None))
    # another revision must not leak in
    t.append((2017, 2000, 682, "total", 1, 2))
    return store(b, t)


def test_reference_years_are_those_with_bilateral_stocks_and_totals() -> None:
    con = small_store()
    assert reference_years(con, 2019, "total") == [2000, 2005, 2010]
    assert reference_years(con, 2017, "total") == []


def test_stock_tables_follow_the_issue_definition() -> None:
    con = small_store()
    tables = list(stock_tables(con, 2019))
    assert [(t.sex, t.period_start, t.period_end) for t in tables] == [
        (sex, a, b) for sex in ("total", "female", "male") for a, b in ((2000, 2005), (2005, 2010))
    ]
    t = tables[0]
    assert t.codes.tolist() == [4, 12, 682, 818]  # 400 lacks a population in 2005; 950 >= 900
    i = {c: n for n, c in enumerate(t.codes.tolist())}
    start = t.start
    assert start[i[818], i[682]] == 1000  # born in Egypt, living in Saudi Arabia
    assert start[i[4], i[682]] == 300
    assert start[i[12], i[682]] == 0  # '..' counts as 0
    assert start[i[682], i[818]] == 50
    assert start[i[682], i[682]] == 20000 - 1300  # population - migrants
    assert start[i[4], i[4]] == 0  # migrants above the population
    assert start[i[818], i[12]] == 20
    # Other South, the world total and origin 410 (not a place) are no rows; 410 is left out
    assert start.sum() == 1000 + 300 + 50 + 20 + (20000 - 1300) + (70000 - 50) + (30000 - 20)
    assert t.left_out == (77.0, 77.0)
    assert t.end[i[818], i[682]] == 1500


def test_estimate_flows_returns_the_flows_table_rows() -> None:
    con = small_store()
    df = estimate_flows(con, 2019)
    assert tuple(df.columns) == FLOW_COLUMNS
    assert set(df["method"]) == set(METHODS)
    assert set(df["sex"]) == {"total", "female", "male"}
    assert set(zip(df["period_start"], df["period_end"], strict=True)) == {
        (2000, 2005),
        (2005, 2010),
    }
    assert (df["revision"] == 2019).all()
    assert not df["vital_events"].any()
    assert (df["flow"] > 0).all()
    assert (df["origin_code"] != df["destination_code"]).all()
    assert set(df["origin_code"]) | set(df["destination_code"]) <= {4, 12, 682, 818}
    # stock differences: born in Egypt living in Saudi Arabia, 1000 -> 1500
    diff = df[(df["method"] == "stock_difference_zero") & (df["sex"] == "total")]
    got = diff.set_index(["period_start", "origin_code", "destination_code"])["flow"]
    assert got[(2000, 818, 682)] == 500
    assert got[(2005, 818, 682)] == 500
    # the account moves people along the same corridor
    demo = df[(df["method"] == "demographic_account") & (df["sex"] == "total")]
    corridor = demo.set_index(["period_start", "origin_code", "destination_code"])["flow"]
    assert corridor[(2000, 818, 682)] > 10


def test_estimate_flows_keeps_zeros_on_request_and_handles_an_empty_revision() -> None:
    con = small_store()
    every = estimate_flows(con, 2019, keep_zeros=True)
    # 4 places: 12 pairs, 3 methods, 3 sexes, 2 periods
    assert len(every) == 12 * 3 * 3 * 2
    assert (every["flow"] >= 0).all()
    empty = estimate_flows(con, 2015)
    assert list(empty.columns) == list(FLOW_COLUMNS)
    assert empty.empty


def test_births_and_deaths_are_used_and_flagged() -> None:
    con = small_store()
    rows = [
        (code, year, sex, births, deaths)
        for code in (4, 12, 682, 818)
        for year in range(2000, 2011)
        for sex, births, deaths in (("total", 500.0, 200.0), ("female", 240.0, 90.0),
                                    ("male", 260.0, 110.0))
    ]  # fmt: skip
    vital = VitalEvents(pd.DataFrame(rows, columns=["code", "year", "sex", "births", "deaths"]))
    births, deaths, complete = vital.period(np.array([4, 682, 999]), 2000, 2005, "total")
    assert births.tolist() == [2500.0, 2500.0, 0.0]  # halves at both ends: 0.5 + 4 + 0.5
    assert deaths.tolist() == [1000.0, 1000.0, 0.0]
    assert not complete  # 999 has no figures
    with_vital = estimate_flows(con, 2019, vital)
    without = estimate_flows(con, 2019)
    assert with_vital["vital_events"].all()
    demo = with_vital["method"] == "demographic_account"
    # stock differences do not use births and deaths; the account does
    pd.testing.assert_frame_equal(
        with_vital[~demo].drop(columns="vital_events").reset_index(drop=True),
        without[without["method"] != "demographic_account"]
        .drop(columns="vital_events")
        .reset_index(drop=True),
    )
    assert not np.allclose(
        with_vital[demo]["flow"].sum(),
        without[without["method"] == "demographic_account"]["flow"].sum(),
    )


WPP_HEADER = (
    "SortOrder,LocID,Notes,ISO3_code,ISO2_code,SDMX_code,LocTypeID,LocTypeName,ParentID,"
    "Location,VarID,Variant,Time,TPopulation1Jan,TPopulation1July,Births,SRB,Deaths,"
    "DeathsMale,DeathsFemale,NetMigrations"
)


def wpp_file(path: Path, compress: bool = False) -> Path:
    """A few rows in the layout of WPP's demographic indicators (synthetic numbers)."""
    lines = [WPP_HEADER]
    for year in range(2015, 2021):
        lines.append(
            f"1,682,,SAU,SA,682,4,Country/Area,922,Saudi Arabia,2,Medium,{year},"
            f"30000,30100,600.0,105.0,120.0,70.0,50.0,100"
        )
        lines.append(
            f"2,818,,EGY,EG,818,4,Country/Area,912,Egypt,2,Medium,{year},"
            f"100000,100500,2050.0,105.0,600.0,320.0,280.0,-30"
        )
    text = "\n".join(lines) + "\n"
    if compress:
        path = path.with_suffix(".csv.gz")
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_wpp_indicators_are_found_by_their_columns_and_read(tmp_path: Path) -> None:
    (tmp_path / "UN_MigrantStockTotal_2019.csv").write_text("Year,Destination\n1990,X\n")
    wpp = wpp_file(tmp_path / "anything.csv")
    assert find_wpp_indicators(tmp_path) == wpp
    vital = read_wpp_indicators(wpp)
    births, deaths, complete = vital.period(np.array([682, 818]), 2015, 2020, "total")
    assert complete
    np.testing.assert_allclose(births, [5 * 600_000.0, 5 * 2_050_000.0])
    np.testing.assert_allclose(deaths, [5 * 120_000.0, 5 * 600_000.0])
    male, male_deaths, _ = vital.period(np.array([682]), 2015, 2020, "male")
    female, female_deaths, _ = vital.period(np.array([682]), 2015, 2020, "female")
    np.testing.assert_allclose(male, 5 * 600_000.0 * 105 / 205)
    np.testing.assert_allclose(male + female, births[:1])
    np.testing.assert_allclose(male_deaths + female_deaths, deaths[:1])


def test_wpp_gzip_and_a_file_without_its_columns(tmp_path: Path) -> None:
    wpp = wpp_file(tmp_path / "WPP2024_Demographic_Indicators_Medium.csv", compress=True)
    assert find_wpp_indicators(tmp_path) == wpp
    assert len(read_wpp_indicators(wpp).table) == 2 * 6 * 3
    other = tmp_path / "other.csv"
    other.write_text("LocID,Time,Births\n682,2015,1\n")
    with pytest.raises(WppFormatError, match="Deaths"):
        read_wpp_indicators(other)
    assert find_wpp_indicators(tmp_path / "nowhere") is None
