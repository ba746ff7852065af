"""Recognise what a sheet holds from its title block and header labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from migstock.parse.cells import SheetRef, row_texts, title_texts
from migstock.parse.labels import LABELS, find_label, is_age_band, normalize_label
from migstock.parse.notes import is_notes_sheet

SheetKind = Literal[
    "wide_origins", "long_rows", "destination_totals", "age", "annex", "notes", "other"
]
Measure = Literal["migrants", "population", "migrant_share", "refugees"]

#: how far down a sheet its header row may be
HEADER_SEARCH_ROWS = 60
_TABLE_TITLE = re.compile(r"^Table\s+(\d+)\s*[.:\-\u2013]", re.I)
_REVISION_PATTERNS = (
    re.compile(r"Rev\.\s*((?:19|20)\d\d)\b"),
    re.compile(r"International Migrant Stock:?\s+(?:The\s+)?((?:19|20)\d\d)\b", re.I),
    re.compile(r"\b((?:19|20)\d\d) Revision\b", re.I),
)
_MEASURES: tuple[tuple[re.Pattern[str], Measure | None], ...] = (
    (re.compile(r"female migrants as a percentage", re.I), None),
    (re.compile(r"median age", re.I), None),
    (re.compile(r"refugee", re.I), "refugees"),
    (re.compile(r"rate of change", re.I), None),
    (re.compile(r"percentage of the total population", re.I), "migrant_share"),
    (re.compile(r"total (\w+ )?population", re.I), "population"),
    (re.compile(r"international migrant stock at mid-year", re.I), "migrants"),
)


@dataclass(frozen=True)
class SheetInfo:
    """What a sheet holds, read from its own cells."""

    kind: SheetKind
    header_row: int = -1
    destination_col: int = -1
    revision: int | None = None
    table: int | None = None
    title: str = ""
    measure: Measure | None = None


def find_header(grid: pd.DataFrame) -> tuple[int, int] | None:
    """(row, col) of the destination label ("... country or area (of destination)")."""
    pattern = LABELS["destination"]
    for row in range(min(len(grid), HEADER_SEARCH_ROWS)):
        for col, value in enumerate(grid.iloc[row].tolist()):
            if isinstance(value, str) and pattern.match(normalize_label(value)):
                return row, col
    return None


def classify_sheet(grid: pd.DataFrame, ref: SheetRef) -> SheetInfo:
    """Tell the layout of one sheet by the labels in it, never by its name or position.

    - long rows: the header row has an origin-name and an origin-code column;
    - wide origins: a ``Total`` (or ``World``) origin column right of the destination
      label, on the header row or the row below (a label such as "Country or area of
      origin" may span the origins above their names);
    - destination totals: year blocks under a title naming the measure.
    """
    header = find_header(grid)
    if header is None:
        return SheetInfo("notes") if is_notes_sheet(grid) else SheetInfo("other")
    header_row, destination_col = header
    titles = title_texts(grid, header_row)
    table, title = _table_title(titles)
    common = {
        "header_row": header_row,
        "destination_col": destination_col,
        "revision": revision_in(titles),
        "table": table,
        "title": title,
    }
    if any(t.upper().startswith("ANNEX") for t in titles):
        return SheetInfo("annex", **common)
    if age_band_row(grid, header_row) is not None:
        measure_text = " ".join([title, *row_texts(grid, header_row)]) if title else titles
        return SheetInfo("age", measure=_age_measure(measure_text), **common)
    labels = grid.iloc[header_row].tolist()
    if find_label(labels, "origin") is not None and find_label(labels, "origin_code") is not None:
        return SheetInfo("long_rows", **common)
    for row in (header_row, header_row + 1):
        if row < len(grid):
            cells = grid.iloc[row].tolist()
            if find_label(cells, "total_origin", destination_col + 1) is not None:
                return SheetInfo("wide_origins", **common)
    measure_text = " ".join([title, *row_texts(grid, header_row)])
    for pattern, measure in _MEASURES:
        if pattern.search(measure_text):
            if measure is None:
                return SheetInfo("other", **common)
            return SheetInfo("destination_totals", measure=measure, **common)
    return SheetInfo("other", **common)


#: an age table's header: at least this many of the UN's age bands on one row
_MIN_AGE_BANDS = 3
#: what an age table holds, from its title: derived tables (percentages, distributions,
#: medians) are not read
_AGE_MEASURES: tuple[tuple[re.Pattern[str], Measure | None], ...] = (
    (re.compile(r"percentage|per ?cent|distribution|median|ratio|rate of change", re.I), None),
    (re.compile(r"total (\w+ )?population", re.I), "population"),
    (re.compile(r"international migrant stock|migrants", re.I), "migrants"),
)


def age_band_row(grid: pd.DataFrame, header_row: int) -> int | None:
    """The row of an age table's band labels (``0-4``, ``5-9``, ... ``75+``): the header row
    itself (2020) or the row below it (2015-2019); None for a table without age bands."""
    for row in (header_row, header_row + 1):
        if row < len(grid) and sum(map(is_age_band, grid.iloc[row].tolist())) >= _MIN_AGE_BANDS:
            return row
    return None


def _age_measure(text: str | list[str]) -> Measure | None:
    texts = [text] if isinstance(text, str) else text
    for pattern, measure in _AGE_MEASURES:
        if any(pattern.search(t) for t in texts):
            return measure
    return None


def revision_in(titles: list[str]) -> int | None:
    """The revision a title block names ("Rev.2015", "International Migrant Stock 2020")."""
    for pattern in _REVISION_PATTERNS:
        for title in titles:
            match = pattern.search(title)
            if match:
                return int(match.group(1))
    return None


def _table_title(titles: list[str]) -> tuple[int | None, str]:
    for title in titles:
        match = _TABLE_TITLE.match(title)
        if match:
            return int(match.group(1)), title
    return None, ""
