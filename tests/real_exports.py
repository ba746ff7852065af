"""Workbooks in the official 2017, 2019 and 2024 bilateral layouts, filled with the real
values of the CSV exports in ../shared/data/un-ims/exports; and the nine-workbook set
(those three beside the six official workbooks) of the full-size benchmark."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from migstock.demo.samples import write_long_rows, write_year_rows
from migstock.parse.cells import clean_name
from migstock.parse.read import read_workbook

YEARS_2024 = [1990, 1995, 2000, 2005, 2010, 2015, 2020, 2024]
SEX_SUFFIX_2024 = {"total": "total", "male": "males", "female": "females"}


def _cell(value: str) -> object:
    """The CSV cell as the workbook had it: '..' and '-' as text, numbers as numbers."""
    if value in ("..", "-"):
        return value
    return None if value == "" else float(value)


def totals_codes(workbook: Path) -> dict[str, int]:
    """Destination name -> code, as a totals workbook's Table 1 lists them (2015-2019)."""
    grid = read_workbook(workbook).sheet("Table 1")
    return {
        clean_name(name): int(code)
        for name, code in zip(grid[1], grid[3], strict=True)
        if isinstance(code, (int, float)) and code == code
    }


def _2019_export_tables(
    exports_dir: Path, relabel: dict[int, int] | None = None
) -> tuple[dict[str, list[list[object]]], list[str]]:
    """Rows ``[year, destination, value per origin...]`` per sex from the three 2019
    exports (``relabel``: year -> the year to write instead), and the origin names."""
    tables, origins = {}, []
    for sex in ("total", "male", "female"):
        export = pd.read_csv(
            exports_dir / f"ims2019_by_origin_and_destination_{sex}.csv",
            dtype=str,
            keep_default_na=False,
        )
        origins = list(export.columns)[2:]
        tables[sex] = [
            [(relabel or {}).get(int(row[0]), int(row[0])), row[1], *(_cell(v) for v in row[2:])]
            for row in export.itertuples(index=False)
        ]
    return tables, origins


def write_2019_bilateral(exports_dir: Path, official_dir: Path, path: Path) -> Path:
    """Tables 1-3 from the three 2019 exports; codes from the 2019 totals workbook."""
    tables, origins = _2019_export_tables(exports_dir)
    codes = totals_codes(official_dir / "UN_MigrantStockTotal_2019.xlsx")
    return write_year_rows(path, 2019, tables, origins, codes)


def write_2017_bilateral(exports_dir: Path, official_dir: Path, path: Path) -> Path:
    """The 2017 layout (the same as 2019's) filled with the 2019 export values relabelled:
    year 2019 -> 2017, the 2017 revision's title block. No 2017 export exists, so these are
    the right size and shape, not the 2017 figures. Destination codes from the 2017 totals
    workbook, else the 2019 one."""
    tables, origins = _2019_export_tables(exports_dir, relabel={2019: 2017})
    codes = totals_codes(official_dir / "UN_MigrantStockTotal_2019.xlsx")
    codes |= totals_codes(official_dir / "UN_MigrantStockTotal_2017.xlsx")
    return write_year_rows(path, 2017, tables, origins, codes)


def read_2024_export(exports_dir: Path) -> pd.DataFrame:
    return pd.read_csv(exports_dir / "ims2024_table1_country_pairs.csv", encoding="utf-8-sig")


def write_2024_bilateral(export: pd.DataFrame, path: Path, *, world: bool = False) -> Path:
    """Table 1 (long rows) from the 2024 country-pairs export.

    ``world``: each destination also gets its aggregate row of origin "World" (900), as
    the published workbook has: the sum of its origins in the export (which holds country
    pairs only), so that the origins still add up to it.
    """
    names = export.columns
    columns = {
        sex: [f"{y}_{suffix}" for y in YEARS_2024] for sex, suffix in SEX_SUFFIX_2024.items()
    }
    rows = []
    if world:
        numbers = export.assign(
            **{c: pd.to_numeric(export[c], errors="coerce") for cs in columns.values() for c in cs}
        )
        sums = numbers.groupby(["Location code of destination", names[1]], sort=False).sum(
            numeric_only=True
        )
        for (code, name), values in sums.iterrows():
            rows.append(
                (
                    (name, int(code)),
                    ("World", 900),
                    {sex: [float(values[c]) for c in cs] for sex, cs in columns.items()},
                )
            )
    rows += [
        (
            (record[names[1]], int(record["Location code of destination"])),
            (record[names[5]], int(record["Location code of origin"])),
            {sex: [record[c] for c in cs] for sex, cs in columns.items()},
        )
        for record in export.to_dict("records")
    ]
    return write_long_rows(path, 2024, YEARS_2024, rows)


#: the three bilateral workbooks of the nine-workbook set, by official file name
NINE_BILATERAL = (
    "UN_MigrantStockByOriginAndDestination_2017.xlsx",
    "UN_MigrantStockByOriginAndDestination_2019.xlsx",
    "undesa_pd_2024_ims_stock_by_sex_destination_and_origin.xlsx",
)


def write_nine_workbooks(un_ims_dir: Path, directory: Path) -> list[Path]:
    """The nine-workbook set in ``directory``: a copy of each official workbook of
    ``un_ims_dir/official`` (six) and the 2017, 2019 and 2024 bilateral layouts filled
    with the real export values of ``un_ims_dir/exports`` (about 2.1 million tidy rows)."""
    official, exports = un_ims_dir / "official", un_ims_dir / "exports"
    directory.mkdir(parents=True, exist_ok=True)
    paths = [
        Path(shutil.copy(source, directory / source.name))
        for source in sorted(official.glob("*.xlsx"))
    ]
    paths.append(write_2017_bilateral(exports, official, directory / NINE_BILATERAL[0]))
    paths.append(write_2019_bilateral(exports, official, directory / NINE_BILATERAL[1]))
    paths.append(write_2024_bilateral(read_2024_export(exports), directory / NINE_BILATERAL[2]))
    return paths
