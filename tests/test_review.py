"""Reviewed findings on the real 2024 totals (without a run): IDs, reviewed.toml, lapses,
blocking failures, a bad file; what a load changed; the steward summary in Chromium."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from migstock.acquire.provenance import local_file
from migstock.catalog import revision
from migstock.errors import MigstockError
from migstock.parse.prepare import prepare_file
from migstock.pipeline import revision_load
from migstock.report import RunReports, markdown_summary
from migstock.report import review as rv
from migstock.report.explain import SourceRows, explain
from migstock.store import changes_since, load_revisions
from migstock.validate import known_location_codes, validate_revision
from migstock.validate.gx import Validator
from migstock.validate.reconcile import COLUMNS
from tests.browser import visit

TOTALS_2024 = "undesa_pd_2024_ims_stock_by_sex_and_destination.xlsx"
IRAQ_ROW = 145  # sheet 'Table 1': Iraq; column 7 = 1995 both sexes, column 15 = 1995 males


def _changed_copy(official_dir: Path, target: Path, cells: dict[tuple[int, int], int]) -> Path:
    """A copy of the 2024 totals with ``cells`` of 'Table 1' increased by the given amounts."""
    book = openpyxl.load_workbook(official_dir / TOTALS_2024)
    sheet = book["Table 1"]
    for (row, column), amount in cells.items():
        sheet.cell(row, column).value += amount
    target.mkdir(parents=True, exist_ok=True)
    book.save(target / TOTALS_2024)
    return target / TOTALS_2024


def _reports(path: Path, validator) -> tuple[list, object]:
    """Validate one workbook as a run does and put the findings in words."""
    item = prepare_file(local_file(path, "raw-dir"))
    report = validate_revision(validator, revision(item.revision), [item], None, "review-test")
    names = dict(zip(item.names["code"].astype(int), item.names["name"], strict=True))
    sources = [SourceRows(path.name, item.dataset, item.rows, item.raw.sha256)]
    report.findings = explain(report, sources, names)
    return [report], item


def _arab_year_over_year(reports: list) -> list[rv.Entry]:
    return [e for e in rv.entries(reports) if e.check == "year_over_year" and e.arab]


@pytest.fixture(scope="module")
def official_2024(official_dir: Path, validator) -> tuple[list, object]:
    return _reports(official_dir / TOTALS_2024, validator)


def _accept_arab_year_over_year(reports: list, path: Path) -> list[rv.Entry]:
    arab = _arab_year_over_year(reports)
    rv.append(path, arab, reason="Real features of the data", by="Amal Haddad")
    return arab


def test_ids_are_stable_and_name_check_place_year_sex(official_2024, validator, official_dir):
    reports, _ = official_2024
    again, _ = _reports(official_dir / TOTALS_2024, validator)
    first, second = rv.entries(reports), rv.entries(again)
    assert [e.id for e in first] == [e.id for e in second]
    assert len({e.id for e in first}) == len(first)
    iraq = next(e for e in first if e.place_code == 368 and e.year == 1995 and e.sex == "total")
    assert iraq.check == "year_over_year" and iraq.revision == 2024
    assert (iraq.file, iraq.sheet, iraq.row) == (TOTALS_2024, "Table 1", IRAQ_ROW)
    assert iraq.value == "expected=83638 actual=199460"
    assert iraq.sha256 is not None and len(iraq.sha256) == 64
    assert 20 <= len(_arab_year_over_year(reports)) <= 40  # the issue counted 20-32 a revision


def test_accepted_findings_are_marked_and_lapse_when_the_workbook_changes(
    official_2024, tmp_path: Path, validator
) -> None:
    reports, _ = official_2024
    path = tmp_path / "reviewed.toml"
    arab = _accept_arab_year_over_year(reports, path)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines().count("[[accepted]]") == len(arab)
    assert 'reason = "Real features of the data"' in text and 'by = "Amal Haddad"' in text
    assert rv.review_run(reports, path) is None
    marked = {e.id: e.failure.status for e in rv.entries(reports)}
    assert all(marked[e.id] == "accepted" for e in arab)
    others = [e for e in rv.entries(reports) if e.id not in {a.id for a in arab}]
    assert others and all(marked[e.id] == "open" for e in others)
    finding = next(f for f in reports[0].findings if f.check == "year_over_year")
    assert "accepted" in finding.headline() and len(finding.accepted) == len(arab)
    artifact = markdown_summary(reports, [])
    assert "Real features of the data" in artifact and arab[0].id not in artifact

    # the same values in a workbook published anew: the acceptances lapse
    failures = [f for finding in reports[0].findings for f in finding.failures]
    published = [f.sha256 for f in failures]
    try:
        for failure in failures:
            failure.sha256 = "0" * 64
        assert rv.review_run(reports, path) is None
        lapsed = [e.failure for e in rv.entries(reports) if e.id in {a.id for a in arab}]
        assert all(f.status == "open" and "published anew" in f.lapsed for f in lapsed)
    finally:
        for failure, sha256 in zip(failures, published, strict=True):
            failure.sha256 = sha256


def test_a_changed_value_opens_its_finding_again_and_a_new_workbook_all(
    official_2024, official_dir: Path, tmp_path: Path, validator
) -> None:
    reports, _ = official_2024
    path = tmp_path / "reviewed.toml"
    arab = _accept_arab_year_over_year(reports, path)
    changed = _changed_copy(
        official_dir, tmp_path / "raw", {(IRAQ_ROW, 7): 5_000, (IRAQ_ROW, 15): 5_000}
    )
    new_reports, _ = _reports(changed, validator)
    assert new_reports[0].passed
    assert rv.review_run(new_reports, path) is None
    entries = {e.id: e for e in rv.entries(new_reports)}
    iraq = next(
        e
        for e in entries.values()
        if e.check == "year_over_year" and e.place_code == 368 and e.year == 1995
        if e.sex == "total"
    )
    assert iraq.failure.status == "open"
    assert "the values changed; accepted by" in iraq.failure.lapsed
    assert iraq.id not in {a.id for a in arab}
    # the other values are the same, but in a workbook published anew (its sha256
    # differs): their acceptances lapse too, saying why
    unchanged = [entries[a.id] for a in arab if a.id in entries]
    assert len(unchanged) >= len(arab) - 4  # Iraq 1995/2000 total and male changed
    assert all(e.failure.status == "open" for e in unchanged)
    assert all("published anew" in e.failure.lapsed for e in unchanged)


def test_a_blocking_failure_stays_blocking_whatever_the_file_says(
    official_dir: Path, tmp_path: Path, validator
) -> None:
    changed = _changed_copy(official_dir, tmp_path / "raw", {(IRAQ_ROW, 7): 50_000})
    reports, _ = _reports(changed, validator)
    assert not reports[0].passed
    blocking = [e for e in rv.entries(reports) if e.blocking]
    assert blocking
    path = tmp_path / "reviewed.toml"
    with pytest.raises(MigstockError, match="blocking failure cannot be accepted"):
        rv.append(path, blocking[:1], reason="looks fine", by="someone")
    assert not path.exists()
    # a hand-edited file that accepts it anyway
    text = rv._HEADER + "\n" + rv._table(blocking[0], "looks fine", "someone", _now())
    path.write_text(text, encoding="utf-8")
    problem = rv.review_run(reports, path)
    header = text.splitlines().index("[[accepted]]") + 1
    assert problem is not None and "\n" not in problem
    assert f"{path}, line {header}: finding {blocking[0].id} is a blocking failure" in problem
    assert all(e.failure.status == "open" for e in rv.entries(reports))
    assert not reports[0].passed and reports[0].findings[0].blocking


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace('by = "Amal Haddad"', 'by = "Amal Haddad'), "not valid TOML"),
        (lambda t: t.replace("[[accepted]]", "[[accepted]]\nwho = 1", 1), None),
        (lambda t: _second_id(t, "F0123456789"), "unknown finding 'F0123456789'"),
        (lambda t: _second_line_removed(t, "reason = "), "the acceptance lacks reason"),
    ],
    ids=["unclosed string", "unknown key", "unknown finding", "no reason"],
)
def test_a_bad_file_is_one_line_naming_its_line(
    official_2024, tmp_path: Path, edit, expected
) -> None:
    reports, _ = official_2024
    path = tmp_path / "reviewed.toml"
    _accept_arab_year_over_year(reports, path)
    text = edit(path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    problem = rv.review_run(reports, path)
    assert problem is not None and "\n" not in problem
    assert str(path) in problem and "line " in problem
    if expected:
        assert expected in problem
    if expected and ("unknown finding" in expected or "lacks" in expected):
        second = [n for n, line in enumerate(text.splitlines(), 1) if line == "[[accepted]]"][1]
        assert f"line {second}:" in problem
    assert problem.endswith("every finding is treated as open")
    assert all(e.failure.status == "open" for e in rv.entries(reports))


def _second_id(text: str, new_id: str) -> str:
    lines = text.splitlines()
    second = [n for n, line in enumerate(lines) if line.startswith("id = ")][1]
    lines[second] = f'id = "{new_id}"'
    return "\n".join(lines) + "\n"


def _second_line_removed(text: str, prefix: str) -> str:
    lines = text.splitlines()
    second = [n for n, line in enumerate(lines) if line.startswith(prefix)][1]
    del lines[second]
    return "\n".join(lines) + "\n"


def test_a_load_records_what_it_changed(official_dir: Path, tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "curated" / "migstock.duckdb"

    def load(path: Path):
        item = prepare_file(local_file(path, "raw-dir"))
        return load_revisions(db, db.parent / "parquet", [revision_load(item.revision, [item])])

    first = load(official_dir / TOTALS_2024)
    totals = next(t for t in first.tables if t.table == "destination_totals")
    assert totals.rows_before == 0 and totals.added == totals.rows_after > 6_000
    assert first.largest == []  # a first load: every row is new
    changed = _changed_copy(
        official_dir, tmp_path / "raw", {(IRAQ_ROW, 7): 5_000, (IRAQ_ROW, 15): 5_000}
    )
    second = load(changed)
    totals = next(t for t in second.tables if t.table == "destination_totals")
    assert (totals.added, totals.removed, totals.changed) == (0, 0, 2)
    assert [c.line() for c in second.largest] == [
        "2024 destination_totals: Iraq (368) 1995, total: 199,460 -> 204,460 (+5,000)",
        "2024 destination_totals: Iraq (368) 1995, male: 114,821 -> 119,821 (+5,000)",
    ]
    with duckdb.connect(str(db), read_only=True) as con:
        kept = con.execute(
            "SELECT table_name, added, removed, changed FROM load_changes "
            "WHERE revision = 2024 ORDER BY loaded_at, table_name"
        ).fetchall()
        arab = con.execute(
            "SELECT destination_code, year, sex, migrants_before, migrants_after "
            "FROM load_changes_arab ORDER BY sex DESC"
        ).fetchall()
    assert ("destination_totals", 0, 0, 2) in kept and len(kept) == 2 * len(first.tables)
    assert arab == [(368, 1995, "total", 199_460, 204_460), (368, 1995, "male", 114_821, 119_821)]
    kept = changes_since(db, second.loaded_at)  # what a run's summary reads back
    assert kept is not None and kept.tables == second.tables
    assert [c.line() for c in kept.largest] == [c.line() for c in second.largest]
    assert changes_since(db, second.loaded_at + timedelta(seconds=1)) is None


@pytest.mark.browser
def test_the_steward_summary_collapses_accepted_findings_and_shows_what_changed(
    official_2024, official_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports, _ = official_2024
    path = tmp_path / "reviewed.toml"
    arab = _accept_arab_year_over_year(reports, path)
    monkeypatch.setenv(rv.ENVIRONMENT, str(path))
    db = tmp_path / "curated" / "migstock.duckdb"
    load_revisions(
        db, db.parent / "parquet", [revision_load(2024, [prepare_file(_raw(official_dir))])]
    )
    changed = _changed_copy(
        official_dir, tmp_path / "raw", {(IRAQ_ROW, 7): 5_000, (IRAQ_ROW, 15): 5_000}
    )
    item = prepare_file(local_file(changed, "raw-dir"))
    changes = load_revisions(db, db.parent / "parquet", [revision_load(2024, [item])])
    run = RunReports(tmp_path / "validation")
    outcomes: list = []
    run.review(reports, outcomes, tmp_path)
    summary = run.write_summary(reports, outcomes, None, tmp_path, changes=changes)
    assert outcomes == []  # the reviewed file is fine: nothing to report about it
    found = rv.latest_findings(tmp_path / "validation")[1]
    assert {e.id for e in found if e.status == "accepted"} == {a.id for a in arab}
    page = visit(summary, tmp_path / "summary.png", selectors=("body", "details.accepted"))
    assert page.external == [] and page.failed == [] and page.errors == []
    body = page.texts["body"][0]
    assert "What changed since the last load" in body
    assert "Largest changes for Arab countries" in body and "Iraq (368)" in body
    assert f"{len(arab)} rows accepted" in body and "Real features of the data" in body
    assert arab[0].id not in body  # collapsed: the accepted rows are not shown
    open_rows = [e for e in rv.entries(reports) if e.failure.status == "open"]
    html = summary.read_text(encoding="utf-8")
    assert all(e.id in html for e in open_rows)  # with their IDs, to accept them


def _raw(official_dir: Path):
    return local_file(official_dir / TOTALS_2024, "raw-dir")


@pytest.mark.browser
def test_data_docs_name_each_result_and_show_warnings_only_as_passed(
    official_dir: Path, tmp_path: Path
) -> None:
    item = prepare_file(local_file(official_dir / TOTALS_2024, "raw-dir"))
    parameters = {
        "revision_years": list(revision(2024).years),
        "location_codes": known_location_codes([item]),
    }
    docs = tmp_path / "validation" / "data_docs"
    validator = Validator(docs_dir=docs)
    totals = validator.run_suite(
        "destination_totals", item.rows, parameters, "run-1", "destination_totals", 2024,
        source=TOTALS_2024,
    )  # fmt: skip
    assert [r for r in totals if not r.success] and not [r for r in totals if r.blocking]
    failing = [["destination_totals", "male_plus_female", 2020, 682, 4, None]]
    failing[0] += [100.0, 130.0, 30.0, 0.3, 1.3, False]
    blocked = validator.run_suite(
        "reconciliation", pd.DataFrame(failing, columns=COLUMNS), {}, "run-1",
        "destination_totals", 2024, source=TOTALS_2024,
    )  # fmt: skip
    assert [r for r in blocked if r.blocking]
    index = validator.build_docs()
    assert index is not None
    page = visit(index, tmp_path / "docs.png", selectors=("table tbody tr",))
    assert page.external == [] and page.errors == []
    text = "\n".join(page.texts["table tbody tr"])
    assert f"2024 · destination_totals · {TOTALS_2024}" in text
    assert f"2024 · reconciliation · {TOTALS_2024}" in text
    totals_row = next(r for r in page.texts["table tbody tr"] if "· destination_totals ·" in r)
    reconciliation_row = next(r for r in page.texts["table tbody tr"] if "· reconciliation ·" in r)
    assert "with warnings" in totals_row and "with warnings" not in reconciliation_row
    html = index.read_text(encoding="utf-8")
    assert html.count("'_validation_success_text': 'Passed with warnings'") == 1
    assert html.count("'_validation_success_text': 'Failed'") == 1
    result_page = next(docs.glob("validations/destination_totals/*/*/*.html"))
    assert "Passed with warnings" in result_page.read_text(encoding="utf-8")
    assert f"Result: 2024 · destination_totals · {TOTALS_2024}" in result_page.read_text(
        encoding="utf-8"
    )
