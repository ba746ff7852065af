"""Prefect flow: get the raw files of every catalog revision, parse, validate, load.

Thin on purpose: each task calls one plain function of ``migstock``; which files
to parse, download or re-check is decided by :mod:`migstock.acquire`. Expected
problems (a bad workbook, a failed download, a failed blocking check) do not
crash the flow: they are recorded per file or revision, the rest still loads,
and the flow returns a Failed state naming them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.deployments.runner import RunnerDeployment
from prefect.states import Completed, Failed, State

from migstock import acquire, fetch, pipeline, progress, settings, timings
from migstock.catalog import CATALOG, Revision, SourceFile, apply_url_overrides, revision
from migstock.errors import FetchError, MigstockError
from migstock.outcomes import Outcome, Status
from migstock.provenance import RawFile
from migstock.reports import RunReports, markdown_summary
from migstock.store import RevisionLoad, load_revisions
from migstock.validate import ValidationReport, Validator
from migstock.validation_worker import RemoteValidator


@task(name="prepare-file", cache_policy=NO_CACHE)
def prepare_file(raw: RawFile) -> pipeline.PreparedFile:
    return pipeline.prepare_file(raw)


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
) -> ValidationReport:
    return pipeline.validate_revision(validator, revision(number), files, db_path, run_name)


@task(name="load-store", cache_policy=NO_CACHE)
def load_store(db_path: Path, parquet_dir: Path, loads: list[RevisionLoad]) -> None:
    load_revisions(db_path, parquet_dir, loads)


@flow(name="migstock-refresh", log_prints=True)
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
    scope = acquire.Scope.of(
        Path(raw_dir) if raw_dir else settings.landing_dir(),
        raw_dir_given=raw_dir is not None,
        offline=offline,
        revisions=revisions,
        required=required,
        force=force,
    )
    reports = RunReports(settings.validation_dir(db_path))
    summary = pipeline.RunSummary(db_path=db_path, parquet_dir=parquet_dir, run_id=reports.run_id)
    fetcher = download.with_options(retries=download_retries)
    catalog = apply_url_overrides(url_overrides or {}, CATALOG)
    if acquired is None:
        acquired, prepared = _acquire(scope, catalog, db_path, fetcher)
    else:
        prepared = _prepare_all(acquired.to_prepare, acquired)
    chosen = [p for p in prepared if scope.wants(p.revision)]
    acquire.conclude(acquired, scope, prepared_any=bool(chosen))
    summary.outcomes.extend(acquired.outcomes)

    validator: RemoteValidator | None = None  # Great Expectations in its own process
    loads = []
    for number, files in pipeline.group_by_revision(chosen).items():
        progress.stage(f"validating revision {number}")
        with timings.stage("Great Expectations context"):
            validator = validator or RemoteValidator(docs_dir=reports.docs_dir)
        with timings.stage("validate"):
            report = validate_revision(validator, number, files, db_path, reports.run_id)
        results_path = reports.save_results(report)
        summary.reports.append(report)
        names = ", ".join(f.raw.path.name for f in files)
        subject = f"revision {number}"
        if not report.passed:
            failures = "; ".join(r.describe(samples=0) for r in report.blocking_failures)
            summary.outcomes.append(
                Outcome(
                    subject,
                    Status.REJECTED,
                    f"blocking checks failed, nothing of it loaded; raw files kept ({names}); "
                    f"results in {results_path}: {failures}",
                )
            )
            continue
        rows = sum(len(f.rows) for f in files)
        warned = f", {len(report.warnings)} warnings" if report.warnings else ""
        if not load:
            summary.outcomes.append(
                Outcome(subject, Status.VALID, f"{rows:,} rows from {names}{warned}")
            )
            continue
        try:
            loads.append(pipeline.revision_load(number, files))
        except MigstockError as error:
            summary.outcomes.append(Outcome(subject, Status.REJECTED, str(error)))
            continue
        summary.outcomes.append(
            Outcome(subject, Status.LOADED, f"{rows:,} rows from {names}{warned}")
        )
    if loads:
        numbers = ", ".join(str(item.revision) for item in loads)
        progress.stage(f"loading {numbers} into {db_path}")
        try:
            with timings.stage("load (with Parquet)"):
                load_store(db_path, parquet_dir, loads)
        except MigstockError as error:
            for outcome in summary.outcomes:
                if outcome.status is Status.LOADED:
                    outcome.status, outcome.message = Status.REJECTED, str(error)
    with timings.stage("reports"):
        _report(reports, summary, validator, chosen)
    if validator is not None:
        validator.close()
    timings.mark("flow body ended")
    if summary.failed:
        return Failed(message=_failure_message(summary), data=summary)
    return Completed(message="refresh finished", data=summary)


def _acquire(
    scope: acquire.Scope, catalog: tuple[Revision, ...], db_path: Path, fetcher: Task
) -> tuple[acquire.Acquisition, list[pipeline.PreparedFile]]:
    """Local files first (new ones parsed, which tells what they are), then the catalog
    files they do not cover: downloaded, re-checked, or not provided."""
    progress.stage(f"reading {scope.source_dir}")
    local = acquire.scan_local(scope, acquire.loaded_files(db_path))
    acquired = acquire.from_local(scope, local)
    prepared = _prepare_all(acquired.to_prepare, acquired)
    steps = acquire.plan_catalog(scope, catalog, acquired.present, local)
    fetched = acquire.carry_out(acquired, scope, steps, fetcher)
    acquired.to_prepare.extend(fetched)
    prepared += _prepare_all(fetched, acquired)
    return acquired, prepared


def _prepare_all(raws: list[RawFile], acquired: acquire.Acquisition) -> list[pipeline.PreparedFile]:
    """Parse each file; a bad one is a "rejected" outcome, the others go on."""
    prepared = []
    for raw in raws:
        progress.stage(f"parsing {raw.path.name}")
        try:
            with timings.stage("read + parse"):
                item = prepare_file(raw)
        except MigstockError as error:
            acquired.outcomes.append(Outcome(raw.path.name, Status.REJECTED, str(error)))
            continue
        acquired.present.add((item.revision, item.dataset))
        prepared.append(item)
    return prepared


def _report(
    reports: RunReports,
    summary: pipeline.RunSummary,
    validator: Validator | RemoteValidator | None,
    prepared: list[pipeline.PreparedFile],
) -> None:
    """Validation history, steward summary and Prefect artifacts of the run."""
    if summary.reports:
        raw_files: dict[int, list[str]] = {}
        for item in prepared:
            raw_files.setdefault(item.revision, []).append(item.raw.path.name)
        try:
            reports.record_history(summary.reports, {r: ", ".join(n) for r, n in raw_files.items()})
        except duckdb.Error as error:  # e.g. a steward holds history.duckdb open
            get_run_logger().warning("validation history not recorded: %s", error)
            summary.outcomes.append(
                pipeline.Outcome(
                    "validation history", "stale", f"{reports.history_db} not updated: {error}"
                )
            )
        summary.docs_index = validator.build_docs() if validator else None
        names = {
            int(code): name
            for item in prepared
            for code, name in zip(item.names["code"], item.names["name"], strict=True)
        }
        summary.summary_html = reports.write_summary(
            summary.reports,
            summary.outcomes,
            summary.docs_index,
            validator.expectations_dir,
            names,
        )
    create_markdown_artifact(
        key="migstock-run", markdown=markdown_summary(summary.reports, summary.outcomes)
    )
    create_table_artifact(
        key="migstock-revisions",
        table=[
            {"what": o.subject, "status": o.status, "details": o.message} for o in summary.outcomes
        ],
    )


def _failure_message(summary: pipeline.RunSummary) -> str:
    bad = [o for o in summary.outcomes if o.status in ("rejected", "unavailable")]
    return "; ".join(f"{o.subject}: {o.status}: {o.message}" for o in bad)


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
