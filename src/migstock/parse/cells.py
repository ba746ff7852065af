"""Shared helpers for parsers: locating labels, naming cells, cleaning values."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from migstock.errors import InputError
from migstock.parse.names import normalise_name

_FOOTNOTE = re.compile(r"\s*(\*+|\([a-z]{1,2}\)|\s[a-z]\))$")
_SEPARATOR = re.compile(r"[ ,\u00a0\u2007\u2009\u202f]")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
#: thousands grouped by space, comma or narrow spaces: "231 522 215", "3,017,401"
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:([ ,\u00a0\u2007\u2009\u202f])\d{3})(?:\1\d{3})*(\.\d+)?$")
#: the cell conventions of the UN notes (2024 "Migrant notes" sheet)
NOT_AVAILABLE = {"..", "...", "\u2026", "n/a", "na"}  # not available or not reported
NIL = {"-", "\u2013", "\u2014"}  # zero, or rounded to zero (em dash)
SUPPRESSED = {"~"}  # protected for privacy: fewer than five


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
    name = normalise_name(text(value))
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


def row_texts(grid: pd.DataFrame, row: int) -> list[str]:
    return [text(value) for value in grid.iloc[row].tolist()]


def title_texts(grid: pd.DataFrame, last_row: int) -> list[str]:
    """All text cells above ``last_row``: the title block."""
    texts = []
    for row in range(min(last_row, len(grid))):
        texts.extend(value for value in row_texts(grid, row) if value)
    return texts


@dataclass
class Numbers:
    """Value cells as floats (NaN = not available) and where the UN suppressed them."""

    values: np.ndarray
    #: True where the cell read ``~`` (protected for privacy); None when no cell did
    suppressed: np.ndarray | None = None


def to_numbers(
    block: pd.DataFrame,
    ref: SheetRef,
    first_row: int,
    columns: list[int],
    *,
    blank: float,
    whole: bool = False,
) -> Numbers:
    """Clean a block of value cells into a float array (NaN = not available).

    Cells follow the UN's notes: ``..`` not available (NaN), ``-`` and ``—`` zero
    or rounded to zero (0), ``~`` suppressed for privacy (NaN, flagged in
    ``suppressed``); blanks become ``blank``. Thousands may be grouped by
    spaces or commas ("231 522 215"); a decimal comma ("12,5") is refused, never
    read as 125. With ``whole`` (counts of persons) a fraction is refused too.
    Any other text raises an :class:`InputError` naming its cell.
    """
    cells = block.to_numpy(dtype=object)
    suppressed = None
    try:
        numbers = cells.astype(np.float64)  # fast path: every cell is already a number
        _refuse_non_finite(cells.ravel(), numbers.ravel(), ref, first_row, columns)
    except (TypeError, ValueError):
        flat = cells.ravel()
        numbers = np.array(
            pd.to_numeric(pd.Series(flat), errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
        )
        _refuse_dates(flat, numbers, ref, first_row, columns, cells.shape[1])
        # a NaN here is text the loop below reads (``..``) or refuses (``nan``)
        _refuse_non_finite(flat, np.where(np.isnan(numbers), 0.0, numbers), ref, first_row, columns)
        todo = np.flatnonzero(np.isnan(numbers))
        if len(todo):
            originals = flat[todo]
            is_blank = pd.isna(originals) | (originals == "")
            numbers[todo[is_blank]] = blank
            width = cells.shape[1]
            for position in todo[~is_blank]:
                value = flat[position]
                if isinstance(value, str) and value.strip() in SUPPRESSED:
                    if suppressed is None:
                        suppressed = np.zeros(flat.shape, dtype=bool)
                    suppressed[position] = True
                    numbers[position] = np.nan
                    continue
                row, col = divmod(int(position), width)
                numbers[position] = _parse_text_number(
                    value, blank, ref, first_row + row, columns[col]
                )
        numbers = numbers.reshape(cells.shape)
        if suppressed is not None:
            suppressed = suppressed.reshape(cells.shape)
    if whole:
        require_whole(numbers, ref, range(first_row, first_row + len(numbers)), columns)
    return Numbers(numbers, suppressed)


#: pandas reads a date as nanoseconds since 1970 (about 6e17 for 1990): no count is that big
_DATE_LIKE = 1e15


def _refuse_dates(
    flat: np.ndarray,
    numbers: np.ndarray,
    ref: SheetRef,
    first_row: int,
    columns: list[int],
    width: int,
) -> None:
    """A date in a count cell is an error naming the cell, never a count of nanoseconds."""
    for position in np.flatnonzero(np.abs(numbers) > _DATE_LIKE):
        value = flat[position]
        if isinstance(value, (dt.date, dt.time, dt.timedelta, np.datetime64)):
            row, col = divmod(int(position), width)
            raise ref.error(
                f"expected a number, found a date ({value})", first_row + row, columns[col]
            )


def _refuse_non_finite(
    flat: np.ndarray, numbers: np.ndarray, ref: SheetRef, first_row: int, columns: list[int]
) -> None:
    """Text such as ``inf``, ``nan``, ``Infinity`` or ``1e400`` converts to a float that no
    count can be (an infinite count would be stored as -9,223,372,036,854,775,808): an
    error naming the cell. A blank float NaN (CSV blanks) is left to the caller."""
    width = len(columns)
    for position in np.flatnonzero(~np.isfinite(numbers)):
        value = flat[position]
        if isinstance(value, str) or np.isinf(numbers[position]):
            row, col = divmod(int(position), width)
            found = f"text {value!r}" if isinstance(value, str) else f"{value!r}"
            raise ref.error(
                f"expected a number, found {found} (not a finite number)",
                first_row + row,
                columns[col],
            )


def require_whole(
    values: np.ndarray, ref: SheetRef, rows: Sequence[int], columns: Sequence[int]
) -> None:
    """Counts of persons are whole numbers: a fraction is an error naming its cell.

    Float noise of the UN's formulas (38891.00000000001 in the 2019 workbook) is not
    a fraction. ``rows`` and ``columns``: the grid position of each row and column.
    """
    fractional = np.abs(values - np.round(values)) > 1e-6 * np.maximum(1.0, np.abs(values))
    if fractional.any():
        row, col = (int(i[0]) for i in np.nonzero(fractional))
        raise ref.error(
            f"expected a whole number of persons, found {values[row, col]:g}",
            int(rows[row]),
            int(columns[col]),
        )


def _parse_text_number(value: object, blank: float, ref: SheetRef, row: int, col: int) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return blank
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        raise ref.error(f"expected a number, found a date ({value})", row, col)
    raw = " ".join(str(value).split()) if str(value).strip() else ""
    if raw == "":
        return blank
    if raw.lower() in NOT_AVAILABLE:
        return np.nan
    if raw in NIL:
        return 0.0
    if _NUMBER.match(raw):
        return float(raw)
    if _GROUPED.match(raw):
        return float(_SEPARATOR.sub("", raw))
    hint = " (a decimal comma? decimals are written with a full stop)" if "," in raw else ""
    raise ref.error(f"expected a number, found text {raw!r}{hint}", row, col)


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
