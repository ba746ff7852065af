"""The staging store: parsed rows leave pandas at once and come back unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from migstock.acquire.provenance import local_file
from migstock.parse.cells import SEXES
from migstock.parse.harmonize import ORIGIN_KINDS
from migstock.parse.prepare import prepare_file, staged
from migstock.pipeline import revision_load
from migstock.staging import StagedRows, Staging, staging_dir
from migstock.store import load_revisions

BILATERAL_2015 = "UN_MigrantStockByOriginAndDestination_2015.xlsx"
TOTALS_2015 = "UN_MigrantStockTotal_2015.xlsx"


def _enum(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return con.execute(f"SELECT unnest(enum_range(NULL::{name}))").df().iloc[:, 0].tolist()


def test_the_staged_labels_are_the_parsers(tmp_path: Path) -> None:
    with Staging(tmp_path / "m.duckdb") as staging:
        assert _enum(staging.con, "origin_kind") == ORIGIN_KINDS
        assert _enum(staging.con, "sex") == SEXES


@pytest.mark.parametrize("name", [BILATERAL_2015, TOTALS_2015])
def test_staged_rows_come_back_as_parsed(tmp_path: Path, official_dir: Path, name: str) -> None:
    parsed = prepare_file(local_file(official_dir / name, "raw-dir"))
    with Staging(tmp_path / "m.duckdb") as staging:
        item = staged(parsed, staging)
        assert isinstance(item.rows, StagedRows) and len(item.rows) == len(parsed.rows)
        back = item.rows.frame()
    expected = parsed.rows
    assert list(back.columns) == list(expected.columns)
    for column in expected.columns:  # same values in the same order; labels may be categories
        left, right = back[column], expected[column]
        if isinstance(right.dtype, pd.CategoricalDtype) or right.dtype == "string":
            left, right = left.astype("string"), right.astype("string")
        pd.testing.assert_series_equal(left, right, check_names=False, check_dtype=False)
    # the nullable integers stay nullable (the GX suites check them as such)
    assert str(back["migrants"].dtype) == "Int64"


def test_a_load_from_staged_rows_equals_a_load_from_frames(
    tmp_path: Path, official_dir: Path
) -> None:
    files = [prepare_file(local_file(official_dir / n, "raw-dir")) for n in (BILATERAL_2015,)]
    from_frames, from_staging = tmp_path / "a" / "m.duckdb", tmp_path / "b" / "m.duckdb"
    load_revisions(from_frames, from_frames.parent / "parquet", [revision_load(2015, files)])
    with Staging(from_staging) as staging:
        load = revision_load(2015, [staged(f, staging) for f in files])
        assert isinstance(load.bilateral_stock, StagedRows)
        load_revisions(from_staging, from_staging.parent / "parquet", [load])
        assert staging.path.exists()  # still there for the reports after the load
    assert not staging_dir(from_staging).exists()  # gone with the run

    def rows(db: Path) -> list[tuple]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("SELECT * FROM bilateral_stock ORDER BY ALL").fetchall()

    assert rows(from_staging) == rows(from_frames)


def test_a_killed_runs_staging_file_goes_with_the_next_run(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    folder = staging_dir(db)
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    leftover = folder / f"{dead.stdout.strip()}-0000.duckdb"
    leftover.write_bytes(b"")
    alive = folder / f"{os.getppid()}-0000.duckdb"  # a live process (our parent): kept
    alive.write_bytes(b"")
    with Staging(db):
        assert not leftover.exists()
        assert alive.exists()
