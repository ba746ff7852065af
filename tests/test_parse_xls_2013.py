"""The 2013 layout in the .xls container: the real Table 10 export written back
into an .xls workbook (as the UN published it, e.g. ..._2013T10.xls) must parse
to exactly the rows the CSV export gives."""

import re
from pathlib import Path

import pandas as pd
import xlwt

from migstock.parse import parse_workbook
from migstock.parse.harmonize import harmonize_bilateral
from migstock.parse.read import CSV_SHEET, read_workbook

_SPACED_NUMBER = re.compile(r"^\s*\d{1,3}( \d{3})*\s*$")


def _write_xls(grid: pd.DataFrame, path: Path) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Table 10")
    for (row, col), value in grid.stack().items():
        if pd.isna(value):
            continue
        text = str(value)
        sheet.write(row, col, int(text.replace(" ", "")) if _SPACED_NUMBER.match(text) else text)
    book.save(str(path))


def test_xls_and_csv_of_table_10_give_the_same_rows(exports_dir: Path, tmp_path: Path) -> None:
    csv_path = exports_dir / "UN_MigrantStockByOriginAndDestination_2013_Table10.csv"
    grid = read_workbook(csv_path).sheets[CSV_SHEET]
    xls_path = tmp_path / "UN_MigrantStockByOriginAndDestination_2013T10.xls"
    _write_xls(grid, xls_path)

    from_xls = harmonize_bilateral(parse_workbook(read_workbook(xls_path)), xls_path)
    from_csv = harmonize_bilateral(parse_workbook(read_workbook(csv_path)), csv_path)
    total = from_xls[from_xls.origin_kind == "total"].set_index("destination_code")["migrants"]
    assert total[900] == 231_522_215 and total[682] == 9_060_433
    columns = ["year", "destination_code", "origin_code", "origin_kind", "sex", "migrants"]
    pd.testing.assert_frame_equal(from_xls[columns], from_csv[columns])
    assert set(from_xls.source_sheet) == {"Table 10"}
