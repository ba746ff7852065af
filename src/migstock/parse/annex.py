"""The ANNEX sheet of 2013-2019 workbooks: location names and their codes."""

from __future__ import annotations

import pandas as pd

from migstock.parse.cells import SheetRef, clean_name
from migstock.parse.labels import find_label
from migstock.parse.rows import parse_codes
from migstock.parse.sheets import SheetInfo


def parse_annex(grid: pd.DataFrame, info: SheetInfo, ref: SheetRef) -> dict[str, int]:
    """Map each name in the annex to its code (first code column of the header)."""
    code_col = find_label(grid.iloc[info.header_row].tolist(), "destination_code")
    if code_col is None:
        return {}
    first = info.header_row + 1
    codes = parse_codes(grid.iloc[first:, code_col], ref, first, code_col)
    names = grid.iloc[first:, info.destination_col].tolist()
    return {
        clean_name(name): int(code)
        for name, code in zip(names, codes.tolist(), strict=True)
        if code == code and clean_name(name)
    }
