"""The ANNEX sheet of 2013-2019 workbooks: location names and their codes."""

from __future__ import annotations

import pandas as pd

from migstock.parse.cells import SheetRef, clean_name, row_texts
from migstock.parse.rows import parse_codes
from migstock.parse.sheets import CODE_LABEL, SheetInfo


def parse_annex(grid: pd.DataFrame, info: SheetInfo, ref: SheetRef) -> dict[str, int]:
    """Map each name in the annex to its code (first code column of the header)."""
    labels = row_texts(grid, info.header_row)
    code_col = next((c for c, label in enumerate(labels) if CODE_LABEL.search(label)), None)
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
