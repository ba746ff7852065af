"""Migrants and refugees: the refugee table, the type of data and the country notes of
the official workbooks, stored, validated and summed without double counting."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from migstock.acquire.provenance import local_file
from migstock.catalog import revision
from migstock.errors import InputError
from migstock.parse import parse_workbook
from migstock.parse.cells import SheetRef
from migstock.parse.prepare import PreparedFile, prepare_file
from migstock.parse.read import Workbook, read_workbook
from migstock.parse.sheets import classify_sheet
from migstock.validate import validate_revision

COOKBOOK = Path(__file__).resolve().parents[1] / "docs" / "cookbook.md"
TOTALS_2020 = "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
JORDAN, LEBANON, PALESTINE, SUDAN, SAUDI_ARABIA, WORLD = 400, 422, 275, 729, 682, 900


def _rows(db: Path, sql: str, *parameters: object) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(parameters)).fetchall()


@pytest.mark.parametrize(
    ("number", "code", "refugees"),
    [
        (2020, JORDAN, 3_017_401),
        (2020, LEBANON, 1_404_312),
        (2020, PALESTINE, 2_319_073),
        (2020, WORLD, 33_807_795),
        (2019, JORDAN, 2_928_724),
        (2019, WORLD, 28_711_526),
    ],
)
def test_refugee_stock_known_values(real_store: Path, number: int, code: int, refugees: int):
    found = _rows(
        real_store,
        "SELECT refugees FROM refugees WHERE revision = ? AND year = ? AND destination_code = ?",
        number,
        number,
        code,
    )
    assert found == [(refugees,)]


def test_refugees_in_parquet_too(real_store: Path) -> None:
    parquet = real_store.parent / "parquet"
    found = _rows(
        real_store,
        f"SELECT refugees FROM read_parquet('{parquet}/refugees/*/*.parquet', "
        "hive_partitioning = true) WHERE revision = 2020 AND year = 2020 "
        "AND destination_code = 400",
    )
    assert found == [(3_017_401,)]
    assert (parquet / "data_basis" / "data.parquet").exists()
    assert (parquet / "location_notes" / "data.parquet").exists()


def test_every_revision_with_a_refugee_table_has_it_loaded(real_store: Path) -> None:
    loaded = _rows(real_store, "SELECT DISTINCT revision FROM refugees ORDER BY 1")
    assert [r for (r,) in loaded] == [2015, 2017, 2019, 2020]


def test_type_of_data(real_store: Path) -> None:
    assert _rows(
        real_store,
        "SELECT data_type, basis, refugees_added FROM data_basis "
        "WHERE revision = 2024 AND destination_code = ?",
        SAUDI_ARABIA,
    ) == [("C R", "citizenship", True)]
    # every Arab country of every totals revision has its data basis
    per_revision = _rows(
        real_store,
        "SELECT revision, count(*) FROM data_basis b JOIN locations l "
        "ON l.code = b.destination_code AND l.arab_region GROUP BY 1 ORDER BY 1",
    )
    assert per_revision == [(r, 22) for r in (2015, 2017, 2019, 2020, 2024)]


def test_country_notes_of_sudan_and_palestine(real_store: Path) -> None:
    sql = "SELECT note_text FROM location_notes WHERE revision = ? AND location_code = ?"
    for number in (2015, 2017, 2019, 2020, 2024):
        assert _rows(real_store, sql, number, SUDAN) == [
            ("The estimates for 1990 to 2005 refer to Sudan and South Sudan.",)
        ]
        assert _rows(real_store, sql, number, PALESTINE) == [
            (
                "Including East Jerusalem. Refugees are not part of the foreign-born migrant "
                "stock in the State of Palestine.",
            )
        ]


def test_mojibake_in_the_2024_notes_is_repaired(official_dir: Path) -> None:
    path = official_dir / "undesa_pd_2024_ims_stock_by_sex_and_destination.xlsx"
    raw = " ".join(str(v) for v in read_workbook(path).sheets["Migrant notes"].to_numpy().ravel())
    assert "RÃ©union" in raw  # the official file carries it ...
    notes = parse_workbook(read_workbook(path)).note_texts
    texts = " ".join(notes.values())
    assert "RÃ©union" not in texts and "Ã" not in texts  # ... migstock repairs it
    assert "Réunion" in texts and "Curaçao" in texts and "Saint Barthélemy" in texts


def test_migrants_and_refugees_neither_double_count_nor_drop(real_store: Path) -> None:
    rows = pd.DataFrame(
        _rows(
            real_store,
            "SELECT level, code, name, refugees, migrants, refugees_in_migrant_stock, "
            "refugees_outside_migrant_stock, migrants_and_refugees FROM arab_refugees "
            "WHERE revision = 2020 AND year = 2020",
        ),
        columns=["level", "code", "name", "refugees", "migrants", "in_stock", "outside", "both"],
    )
    countries = rows[rows.level == "country"].set_index("code")
    assert len(countries) == 22
    palestine, jordan = countries.loc[PALESTINE], countries.loc[JORDAN]
    assert not palestine.in_stock and palestine.outside == 2_319_073
    assert palestine.both == palestine.migrants + 2_319_073  # not dropped
    assert jordan.in_stock and jordan.both == jordan.migrants  # not counted twice
    region = rows[rows.level == "region"].iloc[0]
    assert region["name"] == "Arab region" and region.migrants == 41_416_894
    assert region.both == countries.both.sum() == region.migrants + 2_319_073
    subregions = rows[rows.level == "subregion"].set_index("name")
    assert set(subregions.index) == {"GCC", "Mashreq", "Maghreb", "Arab LDCs"}
    assert subregions.both.sum() == region.both
    assert subregions.loc["Mashreq", "outside"] == 2_319_073


def test_arab_views_carry_the_data_basis(real_store: Path) -> None:
    assert _rows(
        real_store,
        "SELECT DISTINCT destination_data_type, destination_basis FROM arab_immigrants "
        "WHERE revision = 2015 AND destination_code = ?",
        SAUDI_ARABIA,
    ) == [("C R", "citizenship")]
    counts = _rows(
        real_store,
        "SELECT countries_foreign_born + countries_citizenship - countries_imputed >= 0, "
        "countries_imputed, countries_refugees_added FROM arab_region_totals "
        "WHERE revision = 2024 AND year = 2024 AND sex = 'total' AND region = 'Arab region'",
    )
    imputed = _rows(
        real_store,
        "SELECT count(*) FILTER (WHERE basis = 'imputed'), count(*) FILTER (WHERE refugees_added) "
        "FROM data_basis b JOIN locations l ON l.code = b.destination_code AND l.arab_region "
        "WHERE revision = 2024",
    )
    assert counts == [(True, *imputed[0])]
    assert imputed[0][1] > 0  # the GCC and Mashreq estimates add refugees


def _cookbook(number: int) -> str:
    match = re.search(rf"## {number}\..*?```sql\n(.*?)```", COOKBOOK.read_text(), re.S)
    assert match, number
    return match.group(1)


def test_cookbook_migrants_and_refugees_by_subregion(real_store: Path) -> None:
    rows = _rows(real_store, _cookbook(11))
    by_region = {r[0]: r for r in rows}
    arab = by_region["Arab region"]
    assert arab[1] == 41_416_894 and arab[3] == 2_319_073 and arab[4] == 41_416_894 + 2_319_073
    assert rows[0][0] == "Arab region" and len(rows) == 5


def test_cookbook_countries_whose_estimates_include_refugees(real_store: Path) -> None:
    rows = _rows(real_store, _cookbook(12))
    assert {r[1] for r in rows} == {2024}
    names = [r[0] for r in rows]
    assert "Saudi Arabia" in names and "Jordan" in names
    assert all("R" in r[2].split() for r in rows)
    assert "State of Palestine" not in names  # 2024 type of data: 'B'


def test_cookbook_notes_of_sudan_and_palestine(real_store: Path) -> None:
    rows = _rows(real_store, _cookbook(13))
    assert {(r[0], r[1]) for r in rows} == {
        (n, c) for n in (2015, 2017, 2019, 2020, 2024) for c in ("Sudan", "State of Palestine")
    }
    assert all(r[3] for r in rows)


# ---- validation ----


@pytest.fixture(scope="module")
def totals_2020(official_dir: Path) -> PreparedFile:
    return prepare_file(local_file(official_dir / TOTALS_2020, "raw-dir"))


def test_the_real_refugee_table_passes(validator, totals_2020: PreparedFile) -> None:
    report = validate_revision(validator, revision(2020), [totals_2020])
    assert report.passed, [r.describe() for r in report.blocking_failures]
    assert {"refugees", "data_basis"} <= {r.suite for r in report.results}
    assert report.checked["refugee_share"] > 1_000
    assert report.data_basis["destinations"] > 200
    assert 0 < report.data_basis["imputed"] < report.data_basis["refugees_added"]


def test_a_country_share_that_does_not_match_blocks(validator, totals_2020) -> None:
    refugees = totals_2020.refugees.copy()
    jordan = (refugees.destination_code == JORDAN) & (refugees.year == 2020)
    refugees.loc[jordan, "refugee_share"] += 1.0  # published 87.27 -> 88.27
    tampered = PreparedFile(**{**totals_2020.__dict__, "refugees": refugees})
    report = validate_revision(validator, revision(2020), [tampered])
    failure = next(r for r in report.blocking_failures if "refugee_share" in (r.condition or ""))
    assert [row["destination_code"] for row in failure.sample] == [JORDAN]


def test_negative_refugees_and_unknown_letters_block(validator, totals_2020) -> None:
    refugees = totals_2020.refugees.copy()
    refugees.loc[refugees.index[3], "refugees"] = -5
    basis = totals_2020.data_basis.copy()
    basis.loc[basis.destination_code == SAUDI_ARABIA, "data_type"] = "X R"
    tampered = PreparedFile(**{**totals_2020.__dict__, "refugees": refugees, "data_basis": basis})
    report = validate_revision(validator, revision(2020), [tampered])
    failed = {(r.suite, r.column) for r in report.blocking_failures}
    assert ("refugees", "refugees") in failed
    assert ("data_basis", "data_type") in failed


def test_a_lost_refugee_table_is_an_error(official_dir: Path) -> None:
    book = read_workbook(official_dir / TOTALS_2020)
    kept = {
        name: grid
        for name, grid in book.sheets.items()
        if classify_sheet(grid, SheetRef(book.path, name)).measure != "refugees"
    }
    assert len(kept) == len(book.sheets) - 1
    with pytest.raises(InputError, match=r"refugee table .* is missing: every .* 2020"):
        parse_workbook(Workbook(book.path, kept))


def test_the_steward_summary_counts_imputed_and_refugee_estimates(
    validator, totals_2020, tmp_path: Path
) -> None:
    from migstock.report import RunReports, markdown_summary

    report = validate_revision(validator, revision(2020), [totals_2020])
    countries = totals_2020.data_basis[totals_2020.data_basis.destination_code < 900]
    imputed = int((countries.basis == "imputed").sum())
    added = int(countries.refugees_added.sum())
    assert imputed == 6 and added > 100
    expected = f"{imputed} imputed (I), {added} with refugees added (R)"
    assert expected in markdown_summary([report], [])
    html = RunReports(tmp_path).write_summary([report], [], None, tmp_path)
    text = re.sub(r"<[^>]+>", "", html.read_text())
    assert f"{imputed} imputed" in text and f"{added} with refugees added" in text
