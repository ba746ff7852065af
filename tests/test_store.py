"""Atomic, repeatable loads of the curated store (no Prefect)."""

import hashlib
from pathlib import Path

import duckdb
import pytest

from migstock.acquire.provenance import local_file
from migstock.errors import StoreError
from migstock.parse.prepare import prepare_file
from migstock.pipeline import revision_load
from migstock.store import RevisionLoad, load_lock, load_revisions


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def load_2020(official_dir: Path) -> RevisionLoad:
    raw = local_file(
        official_dir / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx", "raw-dir"
    )
    return revision_load(2020, [prepare_file(raw)])


def _table(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_reloading_the_same_input_gives_identical_tables(tmp_path: Path, load_2020) -> None:
    db, parquet = tmp_path / "m.duckdb", tmp_path / "parquet"
    load_revisions(db, parquet, [load_2020])
    first = _table(db, "SELECT * FROM destination_totals ORDER BY ALL")
    load_revisions(db, parquet, [load_2020])
    assert _table(db, "SELECT * FROM destination_totals ORDER BY ALL") == first
    assert _table(db, "SELECT count(*) FROM raw_files") == [(1,)]
    files = f"{parquet}/destination_totals/*/*.parquet"
    read_back = _table(db, f"SELECT count(*) FROM read_parquet('{files}', hive_partitioning=true)")
    assert read_back == [(len(first),)]


def test_a_failing_load_leaves_database_and_parquet_unchanged(tmp_path: Path, load_2020) -> None:
    db, parquet = tmp_path / "m.duckdb", tmp_path / "parquet"
    load_revisions(db, parquet, [load_2020])
    before_db, before_parquet = _digest(db), _tree_digest(parquet)
    broken = RevisionLoad(
        2020, destination_totals=load_2020.destination_totals.drop(columns="year")
    )
    with pytest.raises(StoreError, match="could not write the store"):
        load_revisions(db, parquet, [broken])
    assert _digest(db) == before_db
    assert _tree_digest(parquet) == before_parquet
    assert not list(tmp_path.glob(".*tmp*")), "temporary files left behind"


def test_reader_keeps_its_snapshot_during_a_load(tmp_path: Path, load_2020) -> None:
    db, parquet = tmp_path / "m.duckdb", tmp_path / "parquet"
    load_revisions(db, parquet, [load_2020])
    with duckdb.connect(str(db), read_only=True) as reader:
        before = reader.execute("SELECT count(*) FROM destination_totals").fetchone()
        load_revisions(db, parquet, [load_2020])  # a reader does not block the load
        assert reader.execute("SELECT count(*) FROM destination_totals").fetchone() == before


def test_two_loads_never_run_at_once(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    with (
        load_lock(db),
        pytest.raises(StoreError, match="another migstock load holds"),
        load_lock(db, timeout_s=0.3),
    ):
        pass
