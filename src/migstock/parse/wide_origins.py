"""Origins-as-columns tables: 2013/2015 (one sheet per year and sex) and
2017/2019 (one sheet per sex, a ``Year`` column, rows are destination x year).

Both families share the header: destination labels on the left, then one
column per origin, starting with ``Total`` (2013: ``World``), ``Other North``,
``Other South`` and the named origins. Origins are names, not codes; the
harmonize step maps them to M49 codes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from migstock.parse.cells import SEXES, SheetRef, cell_ref, clean_name, sex_of, text
from migstock.parse.labels import LabelName, find_label
from migstock.parse.notes import destination_annotations
from migstock.parse.rows import BLANK_IS_ZERO, DataRows, drop_repeated_rows, read_data_rows
from migstock.parse.sheets import SheetInfo

_YEAR_IN_TITLE = re.compile(r",\s*((?:19|20)\d\d)\s*$")


def parse_wide_origins(
    grid: pd.DataFrame, info: SheetInfo, ref: SheetRef, revision_years: Sequence[int] | None = None
) -> pd.DataFrame:
    """Tidy rows: year, destination_code, origin_label, sex, migrants, suppressed, source_row.

    With a ``Year`` column (2017/2019), every destination must have a row for each of
    ``revision_years``: a lost year row is an error naming the destination's first row.
    """
    header = info.header_row
    names_row, first_origin = _origin_header(grid, info, ref)
    code_col = _left_label(grid, (header, names_row), "destination_code", first_origin)
    if code_col is None:
        raise ref.error("header row has no 'Country code' or 'Code' column", header, 0)
    year_col = _left_label(grid, (header, names_row), "year", first_origin)
    sex = sex_of(info.title)
    if sex is None:
        raise ref.error(
            f"cannot tell the sex from the title {info.title!r} (expected Total, Male or Female)",
            header,
            info.destination_col,
        )
    origin_labels = [clean_name(v) for v in grid.iloc[names_row, first_origin:].tolist()]
    while origin_labels and not origin_labels[-1]:
        origin_labels.pop()
    origin_cols = list(range(first_origin, first_origin + len(origin_labels)))
    for label, col in zip(origin_labels, origin_cols, strict=True):
        if not label:
            raise ref.error("an origin column has no name", names_row, col)
    seen: dict[str, int] = {}
    for label, col in zip(origin_labels, origin_cols, strict=True):
        if label.casefold() in seen:
            raise ref.error(f"origin {label!r} appears twice", names_row, col)
        seen[label.casefold()] = col

    data = read_data_rows(
        grid,
        ref,
        first_row=names_row + 1,
        code_col=code_col,
        name_col=info.destination_col,
        value_cols=origin_cols,
        blank=BLANK_IS_ZERO,
        whole=True,
    )
    if year_col is None:
        year = _title_year(info, ref)
        years = np.full(len(data.rows), year, dtype=np.int64)
    else:
        years = _row_years(grid.iloc[data.rows, year_col], ref, data.rows, year_col)
    keys = pd.DataFrame({"year": years, "destination_code": data.codes})
    data, keep = drop_repeated_rows(data, keys, ref, code_col, "destination row")
    years = years[keep]
    if year_col is not None and revision_years is not None:
        _check_every_year(data, years, revision_years, ref, year_col)

    n_rows, n_origins = data.values.shape
    frame = pd.DataFrame(
        {
            "year": np.repeat(years, n_origins),
            "destination_code": np.repeat(data.codes, n_origins),
            "origin_label": pd.Categorical.from_codes(
                np.tile(np.arange(n_origins), n_rows), categories=origin_labels
            ),
            "origin_code": pd.arrays.IntegerArray(
                np.zeros(n_rows * n_origins, dtype=np.int64),
                np.ones(n_rows * n_origins, dtype=bool),
            ),
            "sex": pd.Categorical.from_codes(
                np.full(n_rows * n_origins, SEXES.index(sex), dtype=np.int8), categories=SEXES
            ),
            "migrants": data.values.reshape(-1),
            "suppressed": data.suppressed_flat(),
            "source_row": np.repeat(data.rows + 1, n_origins),
        }
    )
    frame.attrs["destination_names"] = dict(zip(data.codes.tolist(), data.names, strict=True))
    frame.attrs["data_types"], frame.attrs["note_refs"] = destination_annotations(
        grid, grid.iloc[header, :first_origin].tolist(), data.rows, data.codes
    )
    frame.attrs["origin_cells"] = {
        label: cell_ref(names_row, col)
        for label, col in zip(origin_labels, origin_cols, strict=True)
    }
    return frame


def _left_label(
    grid: pd.DataFrame, rows: tuple[int, ...], name: LabelName, before: int
) -> int | None:
    """Column of the label ``name`` left of the origins, on any of ``rows``."""
    for row in rows:
        col = find_label(grid.iloc[row, :before].tolist(), name)
        if col is not None:
            return col
    return None


def _origin_header(grid: pd.DataFrame, info: SheetInfo, ref: SheetRef) -> tuple[int, int]:
    """Row and column where the origin names start (at ``Total`` or ``World``).

    The names are on the header row, or on the row below when the header row
    carries a label spanning the origins ("Country or area of origin").
    """
    for row in (info.header_row, info.header_row + 1):
        if row >= len(grid):
            break
        col = find_label(grid.iloc[row].tolist(), "total_origin", info.destination_col + 1)
        if col is not None:
            return row, col
    raise ref.error(
        "no 'Total' (or 'World') origin column next to the destination header",
        info.header_row,
        info.destination_col,
    )


def _check_every_year(
    data: DataRows, years: np.ndarray, revision_years: Sequence[int], ref: SheetRef, col: int
) -> None:
    expected = set(revision_years)
    found = pd.DataFrame({"code": data.codes, "year": years, "row": data.rows})
    for code, rows in found.groupby("code", sort=False):
        missing = sorted(expected - set(rows["year"].tolist()))
        if missing:
            name = data.names[int(np.flatnonzero(data.codes == code)[0])]
            raise ref.error(
                f"{name} ({code}) has no row for {', '.join(map(str, missing))} (this revision "
                f"publishes {', '.join(map(str, revision_years))}): a year row was lost",
                int(rows["row"].iat[0]),
                col,
            )


def _title_year(info: SheetInfo, ref: SheetRef) -> int:
    match = _YEAR_IN_TITLE.search(info.title)
    if match is None:
        raise ref.error(
            f"no 'Year' column and no year at the end of the title {info.title!r}",
            info.header_row,
            info.destination_col,
        )
    return int(match.group(1))


def _row_years(cells: pd.Series, ref: SheetRef, rows: np.ndarray, col: int) -> np.ndarray:
    years = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(years) | (years < 1900) | (years > 2099) | (years != np.round(years))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ref.error(f"expected a year, found {text(cells.iat[i])!r}", int(rows[i]), col)
    return years.astype(np.int64)
