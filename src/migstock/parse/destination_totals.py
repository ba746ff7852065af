"""Destination-totals tables (all revisions): one row per destination, years
x sex as column blocks. Table 1 is the migrant stock; Tables 2 and 3 give the
total population (thousands) and migrants as a percentage of it.

A table published without location codes (the official 2024 Table 2 has a
"Location code" header over data-type letters) is parsed by its row index;
:func:`align_to_codes` then gives each row the code of the same index and name
in Table 1 of the same workbook.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from migstock.errors import InputError
from migstock.parse.blocks import year_columns, year_row_of
from migstock.parse.cells import SheetRef, cell_ref
from migstock.parse.labels import find_label, normalize_label
from migstock.parse.notes import destination_annotations
from migstock.parse.rows import BLANK_IS_MISSING, drop_repeated_rows, read_data_rows
from migstock.parse.sheets import SheetInfo


def parse_destination_totals(
    grid: pd.DataFrame, info: SheetInfo, ref: SheetRef, years: Sequence[int] | None = None
) -> pd.DataFrame:
    """Tidy rows: year, destination_code, sex, value, suppressed, source_row, row_index
    (``info.measure`` says what the value is). ``years``: the revision's reference years.

    ``attrs``: ``destination_names`` (code -> name); for a table without codes,
    ``uncoded`` (index -> (name, cell)) and ``destination_code`` holds the index.
    """
    header = info.header_row
    labels = grid.iloc[header].tolist()
    year_row = year_row_of(grid, ref, header)
    columns = year_columns(
        grid,
        ref,
        year_row=year_row,
        title_rows=range(year_row),
        expected_years=years,
    )
    first_row = year_row + 1
    index_col = _index_col(grid, labels, info.destination_col, first_row, columns[0].col)
    code_col = find_label(labels, "destination_code")
    coded = code_col is not None and _holds_codes(grid.iloc[first_row:, code_col])
    if not coded:
        if index_col is None:
            where = "holds no codes" if code_col is not None else "is missing"
            raise ref.error(
                f"the location-code column {where} and there is no row index to align the rows "
                "with Table 1",
                header,
                code_col if code_col is not None else info.destination_col,
            )
        key_col = index_col
    else:
        key_col = code_col  # type: ignore[assignment]
    measure_is_count = info.measure == "migrants"
    data = read_data_rows(
        grid,
        ref,
        first_row=first_row,
        code_col=key_col,
        name_col=info.destination_col,
        value_cols=[c.col for c in columns],
        blank=BLANK_IS_MISSING,
        whole=measure_is_count,
    )
    keys = pd.DataFrame({"destination_code": data.codes})
    data, _ = drop_repeated_rows(data, keys, ref, key_col, "destination row")
    n_rows, n_cols = data.values.shape
    frame = pd.DataFrame(
        {
            "year": np.tile([c.year for c in columns], n_rows),
            "destination_code": np.repeat(data.codes, n_cols),
            "sex": np.tile([c.block for c in columns], n_rows),
            "value": data.values.reshape(-1),
            "suppressed": data.suppressed_flat(),
            "source_row": np.repeat(data.rows + 1, n_cols),
        }
    )
    if coded:
        frame.attrs["destination_names"] = dict(zip(data.codes.tolist(), data.names, strict=True))
        if info.measure == "migrants":
            frame.attrs["data_types"], frame.attrs["note_refs"] = destination_annotations(
                grid, labels, data.rows, data.codes
            )
        if index_col is not None:
            indexes = pd.to_numeric(grid.iloc[data.rows, index_col], errors="coerce")
            frame.attrs["index_codes"] = {
                int(i): int(c)
                for i, c in zip(indexes.tolist(), data.codes.tolist(), strict=True)
                if i == i
            }
    else:
        frame.attrs["destination_names"] = {}
        frame.attrs["uncoded"] = {
            int(i): (name, cell_ref(int(row), key_col))
            for i, name, row in zip(data.codes.tolist(), data.names, data.rows, strict=True)
        }
    return frame


def align_to_codes(
    frame: pd.DataFrame, ref: SheetRef, index_codes: dict[int, int], names: dict[int, str]
) -> pd.DataFrame:
    """Give a table published without codes the codes of Table 1, row by row.

    A row matches when Table 1 has the same index and the same name (case,
    spacing and footnote marks aside); anything else is an error naming the cell.
    """
    mapping: dict[int, int] = {}
    for index, (name, cell) in frame.attrs["uncoded"].items():
        code = index_codes.get(index)
        if code is None:
            raise InputError(
                ref.path,
                f"row index {index} ({name!r}) has no location code here and is not in Table 1",
                sheet=ref.sheet,
                cell=cell,
            )
        if normalize_label(names.get(code, "")) != normalize_label(name):
            raise InputError(
                ref.path,
                f"row index {index} is {name!r} here but {names.get(code)!r} in Table 1: "
                "the rows cannot be aligned without location codes",
                sheet=ref.sheet,
                cell=cell,
            )
        mapping[index] = code
    aligned = frame.assign(destination_code=frame["destination_code"].map(mapping))
    aligned.attrs = {"destination_names": {}}
    return aligned


def _index_col(
    grid: pd.DataFrame,
    labels: list[object],
    destination_col: int,
    first_row: int,
    first_value_col: int,
) -> int | None:
    """The row-index column: labelled Index / Sort order, or an unlabelled column
    before the values whose cells are all whole numbers (the 2024 tables)."""
    labelled = find_label(labels, "index")
    if labelled is not None:
        return labelled
    for col in range(first_value_col):
        if col == destination_col or normalize_label(labels[col]):
            continue
        column = grid.iloc[first_row:, col]
        filled = column[column.map(lambda v: str(v).strip() != "" and v == v)]
        cells = pd.to_numeric(filled, errors="coerce")
        if len(cells) and cells.notna().all() and (cells == cells.round()).all():
            return col
    return None


def _holds_codes(column: pd.Series) -> bool:
    """Whether a code column holds numbers at all (2024 Table 2 holds letters there).

    A column with some codes and some text is not this case: the parser reports the
    text cell.
    """
    filled = column[column.map(lambda v: str(v).strip() != "" and v == v)]
    return bool(len(filled)) and bool(pd.to_numeric(filled, errors="coerce").notna().any())
