"""``migstock run`` on a folder of age workbooks beside an official one: every file is
recognised whatever its name, the unknown 2013 layout is refused in one line, the rest
loads."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from migstock.acquire.provenance import local_file
from migstock.cli import app
from migstock.demo.samples import write_age_workbook
from migstock.parse.prepare import prepare_file
from tests.age_workbooks import age_from_totals, age_tables, write_age

pytestmark = pytest.mark.slow

TOTALS_2020 = "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"


def test_a_run_loads_the_known_age_layouts_and_refuses_2013_in_one_line(
    official_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGSTOCK_DATA_DIR", str(tmp_path / "data"))
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / TOTALS_2020).symlink_to(official_dir / TOTALS_2020)
    totals = prepare_file(local_file(official_dir / TOTALS_2020, "raw-dir"))
    names = dict(zip(totals.names["code"], totals.names["name"], strict=True))
    migrants, population = age_from_totals(totals.rows, names, [900, 682, 818, 400])
    write_age_workbook(raw / "ages 2020.xlsx", 2020, sorted(migrants[("WORLD", 900)]),
                       migrants, population)  # fmt: skip
    write_age(raw / "old download.xlsx", 2015)
    unknown, _ = age_tables(2015, years=[1990])
    write_age_workbook(raw / "UN_MigrantStockByAge_2013.xlsx", 2013, [1990], unknown)

    result = CliRunner().invoke(
        app, ["run", "--raw-dir", str(raw), "--revision", "2013", "--revision", "2015",
              "--revision", "2020"], env={"COLUMNS": "250"},
    )  # fmt: skip
    output = result.output
    assert result.exit_code == 1, output
    assert "Traceback" not in output
    for subject, status in (
        ("revision 2015", "loaded"),
        ("revision 2020", "loaded"),
        ("UN_MigrantStockByAge_2013.xlsx", "rejected"),
    ):
        assert re.search(rf"{re.escape(subject)}\s+│ {status}", output), subject
    (error,) = [line for line in output.splitlines() if line.startswith("error: ")]
    assert "the 2013 age layout is not known" in error
    # the age workbook agrees with the official totals: no age warning
    assert "age workbook, all ages" not in output and "age groups" not in output
    assert re.search(r"ages 2020.xlsx, undesa_pd_2020_\S+, 1 warning", output), output
    db = tmp_path / "data" / "curated" / "migstock.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = con.execute(
            "SELECT revision, dataset, file_name FROM raw_files ORDER BY ALL"
        ).fetchall()
        saudi = con.execute(
            "SELECT migrants FROM age_stock WHERE revision = 2020 AND year = 2020 "
            "AND destination_code = 682 AND sex = 'total' AND age_group = 'total'"
        ).fetchone()
    assert loaded == [
        (2015, "age", "old download.xlsx"),
        (2020, "age", "ages 2020.xlsx"),
        (2020, "destination_totals", TOTALS_2020),
    ]
    assert saudi == (13_454_842,)  # SOURCES.md: Saudi Arabia, 2020 revision, 2020
