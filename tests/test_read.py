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


def _workbook(path: Path, sheets: dict[str, bytes]) -> Path:
    """A minimal .xlsx whose sheets hold the given ``<sheetData>`` content."""
    import zipfile

    content_types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        + "</Types>"
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    relations = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    book = (
        f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{relations}"><sheets>'
        + "".join(
            f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in enumerate(sheets, start=1)
        )
        + "</sheets></workbook>"
    )
    book_rels = (
        f'<?xml version="1.0"?><Relationships xmlns="{package}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{relations}/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        + "</Relationships>"
    )
    root_rels = (
        f'<?xml version="1.0"?><Relationships xmlns="{package}"><Relationship Id="rId1" '
        f'Type="{relations}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", root_rels)
        archive.writestr("xl/workbook.xml", book)
        archive.writestr("xl/_rels/workbook.xml.rels", book_rels)
        for i, data in enumerate(sheets.values(), start=1):
            archive.writestr(
                f"xl/worksheets/sheet{i}.xml",
                f'<?xml version="1.0"?><worksheet xmlns="{main}"><sheetData>'.encode()
                + data
                + b"</sheetData></worksheet>",
            )
    return path


def test_cells_without_references_are_held_to_the_cell_limit(tmp_path: Path) -> None:
    """One row at 1,000,000 with 100 cells that name no position: calamine would place
    them by counting and build a box of 100 million cells (5 GB, 56 s in a child)."""
    import time

    row = b'<row r="1000000">' + b"<c><v>1</v></c>" * 100 + b"</row>"
    path = _workbook(
        tmp_path / "noref.xlsx", {"Data": b'<row r="1"><c r="A1"><v>1</v></c></row>' + row}
    )
    assert path.stat().st_size < 5_000
    start = time.perf_counter()
    with pytest.raises(InputError) as raised:
        read_workbook(path)
    assert time.perf_counter() - start < 5
    message = str(raised.value)
    assert message.startswith("noref.xlsx, sheet 'Data': spans 1,000,000 rows x 100 columns")
    assert "20,000,000" in message and "\n" not in message


def test_the_limit_holds_for_the_workbook_not_each_sheet(tmp_path: Path) -> None:
    from migstock.parse.read import check_xlsx_sheets

    far = b'<row r="600000"><c r="T600000"><v>1</v></c></row>'  # 12 million cells from A1
    one = _workbook(tmp_path / "one.xlsx", {"First": far})
    assert check_xlsx_sheets(one) is True  # within the limit (not read: 12 million cells)
    two = _workbook(tmp_path / "two.xlsx", {"First": far, "Second": far})
    with pytest.raises(InputError, match=r"two.xlsx, sheet 'Second': .*24,000,000 cells"):
        read_workbook(two)


@pytest.mark.parametrize(
    "cells",
    [
        b'<row r="3"><c t="n"><v>1</v></c><c><v>2</v></c></row>',  # no r=: C3 is B3's neighbour
        b'<row r="3"><c s="0" r="A3"><v>1</v></c><c\tr="B3"><v>2</v></c></row>',  # odd markup
        b'<row r="3"><x:c r="A3" xmlns:x="urn:x"><x:v>1</x:v></x:c><c r="B3"><v>2</v></c></row>',
    ],
)
def test_unusual_cells_are_placed_as_calamine_places_them(tmp_path: Path, cells: bytes) -> None:
    from migstock.parse.read import _placed_range, check_xlsx_sheets

    path = _workbook(tmp_path / "odd.xlsx", {"Data": cells})
    assert _placed_range(cells) == (3, 2)
    assert check_xlsx_sheets(path) is False  # read in the child process, to be safe
    grid = read_workbook(path).sheets["Data"]
    assert grid.shape == (3, 2)
    assert grid.iat[2, 1] == 2


def test_the_child_reader_memory_follows_from_the_cell_limit() -> None:
    from migstock.parse import read

    assert read.CHILD_MEMORY_BYTES <= 2 * 1024**3
    assert read.CHILD_MEMORY_BYTES >= read.MAX_WORKBOOK_CELLS * 64  # calamine's box + Python's
    assert str(read.CHILD_MEMORY_BYTES) in read._CHILD  # the cap the child sets itself


def test_an_over_long_inline_string_names_its_cell(tmp_path: Path) -> None:
    text = b"x" * 40_000
    path = _workbook(
        tmp_path / "long.xlsx",
        {"Data": b'<row r="2"><c r="C2" t="inlineStr"><is><t>' + text + b"</t></is></c></row>"},
    )
    with pytest.raises(InputError, match=r"long.xlsx, sheet 'Data', cell C2: .*40,000 characters"):
        read_workbook(path)


def test_a_newline_in_a_file_name_never_splits_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad\nname\x1b[31m.xlsx"
    path.write_bytes(b"")
    with pytest.raises(InputError) as raised:
        read_workbook(path)
    assert str(raised.value) == "bad\\nname\\x1b[31m.xlsx: the file is empty"
    sheet = InputError(tmp_path / "a.xlsx", "bad value\nhere", sheet="Table\u20281", cell="B2")
    assert str(sheet) == "a.xlsx, sheet 'Table\\u20281', cell B2: bad value\\nhere"


def test_the_child_reader_gives_the_same_grids(tmp_path: Path) -> None:
    """The child hands rows over in chunks; the grids are those read in this process."""
    from migstock.parse import read

    path = _workbook(
        tmp_path / "book.xlsx",
        {
            "Offset": b'<row r="3"><c r="B3"><v>1</v></c><c r="C3"><v>2</v></c></row>'
            b'<row r="4"><c r="C4" t="inlineStr"><is><t>x</t></is></c></row>',
            "Empty": b"",
            "Long": b"".join(
                b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(1, 9000)
            ),
        },
    )
    here, child = read._read_sheets(path, "xlsx"), read._read_sheets_in_child(path, "xlsx")
    assert list(here) == list(child) == ["Offset", "Empty", "Long"]
    for name in here:
        assert here[name].shape == child[name].shape
        assert here[name].tolist() == child[name].tolist()


def test_a_part_larger_than_its_zip_directory_says_is_refused_unread(tmp_path: Path) -> None:
    """A zip bomb whose directory lies: 2,000 bytes declared for a sheet of 50 MB. The
    declared sizes pass every limit; the bytes are counted as they are unpacked, and
    unpacking stops one chunk past the declared size."""
    import time
    import tracemalloc

    from tests.workbooks import declare

    cells = b'<row r="1"><c r="A1"><v>1</v></c></row>' + b" " * 50_000_000
    path = declare(
        _workbook(tmp_path / "liar.xlsx", {"Data": cells}), "xl/worksheets/sheet1.xml", size=2_000
    )
    start = time.perf_counter()
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as raised:
            read_workbook(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 5
    assert peak < 10_000_000  # never the 50 MB
    assert str(raised.value) == (
        "liar.xlsx: refused as a possible zip bomb: part xl/worksheets/sheet1.xml unpacks to "
        "more than the 2,000 bytes its zip directory declares"
    )


def test_a_part_that_fails_its_crc_is_a_damaged_file(tmp_path: Path) -> None:
    from tests.workbooks import declare

    path = _workbook(tmp_path / "crc.xlsx", {"Data": b'<row r="1"><c r="A1"><v>1</v></c></row>'})
    assert read_workbook(path).sheets["Data"].iat[0, 0] == 1
    declare(path, "xl/worksheets/sheet1.xml", crc=0x12345678)
    with pytest.raises(InputError) as raised:
        read_workbook(path)
    assert str(raised.value) == (
        "crc.xlsx: the .xlsx file is damaged or truncated (part xl/worksheets/sheet1.xml fails "
        "its CRC-32 check)"
    )


def test_a_part_whose_data_is_damaged_is_a_damaged_file(tmp_path: Path) -> None:
    """Deflate data that cannot be inflated: zlib's error, worded as a damaged file."""
    import zipfile

    path = _workbook(
        tmp_path / "bits.xlsx", {"Data": b'<row r="1"><c r="A1"><v>1</v></c></row>' * 500}
    )
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("xl/worksheets/sheet1.xml")
    blob = bytearray(path.read_bytes())
    data = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)
    blob[data : data + 64] = b"\xff" * 64  # the start of its deflate stream
    path.write_bytes(bytes(blob))
    with pytest.raises(InputError, match=r"^bits.xlsx: the .xlsx file is damaged or truncated \("):
        read_workbook(path)
