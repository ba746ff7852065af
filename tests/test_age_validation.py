"""Validation of the age workbooks: the suites, the sums, the policy (countries block, the
UN's aggregates and the population table warn), the findings in words with their cells
and IDs; and the tables and views a load of them gives."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from migstock.acquire.provenance import local_file
from migstock.catalog import revision
from migstock.parse.prepare import PreparedFile, group_by_revision, prepare_file
from migstock.pipeline import revision_load
from migstock.report import review
from migstock.report.explain import Finding, SourceRows, explain
from migstock.report.review import entries
from migstock.store import load_revisions
from migstock.validate import validate_revision
from migstock.validate.gx import ValidationReport, Validator
from tests.age_workbooks import age_from_totals, age_tables, median_age, write_age

TOTALS_2020 = "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
#: the places of the test's age workbook: the world, a GCC and a Mashreq country, France
CODES = [900, 682, 818, 250]
BANDS = 16


@pytest.fixture(scope="module")
def totals_2020(official_dir: Path) -> PreparedFile:
    return prepare_file(local_file(official_dir / TOTALS_2020, "raw-dir"))


@pytest.fixture(scope="module")
def names_2020(totals_2020: PreparedFile) -> dict[int, str]:
    return dict(zip(totals_2020.names["code"], totals_2020.names["name"], strict=True))


@pytest.fixture(scope="module")
def tables_2020(totals_2020, names_2020):
    """Age tables that agree with the official 2020 totals workbook."""
    return age_from_totals(totals_2020.rows, names_2020, CODES)


def _age(tmp_path: Path, tables, name: str = "age.xlsx", **changes) -> PreparedFile:
    migrants, population = tables
    migrants = {p: {y: {s: list(v) for s, v in d.items()} for y, d in by.items()}
                for p, by in migrants.items()}  # fmt: skip
    population = {p: {y: {s: list(v) for s, v in d.items()} for y, d in by.items()}
                  for p, by in population.items()}  # fmt: skip
    for (table, code, year, sex, band), value in changes.get("cells", {}).items():
        target = migrants if table == "migrants" else population
        place = next(p for p in target if p[1] == code)
        target[place][year][sex][band] = value
    path = write_age(tmp_path / name, 2020, migrants=migrants, population=population)
    return prepare_file(local_file(path, "raw-dir"))


def _validate(validator: Validator, *files: PreparedFile) -> ValidationReport:
    return validate_revision(validator, revision(2020), list(files))


def _findings(report: ValidationReport, files, names) -> list[Finding]:
    sources = [SourceRows(f.raw.path.name, f.dataset, f.rows, f.raw.sha256) for f in files]
    sources += [
        SourceRows(f.raw.path.name, "age_population", f.age_population, f.raw.sha256)
        for f in files
        if f.age_population is not None
    ]
    report.findings = explain(report, sources, names)
    return report.findings


def _failed(report: ValidationReport, check: str):
    return [r for r in report.results if not r.success and check in (r.condition or "")]


def test_an_age_workbook_that_agrees_with_the_totals_passes_every_check(
    validator, tmp_path, totals_2020, tables_2020
) -> None:
    age = _age(tmp_path, tables_2020)
    report = _validate(validator, totals_2020, age)
    age_results = [r for r in report.results if r.dataset == "age"]
    assert {r.suite for r in age_results} == {"age_stock", "age_population", "reconciliation"}
    assert [r.describe() for r in age_results if not r.success] == []
    assert report.passed
    years = len(revision(2020).years)
    assert report.checked["age_bands_sum_to_total"] == len(CODES) * years * 3
    assert report.checked["age_male_plus_female"] == len(CODES) * years * (BANDS + 1)
    assert report.checked["age_total_vs_totals"] == len(CODES) * years * 3
    assert report.checked["population_bands_sum_to_total"] == len(CODES) * years * 3


def test_bands_that_do_not_sum_block_a_country_and_warn_for_an_aggregate(
    validator, tmp_path, totals_2020, tables_2020, names_2020
) -> None:
    # Saudi Arabia's 2020 males aged 30-34 are 1,000 off and the world's 1990 females
    # aged 0-4 100,000 (over 0.01% of the world's): the bands no longer add up to the
    # all-ages total (and males + females no longer equal both sexes in that band)
    cells = {
        ("migrants", 682, 2020, "male", 6): int(
            tables_2020[0][(names_2020[682], 682)][2020]["male"][6]
        )
        + 1000,
        ("migrants", 900, 1990, "female", 0): int(
            tables_2020[0][(names_2020[900], 900)][1990]["female"][0]
        )
        + 100_000,
    }
    age = _age(tmp_path, tables_2020, cells=cells)
    report = _validate(validator, totals_2020, age)
    assert report.blocked("age") and not report.blocked("destination_totals")
    blocking = {r.condition.split("'")[1] for r in report.blocking_failures}
    assert blocking == {"age_bands_sum_to_total", "age_male_plus_female"}
    (warning,) = [r for r in _failed(report, "age_bands_sum_to_total") if not r.blocking]
    assert [(row["destination_code"], row["year"], row["sex"]) for row in warning.rows] == [
        (900, 1990, "female")
    ]
    findings = _findings(report, [totals_2020, age], names_2020)
    (sums,) = [f for f in findings if f.check == "age_bands_sum_to_total" and f.blocking]
    (saudi,) = sums.failures
    assert saudi.line().startswith("Saudi Arabia (682) 2020, males, all ages: published")
    assert "sum of the age bands" in saudi.text and "differs by 1,000" in saudi.text
    assert (saudi.file, saudi.sheet) == ("age.xlsx", "Table 1") and saudi.row is not None
    (band,) = [f for f in findings if f.check == "age_male_plus_female" and f.blocking]
    assert band.failures[0].sex == "both sexes vs males + females, aged 30-34"


def test_the_population_sums_only_warn(
    validator, tmp_path, totals_2020, tables_2020, names_2020
) -> None:
    cells = {("population", 682, 2015, "female", 9): 1}  # aged 45-49: far too few women
    age = _age(tmp_path, tables_2020, cells=cells)
    report = _validate(validator, totals_2020, age)
    assert report.passed
    failed = {r.condition.split("'")[1] for r in report.warnings if r.dataset == "age"}
    assert failed == {"population_bands_sum_to_total", "population_male_plus_female"}
    findings = _findings(report, [totals_2020, age], names_2020)
    (sexes,) = [f for f in findings if f.check == "population_male_plus_female"]
    (failure,) = sexes.failures
    assert failure.sex == "both sexes vs males + females, population aged 45-49"
    assert failure.sheet == "Table 2" and failure.age_group == "45-49"


def test_an_all_ages_total_that_differs_from_the_totals_workbook_warns_with_both_cells(
    validator, tmp_path, totals_2020, tables_2020, names_2020
) -> None:
    migrants, population = tables_2020
    saudi = (names_2020[682], 682)
    changed = {p: {y: dict(d) for y, d in by.items()} for p, by in migrants.items()}
    # every cell of Saudi Arabia's 2020 row 2 % smaller, consistently: only the comparison
    # with the totals workbook can tell
    values = changed[saudi][2020]
    from migstock.demo.samples import age_values

    changed[saudi][2020] = age_values(
        int(values["male"][-1] * 0.98), int(values["female"][-1] * 0.98)
    )
    age = _age(tmp_path, (changed, population))
    report = _validate(validator, totals_2020, age)
    assert report.passed
    findings = _findings(report, [totals_2020, age], names_2020)
    (finding,) = [f for f in findings if f.check == "age_total_vs_totals"]
    assert not finding.blocking and len(finding.failures) == 3  # both sexes, males, females
    total = next(f for f in finding.failures if f.sex_code == "total")
    assert total.text.startswith("destination-totals workbook 13,454,842; age workbook, all ages")
    assert "age.xlsx, sheet 'Table 1', row" in total.where
    assert f"{TOTALS_2020}, sheet 'Table 1', row" in total.where


def test_a_negative_count_blocks_and_a_gap_warns_naming_the_age_group(
    validator, tmp_path, totals_2020, tables_2020, names_2020
) -> None:
    cells = {("migrants", 818, 2005, "female", 3): ".."}  # Egypt, 15-19: not available
    gap = _age(tmp_path, tables_2020, "gap.xlsx", cells=cells)
    report = _validate(validator, totals_2020, gap)
    assert report.passed
    findings = _findings(report, [totals_2020, gap], names_2020)
    (present,) = [f for f in findings if f.check == "age_bands_present"]
    (failure,) = present.failures
    assert failure.line().startswith("Egypt (818) 2005, females, all ages: 16 of the 17")
    assert failure.text.endswith("no value for 15-19")

    negative = _age(tmp_path, tables_2020, "negative.xlsx",
                    cells={("migrants", 818, 2005, "female", 3): -5})  # fmt: skip
    report = _validate(validator, totals_2020, negative)
    assert any(
        r.suite == "age_stock" and r.column == "migrants" and r.kwargs.get("min_value") == 0
        for r in report.blocking_failures
    )


def test_findings_on_different_age_groups_have_different_stable_ids(
    validator, tmp_path, totals_2020, tables_2020, names_2020
) -> None:
    cells = {("population", 682, 2015, "female", band): 1 for band in (9, 10)}  # 45-49 and 50-54
    age = _age(tmp_path, tables_2020, cells=cells)
    ids = []
    for _ in range(2):
        report = _validate(validator, totals_2020, age)
        _findings(report, [totals_2020, age], names_2020)
        listed = [e for e in entries([report]) if e.check == "population_male_plus_female"]
        ids.append(sorted((e.age_group, e.id) for e in listed))
    assert ids[0] == ids[1]
    assert [group for group, _ in ids[0]] == ["45-49", "50-54"]
    assert len({i for _, i in ids[0]}) == 2
    # a steward accepts one band: that one is accepted, the other stays open (not "lapsed")
    reviewed = tmp_path / "reviewed.toml"
    first = next(e for e in listed if e.age_group == "45-49")
    review.append(reviewed, [first], "synthetic population, checked", "Test Steward")
    assert 'age_group = "45-49"' in reviewed.read_text()
    review.judge(listed, review.load(reviewed))
    assert {(e.age_group, e.status, e.lapsed) for e in listed} == {
        ("45-49", "accepted", ""),
        ("50-54", "open", ""),
    }


@pytest.fixture(scope="module")
def age_store(tmp_path_factory, official_dir: Path) -> tuple[Path, dict]:
    """2020 and 2024 totals (official) and synthetic 2019 and 2020 age workbooks."""
    folder = tmp_path_factory.mktemp("age-store")
    paths = [
        official_dir / TOTALS_2020,
        official_dir / "undesa_pd_2024_ims_stock_by_sex_and_destination.xlsx",
        write_age(folder / "a2019.xlsx", 2019),
        write_age(folder / "a2020.xlsx", 2020),
    ]
    prepared = [prepare_file(local_file(p, "raw-dir")) for p in paths]
    loads = [revision_load(n, files) for n, files in group_by_revision(prepared).items()]
    db = folder / "m.duckdb"
    load_revisions(db, folder / "parquet", loads)
    return db, age_tables(2020)


def test_the_age_views_give_shares_and_interpolated_medians(age_store) -> None:
    db, (migrants, populations) = age_store
    bands = migrants[("Saudi Arabia", 682)][2020]
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT sex, migrants, share_under_15_pct, share_under_20_pct, share_20_64_pct, "
            "share_65_plus_pct, median_age FROM latest_arab_migrant_age_structure "
            "WHERE code = 682 AND year = 2020"
        ).fetchall()
        revisions = con.execute(
            "SELECT DISTINCT revision FROM latest_arab_migrants_by_age"
        ).fetchall()
        region = con.execute(
            "SELECT migrants, countries_reporting FROM latest_arab_migrants_by_age "
            "WHERE level = 'region' AND year = 2020 AND sex = 'total' AND age_group = '20-24'"
        ).fetchone()
        population = con.execute(
            "SELECT migrant_share_of_population_pct FROM arab_migrants_by_age WHERE code = 682 "
            "AND revision = 2020 AND year = 2020 AND sex = 'male' AND age_group = '0-4'"
        ).fetchone()
    assert revisions == [(2020,)]  # the newest revision with age data, not 2024
    assert len(rows) == 3
    for sex, total, under_15, under_20, middle, old, median in rows:
        values = bands[sex][:BANDS]
        assert total == sum(values)
        assert under_15 == round(100 * sum(values[:3]) / total, 2)
        assert under_20 == round(100 * sum(values[:4]) / total, 2)
        assert middle == round(100 * sum(values[4:13]) / total, 2)
        assert old == round(100 * sum(values[13:]) / total, 2)
        assert median == round(median_age(values), 1)
    egypt, saudi = (
        migrants[(n, c)][2020]["total"][4] for n, c in (("Egypt", 818), ("Saudi Arabia", 682))
    )
    assert region == (egypt + saudi, 2)
    people = populations[("Saudi Arabia", 682)][2020]["male"][0]
    assert population == (round(100 * bands["male"][0] / people, 2),)


def test_age_tables_are_partitioned_in_parquet(age_store) -> None:
    db, _ = age_store
    parquet = db.parent / "parquet"
    for table in ("age_stock", "age_population"):
        assert sorted(p.name for p in (parquet / table).iterdir()) == [
            "revision=2019",
            "revision=2020",
        ]
