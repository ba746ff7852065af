"""Validate tidy frames with the Great Expectations suites kept in ``expectations/``.

Great Expectations is imported, and its context set up, once per run (it costs
seconds); each suite is a versioned JSON file, loaded as is. An expectation
with severity ``critical`` blocks the load of its revision; ``warning`` and
``info`` are reported only. Each validation also renders into a GX Data Docs
site when the validator is given a folder for it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from migstock.errors import MigstockError

BLOCKING = "critical"
SAMPLE_SIZE = 20
#: failing rows kept in memory for the reports (the result files keep SAMPLE_SIZE)
MAX_ROWS = 5_000
#: suites whose detailed run lists every failing row (their frames are small)
COMPLETE_SUITES = ("reconciliation", "flows")
#: suites validated in detail at once: real data trips one of their warnings in
#: nearly every revision, so a quick run would nearly always be followed by a detailed one
DETAILED_FIRST_SUITES = ("reconciliation",)
DOCS_SITE = "migstock"
SUITES = (
    "bilateral",
    "destination_totals",
    "refugees",
    "data_basis",
    "age_stock",
    "age_population",
    "reconciliation",
    "flows",
)
#: the expectation name of what the parser found missing from a workbook
COMPLETENESS = "workbook_is_complete"


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
    notes: str = ""
    condition: str | None = None
    #: the workbook the check judges (bilateral or destination_totals); a blocking
    #: failure rejects that file only
    dataset: str | None = None
    #: the expectation's arguments (bounds, value sets), for describing it in words
    kwargs: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    #: every failing row when GX listed them all (up to MAX_ROWS), else the sample
    rows: list[Any] = field(default_factory=list, compare=False, repr=False)

    @property
    def blocking(self) -> bool:
        return not self.success and self.severity == BLOCKING

    def describe(self, samples: int = 3) -> str:
        """One line; ``samples`` unexpected values or rows as examples."""
        if self.expectation == COMPLETENESS:
            return f"{self.dataset} workbook: {self.notes}"
        target = f" on {self.column}" if self.column else ""
        where = f" where {self.condition}" if self.condition else ""
        count = "" if self.unexpected_count is None else f" ({self.unexpected_count} rows"
        shown = self.sample[:samples]
        sample = f", e.g. {shown})" if shown else (")" if count else "")
        return f"{self.suite}: {self.expectation}{target}{where} failed{count}{sample}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "expectation": self.expectation,
            "column": self.column,
            "condition": self.condition,
            "severity": self.severity,
            "success": self.success,
            "unexpected_count": self.unexpected_count,
            "sample": self.sample,
            "notes": self.notes,
            "dataset": self.dataset,
        }


@dataclass
class ValidationReport:
    """All results of validating one revision."""

    revision: int
    results: list[CheckResult] = field(default_factory=list)
    #: how many cells each reconciliation check covered
    checked: dict[str, int] = field(default_factory=dict)
    #: countries in the revision, how many are imputed (I), how many include refugees (R)
    data_basis: dict[str, int] = field(default_factory=dict)
    results_path: Path | None = None
    #: the failed expectations in words (``migstock.report.explain``), filled in for the reports
    findings: list[Any] = field(default_factory=list)

    @property
    def blocking_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocking]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and not r.blocking]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures

    def blocked(self, dataset: str) -> list[CheckResult]:
        """The blocking failures that reject the workbook of ``dataset``."""
        return [r for r in self.blocking_failures if r.dataset in (dataset, None)]


def completeness_warning(dataset: str, note: str) -> CheckResult:
    """A table or measure a complete official workbook has and this one lacks."""
    return CheckResult(
        suite="parse",
        expectation=COMPLETENESS,
        column=None,
        severity="warning",
        success=False,
        unexpected_count=None,
        sample=[],
        notes=note,
        dataset=dataset,
    )


def default_expectations_dir() -> Path:
    """The suites shipped in the package, or ``MIGSTOCK_EXPECTATIONS_DIR``.

    ``migstock/expectations`` is a symlink to the repository's ``expectations/``,
    where the suites are edited; building the wheel copies them into the package.
    """
    configured = os.environ.get("MIGSTOCK_EXPECTATIONS_DIR")
    if configured:
        return Path(configured)
    return Path(str(resources.files("migstock").joinpath("expectations")))


def load_suite_document(directory: Path, name: str) -> dict[str, Any]:
    path = directory / f"{name}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise MigstockError(f"cannot read expectation suite {path}: {error}") from error


class Validator:
    """One Great Expectations context for a whole run, with the suites loaded."""

    def __init__(
        self,
        expectations_dir: Path | None = None,
        docs_dir: Path | None = None,
        results_dir: Path | None = None,
    ) -> None:
        """``docs_dir``: render Data Docs there; ``results_dir``: keep GX's result
        files there (default: beside ``docs_dir``), so the site keeps every run."""
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        # GX logs what it recovers from (e.g. a Data Docs page it could not write) with a
        # traceback; the run reports its own problems in one line each
        logging.getLogger("great_expectations").setLevel(logging.CRITICAL)
        import great_expectations as gx  # imported here: seconds of start-up, once per run

        self._gx = gx
        self.expectations_dir = expectations_dir or default_expectations_dir()
        self.docs_dir = docs_dir
        if docs_dir is not None and results_dir is None:
            results_dir = docs_dir.parent / "gx_results"
        self.context = gx.get_context(mode="ephemeral", project_config=_context_config(results_dir))
        if docs_dir is not None:
            self.context.add_data_docs_site(
                site_name=DOCS_SITE,
                site_config={
                    "class_name": "SiteBuilder",
                    "show_how_to_buttons": False,
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir.resolve()),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        self._source = self.context.data_sources.add_pandas("migstock")
        self._definitions: dict[tuple[str, str], Any] = {}
        #: Data Docs pages (relative paths) of results that failed only in warnings
        self._passed_with_warnings: list[str] = []
        #: GX ids of the results to render into Data Docs: the last of each suite,
        #: workbook and revision (results of callers that name no revision: all)
        self._rendered: dict[Any, Any] = {}

    def _definition_of(self, suite_name: str, asset_name: str | None = None) -> Any:
        """The GX validation definition of a suite for one data asset (its frame as the
        batch; the asset's name is what Data Docs call the result), added to the context
        with the suite on first use."""
        asset_name = asset_name or suite_name
        if (suite_name, asset_name) not in self._definitions:
            gx = self._gx
            suite = next(
                (d.suite for (name, _), d in self._definitions.items() if name == suite_name),
                None,
            )
            if suite is None:
                document = load_suite_document(self.expectations_dir, suite_name)
                suite = self.context.suites.add(gx.ExpectationSuite(**document))
            batch = self._source.add_dataframe_asset(
                asset_name
            ).add_batch_definition_whole_dataframe(asset_name)
            self._definitions[(suite_name, asset_name)] = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{suite_name}: {asset_name}", data=batch, suite=suite)
            )
        return self._definitions[(suite_name, asset_name)]

    def run_suite(
        self,
        suite_name: str,
        frame: pd.DataFrame,
        parameters: dict[str, Any] | None = None,
        run_name: str | None = None,
        dataset: str | None = None,
        revision: int | None = None,
        source: str | None = None,
        by_dataset: list[str] | None = None,
    ) -> list[CheckResult]:
        """Validate ``frame`` with one suite; return one result per expectation, each
        naming ``dataset``, the workbook it judges. ``by_dataset``: the frame's rows judge
        these workbooks (its ``dataset`` column): the suite runs once, in detail, and each
        expectation's result is returned once per workbook, for its rows.

        With ``revision`` (the rows'), a later result of the same suite, workbook and
        revision replaces this one in Data Docs, where it is named by revision, suite and
        workbook (``source``: its file name),
        e.g. ``2024 · destination_totals · undesa_pd_2024_ims_stock_by_sex_and_destination.xlsx``.
        A result whose failures are all warnings shows there as passed with warnings.

        The quick result format (BASIC) comes first, and the detailed one (with the
        index of the unexpected rows, to show the failing rows) only when something
        failed; both store their result under the same GX id, so Data Docs show the
        last. The quick run costs about 30% less, on a frame of 5,000 rows as of a
        million (GX's extra work for the detailed format is mostly per expectation),
        so it pays unless the suite nearly always fails: ``DETAILED_FIRST_SUITES`` run
        in detail at once.

        The suite's validation definition is run directly, not through a checkpoint
        (which has no actions here): each run then checks the definition's freshness
        against the context's stores once instead of about four times. The result
        still goes to the validation results store, for Data Docs.
        """
        from great_expectations.core.run_identifier import RunIdentifier

        frame = _numpy_numbers(frame.reset_index(drop=True))
        # pandas deep-copies attrs into every frame and series derived from a frame,
        # and GX derives hundreds (reconciliation_frame() keeps its counts there)
        frame.attrs = {}
        definition = self._definition_of(
            suite_name, docs_name(suite_name, revision, dataset, source)
        )
        # run_time given: GX would otherwise try to parse run_name as a date
        run_id = RunIdentifier(run_name=gx_run_name(run_name), run_time=datetime.now(UTC))

        def validate(detailed: bool) -> Any:
            return definition.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=parameters or {},
                result_format=_result_format(suite_name, detailed),
                run_id=run_id,
            )

        detailed = suite_name in DETAILED_FIRST_SUITES or by_dataset is not None
        try:
            validation = validate(detailed)
            if not validation.success and not detailed:
                validation = validate(detailed=True)
        finally:
            self._release_batches()
        key = _result_key(suite_name, run_id, validation.batch_id)
        self._rendered[key if revision is None else (suite_name, dataset, revision)] = key
        # failing rows are listed when the suite failed; when it passed (a warning
        # with ``mostly`` may still have unexpected values), the sample of values,
        # as the quick run gives: the results do not depend on which run came first
        if by_dataset is None:
            results = [
                _check_result(suite_name, item, frame, dataset, rows=not validation.success)
                for item in validation.results
            ]
        else:
            rows_of = {name: (frame["dataset"] == name).to_numpy() for name in by_dataset}
            results = [
                _check_result(
                    suite_name, item, frame, name, not validation.success, pd.Series(mask)
                )
                for name, mask in rows_of.items()
                for item in validation.results
            ]
        if not validation.success and not any(r.blocking for r in results):
            self._mark_passed_with_warnings(key, validation)
        return results

    def _release_batches(self) -> None:
        """Let go of the frames validated so far. The pandas data source's one execution
        engine keeps every batch it loaded and every metric it computed (row masks of
        every expectation among them), by batch id: without this a run held about 80 MB
        per million-row suite until its end (a metric is only reused within one run)."""
        engine = self._source.get_execution_engine()
        engine.batch_manager.reset_batch_cache()
        engine.batch_manager.batch_data_cache.clear()
        engine._metric_cache.clear()  # no public way; GX 1.24 (pinned) caches metrics here

    def _mark_passed_with_warnings(self, key: Any, validation: Any) -> None:
        """Store a result that failed only in warnings as a success (Data Docs show it
        as passed) and remember its page, marked "passed with warnings" in the index."""
        validation.success = True
        validation.meta["migstock_status"] = "passed with warnings"
        self.context.validation_results_store.set(key, validation)
        self._passed_with_warnings.append(_page_of(key))

    def build_docs(self) -> Path | None:
        """Render this run's results into the Data Docs site, readable offline;
        return its index page (None without a docs folder or results)."""
        if self.docs_dir is None or not self._rendered:
            return None
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        from migstock.report.data_docs import (
            make_offline,
            mark_passed_with_warnings,
            name_pages,
        )

        for name in SUITES:  # the index lists (and keeps) the suites it knows
            self._definition_of(name)
        suites = [ExpectationSuiteIdentifier(name) for name in SUITES]
        self.context.build_data_docs(
            site_names=[DOCS_SITE], resource_identifiers=[*suites, *self._rendered.values()]
        )
        pages = {
            _page_of(key): key.batch_identifier.removeprefix("migstock-")
            for key in self._rendered.values()
        }
        self._rendered.clear()
        make_offline(self.docs_dir)
        name_pages(self.docs_dir, pages, self._passed_with_warnings)
        mark_passed_with_warnings(self.docs_dir, self._passed_with_warnings)
        self._passed_with_warnings.clear()
        index = self.docs_dir / "index.html"
        return index if index.exists() else None


def docs_name(
    suite_name: str, revision: int | None, dataset: str | None, source: str | None
) -> str:
    """What Data Docs call a result: ``2024 · destination_totals · <workbook file>``
    (the suite's name alone for a result of no revision)."""
    if revision is None:
        return suite_name
    workbook = source or (f"{dataset} workbook" if dataset else "")
    return " · ".join(part for part in (str(revision), suite_name, workbook) if part)


def gx_run_name(run_id: str | None) -> str:
    """The run name given to GX: never read as a date.

    GX's Data Docs parse run names with dateutil: an id ending in ``-NNNN``
    reads as a timezone offset, and offsets of 24 h or more crash the page.
    With a word in front, dateutil never accepts it as a date.
    """
    return f"migstock-{run_id}" if run_id else "migstock"


def _result_format(suite_name: str, detailed: bool) -> dict[str, Any]:
    """GX's result format: quick (counts and a sample of values), or detailed (also
    the index of the unexpected rows; every one of them for ``COMPLETE_SUITES``)."""
    if not detailed:
        return {"result_format": "BASIC", "partial_unexpected_count": SAMPLE_SIZE}
    kind = "COMPLETE" if suite_name in COMPLETE_SUITES else "SUMMARY"
    return {"result_format": kind, "partial_unexpected_count": SAMPLE_SIZE}


def _page_of(key: Any) -> str:
    """The Data Docs page of a result, relative to the site."""
    suite, run_name, run_time, batch = key.to_tuple()
    return f"validations/{suite}/{run_name}/{run_time}/{batch}.html"


def _result_key(suite_name: str, run_id: Any, batch_id: str | None) -> Any:
    """The id a validation result has in GX's results store (the one a checkpoint
    would give it), for rendering it into Data Docs."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    return ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
        run_id=run_id,
        batch_identifier=batch_id,
    )


def _context_config(results_dir: Path | None) -> Any:
    """In-memory GX stores (the suites are JSON files of the project), but result
    files on disk when given, so the Data Docs index can list earlier runs."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    if results_dir is not None:
        config.stores[config.validation_results_store_name]["store_backend"] = {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(results_dir.resolve()),
        }
    return config


def _numpy_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integer columns as float64 (NULL as NaN), same values.

    GX compares numpy int/float columns vectorised but pandas' nullable
    integers one Python value at a time (about 3 s for a 1.2M-row revision).
    """
    nullable = [
        c for c in frame.columns if isinstance(frame[c].dtype, pd.core.arrays.integer.IntegerDtype)
    ]
    return frame.astype(dict.fromkeys(nullable, "float64")) if nullable else frame


def _check_result(
    suite_name: str,
    item: Any,
    frame: pd.DataFrame,
    dataset: str | None,
    rows: bool = True,
    within: pd.Series | None = None,
) -> CheckResult:
    """One expectation's result; ``rows``: list the unexpected rows (when GX gave
    their index), else a sample of the unexpected values. ``within`` (a mask of the
    frame's rows, by position): the result for those rows only, from the index of every
    unexpected row (the COMPLETE result format)."""
    config = item.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column") or (
        ",".join(kwargs["column_list"]) if "column_list" in kwargs else None
    )
    result = item.result or {}
    severity = str(getattr(config, "severity", BLOCKING)).split(".")[-1].lower()
    indexes = result.get("unexpected_index_list") or result.get("partial_unexpected_index_list")
    success, count = bool(item.success), result.get("unexpected_count")
    if within is not None:
        indexes = [i for i in result.get("unexpected_index_list") or [] if within.iat[i]]
        count = len(indexes) if count is not None else None
        raised = (item.exception_info or {}).get("raised_exception", False)
        success = success or (not indexes and not raised)
    if rows and indexes and all(isinstance(i, int) for i in indexes):
        listed = _plain(frame.iloc[indexes[:MAX_ROWS]].to_dict("records"))
    else:
        listed = _plain(result.get("partial_unexpected_list", [])[:SAMPLE_SIZE])
    plain_kwargs = {
        key: value
        for key, value in kwargs.items()
        if key not in ("batch_id", "row_condition", "condition_parser", "result_format")
    }
    return CheckResult(
        suite=suite_name,
        expectation=config.type,
        column=column,
        severity=severity,
        success=success,
        unexpected_count=count,
        sample=listed[:SAMPLE_SIZE],
        notes=str((config.meta or {}).get("notes", "")),
        condition=_condition(kwargs.get("row_condition")),
        dataset=dataset,
        kwargs=_plain(plain_kwargs),
        rows=listed,
    )


def _condition(row_condition: Any) -> str | None:
    """The row condition as written in the suite (GX wraps it in a dict)."""
    if isinstance(row_condition, dict):
        return row_condition.get("pass_through_filter") or str(row_condition)
    return row_condition


def _plain(values: Any) -> Any:
    """JSON-friendly values: numpy scalars to Python, missing (NaN, NA) to None.

    Strings stay as written: a location named "NaN Islands" keeps its name.
    """
    if isinstance(values, dict):
        return {str(key): _plain(value) for key, value in values.items()}
    if isinstance(values, (list, tuple)):
        return [_plain(value) for value in values]
    if values is None or values is pd.NA or values is pd.NaT:
        return None
    if hasattr(values, "item") and not isinstance(values, str):
        values = values.item()
    if isinstance(values, float) and values != values:
        return None
    if isinstance(values, (str, int, float, bool)):
        return values
    return str(values)
