"""Migrants and total population by age and sex (the age workbooks, 2015-2020).

Each age table has one row per place (2015: one sheet per year, the year at the end of
the table title) or per place and year (2017, 2019, 2020: a ``Year`` column), and three
blocks of columns, both sexes, males and females, each holding the sixteen five-year
bands ``0-4`` ... ``70-74``, ``75+`` and ``Total``. The band labels sit on the header row
(2020) or on the row below it (2015-2019); the block titles (any text naming a sex:
"International migrant stock at mid-year by age (both sexes)", "Males") sit above the
band labels, on the header row or the rows just above it. Everything is found by these
labels, never by position: a band label with stray spaces (``" 15-19"``) is read through
:func:`migstock.parse.labels.age_group`; a block that lacks a band, a band label migstock
does not know (``75-79``) or a year outside the revision is an error naming the cell.

The migrant table (persons) and the total-population table (thousands) share the layout;
:func:`parse_age_table` reads either. Derived tables of the same workbooks (percentage
distributions, migrants as a percentage of the population) are not read.

Nobody has seen the 2013 age workbook: a workbook whose title block says "by age" for a
revision whose catalog layout migstock does not read is refused in one line
(:func:`refuse_unknown_layout`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from migstock.catalog import AGE_LAYOUTS, Revision
from migstock.errors import InputError
from migstock.parse.cells import SEXES, SheetRef, cell_ref, row_texts, sex_of, text
from migstock.parse.labels import AGE_BANDS, AGE_GROUPS, age_group, find_label, is_age_band
from migstock.parse.notes import destination_annotations
from migstock.parse.rows import BLANK_IS_MISSING, drop_repeated_rows, read_data_rows
from migstock.parse.sheets import SheetInfo, age_band_row

#: a title block that speaks of age: an age workbook, whatever its layout
_AGE_TITLE = re.compile(r"\bby age\b|\bage and sex\b|\bage groups?\b", re.I)
#: how far down a sheet its title block may be
_TITLE_ROWS = 20
#: block titles sit on the band row's row above, or up to this many rows higher
_BLOCK_TITLE_ROWS = 3
#: the year a 2015 table's title ends with: "..., 1990" or "..., 1990 (thousands)"
_YEAR_IN_TITLE = re.compile(r",\s*((?:19|20)\d\d)\s*(?:\(\s*thousands\s*\))?\s*$", re.I)
_SEX_WORDS = {"total": "both sexes", "male": "males", "female": "females"}
MEASURE_WORDS = {"migrants": "migrants by age", "population": "total population by age"}


def age_title(grid: pd.DataFrame) -> str | None:
    """The first title-block text of a sheet that speaks of age ("... by age and sex ..."),
    or None."""
    for row in range(min(len(grid), _TITLE_ROWS)):
        for value in row_texts(grid, row):
            if value and _AGE_TITLE.search(value):
                return value
    return None


def refuse_unknown_layout(path: Path, revision: Revision, title: str, sheet: str) -> NoReturn:
    """Raise the one-line refusal of an age workbook whose layout migstock does not read
    (the 2013 one, or a revision whose catalog lists no age workbook)."""
    known = ", ".join(map(str, _readable_revisions()))
    if not revision.has("age"):
        why = f"revision {revision.revision} publishes no age workbook that migstock knows of"
    else:
        why = f"the {revision.revision} age layout is not known"
    raise InputError(
        path,
        f"an age workbook (title {title!r}) of revision {revision.revision}: {why}, so it is "
        f"not loaded (migstock reads the age workbooks of {known})",
        sheet=sheet,
    )


def _readable_revisions() -> list[int]:
    from migstock.catalog import CATALOG

    return [
        entry.revision
        for entry in CATALOG
        if entry.has("age") and entry.file("age").layout in AGE_LAYOUTS
    ]


@dataclass(frozen=True)
class AgeColumn:
    """One value column of an age table: its sex block and age group."""

    col: int
    sex: str
    age_group: str


def age_columns(grid: pd.DataFrame, ref: SheetRef, band_row: int, first: int) -> list[AgeColumn]:
    """Every value column from column ``first`` (the first age band) on, with its sex and
    age group.

    A block title (a cell naming a sex) on the band row's row above or on the rows just
    above it covers its own column and those to its right up to the next title (the
    title nearest the bands wins). Each of the three blocks must hold every age group
    exactly once.
    """
    nearest: dict[int, tuple[str, int]] = {}
    for row in range(max(0, band_row - _BLOCK_TITLE_ROWS), band_row):
        for col, label in enumerate(row_texts(grid, row)):
            sex = sex_of(label) if label and col >= first else None
            if sex is not None:
                nearest[col] = (sex, row)
    titles = sorted((col, sex, row) for col, (sex, row) in nearest.items())
    columns: list[AgeColumn] = []
    seen: dict[tuple[str, str], int] = {}
    for col in range(first, grid.shape[1]):
        value = grid.iat[band_row, col]
        label = text(value)
        if not label:
            continue
        group = age_group(value)
        if group not in AGE_GROUPS:
            found = f"the age group {group!r}" if group else repr(label)
            raise ref.error(
                f"header {found} is not one of the UN's age groups "
                f"({AGE_BANDS[0]}, {AGE_BANDS[1]}, ..., {AGE_BANDS[-2]}, {AGE_BANDS[-1]}, Total)",
                band_row,
                col,
            )
        under = [(sex, start) for start, sex, _ in titles if start <= col]
        if not under:
            raise ref.error(
                f"age column {group} is under no block title naming both sexes, males or females",
                band_row,
                col,
            )
        sex = under[-1][0]
        if (sex, group) in seen:
            raise ref.error(
                f"age group {group} appears twice in the {_SEX_WORDS[sex]} block "
                f"(also {cell_ref(band_row, seen[(sex, group)])}): block titles moved?",
                band_row,
                col,
            )
        seen[(sex, group)] = col
        columns.append(AgeColumn(col, sex, group))
    for sex in SEXES:
        title = next(((row, col) for col, s, row in titles if s == sex), None)
        if title is None:
            raise ref.error(
                f"no block of {_SEX_WORDS[sex]} (a block title over its age groups)",
                band_row,
                first,
            )
        missing = [g for g in AGE_GROUPS if (sex, g) not in seen]
        if missing:
            shown = ", ".join("Total" if g == "total" else g for g in missing)
            raise ref.error(
                f"the {_SEX_WORDS[sex]} block has no column for {shown} (every age table "
                "publishes the sixteen bands 0-4 ... 75+ and Total): a column was deleted or "
                "its header changed",
                *title,
            )
    return columns


def parse_age_table(
    grid: pd.DataFrame, info: SheetInfo, ref: SheetRef, years: Sequence[int]
) -> pd.DataFrame:
    """Tidy rows: year, destination_code, sex, age_group, value, suppressed, source_row
    (``info.measure`` says what the value is: migrants, or population in thousands).

    ``years``: the revision's reference years; a year outside them is an error. With a
    ``Year`` column, a place that lacks a year the table has for other places is an error
    naming the place's first row (a lost row); a year no place has is the caller's
    warning. ``attrs``: ``destination_names``, ``data_types``, ``note_refs``.
    """
    header = info.header_row
    band_row = age_band_row(grid, header)
    if band_row is None:  # classify_sheet said otherwise
        raise ref.error("no row of age bands (0-4, 5-9, ...) under the header", header, 0)
    labels = grid.iloc[header].tolist()
    code_col = find_label(labels, "destination_code")
    if code_col is None:
        raise ref.error("header row has no 'Code' or 'Location code' column", header, 0)
    year_col = find_label(labels, "year")
    first_value = next(
        col for col, value in enumerate(grid.iloc[band_row].tolist()) if is_age_band(value)
    )
    columns = age_columns(grid, ref, band_row, first_value)
    data = read_data_rows(
        grid,
        ref,
        first_row=band_row + 1,
        code_col=code_col,
        name_col=info.destination_col,
        value_cols=[c.col for c in columns],
        blank=BLANK_IS_MISSING,
        whole=info.measure == "migrants",
    )
    if year_col is None:
        year = title_year(info, ref)
        _check_year(year, years, ref, header, info.destination_col)
        row_years = np.full(len(data.rows), year, dtype=np.int64)
    else:
        row_years = _row_years(grid, data.rows, year_col, years, ref)
    keys = pd.DataFrame({"year": row_years, "destination_code": data.codes})
    data, keep = drop_repeated_rows(data, keys, ref, code_col, "place and year row")
    row_years = row_years[keep]
    if year_col is not None:
        _check_lost_rows(data.codes, data.rows, data.names, row_years, ref, year_col)
    n_rows, n_cols = data.values.shape
    frame = pd.DataFrame(
        {
            "year": np.repeat(row_years, n_cols),
            "destination_code": np.repeat(data.codes, n_cols),
            "sex": pd.Categorical.from_codes(
                np.tile([SEXES.index(c.sex) for c in columns], n_rows), categories=SEXES
            ),
            "age_group": pd.Categorical.from_codes(
                np.tile([AGE_GROUPS.index(c.age_group) for c in columns], n_rows),
                categories=list(AGE_GROUPS),
            ),
            "value": data.values.reshape(-1),
            "suppressed": data.suppressed_flat(),
            "source_row": np.repeat(data.rows + 1, n_cols),
        }
    )
    frame.attrs["destination_names"] = dict(zip(data.codes.tolist(), data.names, strict=True))
    frame.attrs["data_types"], frame.attrs["note_refs"] = destination_annotations(
        grid, labels[:first_value], data.rows, data.codes
    )
    return frame


def title_year(info: SheetInfo, ref: SheetRef) -> int:
    """The year at the end of a 2015 table's title ("..., 1990")."""
    match = _YEAR_IN_TITLE.search(info.title)
    if match is None:
        raise ref.error(
            f"no 'Year' column and no year at the end of the title {info.title!r}",
            info.header_row,
            info.destination_col,
        )
    return int(match.group(1))


def _check_year(year: int, years: Sequence[int], ref: SheetRef, row: int, col: int) -> None:
    if year not in years:
        raise ref.error(
            f"year {year} is not a reference year of this revision ({', '.join(map(str, years))})",
            row,
            col,
        )


def _row_years(
    grid: pd.DataFrame, rows: np.ndarray, col: int, years: Sequence[int], ref: SheetRef
) -> np.ndarray:
    cells = grid.iloc[rows, col]
    found = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(np.isnan(found) | (found != np.round(found)))
    if len(bad):
        i = int(bad[0])
        raise ref.error(f"expected a year, found {text(cells.iat[i])!r}", int(rows[i]), col)
    outside = np.flatnonzero(~np.isin(found, list(years)))
    if len(outside):
        i = int(outside[0])
        _check_year(int(found[i]), years, ref, int(rows[i]), col)
    return found.astype(np.int64)


def _check_lost_rows(
    codes: np.ndarray,
    rows: np.ndarray,
    names: list[str],
    years: np.ndarray,
    ref: SheetRef,
    col: int,
) -> None:
    """Every place has a row for every year the table has (one lost row is an error)."""
    table_years = set(np.unique(years).tolist())
    found = pd.DataFrame({"code": codes, "year": years, "row": rows})
    for code, group in found.groupby("code", sort=False):
        missing = sorted(table_years - set(group["year"].tolist()))
        if missing:
            name = names[int(np.flatnonzero(codes == code)[0])]
            raise ref.error(
                f"{name} ({code}) has no row for {', '.join(map(str, missing))}, which the "
                "table has for other places: a year row was lost",
                int(group["row"].iat[0]),
                col,
            )


def missing_years(frames: list[pd.DataFrame], years: Sequence[int], measure: str) -> list[str]:
    """A warning naming the revision's years no sheet of ``measure`` holds (none: [])."""
    present = {int(y) for frame in frames for y in np.unique(frame["year"]).tolist()}
    missing = [year for year in years if year not in present]
    if not missing:
        return []
    return [
        f"{len(missing)} of the revision's {len(years)} year tables of "
        f"{MEASURE_WORDS[measure]} not found in this workbook, so not loaded from it: "
        f"{', '.join(map(str, missing))}"
    ]


def check_disjoint_years(path: Path, frames: list[pd.DataFrame], measure: str) -> None:
    """Two sheets never hold the same year of one measure (a table saved twice)."""
    owner: dict[int, str] = {}
    for frame in frames:
        sheet = str(frame["source_sheet"].iat[0]) if len(frame) else "?"
        for year in np.unique(frame["year"]).tolist():
            if int(year) in owner:
                raise InputError(
                    path,
                    f"{MEASURE_WORDS[measure]}, {year}, is also in sheet '{owner[int(year)]}'",
                    sheet=sheet,
                )
            owner[int(year)] = sheet
