"""Year columns grouped under sex block titles (2020/2024 and totals tables)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from migstock.parse.cells import SEXES, SheetRef, row_texts, sex_of, year_of

_BLOCK_TITLE = re.compile(r"^(international migrant stock|total (\w+ )?population)", re.I)
_SEX_WORDS = {"total": "both sexes", "male": "males", "female": "females"}


@dataclass(frozen=True)
class YearColumn:
    col: int
    year: int
    sex: str


def year_columns(
    grid: pd.DataFrame,
    ref: SheetRef,
    *,
    year_row: int,
    title_rows: range,
    expected_years: Sequence[int] | None = None,
) -> list[YearColumn]:
    """Each year column of ``year_row`` with the sex of the block title above it.

    A block title (``..., both sexes combined`` / ``(male)`` / ``females``), on
    any row of ``title_rows`` (the nearest to the years wins), covers its own
    column and those to its right up to the next title. With
    ``expected_years`` (the revision's reference years), every sex block must
    hold exactly those years: a deleted or extra year column is an error naming
    the block, never rows that quietly go missing.
    """
    nearest: dict[int, tuple[str, int]] = {}  # col -> (sex, row): the title nearest the years
    for row in title_rows:
        if 0 <= row < len(grid):
            for col, label in enumerate(row_texts(grid, row)):
                sex = sex_of(label) if _BLOCK_TITLE.match(label) else None
                if sex is not None:
                    nearest[col] = (sex, row)
    titles = sorted((col, sex, row) for col, (sex, row) in nearest.items())
    columns: list[YearColumn] = []
    seen: dict[tuple[int, str], int] = {}
    for col, value in enumerate(grid.iloc[year_row].tolist()):
        year = year_of(value)
        if year is None:
            continue
        block = [sex for start, sex, _ in titles if start <= col]
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
        if expected_years is not None and year not in expected_years:
            raise ref.error(
                f"year {year} is not a reference year of this revision "
                f"({', '.join(map(str, expected_years))})",
                year_row,
                col,
            )
        seen[key] = col
        columns.append(YearColumn(col, year, block[-1]))
    if not columns:
        raise ref.error("no year columns (1990, 1995, ...) in the header row", year_row, 0)
    if expected_years is not None:
        _check_complete(columns, titles, expected_years, ref, year_row)
    return columns


def _check_complete(
    columns: list[YearColumn],
    titles: list[tuple[int, str, int]],
    expected_years: Sequence[int],
    ref: SheetRef,
    year_row: int,
) -> None:
    """Every sex block present, each with every reference year."""
    for sex in SEXES:
        years = {c.year for c in columns if c.sex == sex}
        title = next(((row, col) for col, s, row in titles if s == sex), None)
        if title is None:
            raise ref.error(
                f"no block of {_SEX_WORDS[sex]} (a block title such as 'International migrant "
                f"stock at mid-year, {_SEX_WORDS[sex]}' over its years)",
                year_row,
                0,
            )
        missing = [year for year in expected_years if year not in years]
        if missing:
            raise ref.error(
                f"the {_SEX_WORDS[sex]} block has no column for {', '.join(map(str, missing))} "
                f"(this revision publishes {', '.join(map(str, expected_years))}); "
                "a year column was deleted or its header changed",
                *title,
            )
