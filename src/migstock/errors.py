"""Exception types: every failure a user can cause names what to fix."""

from __future__ import annotations

from pathlib import Path


def printable(text: str) -> str:
    """``text`` safe for a one-line message: control characters (a newline or escape
    sequence in a file name), line separators and invisible format characters (bidi
    overrides) are written as ``repr`` writes them (``\\n``, ``\\x1b``, ``\\u202e``)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def where(path: Path | str, sheet: str | None = None, cell: str | None = None) -> str:
    """``file.xlsx, sheet 'Table 1', cell B12``: the start of every message about a cell,
    printable whatever the file and sheet are called."""
    place = Path(path).name
    if sheet is not None:
        place += f", sheet '{sheet}'"
    if cell is not None:
        place += f", cell {cell}"
    return printable(place)


class MigstockError(Exception):
    """Base class of every error migstock reports to the user without a traceback.

    Its message is always one printable line (see :func:`printable`)."""

    def __str__(self) -> str:
        return printable(super().__str__())


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
        super().__init__(f"{where(self.path, sheet, cell)}: {printable(problem)}")


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
