"""A command-line run's head start: parsing and validation begun while Prefect starts.

A run's temporary Prefect server needs 3-10 s to answer (on a new Prefect database,
its migrations take most of that on one CPU), and the run's own imports are done
after about 3 s. A :class:`HeadStart`, begun by the command line before it waits for
the server, uses that time: it parses the files the run is going to parse (in a
thread of this process) and validates each revision (in the validation process),
and starts the data brief's process.

The flow stays what it is. It claims the head start (:func:`claim`); its tasks ask
it for a result before computing one, and take it only when it was computed from
exactly their inputs: the same file (path and sha256), the same files of a
revision, the same store version and the same run. Anything else is computed by
the task as usual, and a revision validated ahead but not taken is left out of the
run's Data Docs. An error is the task's error: it is raised where the task would
raise it. A served deployment (a lasting server) has no head start.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from migstock import settings, timings
from migstock.acquire import Action, Scope, loaded_files, scan_local
from migstock.acquire.provenance import RawFile
from migstock.brief.worker import BriefWorker
from migstock.catalog import revision
from migstock.pipeline import PreparedFile, group_by_revision, prepare_file, validate_revision
from migstock.report import RunReports
from migstock.validate.gx import ValidationReport
from migstock.validation_worker import RemoteValidator

T = TypeVar("T")
_current: HeadStart | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class _Validation:
    """A revision validated ahead, and what it was computed from."""

    files: tuple[PreparedFile, ...]
    store: str | None
    report: Future[ValidationReport]


class _Background:
    """One daemon thread that runs jobs in order. Unlike a ThreadPoolExecutor's, the
    process never waits for it at exit: a run that ends early (an error, Ctrl-C) does
    not first finish a parse or a validation nobody will use."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple] | None] = (
            queue.SimpleQueue()
        )
        self._stopped = threading.Event()
        threading.Thread(target=self._work, name="head-start", daemon=True).start()

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        if self._stopped.is_set():
            future.cancel()
        else:
            self._jobs.put((future, function, args))
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, function, args = job
            if self._stopped.is_set():
                future.cancel()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = function(*args)
            except BaseException as error:  # handed to whoever waits, as a task would
                future.set_exception(error)
            else:
                future.set_result(result)

    def stop(self) -> None:
        """Cancel the jobs not started (the one running, if any, runs to its end)."""
        self._stopped.set()
        with contextlib.suppress(queue.Empty):
            while (job := self._jobs.get_nowait()) is not None:
                job[0].cancel()
        self._jobs.put(None)  # the thread ends


def store_version(db_path: Path) -> str | None:
    """The published store version ``db_path`` reads (versions are never written into),
    or None when there is no store yet."""
    return os.path.realpath(db_path) if db_path.exists() else None


class HeadStart:
    """Parse what a run on ``db_path`` with ``scope`` will parse (``to_prepare``, or the
    new files of the scope's folder), then (``validate``) validate each revision the
    scope wants, in the background; (``brief``) start the data brief's process."""

    def __init__(
        self,
        db_path: Path,
        scope: Scope,
        to_prepare: list[RawFile] | None = None,
        *,
        validate: bool = True,
        brief: bool = True,
    ) -> None:
        self.db_path = Path(db_path)
        self.reports = RunReports(settings.validation_dir(self.db_path))
        self.brief_worker = BriefWorker() if brief else None
        self._validator: RemoteValidator | None = None
        self._validated: dict[int, _Validation] = {}
        self._thread = _Background()
        self._parsing = self._thread.submit(self._start_parsing, scope, to_prepare, validate)
        self._planned: Future[None] | None = None

    def _start_parsing(
        self, scope: Scope, to_prepare: list[RawFile] | None, validate: bool
    ) -> dict[tuple[str, str], Future[PreparedFile]]:
        """In the head start's thread: queue a parse of each file (and, after them, the
        validations); return the parses by file."""
        if to_prepare is None:
            local = scan_local(scope, loaded_files(self.db_path))
            to_prepare = [item.raw for item in local if item.action is Action.USE_LOCAL]
        parses = {_file_key(raw): self._thread.submit(_timed_prepare, raw) for raw in to_prepare}
        if validate:
            self._planned = self._thread.submit(
                self._plan_validations, list(parses.values()), scope.wants
            )
        return parses

    def _plan_validations(
        self, parses: list[Future[PreparedFile]], wanted: Callable[[int], bool]
    ) -> None:
        """In the head start's thread, once every file is parsed: queue the validation of
        each revision (the validation process works through them one after another)."""
        prepared = [future.result() for future in parses if future.exception() is None]
        groups = {n: files for n, files in group_by_revision(prepared).items() if wanted(n)}
        if not groups:
            return
        self._validator = RemoteValidator(docs_dir=self.reports.docs_dir)
        store = store_version(self.db_path)
        for number, files in groups.items():
            report = self._thread.submit(
                _timed_validate, self._validator, number, files, self.db_path, self.reports.run_id
            )
            self._validated[number] = _Validation(tuple(files), store, report)

    def prepared(self, raw: RawFile) -> PreparedFile:
        """``raw`` parsed: by the head start if it parsed this very file, else now.
        Raises what parsing raised."""
        future = self._parses().get(_file_key(raw))
        return future.result() if future is not None else prepare_file(raw)

    def _parses(self) -> dict[tuple[str, str], Future[PreparedFile]]:
        """The parses begun (none if even listing the files failed: the flow will say why)."""
        return {} if self._parsing.exception() is not None else self._parsing.result()

    def validator(self) -> RemoteValidator | None:
        """The validator the head start validated with (None if it validated nothing):
        the flow uses it too, so that one Data Docs build shows the results it took."""
        self._parses()  # queues the validations, if any
        if self._planned is None or self._planned.exception() is not None:
            return None
        return self._validator

    def validation(
        self,
        validator: object,
        number: int,
        files: list[PreparedFile],
        db_path: Path,
        run_name: str | None,
    ) -> ValidationReport | None:
        """The report validated ahead from exactly these arguments, or None (then the
        task validates). Raises what that validation raised."""
        if validator is None or validator is not self.validator():
            return None
        ahead = self._validated.pop(number, None)
        if ahead is None:
            return None
        if (
            run_name != self.reports.run_id
            or Path(db_path) != self.db_path
            or len(ahead.files) != len(files)
            or any(mine is not theirs for mine, theirs in zip(ahead.files, files, strict=True))
            or ahead.store != store_version(self.db_path)
        ):
            self._discard(number, ahead)
            return None
        return ahead.report.result()

    def discard_untaken(self) -> None:
        """Leave the revisions validated ahead that the flow did not take out of the Data
        Docs (call it after the flow's validations, before the Data Docs build)."""
        if self._planned is None or self._planned.exception() is not None:
            return
        for number in list(self._validated):
            self._discard(number, self._validated.pop(number))

    def _discard(self, number: int, ahead: _Validation) -> None:
        """Wait for an unused validation to end, then drop its results from Data Docs."""
        with contextlib.suppress(BaseException):
            ahead.report.exception()  # the validation process does one thing at a time
        if self._validator is not None:
            self._validator.forget(number)

    def close(self) -> None:
        """Cancel the work not started, and let the brief's process exit (after the flow:
        it used the process, or did not need it)."""
        self._thread.stop()
        if self.brief_worker is not None:
            self.brief_worker.close()


def _file_key(raw: RawFile) -> tuple[str, str]:
    return (str(raw.path), raw.sha256)


def _timed_prepare(raw: RawFile) -> PreparedFile:
    with timings.stage("head start: read + parse"):
        return prepare_file(raw)


def _timed_validate(
    validator: RemoteValidator, number: int, files: list[PreparedFile], db_path: Path, run: str
) -> ValidationReport:
    with timings.stage("head start: validate"):
        return validate_revision(validator, revision(number), files, db_path, run)


def begin(head_start: HeadStart) -> HeadStart:
    """Make ``head_start`` the one the next flow run of this process claims."""
    global _current
    with _lock:
        previous, _current = _current, head_start
    if previous is not None:
        previous.close()
    return head_start


def claim(db_path: Path) -> HeadStart | None:
    """The head start begun for a run on ``db_path`` (once: a second claim gets None)."""
    global _current
    with _lock:
        head_start, _current = _current, None
    if head_start is not None and head_start.db_path != Path(db_path):
        head_start.close()
        return None
    return head_start
