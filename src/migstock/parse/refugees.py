"""The refugee table of the 2015-2020 destination-totals workbooks (Table 6):
per destination and year, the estimated refugee stock (including asylum seekers,
both sexes) and refugees as a percentage of the international migrant stock.
A third block, the annual rate of change, is left out (it is derived)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from migstock.parse.blocks import SKIP, year_columns, year_row_of
from migstock.parse.cells import SheetRef, require_whole
from migstock.parse.labels import find_label
from migstock.parse.rows import BLANK_IS_MISSING, drop_repeated_rows, read_data_rows
from migstock.parse.sheets import SheetInfo

REFUGEES, SHARE = "refugees", "refugee_share"
_WORDS = {REFUGEES: "refugee stock", SHARE: "refugees as a percentage of migrants"}
_RATE = re.compile(r"rate of change", re.I)
_SHARE = re.compile(r"percentage of the international migrant stock", re.I)
_STOCK = re.compile(r"refugee", re.I)


def refugee_block(label: str) -> str | None:
    """Which block a title cell of Table 6 opens."""
    if _RATE.search(label):
        return SKIP
    if _SHARE.search(label):
        return SHARE
    if _STOCK.search(label):
        return REFUGEES
    return None


def parse_refugees(
    grid: pd.DataFrame, info: SheetInfo, ref: SheetRef, years: Sequence[int] | None = None
) -> pd.DataFrame:
    """Tidy rows: year, destination_code, refugees, refugee_share, source_row."""
    header = info.header_row
    labels = grid.iloc[header].tolist()
    year_row = year_row_of(grid, ref, header)
    columns = year_columns(
        grid,
        ref,
        year_row=year_row,
        title_rows=range(year_row),
        expected_years=years,
        block_of=refugee_block,
        blocks=(REFUGEES, SHARE),
        block_words=_WORDS,
    )
    code_col = find_label(labels, "destination_code")
    if code_col is None:
        raise ref.error("header row has no 'Code' or 'Location code' column", header, 0)
    data = read_data_rows(
        grid,
        ref,
        first_row=year_row + 1,
        code_col=code_col,
        name_col=info.destination_col,
        value_cols=[c.col for c in columns],
        blank=BLANK_IS_MISSING,
    )
    keys = pd.DataFrame({"destination_code": data.codes})
    data, _ = drop_repeated_rows(data, keys, ref, code_col, "destination row")
    stock = [i for i, c in enumerate(columns) if c.block == REFUGEES]
    share = {columns[i].year: i for i, c in enumerate(columns) if c.block == SHARE}
    require_whole(data.values[:, stock], ref, data.rows, [columns[i].col for i in stock])
    n_rows = len(data.rows)
    stock_years = [columns[i].year for i in stock]
    frame = pd.DataFrame(
        {
            "year": np.tile(stock_years, n_rows),
            "destination_code": np.repeat(data.codes, len(stock)),
            "refugees": data.values[:, stock].reshape(-1),
            "refugee_share": data.values[:, [share[y] for y in stock_years]].reshape(-1),
            "source_row": np.repeat(data.rows + 1, len(stock)),
        }
    )
    frame.attrs["destination_names"] = dict(zip(data.codes.tolist(), data.names, strict=True))
    return frame
