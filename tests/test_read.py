from pathlib import Path

import pytest

from migstock.errors import InputError
from migstock.parse.read import CSV_SHEET, read_workbook


def test_html_page_saved_as_xlsx_is_named_as_such(tmp_path: Path) -> None:
    page = tmp_path / "UN_MigrantStockTotal_2019.xlsx"
    page.write_text("<!DOCTYPE html><html><body>403 Forbidden</body></html>")
    with pytest.raises(InputError) as raised:
        read_workbook(page)
    assert "UN_MigrantStockTotal_2019.xlsx" in str(raised.value)
    assert "HTML" in str(raised.value)


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty.xlsx: the file is empty"):
        read_workbook(empty)


def test_truncated_xlsx_is_rejected(tmp_path: Path, official_dir: Path) -> None:
    whole = (official_dir / "UN_MigrantStockTotal_2019.xlsx").read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match=r"cut.xlsx: .*(damaged|truncated)"):
        read_workbook(cut)


def test_csv_export_in_cp1252_reads_as_one_grid(exports_dir: Path) -> None:
    book = read_workbook(exports_dir / "UN_MigrantStockByOriginAndDestination_2013_Table10.csv")
    assert list(book.sheets) == [CSV_SHEET]
    grid = book.sheets[CSV_SHEET]
    texts = {v for v in grid.to_numpy().ravel() if isinstance(v, str)}
    assert "POP/DB/MIG/Stock/Rev.2013" in texts
    assert any(t.startswith("September 2013 - Copyright") for t in texts)
    assert not any("\ufffd" in t for t in texts)  # decoded as Windows-1252, not lossy UTF-8


def test_missing_sheet_names_the_sheet(official_dir: Path) -> None:
    book = read_workbook(official_dir / "UN_MigrantStockTotal_2019.xlsx")
    with pytest.raises(InputError, match=r"sheet 'Table 9' is missing"):
        book.sheet("Table 9")


def test_the_scan_patterns_order_rows_and_columns_exactly() -> None:
    """The sheet-size scan relies on regexes for "a row (column) after N"."""
    import random
    import re

    from migstock.parse.read import _greater_letters, _greater_number, _letters

    rng = random.Random(13)
    for _ in range(3000):
        limit, value = rng.randint(0, 1_100_000), rng.randint(0, 1_100_000)
        pattern = f"0*(?:{_greater_number(limit)})"
        assert bool(re.fullmatch(pattern, str(value))) == (value > limit), (limit, value)
        limit, value = rng.randint(1, 17_000), rng.randint(1, 17_000)
        pattern = f"(?:{_greater_letters(limit)})"
        assert bool(re.fullmatch(pattern, _letters(value))) == (value > limit), (limit, value)
