"""2020/2024 bilateral Table 1: one row per destination x origin, with
years x sex as column blocks under block titles (both sexes, males, females).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from migstock.parse.blocks import year_columns
from migstock.parse.cells import SEXES, SheetRef, clean_names
from migstock.parse.labels import LabelName, find_label
from migstock.parse.notes import destination_annotations
from migstock.parse.rows import BLANK_IS_MISSING, drop_repeated_rows, parse_codes, read_data_rows
from migstock.parse.sheets import SheetInfo


def parse_long_rows(
    grid: pd.DataFrame, info: SheetInfo, ref: SheetRef, revision_years: Sequence[int] | None = None
) -> pd.DataFrame:
    """Tidy rows: year, destination_code, origin_label, origin_code, sex, migrants,
    suppressed, source_row. ``revision_years``: every sex block must hold these years."""
    header = info.header_row
    labels = grid.iloc[header].tolist()
    destination_code_col = _col(labels, "destination_code", ref, header, "Location code")
    origin_col = _col(labels, "origin", ref, header, "country or area of origin")
    origin_code_col = _col(labels, "origin_code", ref, header, "Location code of origin")
    years = year_columns(
        grid,
        ref,
        year_row=header,
        title_rows=range(header),
        expected_years=revision_years,
    )
    value_cols = [c.col for c in years]
    data = read_data_rows(
        grid,
        ref,
        first_row=header + 1,
        code_col=destination_code_col,
        name_col=info.destination_col,
        value_cols=value_cols,
        blank=BLANK_IS_MISSING,
        whole=True,
    )
    body = grid.iloc[header + 1 :]
    kept = data.rows - (header + 1)
    origin_codes = parse_codes(body.iloc[:, origin_code_col], ref, header + 1, origin_code_col)[
        kept
    ]
    origin_names = clean_names(body.iloc[kept, origin_col].tolist())
    keys = pd.DataFrame({"destination_code": data.codes, "origin": origin_names})
    data, keep = drop_repeated_rows(data, keys, ref, origin_col, "destination and origin row")
    origin_codes = origin_codes[keep]
    origin_names = [name for name, kept in zip(origin_names, keep, strict=True) if kept]

    n_rows, n_cols = data.values.shape
    repeated_codes = np.repeat(origin_codes, n_cols)
    categories = pd.Categorical(origin_names)
    frame = pd.DataFrame(
        {
            "year": np.tile([c.year for c in years], n_rows),
            "destination_code": np.repeat(data.codes, n_cols),
            "origin_label": pd.Categorical.from_codes(
                np.repeat(categories.codes, n_cols), categories=categories.categories
            ),
            "origin_code": pd.arrays.IntegerArray(
                np.nan_to_num(repeated_codes).astype(np.int64), np.isnan(repeated_codes)
            ),
            "sex": pd.Categorical.from_codes(
                np.tile([SEXES.index(c.block) for c in years], n_rows), categories=SEXES
            ),
            "migrants": data.values.reshape(-1),
            "suppressed": data.suppressed_flat(),
            "source_row": np.repeat(data.rows + 1, n_cols),
        }
    )
    frame.attrs["destination_names"] = dict(zip(data.codes.tolist(), data.names, strict=True))
    frame.attrs["data_types"], frame.attrs["note_refs"] = destination_annotations(
        grid, labels, data.rows, data.codes
    )
    frame.attrs["origin_names"] = {
        int(code): name
        for code, name in zip(origin_codes.tolist(), origin_names, strict=True)
        if code == code
    }
    return frame


def _col(labels: list[object], name: LabelName, ref: SheetRef, row: int, what: str) -> int:
    col = find_label(labels, name)
    if col is None:
        raise ref.error(f"header row has no '{what}' column", row, 0)
    return col
