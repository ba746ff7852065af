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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from migstock import acquire, progress, settings, stops
from migstock.acquire.provenance import RawFile
from migstock.brief import BriefResult, brief_root, build_all
from migstock.catalog import CATALOG, Revision, revision
from migstock.errors import MigstockError
from migstock.exchange import exchange_dir, publish_exchange
from migstock.flows.wpp import VitalEvents, read_wpp_indicators
from migstock.flows.wpp_file import WppFile, find_wpp_indicators, wpp_provenance
from migstock.outcomes import Outcome, RunSummary, Status
from migstock.parse.prepare import (
    PreparedFile,
    group_by_revision,
    prepare_or_reject,
    rows_source,
    staged,
    totals_first,
)
from migstock.relations import has_relation
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
    #: ``flows(db_path, revisions, parquet_dir=, raw_dir=, reports=, validated=)``:
    #: flows estimated from the stocks a load changed (``migstock run --flows``);
    #: None: :func:`refresh_flows`
    flows: Callable[..., FlowsResult] | None = None


def run(
    scope: acquire.Scope,
    db_path: Path | None = None,
    parquet_dir: Path | None = None,
    *,
    catalog: tuple[Revision, ...] = CATALOG,
    load: bool = True,
    stages: Stages = Stages(),
    acquired: acquire.Acquisition | None = None,
    flows: bool = False,
) -> RunSummary:
    """Refresh the curated store from the raw workbooks ``scope`` asks for.

    ``load=False`` validates and reports without loading (``migstock validate``).
    ``flows``: after a load that changed bilateral stocks, estimate the flows of those
    revisions (:func:`refresh_flows`, births and deaths from WPP's file in the raw
    folder if it is there) before the reports, brief and pages are written.
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
        _validate_load_and_report(
            chosen, reports, summary, stages, load, flows=flows, raw_dir=scope.source_dir
        )
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
    *,
    flows: bool = False,
    raw_dir: Path | None = None,
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
        _flows_after_load(summary, reports, stages, flows, raw_dir)
    else:
        clean_up(summary.db_path, summary.parquet_dir)
    progress.stage("writing the reports")
    write_reports(reports, summary, chosen, docs_index)


def bilateral_changed(changes: LoadChanges | None) -> list[int]:
    """The revisions whose bilateral stocks a load added, removed or changed."""
    if changes is None:
        return []
    return sorted(
        {
            t.revision
            for t in changes.tables
            if t.table == "bilateral_stock" and (t.added or t.removed or t.changed)
        }
    )


def _flows_after_load(
    summary: RunSummary,
    reports: RunReports,
    stages: Stages,
    flows: bool,
    raw_dir: Path | None,
) -> None:
    """After a load: estimate the flows of the revisions whose bilateral stocks changed
    (``flows``), or say which published flows are now older than their stocks."""
    assert summary.db_path is not None
    changed = bilateral_changed(summary.changes)
    if not changed:
        return
    from migstock.store import connect_read_only

    with connect_read_only(summary.db_path, wait=True) as con:
        eligible = set(flow_revisions(con))
        estimated = (
            {r for (r,) in con.execute("SELECT revision FROM flow_estimates").fetchall()}
            if has_relation(con, "flow_estimates")
            else set()
        )
    wanted = [number for number in changed if number in eligible]
    if not flows:
        for number in changed:
            if number in estimated:
                summary.outcomes.append(
                    Outcome(
                        f"flows {number}",
                        Status.WARNING,
                        f"the flows of revision {number} were estimated from its stocks before "
                        f"this load: `migstock flows --revision {number}` estimates them anew",
                    )
                )
        return
    if not wanted:
        return
    progress.stage(f"estimating flows of {', '.join(map(str, wanted))}")
    result = (stages.flows or refresh_flows)(
        summary.db_path,
        wanted,
        parquet_dir=summary.parquet_dir,
        raw_dir=raw_dir,
        reports=reports,
        validated=summary.reports,
    )
    summary.reports.extend(result.reports)
    summary.outcomes.extend(result.outcomes())
    if result.changes is not None and summary.changes is not None:
        summary.changes.tables += result.changes.tables
    summary.flows = result


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


# --- flows estimated from the stocks (migstock flows, migstock run --flows) --------------

#: how the estimation methods are cited wherever flows are shown (README: "Flows
#: estimated from stocks")
FLOWS_METHOD_CITATION = (
    "Abel, G. J. and Cohen, J. E. (2019). Bilateral international migration flow estimates "
    "for 200 countries. Scientific Data 6, 82; Abel, G. J. and Cohen, J. E. (2022). "
    "Bilateral international migration flow estimates updated and refined by sex. "
    "Scientific Data 9, 173; Abel, G. J. migest: Methods for the Indirect "
    "Estimation of Bilateral Migration, R package version 2.0.5."
)


class FlowsUnavailable(MigstockError):
    """The store has no bilateral stocks to estimate flows from (or not for a revision
    asked for): the message names the workbook to load."""


@dataclass
class FlowsResult:
    """What :func:`refresh_flows` did, per revision."""

    #: revision -> (period_start, period_end, rows) of each period, the revisions published
    periods: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    #: revision -> why its flows were not published (a blocking check), in one line
    rejected: dict[int, str] = field(default_factory=dict)
    #: the version folder published (None: nothing was)
    version: str | None = None
    changes: LoadChanges | None = None
    #: births and deaths: the WPP file used, or None (taken as zero)
    wpp: WppFile | None = None
    #: the folder searched for WPP's file
    wpp_dir: Path | None = None
    #: the validation reports the flows' results went into (one per revision)
    reports: list[ValidationReport] = field(default_factory=list)
    summary_html: Path | None = None
    docs_index: Path | None = None

    @property
    def failed(self) -> bool:
        return bool(self.rejected)

    def outcomes(self) -> list[Outcome]:
        """One outcome per revision: published (``loaded``) or ``rejected``."""
        result = [
            Outcome(f"flows {number}", Status.REJECTED, reason)
            for number, reason in self.rejected.items()
        ]
        for number, periods in self.periods.items():
            rows = sum(count for _, _, count in periods)
            spans = f"{periods[0][0]}–{periods[-1][1]}" if periods else "no period"
            vital = (
                f"births and deaths from {self.wpp.file_name}"
                if self.wpp
                else ("births and deaths taken as zero")
            )
            result.append(
                Outcome(
                    f"flows {number}",
                    Status.LOADED,
                    f"{rows:,} rows, {len(periods)} periods {spans}, {vital}",
                )
            )
        return result


def flow_revisions(con: duckdb.DuckDBPyConnection) -> dict[int, list[int]]:
    """Revision -> its reference years with bilateral stocks between countries and
    destination totals (both sexes), for the revisions with at least one period."""
    if not (has_relation(con, "bilateral_stock") and has_relation(con, "destination_totals")):
        return {}
    rows = con.execute(
        "SELECT b.revision, list(DISTINCT b.year ORDER BY b.year) FROM bilateral_stock b "
        "WHERE b.origin_kind = 'country' AND b.sex = 'total' AND EXISTS (SELECT 1 FROM "
        "destination_totals t WHERE t.revision = b.revision AND t.year = b.year "
        "AND t.sex = 'total') GROUP BY b.revision ORDER BY b.revision"
    ).fetchall()
    return {int(r): [int(y) for y in years] for r, years in rows if len(years) >= 2}


def _chosen_revisions(con: duckdb.DuckDBPyConnection, wanted: list[int] | None) -> list[int]:
    """The revisions to estimate: ``wanted``, or the newest with bilateral stocks."""
    eligible = flow_revisions(con)
    newest = max(entry.revision for entry in CATALOG)
    workbook = revision(newest).file("bilateral").file_name
    if not eligible:
        raise FlowsUnavailable(
            "the store has no bilateral stocks of two reference years to estimate flows "
            f"from: load a bilateral workbook (e.g. {workbook}, and its destination-totals "
            "workbook) with `migstock run`"
        )
    if not wanted:
        return [max(eligible)]
    missing = [number for number in wanted if number not in eligible]
    if missing:
        loaded = ", ".join(str(number) for number in eligible)
        raise FlowsUnavailable(
            f"revision {', '.join(map(str, missing))} has no bilateral stocks of two "
            f"reference years with destination totals: load its bilateral and "
            f"destination-totals workbooks (`migstock run`); revisions with flows to "
            f"estimate: {loaded}"
        )
    return sorted(set(wanted))


def _vital_events(raw_dir: Path | None) -> tuple[VitalEvents | None, WppFile | None]:
    """Births and deaths from WPP's demographic indicators in ``raw_dir``, if there."""
    path = find_wpp_indicators(raw_dir) if raw_dir is not None else None
    if path is None:
        return None, None
    return read_wpp_indicators(path), wpp_provenance(path)


def refresh_flows(
    db_path: Path,
    revisions: list[int] | None = None,
    *,
    parquet_dir: Path | None = None,
    raw_dir: Path | None = None,
    reports: RunReports | None = None,
    validated: list[ValidationReport] | None = None,
    before_switch: BeforeSwitch | None = publish_exchange,
) -> FlowsResult:
    """Estimate, validate and publish the flows of ``revisions`` (default: the newest
    with bilateral stocks): every period between consecutive reference years, three
    sexes, three methods, in one new version of the store (``publish_flows``).

    Births and deaths come from WPP's demographic indicators when ``raw_dir`` (default
    the landing zone) holds that file. Each revision's checks run through the ``flows``
    suite; a blocking failure keeps that revision's flows unpublished (``rejected``).
    ``reports``: the run's reports (a ``migstock run --flows``), whose writing the caller
    finishes, the flows' results added to the revision's report in ``validated``;
    without, this writes a steward summary and findings of its own (``migstock flows``).
    Raises :class:`FlowsUnavailable` when there is nothing to estimate from.
    """
    from migstock.flows import estimate_revision, flow_checks
    from migstock.store import (
        FlowsLoad,
        connect_read_only,
        publish_flows,
        published_version,
        stocks_sha256,
    )
    from migstock.validate.flows import validate_flows

    db_path = Path(db_path)
    parquet_dir = Path(parquet_dir or settings.parquet_dir(db_path))
    raw_dir = Path(raw_dir) if raw_dir is not None else settings.landing_dir()
    own_reports = reports is None
    if reports is None:
        reports = RunReports(settings.validation_dir(db_path), parts=("flows",))
    else:
        reports.parts = tuple(dict.fromkeys((*reports.parts, "flows")))
    with connect_read_only(db_path, wait=True) as con:
        chosen = _chosen_revisions(con, revisions)
        names = dict(con.execute("SELECT code, name FROM locations").fetchall())
    progress.stage(f"reading births and deaths in {raw_dir}")
    vital, wpp = _vital_events(raw_dir)
    result = FlowsResult(wpp=wpp, wpp_dir=raw_dir)
    progress.stage("starting Great Expectations")
    validator = Validator(docs_dir=reports.docs_dir)
    by_revision = {report.revision: report for report in validated or []}
    loads = []
    for number in chosen:
        progress.stage(f"estimating the flows of revision {number}")
        with connect_read_only(db_path, wait=True) as con:
            found = estimate_revision(con, number, vital)
            checks = flow_checks(con, number, found)
            stocks = stocks_sha256(con, number)
        progress.stage(f"validating the flows of revision {number}")
        report = by_revision.get(number)
        if report is None:
            report = ValidationReport(number)
            by_revision[number] = report
            result.reports.append(report)
        flow_results = validate_flows(validator, number, checks, reports.run_id)
        report.results.extend(flow_results)
        reports.save_results(report)
        blocking = [r for r in flow_results if r.blocking]
        if blocking:
            result.rejected[number] = (
                f"blocking checks of the estimated flows failed, revision {number}'s flows not "
                f"published (the store keeps the flows it had); results in "
                f"{report.results_path}: " + "; ".join(r.describe(samples=0) for r in blocking)
            )
            continue
        rows = found.rows
        periods = (
            rows.groupby(["period_start", "period_end"], sort=True).size().reset_index(name="n")
        )
        result.periods[number] = [
            (int(a), int(b), int(n)) for a, b, n in periods.itertuples(index=False)
        ]
        loads.append(
            FlowsLoad(
                number,
                rows,
                {
                    "revision": number,
                    "estimated_at": datetime.now(UTC),
                    "periods": ", ".join(f"{a}-{b}" for a, b, _ in result.periods[number]),
                    "places": int(found.account["place_code"].nunique()),
                    "flow_rows": len(rows),
                    "vital_events": vital is not None,
                    "stocks_sha256": stocks,
                    "wpp_file": wpp.file_name if wpp else None,
                    "wpp_sha256": wpp.sha256 if wpp else None,
                    "wpp_size_bytes": wpp.size_bytes if wpp else None,
                    "wpp_citation": wpp.citation if wpp else None,
                    "method_citation": FLOWS_METHOD_CITATION,
                    "software": f"migstock {version('migstock')} (methods of migest 2.0.5)",
                },
            )
        )
        del found, checks
    result.docs_index = validator.build_docs()
    del validator
    if loads:
        numbers = ", ".join(str(load.revision) for load in loads)
        progress.stage(f"publishing the flows of {numbers} into {db_path}")
        result.changes = publish_flows(db_path, parquet_dir, loads, before_switch)
        result.version = published_version(db_path)
    if own_reports:
        _flow_reports(reports, result, names, db_path)
    return result


def _flow_reports(
    reports: RunReports, result: FlowsResult, names: dict[int, str], db_path: Path
) -> None:
    """The findings, history and steward summary of a ``migstock flows`` run."""
    from migstock.report import served_revisions
    from migstock.report.explain import explain
    from migstock.validate.gx import default_expectations_dir

    progress.stage("writing the reports")
    for report in result.reports:
        report.findings = explain(report, [], names)
    outcomes = result.outcomes()
    reports.review(result.reports, outcomes, default_expectations_dir())
    try:
        reports.record_history(result.reports, {r.revision: "flows" for r in result.reports})
    except duckdb.Error as error:
        outcomes.append(
            Outcome("validation history", Status.STALE, f"{reports.history_db}: {error}")
        )
    result.summary_html = reports.write_summary(
        result.reports,
        outcomes,
        result.docs_index,
        default_expectations_dir(),
        served_revisions(db_path),
        changes=result.changes,
    )
