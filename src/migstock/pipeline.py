"""One run, in plain Python: acquire → parse → validate → load → publish reports and brief.

:func:`run` calls each stage as a plain function and returns a
:class:`~migstock.outcomes.RunSummary`. Expected problems (a bad workbook, a failed
download, a failed blocking check) become outcomes of the file or revision they concern;
the other files still load. A store that cannot be written (another process holds it,
the disk is full or read-only) raises :class:`~migstock.errors.StoreError` or the disk's
``OSError``: the run ends there, and the published version stays as it was.

The Prefect flow (:mod:`migstock.flow`) runs this same function, with the stage
functions of :class:`Stages` wrapped as Prefect tasks: it adds retries, states and
artifacts, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd

from migstock import acquire, progress, settings, stops
from migstock.acquire.provenance import RawFile
from migstock.brief import BriefResult, brief_root, build_all
from migstock.catalog import CATALOG, Revision, revision
from migstock.errors import MigstockError
from migstock.exchange import exchange_dir, publish_exchange
from migstock.outcomes import Outcome, RunSummary, Status
from migstock.parse.prepare import (
    PreparedFile,
    group_by_revision,
    prepare_or_reject,
    rows_source,
    staged,
    totals_first,
)
from migstock.report import RunReports
from migstock.report.publish import write_reports
from migstock.site import SiteResult, build_site, site_root
from migstock.staging import Staging
from migstock.store import (
    BeforeSwitch,
    LoadChanges,
    RevisionLoad,
    clean_up,
    current_pointer,
    load_revisions,
)
from migstock.validate import passing_files, validate_revision
from migstock.validate.gx import ValidationReport, Validator

T = TypeVar("T")

#: ``validate(validator, revision, files, db_path, run_name)``
Validate = Callable[[Validator, Revision, list[PreparedFile], Path, str], ValidationReport]


def publish_site(db_path: Path) -> SiteResult | str:
    """The country pages (English and Arabic) after a load; like the brief, a by-product:
    a site that cannot be built is returned as its one-line reason."""
    try:
        return build_site(db_path, site_root(db_path))
    except Exception as error:
        stops.raise_if_stopped()  # the error may be what DuckDB made of a stop
        return f"country pages not written: {type(error).__name__}: {error}"


def publish_brief(db_path: Path) -> list[BriefResult] | str:
    """The data brief in every language, after a load; a brief that cannot be built is
    returned as its one-line reason: the load stands."""
    try:
        return build_all(db_path, brief_root(db_path))
    except Exception as error:  # the brief is a by-product: never fail a load over it
        stops.raise_if_stopped()  # ... but a stop ends the run
        return f"data brief not written: {type(error).__name__}: {error}"


@dataclass(frozen=True)
class Stages:
    """The stage functions a run calls, plain by default; the Prefect flow passes the
    same functions wrapped as tasks."""

    download: acquire.Fetcher = acquire.plain_download
    prepare: Callable[[RawFile], PreparedFile | Outcome] = prepare_or_reject
    validate: Validate = validate_revision
    #: ``load(db_path, parquet_dir, loads, before_switch)``: the run passes the exchange
    #: writer as ``before_switch``, so the exchange files are published with the data
    load: Callable[[Path, Path, list[RevisionLoad], BeforeSwitch | None], LoadChanges] = (
        load_revisions
    )
    brief: Callable[[Path], list[BriefResult] | str] = publish_brief
    site: Callable[[Path], SiteResult | str] = publish_site


def run(
    scope: acquire.Scope,
    db_path: Path | None = None,
    parquet_dir: Path | None = None,
    *,
    catalog: tuple[Revision, ...] = CATALOG,
    load: bool = True,
    stages: Stages = Stages(),
    acquired: acquire.Acquisition | None = None,
) -> RunSummary:
    """Refresh the curated store from the raw workbooks ``scope`` asks for.

    ``load=False`` validates and reports without loading (``migstock validate``).
    ``acquired``: what :func:`migstock.acquire.begin` already found in this run (the
    command line asks it first, to end at once when nothing changed).
    """
    db_path = Path(db_path or settings.db_path())
    parquet_dir = Path(parquet_dir or settings.parquet_dir(db_path))
    reports = RunReports(settings.validation_dir(db_path))
    summary = RunSummary(db_path=db_path, parquet_dir=parquet_dir, run_id=reports.run_id)

    if acquired is None:
        progress.stage(f"reading {scope.source_dir}")
        acquired = acquire.begin(scope, catalog, db_path, stages.download)
    # each parsed workbook's rows go to the staging store at once: one workbook in pandas
    with Staging(db_path) as staging:
        prepared = _prepare_all(acquired.to_prepare, acquired, stages, staging)
        if not acquired.catalog_done:  # new local files first said what they are
            fetched = acquire.finish_catalog(acquired, scope, catalog, stages.download)
            prepared += _prepare_all(fetched, acquired, stages, staging)
        chosen = [p for p in prepared if scope.wants(p.revision)]
        acquire.conclude(acquired, scope, prepared_any=bool(chosen))
        summary.outcomes.extend(acquired.outcomes)
        if not chosen:
            clean_up(db_path, parquet_dir)  # leftovers of a killed load, if any
            return summary
        _validate_load_and_report(chosen, reports, summary, stages, load)
    if any(o.status is Status.LOADED for o in summary.outcomes):
        summary.exchange_dir = exchange_dir(current_pointer(db_path).resolve())
        progress.stage("writing the data brief")
        summary.brief = _by_product(summary, "data brief", stages.brief(db_path)) or []
        progress.stage("writing the country pages")
        summary.site = _by_product(summary, "country pages", stages.site(db_path))
    return summary


def _by_product(summary: RunSummary, subject: str, result: T | str) -> T | None:
    """A by-product of the load (the brief, the pages), or None when it could not be built:
    its one-line reason is then a warning of the run."""
    if isinstance(result, str):
        summary.outcomes.append(Outcome(subject, Status.WARNING, result))
        return None
    return result


def _validate_load_and_report(
    chosen: list[PreparedFile],
    reports: RunReports,
    summary: RunSummary,
    stages: Stages,
    load: bool,
) -> None:
    """Validate, load what passed, and write the reports. Great Expectations' objects and
    the parsed rows are not needed after this: they go before the brief is drawn."""
    assert summary.db_path is not None and summary.parquet_dir is not None
    loads, docs_index = _validate(chosen, reports, summary, stages.validate, load)
    if loads:
        numbers = ", ".join(str(item.revision) for item in loads)
        progress.stage(f"loading {numbers} into {summary.db_path}")
        # a store that cannot be written (locked, disk full, read-only) ends the run: the
        # caller says so in one line, and the published version stays as it was
        summary.changes = stages.load(summary.db_path, summary.parquet_dir, loads, publish_exchange)
    else:
        clean_up(summary.db_path, summary.parquet_dir)
    progress.stage("writing the reports")
    write_reports(reports, summary, chosen, docs_index)


def _prepare_all(
    raws: list[RawFile], acquired: acquire.Acquisition, stages: Stages, staging: Staging
) -> list[PreparedFile]:
    """Parse each file and stage its rows; a bad one is a "rejected" outcome, the others
    go on."""
    prepared = []
    for raw in raws:
        progress.stage(f"parsing {raw.path.name}")
        item = stages.prepare(raw)
        if isinstance(item, Outcome):  # rejected, in one line
            acquired.outcomes.append(item)
            continue
        for warning in item.warnings:
            acquired.outcomes.append(Outcome(raw.path.name, Status.WARNING, warning))
        acquired.present.add((item.revision, item.dataset))
        prepared.append(staged(item, staging))
    return prepared


def _validate(
    chosen: list[PreparedFile],
    reports: RunReports,
    summary: RunSummary,
    validate: Validate,
    load: bool,
) -> tuple[list[RevisionLoad], Path | None]:
    """Validate each revision's files, in one Great Expectations context, and render the
    results into Data Docs; record what passed, failed or was rejected in ``summary``.
    Return the loads of the files that passed (none when ``load`` is False) and the Data
    Docs page. The context is gone when this returns, before the load."""
    progress.stage("starting Great Expectations")
    validator = Validator(docs_dir=reports.docs_dir)
    loads: list[RevisionLoad] = []
    for number, files in group_by_revision(chosen).items():
        progress.stage(f"validating revision {number}")
        report = validate(validator, revision(number), files, summary.db_path, reports.run_id)
        results_path = reports.save_results(report)
        summary.reports.append(report)
        subject = f"revision {number}"
        passing = passing_files(report, files)
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
            loads.append(revision_load(number, passing))
        except MigstockError as error:
            summary.outcomes.append(Outcome(subject, Status.REJECTED, str(error)))
            continue
        summary.outcomes.append(
            Outcome(subject, Status.LOADED, f"{rows:,} rows from {names}{warned}")
        )
    progress.stage("writing Data Docs")
    return loads, validator.build_docs()


def revision_load(number: int, files: list[PreparedFile]) -> RevisionLoad:
    """What the store replaces for one validated revision."""
    for dataset, words in (("destination_totals", "destination-totals"), ("age", "age")):
        names = [f.raw.path.name for f in files if f.dataset == dataset]
        if len(names) > 1:  # a bilateral table may come split over files; these never do
            raise MigstockError(
                f"revision {number}: more than one {words} workbook ({', '.join(names)}); keep one"
            )
    return RevisionLoad(
        revision=number,
        bilateral_stock=rows_source(files, "bilateral"),
        destination_totals=rows_source(files, "destination_totals"),
        refugees=_first_frame(
            [f.refugees.assign(raw_sha256=f.raw.sha256) for f in files if f.refugees is not None]
        ),
        data_basis=_first_frame(totals_first(files, "data_basis"), key="destination_code"),
        location_notes=_first_frame(
            totals_first(files, "location_notes"), key=["location_code", "note_number"]
        ),
        location_names=[f.names for f in files],
        raw_files=[f.raw.record(f.revision, f.dataset) for f in files],
        age_stock=rows_source(files, "age"),
        age_population=_age_population(files),
    )


def _age_population(files: list[PreparedFile]) -> pd.DataFrame | None:
    """The population by age of the revision's age workbook; an age workbook without its
    population table replaces the revision's population rows with none (never leaves an
    older workbook's rows beside new migrant rows); None without an age workbook."""
    ages = [f for f in files if f.dataset == "age"]
    if not ages:
        return None
    frames = [
        f.age_population.assign(raw_sha256=f.raw.sha256)
        for f in ages
        if f.age_population is not None
    ]
    if frames:
        return pd.concat(frames, ignore_index=True)
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in _NO_POPULATION})


#: an empty population-by-age table, typed as the parsed one
_NO_POPULATION = (
    ("revision", "int16"),
    ("year", "int16"),
    ("destination_code", "int16"),
    ("sex", "string"),
    ("age_group", "string"),
    ("population", "Int64"),
    ("source_sheet", "string"),
    ("source_row", "int32"),
    ("raw_sha256", "string"),
)


def _first_frame(
    frames: list[pd.DataFrame], key: str | list[str] | None = None
) -> pd.DataFrame | None:
    """The non-empty frames as one, keeping the first row of each ``key``; None if none."""
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return None
    combined = pd.concat(frames, ignore_index=True)
    return combined if key is None else combined.drop_duplicates(key, ignore_index=True)
