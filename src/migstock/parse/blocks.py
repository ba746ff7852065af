"""Year columns grouped under block titles: one block per sex (2020/2024 and totals
tables), or one per measure (the refugee table: stock, share of migrants)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from migstock.parse.cells import SEXES, SheetRef, row_texts, sex_of, year_of

_BLOCK_TITLE = re.compile(r"^(international migrant stock|total (\w+ )?population)", re.I)
_SEX_WORDS = {"total": "both sexes", "male": "males", "female": "females"}
#: a block title that ends the block before it without starting one of interest
SKIP = "skip"


def sex_block(label: str) -> str | None:
    """``total``, ``male`` or ``female`` for a title such as 'International migrant stock
    at mid-year, males'; None for any other cell."""
    return sex_of(label) if _BLOCK_TITLE.match(label) else None


@dataclass(frozen=True)
class YearColumn:
    col: int
    year: int
    #: the block the column is in: a sex, or a measure (see ``year_columns``)
    block: str


def year_row_of(grid: pd.DataFrame, ref: SheetRef, header: int) -> int:
    """The row with the years: the header row itself, or the row below it (2015-2019)."""
    if any(year_of(v) for v in grid.iloc[header].tolist()):
        return header
    if header + 1 >= len(grid):
        raise ref.error("the table ends before its year row", header, 0)
    return header + 1


def year_columns(
    grid: pd.DataFrame,
    ref: SheetRef,
    *,
    year_row: int,
    title_rows: range,
    expected_years: Sequence[int] | None = None,
    block_of: Callable[[str], str | None] = sex_block,
    blocks: Sequence[str] = SEXES,
    block_words: dict[str, str] | None = None,
) -> list[YearColumn]:
    """Each year column of ``year_row`` with the block title above it.

    A block title (``..., both sexes combined`` / ``(male)`` / ``females``, or
    whatever ``block_of`` recognises), on any row of ``title_rows`` (the nearest
    to the years wins), covers its own column and those to its right up to the
    next title; columns under a :data:`SKIP` title are left out. With
    ``expected_years`` (the revision's reference years), every one of ``blocks``
    must hold exactly those years: a deleted or extra year column is an error
    naming the block, never rows that quietly go missing.
    """
    words = block_words or _SEX_WORDS
    nearest: dict[int, tuple[str, int]] = {}  # col -> (block, row): the title nearest the years
    for row in title_rows:
        if 0 <= row < len(grid):
            for col, label in enumerate(row_texts(grid, row)):
                block = block_of(label) if label else None
                if block is not None:
                    nearest[col] = (block, row)
    titles = sorted((col, block, row) for col, (block, row) in nearest.items())
    columns: list[YearColumn] = []
    seen: dict[tuple[int, str], int] = {}
    for col, value in enumerate(grid.iloc[year_row].tolist()):
        year = year_of(value)
        if year is None:
            continue
        under = [block for start, block, _ in titles if start <= col]
        if not under:
            raise ref.error(
                f"year column {year} is under no block title naming "
                f"{', '.join(words[b] for b in blocks)}",
                year_row,
                col,
            )
        block = under[-1]
        if block == SKIP:
            continue
        key = (year, block)
        if key in seen:
            raise ref.error(
                f"year {year} appears twice in the {words[block]} block (block titles moved?)",
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
        columns.append(YearColumn(col, year, block))
    if not columns:
        raise ref.error("no year columns (1990, 1995, ...) in the header row", year_row, 0)
    if expected_years is not None:
        _check_complete(columns, titles, expected_years, ref, year_row, blocks, words)
    return columns


def _check_complete(
    columns: list[YearColumn],
    titles: list[tuple[int, str, int]],
    expected_years: Sequence[int],
    ref: SheetRef,
    year_row: int,
    blocks: Sequence[str],
    words: dict[str, str],
) -> None:
    """Every block present, each with every reference year."""
    for block in blocks:
        years = {c.year for c in columns if c.block == block}
        title = next(((row, col) for col, b, row in titles if b == block), None)
        if title is None:
            raise ref.error(
                f"no block of {words[block]} (a block title over its years)", year_row, 0
            )
        missing = [year for year in expected_years if year not in years]
        if missing:
            raise ref.error(
                f"the {words[block]} block has no column for {', '.join(map(str, missing))} "
                f"(this revision publishes {', '.join(map(str, expected_years))}); "
                "a year column was deleted or its header changed",
                *title,
            )
