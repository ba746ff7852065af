"""Which raw files a run needs, decided before any heavy machinery starts.

Plain functions over plain data (no Prefect, pandas or Great Expectations here):

- :func:`scan_local` hashes the files of the landing zone (or ``--raw-dir``) and
  compares each sha256 with the store's ``raw_files``: *use local* (new to the
  store), *skip unchanged* (its rows are loaded) or *skip copy* (same bytes as a
  file already seen).
- :func:`plan_catalog` decides for each catalog file that no local file covers:
  *fetch* (missing, downloads allowed), *recheck* (downloaded earlier: one
  conditional request) or *not provided* (no downloads in this run).
- :func:`carry_out` performs the fetch and recheck steps through a fetcher (plain
  :func:`migstock.acquire.fetch.download`, or the flow's Prefect task with retries) and
  tries each host at most once per run.
- :func:`begin` is the first step of every run: when it finds nothing new the run
  ends there, before pandas or Great Expectations are even imported.

A missing catalog file (not in the folder, not downloadable) fails the run
(``unavailable``) only when its revision is *required* (``--require``), or when the
run has no workbook at all; otherwise it is ``not provided``, so a landing zone
filled by hand, or a catalog URL that moved, does not turn every scheduled run red.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import duckdb

from migstock import progress, settings
from migstock.acquire.provenance import RawFile, local_file
from migstock.catalog import Revision, SourceFile
from migstock.errors import FetchError, StoreError
from migstock.flows.wpp_file import is_wpp_indicators
from migstock.outcomes import Outcome, Status
from migstock.store import connect_read_only

if TYPE_CHECKING:
    from migstock.acquire.fetch import Fetched

log = logging.getLogger(__name__)

#: what a landing zone may hold (``migstock.parse.read`` reads exactly these; a test checks)
LOCAL_SUFFIXES = (".xlsx", ".xls", ".csv")

#: ``fetcher(source, landing_dir, known)``: download into the landing zone (``known``: the
#: local copy the scan found, for a conditional request), raise FetchError
Fetcher = Callable[[SourceFile, Path, "RawFile | None"], "Fetched"]


class Action(StrEnum):
    """What a run does with one local file or one catalog file."""

    USE_LOCAL = "use local"  # a local file the store does not hold: parse it
    SKIP_UNCHANGED = "skip unchanged"  # its sha256 is in the store: nothing to do
    SKIP_COPY = "skip copy"  # the same bytes as another local file
    FETCH = "fetch"  # a catalog file with no local copy: download it
    RECHECK = "recheck"  # downloaded earlier: ask the server whether it changed
    NOT_PROVIDED = "not provided"  # a catalog file with no local copy, and no downloads


@dataclass(frozen=True)
class Scope:
    """What one run asks for."""

    source_dir: Path
    #: ``--raw-dir``: exactly the files in ``source_dir``, never download
    raw_dir_given: bool = False
    offline: bool = False
    #: only these revisions (None: all)
    revisions: frozenset[int] | None = None
    #: a missing file of these revisions fails the run; others are "not provided"
    required: frozenset[int] = frozenset()
    #: parse and load files whose rows are loaded already
    force: bool = False

    @classmethod
    def of(
        cls,
        source_dir: Path,
        *,
        raw_dir_given: bool = False,
        offline: bool = False,
        revisions: Iterable[int] | None = None,
        required: Iterable[int] | None = None,
        force: bool = False,
    ) -> Scope:
        """A scope from command-line style arguments (None or empty: all revisions)."""
        wanted = frozenset(revisions) if revisions else None
        return cls(
            Path(source_dir), raw_dir_given, offline, wanted, frozenset(required or ()), force
        )

    @classmethod
    def of_run(
        cls,
        raw_dir: Path | None,
        *,
        offline: bool = False,
        revisions: Iterable[int] | None = None,
        required: Iterable[int] | None = None,
        force: bool = False,
    ) -> Scope:
        """What a run's options ask for: exactly the files of ``raw_dir`` when given,
        else the landing zone (``data/raw``)."""
        return cls.of(
            Path(raw_dir) if raw_dir is not None else settings.landing_dir(),
            raw_dir_given=raw_dir is not None,
            offline=offline,
            revisions=revisions,
            required=required,
            force=force,
        )

    @property
    def online(self) -> bool:
        return not self.raw_dir_given and not self.offline

    @property
    def origin(self) -> str:
        """How a local file got here, for provenance."""
        return "raw-dir" if self.raw_dir_given else "landing zone"

    def wants(self, revision: int) -> bool:
        return self.revisions is None or revision in self.revisions


@dataclass(frozen=True)
class LocalFile:
    """One file found in the source folder and what to do with it."""

    action: Action
    raw: RawFile
    #: (revision, dataset) the store holds this file's rows as (``SKIP_UNCHANGED``)
    loaded_as: tuple[int, str] | None = None


@dataclass(frozen=True)
class CatalogStep:
    """One catalog file that no local file covers (or that was downloaded earlier)."""

    action: Action
    source: SourceFile
    #: where the file is, or would be saved
    target: Path
    #: a local file covers its revision and dataset (a failed recheck is only "stale")
    present: bool = False
    #: the earlier download, as the scan found it (``RECHECK``)
    local: RawFile | None = None

    @property
    def subject(self) -> str:
        return f"{self.source.revision} {self.source.dataset}"


@dataclass
class Acquisition:
    """The raw files a run must parse, and the outcomes decided so far."""

    to_prepare: list[RawFile] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    #: (revision, dataset) pairs a local or fetched file covers
    present: set[tuple[int, str]] = field(default_factory=set)
    #: hosts that could not be reached in this run: not tried again
    unreachable: set[str] = field(default_factory=set)
    #: what the scan of the source folder found, each file hashed once
    local: list[LocalFile] = field(default_factory=list)
    #: the catalog's files were planned, downloaded or re-checked already
    catalog_done: bool = False


def find_local_files(directory: Path) -> list[Path]:
    """Spreadsheets and CSV exports in ``directory`` (hidden and temporary files skipped)."""
    return [path for path, problem in _local_entries(directory) if problem is None]


def unusable_local_files(directory: Path) -> list[tuple[Path, str]]:
    """Entries named like spreadsheets that cannot be read (folders, FIFOs, broken
    links, unreadable files), each with the reason: reported, never skipped silently."""
    return [(path, problem) for path, problem in _local_entries(directory) if problem is not None]


def _local_entries(directory: Path) -> list[tuple[Path, str | None]]:
    if not directory.is_dir():
        return []
    entries = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in LOCAL_SUFFIXES or path.name.startswith((".", "~$")):
            continue
        problem = _unusable_because(path)
        if problem is None and path.suffix.lower() == ".csv" and is_wpp_indicators(path):
            continue  # WPP's births and deaths, for flows: not a workbook of the catalog
        entries.append((path, problem))
    return entries


def _unusable_because(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file, without opening it (a FIFO would block)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "is a link to a file that does not exist; skipped"
    except OSError as error:
        return f"cannot be read ({error.strerror or error}); skipped"
    if stat.S_ISDIR(mode):
        return "is a folder, not a workbook; skipped"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a FIFO, socket or device); skipped"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied); skipped"
    return None


def loaded_files(db_path: Path) -> dict[str, tuple[int, str]]:
    """sha256 -> (revision, dataset) of the raw files whose rows the store holds."""
    if not db_path.exists():
        return {}
    try:
        with connect_read_only(db_path, wait=True) as con:
            rows = con.execute("SELECT sha256, revision, dataset FROM raw_files").fetchall()
    except (duckdb.Error, StoreError):  # not a store: every file is new, and the load says why
        return {}
    return {sha: (int(number), dataset) for sha, number, dataset in rows}


def scan_local(scope: Scope, loaded: dict[str, tuple[int, str]]) -> list[LocalFile]:
    """Hash every local file and decide, by sha256 alone, whether it needs parsing."""
    known = {} if scope.force else loaded
    seen: set[str] = set()
    files = []
    for path in find_local_files(scope.source_dir):
        raw = local_file(path, scope.origin)
        if raw.sha256 in seen:
            files.append(LocalFile(Action.SKIP_COPY, raw))
        elif raw.sha256 in known:
            files.append(LocalFile(Action.SKIP_UNCHANGED, raw, known[raw.sha256]))
        else:
            files.append(LocalFile(Action.USE_LOCAL, raw))
        seen.add(raw.sha256)
    return files


def from_local(scope: Scope, files: list[LocalFile]) -> Acquisition:
    """Start an acquisition from the local scan: unchanged files are done, new ones to parse."""
    acquisition = Acquisition()
    for path, problem in unusable_local_files(scope.source_dir):
        acquisition.outcomes.append(Outcome(path.name, Status.REJECTED, problem))
    for item in files:
        if item.action is Action.SKIP_COPY:
            log.info("%s is a copy of a file already read; skipped", item.raw.path.name)
        elif item.action is Action.SKIP_UNCHANGED and item.loaded_as is not None:
            number, dataset = item.loaded_as
            acquisition.present.add(item.loaded_as)
            if scope.wants(number):
                acquisition.outcomes.append(
                    Outcome(
                        f"{number} {dataset}", Status.UNCHANGED, f"{item.raw.path.name} is loaded"
                    )
                )
        elif item.action is Action.USE_LOCAL:
            acquisition.to_prepare.append(item.raw)
    return acquisition


def plan_catalog(
    scope: Scope,
    catalog: Iterable[Revision],
    present: set[tuple[int, str]],
    local: Iterable[LocalFile] = (),
) -> list[CatalogStep]:
    """For each wanted catalog file: fetch, recheck, not provided, or nothing (covered)."""
    downloaded = {
        item.raw.path.name: item.raw
        for item in local
        if item.raw.origin == "download" and (item.raw.etag or item.raw.last_modified)
    }
    steps = []
    for entry in catalog:
        if not scope.wants(entry.revision):
            continue
        for source in entry.files:
            target = scope.source_dir / source.file_name
            covered = (source.revision, source.dataset) in present
            if scope.online and source.file_name in downloaded:
                known = downloaded[source.file_name]
                steps.append(CatalogStep(Action.RECHECK, source, target, covered, known))
            elif covered:
                continue
            elif scope.online:
                steps.append(CatalogStep(Action.FETCH, source, target))
            else:
                steps.append(CatalogStep(Action.NOT_PROVIDED, source, target))
    return steps


def _missing(scope: Scope, step: CatalogStep) -> Status:
    """The status of a catalog file the run could not get."""
    if step.present:
        return Status.STALE
    return Status.UNAVAILABLE if step.source.revision in scope.required else Status.NOT_PROVIDED


def carry_out(
    acquisition: Acquisition, scope: Scope, steps: list[CatalogStep], fetcher: Fetcher
) -> list[RawFile]:
    """Perform the steps; return the files that are new or changed (to parse).

    A host that cannot be reached is not tried again in this run.
    """
    fetched = []
    for step in steps:
        source, target = step.source, step.target
        advice = f"download {source.url} and save it as {target}"
        if step.action is Action.NOT_PROVIDED:
            acquisition.outcomes.append(
                Outcome(
                    step.subject,
                    _missing(scope, step),
                    f"no such workbook in {scope.source_dir}: {advice}",
                )
            )
            continue
        host = urlparse(source.url).hostname or source.url
        if host in acquisition.unreachable:
            acquisition.outcomes.append(
                Outcome(
                    step.subject,
                    _missing(scope, step),
                    f"skipped: {host} could not be reached earlier in this run; {advice}",
                )
            )
            continue
        progress.download_started(source.file_name)
        try:
            result = fetcher(source, scope.source_dir, step.local)
        except FetchError as error:
            if error.unreachable:
                acquisition.unreachable.add(host)
            message = str(error)
            if step.present:
                message = f"could not check for a newer file, the local one is used: {error}"
            acquisition.outcomes.append(Outcome(step.subject, _missing(scope, step), message))
            continue
        if not result.changed:
            log.info("%s: not modified on the server", source.file_name)
            continue
        acquisition.outcomes[:] = [
            o
            for o in acquisition.outcomes
            if not (o.subject == step.subject and o.status is Status.UNCHANGED)
        ]
        fetched.append(result.raw)
    return fetched


def conclude(acquisition: Acquisition, scope: Scope, prepared_any: bool) -> None:
    """Add the run-level outcome: nothing changed, or no workbook at all."""
    if prepared_any:
        return
    statuses = {o.status for o in acquisition.outcomes}
    if Status.UNCHANGED in statuses:
        acquisition.outcomes.append(
            Outcome("store", Status.UNCHANGED, "nothing changed: no new or modified raw file")
        )
    elif not statuses - {Status.NOT_PROVIDED}:
        # not a single workbook: every file the run could not get is an error
        for outcome in acquisition.outcomes:
            outcome.status = Status.UNAVAILABLE
        where = "given" if scope.raw_dir_given else "found or downloaded"
        acquisition.outcomes.append(
            Outcome(
                "raw files",
                Status.UNAVAILABLE,
                f"no workbook {where} in {scope.source_dir}: nothing to load",
            )
        )


def plain_download(source: SourceFile, landing_dir: Path, known: RawFile | None = None) -> Fetched:
    """``fetch.download`` with the progress bar (fetch, and requests, imported only now)."""
    from migstock.acquire import fetch

    return fetch.download(source, landing_dir, progress=progress.download_progress, known=known)


def begin(
    scope: Scope,
    catalog: Iterable[Revision],
    db_path: Path,
    fetcher: Fetcher = plain_download,
) -> Acquisition:
    """The first step of every run: hash each local file once, and compare it with the
    store's ``raw_files``.

    When no local file needs parsing to say what it is, the store already tells what each
    one holds, so the catalog's downloads and conditional requests are made here too
    (``catalog_done``); a run whose result has nothing to parse is then over, before
    pandas or Great Expectations are imported. Otherwise the run parses the new local
    files first and then calls :func:`finish_catalog`.
    """
    local = scan_local(scope, loaded_files(db_path))
    acquisition = from_local(scope, local)
    acquisition.local = local
    if not acquisition.to_prepare:
        acquisition.to_prepare.extend(finish_catalog(acquisition, scope, catalog, fetcher))
    return acquisition


def finish_catalog(
    acquisition: Acquisition, scope: Scope, catalog: Iterable[Revision], fetcher: Fetcher
) -> list[RawFile]:
    """Download, re-check or report as not provided each catalog file that no local file
    covers; return the files that are new or changed (to parse)."""
    steps = plan_catalog(scope, catalog, acquisition.present, acquisition.local)
    acquisition.catalog_done = True
    return carry_out(acquisition, scope, steps, fetcher)


def finished(acquisition: Acquisition, scope: Scope) -> bool:
    """Whether the run is over after :func:`begin`: the catalog is done and nothing is
    new or changed (the run-level outcome is then added)."""
    if not acquisition.catalog_done or acquisition.to_prepare:
        return False
    conclude(acquisition, scope, prepared_any=False)
    return True
