"""``migstock`` command line: run the refresh flow, query the store."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from migstock import progress, settings
from migstock.catalog import apply_url_overrides, load_url_overrides
from migstock.errors import MigstockError

if TYPE_CHECKING:
    from migstock.outcomes import RunSummary

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()
err = Console(stderr=True)

_STATUS_STYLE = {
    "loaded": "green",
    "valid": "green",
    "unchanged": "green",
    "stale": "yellow",
    "warning": "yellow",
    "rejected": "bold red",
    "unavailable": "bold red",
    "not provided": "dim",
}


def _parse_urls(values: list[str]) -> dict[str, str]:
    urls = {}
    for value in values:
        key, sep, url = value.partition("=")
        if not sep or not url:
            raise typer.BadParameter(f"expected REVISION/DATASET=URL, got {value!r}")
        urls[key.strip()] = url.strip()
    return urls


@app.command()
def run(
    raw_dir: Annotated[
        Path | None,
        typer.Option(help="Use exactly the workbooks in this folder; never download."),
    ] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file to write.")] = None,
    parquet_dir: Annotated[
        Path | None, typer.Option(help="Parquet folder (default: next to --db).")
    ] = None,
    offline: Annotated[bool, typer.Option(help="Use data/raw only, never the network.")] = False,
    revision: Annotated[
        list[int] | None, typer.Option("--revision", "-r", help="Only these revisions.")
    ] = None,
    url: Annotated[
        list[str] | None,
        typer.Option(help="Override a download URL: REVISION/DATASET=URL (repeatable)."),
    ] = None,
    urls_file: Annotated[
        Path | None, typer.Option(help='TOML file with [urls] "REVISION/DATASET" = URL.')
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Re-parse and reload files whose rows are already loaded.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Every failing row and Prefect's log.")
    ] = False,
    require: Annotated[
        list[int] | None,
        typer.Option(
            "--require",
            help="A missing file of this revision fails the run (repeatable). Other "
            "missing catalog files are 'not provided', unless the run finds no workbook at all.",
        ),
    ] = None,
    flows: Annotated[
        bool,
        typer.Option(
            "--flows",
            help="After a load that changed bilateral stocks, estimate those revisions' "
            "flows (as `migstock flows`).",
        ),
    ] = False,
) -> None:
    """Get, parse, validate and load every revision of the catalog.

    Runs in this process; with PREFECT_API_URL set, as the Prefect flow on that server
    (the run then shows in its UI). A run that finds nothing new (same sha256 as the
    store, 304 from the server) ends at once, before the parsers or Great Expectations
    are even imported.
    """
    try:
        overrides = load_url_overrides(urls_file) if urls_file else {}
        overrides.update(_parse_urls(url or []))
        apply_url_overrides(overrides)  # a bad key is a usage error, before anything runs
    except MigstockError as error:
        _fail(error)
    _run(
        raw_dir=raw_dir,
        db_path=db or settings.db_path(),
        parquet_dir=parquet_dir,
        offline=offline,
        revisions=revision,
        url_overrides=overrides,
        force=force,
        required=require,
        verbose=verbose,
        flows=flows,
    )


@app.command()
def validate(
    raw_dir: Annotated[
        Path | None, typer.Option(help="Validate the workbooks in this folder (default data/raw).")
    ] = None,
    db: Annotated[
        Path | None, typer.Option(help="Store to cross-check against and report next to.")
    ] = None,
    revision: Annotated[
        list[int] | None, typer.Option("--revision", "-r", help="Only these revisions.")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Every failing row and Prefect's log.")
    ] = False,
) -> None:
    """Re-run validation on the raw workbooks and write the reports, without loading."""
    _run(
        raw_dir=raw_dir,
        db_path=db or settings.db_path(),
        offline=True,
        revisions=revision,
        load=False,
        force=True,  # validate the files even when their rows are already loaded
        verbose=verbose,
    )


def _run(verbose: bool = False, **parameters: Any) -> None:
    """Run the pipeline (in this process, or as the Prefect flow when PREFECT_API_URL is
    set), print its summary, exit non-zero when something failed."""
    from migstock import stops
    from migstock.store import published_version

    db_path = Path(parameters["db_path"])
    before = published_version(db_path)
    try:
        with stops.stoppable():
            if os.environ.get("PREFECT_API_URL"):
                summary = _run_as_flow(verbose, parameters)
            else:
                summary = _run_in_process(parameters)
    except (KeyboardInterrupt, stops.Stopped) as stop:
        stop = stop if isinstance(stop, stops.Stopped) else stops.Stopped(signal.SIGINT)
        err.print(escape(stops.stopped_line(stop, db_path, before)), soft_wrap=True)
        raise typer.Exit(stops.EXIT_CODES[stop.signum]) from None
    except OSError as error:  # the disk is full, a folder read-only, a permission missing
        _fail(MigstockError(stops.disk_line(error, db_path.parent)))
    _print_summary(summary, verbose)
    if summary.failed:
        raise typer.Exit(1)


def _run_in_process(parameters: dict[str, Any]) -> RunSummary:
    from migstock import acquire
    from migstock.outcomes import RunSummary
    from migstock.store import clean_up

    scope = acquire.Scope.of_run(
        parameters.get("raw_dir"),
        offline=parameters.get("offline", False),
        revisions=parameters.get("revisions"),
        required=parameters.get("required"),
        force=parameters.get("force", False),
    )
    db_path = Path(parameters["db_path"])
    parquet = parameters.get("parquet_dir") or settings.parquet_dir(db_path)
    catalog = apply_url_overrides(parameters.get("url_overrides") or {})
    try:
        with progress.reporting(console):
            acquired = acquire.begin(scope, catalog, db_path)
            if acquire.finished(acquired, scope):  # nothing new: only leftovers to remove
                clean_up(db_path, parquet)
                return RunSummary(outcomes=acquired.outcomes, db_path=db_path, parquet_dir=parquet)
            from migstock import pipeline  # pandas, the parsers, GX: only when there is work

            return pipeline.run(
                scope,
                db_path,
                parquet,
                catalog=catalog,
                load=parameters.get("load", True),
                acquired=acquired,
                flows=parameters.get("flows", False),
            )
    except MigstockError as error:
        _fail(error)


def _run_as_flow(verbose: bool, parameters: dict[str, Any]) -> RunSummary:
    """The run as the Prefect flow, on the server PREFECT_API_URL names."""
    level = "INFO" if verbose else "WARNING"  # the UI has every step; the console, problems
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    from migstock.flow import refresh, run_summary

    prefect_logger = logging.getLogger("prefect")
    previous = prefect_logger.level
    prefect_logger.setLevel(level)
    try:
        with progress.reporting(console):
            state = refresh(**parameters, return_state=True)
    finally:
        prefect_logger.setLevel(previous)
    summary = run_summary(state)
    if summary is not None:
        return summary
    problem = state.result(raise_on_failure=False)
    if isinstance(problem, MigstockError):  # e.g. the store is locked by another process
        _fail(problem)
    if isinstance(problem, OSError):  # the disk said no inside a task: as in-process
        raise problem
    err.print(f"[bold red]error:[/] the refresh flow crashed: {state.message}", soft_wrap=True)
    raise typer.Exit(3)


def _fail(error: MigstockError) -> NoReturn:
    """One line for an error of the run as a whole (usage, store), exit 2."""
    err.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
    raise typer.Exit(2) from None


@app.command("flows")
def flows_command(
    revision: Annotated[
        list[int] | None,
        typer.Option(
            "--revision",
            "-r",
            help="Estimate this revision's flows (repeatable; default: the newest with "
            "bilateral stocks).",
        ),
    ] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file of the store.")] = None,
    raw_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder holding WPP's demographic indicators CSV (births and deaths; "
            "default data/raw)."
        ),
    ] = None,
    pages: Annotated[
        bool, typer.Option(help="Then write the data brief and the country pages again.")
    ] = True,
) -> None:
    """Estimate migration flows between consecutive reference years from the bilateral
    stocks, validate them and publish them into the store (a new version)."""
    from migstock import stops
    from migstock.store import published_version

    db_path = db or settings.db_path()
    before = published_version(db_path)
    try:
        with stops.stoppable(), progress.reporting(console):
            from migstock import pipeline

            result = pipeline.refresh_flows(db_path, revision, raw_dir=raw_dir)
            by_products = []
            if result.version is not None and pages:
                progress.stage("writing the data brief")
                by_products.append(pipeline.publish_brief(db_path))
                progress.stage("writing the country pages")
                by_products.append(pipeline.publish_site(db_path))
    except (KeyboardInterrupt, stops.Stopped) as stop:
        stop = stop if isinstance(stop, stops.Stopped) else stops.Stopped(signal.SIGINT)
        err.print(escape(stops.stopped_line(stop, db_path, before)), soft_wrap=True)
        raise typer.Exit(stops.EXIT_CODES[stop.signum]) from None
    except OSError as error:
        _fail(MigstockError(stops.disk_line(error, db_path.parent)))
    except MigstockError as error:
        _fail(error)
    _print_flows(result, by_products)
    if result.failed:
        raise typer.Exit(1)


def _print_flows(result: Any, by_products: list[Any]) -> None:
    """One line per revision and period, the version, births and deaths, the findings."""
    for number, periods in result.periods.items():
        for start, end, rows in periods:
            console.print(f"flows {number} {start}–{end}: {rows:,} rows", highlight=False)
    if result.version is not None:
        console.print(f"published version: {result.version}", highlight=False)
    if result.wpp is not None:
        console.print(
            f"births and deaths: {escape(result.wpp.file_name)} (sha256 {result.wpp.sha256[:12]}…)",
            soft_wrap=True,
            highlight=False,
        )
    else:
        console.print(
            f"[dim]births and deaths: none (no WPP demographic indicators CSV in "
            f"{escape(str(result.wpp_dir))}): taken as zero[/]",
            soft_wrap=True,
        )
    for report in result.reports:
        for finding in report.findings:
            if finding.all_accepted or finding.blocking:
                continue
            console.print(
                f"[yellow]warning[/] flows {report.revision}: {escape(finding.headline())}",
                soft_wrap=True,
            )
    if any(f.failures for r in result.reports for f in r.findings):
        console.print("[dim]open findings with their IDs: migstock review[/]")
    if result.summary_html:
        console.print(f"steward summary:   {result.summary_html}", soft_wrap=True)
    for product in by_products:
        if isinstance(product, str):
            err.print(f"[yellow]warning:[/] {escape(product)}", soft_wrap=True)
        elif isinstance(product, list):
            for page in product:
                console.print(f"data brief ({page.lang}):   {page.html}", soft_wrap=True)
        else:
            console.print(f"country pages:     {product.index}", soft_wrap=True)
    for number, reason in result.rejected.items():
        err.print(f"[bold red]error:[/] flows {number}: {escape(reason)}", soft_wrap=True)


@app.command()
def serve(
    cron: Annotated[str, typer.Option(help="When to refresh (cron, UTC).")] = settings.DEFAULT_CRON,
) -> None:
    """Serve the scheduled refresh deployment (needs a Prefect server: see README)."""
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        CronSchedule(cron=cron)
    except ValidationError:
        err.print(
            f"[bold red]error:[/] --cron {cron!r} is not a cron expression: five fields, "
            f"minute hour day-of-month month day-of-week, e.g. '{settings.DEFAULT_CRON}' "
            "(Mondays 06:00 UTC)",
            soft_wrap=True,
        )
        raise typer.Exit(2) from None
    # Prefect logs at INFO here: the server's UI shows every step of the scheduled runs
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from prefect import serve as prefect_serve
    from prefect.settings import get_current_settings

    from migstock.flow import scheduled_deployment

    api_url = get_current_settings().api.url
    if api_url:
        console.print(f"Prefect API: {api_url}")
    else:
        console.print(
            "PREFECT_API_URL is not set: starting a temporary Prefect server inside this "
            "process. The deployment, its schedule and its runs last only while this command "
            "runs, and no UI shows them. For a lasting server: `prefect server start`, then "
            "`export PREFECT_API_URL=http://127.0.0.1:4200/api` and run this again.",
            soft_wrap=True,
        )
    console.print(
        f"serving migstock-refresh/scheduled-refresh on cron '{cron}' (UTC; Ctrl+C stops)"
    )
    prefect_serve(scheduled_deployment(cron))


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the demo.")] = Path(
        "data/demo"
    ),
) -> None:
    """Generate SYNTHETIC workbooks of every layout and run the whole flow on them, offline."""
    from migstock.demo.samples import write_demo_workbooks

    raw = directory / "raw"
    written = write_demo_workbooks(raw)
    console.print(
        f"wrote {len(written)} workbooks with [bold]synthetic numbers (not UN data)[/] to {raw}"
    )
    db = directory / "curated" / "migstock.duckdb"
    try:
        run(raw_dir=raw, db=db)
    finally:
        from migstock.brief import brief_root

        for index in sorted(brief_root(db).glob("*/index.html")):
            console.print(f"brief (synthetic): {index}")


@app.command()
def brief(
    db: Annotated[Path | None, typer.Option(help="DuckDB file to read.")] = None,
    revision: Annotated[
        int | None, typer.Option(help="Revision of the brief (default: the newest loaded).")
    ] = None,
    lang: Annotated[str, typer.Option(help="Language: en or ar.")] = "en",
    out: Annotated[
        Path | None, typer.Option(help="Folder for index.html, CSVs, PDF (data/brief/<lang>).")
    ] = None,
    pdf: Annotated[bool, typer.Option(help="Also print the page to brief.pdf.")] = True,
) -> None:
    """Write the data brief on migration in the Arab region (HTML, CSV, PDF) from the store."""
    from migstock.brief import LANGUAGES, build_brief

    if lang not in LANGUAGES:
        raise typer.BadParameter(f"--lang must be one of {', '.join(LANGUAGES)}")
    try:
        result = build_brief(db or settings.db_path(), lang, out, revision, pdf=pdf)  # type: ignore[arg-type]
    except MigstockError as error:
        _fail(error)
    _print_brief(result)


def _print_brief(result: object) -> None:
    data = result.data  # type: ignore[attr-defined]
    note = " [bold red](SYNTHETIC data)[/]" if data.synthetic else ""
    console.print(
        f"brief ({result.lang}, revision {data.headline.revision}){note}: {result.html}"  # type: ignore[attr-defined]
    )
    if result.pdf:  # type: ignore[attr-defined]
        console.print(f"pdf:   {result.pdf}")  # type: ignore[attr-defined]
    elif result.pdf_error:  # type: ignore[attr-defined]
        err.print(f"[yellow]warning:[/] {result.pdf_error}", soft_wrap=True)  # type: ignore[attr-defined]
    for section, gap in data.missing.items():
        console.print(f"[dim]{section}: not loaded; it needs {gap.workbook}[/]", soft_wrap=True)


@app.command()
def site(
    db: Annotated[Path | None, typer.Option(help="DuckDB file to read.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder of the site (data/site; Arabic in ar/).")
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Then preview it on http://127.0.0.1 (Ctrl-C stops).")
    ] = False,
    port: Annotated[int, typer.Option(help="Port of --serve (0: any free port).")] = 8000,
) -> None:
    """Build the data portal: a profile of every Arab country, sub-region and the region,
    in English and Arabic, with charts, CSV and Excel downloads (static files)."""
    from migstock.site import build_site

    try:
        result = build_site(db or settings.db_path(), out)
    except MigstockError as error:
        _fail(error)
    note = " [bold red](SYNTHETIC data)[/]" if result.data and result.data.synthetic else ""
    console.print(f"{escape(result.summary())}{note}", soft_wrap=True)
    if serve:
        _serve_site(result.out_dir, port)


def _serve_site(directory: Path, port: int) -> None:
    """Serve ``directory`` on 127.0.0.1 only, with the standard library, until Ctrl-C."""
    from migstock.site import preview_server

    with preview_server(directory, port) as server:
        console.print(
            f"serving http://127.0.0.1:{server.server_address[1]}/index.html (Ctrl-C stops)"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            console.print("stopped")


def _print_summary(summary: RunSummary, verbose: bool = False) -> None:
    table = Table(title="migstock run", show_lines=False)
    table.add_column("what")
    table.add_column("status")
    table.add_column("details", overflow="fold")
    not_provided = []
    reviewed_problems = []
    for outcome in summary.outcomes:
        if outcome.status == "not provided":
            not_provided.append(outcome.subject)
            continue
        if outcome.subject == "reviewed findings":  # one line of its own, below
            reviewed_problems.append(outcome.message)
            continue
        style = _STATUS_STYLE.get(outcome.status, "")
        failed = outcome.status in ("rejected", "unavailable")
        details = "[dim](the error below)[/]" if failed else escape(outcome.message)
        table.add_row(escape(outcome.subject), f"[{style}]{outcome.status}[/]", details)
    console.print(table)
    if not_provided:
        console.print(f"[dim]not in the raw folder (skipped): {', '.join(not_provided)}[/]")
    for problem in reviewed_problems:
        err.print(f"[yellow]warning:[/] reviewed findings: {escape(problem)}", soft_wrap=True)
    accepted_checks = []
    for report in summary.reports:  # open findings first; accepted ones in one line each
        from migstock.report import accepted_text, review_order  # pandas: only with reports

        pending, settled = review_order(report.findings)
        accepted_checks += [(report.revision, finding) for finding in settled]
        for finding in pending:
            if finding.blocking and not verbose:
                continue  # its one line is the rejected outcome, printed as an error below
            label = "[bold red]blocking[/]" if finding.blocking else "[yellow]warning[/]"
            console.print(
                f"{label} revision {report.revision}: {escape(finding.headline())}",
                soft_wrap=not verbose,
            )
            if verbose:
                console.print(f"  [dim]{escape(finding.gx_id)}[/]")
                for failure in finding.open:
                    lapsed = f" (open again: {failure.lapsed})" if failure.lapsed else ""
                    console.print(
                        f"  - {failure.id} {escape(failure.line() + lapsed)}", soft_wrap=True
                    )
            if finding.accepted:
                console.print(f"  [dim]{escape(accepted_text(finding))}[/]", soft_wrap=True)
    for revision, finding in accepted_checks:
        console.print(
            f"[green]accepted[/] revision {revision}: {escape(accepted_text(finding))}",
            soft_wrap=True,
        )
    if any(f.failures for r in summary.reports for f in r.findings):
        console.print("[dim]open findings with their IDs: migstock review[/]")
    if any(o.status == "loaded" for o in summary.outcomes):
        console.print(f"database:          {summary.db_path}")
        console.print(f"parquet:           {summary.parquet_dir}")
    if summary.summary_html:
        console.print(f"steward summary:   {summary.summary_html}", soft_wrap=True)
    if summary.docs_index:
        console.print(f"data docs:         {summary.docs_index}", soft_wrap=True)
    if summary.exchange_dir:
        console.print(
            f"exchange files:    {summary.exchange_dir} (SDMX, data package)", soft_wrap=True
        )
    for page in summary.brief:
        console.print(f"data brief ({page.lang}):   {page.html}", soft_wrap=True)
        if page.pdf_error:
            err.print(f"[yellow]warning:[/] {escape(page.pdf_error)}", soft_wrap=True)
    if summary.site is not None:
        console.print(f"country pages:     {summary.site.index}", soft_wrap=True)
    if not verbose and any(r.findings for r in summary.reports):
        console.print("[dim]every failing row: --verbose, or the steward summary[/]")
    for outcome in summary.outcomes:
        if outcome.status in ("rejected", "unavailable"):
            err.print(
                f"[bold red]error:[/] {escape(outcome.subject)}: {escape(outcome.message)}",
                soft_wrap=True,
            )


review_app = typer.Typer(
    add_completion=False,
    help="List the findings of the latest run; accept the ones a steward has checked.",
)
app.add_typer(review_app, name="review")


def _review_entries(db: Path | None, reviewed: Path | None) -> tuple[str, list[Any], Path]:
    """The latest run's findings, marked with today's ``reviewed.toml``."""
    from migstock.report import review

    run_id, listed = review.latest_findings(settings.validation_dir(db or settings.db_path()))
    path = reviewed or review.default_path()
    try:
        review.judge(listed, review.load(path))
    except MigstockError as error:
        review.judge(listed, review.Reviewed(path))
        err.print(
            f"[yellow]warning:[/] {escape(str(error))}; every finding is listed as open",
            soft_wrap=True,
        )
    return run_id, listed, path


@review_app.callback(invoke_without_command=True)
def review_list(
    ctx: typer.Context,
    db: Annotated[Path | None, typer.Option(help="DuckDB file (its runs are listed).")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list the accepted findings.")
    ] = False,
    reviewed: Annotated[
        Path | None,
        typer.Option(
            help="The reviewed findings (default: $MIGSTOCK_REVIEWED or "
            "expectations/reviewed.toml)."
        ),
    ] = None,
) -> None:
    """List the open findings of the latest run: ID, check, place, year, sex, value, where."""
    import json

    if ctx.invoked_subcommand is not None:
        return
    if output_format not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    try:
        run_id, listed, path = _review_entries(db, reviewed)
    except MigstockError as error:
        _fail(error)
    shown = [e for e in listed if show_all or e.status == "open"]
    shown.sort(key=lambda e: (e.status != "open", not e.blocking, e.revision, not e.arab))
    if output_format == "json":
        typer.echo(json.dumps([e.as_dict() for e in shown], indent=1, default=str))
        return
    console.print(f"[bold]findings of run {run_id}[/]")
    for entry in shown:
        where = ", ".join(
            part
            for part in (
                entry.file,
                f"sheet '{entry.sheet}'" if entry.sheet else None,
                f"row {entry.row}" if entry.row is not None else None,
            )
            if part
        )
        status = "[bold red]blocking[/]" if entry.blocking else f"[yellow]{entry.status}[/]"
        if entry.status == "accepted":
            status = f"[green]accepted[/] ({escape(entry.by)}: {escape(entry.reason)})"
        elif entry.lapsed:
            status = f"[yellow]open again[/] ({escape(entry.lapsed)})"
        when = f" {entry.year}" if entry.year is not None else ""
        sex = f", {entry.sex}" if entry.sex else ""
        if entry.age_group is not None:
            sex += ", all ages" if entry.age_group == "total" else f", aged {entry.age_group}"
        console.print(
            f"{entry.id}  {entry.revision}  {escape(entry.check)}  "
            f"{escape(entry.place)}{when}{sex}: {escape(entry.text)}  {escape('[' + where + ']')}  "
            f"{status}",
            soft_wrap=True,
            highlight=False,
        )
    accepted = sum(e.status == "accepted" for e in listed)
    opened = sum(e.status == "open" for e in listed)
    hint = "" if show_all or not accepted else " (--all lists them)"
    console.print(
        f"{opened:,} open, {accepted:,} accepted{hint}; reviewed findings: {path}",
        soft_wrap=True,
    )


@review_app.command("accept")
def review_accept(
    ids: Annotated[list[str], typer.Argument(help="Finding IDs (from `migstock review`).")],
    reason: Annotated[str, typer.Option(help="Why the finding is accepted.")],
    by: Annotated[str, typer.Option(help="Who accepts it.")],
    reviewed: Annotated[
        Path | None,
        typer.Option(
            help="The file to record it in (default: $MIGSTOCK_REVIEWED or "
            "expectations/reviewed.toml in a checkout)."
        ),
    ] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file (its latest run).")] = None,
) -> None:
    """Accept findings of the latest run, with a reason and a name, in reviewed.toml."""
    from migstock.report import review

    try:
        path = review.writable_path(reviewed)
        run_id, listed, _ = _review_entries(db, path)
        known = {entry.id: entry for entry in listed}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise MigstockError(
                f"no finding {', '.join(unknown)} in the latest run ({run_id}): "
                "`migstock review` lists its findings"
            )
        written = review.append(path, [known[i] for i in dict.fromkeys(ids)], reason, by)
    except MigstockError as error:
        _fail(error)
    already = len(dict.fromkeys(ids)) - len(written)
    note = f" ({already} accepted already)" if already else ""
    console.print(
        f"accepted {len(written)} finding{'s' if len(written) != 1 else ''}{note} in {path}"
    )


@app.command()
def sql(
    query: Annotated[
        str | None, typer.Argument(help="SQL to run on a read-only connection (or use --file).")
    ] = None,
    file: Annotated[
        str | None,
        typer.Option("--file", "-f", help="Read the SQL from this file ('-': standard input)."),
    ] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    timeout: Annotated[
        float, typer.Option(help="Stop the query after this many seconds.", min=0.001)
    ] = 60.0,
    memory: Annotated[
        str, typer.Option(help="Memory DuckDB may use for the query, e.g. 2GB or 500MB.")
    ] = "2GB",
) -> None:
    """Query the curated store (read-only) and print the result. Ctrl-C stops a query."""
    from migstock.store import access

    if output_format not in ("table", "csv", "json"):
        raise typer.BadParameter("--format must be table, csv or json")
    if (query is None) == (file is None):
        raise typer.BadParameter("give the SQL either as an argument or with --file, not both")
    if file is not None:
        try:
            query = (
                typer.get_text_stream("stdin").read()
                if file == "-"
                else Path(file).read_text(encoding="utf-8")
            )
        except (OSError, UnicodeDecodeError) as error:
            err.print(
                f"[bold red]error:[/] cannot read --file {escape(file)}: {error}", soft_wrap=True
            )
            raise typer.Exit(2) from None
    limits = access.Limits(timeout_s=timeout, memory=memory)
    try:
        frame = access.query(db or settings.db_path(), query or "", limits)
    except access.QueryInterrupted as error:
        err.print(f"[bold red]stopped:[/] {error}", soft_wrap=True)
        raise typer.Exit(130) from None
    except MigstockError as error:
        _fail(error)
    if frame.empty:
        err.print("[yellow]warning:[/] the query returned no rows", soft_wrap=True)
    if output_format != "table":
        typer.echo(access.render(frame, output_format), nl=False)  # type: ignore[arg-type]
        return
    table = Table()
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.itertuples(index=False):
        table.add_row(*("" if pd_isna(v) else str(v) for v in row))
    console.print(table)


@app.command()
def export(
    name: Annotated[str | None, typer.Argument(help="Table or view, e.g. arab_immigrants.")] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="csv, parquet, xlsx; sdmx-csv (SDMX-CSV 1.0) or sdmx-ml (SDMX-ML 2.1) "
            "for bilateral_stock, destination_totals, refugees, flows.",
        ),
    ] = "csv",
    structure: Annotated[
        bool, typer.Option("--structure", help="Write the SDMX-ML 2.1 structure instead.")
    ] = False,
    output: Annotated[Path | None, typer.Option(help="File to write.")] = None,
    revision: Annotated[int | None, typer.Option(help="Only this revision.")] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file.")] = None,
) -> None:
    """Export a table or view for colleagues who work in spreadsheets, or as SDMX."""
    from migstock import exchange
    from migstock.store import access, connect_read_only

    formats = ("csv", "parquet", "xlsx", "sdmx-csv", "sdmx-ml")
    if output_format not in formats:
        raise typer.BadParameter(f"--format must be one of {', '.join(formats)}")
    if not structure and name is None:
        raise typer.BadParameter("name a table or view to export, or pass --structure")
    suffix = f"_{revision}" if revision else ""
    extension = {"sdmx-csv": "sdmx.csv", "sdmx-ml": "sdmx.xml"}.get(output_format, output_format)
    default = f"structure{suffix}.sdmx.xml" if structure else f"{name}{suffix}.{extension}"
    target = output or Path("data/exports") / default
    store = db or settings.db_path()
    try:
        if structure:
            with connect_read_only(store) as con:
                artefacts = exchange.export_structure(con, target, revision)
            console.print(f"wrote the SDMX structure ({artefacts} artefacts) to {target}")
            return
        assert name is not None
        if output_format.startswith("sdmx-"):
            with connect_read_only(store) as con:
                rows = exchange.export_sdmx(con, name, output_format, target, revision)
        else:
            rows = access.export(store, name, output_format, target, revision)  # type: ignore[arg-type]
    except MigstockError as error:
        _fail(error)
    if rows == 0:
        which = f" for revision {revision}" if revision is not None else ""
        written = output_format != "sdmx-ml"  # SDMX-ML: no data set, so no file
        holds = "holds only the header" if written else "was not written"
        err.print(
            f"[yellow]warning:[/] {name} has no rows{which}: {target} {holds} "
            '(`migstock sql "SELECT DISTINCT revision FROM raw_files"` lists what is loaded)',
            soft_wrap=True,
        )
        if not written:
            return
    unit = "observations" if output_format.startswith("sdmx-") else "rows"
    console.print(f"wrote {rows:,} {unit} to {target}")


def pd_isna(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value) == "<NA>"


def main() -> None:
    """The ``migstock`` command."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
