"""Validation fits real publications: the UN's own aggregates that do not add up
warn and load; a country that does not add up blocks, leaves the store as it was,
and rejects only its own workbook."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from migstock.acquire.provenance import local_file
from migstock.catalog import revision
from migstock.demo.samples import write_grids
from migstock.parse.blocks import year_columns
from migstock.parse.cells import SheetRef, year_of
from migstock.parse.labels import find_label
from migstock.parse.prepare import prepare_file
from migstock.parse.read import read_workbook
from migstock.parse.sheets import classify_sheet
from migstock.validate import validate_revision

JORDAN = 400
LDC = 941  # "Least developed countries"


def _raise_cell(path: Path, target: Path, code: int, year: int, sex: str, by: float) -> Path:
    """Copy a destination-totals workbook with one Table 1 cell raised by ``by``."""
    book = read_workbook(path)
    name = next(
        n for n, g in book.sheets.items() if classify_sheet(g, SheetRef(path, n)).table == 1
    )
    grid = book.sheets[name]
    info = classify_sheet(grid, SheetRef(path, name))
    code_col = find_label(grid.iloc[info.header_row].tolist(), "destination_code")
    row = next(i for i, v in enumerate(grid.iloc[:, code_col].tolist()) if v == float(code))
    has_years = any(year_of(v) for v in grid.iloc[info.header_row].tolist())
    year_row = info.header_row if has_years else info.header_row + 1
    columns = year_columns(
        grid, SheetRef(path, name), year_row=year_row, title_rows=range(year_row)
    )
    col = next(c.col for c in columns if c.year == year and c.block == sex)
    grid.iat[row, col] = float(grid.iat[row, col]) + by
    return write_grids(book.sheets, target)


def _cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    """``migstock`` in its own process, as a user runs it."""
    env = {**os.environ, "COLUMNS": "200"}
    command = [str(Path(sys.executable).with_name("migstock")), *arguments]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def _digest(folder: Path) -> dict[str, str]:
    """Every file of the store by content (the empty lock file a run takes is not data)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".lock"
    }


def test_aggregates_that_do_not_add_up_warn_and_list_the_cells(validator, official_dir) -> None:
    """2015: 'Least developed countries' (941) has male + female above both sexes by
    3,357-5,998 in every year; every country adds up. The UN's file must load."""
    item = prepare_file(local_file(official_dir / "UN_MigrantStockTotal_2015.xlsx", "raw-dir"))
    report = validate_revision(validator, revision(2015), [item])
    assert report.passed, [r.describe() for r in report.blocking_failures]
    warning = next(
        r
        for r in report.warnings
        if "male_plus_female" in (r.condition or "") and "aggregate == True" in r.condition
    )
    assert warning.unexpected_count == 6
    assert {row["destination_code"] for row in warning.sample} == {LDC}
    assert sorted(row["year"] for row in warning.sample) == list(revision(2015).years)
    assert all(3_357 <= row["abs_difference"] <= 5_998 for row in warning.sample)


@pytest.mark.slow
def test_a_country_that_does_not_add_up_blocks_and_the_store_stays_byte_identical(
    real_store: Path, official_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "curated" / "migstock.duckdb"
    db.parent.mkdir()
    shutil.copy(real_store, db)
    shutil.copytree(real_store.parent / "parquet", db.parent / "parquet")
    before = _digest(db.parent)
    raw = tmp_path / "raw"
    raw.mkdir()
    _raise_cell(
        official_dir / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx",
        raw / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx",
        JORDAN,
        2020,
        "female",
        50_000,
    )
    result = _cli("run", "--raw-dir", str(raw), "--db", str(db))
    assert result.returncode == 1, result.stderr
    assert "revision 2020 destination_totals" in result.stderr
    assert "Males + females must equal the published total" in result.stderr
    assert "Jordan (400) 2020" in result.stderr
    after = {k: v for k, v in _digest(db.parent).items() if not k.startswith("validation")}
    assert after == {k: v for k, v in before.items() if not k.startswith("validation")}


@pytest.mark.slow
def test_a_blocked_totals_workbook_does_not_cost_the_bilateral_table_beside_it(
    official_dir: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(official_dir / "UN_MigrantStockByOriginAndDestination_2015.xlsx", raw)
    _raise_cell(
        official_dir / "UN_MigrantStockTotal_2015.xlsx",
        raw / "UN_MigrantStockTotal_2015.xlsx",
        JORDAN,
        2015,
        "female",
        50_000,
    )
    db = tmp_path / "curated" / "migstock.duckdb"
    from migstock import pipeline
    from migstock.acquire import Scope

    summary = pipeline.run(Scope.of_run(raw), db)
    assert summary.failed
    statuses = {o.subject: o.status for o in summary.outcomes}
    assert statuses["revision 2015 destination_totals"] == "rejected"
    assert statuses["revision 2015"] == "loaded"
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = con.execute("SELECT dataset FROM raw_files WHERE revision = 2015").fetchall()
        saudi = con.execute(
            "SELECT migrants FROM bilateral_stock WHERE revision = 2015 AND year = 2015 "
            "AND destination_code = 682 AND origin_kind = 'total' AND sex = 'total'"
        ).fetchone()
        totals = con.execute("SELECT count(*) FROM destination_totals").fetchone()
    assert loaded == [("bilateral",)]
    assert saudi == (10_185_945,)
    assert totals == (0,)
    assert (raw / "UN_MigrantStockTotal_2015.xlsx").exists()  # the rejected raw file is kept
