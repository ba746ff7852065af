"""Exports for researchers: an xlsx says what it is and how to cite it; empty results warn."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from migstock.cli import app

TOTALS_2020 = "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
COOKBOOK = Path(__file__).resolve().parents[1] / "docs" / "cookbook.md"


@pytest.fixture(scope="module")
def store_2020(tmp_path_factory: pytest.TempPathFactory, official_dir: Path) -> Path:
    """A store holding the official 2020 destination totals (built without Prefect)."""
    from migstock.acquire.provenance import local_file
    from migstock.parse.prepare import prepare_file
    from migstock.pipeline import revision_load
    from migstock.store import load_revisions

    load = revision_load(2020, [prepare_file(local_file(official_dir / TOTALS_2020, "raw-dir"))])
    db = tmp_path_factory.mktemp("store2020") / "migstock.duckdb"
    load_revisions(db, db.parent / "parquet", [load])
    return db


def test_an_xlsx_export_has_an_about_sheet_frozen_header_and_widths(
    store_2020: Path, tmp_path: Path, official_dir: Path
) -> None:
    target = tmp_path / "totals.xlsx"
    args = ["export", "arab_region_totals", "--format", "xlsx", "--revision", "2020"]
    result = CliRunner().invoke(app, [*args, "--output", str(target), "--db", str(store_2020)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["arab_region_totals", "About"]
    data = book["arab_region_totals"]
    assert data.freeze_panes == "A2"
    assert data.column_dimensions["A"].width > 8  # fitted, not Excel's default
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row[0]}
    assert about["Query"] == 'SELECT * FROM "arab_region_totals" WHERE revision = 2020'
    assert about["Cite as"].startswith(
        "United Nations Department of Economic and Social Affairs, Population Division (2020)"
    )
    assert about["Licence"].startswith("CC BY 3.0 IGO: https://creativecommons.org/licenses/")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", about["Made"])
    rows = list(book["About"].iter_rows(values_only=True))
    header = rows.index(next(r for r in rows if r[0] == "revision"))
    source = dict(zip(rows[header], rows[header + 1], strict=True))
    assert source["file_name"] == TOTALS_2020
    sha = hashlib.sha256((official_dir / TOTALS_2020).read_bytes()).hexdigest()
    assert source["sha256"] == sha


def test_an_empty_export_or_query_warns_on_stderr(store_2020: Path, tmp_path: Path) -> None:
    target = tmp_path / "none.csv"
    args = ["export", "arab_region_totals", "--revision", "2013", "--output", str(target)]
    result = CliRunner().invoke(app, [*args, "--db", str(store_2020)])
    assert result.exit_code == 0
    assert "warning: arab_region_totals has no rows for revision 2013" in result.stderr
    assert "warning" not in result.stdout
    query = CliRunner().invoke(
        app, ["sql", "SELECT * FROM revisions WHERE revision = 1", "--db", str(store_2020)]
    )
    assert query.exit_code == 0 and "warning: the query returned no rows" in query.stderr
    rows = CliRunner().invoke(app, ["sql", "SELECT * FROM revisions", "--db", str(store_2020)])
    assert "warning" not in rows.stderr


def test_cookbook_query_7_rounds_every_share_alike(store_2020: Path) -> None:
    sql = re.search(r"## 7\..*?```sql\n(.*?)```", COOKBOOK.read_text(), re.S).group(1)
    with duckdb.connect(str(store_2020), read_only=True) as con:
        shares = [row[2] for row in con.execute(sql).fetchall()]
    assert len(shares) == 7  # the six GCC countries and the GCC
    assert all(share == round(share, 1) for share in shares), shares
