"""Year columns grouped under sex block titles (2020/2024 and totals tables)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from migstock.parse.cells import SheetRef, row_texts, sex_of, year_of

_BLOCK_TITLE = re.compile(r"^(international migrant stock|total (\w+ )?population)", re.I)


@dataclass(frozen=True)
class YearColumn:
    col: int
    year: int
    sex: str


def year_columns(
    grid: pd.DataFrame, ref: SheetRef, *, year_row: int, title_rows: range
) -> list[YearColumn]:
    """Each year column of ``year_row`` with the sex of the block title above it.

    A block title (``..., both sexes combined`` / ``(male)`` / ``females``)
    covers its own column and those to its right up to the next title.
    """
    titles: list[tuple[int, str]] = []
    for row in title_rows:
        if 0 <= row < len(grid):
            for col, label in enumerate(row_texts(grid, row)):
                sex = sex_of(label) if _BLOCK_TITLE.match(label) else None
                if sex is not None:
                    titles.append((col, sex))
    titles.sort()
    columns: list[YearColumn] = []
    seen: dict[tuple[int, str], int] = {}
    for col, value in enumerate(grid.iloc[year_row].tolist()):
        year = year_of(value)
        if year is None:
            continue
        block = [sex for start, sex in titles if start <= col]
        if not block:
            raise ref.error(
                f"year column {year} is under no block title naming both sexes, males or females",
                year_row,
                col,
            )
        key = (year, block[-1])
        if key in seen:
            raise ref.error(
                f"year {year} appears twice in the {block[-1]} block (block titles moved?)",
                year_row,
                col,
            )
        seen[key] = col
        columns.append(YearColumn(col, year, block[-1]))
    if not columns:
        raise ref.error("no year columns (1990, 1995, ...) in the header row", year_row, 0)
    return columns
