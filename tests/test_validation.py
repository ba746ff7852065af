"""Great Expectations suites on real parsed data: clean revisions pass, each kind
of injected fault fails the intended expectation and blocks the load."""

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from migstock.acquire.provenance import local_file
from migstock.catalog import revision
from migstock.cli import app
from migstock.demo.samples import write_grids
from migstock.parse.prepare import PreparedFile, prepare_file
from migstock.parse.read import read_workbook
from migstock.validate import known_location_codes, validate_revision
from migstock.validate.gx import ValidationReport, Validator


@pytest.fixture(scope="module")
def real_files(official_dir: Path, bilateral_2019_path: Path, bilateral_2024_path: Path):
    paths = {
        2015: [official_dir / "UN_MigrantStockByOriginAndDestination_2015.xlsx"],
        2019: [official_dir / "UN_MigrantStockTotal_2019.xlsx", bilateral_2019_path],
        2020: [official_dir / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"],
        2024: [bilateral_2024_path],
    }
    return {
        number: [prepare_file(local_file(p, "raw-dir")) for p in files]
        for number, files in paths.items()
    }


def _validate(validator: Validator, number: int, files: list[PreparedFile]) -> ValidationReport:
    return validate_revision(validator, revision(number), files)


def _with_rows(item: PreparedFile, rows: pd.DataFrame) -> PreparedFile:
    return PreparedFile(item.raw, item.revision, item.dataset, rows, item.names)


def _failed(report: ValidationReport) -> set[tuple[str, str, str | None]]:
    return {(r.suite, r.expectation, r.condition or r.column) for r in report.blocking_failures}


@pytest.mark.parametrize("number", [2015, 2019, 2020, 2024])
def test_clean_real_revision_passes_every_blocking_check(validator, real_files, number) -> None:
    report = _validate(validator, number, real_files[number])
    assert report.passed, [r.describe() for r in report.blocking_failures]
    suites = {r.suite for r in report.results}
    assert "reconciliation" in suites
    if number == 2019:  # both workbooks: all three suites ran, the sums were reconciled
        assert suites == {
            "bilateral",
            "destination_totals",
            "refugees",
            "data_basis",
            "reconciliation",
        }
        assert report.checked["male_plus_female"] > 400_000
        assert report.checked["bilateral_vs_totals"] > 5_000


def _totals_2020(real_files) -> PreparedFile:
    return real_files[2020][0]


def _bilateral_2015(real_files) -> PreparedFile:
    return real_files[2015][0]


def test_a_suite_validated_in_detail_at_once_reports_the_same(
    validator, real_files, monkeypatch
) -> None:
    """A suite runs the quick result format first, and again in detail only when
    something failed; DETAILED_FIRST_SUITES run in detail at once: same results, same
    failing rows (and the value sample of a warning that passes with ``mostly``)."""
    item = _totals_2020(real_files)
    broken = item.rows.copy()
    broken.loc[broken.index[5], "migrants"] = -42
    parameters = {
        "revision_years": list(revision(2020).years),
        "location_codes": known_location_codes([item]),
    }

    def results(frame: pd.DataFrame) -> list[tuple[object, list[object]]]:
        outcome = validator.run_suite("destination_totals", frame, parameters)
        return [(result, result.rows) for result in outcome]

    clean, failing = results(item.rows), results(broken)
    monkeypatch.setattr("migstock.validate.gx.DETAILED_FIRST_SUITES", ("destination_totals",))
    assert results(item.rows) == clean
    assert results(broken) == failing
    # the suite passed: a warning that passes with ``mostly`` shows values (nulls)
    assert all(result.success for result, _ in clean)
    assert any(rows and all(row is None for row in rows) for _, rows in clean)
    # it failed: the failing rows, in full
    assert any(rows and all(isinstance(row, dict) for row in rows) for _, rows in failing)
    assert not all(result.success for result, _ in failing)


def test_negative_value_fails_the_range_check(validator, real_files) -> None:
    item = _totals_2020(real_files)
    rows = item.rows.copy()
    rows.loc[rows.index[5], "migrants"] = -42
    report = _validate(validator, 2020, [_with_rows(item, rows)])
    assert ("destination_totals", "expect_column_values_to_be_between", "migrants") in _failed(
        report
    )
    failure = next(r for r in report.blocking_failures if r.column == "migrants")
    assert failure.unexpected_count == 1 and failure.sample[0]["migrants"] == -42


def test_male_plus_female_not_total_fails_reconciliation(validator, real_files) -> None:
    item = _totals_2020(real_files)
    rows = item.rows.copy()
    saudi_male = rows.index[
        (rows.destination_code == 682) & (rows.year == 2020) & (rows.sex == "male")
    ]
    rows.loc[saudi_male, "migrants"] += 5_000
    report = _validate(validator, 2020, [_with_rows(item, rows)])
    failed = [r for r in report.blocking_failures if "male_plus_female" in (r.condition or "")]
    assert failed and failed[0].unexpected_count == 1
    assert failed[0].sample[0]["destination_code"] == 682


def test_missing_arab_country_fails_presence_check(validator, real_files) -> None:
    item = _totals_2020(real_files)
    rows = item.rows[item.rows.destination_code != 434].reset_index(drop=True)  # Libya
    report = _validate(validator, 2020, [_with_rows(item, rows)])
    failed = [
        r for r in report.blocking_failures if "arab_countries_present" in (r.condition or "")
    ]
    assert failed and failed[0].unexpected_count == 21  # 7 years x 3 sexes
    assert failed[0].sample[0]["actual"] == 21


def test_duplicate_key_fails_uniqueness(validator, real_files) -> None:
    item = _bilateral_2015(real_files)
    rows = pd.concat([item.rows, item.rows.iloc[[100]]], ignore_index=True)
    report = _validate(validator, 2015, [_with_rows(item, rows)])
    assert any(
        r.expectation == "expect_compound_columns_to_be_unique" for r in report.blocking_failures
    )


def test_origin_sum_off_fails_reconciliation(validator, real_files) -> None:
    item = _bilateral_2015(real_files)
    rows = item.rows.copy()
    india_in_saudi = rows.index[(rows.destination_code == 682) & (rows.origin_code == 356)]
    rows.loc[india_in_saudi, "migrants"] += 100_000
    report = _validate(validator, 2015, [_with_rows(item, rows)])
    failed = [r for r in report.blocking_failures if "origins_sum_to_total" in (r.condition or "")]
    assert failed and failed[0].sample[0]["destination_code"] == 682


def test_unknown_code_fails_the_location_check(validator, real_files) -> None:
    item = _bilateral_2015(real_files)
    rows = item.rows.copy()
    rows["destination_code"] = rows["destination_code"].replace(np.int16(682), np.int16(683))
    report = _validate(validator, 2015, [_with_rows(item, rows)])
    failed = [r for r in report.blocking_failures if r.column == "destination_code"]
    assert failed and failed[0].expectation == "expect_column_values_to_be_in_set"
    assert {row["destination_code"] for row in failed[0].sample} == {683}


def test_a_blocked_revision_leaves_the_store_byte_for_byte_unchanged(
    real_store: Path, official_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "curated" / "migstock.duckdb"
    db.parent.mkdir()
    shutil.copy(real_store, db)
    shutil.copytree(real_store.parent / "parquet", db.parent / "parquet")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    parquet_before = sorted((p.name, p.stat().st_size) for p in (db.parent / "parquet").rglob("*"))

    book = read_workbook(official_dir / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx")
    grid = book.sheets["Table 1"]
    saudi = grid.index[grid[3] == 682][0]
    grid.iat[saudi, 5] = -1.0  # Saudi Arabia, 1990, both sexes: a negative stock
    raw = tmp_path / "raw"
    raw.mkdir()
    write_grids(book.sheets, raw / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx")

    result = CliRunner().invoke(app, ["run", "--raw-dir", str(raw), "--db", str(db)])
    assert result.exit_code == 1
    output = result.output.replace("\n", "")
    assert "revision 2020 destination_totals: blocked, " in output
    assert (
        "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx not loaded: migrants must be 0"
        in (output)
    )
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert (
        sorted((p.name, p.stat().st_size) for p in (db.parent / "parquet").rglob("*"))
        == parquet_before
    )
    results = list((db.parent / "validation" / "runs").glob("*/revision-2020.json"))
    assert len(results) == 1 and str(results[0]) in result.output.replace("\n", "")
    assert (raw / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx").exists()  # raw kept
    html = next((db.parent / "validation" / "runs").glob("*/summary.html")).read_text()
    text = re.sub(r"<[^>]+>", "", html)
    assert "Revision 2020: BLOCKED" in text
    assert "Saudi Arabia (682)" in text  # the failing row, with the place named


def test_run_names_that_look_like_dates_are_kept(validator) -> None:
    """GX parses a run name as a date when no run time is given; '-9999' made it crash."""
    from migstock.validate.gx import default_expectations_dir, load_suite_document
    from migstock.validate.reconcile import COLUMNS

    row = {
        "dataset": "destination_totals",
        "check": "male_plus_female",
        "year": 2020,
        "destination_code": 682,
        "origin_code": None,
        "sex": "total",
        "expected": 13_454_842.0,
        "actual": 13_454_842.0,
        "abs_difference": 0.0,
        "relative_difference": 0.0,
        "actual_to_expected": 1.0,
        "aggregate": False,
    }
    good = pd.DataFrame([row], columns=COLUMNS)
    bad = good.assign(actual=13_464_842.0, abs_difference=10_000.0, relative_difference=7e-4)
    name = "20261128T094556Z-9999"
    passed = validator.run_suite("reconciliation", good, {}, run_name=name)
    failed = validator.run_suite("reconciliation", bad, {}, run_name=name)
    suite = load_suite_document(default_expectations_dir(), "reconciliation")
    assert len(passed) == len(failed) == len(suite["expectations"])  # every expectation ran
    assert all(r.success for r in passed)
    assert [(r.success, r.notes) for r in failed if not r.success] == [
        (False, "male + female = total for every country's cell")
    ]


def test_a_column_of_the_wrong_type_fails_the_type_check(validator, real_files) -> None:
    item = _totals_2020(real_files)
    rows = item.rows.assign(year=item.rows["year"].astype(str))
    report = _validate(validator, 2020, [_with_rows(item, rows)])
    assert ("destination_totals", "expect_column_values_to_be_in_type_list", "year") in _failed(
        report
    )


def test_data_docs_show_the_last_result_of_each_suite_workbook_and_revision(
    real_files, tmp_path: Path
) -> None:
    docs = tmp_path / "data_docs"
    validator = Validator(docs_dir=docs)
    item = _totals_2020(real_files)
    first = validate_revision(validator, revision(2020), [item], None, "r")
    suites = {r.suite for r in first.results if r.suite != "parse"}
    validate_revision(validator, revision(2020), [item], None, "r")  # validated again
    assert validator.build_docs() == docs / "index.html"
    pages = sorted((docs / "validations").rglob("*.html"))
    assert len(pages) == len(suites)  # the second result of each suite, not both
    assert validator.build_docs() is None  # nothing new since
