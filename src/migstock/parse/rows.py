"""Pull the data rows of a table out of a grid: codes, names and value cells."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from migstock.parse.cells import SheetRef, clean_names, to_numbers

BLANK_IS_ZERO = 0.0
BLANK_IS_MISSING = np.nan


@dataclass
class DataRows:
    """The data rows of one table, in sheet order."""

    rows: np.ndarray  # 0-based grid rows
    codes: np.ndarray  # int64 location codes of the row's location
    names: list[str]  # cleaned names as published
    values: np.ndarray  # float64, shape (len(rows), len(value_cols)); NaN = not available
    #: like ``values``: True where the cell was suppressed for privacy (``~``); None if none
    suppressed: np.ndarray | None = None

    def suppressed_flat(self) -> np.ndarray:
        """``suppressed`` row by row, as long as ``values.reshape(-1)``."""
        if self.suppressed is None:
            return np.zeros(self.values.size, dtype=bool)
        return self.suppressed.reshape(-1)


def parse_codes(column: pd.Series, ref: SheetRef, first_row: int, col: int) -> np.ndarray:
    """Location codes as floats (NaN where blank); text or fractions raise."""
    codes = np.array(
        pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    )
    originals = column.to_numpy(dtype=object)
    for i in np.flatnonzero(np.isnan(codes)):
        value = originals[i]
        label = "" if value is None or value != value else str(value).strip()
        if label:
            raise ref.error(
                f"expected a numeric location code, found {label!r}", first_row + i, col
            )
    infinite = np.isinf(codes)
    if infinite.any():  # text "inf" or "1e400": never a code, never cast to an integer
        i = int(np.flatnonzero(infinite)[0])
        raise ref.error(f"location code {originals[i]!r} is not a number", first_row + i, col)
    fractional = ~np.isnan(codes) & (codes != np.round(codes))
    if fractional.any():
        i = int(np.flatnonzero(fractional)[0])
        raise ref.error(f"location code {codes[i]} is not a whole number", first_row + i, col)
    return codes


def read_data_rows(
    grid: pd.DataFrame,
    ref: SheetRef,
    *,
    first_row: int,
    code_col: int,
    name_col: int,
    value_cols: list[int],
    blank: float,
    whole: bool = False,
) -> DataRows:
    """Rows below the header that carry a location code (or, for tables published
    without codes, a row index: ``code_col`` is then the index column).

    Rows without a code are section titles or footnotes: they are skipped when
    they hold no value, and are an error when they do (a code was lost).
    ``whole``: the values are counts of persons, a fraction is an error.
    """
    body = grid.iloc[first_row:]
    codes = parse_codes(body.iloc[:, code_col], ref, first_row, code_col)
    numbers = to_numbers(
        body.iloc[:, value_cols], ref, first_row, value_cols, blank=blank, whole=whole
    )
    values = numbers.values
    no_code = np.isnan(codes)
    for i in np.flatnonzero(no_code):
        cells = body.iloc[i, value_cols]
        if any(str(v).strip() not in ("", "..") for v in cells.dropna()):
            raise ref.error("this row holds values but no location code", first_row + i, code_col)
    keep = ~no_code
    rows = np.arange(first_row, len(grid))[keep]
    names = clean_names(body.iloc[:, name_col].to_numpy(dtype=object)[keep].tolist())
    suppressed = None if numbers.suppressed is None else numbers.suppressed[keep]
    return DataRows(rows, codes[keep].astype(np.int64), names, values[keep], suppressed)


def drop_repeated_rows(
    data: DataRows, keys: pd.DataFrame, ref: SheetRef, col: int, what: str
) -> tuple[DataRows, np.ndarray]:
    """Drop rows that repeat an earlier row's key with the same values; also return the mask.

    UN tables list some aggregates twice (e.g. Oceania as a continent and as an
    SDG region, both code 909): identical repeats are dropped. A repeated key
    with different values is an error naming the repeating row.
    """
    repeated = keys.duplicated().to_numpy()
    if not repeated.any():
        return data, ~repeated
    # each row's group (numbered in order of first appearance) and that group's first row
    group = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    _, first_index = np.unique(group, return_index=True)
    later = np.flatnonzero(repeated)
    earlier = first_index[group[later]]
    mine, theirs = data.values[later], data.values[earlier]
    same = ((mine == theirs) | (np.isnan(mine) & np.isnan(theirs))).all(axis=1)
    if not same.all():
        bad = int(np.flatnonzero(~same)[0])
        i = int(later[bad])
        key = ", ".join(f"{k}={v}" for k, v in keys.iloc[i].items())
        first_row = data.rows[earlier[bad]] + 1
        raise ref.error(
            f"duplicated {what} ({key}) with values that differ from row {first_row}",
            int(data.rows[i]),
            col,
        )
    keep = ~repeated
    names = [name for name, kept in zip(data.names, keep, strict=True) if kept]
    suppressed = None if data.suppressed is None else data.suppressed[keep]
    return DataRows(data.rows[keep], data.codes[keep], names, data.values[keep], suppressed), keep
