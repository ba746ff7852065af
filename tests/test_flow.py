"""The Prefect flow end to end on the real official workbooks."""

import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from migstock.cli import app
from migstock.refresh import refresh

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, official_dir: Path) -> Path:
    db = tmp_path_factory.mktemp("store") / "migstock.duckdb"
    state = refresh(raw_dir=official_dir, db_path=db, return_state=True)
    assert state.is_completed(), state.message
    return db


def _one(db: Path, sql: str) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()


def test_known_values_come_out(store: Path) -> None:
    assert _one(
        store,
        "SELECT migrants FROM arab_immigrants WHERE revision = 2015 AND year = 2015 "
        "AND destination_code = 682 AND origin_kind = 'total' AND sex = 'total'",
    ) == (10_185_945,)
    region = (
        "SELECT migrants FROM arab_region_totals WHERE revision = 2020 AND year = 2020 "
        "AND region = 'Arab region' AND sex = '{}'"
    )
    assert _one(store, region.format("total")) == (41_416_894,)
    assert _one(store, region.format("male")) == (27_806_942,)
    assert _one(store, region.format("female")) == (13_609_952,)


def test_every_row_traces_to_a_raw_file(store: Path) -> None:
    assert _one(
        store,
        "SELECT count(*) FROM bilateral_stock b LEFT JOIN raw_files r ON r.sha256 = b.raw_sha256 "
        "WHERE r.sha256 IS NULL",
    ) == (0,)
    # all six official workbooks (2015 x2, 2017, 2019, 2020, 2024) loaded in the one run
    assert _one(store, "SELECT count(*), count(DISTINCT revision) FROM raw_files") == (6, 5)


def test_parquet_mirrors_the_database(store: Path) -> None:
    parquet = store.parent / "parquet"
    assert (parquet / "bilateral_stock" / "revision=2015").is_dir()
    assert _one(
        store,
        f"SELECT count(*) FROM read_parquet('{parquet}/bilateral_stock/*/*.parquet')",
    ) == _one(store, "SELECT count(*) FROM bilateral_stock")


def test_corrupt_input_is_named_and_the_store_is_untouched(
    store: Path, tmp_path: Path, official_dir: Path
) -> None:
    db = tmp_path / "migstock.duckdb"
    shutil.copy(store, db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx").write_text(
        "<!DOCTYPE html><html><head><title>Page not found</title></head></html>"
    )
    result = CliRunner().invoke(app, ["run", "--raw-dir", str(raw), "--db", str(db)])
    assert result.exit_code == 1
    assert "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx: this is an HTML" in result.output
    assert "Traceback" not in result.output
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_offline_run_without_files_says_where_to_put_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MIGSTOCK_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["run", "--offline", "--revision", "2024"])
    assert result.exit_code == 1
    assert "undesa_pd_2024_ims_stock_by_sex_destination_and_origin.xlsx" in result.output
    assert not (tmp_path / "data" / "curated" / "migstock.duckdb").exists()


def test_validate_reruns_the_checks_without_loading(
    store: Path, tmp_path: Path, official_dir: Path
) -> None:
    db = tmp_path / "migstock.duckdb"
    shutil.copy(store, db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    result = CliRunner().invoke(
        app, ["validate", "--raw-dir", str(official_dir), "--db", str(db), "-r", "2020"]
    )
    assert result.exit_code == 0, result.output
    assert "revision 2020" in result.output and "valid" in result.output
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # nothing loaded
    (summary,) = (tmp_path / "validation" / "runs").glob("*/summary.html")
    assert "Revision 2020: passed" in re.sub(r"<[^>]+>", "", summary.read_text())
    with duckdb.connect(str(tmp_path / "validation" / "history.duckdb"), read_only=True) as con:
        assert con.execute("SELECT revision, status FROM validation_runs").fetchall() == [
            (2020, "passed")
        ]
