"""Every query of docs/cookbook.md, run against a store built from real UN files,
and each answer checked against values read from those files independently of
migstock's parsers (pandas on the official workbooks, the CSV exports)."""

from __future__ import annotations

import hashlib
import itertools
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from migstock.parse.labels import AGE_BANDS
from migstock.regions import ARAB_SUBREGION_OF, ARAB_SUBREGIONS

COOKBOOK = Path(__file__).resolve().parents[1] / "docs" / "cookbook.md"
QUERIES = re.findall(r"```sql\n(.*?)```", COOKBOOK.read_text(encoding="utf-8"), re.S)
TOTALS = {
    2015: "UN_MigrantStockTotal_2015.xlsx",
    2017: "UN_MigrantStockTotal_2017.xlsx",
    2019: "UN_MigrantStockTotal_2019.xlsx",
    2020: "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx",
    2024: "undesa_pd_2024_ims_stock_by_sex_and_destination.xlsx",
}
ARAB = set(ARAB_SUBREGION_OF)
#: the 22 League members as the 2019 CSV exports name them
ARAB_NAMES_2019 = {
    "Algeria", "Bahrain", "Comoros", "Djibouti", "Egypt", "Iraq", "Jordan", "Kuwait",
    "Lebanon", "Libya", "Mauritania", "Morocco", "Oman", "Qatar", "Saudi Arabia", "Somalia",
    "State of Palestine", "Sudan", "Syrian Arab Republic", "Tunisia", "United Arab Emirates",
    "Yemen",
}  # fmt: skip


def _answer(store: Path, number: int) -> pd.DataFrame:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(QUERIES[number - 1]).df()


def _number(value: object) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace(" ", "").replace(",", "")
    if text in ("-", "\u2013"):
        return 0.0
    try:
        return float(text)
    except ValueError:
        return np.nan


def table_one(path: Path, sheet: str = "Table 1") -> pd.DataFrame:
    """(code, year, sex, migrants) of a totals workbook's table, read with pandas."""
    grid = pd.read_excel(path, sheet_name=sheet, header=None, engine="calamine")
    labels = {"Code", "Country code", "Location code"}
    header, code_col = next(
        (r, c)
        for r in range(40)
        for c in grid.columns
        if isinstance(grid.iat[r, c], str) and grid.iat[r, c].strip() in labels
    )
    year_row = next(
        r for r in (header, header + 1) if any(_is_year(v) for v in grid.iloc[r].tolist())
    )
    year_cols = [c for c in grid.columns if _is_year(grid.iat[year_row, c])]
    block = len(year_cols) // 3
    records = []
    for r in range(year_row + 1, len(grid)):
        code = _number(grid.iat[r, code_col])
        if np.isnan(code):
            continue
        for i, c in enumerate(year_cols[: 3 * block]):
            sex = ("total", "male", "female")[i // block]
            year = int(float(grid.iat[year_row, c]))
            records.append((int(code), year, sex, _number(grid.iat[r, c])))
    return pd.DataFrame(records, columns=["code", "year", "sex", "migrants"])


def _is_year(value: object) -> bool:
    number = _number(value)
    return not np.isnan(number) and 1950 <= number <= 2100 and number == int(number)


@pytest.fixture(scope="module")
def latest_totals(real_store: Path) -> int:
    """The newest destination-totals revision the store holds (which file to read)."""
    with duckdb.connect(str(real_store), read_only=True) as con:
        return con.execute("SELECT max(revision) FROM destination_totals").fetchone()[0]


@pytest.fixture(scope="module")
def totals(official_dir: Path) -> dict[int, pd.DataFrame]:
    return {revision: table_one(official_dir / name) for revision, name in TOTALS.items()}


@pytest.fixture(scope="module")
def pairs_2024(export_2024) -> pd.DataFrame:
    frame = export_2024.rename(
        columns={
            "Location code of destination": "destination",
            "Location code of origin": "origin",
        }
    )
    return frame[frame["destination"] < 900]


def test_the_cookbook_answers_at_least_ten_questions() -> None:
    assert len(QUERIES) >= 10


def test_q1_arab_region_and_subregions(real_store, totals, latest_totals) -> None:
    table = totals[latest_totals]
    year = table["year"].max()
    arab = table[(table["year"] == year) & (table["sex"] == "total") & table["code"].isin(ARAB)]
    expected = {"Arab region": int(arab["migrants"].sum())}
    for region, codes in ARAB_SUBREGIONS.items():
        expected[region] = int(arab.loc[arab["code"].isin(codes), "migrants"].sum())
    if latest_totals == 2024:
        assert expected["Arab region"] == 44_540_617  # checked by hand (SOURCES.md)
    answer = _answer(real_store, 1)
    assert dict(zip(answer["region"], answer["migrants"], strict=True)) == expected
    assert set(answer["year"]) == {year}


def test_q2_top_female_origins_in_the_gcc(real_store, pairs_2024) -> None:
    gcc = pairs_2024[pairs_2024["destination"].isin(ARAB_SUBREGIONS["GCC"])]
    expected = gcc.groupby("origin")["2024_females"].sum().sort_values(ascending=False)
    answer = _answer(real_store, 2)
    assert answer["female_migrants"].tolist() == expected.head(10).tolist()


def test_q3_egyptians_abroad(real_store, pairs_2024) -> None:
    egypt = pairs_2024[pairs_2024["origin"] == 818]
    expected = egypt["2024_total"].sort_values(ascending=False).head(15)
    assert _answer(real_store, 3)["migrants"].tolist() == expected.tolist()


def test_q4_intra_arab_share_in_2019(real_store, exports_dir) -> None:
    export = pd.read_csv(exports_dir / "ims2019_by_origin_and_destination_total.csv", dtype=str)
    rows = export[export["Destination"].isin(ARAB_NAMES_2019)]
    assert rows["Destination"].nunique() == 22
    answer = _answer(real_store, 4).set_index(["revision", "year"])
    for year, group in rows.groupby("Year"):
        # '..' (not available) counts as nothing, as SQL's sum skips NULL
        from_arab = np.nansum([_number(v) for c in ARAB_NAMES_2019 for v in group[c].fillna("")])
        total = np.nansum([_number(v) for v in group["Total"]])
        got = answer.loc[(2019, int(year))]
        assert got["from_arab_countries"] == from_arab
        assert got["all_migrants"] == total
        assert got["intra_arab_share_pct"] == round(100 * from_arab / total, 1)


def test_q5_saudi_arabia_across_revisions(real_store, totals) -> None:
    values = {
        (revision, int(row.year)): int(row.migrants)
        for revision, table in totals.items()
        for row in table[(table["code"] == 682) & (table["sex"] == "total")].itertuples()
    }
    with duckdb.connect(str(real_store), read_only=True) as con:
        query = "SELECT DISTINCT revision FROM destination_totals"
        loaded = {r for (r,) in con.execute(query).fetchall()}
    expected = []
    for year in sorted({y for _, y in values}):
        revisions = sorted(r for r, y in values if y == year and r in loaded)
        for previous, revision in itertools.pairwise(revisions):
            now, before = values[revision, year], values[previous, year]
            expected.append((year, revision, now, previous, before, now - before))
    answer = _answer(real_store, 5)
    got = [
        (r.year, r.revision, r.migrants, r.previous_revision, r.previous_migrants, r.change)
        for r in answer.itertuples()
    ]
    assert got == expected
    if 2024 in loaded:
        assert (2020, 2024, 13_071_258, 2020, 13_454_842, -383_584) in got  # SOURCES.md


def test_q6_womens_share(real_store, totals, latest_totals) -> None:
    table = totals[latest_totals]
    year = table["year"].max()
    latest = table[(table["year"] == year) & table["code"].isin(ARAB)]
    by_sex = latest.pivot(index="code", columns="sex", values="migrants")
    expected = (100 * by_sex["female"] / by_sex["total"]).round(2)
    answer = _answer(real_store, 6)
    assert len(answer) == 22
    got = dict(zip(answer["all_migrants"], answer["female_share_pct"], strict=True))
    assert got == {by_sex.at[c, "total"]: expected[c] for c in by_sex.index}


def test_q7_migrant_share_in_the_gcc(real_store, totals, latest_totals) -> None:
    table = totals[latest_totals]
    year = table["year"].max()
    gcc = table[
        (table["year"] == year)
        & (table["sex"] == "total")
        & table["code"].isin(ARAB_SUBREGIONS["GCC"])
    ]
    answer = _answer(real_store, 7)
    by_place = dict(zip(answer["destination"], answer["migrants"], strict=True))
    assert by_place.pop("GCC") == gcc["migrants"].sum()
    assert sorted(by_place.values()) == sorted(gcc["migrants"].tolist())
    share = 100 * answer["migrants"] / answer["total_population"]
    assert np.allclose(answer["migrant_share_pct"], share, atol=0.06)


def test_q8_arab_hosts_of_other_arabs(real_store, pairs_2024) -> None:
    intra = pairs_2024[
        pairs_2024["destination"].isin(ARAB)
        & pairs_2024["origin"].isin(ARAB)
        & (pairs_2024["destination"] != pairs_2024["origin"])
    ]
    expected = intra.groupby("destination")["2024_total"].sum().sort_values(ascending=False)
    assert _answer(real_store, 8)["from_other_arab_countries"].tolist() == expected.tolist()


def test_q9_emigrants_from_the_arab_ldcs(real_store, pairs_2024) -> None:
    ldcs = pairs_2024[pairs_2024["origin"].isin(ARAB_SUBREGIONS["Arab LDCs"])]
    expected = []
    for sex, column in (("female", "2024_females"), ("male", "2024_males")):
        top = ldcs.sort_values(column, ascending=False).groupby("origin").head(3)
        expected += [(sex, int(v)) for v in top[column]]
    answer = _answer(real_store, 9)
    assert sorted(zip(answer["sex"], answer["migrants"], strict=True)) == sorted(expected)


def test_q10_files_behind_the_numbers(
    real_store, official_dir, bilateral_2019_path, bilateral_2024_path, real_age_dir
) -> None:
    paths = [*sorted(official_dir.glob("*.xlsx")), bilateral_2019_path, bilateral_2024_path]
    paths += sorted(real_age_dir.glob("*.xlsx"))  # the real store's age workbooks
    digests = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in paths}
    answer = _answer(real_store, 10)
    assert dict(zip(answer["sha256"], answer["file_name"], strict=True)).items() <= digests.items()
    assert len(answer) == len(set(answer["sha256"]))
    assert answer["citation"].str.startswith("United Nations").all()
    assert (answer["licence"] == "CC BY 3.0 IGO").all()


@pytest.fixture(scope="module")
def age_store(tmp_path_factory, official_dir: Path) -> tuple[Path, dict]:
    """The official 2019 and 2020 totals workbooks and, beside them, synthetic age
    workbooks whose all-ages totals are the official ones (none of the UN's age
    workbooks is in shared); returns the store and the 2020 age tables written."""
    from migstock.acquire.provenance import local_file
    from migstock.parse.prepare import group_by_revision, prepare_file
    from migstock.pipeline import revision_load
    from migstock.store import load_revisions
    from tests.age_workbooks import age_from_totals, write_age

    folder = tmp_path_factory.mktemp("cookbook-age")
    prepared = []
    for number in (2019, 2020):
        totals = prepare_file(local_file(official_dir / TOTALS[number], "raw-dir"))
        names = dict(zip(totals.names["code"], totals.names["name"], strict=True))
        tables = age_from_totals(totals.rows, names, sorted(ARAB))
        path = write_age(folder / f"age_{number}.xlsx", number, migrants=tables[0],
                         population=tables[1])  # fmt: skip
        prepared += [totals, prepare_file(local_file(path, "raw-dir"))]
    loads = [revision_load(n, files) for n, files in group_by_revision(prepared).items()]
    db = folder / "m.duckdb"
    load_revisions(db, folder / "parquet", loads)
    return db, tables


def test_q14_age_structure_of_the_arab_region(age_store) -> None:
    from tests.age_workbooks import median_age

    db, (migrants, _) = age_store
    answer = _answer(db, 14)
    assert set(answer["revision"]) == {2020} and set(answer["year"]) == {2020}
    groups = {"Arab region": ARAB, **{r: set(c) for r, c in ARAB_SUBREGIONS.items()}}
    assert len(answer) == len(groups) * 3
    for row in answer.itertuples():
        bands = np.sum(
            [
                v[2020][row.sex][:16]
                for (_, code), v in migrants.items()
                if code in groups[row.region]
            ],
            axis=0,
        )
        total = bands.sum()
        assert row.migrants == total
        assert row.share_under_15_pct == round(100 * bands[:3].sum() / total, 2)
        assert row.share_20_64_pct == round(100 * bands[4:13].sum() / total, 2)
        assert row.share_65_plus_pct == round(100 * bands[13:].sum() / total, 2)
        assert row.median_age == round(median_age(bands.tolist()), 1)


def test_q15_saudi_arabia_by_age_and_sex(age_store, totals) -> None:
    db, (migrants, population) = age_store
    answer = _answer(db, 15)
    assert len(answer) == 32  # 16 bands x 2 sexes
    saudi = next(p for p in migrants if p[1] == 682)
    for row in answer.itertuples():
        band = list(AGE_BANDS).index(row.age_group)
        expected = migrants[saudi][2020][row.sex][band]
        people = population[saudi][2020][row.sex][band]
        assert (row.migrants, row.population) == (expected, people)
        assert row.pct_of_migrants == round(100 * expected / migrants[saudi][2020][row.sex][16], 2)
        assert row.migrant_share_of_population_pct == round(100 * expected / people, 2)
    # the all-ages totals are the official ones (SOURCES.md: Saudi Arabia 2020, by sex)
    by_sex = answer.groupby("sex")["migrants"].sum().to_dict()
    assert by_sex == {"male": 9_235_130, "female": 4_219_712}
