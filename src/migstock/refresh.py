"""Prefect flow: get the raw files of every catalog revision, parse, validate, load.

Thin on purpose: each task calls one plain function of ``migstock``; which files
to parse, download or re-check is decided by :mod:`migstock.acquire`. Expected
problems (a bad workbook, a failed download, a failed blocking check) do not
crash the flow: they are recorded per file or revision, the rest still loads,
and the flow returns a Failed state naming them.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from pathlib import Path

import duckdb
from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.deployments.runner import RunnerDeployment
from prefect.states import Completed, Failed, State

from migstock import acquire, pipeline, progress, settings, timings
from migstock.acquire import fetch
from migstock.acquire.provenance import RawFile
from migstock.brief.worker import BriefWorker
from migstock.catalog import CATALOG, Revision, SourceFile, apply_url_overrides, revision
from migstock.errors import FetchError, MigstockError, StoreError
from migstock.head_start import HeadStart, claim
from migstock.report import (
    RunReports,
    blocked_message,
    findings_table,
    markdown_summary,
    served_revisions,
)
from migstock.report.explain import SourceRows, explain
from migstock.report.outcomes import Outcome, Status
from migstock.store import RevisionLoad, clean_up, load_revisions
from migstock.validate.gx import ValidationReport, Validator
from migstock.validation_worker import RemoteValidator


@task(name="prepare-file", cache_policy=NO_CACHE)
def prepare_file(
    raw: RawFile, head_start: HeadStart | None = None
) -> pipeline.PreparedFile | pipeline.Outcome:
    """The prepared file, or its rejection: a bad file is returned as an outcome, not
    raised, so that Prefect does not log a traceback for an expected problem. (A head
    start may have parsed it already.)"""
    try:
        return head_start.prepared(raw) if head_start else pipeline.prepare_file(raw)
    except MigstockError as error:  # the subject names the file: the message need not repeat it
        message = str(error).removeprefix(f"{raw.path.name}: ")
        return pipeline.Outcome(raw.path.name, "rejected", message)


def _transient(task: object, task_run: object, state: State) -> bool:
    """Retry a download only when trying again can help: a transient error (timeout,
    5xx, broken transfer), never an unreachable host (it is tried once per run)."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, FetchError) and error.transient and not error.unreachable


@task(
    name="download",
    retry_delay_seconds=[10, 60, 300],
    retry_condition_fn=_transient,
    cache_policy=NO_CACHE,
)
def download(source: SourceFile, landing_dir: Path) -> fetch.Fetched:
    return fetch.download(source, landing_dir, progress=progress.download_progress)


@task(name="validate-revision", cache_policy=NO_CACHE)
def validate_revision(
    validator: Validator | RemoteValidator,
    number: int,
    files: list[pipeline.PreparedFile],
    db_path: Path,
    run_name: str,
    head_start: HeadStart | None = None,
) -> ValidationReport | StoreError:
    """The report, or the store error (returned: raised, Prefect would log a traceback).
    A head start may have validated exactly these files already."""
    try:
        if head_start is not None:
            ahead = head_start.validation(validator, number, files, db_path, run_name)
            if ahead is not None:
                return ahead
        return pipeline.validate_revision(validator, revision(number), files, db_path, run_name)
    except StoreError as error:
        return error


@task(name="load-store", cache_policy=NO_CACHE)
def load_store(db_path: Path, parquet_dir: Path, loads: list[RevisionLoad]) -> str | None:
    """Publish the loads; a store that cannot be written is returned as a message."""
    try:
        load_revisions(db_path, parquet_dir, loads)
    except MigstockError as error:
        return str(error)
    return None


def _store_errors_fail_cleanly(function: Callable[..., State]) -> Callable[..., State]:
    """A store another process holds ends the run as Failed with one line, not a crash
    with a Prefect traceback."""

    @functools.wraps(function)
    def run(*args: object, **kwargs: object) -> State:
        try:
            return function(*args, **kwargs)
        except StoreError as error:
            return Failed(message=str(error), data=error)

    return run


@flow(name="migstock-refresh", log_prints=True)
@_store_errors_fail_cleanly
def refresh(
    raw_dir: Path | None = None,
    db_path: Path | None = None,
    parquet_dir: Path | None = None,
    offline: bool = False,
    revisions: list[int] | None = None,
    url_overrides: dict[str, str] | None = None,
    load: bool = True,
    force: bool = False,
    download_retries: int = 0,
    required: list[int] | None = None,
    acquired: acquire.Acquisition | None = None,
) -> State:
    """Refresh the curated store from raw workbooks.

    ``raw_dir`` given: use exactly the files in it, never download. Otherwise
    use the landing zone (``data/raw``): download what is missing there and
    re-check earlier downloads with conditional requests, unless ``offline``.
    Files whose rows are already loaded are skipped unless ``force``.
    ``load=False`` validates and reports without loading. ``download_retries``:
    how often Prefect tries a download again after a transient failure (10 s,
    60 s, 5 min later), on top of the quick retries each request makes; the
    scheduled deployment uses 2, an interactive run 0. ``required``: revisions
    whose missing files fail the run; other missing catalog files are "not
    provided" (a failure only when the run gets no workbook at all).
    ``acquired``: what the command line's :func:`migstock.acquire.precheck`
    already decided and downloaded in this run.
    """
    timings.mark("flow body started")
    db_path = Path(db_path or settings.db_path())
    parquet_dir = Path(parquet_dir or settings.parquet_dir(db_path))
    scope = acquire.Scope.of_run(
        raw_dir,
        offline=offline,
        revisions=revisions,
        required=required,
        force=force,
    )
    # what the command line began while Prefect's server started (None in a deployment)
    head_start = claim(db_path)
    reports = head_start.reports if head_start else RunReports(settings.validation_dir(db_path))
    summary = pipeline.RunSummary(db_path=db_path, parquet_dir=parquet_dir, run_id=reports.run_id)
    fetcher = download.with_options(retries=download_retries)
    catalog = apply_url_overrides(url_overrides or {}, CATALOG)
    if acquired is None:
        acquired, prepared = _acquire(scope, catalog, db_path, fetcher, head_start)
    else:
        prepared = _prepare_all(acquired.to_prepare, acquired, head_start)
    chosen = [p for p in prepared if scope.wants(p.revision)]
    acquire.conclude(acquired, scope, prepared_any=bool(chosen))
    summary.outcomes.extend(acquired.outcomes)

    # the brief's process warms up (imports, Chromium) while the run validates
    brief_needed = load and bool(chosen)
    started_brief = head_start.brief_worker if head_start else None
    with (
        (started_brief or BriefWorker()) if brief_needed else contextlib.nullcontext()
    ) as brief_worker:
        validator, loads = _validate_all(chosen, reports, summary, db_path, load, head_start)
        if head_start is not None:
            head_start.discard_untaken()
        # Data Docs render in the validation process while this one loads and reports
        docs = validator.in_background("build_docs") if validator else None
        if loads:
            numbers = ", ".join(str(item.revision) for item in loads)
            progress.stage(f"loading {numbers} into {db_path}")
            with timings.stage("load (with Parquet)"):
                problem = load_store(db_path, parquet_dir, loads)
            if problem is not None:
                for outcome in summary.outcomes:
                    if outcome.status is Status.LOADED:
                        outcome.status, outcome.message = Status.REJECTED, problem
        else:
            clean_up(db_path, parquet_dir)  # a load cleans up itself; without one, do it here
        # the data brief after every successful load, built beside the reports
        loaded = any(o.status is Status.LOADED for o in summary.outcomes)
        brief = publish_brief.submit(db_path, brief_worker) if loaded and brief_worker else None
        progress.stage("writing the reports" + (" and the data brief" if brief else ""))
        with timings.stage("reports"):
            _report(reports, summary, validator, chosen, docs)
        if validator is not None:
            validator.close()
        if brief is not None:
            with timings.stage("brief (waited for after the reports)"):
                brief.wait()
    timings.mark("flow body ended")
    if summary.failed:
        message = _failure_message(summary)
        return Failed(message=message, data=RefreshFailed(message, summary))
    return Completed(message="refresh finished", data=summary)


def _validate_all(
    chosen: list[pipeline.PreparedFile],
    reports: RunReports,
    summary: pipeline.RunSummary,
    db_path: Path,
    load: bool,
    head_start: HeadStart | None,
) -> tuple[RemoteValidator | None, list[RevisionLoad]]:
    """Validate each revision's files; record what passed, failed or was rejected in
    ``summary``; return the validator (None if nothing was validated) and the loads
    of the files that passed (none when ``load`` is False)."""
    validator: RemoteValidator | None = None  # Great Expectations in its own process
    loads: list[RevisionLoad] = []
    for number, files in pipeline.group_by_revision(chosen).items():
        progress.stage(f"validating revision {number}")
        with timings.stage("Great Expectations context"):
            validator = (
                validator
                or (head_start and head_start.validator())
                or RemoteValidator(docs_dir=reports.docs_dir)
            )
        with timings.stage("validate"):
            report = validate_revision(
                validator, number, files, db_path, reports.run_id, head_start
            )
        if isinstance(report, StoreError):
            raise report
        results_path = reports.save_results(report)
        summary.reports.append(report)
        subject = f"revision {number}"
        passing = pipeline.passing_files(report, files)
        for item in files:
            if item in passing:
                continue
            failures = "; ".join(r.describe(samples=0) for r in report.blocked(item.dataset))
            summary.outcomes.append(
                Outcome(
                    f"{subject} {item.dataset}",
                    Status.REJECTED,
                    f"blocking checks failed, {item.raw.path.name} not loaded (raw file kept; "
                    f"its previously loaded rows, if any, are still served); results in "
                    f"{results_path}: {failures}",
                )
            )
        if not passing:
            continue
        names = ", ".join(f.raw.path.name for f in passing)
        rows = sum(len(f.rows) for f in passing)
        count = len(report.warnings)
        warned = f", {count} warning{'s' if count > 1 else ''}" if count else ""
        if not load:
            summary.outcomes.append(
                Outcome(subject, Status.VALID, f"{rows:,} rows from {names}{warned}")
            )
            continue
        try:
            loads.append(pipeline.revision_load(number, passing))
        except MigstockError as error:
            summary.outcomes.append(Outcome(subject, Status.REJECTED, str(error)))
            continue
        summary.outcomes.append(
            Outcome(subject, Status.LOADED, f"{rows:,} rows from {names}{warned}")
        )
    return validator, loads


def _acquire(
    scope: acquire.Scope,
    catalog: tuple[Revision, ...],
    db_path: Path,
    fetcher: Task,
    head_start: HeadStart | None,
) -> tuple[acquire.Acquisition, list[pipeline.PreparedFile]]:
    """Local files first (new ones parsed, which tells what they are), then the catalog
    files they do not cover: downloaded, re-checked, or not provided."""
    progress.stage(f"reading {scope.source_dir}")
    local = acquire.scan_local(scope, acquire.loaded_files(db_path))
    acquired = acquire.from_local(scope, local)
    prepared = _prepare_all(acquired.to_prepare, acquired, head_start)
    steps = acquire.plan_catalog(scope, catalog, acquired.present, local)
    fetched = acquire.carry_out(acquired, scope, steps, fetcher)
    acquired.to_prepare.extend(fetched)
    prepared += _prepare_all(fetched, acquired, head_start)
    return acquired, prepared


def _prepare_all(
    raws: list[RawFile], acquired: acquire.Acquisition, head_start: HeadStart | None
) -> list[pipeline.PreparedFile]:
    """Parse each file; a bad one is a "rejected" outcome, the others go on."""
    prepared = []
    for raw in raws:
        progress.stage(f"parsing {raw.path.name}")
        with timings.stage("read + parse"):
            item = prepare_file(raw, head_start)
        if isinstance(item, pipeline.Outcome):  # rejected, in one line
            acquired.outcomes.append(item)
            continue
        for warning in item.warnings:
            acquired.outcomes.append(Outcome(raw.path.name, Status.WARNING, warning))
        acquired.present.add((item.revision, item.dataset))
        prepared.append(item)
    return prepared


def _report(
    reports: RunReports,
    summary: pipeline.RunSummary,
    validator: RemoteValidator | None,
    prepared: list[pipeline.PreparedFile],
    docs: Callable[[], Path | None] | None,
) -> None:
    """Validation history, steward summary and Prefect artifacts of the run.

    The failed checks are put in words once (``migstock.report.explain``); the CLI, the
    summary and the artifacts print those same words. ``docs`` waits for the Data
    Docs the validation process is building and returns their index page.
    """
    served = served_revisions(summary.db_path)
    if summary.reports:
        raw_files: dict[int, list[str]] = {}
        for item in prepared:
            raw_files.setdefault(item.revision, []).append(item.raw.path.name)
        names = {
            int(code): str(name)
            for item in prepared
            for code, name in zip(item.names["code"], item.names["name"], strict=True)
        }
        for report in summary.reports:
            sources = [
                SourceRows(item.raw.path.name, item.dataset, item.rows)
                for item in prepared
                if item.revision == report.revision
            ]
            report.findings = explain(report, sources, names)
            for item in prepared:  # each rejected workbook, in the findings' words
                if item.revision == report.revision and report.blocked(item.dataset):
                    _explain_outcome(
                        summary,
                        f"revision {report.revision} {item.dataset}",
                        blocked_message(report, served, item.raw.path.name, item.dataset),
                    )
        try:
            reports.record_history(summary.reports, {r: ", ".join(n) for r, n in raw_files.items()})
        except duckdb.Error as error:  # e.g. a steward holds history.duckdb open
            get_run_logger().warning("validation history not recorded: %s", error)
            summary.outcomes.append(
                pipeline.Outcome(
                    "validation history", "stale", f"{reports.history_db} not updated: {error}"
                )
            )
        with timings.stage("Data Docs (waited for)"):
            summary.docs_index = docs() if docs else None
        summary.summary_html = reports.write_summary(
            summary.reports,
            summary.outcomes,
            summary.docs_index,
            validator.expectations_dir,
            served,
        )
    logger = get_run_logger()
    for outcome in summary.outcomes:
        if outcome.status != "not provided":
            logger.info("%s: %s: %s", outcome.subject, outcome.status, outcome.message)
    where = f"Steward summary: {summary.summary_html}" if summary.summary_html else ""
    create_markdown_artifact(
        key="migstock-run",
        markdown=markdown_summary(summary.reports, summary.outcomes, summary.summary_html, served),
        description=f"migstock run {summary.run_id}. {where}",
    )
    create_table_artifact(
        key="migstock-revisions",
        table=[
            {"what": o.subject, "status": o.status, "details": o.message}
            for o in summary.outcomes
            if o.status != "not provided"
        ],
        description=f"What happened to each file and revision. {where}",
    )
    failing = findings_table(summary.reports)
    if failing:
        create_table_artifact(
            key="migstock-failed-checks",
            table=failing,
            description=f"Every row that failed a check, in words. {where}",
        )


def _explain_outcome(summary: pipeline.RunSummary, subject: str, message: str) -> None:
    """Replace a rejected workbook's outcome message with the words of its findings."""
    for outcome in summary.outcomes:
        if outcome.subject == subject and outcome.status == "rejected":
            outcome.message = message


class RefreshFailed(MigstockError):
    """The data of a Failed refresh state: a one-line message and the run's summary."""

    def __init__(self, message: str, summary: pipeline.RunSummary) -> None:
        super().__init__(message)
        self.summary = summary

    def __reduce__(self) -> tuple[type, tuple[str, pipeline.RunSummary]]:
        return (type(self), (str(self), self.summary))  # picklable, for persisted results


def run_summary(state: State) -> pipeline.RunSummary | None:
    """The summary a refresh state carries, Completed or Failed (None if it crashed)."""
    result = state.result(raise_on_failure=False)
    summary = getattr(result, "summary", result)
    return summary if isinstance(summary, pipeline.RunSummary) else None


@task(name="publish-brief", cache_policy=NO_CACHE)
def publish_brief(db_path: Path, worker: BriefWorker | None = None) -> None:
    """Rebuild the data brief (en, ar), in a process of its own, and publish its key
    figures as the artifact ``migstock-brief``. A brief that cannot be built is a
    warning: the load stands."""
    from migstock.brief import publish_brief as build_and_publish

    logger = get_run_logger()
    try:
        with timings.stage("brief"):
            results = build_and_publish(db_path, worker=worker)
        for result in results:
            logger.info("data brief (%s): %s", result.lang, result.html)
            if result.pdf_error:
                logger.warning("data brief (%s): %s", result.lang, result.pdf_error)
    except Exception as error:  # the brief is a by-product: never fail a load over it
        logger.warning("data brief not written: %s", error)


def _failure_message(summary: pipeline.RunSummary) -> str:
    """One line: what failed, and where the steward summary is."""
    bad = [o for o in summary.outcomes if o.status in ("rejected", "unavailable")]
    subjects = ", ".join(f"{o.subject} {o.status}" for o in bad)
    where = f"; steward summary: {summary.summary_html}" if summary.summary_html else ""
    return f"{len(bad)} of the requested files or revisions failed: {subjects}{where}"


def scheduled_deployment(
    cron: str = settings.DEFAULT_CRON, **parameters: object
) -> RunnerDeployment:
    """The refresh flow as a deployment with a cron schedule, one run at a time."""
    return refresh.to_deployment(
        name="scheduled-refresh",
        cron=cron,
        parameters={
            "offline": False,
            "load": True,
            "force": False,
            "download_retries": 2,
            **parameters,
        },
        concurrency_limit=1,
        tags=["migstock"],
        description="Refresh the migstock store from the UN workbooks on a schedule.",
    )
