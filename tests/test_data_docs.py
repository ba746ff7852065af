"""Great Expectations Data Docs: any run id renders, every run is kept, pages work offline."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from migstock.report import new_run_id
from migstock.report.data_docs import external_resources
from migstock.validate.gx import SUITES
from migstock.validate.reconcile import COLUMNS
from tests.browser import visit

pytestmark = pytest.mark.browser

# suffixes GX once read as timezone offsets (+24:00 and more crashed the pages), and others
DIGIT_SUFFIXES = ["0024", "9999", "2400", "2359", "0000", "1200", "0130", "5959"]
FIRST_RUN = [f"20261128T094556Z-{suffix}" for suffix in DIGIT_SUFFIXES]
SECOND_RUN = [
    *(new_run_id() for _ in range(6)),
    "20261128T094556Z-abcd",
    "2026-11-28",
    "20261128T094556Z",
]
FAILING = pd.DataFrame(
    [
        [
            "destination_totals",
            "male_plus_female",
            2020,
            682,
            4,
            None,
            100.0,
            130.0,
            30.0,
            0.3,
            1.3,
            False,
        ]
    ],
    columns=COLUMNS,
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[logging.LogRecord]]:
    """Two runs (two GX contexts) writing into one Data Docs folder."""
    from migstock.validate.gx import Validator

    docs = tmp_path_factory.mktemp("validation") / "data_docs"
    errors: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = errors.append  # type: ignore[method-assign]
    logging.getLogger("great_expectations").addHandler(handler)
    try:
        for run in (FIRST_RUN, SECOND_RUN):
            validator = Validator(docs_dir=docs)
            for number, run_id in enumerate(run):
                frame = FAILING if number == 0 else pd.DataFrame(columns=COLUMNS)
                validator.run_suite("reconciliation", frame, {}, run_name=run_id)
            assert validator.build_docs() == docs / "index.html"
    finally:
        logging.getLogger("great_expectations").removeHandler(handler)
    return docs, errors


def test_every_run_id_renders_and_every_run_is_kept(site) -> None:
    docs, errors = site
    assert [record.getMessage()[:80] for record in errors] == []
    index = (docs / "index.html").read_text(encoding="utf-8")
    for run_id in FIRST_RUN + SECOND_RUN:
        pages = list((docs / "validations" / "reconciliation").glob(f"migstock-{run_id}/*/*.html"))
        assert len(pages) == 1, run_id
        assert f"migstock-{run_id}" in index, run_id
    for suite in SUITES:
        assert (docs / "expectations" / f"{suite}.html").exists()


def test_pages_name_no_external_resource_and_no_newsletter(site) -> None:
    docs, _ = site
    pages = list(docs.rglob("*.html"))
    assert len(pages) == len(FIRST_RUN) + len(SECOND_RUN) + len(SUITES) + 1
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert external_resources(html) == [], page
        assert "newsletter" not in html.lower(), page
    assert (docs / "static" / "vendor" / "jquery" / "LICENSE.txt").exists()


def test_index_lists_runs_and_suites_offline_in_chromium(site, tmp_path: Path) -> None:
    docs, _ = site
    shot = tmp_path / "index.png"
    page = visit(
        docs / "index.html",
        shot,
        selectors=(
            "#section-1-content-block-2-1-body-table tbody tr",
            "#section-1-content-block-2-2-body-table tbody tr",
            ".pagination-info",
        ),
    )
    assert page.external == [] and page.failed == [] and page.errors == []
    assert any(url.endswith("bootstrap-table.min.js") for url in page.requests)
    runs, suites, counts = page.texts.values()
    total = len(FIRST_RUN) + len(SECOND_RUN)
    assert f"of {total} rows" in counts[0]  # the table shows them 10 to a page
    assert len(runs) == 10 and all("migstock-" in row for row in runs)
    assert sorted(row.strip() for row in suites) == sorted(SUITES)
    assert shot.stat().st_size > 10_000


def test_a_failed_validation_page_works_offline_in_chromium(site, tmp_path: Path) -> None:
    docs, _ = site
    (path,) = (docs / "validations" / "reconciliation").glob(f"migstock-{FIRST_RUN[0]}/*/*.html")
    page = visit(path, tmp_path / "validation.png", selectors=("body",))
    assert page.external == [] and page.failed == [] and page.errors == []
    assert any(url.endswith("fa-solid-900.woff2") for url in page.requests)  # status icons
    (body,) = page.texts["body"]
    assert "Failed" in body and "1 unexpected" in body
