"""How the exchange files are published: by the load's ``before_switch``; the store and
the exchange writer do not import each other.

Small stores of the official 2015 and 2020 destination-totals workbooks (no bilateral
rows), built through ``load_revisions`` as a run does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from migstock import store
from migstock.acquire.provenance import local_file
from migstock.errors import StoreError
from migstock.parse.prepare import prepare_file
from migstock.pipeline import revision_load
from migstock.store import RevisionLoad, current_pointer, load_revisions

SRC = Path(__file__).resolve().parents[1] / "src" / "migstock"
TOTALS = {
    2015: "UN_MigrantStockTotal_2015.xlsx",
    2020: "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx",
}


def _imports(package: Path) -> set[str]:
    """Every module the package's files import (relative imports resolved)."""
    found: set[str] = set()
    for path in package.rglob("*.py"):
        module_path = ["migstock", *path.relative_to(SRC).with_suffix("").parts]
        here = module_path[:-1]  # the package a relative import starts from
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_store_and_exchange_do_not_import_each_other() -> None:
    store_imports = _imports(SRC / "store")
    exchange_imports = _imports(SRC / "exchange")
    assert "duckdb" in store_imports and "duckdb" in exchange_imports, "imports are seen"
    assert "migstock.store.docs.apply_comments" in store_imports, "names imported are seen"
    assert not {m for m in store_imports if m.startswith("migstock.exchange")}
    assert not {m for m in exchange_imports if m.startswith("migstock.store")}


@pytest.fixture(scope="module")
def loads(official_dir: Path) -> dict[int, RevisionLoad]:
    return {
        number: revision_load(number, [prepare_file(local_file(official_dir / name, "raw-dir"))])
        for number, name in TOTALS.items()
    }


def _version(db: Path) -> Path:
    return current_pointer(db).resolve()


def test_the_files_before_switch_writes_are_published_and_its_failure_publishes_nothing(
    tmp_path: Path, loads: dict[int, RevisionLoad]
) -> None:
    db = tmp_path / "m.duckdb"
    seen: list[tuple[Path, bool, int]] = []

    def write_more(con: duckdb.DuckDBPyConnection, version: Path) -> None:
        rows = con.execute("SELECT count(*) FROM destination_totals").fetchall()[0][0]
        seen.append((version, (version / "parquet").is_dir(), rows))
        (version / "more.txt").write_text("written before the switch\n")

    load_revisions(db, tmp_path / "parquet", [loads[2015]], before_switch=write_more)
    ((version, parquet_written, rows),) = seen
    assert version == _version(db) and parquet_written and rows > 0
    assert (version / "more.txt").stat().st_mode & 0o777 == store.PUBLISHED_FILE_MODE

    def fail(con: duckdb.DuckDBPyConnection, version: Path) -> None:
        seen.append((version, False, 0))
        raise StoreError("the exchange files could not be written")

    with pytest.raises(StoreError, match="could not be written"):
        load_revisions(db, tmp_path / "parquet", [loads[2020]], before_switch=fail)
    assert _version(db) == version, "still the version before"
    assert not seen[-1][0].exists(), "the unpublished version is removed"
    load_revisions(db, tmp_path / "parquet", [loads[2020]])  # no callback: no exchange files
    assert not (_version(db) / "sdmx").exists()


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory, loads: dict[int, RevisionLoad]) -> Path:
    db = tmp_path_factory.mktemp("small-store") / "migstock.duckdb"
    load_revisions(db, db.parent / "parquet", list(loads.values()))
    return db


def test_the_data_package_reads_its_descriptions_from_the_store(small_store: Path) -> None:
    from migstock.exchange.datapackage import table_schema
    from migstock.store.docs import describe

    with duckdb.connect(str(small_store), read_only=True) as con:
        fields = table_schema(con, "destination_totals")["fields"]
    assert fields, "the table has columns"
    for field in fields:
        assert field["description"] == describe("destination_totals", field["name"])
