"""The Prefect door: :func:`migstock.pipeline.run` as a flow, its stages as tasks.

Thin on purpose. The flow runs the very same pipeline as ``migstock run`` without a
server; here each stage function is a Prefect task (so the UI shows every step, and
downloads are retried on transient errors), the result is a Completed or Failed
state, and the run publishes its summary as artifacts. ``flows/refresh.py`` names
:func:`refresh` for ``prefect deploy``; ``migstock serve`` serves
:func:`scheduled_deployment`; ``migstock run`` calls it when ``PREFECT_API_URL`` is set.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.deployments.runner import RunnerDeployment
from prefect.states import Completed, Failed, State

from migstock import acquire, pipeline, progress, settings
from migstock.brief import key_figures_markdown
from migstock.catalog import apply_url_overrides
from migstock.errors import FetchError, MigstockError
from migstock.outcomes import RunSummary, Status
from migstock.parse.prepare import prepare_or_reject
from migstock.report import findings_table, markdown_summary, served_revisions
from migstock.report.publish import failure_message
from migstock.store import load_revisions
from migstock.validate import validate_revision

T = TypeVar("T")


def _transient(task: object, task_run: object, state: State) -> bool:
    """Retry a download only when trying again can help: a transient error (timeout,
    5xx, broken transfer), never an unreachable host (it is tried once per run)."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, FetchError) and error.transient and not error.unreachable


def _task(function: Callable[..., T], name: str, **options: Any) -> Callable[..., T]:
    """``function`` as a task; its inputs are files and frames: never cached."""
    return task(function, name=name, cache_policy=NO_CACHE, **options)


def prefect_stages(download_retries: int = 0) -> pipeline.Stages:
    """The pipeline's stage functions as Prefect tasks."""
    return pipeline.Stages(
        download=_task(
            acquire.plain_download,
            "download",
            retries=download_retries,
            retry_delay_seconds=[10, 60, 300],
            retry_condition_fn=_transient,
        ),
        prepare=_task(prepare_or_reject, "prepare-file"),
        validate=_task(validate_revision, "validate-revision"),
        load=_task(load_revisions, "load-store"),
        brief=_task(pipeline.publish_brief, "publish-brief"),
        site=_task(pipeline.publish_site, "publish-site"),
        flows=_task(pipeline.refresh_flows, "estimate-flows"),
    )


class PrefectReporter(progress.NullReporter):
    """Each stage of the run as an INFO line of the flow run's log (the UI shows it)."""

    def stage(self, text: str) -> None:
        get_run_logger().info(text)


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
    flows: bool = True,
) -> State:
    """Refresh the curated store from raw workbooks (see :func:`migstock.pipeline.run`).

    ``raw_dir`` given: use exactly the files in it, never download. Otherwise use the
    landing zone (``data/raw``): download what is missing there and re-check earlier
    downloads with conditional requests, unless ``offline``. Files whose rows are
    already loaded are skipped unless ``force``. ``load=False`` validates and reports
    without loading. ``download_retries``: how often a download is tried again after a
    transient failure (10 s, 60 s, 5 min later); the scheduled deployment uses 2.
    ``required``: revisions whose missing files fail the run. ``flows``: estimate the
    flows of the revisions whose bilateral stocks the load changed (the scheduled
    deployment does; ``migstock run`` passes its ``--flows``).
    """
    scope = acquire.Scope.of_run(
        raw_dir, offline=offline, revisions=revisions, required=required, force=force
    )
    db_path = Path(db_path or settings.db_path())
    try:
        with progress.using(PrefectReporter()):
            summary = pipeline.run(
                scope,
                db_path,
                parquet_dir,
                catalog=apply_url_overrides(url_overrides or {}),
                load=load,
                stages=prefect_stages(download_retries),
                flows=flows,
            )
    except MigstockError as error:  # e.g. another load holds the store's lock
        return Failed(message=str(error), data=error)
    publish_artifacts(summary)
    if summary.failed:
        message = failure_message(summary)
        return Failed(message=message, data=RefreshFailed(message, summary))
    return Completed(message="refresh finished", data=summary)


def publish_artifacts(summary: RunSummary) -> None:
    """The run's outcomes in the flow run's log and as artifacts: ``migstock-run``,
    ``migstock-revisions``, ``migstock-failed-checks``, ``migstock-brief`` and
    ``migstock-site``."""
    logger = get_run_logger()
    for outcome in summary.outcomes:
        if outcome.status is not Status.NOT_PROVIDED:
            logger.info("%s: %s: %s", outcome.subject, outcome.status, outcome.message)
    served = served_revisions(summary.db_path)
    where = f"Steward summary: {summary.summary_html}" if summary.summary_html else ""
    create_markdown_artifact(
        key="migstock-run",
        markdown=markdown_summary(
            summary.reports, summary.outcomes, summary.summary_html, served, changes=summary.changes
        ),
        description=f"migstock run {summary.run_id}. {where}",
    )
    create_table_artifact(
        key="migstock-revisions",
        table=[
            {"what": o.subject, "status": o.status, "details": o.message}
            for o in summary.outcomes
            if o.status is not Status.NOT_PROVIDED
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
    if summary.brief:
        create_markdown_artifact(
            key="migstock-brief",
            markdown=key_figures_markdown(summary.brief[0].data, summary.brief),
            description="Key figures of the Arab region data brief",
        )
        for result in summary.brief:
            logger.info("data brief (%s): %s", result.lang, result.html)
    if summary.site is not None:
        create_markdown_artifact(
            key="migstock-site",
            markdown=summary.site.markdown(),
            description="Country pages (English and Arabic)",
        )
        logger.info("%s", summary.site.summary())
    if summary.exchange_dir is not None:
        logger.info("exchange files (SDMX, data package): %s", summary.exchange_dir)


class RefreshFailed(MigstockError):
    """The data of a Failed refresh state: a one-line message and the run's summary."""

    def __init__(self, message: str, summary: RunSummary) -> None:
        super().__init__(message)
        self.summary = summary

    def __reduce__(self) -> tuple[type, tuple[str, RunSummary]]:
        return (type(self), (str(self), self.summary))  # picklable, for persisted results


def run_summary(state: State) -> RunSummary | None:
    """The summary a refresh state carries, Completed or Failed (None if it crashed)."""
    result = state.result(raise_on_failure=False)
    summary = getattr(result, "summary", result)
    return summary if isinstance(summary, RunSummary) else None


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
            "flows": True,
            **parameters,
        },
        concurrency_limit=1,
        tags=["migstock"],
        description="Refresh the migstock store from the UN workbooks on a schedule.",
    )
