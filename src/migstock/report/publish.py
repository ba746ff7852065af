"""The report stage's entry point: a run's failed checks in words, its validation
history, Data Docs and steward summary.

The failed checks are put in words once (:mod:`migstock.report.explain`); the command
line, the steward summary and the Prefect artifacts print those same words.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from migstock.outcomes import Outcome, RunSummary, Status
from migstock.parse.prepare import PreparedFile
from migstock.report import RunReports, blocked_message, served_revisions
from migstock.report.explain import SourceRows, explain
from migstock.validate.gx import default_expectations_dir

logger = logging.getLogger(__name__)


def write_reports(
    reports: RunReports,
    summary: RunSummary,
    prepared: list[PreparedFile],
    docs_index: Path | None,
) -> None:
    """Fill in ``summary``: findings, validation history and steward summary of the run
    (``docs_index``: the Data Docs page of its results)."""
    served = served_revisions(summary.db_path)
    raw_files: dict[int, list[str]] = {}
    for item in prepared:
        raw_files.setdefault(item.revision, []).append(item.raw.path.name)
    names = {
        int(code): str(name)
        for item in prepared
        for code, name in zip(item.names["code"], item.names["name"], strict=True)
    }
    for report in summary.reports:
        mine = [item for item in prepared if item.revision == report.revision]
        sources = [
            SourceRows(item.raw.path.name, item.dataset, item.rows, item.raw.sha256)
            for item in mine
        ] + [  # an age workbook's population table, where its checks find their cells
            SourceRows(item.raw.path.name, "age_population", item.age_population, item.raw.sha256)
            for item in mine
            if item.age_population is not None
        ]
        report.findings = explain(report, sources, names)
        for item in prepared:  # each rejected workbook, in the findings' words
            if item.revision == report.revision and report.blocked(item.dataset):
                _explain_outcome(
                    summary,
                    f"revision {report.revision} {item.dataset}",
                    blocked_message(report, served, item.raw.path.name, item.dataset),
                )
    reports.review(summary.reports, summary.outcomes, default_expectations_dir())
    try:
        reports.record_history(summary.reports, {r: ", ".join(n) for r, n in raw_files.items()})
    except duckdb.Error as error:  # e.g. a steward holds history.duckdb open
        logger.warning("validation history not recorded: %s", error)
        summary.outcomes.append(
            Outcome(
                "validation history", Status.STALE, f"{reports.history_db} not updated: {error}"
            )
        )
    summary.docs_index = docs_index
    summary.summary_html = reports.write_summary(
        summary.reports,
        summary.outcomes,
        docs_index,
        default_expectations_dir(),
        served,
        changes=summary.changes,
    )


def _explain_outcome(summary: RunSummary, subject: str, message: str) -> None:
    """Replace a rejected workbook's outcome message with the words of its findings."""
    for outcome in summary.outcomes:
        if outcome.subject == subject and outcome.status is Status.REJECTED:
            outcome.message = message


def failure_message(summary: RunSummary) -> str:
    """One line: what failed, and where the steward summary is."""
    bad = [o for o in summary.outcomes if o.status.failed]
    subjects = ", ".join(f"{o.subject} {o.status}" for o in bad)
    where = f"; steward summary: {summary.summary_html}" if summary.summary_html else ""
    return f"{len(bad)} of the requested files or revisions failed: {subjects}{where}"
