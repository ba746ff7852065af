"""Recognise what a sheet holds from its title block and header labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from migstock.parse.cells import SheetRef, find_cell, row_texts, title_texts

SheetKind = Literal["wide_origins", "long_rows", "destination_totals", "annex", "other"]
Measure = Literal["migrants", "population", "migrant_share"]

DESTINATION_LABEL = re.compile(r"country or area( of destination)?$", re.I)
ORIGIN_LABEL = re.compile(r"country or area of origin$", re.I)
CODE_LABEL = re.compile(r"^(country |location )?code$", re.I)
_TABLE_TITLE = re.compile(r"^Table\s+(\d+)\s*[.:\-\u2013]", re.I)
_REVISION_PATTERNS = (
    re.compile(r"Rev\.\s*((?:19|20)\d\d)\b"),
    re.compile(r"International Migrant Stock:?\s+(?:The\s+)?((?:19|20)\d\d)\b", re.I),
    re.compile(r"\b((?:19|20)\d\d) Revision\b", re.I),
)
_WIDE_TOTAL = {"total", "world"}
_MEASURES: tuple[tuple[re.Pattern[str], Measure | None], ...] = (
    (re.compile(r"female migrants as a percentage", re.I), None),
    (re.compile(r"rate of change|refugee", re.I), None),
    (re.compile(r"percentage of the total population", re.I), "migrant_share"),
    (re.compile(r"total population", re.I), "population"),
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


def classify_sheet(grid: pd.DataFrame, ref: SheetRef) -> SheetInfo:
    """Tell the layout of one sheet by the labels in it, never by its name."""
    header = find_cell(grid, DESTINATION_LABEL)
    if header is None:
        return SheetInfo("other")
    header_row, destination_col = header
    titles = title_texts(grid, header_row)
    revision = _revision(titles)
    table, title = _table_title(titles)
    common = {
        "header_row": header_row,
        "destination_col": destination_col,
        "revision": revision,
        "table": table,
        "title": title,
    }
    if any(t.upper().startswith("ANNEX") for t in titles):
        return SheetInfo("annex", **common)
    if any(ORIGIN_LABEL.search(label) for label in row_texts(grid, header_row)):
        return SheetInfo("long_rows", **common)
    for row in (header_row, header_row + 1):
        if row < len(grid):
            labels = row_texts(grid, row)[destination_col + 1 :]
            if any(label.casefold() in _WIDE_TOTAL for label in labels):
                return SheetInfo("wide_origins", **common)
    measure_text = " ".join([title, *row_texts(grid, header_row)])
    for pattern, measure in _MEASURES:
        if pattern.search(measure_text):
            if measure is None:
                return SheetInfo("other", **common)
            return SheetInfo("destination_totals", measure=measure, **common)
    return SheetInfo("other", **common)


def _revision(titles: list[str]) -> int | None:
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
