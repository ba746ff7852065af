"""What a run leaves for data stewards: result files, history, a one-page summary.

Under ``<curated>/validation/``:
- ``runs/<run id>/revision-<R>.json``: every expectation result of a revision
  (a blocked revision's file is named in the error message);
- ``runs/<run id>/summary.html``: the steward summary of the run;
- ``runs/<run id>/findings.json``: every finding with its ID and status, open or
  accepted in ``reviewed.toml`` (``migstock.report.review``; ``migstock review`` lists them);
- ``data_docs/index.html``: the Great Expectations Data Docs site, every run kept,
  readable offline (``migstock.report.data_docs``); ``gx_results/`` holds what it is built from;
- ``history.duckdb``: tables ``validation_runs`` and ``validation_results`` of
  every run, including the rejected revisions (the curated store itself only
  changes when data is loaded).

The failed checks are worded by ``migstock.report.explain``; this module lays those words
out for the summary page and the Prefect artifacts.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from migstock.errors import StoreError
from migstock.outcomes import Outcome, Status
from migstock.report import review
from migstock.store import connect_history, connect_read_only
from migstock.validate.gx import ValidationReport

_HISTORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS validation_runs (
    run_id VARCHAR NOT NULL, revision SMALLINT NOT NULL, started_at TIMESTAMPTZ NOT NULL,
    status VARCHAR NOT NULL, raw_files VARCHAR, blocking_failures INTEGER NOT NULL,
    warnings INTEGER NOT NULL, results_path VARCHAR, PRIMARY KEY (run_id, revision));
CREATE TABLE IF NOT EXISTS validation_results (
    run_id VARCHAR NOT NULL, revision SMALLINT NOT NULL, suite VARCHAR NOT NULL,
    expectation VARCHAR NOT NULL, column_name VARCHAR, row_condition VARCHAR,
    severity VARCHAR NOT NULL, success BOOLEAN NOT NULL, unexpected_count BIGINT,
    sample_json VARCHAR);
"""
_RUN_COLUMNS = [
    "run_id",
    "revision",
    "started_at",
    "status",
    "raw_files",
    "blocking_failures",
    "warnings",
    "results_path",
]
_RESULT_COLUMNS = [
    "run_id",
    "revision",
    "suite",
    "expectation",
    "column_name",
    "row_condition",
    "severity",
    "success",
    "unexpected_count",
    "sample_json",
]


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(2)


@dataclass
class RunReports:
    """Where one run writes its validation outputs."""

    validation_dir: Path
    run_id: str = field(default_factory=new_run_id)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: what the run checks: ``load`` (workbooks), ``flows`` (estimated flows), or both;
    #: ``migstock review`` takes each part's findings from the latest run that checked it
    parts: tuple[str, ...] = ("load",)

    @property
    def run_dir(self) -> Path:
        return self.validation_dir / "runs" / self.run_id

    @property
    def docs_dir(self) -> Path:
        return self.validation_dir / "data_docs"

    @property
    def history_db(self) -> Path:
        return self.validation_dir / "history.duckdb"

    def save_results(self, report: ValidationReport) -> Path:
        """Write every result of one revision as JSON; return the file."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / f"revision-{report.revision}.json"
        document = {
            "run_id": self.run_id,
            "revision": report.revision,
            "passed": report.passed,
            "checked": report.checked,
            "results": [r.as_dict() for r in report.results],
        }
        path.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
        report.results_path = path
        return path

    def record_history(self, reports: list[ValidationReport], raw_files: dict[int, str]) -> None:
        """Append this run's results to ``history.duckdb`` (one insert per table: row by
        row, DuckDB took over half a second for a run's few hundred results)."""
        runs = pd.DataFrame(
            [
                (
                    self.run_id,
                    report.revision,
                    self.started_at,
                    "passed" if report.passed else "blocked",
                    raw_files.get(report.revision),
                    len(report.blocking_failures),
                    len(report.warnings),
                    str(report.results_path) if report.results_path else None,
                )
                for report in reports
            ],
            columns=_RUN_COLUMNS,
        )
        results = pd.DataFrame(
            [
                (
                    self.run_id,
                    report.revision,
                    r.suite,
                    r.expectation,
                    r.column,
                    r.condition,
                    r.severity,
                    r.success,
                    r.unexpected_count,
                    json.dumps(r.sample, default=str),
                )
                for report in reports
                for r in report.results
            ],
            columns=_RESULT_COLUMNS,
        ).astype({"unexpected_count": "Int64"})
        self.validation_dir.mkdir(parents=True, exist_ok=True)
        with connect_history(self.history_db) as con:
            con.execute(_HISTORY_SCHEMA)
            con.register("new_runs", runs)
            con.register("new_results", results)
            con.execute(
                f"INSERT OR REPLACE INTO validation_runs ({', '.join(_RUN_COLUMNS)}) "
                f"SELECT {', '.join(_RUN_COLUMNS)} FROM new_runs"
            )
            con.execute(
                f"INSERT INTO validation_results ({', '.join(_RESULT_COLUMNS)}) "
                f"SELECT {', '.join(_RESULT_COLUMNS)} FROM new_results"
            )

    def review(
        self,
        reports: list[ValidationReport],
        outcomes: list[Any],
        expectations_dir: Path | None = None,
        reviewed_path: Path | None = None,
    ) -> None:
        """Mark every finding open or accepted (``reviewed.toml``: ``reviewed_path``, else
        ``MIGSTOCK_REVIEWED``, else beside the suites) and keep them in
        ``findings.json``. A file that cannot be used is one warning outcome; every
        finding is then open."""
        path = reviewed_path or review.default_path(expectations_dir)
        problem = review.review_run(reports, path)
        if problem:
            outcomes.append(Outcome("reviewed findings", Status.WARNING, problem))
        review.write_findings(self.run_dir, reports, problem, self.parts)

    def write_summary(
        self,
        reports: list[ValidationReport],
        outcomes: list[Any],
        docs_index: Path | None,
        expectations_dir: Path,
        served: dict[int, str] | None = None,
        changes: Any = None,
    ) -> Path:
        """Render the one-page steward summary of the run (``report.findings`` in words):
        open findings first, accepted ones collapsed with their reason (call :meth:`review`
        first). ``changes``: what the load
        changed (:class:`migstock.store.LoadChanges`), shown as "What changed since the
        last load"."""
        environment = Environment(
            loader=PackageLoader("migstock.report", "templates"), autoescape=select_autoescape()
        )
        environment.filters["number"] = lambda value: f"{value:,}"
        environment.globals["counts"] = counts_text
        environment.globals["still_served"] = still_served
        environment.globals["ordered"] = review_order
        html = environment.get_template("steward_summary.html.j2").render(
            run_id=self.run_id,
            started_at=self.started_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            finished_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            reports=reports,
            outcomes=outcomes,
            served=served or {},
            docs_index=docs_index.resolve().as_uri() if docs_index else None,
            expectations_dir=expectations_dir,
            changes=changes,
            reviewed_file=review.default_path(expectations_dir),
        )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / "summary.html"
        path.write_text(html, encoding="utf-8")
        return path


def served_revisions(db_path: Path | None) -> dict[int, str]:
    """Per revision in the store: what is served, in words (raw files, when loaded)."""
    if db_path is None or not Path(db_path).exists():
        return {}
    try:
        with connect_read_only(db_path) as con:
            rows = con.execute(
                "SELECT revision, string_agg(file_name, ', ' ORDER BY file_name), "
                "max(loaded_at) FROM raw_files GROUP BY revision"
            ).fetchall()
    except (duckdb.Error, StoreError):
        return {}
    return {
        int(revision): f"revision {revision} as loaded on "
        f"{loaded_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC from {files}"
        for revision, files, loaded_at in rows
    }


def still_served(revision: int, served: dict[int, str]) -> str:
    """What readers of the store get for a revision that was not loaded in this run."""
    if revision in served:
        return f"The store still serves {served[revision]}."
    return f"The store holds no revision {revision}: queries return none of its rows."


def blocked_message(
    report: ValidationReport, served: dict[int, str], raw_name: str, dataset: str | None = None
) -> str:
    """One line for a blocked workbook: which check failed, with an example, what is served.

    ``dataset``: the workbook's (a blocking failure rejects that workbook only); its
    findings, and those that judge the whole revision, are the reasons given.
    """
    blocking = [f for f in report.findings if f.blocking and f.dataset in (dataset, None)]
    first = blocking[0].headline() if blocking else "blocking checks failed"
    others = len(blocking) - 1
    more = f" (and {others} more blocking check{'s' if others > 1 else ''})" if others else ""
    results = f" Every result: {report.results_path}." if report.results_path else ""
    return (
        f"blocked, {raw_name} not loaded: {first}{more}. "
        f"{still_served(report.revision, served)} Raw file kept: {raw_name}.{results}"
    )


def markdown_summary(
    reports: list[ValidationReport],
    outcomes: list[Any],
    summary_path: Path | None = None,
    served: dict[int, str] | None = None,
    rows_shown: int = 25,
    changes: Any = None,
) -> str:
    """The steward summary as a Prefect markdown artifact (the same words as the HTML):
    open findings first, accepted ones collapsed to one line with their reason."""
    lines = ["# migstock run", ""]
    if summary_path:
        lines += [f"Steward summary: `{summary_path}`", ""]
    lines += ["| what | status | details |", "|---|---|---|"]
    for outcome in outcomes:
        if outcome.status == "not provided":
            continue
        lines.append(f"| {_md(outcome.subject)} | {outcome.status} | {_md(outcome.message)} |")
    absent = [o.subject for o in outcomes if o.status == "not provided"]
    if absent:
        lines += ["", f"Not in the raw folder (skipped, not an error): {', '.join(absent)}."]
    for report in reports:
        state = "passed" if report.passed else "BLOCKED"
        lines += ["", f"## Revision {report.revision}: {state}"]
        if not report.passed:
            lines.append(still_served(report.revision, served or {}))
        if report.data_basis:
            basis = report.data_basis
            lines.append(
                f"Type of data: of {basis['destinations']} countries and areas, "
                f"{basis['imputed']} imputed (I), "
                f"{basis['refugees_added']} with refugees added (R)."
            )
        if not report.findings:
            lines.append(f"All {len(report.results)} expectations passed.")
        pending, settled = review_order(report.findings)
        for finding in pending:
            kind = "Blocking" if finding.blocking else "Warning"
            lines += ["", f"### {kind}: {finding.title}", "", counts_text(finding), ""]
            still = finding.open
            shown = still if finding.blocking else [f for f in still if f.arab]
            if shown:
                lines += [
                    "| id | place | year | sex | found | where |",
                    "|---|---|---|---|---|---|",
                ]
                for failure in shown[:rows_shown]:
                    lapsed = f" ({_md(failure.lapsed)})" if failure.lapsed else ""
                    lines.append(
                        f"| {failure.id} | {_md(failure.place)} | {failure.year or ''} | "
                        f"{failure.sex} | {_md(failure.text)}{lapsed} | {_md(failure.where)} |"
                    )
                if len(shown) > rows_shown:
                    lines.append(f"\n{len(shown) - rows_shown} more rows in the summary file.")
            others = [f for f in still if not f.arab]
            if not finding.blocking and others:
                lines.append(f"\nElsewhere: {len(others)} open rows; see the summary file.")
            if finding.accepted:
                lines.append(f"\n{accepted_text(finding)}")
        if settled:
            lines += ["", f"Accepted earlier ({len(settled)} checks, every row accepted):"]
            lines += [f"- {accepted_text(finding)}" for finding in settled]
    lines += changes_markdown(changes)
    return "\n".join(lines)


def review_order(findings: list[Any]) -> tuple[list[Any], list[Any]]:
    """Findings with open rows (the order they come: blocking first), then those whose
    every row is accepted."""
    pending = [f for f in findings if not f.all_accepted]
    return pending, [f for f in findings if f.all_accepted]


def accepted_text(finding: Any) -> str:
    """'Iraq (368) 1995 and 19 more accepted: "reason" (Amal, 2026-12-03)'."""
    accepted = finding.accepted
    reasons: dict[tuple[str, str], list[Any]] = {}
    for failure in accepted:
        acceptance = failure.acceptance
        reasons.setdefault((acceptance.reason, acceptance.by), []).append(failure)
    parts = []
    for (reason, by), failures in reasons.items():
        first = failures[0]
        when = f" {first.year}" if first.year is not None else ""
        more = f" and {len(failures) - 1} more" if len(failures) > 1 else ""
        parts.append(f'{first.place}{when}{more}: "{reason}" ({by}, {first.acceptance.at[:10]})')
    rows = f"{len(accepted)} row{'s' if len(accepted) != 1 else ''}"
    return f"{finding.title}: {rows} accepted, " + "; ".join(parts)


def findings_table(reports: list[ValidationReport]) -> list[dict[str, Any]]:
    """Every failing row of the run, one table row each (a Prefect table artifact)."""
    return [
        {
            "revision": report.revision,
            "severity": "blocking" if finding.blocking else "warning",
            "place": failure.place,
            "year": failure.year,
            "sex": failure.sex,
            "found": failure.text,
            "where": failure.where,
            "check": finding.title,
        }
        for report in reports
        for finding in report.findings
        for failure in finding.failures
    ]


def changes_markdown(changes: Any) -> list[str]:
    """ "What changed since the last load" as markdown lines (none without a load)."""
    if not changes or not changes.tables:
        return []
    lines = ["", "## What changed since the last load", ""]
    lines += ["| revision | table | added | removed | changed |", "|---|---|---|---|---|"]
    for table in changes.tables:
        lines.append(
            f"| {table.revision} | {table.table} | {table.added:,} | {table.removed:,} | "
            f"{table.changed:,} |"
        )
    if changes.largest:
        lines += ["", "Largest changes for Arab countries:", ""]
        lines += [f"- {change.line()}" for change in changes.largest]
    return lines


def counts_text(finding: Any) -> str:
    """'136 rows fail: 4 in the Arab region, 132 elsewhere (70 places).'"""
    if finding.about_the_workbook:
        return "The workbook as a whole, not its rows."
    text = finding.fail_word
    if finding.failures:
        text += f": {finding.split()}"
        if finding.count and finding.count > len(finding.failures):
            text += f"; the first {len(finding.failures):,} are listed"
        accepted = len(finding.accepted)
        if accepted:
            text += f"; {accepted:,} accepted earlier; open: {finding.split(finding.open)}"
    return text + "."


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
