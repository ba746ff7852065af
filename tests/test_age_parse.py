"""The age workbooks (migrants and total population by age and sex): the catalog, the four
known layouts on synthetic workbooks, and how an unknown or damaged one is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from migstock import acquire
from migstock.acquire import Action, Scope
from migstock.acquire.provenance import local_file
from migstock.catalog import CATALOG, revision
from migstock.demo.samples import AGE_LABELS, write_age_workbook
from migstock.errors import InputError
from migstock.outcomes import Outcome
from migstock.parse.labels import AGE_GROUPS, age_group
from migstock.parse.prepare import PreparedFile, prepare_file, prepare_or_reject
from tests.age_workbooks import PLACES, SPACED_LABELS, age_tables, migrants_of, write_age

OFFICIAL_AGE_NAMES = {
    2013: "UN_MigrantStockByAge_2013.xls",
    2015: "UN_MigrantStockByAge_2015.xlsx",
    2017: "UN_MigrantStockByAge_2017.xlsx",
    2019: "UN_MigrantStockByAgeAndSex_2019.xlsx",
    2020: "undesa_pd_2020_ims_stock_by_age_sex_and_destination.xlsx",
}


def _prepare(path: Path) -> PreparedFile:
    return prepare_file(local_file(path, "raw-dir"))


def test_every_revision_but_2024_has_its_age_workbook_in_the_catalog() -> None:
    ages = {e.revision: e.file("age") for e in CATALOG if e.has("age")}
    assert {n: f.file_name for n, f in ages.items()} == OFFICIAL_AGE_NAMES
    assert not revision(2024).has("age")
    assert all(f.url.endswith(f.file_name) for f in ages.values())
    assert ages[2015].layout == "age_sheets" and ages[2013].layout == "age_unknown"
    assert {ages[n].layout for n in (2017, 2019, 2020)} == {"age_year_rows"}


def test_a_missing_age_workbook_is_not_provided_and_fails_only_when_required(
    tmp_path: Path,
) -> None:
    raw = tmp_path / "raw"
    present = {(2020, "bilateral"), (2020, "destination_totals")}
    steps = acquire.plan_catalog(Scope.of(raw, revisions=[2020], offline=True), CATALOG, present)
    assert [(s.subject, s.action) for s in steps] == [("2020 age", Action.NOT_PROVIDED)]
    for required, status in (([], "not provided"), ([2020], "unavailable")):
        acquisition = acquire.Acquisition()
        scope = Scope.of(raw, revisions=[2020], offline=True, required=required)
        acquire.carry_out(acquisition, scope, steps, fetcher=None)  # type: ignore[arg-type]
        (outcome,) = acquisition.outcomes
        assert (outcome.subject, outcome.status) == ("2020 age", status)
        assert OFFICIAL_AGE_NAMES[2020] in outcome.message


@pytest.mark.parametrize("label", [" 15-19", "15 - 19", "15–19", "15-19*", "15-19 (a)"])
def test_band_labels_are_read_however_they_are_spaced(label: str) -> None:
    assert age_group(label) == "15-19"
    assert age_group("75 +") == age_group("75 and over") == "75+"
    assert age_group(" Total") == "total" and age_group("Total population") is None


@pytest.mark.parametrize("number", [2015, 2017, 2019, 2020])
def test_each_known_layout_parses_to_the_same_tidy_rows(tmp_path: Path, number: int) -> None:
    path = write_age(tmp_path / "any name.xlsx", number, band_labels=SPACED_LABELS)
    item = _prepare(path)
    assert (item.revision, item.dataset, item.notes) == (number, "age", [])
    rows = item.rows
    years = revision(number).years
    assert len(rows) == len(PLACES) * len(years) * 3 * len(AGE_GROUPS)
    assert set(rows["age_group"]) == set(AGE_GROUPS)
    assert rows["migrants"].notna().all() and not rows["suppressed"].any()
    last = years[-1]
    saudi = rows[(rows.destination_code == 682) & (rows.year == last)]
    by_key = {
        (s, g): int(m) for s, g, m in zip(saudi.sex, saudi.age_group, saudi.migrants, strict=True)
    }
    male, female = migrants_of(682, last)
    assert by_key[("male", "total")] == male and by_key[("female", "total")] == female
    assert by_key[("total", "total")] == male + female
    assert sum(by_key[("male", g)] for g in AGE_GROUPS[:-1]) == male
    assert by_key[("total", "15-19")] == by_key[("male", "15-19")] + by_key[("female", "15-19")]
    # lineage: one sheet row per place and year, named as in the workbook
    assert saudi["source_row"].nunique() == 1 and saudi["source_sheet"].nunique() == 1
    names = dict(zip(item.names["code"], item.names["name"], strict=True))
    assert names[250] == "France"  # the trailing footnote mark is not part of the name
    # the population table: thousands in the workbook, persons in the store
    population = item.age_population
    assert population is not None and len(population) == len(rows)
    world = population[
        (population.destination_code == 900) & (population.sex == "male")
        & (population.age_group == "total") & (population.year == last)
    ]  # fmt: skip
    assert world["population"].tolist() == [10 * migrants_of(900, last)[0]]


def test_the_2015_layout_takes_the_year_from_each_table_title(tmp_path: Path) -> None:
    item = _prepare(write_age(tmp_path / "a.xlsx", 2015))
    sheets = item.rows.groupby("year")["source_sheet"].unique().to_dict()
    assert {year: list(s) for year, s in sheets.items()} == {
        year: [f"Table {i}"] for i, year in enumerate(revision(2015).years, start=1)
    }
    assert set(item.age_population["source_sheet"]) == {f"Table {i}" for i in range(7, 13)}


def test_not_available_cells_are_null_and_derived_tables_are_not_read(tmp_path: Path) -> None:
    migrants, _ = age_tables(2020)
    migrants[("Egypt", 818)][2020]["female"][3] = ".."
    migrants[("Egypt", 818)][1990] = {
        s: [".."] * len(AGE_LABELS) for s in ("total", "male", "female")
    }
    path = write_age(tmp_path / "a.xlsx", 2020, migrants=migrants, distribution=True)
    rows = _prepare(path).rows
    egypt = rows[rows.destination_code == 818]
    gap = egypt[(egypt.year == 2020) & (egypt.sex == "female") & (egypt.age_group == "15-19")]
    assert gap["migrants"].isna().all()
    assert egypt.loc[egypt.year == 1990, "migrants"].isna().all()
    assert set(rows["source_sheet"]) == {"Table 1"}  # Table 4 (percentages) is derived


@pytest.mark.parametrize("number", [2015, 2019])
def test_a_workbook_with_some_year_tables_loads_them_and_names_the_others(
    tmp_path: Path, number: int
) -> None:
    years = list(revision(number).years)
    kept = [years[0], years[-1]]
    item = _prepare(write_age(tmp_path / "a.xlsx", number, years=kept))
    assert sorted(set(item.rows["year"])) == kept
    missing = ", ".join(str(y) for y in years[1:-1])
    assert any("year tables of migrants by age" in n and missing in n for n in item.notes)
    assert any("total population by age" in n and missing in n for n in item.notes)


def test_a_workbook_without_its_population_table_loads_with_a_warning(tmp_path: Path) -> None:
    item = _prepare(write_age(tmp_path / "a.xlsx", 2017, population=False))
    assert item.age_population is None
    assert item.notes == [
        "the table of total population by age (thousands) not found: age_population is not "
        "loaded from this workbook"
    ]


def _rejected(path: Path) -> str:
    outcome = prepare_or_reject(local_file(path, "raw-dir"))
    assert isinstance(outcome, Outcome), "the workbook was not refused"
    assert "\n" not in outcome.message
    return outcome.message


def test_the_2013_age_workbook_is_refused_in_one_line(tmp_path: Path) -> None:
    # laid out as a known layout is: the 2013 layout itself is still unknown
    path = tmp_path / "UN_MigrantStockByAge_2013.xlsx"
    migrants, _ = age_tables(2015, years=[1990])
    write_age_workbook(path, 2013, [1990], migrants)
    message = _rejected(path)
    assert "revision 2013" in message and "the 2013 age layout is not known" in message
    assert "2015, 2017, 2019, 2020" in message


def test_an_age_title_over_a_table_without_age_bands_is_refused(tmp_path: Path) -> None:
    path = write_age(tmp_path / "a.xlsx", 2019, band_labels=[f"Age {i}" for i in range(17)])
    message = _rejected(path)
    assert "speaks of age" in message and "not recognised" in message


def test_an_unknown_band_is_an_error_naming_its_cell(tmp_path: Path) -> None:
    labels = [*AGE_LABELS[:-2], "75-79", "Total"]
    with pytest.raises(InputError) as error:
        _prepare(write_age(tmp_path / "a.xlsx", 2020, band_labels=labels))
    assert error.value.sheet == "Table 1" and error.value.cell == "V11"  # the 16th band
    assert "'75-79' is not one of the UN's age groups" in str(error.value)


def test_a_deleted_band_column_is_an_error_naming_the_block(tmp_path: Path) -> None:
    labels = [label if label != "40-44" else "" for label in AGE_LABELS]
    with pytest.raises(InputError) as error:
        _prepare(write_age(tmp_path / "a.xlsx", 2019, band_labels=labels))
    assert error.value.cell == "G15"  # the title of the both-sexes block
    assert "both sexes block has no column for 40-44" in str(error.value)


def test_a_lost_year_row_is_an_error_naming_the_place(tmp_path: Path) -> None:
    migrants, _ = age_tables(2017)
    del migrants[("Egypt", 818)][2005]
    with pytest.raises(InputError) as error:
        _prepare(write_age(tmp_path / "a.xlsx", 2017, migrants=migrants))
    assert "Egypt (818) has no row for 2005" in str(error.value)
    assert error.value.cell.startswith("A")  # the Year column


def test_a_year_outside_the_revision_is_an_error(tmp_path: Path) -> None:
    migrants, _ = age_tables(2019, years=[1990, 2018])
    path = write_age_workbook(tmp_path / "a.xlsx", 2019, [1990, 2018], migrants)
    with pytest.raises(InputError, match="year 2018 is not a reference year"):
        _prepare(path)


def test_a_fraction_of_a_migrant_is_refused_but_thousands_of_population_are_not(
    tmp_path: Path,
) -> None:
    migrants, _ = age_tables(2020)
    migrants[("Saudi Arabia", 682)][2000]["male"][5] = 12.5
    with pytest.raises(InputError, match="whole number of persons"):
        _prepare(write_age(tmp_path / "a.xlsx", 2020, migrants=migrants))
    population = _prepare(write_age(tmp_path / "b.xlsx", 2020)).age_population
    assert population is not None
    assert np.array_equal(population["population"] % 1, np.zeros(len(population)))
