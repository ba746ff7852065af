"""Progress reporting for long stages, shown by the CLI (rich) and silent elsewhere.

The flow calls :func:`stage` and :func:`download_progress`; the CLI installs a
:class:`RichReporter` for the duration of a run with :func:`reporting`.
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
        """A new stage started."""

    def download(self, name: str) -> None:
        """A download of ``name`` started."""

    def advance(self, done: int, total: int | None) -> None:
        """Bytes of the current download."""


class RichReporter(NullReporter):
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
