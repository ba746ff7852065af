"""Workbooks in the official 2019 and 2024 bilateral layouts, filled with the real
values of the CSV exports in ../shared/data/un-ims/exports."""

from __future__ import annotations

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


def write_2019_bilateral(exports_dir: Path, official_dir: Path, path: Path) -> Path:
    """Tables 1-3 from the three 2019 exports; codes from the 2019 totals workbook."""
    grid = read_workbook(official_dir / "UN_MigrantStockTotal_2019.xlsx").sheet("Table 1")
    codes = {  # destination name -> code, as the same revision's totals workbook lists them
        clean_name(name): int(code)
        for name, code in zip(grid[1], grid[3], strict=True)
        if isinstance(code, (int, float)) and code == code
    }
    tables, origins = {}, []
    for sex in ("total", "male", "female"):
        export = pd.read_csv(
            exports_dir / f"ims2019_by_origin_and_destination_{sex}.csv",
            dtype=str,
            keep_default_na=False,
        )
        origins = list(export.columns)[2:]
        tables[sex] = [
            [int(row[0]), row[1], *(_cell(v) for v in row[2:])]
            for row in export.itertuples(index=False)
        ]
    return write_year_rows(path, 2019, tables, origins, codes)


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
