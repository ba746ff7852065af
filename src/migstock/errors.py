"""Exception types: every failure a user can cause names what to fix."""

from __future__ import annotations

from pathlib import Path


class MigstockError(Exception):
    """Base class of every error migstock reports to the user without a traceback."""


class InputError(MigstockError):
    """A raw file cannot be used: wrong format, changed layout, bad value.

    The message always names the file, and the sheet and cell when known.
    """

    def __init__(
        self,
        path: Path | str,
        problem: str,
        *,
        sheet: str | None = None,
        cell: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.sheet = sheet
        self.cell = cell
        self.problem = problem
        where = self.path.name
        if sheet is not None:
            where += f", sheet '{sheet}'"
        if cell is not None:
            where += f", cell {cell}"
        super().__init__(f"{where}: {problem}")


class FetchError(MigstockError):
    """A raw file could not be downloaded.

    ``transient`` errors (no connection, timeout, broken transfer) may succeed
    if tried again later; an HTTP 404 or an HTML page instead of a workbook won't.
    """

    def __init__(self, message: str, *, transient: bool = False, unreachable: bool = False) -> None:
        super().__init__(message)
        self.transient = transient or unreachable
        #: no connection to the host at all: other files from it will fail too
        self.unreachable = unreachable


class ValidationFailed(MigstockError):
    """A blocking expectation failed: the revision was not loaded."""


class StoreError(MigstockError):
    """The curated store could not be written (locked, unwritable, ...)."""
