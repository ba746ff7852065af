"""Parsers recognise structure, not one sample: every layout family, changed the way
workbooks drift (header moved down, footnote markers, spanning labels, columns
reordered, an extra column, sheets renamed and reordered, aggregates repeated,
.xls or .xlsx), parses to the same tidy rows as the original.

Baselines are the UN's own workbooks where shared has them (2015 bilateral Table 16,
2015 and 2024 destination totals), and the generated 2019 and 2024 bilateral
layouts holding the real export values otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from migstock.demo.samples import write_grids
from migstock.errors import InputError
from migstock.parse import parse_workbook
from migstock.parse.cells import SheetRef
from migstock.parse.harmonize import harmonize_bilateral, harmonize_totals
from migstock.parse.labels import find_label
from migstock.parse.read import Workbook, read_workbook
from migstock.parse.sheets import SheetInfo, classify_sheet

Grids = dict[str, pd.DataFrame]
BILATERAL_KEY = ["year", "destination_code", "origin_code", "origin_kind", "sex"]
TOTALS_KEY = ["year", "destination_code", "sex"]


def _tidy(book: Workbook) -> pd.DataFrame:
    """Tidy rows without lineage (sheet and row move with a variant), in key order."""
    parsed = parse_workbook(book)
    if parsed.dataset == "bilateral":
        rows, key = harmonize_bilateral(parsed, book.path), BILATERAL_KEY
        values = ["migrants"]
    else:
        rows, key = harmonize_totals(parsed), TOTALS_KEY
        values = ["migrants", "total_population", "migrant_share"]
    rows = rows[[*key, *values]].astype({"sex": "string"})
    if "origin_kind" in rows:
        rows["origin_kind"] = rows["origin_kind"].astype("string")
    return rows.sort_values(key).reset_index(drop=True)


def _infos(grids: Grids) -> dict[str, SheetInfo]:
    infos = {name: classify_sheet(grid, SheetRef(Path("x"), name)) for name, grid in grids.items()}
    return {n: i for n, i in infos.items() if i.kind not in ("other", "annex", "notes")}


def _first_value_col(grid: pd.DataFrame, info: SheetInfo) -> int:
    """Where the values start: the Total origin (wide) or the first year column."""
    for row in (info.header_row, info.header_row + 1):
        col = find_label(grid.iloc[row].tolist(), "total_origin", info.destination_col + 1)
        if col is not None and info.kind == "wide_origins":
            return col
        years = [c for c, v in enumerate(grid.iloc[row].tolist()) if isinstance(v, float)]
        if years and info.kind != "wide_origins":
            return years[0]
    raise AssertionError("no value columns found")


def _insert_rows(grid: pd.DataFrame, at: int, rows: list[list[object]]) -> pd.DataFrame:
    width = grid.shape[1]
    block = pd.DataFrame([[*r, *[""] * (width - len(r))] for r in rows], dtype=object)
    out = pd.concat([grid.iloc[:at], block, grid.iloc[at:]], ignore_index=True)
    out.columns = range(width)
    return out


def _insert_col(grid: pd.DataFrame, at: int, values: list[object]) -> pd.DataFrame:
    out = grid.copy()
    out.insert(at, "new", values)
    out.columns = range(out.shape[1])
    return out


# ---- the variants: each takes the data sheets' grids and returns changed copies ----


def header_moved_down(grids: Grids) -> Grids:
    """Three blank rows between the title block and the header."""
    out = dict(grids)
    for name, info in _infos(grids).items():
        out[name] = _insert_rows(grids[name], info.header_row, [[]] * 3)
    return out


def footnote_markers(grids: Grids) -> Grids:
    """Header labels with footnote markers, line breaks and non-breaking spaces."""
    markers = [" (a)", "*", " 1", "\u00a0(b)", "**"]
    out = dict(grids)
    for name, info in _infos(grids).items():
        grid = grids[name].copy()
        first = _first_value_col(grid, info)
        for i, col in enumerate(range(first)):
            label = grid.iat[info.header_row, col]
            if isinstance(label, str) and label.strip():
                label = label.replace(" ", "\n", 1) if i % 2 else label.upper()
                grid.iat[info.header_row, col] = label + markers[i % len(markers)]
        out[name] = grid
    return out


def spanning_origin_label(grids: Grids) -> Grids:
    """Wide tables: "Country or area of origin" spans the origins on the header row,
    their names on the row below (other families: unchanged)."""
    out = dict(grids)
    for name, info in _infos(grids).items():
        if info.kind != "wide_origins":
            continue
        grid = grids[name]
        first = _first_value_col(grid, info)
        header = info.header_row
        names_on_header = find_label(grid.iloc[header].tolist(), "total_origin", first) == first
        if names_on_header:
            grid = _insert_rows(grid, header + 1, [[]])
            grid.iloc[header + 1, first:] = grid.iloc[header, first:].to_numpy()
            grid.iloc[header, first:] = ""
        else:
            grid = grid.copy()
        grid.iat[header, first] = "Country or area of origin"
        out[name] = grid
    return out


def columns_reordered(grids: Grids) -> Grids:
    """The label columns left of the values in reverse order (the name column moves
    too), and for wide tables the origins in reverse order."""
    out = dict(grids)
    for name, info in _infos(grids).items():
        grid = grids[name]
        first = _first_value_col(grid, info)
        order = [*reversed(range(first)), *range(first, grid.shape[1])]
        if info.kind == "wide_origins":
            last = max(
                c for c in range(grid.shape[1]) if str(grid.iat[_names_row(grid, info), c]).strip()
            )
            order = [
                *reversed(range(first)),
                first,  # Total stays first: it is how the origin block is found
                *reversed(range(first + 1, last + 1)),
                *range(last + 1, grid.shape[1]),
            ]
        reordered = grid[order].copy()
        reordered.columns = range(grid.shape[1])
        out[name] = reordered
    return out


def _names_row(grid: pd.DataFrame, info: SheetInfo) -> int:
    for row in (info.header_row, info.header_row + 1):
        if find_label(grid.iloc[row].tolist(), "total_origin", info.destination_col + 1):
            return row
    raise AssertionError("no origin names")


def extra_unknown_column(grids: Grids) -> Grids:
    """A column nobody told the parser about, with text in every data row."""
    out = dict(grids)
    for name, info in _infos(grids).items():
        grid = grids[name]
        first = _first_value_col(grid, info)
        values = ["Comments" if r == info.header_row else "" for r in range(len(grid))]
        values[info.header_row + 2 :] = ["see source"] * (len(grid) - info.header_row - 2)
        out[name] = _insert_col(grid, first, values)
    return out


def sheets_renamed_and_reordered(grids: Grids) -> Grids:
    return {f"Sheet {i}": grid for i, grid in enumerate(reversed(grids.values()))}


def aggregate_repeated(grids: Grids) -> Grids:
    """The World rows (or, in tables of country pairs, the first data rows) listed
    again at the end of each table, with identical values."""
    out = dict(grids)
    for name, info in _infos(grids).items():
        grid = grids[name]
        names = grid.iloc[:, info.destination_col].astype(str).str.strip().str.upper()
        repeated = grid[names == "WORLD"]
        if repeated.empty:
            repeated = grid.iloc[info.header_row + 1 : info.header_row + 6]
        out[name] = pd.concat([grid, repeated], ignore_index=True)
    return out


VARIANTS: dict[str, Callable[[Grids], Grids]] = {
    "header moved down": header_moved_down,
    "footnote markers": footnote_markers,
    "spanning origin label": spanning_origin_label,
    "columns reordered": columns_reordered,
    "extra unknown column": extra_unknown_column,
    "sheets renamed and reordered": sheets_renamed_and_reordered,
    "aggregate repeated": aggregate_repeated,
}


def _smaller(book: Workbook, count: int) -> Workbook:
    """The same tables with fewer cells (real values; the variants run on every family):
    long tables keep their first ``count`` destinations, wide tables their first ``count``
    origin columns (every destination stays, so origin names still resolve)."""
    infos = _infos(book.sheets)
    sheets = {}
    for name, grid in book.sheets.items():
        info = infos.get(name)
        if info is None:
            sheets[name] = grid
        elif info.kind == "wide_origins":
            last = _first_value_col(grid, info) + count
            sheets[name] = grid.iloc[:, :last]
        else:
            places = grid.iloc[info.header_row + 1 :, info.destination_col]
            kept = set(pd.unique(places)[:count])
            keep = [True] * (info.header_row + 1) + places.isin(kept).tolist()
            sheets[name] = grid[keep].reset_index(drop=True)
    return Workbook(book.path, sheets)


@pytest.fixture(scope="module")
def baselines(
    official_dir: Path, bilateral_2019_path: Path, bilateral_2024_path: Path
) -> dict[str, Workbook]:
    return {
        "origin matrix 2015 (official)": read_workbook(
            official_dir / "UN_MigrantStockByOriginAndDestination_2015.xlsx"
        ),
        "year rows 2019": _smaller(read_workbook(bilateral_2019_path), 25),
        "long rows 2024": _smaller(read_workbook(bilateral_2024_path), 15),
        "totals 2015 (official)": read_workbook(official_dir / "UN_MigrantStockTotal_2015.xlsx"),
        "totals 2024 (official)": read_workbook(
            official_dir / "undesa_pd_2024_ims_stock_by_sex_and_destination.xlsx"
        ),
    }


@pytest.fixture(scope="module")
def expected(baselines: dict[str, Workbook]) -> dict[str, pd.DataFrame]:
    return {family: _tidy(book) for family, book in baselines.items()}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize(
    "family",
    [
        "origin matrix 2015 (official)",
        "year rows 2019",
        "long rows 2024",
        "totals 2015 (official)",
        "totals 2024 (official)",
    ],
)
def test_variant_parses_to_the_same_rows(baselines, expected, family: str, variant: str) -> None:
    book = baselines[family]
    changed = Workbook(book.path, VARIANTS[variant](book.sheets))
    pd.testing.assert_frame_equal(_tidy(changed), expected[family])


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
@pytest.mark.parametrize("family", ["origin matrix 2015 (official)", "totals 2015 (official)"])
def test_the_container_does_not_matter(
    baselines, expected, family: str, suffix: str, tmp_path: Path
) -> None:
    book = baselines[family]
    path = write_grids(book.sheets, tmp_path / f"book{suffix}")
    pd.testing.assert_frame_equal(_tidy(read_workbook(path)), expected[family])


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_variants_survive_a_round_trip_through_files(baselines, expected, suffix, tmp_path) -> None:
    """The in-memory variants hold after being written and read back (both containers)."""
    book = baselines["totals 2024 (official)"]
    grids = aggregate_repeated(footnote_markers(header_moved_down(book.sheets)))
    path = write_grids(sheets_renamed_and_reordered(grids), tmp_path / f"variant{suffix}")
    pd.testing.assert_frame_equal(_tidy(read_workbook(path)), expected["totals 2024 (official)"])


def test_a_repeated_aggregate_with_other_values_is_an_error(baselines) -> None:
    book = baselines["totals 2015 (official)"]
    grids = aggregate_repeated(book.sheets)
    table = next(iter(_infos(grids)))
    grid = grids[table].copy()
    grid.iat[len(grid) - 1, grid.shape[1] - 1] = 1.0  # the repeat now disagrees
    grids[table] = grid
    with pytest.raises(InputError, match=rf"sheet '{table}', cell .*duplicated destination row"):
        parse_workbook(Workbook(book.path, grids))


def test_variants_really_change_the_grids(baselines) -> None:
    """Guard against a variant that silently does nothing."""
    book = baselines["origin matrix 2015 (official)"]
    for name, variant in VARIANTS.items():
        changed = variant(book.sheets)
        same = list(changed) == list(book.sheets) and all(
            changed[n].shape == book.sheets[n].shape
            and np.array_equal(changed[n].to_numpy(dtype=str), book.sheets[n].to_numpy(dtype=str))
            for n in book.sheets
        )
        assert not same, name


def test_a_lost_year_row_is_an_error_naming_the_destination(baselines) -> None:
    """2017/2019: rows are destination x year; a deleted row must not load quietly."""
    book = baselines["year rows 2019"]
    grids = dict(book.sheets)
    name = next(iter(_infos(grids)))
    grid = grids[name]
    info = _infos(grids)[name]
    names = grid.iloc[:, info.destination_col].astype(str)
    rows = [i for i in range(info.header_row + 1, len(grid)) if names.iat[i] == names.iat[-1]]
    grids[name] = grid.drop(index=rows[1]).reset_index(drop=True)
    with pytest.raises(InputError, match=rf"sheet '{name}', cell .*has no row for \d{{4}}"):
        parse_workbook(Workbook(book.path, grids))
