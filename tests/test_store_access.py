"""What researchers rely on: documented tables, Parquet any reader can open,
read-only queries, exports, and loads that survive being killed."""

import hashlib
import json
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from migstock.cli import app
from migstock.store import create_empty
from migstock.store.docs import data_dictionary, missing_descriptions

REPO = Path(__file__).resolve().parents[1]


def _count(db: Path, sql: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_every_table_view_and_column_is_described(real_store: Path) -> None:
    with duckdb.connect(str(real_store), read_only=True) as con:
        assert missing_descriptions(con) == []
        comments = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'bilateral_stock' "
            "AND comment IS NULL"
        ).fetchone()
    assert comments == (0,)  # stored in the file for any DuckDB client


def test_data_dictionary_is_up_to_date() -> None:
    with duckdb.connect() as con:
        create_empty(con)
        expected = data_dictionary(con)
    on_disk = (REPO / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert on_disk == expected, "run: python scripts/build_data_dictionary.py"


@pytest.mark.parametrize("table", ["bilateral_stock", "destination_totals"])
def test_parquet_reads_the_same_in_duckdb_pyarrow_and_polars(real_store: Path, table: str) -> None:
    folder = real_store.parent / "parquet" / table
    in_db = _count(real_store, f"SELECT count(*) FROM {table}")
    revisions = {p.name for p in folder.iterdir()}
    assert revisions == {
        f"revision={r}"
        for (r,) in duckdb.connect(str(real_store), read_only=True)
        .execute(f"SELECT DISTINCT revision FROM {table}")
        .fetchall()
    }
    arrow = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    assert arrow.num_rows == in_db
    frame = pl.scan_parquet(f"{folder}/**/*.parquet", hive_partitioning=True).collect()
    assert frame.height == in_db
    assert frame.filter(pl.col("revision") == 2015).height == _count(
        real_store, f"SELECT count(*) FROM {table} WHERE revision = 2015"
    )


def test_sql_refuses_writes_with_a_clear_message(real_store: Path) -> None:
    before = hashlib.sha256(real_store.read_bytes()).hexdigest()
    result = CliRunner().invoke(app, ["sql", "DELETE FROM locations", "--db", str(real_store)])
    assert result.exit_code == 2
    assert "DELETE is refused" in " ".join(result.output.split())
    assert hashlib.sha256(real_store.read_bytes()).hexdigest() == before


def test_sql_output_formats(real_store: Path) -> None:
    query = (
        "SELECT region, migrants FROM arab_region_totals "
        "WHERE revision = 2020 AND year = 2020 AND sex = 'total' ORDER BY region"
    )
    as_json = CliRunner().invoke(app, ["sql", query, "--db", str(real_store), "--format", "json"])
    records = json.loads(as_json.output)
    assert {"region": "Arab region", "migrants": 41_416_894} in records
    as_csv = CliRunner().invoke(app, ["sql", query, "--db", str(real_store), "--format", "csv"])
    assert as_csv.output.splitlines()[0] == "region,migrants"
    assert "Arab region,41416894" in as_csv.output


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_export_any_view(real_store: Path, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"gcc.{fmt}"
    result = CliRunner().invoke(
        app,
        [
            "export",
            "arab_region_totals",
            "--format",
            fmt,
            "--output",
            str(target),
            "--revision",
            "2020",
            "--db",
            str(real_store),
        ],
    )
    assert result.exit_code == 0, result.output
    reader = {"csv": pd.read_csv, "parquet": pd.read_parquet, "xlsx": pd.read_excel}[fmt]
    frame = reader(target)
    assert len(frame) == _count(
        real_store, "SELECT count(*) FROM arab_region_totals WHERE revision = 2020"
    )
    assert set(frame["revision"]) == {2020}


def test_export_unknown_name_lists_the_choices(real_store: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export", "nope", "--db", str(real_store)])
    assert result.exit_code == 2
    assert "no table or view 'nope'" in result.output and "arab_immigrants" in result.output
