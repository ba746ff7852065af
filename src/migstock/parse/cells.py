"""Shared helpers for parsers: locating labels, naming cells, cleaning values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from migstock.errors import InputError

_FOOTNOTE = re.compile(r"\s*(\*+|\([a-z]{1,2}\)|\s[a-z]\))$")
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f,]+")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
NOT_AVAILABLE = {"..", "...", "n/a", "na"}
NIL = {"-", "\u2013", "\u2014"}


def cell_ref(row: int, col: int) -> str:
    """Excel A1 reference of a 0-based grid position."""
    return xl_rowcol_to_cell(row, col)


def text(value: object) -> str:
    """A cell as stripped text ('' for blanks)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def clean_name(value: object) -> str:
    """A location name without footnote markers: ``France*`` and ``Sudan (b)`` lose them."""
    name = text(value)
    while True:
        stripped = _FOOTNOTE.sub("", name)
        if stripped == name:
            return name
        name = stripped


def clean_names(values: list[object]) -> list[str]:
    """``clean_name`` of many cells, each distinct value cleaned once (names repeat a lot)."""
    cleaned = {value: clean_name(value) for value in set(values)}
    return [cleaned[value] for value in values]


@dataclass(frozen=True)
class SheetRef:
    """Where a grid came from, to name it in errors."""

    path: Path
    sheet: str

    def error(self, problem: str, row: int | None = None, col: int | None = None) -> InputError:
        cell = cell_ref(row, col) if row is not None and col is not None else None
        return InputError(self.path, problem, sheet=self.sheet, cell=cell)


def find_cell(
    grid: pd.DataFrame, pattern: re.Pattern[str], rows: Iterable[int] | None = None
) -> tuple[int, int] | None:
    """First (row, col) whose text matches ``pattern`` (searching row by row)."""
    search_rows = range(min(len(grid), 60)) if rows is None else rows
    for row in search_rows:
        if row < 0 or row >= len(grid):
            continue
        for col, value in enumerate(grid.iloc[row].tolist()):
            if isinstance(value, str) and pattern.search(" ".join(value.split())):
                return row, col
    return None


def row_texts(grid: pd.DataFrame, row: int) -> list[str]:
    return [text(value) for value in grid.iloc[row].tolist()]


def title_texts(grid: pd.DataFrame, last_row: int) -> list[str]:
    """All text cells above ``last_row``: the title block."""
    texts = []
    for row in range(min(last_row, len(grid))):
        texts.extend(value for value in row_texts(grid, row) if value)
    return texts


def to_numbers(
    block: pd.DataFrame, ref: SheetRef, first_row: int, columns: list[int], *, blank: float
) -> np.ndarray:
    """Clean a block of value cells into a float array (NaN = not available).

    ``..`` is not available, ``-`` is nil (0), blanks become ``blank``; spaces,
    commas and non-breaking spaces inside numbers are thousands separators.
    Any other text raises an :class:`InputError` naming its cell.
    """
    cells = block.to_numpy(dtype=object)
    try:
        return cells.astype(np.float64)  # fast path: every cell is already a number
    except (TypeError, ValueError):
        pass
    flat = cells.ravel()
    numbers = np.array(
        pd.to_numeric(pd.Series(flat), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    )
    todo = np.flatnonzero(np.isnan(numbers))
    if len(todo):
        originals = flat[todo]
        is_blank = pd.isna(originals) | (originals == "")
        numbers[todo[is_blank]] = blank
        rest = todo[~is_blank]
        width = cells.shape[1]
        for position in rest:
            row, col = divmod(int(position), width)
            numbers[position] = _parse_text_number(
                flat[position], blank, ref, first_row + row, columns[col]
            )
    return numbers.reshape(cells.shape)


def _parse_text_number(value: object, blank: float, ref: SheetRef, row: int, col: int) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return blank
    if isinstance(value, (int, float)):
        return float(value)
    raw = str(value).strip()
    if raw == "":
        return blank
    if raw.lower() in NOT_AVAILABLE:
        return np.nan
    if raw in NIL:
        return 0.0
    compact = _SPACES.sub("", raw)
    if _NUMBER.match(compact):
        return float(compact)
    raise ref.error(f"expected a number, found text {raw!r}", row, col)


def year_of(value: object) -> int | None:
    """The year a header cell names (1990, '1990', 1990.0), else None."""
    label = text(value)
    if re.fullmatch(r"(19|20)\d\d", label):
        return int(label)
    return None


#: the categories of every ``sex`` column, in this order
SEXES = ["total", "male", "female"]

_SEX_PATTERNS = (
    (re.compile(r"\bfemales?\b", re.I), "female"),
    (re.compile(r"\bmales?\b", re.I), "male"),
    (re.compile(r"\bboth sexes\b|\btotal\b", re.I), "total"),
)


def sex_of(label: str) -> str | None:
    """``total``, ``male`` or ``female`` from a title or block label."""
    for pattern, sex in _SEX_PATTERNS:
        if pattern.search(label):
            return sex
    return None
