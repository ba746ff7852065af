"""Progress reporting for long stages: a rich display in the CLI, log lines elsewhere.

The flow calls :func:`stage` and :func:`download_progress`; the CLI installs a
:class:`RichReporter` for the duration of a run with :func:`reporting`. Outside
the CLI (a served deployment, a worker) each stage is an INFO line of the Prefect
run's log, so the UI shows the steps of scheduled runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class NullReporter:
    def stage(self, text: str) -> None:
        """A new stage started: an INFO line in the current Prefect run's log, if any."""
        from prefect import get_run_logger
        from prefect.exceptions import MissingContextError

        with contextlib.suppress(MissingContextError):
            get_run_logger().info(text)

    def download(self, name: str) -> None:
        """A download of ``name`` started."""

    def advance(self, done: int, total: int | None) -> None:
        """Bytes of the current download."""


class RichReporter(NullReporter):  # shows stages instead of logging them
    """Spinner per stage and a byte bar per download, on the given console."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._stage: TaskID | None = None
        self._download: TaskID | None = None

    def stage(self, text: str) -> None:
        if self._stage is not None:
            self.progress.update(self._stage, completed=1, total=1)
        self._stage = self.progress.add_task(text, total=None, detail="")

    def download(self, name: str) -> None:
        self._download = self.progress.add_task(f"download {name}", total=None, detail="")

    def advance(self, done: int, total: int | None) -> None:
        if self._download is not None:
            detail = decimal(done) + (f" of {decimal(total)}" if total else "")
            self.progress.update(self._download, completed=done, total=total, detail=detail)

    def finish(self) -> None:
        if self._stage is not None:
            self.progress.update(self._stage, completed=1, total=1)


_reporter: NullReporter = NullReporter()


def stage(text: str) -> None:
    _reporter.stage(text)


def download_started(name: str) -> None:
    _reporter.download(name)


def download_progress(done: int, total: int | None) -> None:
    _reporter.advance(done, total)


@contextlib.contextmanager
def reporting(console: Console) -> Iterator[None]:
    """Show progress on ``console`` while the block runs (only if it is a terminal)."""
    global _reporter
    if not console.is_terminal:
        yield
        return
    reporter = RichReporter(console)
    _reporter = reporter
    try:
        with reporter.progress:
            yield
            reporter.finish()
    finally:
        _reporter = NullReporter()
