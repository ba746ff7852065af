"""Validate tidy frames with the Great Expectations suites kept in ``expectations/``.

Great Expectations is imported, and its context set up, once per run (it costs
seconds); each suite is a versioned JSON file, loaded as is. An expectation
with severity ``critical`` blocks the load of its revision; ``warning`` and
``info`` are reported only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from migstock.errors import MigstockError

BLOCKING = "critical"
SAMPLE_SIZE = 20


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one expectation on one frame."""

    suite: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int | None
    sample: list[Any]

    @property
    def blocking(self) -> bool:
        return not self.success and self.severity == BLOCKING

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        count = "" if self.unexpected_count is None else f" ({self.unexpected_count} rows"
        sample = f", e.g. {self.sample[:5]})" if self.sample else (")" if count else "")
        return f"{self.suite}: {self.expectation}{target} failed{count}{sample}"


@dataclass
class ValidationReport:
    """All results of validating one revision."""

    revision: int
    results: list[CheckResult] = field(default_factory=list)

    @property
    def blocking_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocking]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and not r.blocking]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures


def default_expectations_dir() -> Path:
    """``expectations/`` of the project, or ``MIGSTOCK_EXPECTATIONS_DIR``."""
    configured = os.environ.get("MIGSTOCK_EXPECTATIONS_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "expectations"


def load_suite_document(directory: Path, name: str) -> dict[str, Any]:
    path = directory / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise MigstockError(f"cannot read expectation suite {path}: {error}") from error


class Validator:
    """One Great Expectations context for a whole run, with the suites loaded."""

    def __init__(self, expectations_dir: Path | None = None) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx  # imported here: seconds of start-up, once per run
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self.expectations_dir = expectations_dir or default_expectations_dir()
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas("migstock")
        self._batches: dict[str, Any] = {}
        self._definitions: dict[str, Any] = {}
        self._asset = source

    def _definition(self, suite_name: str) -> Any:
        if suite_name not in self._definitions:
            gx = self._gx
            document = load_suite_document(self.expectations_dir, suite_name)
            suite = self.context.suites.add(gx.ExpectationSuite(**document))
            asset = self._asset.add_dataframe_asset(suite_name)
            batch = asset.add_batch_definition_whole_dataframe(suite_name)
            self._definitions[suite_name] = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
            )
        return self._definitions[suite_name]

    def run_suite(
        self, suite_name: str, frame: pd.DataFrame, parameters: dict[str, Any] | None = None
    ) -> list[CheckResult]:
        """Validate ``frame`` with one suite; return one result per expectation."""
        definition = self._definition(suite_name)
        outcome = definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters or {},
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
        )
        results = []
        for item in outcome.results:
            config = item.expectation_config
            kwargs = config.kwargs
            column = kwargs.get("column") or (
                ",".join(kwargs["column_list"]) if "column_list" in kwargs else None
            )
            result = item.result or {}
            severity = str(getattr(config, "severity", BLOCKING))
            severity = severity.split(".")[-1].lower().replace("failureseverity", "")
            results.append(
                CheckResult(
                    suite=suite_name,
                    expectation=config.type,
                    column=column,
                    severity=severity,
                    success=bool(item.success),
                    unexpected_count=result.get("unexpected_count"),
                    sample=_plain(result.get("partial_unexpected_list", [])[:SAMPLE_SIZE]),
                )
            )
        return results


def _plain(values: list[Any]) -> list[Any]:
    """JSON-friendly sample values (numpy scalars and dicts of them)."""
    return json.loads(
        json.dumps(values, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    )
