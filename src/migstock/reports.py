"""What a run leaves for data stewards: result files, history, a one-page summary.

Under ``<curated>/validation/``:
- ``runs/<run id>/revision-<R>.json``: every expectation result of a revision
  (a blocked revision's file is named in the error message);
- ``runs/<run id>/summary.html``: the steward summary of the run;
- ``data_docs/index.html``: the Great Expectations Data Docs site;
- ``history.duckdb``: tables ``validation_runs`` and ``validation_results`` of
  every run, including the rejected revisions (the curated store itself only
  changes when data is loaded).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, PackageLoader, select_autoescape

from migstock.validate import ValidationReport

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


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(2)


@dataclass
class RunReports:
    """Where one run writes its validation outputs."""

    validation_dir: Path
    run_id: str = field(default_factory=new_run_id)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

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
        """Append this run's results to ``history.duckdb``."""
        self.validation_dir.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(self.history_db)) as con:
            con.execute(_HISTORY_SCHEMA)
            for report in reports:
                con.execute(
                    "INSERT OR REPLACE INTO validation_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        self.run_id,
                        report.revision,
                        self.started_at,
                        "passed" if report.passed else "blocked",
                        raw_files.get(report.revision),
                        len(report.blocking_failures),
                        len(report.warnings),
                        str(report.results_path) if report.results_path else None,
                    ],
                )
                con.executemany(
                    "INSERT INTO validation_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        [
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
                        ]
                        for r in report.results
                    ],
                )

    def write_summary(
        self,
        reports: list[ValidationReport],
        outcomes: list[Any],
        docs_index: Path | None,
        expectations_dir: Path,
        place_names: dict[int, str] | None = None,
    ) -> Path:
        """Render the one-page steward summary of the run (codes shown with names)."""
        environment = Environment(
            loader=PackageLoader("migstock", "templates"), autoescape=select_autoescape()
        )
        environment.filters["cell"] = _cell_formatter(place_names or {})
        html = environment.get_template("steward_summary.html.j2").render(
            run_id=self.run_id,
            started_at=self.started_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            finished_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            reports=reports,
            outcomes=outcomes,
            docs_index=docs_index.resolve().as_uri() if docs_index else None,
            expectations_dir=expectations_dir,
        )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / "summary.html"
        path.write_text(html, encoding="utf-8")
        return path


def _cell_formatter(place_names: dict[int, str]) -> Any:
    """Jinja filter: codes with their place names, numbers with separators."""

    def cell(value: Any, column: str) -> str:
        if value is None:
            return ""
        if column.endswith("_code") and isinstance(value, (int, float)):
            name = place_names.get(int(value))
            return f"{int(value)} {name}" if name else str(int(value))
        if isinstance(value, float):
            return f"{value:,.0f}" if value.is_integer() else f"{value:.4g}"
        if isinstance(value, int) and column not in ("year", "revision", "source_row"):
            return f"{value:,}"
        return str(value)

    return cell


def markdown_summary(reports: list[ValidationReport], outcomes: list[Any]) -> str:
    """The same summary for a Prefect markdown artifact."""
    lines = ["# migstock run", "", "| what | status | details |", "|---|---|---|"]
    for outcome in outcomes:
        message = outcome.message.replace("|", "\\|")
        lines.append(f"| {outcome.subject} | {outcome.status} | {message} |")
    for report in reports:
        lines += ["", f"## Revision {report.revision}: {'passed' if report.passed else 'BLOCKED'}"]
        failed = report.blocking_failures + report.warnings
        if report.data_basis:
            basis = report.data_basis
            lines.append(
                f"Type of data: of {basis['destinations']} countries and areas, "
                f"{basis['imputed']} imputed (I), "
                f"{basis['refugees_added']} with refugees added (R)."
            )
        if not failed:
            lines.append(f"All {len(report.results)} expectations passed.")
        for result in failed:
            lines.append(f"- **{result.severity}** {result.describe()}")
    return "\n".join(lines)
