"""Destination-totals tables (all revisions): one row per destination, years
x sex as column blocks. Table 1 is the migrant stock; Tables 2 and 3 give the
total population (thousands) and migrants as a percentage of it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from migstock.parse.blocks import year_columns
from migstock.parse.cells import SheetRef, row_texts, year_of
from migstock.parse.rows import BLANK_IS_MISSING, drop_repeated_rows, read_data_rows
from migstock.parse.sheets import CODE_LABEL, SheetInfo


def parse_destination_totals(grid: pd.DataFrame, info: SheetInfo, ref: SheetRef) -> pd.DataFrame:
    """Tidy rows: year, destination_code, sex, value, source_row (``info.measure`` says what)."""
    header = info.header_row
    labels = row_texts(grid, header)
    code_col = next((c for c, label in enumerate(labels) if CODE_LABEL.search(label)), None)
    if code_col is None:
        raise ref.error("header row has no 'Code' or 'Location code' column", header, 0)
    has_years = any(year_of(v) for v in grid.iloc[header].tolist())
    year_row = header if has_years else header + 1
    if year_row >= len(grid):
        raise ref.error("the table ends before its year row", header, 0)
    years = year_columns(grid, ref, year_row=year_row, title_rows=range(header - 4, year_row))
    data = read_data_rows(
        grid,
        ref,
        first_row=year_row + 1,
        code_col=code_col,
        name_col=info.destination_col,
        value_cols=[c.col for c in years],
        blank=BLANK_IS_MISSING,
    )
    keys = pd.DataFrame({"destination_code": data.codes})
    data, _ = drop_repeated_rows(data, keys, ref, code_col, "destination row")
    n_rows, n_cols = data.values.shape
    frame = pd.DataFrame(
        {
            "year": np.tile([c.year for c in years], n_rows),
            "destination_code": np.repeat(data.codes, n_cols),
            "sex": np.tile([c.sex for c in years], n_rows),
            "value": data.values.reshape(-1),
            "source_row": np.repeat(data.rows + 1, n_cols),
        }
    )
    frame.attrs["destination_names"] = dict(zip(data.codes.tolist(), data.names, strict=True))
    return frame
