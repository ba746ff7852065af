"""What stewards read: failed checks in words, the same in the CLI, the summary and the
Prefect artifacts; a blocked run's Failed state; what is still served."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
from typer.testing import CliRunner

from migstock.cli import app
from migstock.parse.read import read_workbook
from migstock.report.explain import SourceRows, explain
from migstock.validate.gx import CheckResult, ValidationReport
from tests.browser import visit

TOTALS_2020 = "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
SUM_CONDITION = "check == 'male_plus_female' & abs_difference > 2"
YOY_CONDITION = "check == 'year_over_year' & abs_difference > 10000"
NAMES = {682: "Saudi Arabia", 688: "Serbia", 400: "Jordan", 4: "Afghanistan"}


def _totals_rows() -> pd.DataFrame:
    rows = [
        (year, code, sex, 1000, "Table 1", 100 + i)
        for i, code in enumerate((4, 400, 682, 688))
        for year in (1990, 1995)
        for sex in ("total", "male", "female")
    ]
    return pd.DataFrame(
        rows,
        columns=["year", "destination_code", "sex", "migrants", "source_sheet", "source_row"],
    )


def _check(check: str, code: int, year: int, sex: str | None, expected: float, actual: float):
    gap = abs(actual - expected)
    return {
        "check": check,
        "year": year,
        "destination_code": code,
        "origin_code": None,
        "sex": sex,
        "expected": expected,
        "actual": actual,
        "abs_difference": gap,
        "relative_difference": gap / expected,
        "actual_to_expected": actual / expected,
    }


def test_a_sum_check_names_the_cell_the_numbers_and_the_place() -> None:
    failing = _check("male_plus_female", 682, 1990, None, 3_457_691, 3_507_691)
    report = ValidationReport(2020)
    report.results.append(
        CheckResult(
            "reconciliation",
            "expect_column_values_to_be_between",
            "relative_difference",
            "critical",
            False,
            1,
            [failing],
            condition=SUM_CONDITION,
            kwargs={"max_value": 0.0001},
            rows=[failing],
        )
    )
    (finding,) = explain(
        report, [SourceRows("t.xlsx", "destination_totals", _totals_rows())], NAMES
    )
    assert finding.blocking
    assert finding.title == (
        "Males + females must equal the published total (tolerance: 2 persons or 0.01%)"
    )
    (failure,) = finding.failures
    assert failure.text == (
        "published total 3,457,691; males + females 3,507,691 (differs by 50,000, 1.45%)"
    )
    assert failure.place == "Saudi Arabia (682)" and failure.year == 1990 and failure.arab
    assert failure.where == "t.xlsx, sheet 'Table 1', row 102"
    assert "expect_column_values_to_be_between" in finding.gx_id  # kept for the JSON


def test_warnings_list_arab_rows_first_and_count_the_others() -> None:
    rows = [
        _check("year_over_year", 688, 1995, "male", 10_000, 40_000),
        _check("year_over_year", 688, 1995, "female", 10_000, 40_000),
        _check("year_over_year", 4, 1995, "total", 100_000, 30_000),
        _check("year_over_year", 400, 1995, "total", 50_000, 120_000),
    ]
    report = ValidationReport(2020)
    report.results.append(
        CheckResult(
            "reconciliation",
            "expect_column_values_to_be_between",
            "actual_to_expected",
            "warning",
            False,
            4,
            rows,
            condition=YOY_CONDITION,
            kwargs={"min_value": 0.5, "max_value": 2.0},
            rows=rows,
        )
    )
    (finding,) = explain(
        report, [SourceRows("t.xlsx", "destination_totals", _totals_rows())], NAMES
    )
    assert not finding.blocking
    assert finding.title.startswith(
        "A country's migrant stock should stay between ×0.5 and ×2 of the previous reference year"
    )
    first = finding.failures[0]
    assert (first.place, first.sex) == ("Jordan (400)", "both sexes")
    assert first.text == "50,000 in the previous reference year, 120,000 in 1995 (×2.40)"
    assert first.where == "t.xlsx, sheet 'Table 1', row 101"
    assert [f.arab for f in finding.failures] == [True, False, False, False]
    assert finding.other_places() == "Serbia (688): 2, Afghanistan (4): 1"
    assert "1 in the Arab region, 3 elsewhere (2 places)" in finding.headline()


def test_a_tidy_row_check_names_file_sheet_row_and_value() -> None:
    row = {
        "year": 1990,
        "destination_code": 682,
        "sex": "female",
        "migrants": -1,
        "source_sheet": "Table 1",
        "source_row": 148,
    }
    report = ValidationReport(2020)
    report.results.append(
        CheckResult(
            "destination_totals",
            "expect_column_values_to_be_between",
            "migrants",
            "critical",
            False,
            1,
            [row],
            kwargs={"min_value": 0},
            rows=[row],
        )
    )
    (finding,) = explain(
        report, [SourceRows("t.xlsx", "destination_totals", _totals_rows())], NAMES
    )
    assert finding.title == "migrants must be 0 or more"
    assert finding.failures[0].line() == (
        "Saudi Arabia (682) 1990, females: migrants = -1 [t.xlsx, sheet 'Table 1', row 148]"
    )


# --- a blocked revision, end to end through the CLI and Prefect ---------------------------


def _write_grid(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    book = xlsxwriter.Workbook(str(path))
    for name, grid in sheets.items():
        sheet = book.add_worksheet(name)
        for row, values in enumerate(grid.itertuples(index=False)):
            for col, value in enumerate(values):
                if value is None or value == "" or (isinstance(value, float) and value != value):
                    continue
                sheet.write(row, col, value)
    book.close()


@pytest.fixture(scope="module")
def blocked_run(tmp_path_factory: pytest.TempPathFactory, official_dir: Path, prefect_server: str):
    """A store with the real 2020 totals, then a run (through the Prefect door, for its
    artifacts) whose copy says Saudi Arabia's 1990 total is 50,000 higher than males +
    females."""
    root = tmp_path_factory.mktemp("blocked")
    good, bad = root / "good", root / "bad"
    good.mkdir(), bad.mkdir()
    shutil.copy(official_dir / TOTALS_2020, good / TOTALS_2020)
    db = root / "curated" / "migstock.duckdb"
    from migstock import pipeline
    from migstock.acquire import Scope

    assert not pipeline.run(Scope.of_run(good), db).failed
    book = read_workbook(official_dir / TOTALS_2020)
    grid = book.sheets["Table 1"]
    saudi = grid.index[grid[3] == 682][0]
    grid.iat[saudi, 5] = grid.iat[saudi, 5] + 50_000  # 1990, both sexes
    _write_grid(book.sheets, bad / TOTALS_2020)
    result = CliRunner().invoke(
        app,
        ["run", "--raw-dir", str(bad), "--db", str(db)],
        env={"PREFECT_API_URL": prefect_server},
    )
    return db, result


PUBLISHED = "published total 5,048,445; males + females 4,998,445 (differs by 50,000, 0.99%)"
WHERE = f"{TOTALS_2020}, sheet 'Table 1', row 148"


def test_the_cli_says_in_words_what_failed_and_what_is_still_served(blocked_run) -> None:
    _, result = blocked_run
    assert result.exit_code == 1
    output = result.output.replace("\n", " ")
    assert f"Saudi Arabia (682) 1990, both sexes vs males + females: {PUBLISHED}" in output
    assert WHERE in output
    assert "The store still serves revision 2020 as loaded on" in output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1  # one line for the blocked revision
    warning = next(line for line in result.output.splitlines() if line.startswith("warning"))
    assert "should stay between ×0.5 and ×2" in warning and "in the Arab region" in warning
    for noise in ("expect_column", "Traceback", "Created temporary directory", "row_condition"):
        assert noise not in result.output


@pytest.mark.browser
def test_the_summary_uses_the_same_words_with_arab_rows_first(blocked_run, tmp_path) -> None:
    db, _ = blocked_run
    summary = max((db.parent / "validation" / "runs").glob("*/summary.html"))  # the blocked run
    page = visit(summary, tmp_path / "summary.png", selectors=("body",))
    assert page.external == [] and page.failed == [] and page.errors == []
    text = page.texts["body"][0]
    assert (
        'A workbook of revision 2020 was not loaded in this run (see "What happened"). '
        "The store still serves" in text
    )
    assert PUBLISHED in text and WHERE in text
    warnings = text[text.index("Warning:") :]
    assert warnings.index("In the Arab region") < warnings.index("Elsewhere:")
    assert "expect_column" not in text


def test_the_artifacts_are_tables_with_names_and_the_summary_path(blocked_run) -> None:
    from prefect.client.orchestration import get_client

    db, _ = blocked_run
    summary = max((db.parent / "validation" / "runs").glob("*/summary.html"))  # the blocked run

    async def latest(key: str):
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
        from prefect.client.schemas.sorting import ArtifactSort

        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                sort=ArtifactSort.CREATED_DESC,
                limit=1,
            )
        return found[0]

    run = asyncio.run(latest("migstock-run"))
    assert str(summary) in run.data and PUBLISHED in run.data
    failed = asyncio.run(latest("migstock-failed-checks"))
    assert str(summary) in failed.description
    rows = failed.data if isinstance(failed.data, list) else json.loads(failed.data)
    blocking = [row for row in rows if row["severity"] == "blocking"]
    assert blocking == [
        {
            "revision": 2020,
            "severity": "blocking",
            "check": "Males + females must equal the published total "
            "(tolerance: 2 persons or 0.01%)",
            "place": "Saudi Arabia (682)",
            "year": 1990,
            "sex": "both sexes vs males + females",
            "found": PUBLISHED,
            "where": WHERE,
        }
    ]


def test_a_failed_run_is_a_failed_state_with_a_one_line_message(
    tmp_path: Path, prefect_server
) -> None:
    from migstock.flow import RefreshFailed, refresh

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / TOTALS_2020).write_text("<!DOCTYPE html><html><title>Not found</title></html>")
    db = tmp_path / "migstock.duckdb"
    state = refresh(raw_dir=raw, db_path=db, return_state=True)
    assert state.is_failed()
    assert "\n" not in state.message and TOTALS_2020 in state.message
    with pytest.raises(RefreshFailed, match=re.escape(state.message)):
        state.result()
    with pytest.raises(RefreshFailed):  # what a deployment's run raises: no TypeError
        refresh(raw_dir=raw, db_path=db)


def test_a_missing_arab_country_is_named() -> None:
    rows = _totals_rows()
    rows = rows[~((rows["destination_code"] == 400) & (rows["year"] == 1995))]
    failing = _check("arab_countries_present", None, 1995, "female", 22, 21)
    failing["destination_code"] = None
    report = ValidationReport(2020)
    report.results.append(
        CheckResult(
            "reconciliation",
            "expect_column_values_to_be_between",
            "actual",
            "critical",
            False,
            1,
            [failing],
            condition="check == 'arab_countries_present'",
            kwargs={"min_value": 22, "max_value": 22},
            rows=[failing],
        )
    )
    (finding,) = explain(report, [SourceRows("t.xlsx", "destination_totals", rows)], NAMES)
    assert finding.title == "All 22 Arab League members must have a value for every year and sex"
    (failure,) = finding.failures
    assert (failure.year, failure.sex) == (1995, "females")
    assert failure.text.startswith("21 of the 22 Arab countries have a value; missing: ")
    assert "Jordan" in failure.text and "Saudi Arabia" not in failure.text
