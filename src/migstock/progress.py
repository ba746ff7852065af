"""Progress reporting for long stages: a rich display in the CLI, log lines elsewhere.

The pipeline calls :func:`stage` and :func:`download_progress`; the CLI installs a
:class:`RichReporter` for the duration of a run with :func:`reporting`, the Prefect
flow a reporter that writes each stage to the flow run's log (:func:`using`).
Otherwise each stage is an INFO line of the ``migstock`` logger.
"""

from __future__ import annotations

import contextlib
import logging
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

logger = logging.getLogger("migstock")


class NullReporter:
    def stage(self, text: str) -> None:
        """A new stage started."""
        logger.info(text)

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
def using(reporter: NullReporter) -> Iterator[None]:
    """Report the stages of the block to ``reporter``."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        _reporter = previous


@contextlib.contextmanager
def reporting(console: Console) -> Iterator[None]:
    """Show progress on ``console`` while the block runs (only if it is a terminal)."""
    if not console.is_terminal:
        yield
        return
    reporter = RichReporter(console)
    with using(reporter), reporter.progress:
        yield
        reporter.finish()
