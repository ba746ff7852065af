"""`migstock sql` is a read-only sandbox: one test per statement kind it refuses,
and the store (file and content) is unchanged after each."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from migstock.acquire.provenance import local_file
from migstock.cli import app
from migstock.parse.prepare import prepare_file
from migstock.pipeline import revision_load
from migstock.store import load_revisions


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, official_dir: Path) -> Path:
    raw = local_file(
        official_dir / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx", "raw-dir"
    )
    db = tmp_path_factory.mktemp("sandbox") / "curated" / "migstock.duckdb"
    load_revisions(db, db.parent / "parquet", [revision_load(2020, [prepare_file(raw)])])
    return db


def _locations(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM locations").fetchone()[0]


def _sql(db: Path, statement: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["sql", statement, "--db", str(db)])
    return result.exit_code, " ".join(result.output.split())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("kind", "template", "message"),
    [
        ("copy-to", "COPY locations TO '{out}/x.csv'", "COPY is refused"),
        ("copy-from", "COPY locations FROM '/etc/hostname'", "COPY is refused"),
        ("export", "EXPORT DATABASE '{out}/dump'", "EXPORT is refused"),
        ("attach-new", "ATTACH '{out}/new.duckdb'", "ATTACH is refused"),
        ("attach-link", "ATTACH '{link}' AS s (READ_WRITE)", "ATTACH is refused"),
        ("install", "INSTALL httpfs", "LOAD is refused"),
        ("load", "LOAD httpfs", "LOAD is refused"),
        ("set", "SET log_query_path = '{out}/log.txt'", "SET is refused"),
        ("set-access", "SET enable_external_access = true", "SET is refused"),
        ("reset", "RESET lock_configuration", "SET is refused"),
        ("temp-table", "CREATE TEMP TABLE t AS SELECT 1 AS x", "CREATE is refused"),
        ("temp-view", "CREATE TEMP VIEW v AS SELECT 1 AS x", "CREATE is refused"),
        ("macro", "CREATE MACRO m(x) AS x", "CREATE is refused"),
        ("delete", "DELETE FROM locations", "DELETE is refused"),
        ("drop", "DROP TABLE locations", "DROP is refused"),
        ("second-statement", "SELECT 1; DELETE FROM locations", "DELETE is refused"),
        ("detach", "DETACH migstock", "DETACH is refused"),
        ("call", "CALL pragma_version()", "CALL is refused"),
    ],
)
def test_statement_kinds_that_could_escape_are_refused(
    store: Path, tmp_path: Path, kind: str, template: str, message: str
) -> None:
    link = tmp_path / "hard-link.duckdb"
    os.link(store.resolve(), link)  # the attack that changed the store before
    before, rows = _digest(store), _locations(store)
    code, output = _sql(store, template.format(out=tmp_path, link=link))
    assert code == 2
    assert message in output
    assert "migstock sql runs queries only (SELECT)" in output
    assert "Traceback" not in output
    assert _digest(store) == before and _locations(store) == rows
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard-link.duckdb"]  # nothing written


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/root/*')",
        "SELECT * FROM read_parquet('{parquet}/locations/data.parquet')",
    ],
)
def test_queries_cannot_read_other_files(store: Path, statement: str) -> None:
    code, output = _sql(store, statement.format(parquet=store.parent / "parquet"))
    assert code == 2
    assert "migstock sql reads only the store" in output


def test_queries_still_work(store: Path) -> None:
    code, output = _sql(
        store,
        "SELECT migrants FROM destination_totals "
        "WHERE revision = 2020 AND year = 2020 AND destination_code = 682 AND sex = 'total'",
    )
    assert code == 0, output
    assert "13454842" in output.replace(",", "")  # Saudi Arabia 2020, the real value
    code, output = _sql(store, "EXPLAIN SELECT count(*) FROM locations")
    assert code == 0, output
