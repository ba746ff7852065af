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
from migstock.store import access, load_revisions


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
        ("explain-create", "EXPLAIN ANALYZE CREATE TEMP TABLE t AS SELECT 1", "CREATE is refused"),
        (
            "explain-insert",
            "EXPLAIN ANALYZE INSERT INTO locations SELECT * FROM locations",
            "INSERT is refused",
        ),
        (
            "explain-options",
            "EXPLAIN (ANALYZE, FORMAT json) DELETE FROM locations",
            "DELETE is refused",
        ),
        ("checkpoint", "SELECT * FROM checkpoint()", "checkpoint() is refused"),
        ("force-checkpoint", "FROM main.force_checkpoint()", "force_checkpoint() is refused"),
        (
            "explain-checkpoint",
            "EXPLAIN ANALYZE SELECT * FROM checkpoint()",
            "checkpoint() is refused",
        ),
        (
            "nested-checkpoint",
            "WITH c AS (SELECT * FROM (SELECT 1 FROM checkpoint())) SELECT * FROM c",
            "checkpoint() is refused",
        ),
        ("write-log", "SELECT write_log('x')", "write_log() is refused"),
        ("query-text", "SELECT * FROM query('SELECT 1')", "query() is refused"),
        ("logging", "SELECT * FROM enable_logging()", "enable_logging() is refused"),
        ("update-extensions", "UPDATE EXTENSIONS", "UPDATE EXTENSIONS is refused"),
        ("dynamic-pivot", "PIVOT locations ON name USING count(*)", "MULTI is refused"),
        ("pragma", "PRAGMA force_checkpoint", "PRAGMA is refused"),
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


def test_refusals_are_one_line_and_say_how_to_keep_own_tables(store: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["sql", "CREATE TABLE mine AS SELECT 1 AS x", "--db", str(store)]
    )
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0, result.output
    sql = result.output.split("read-only: ", 1)[1].strip()
    assert sql.startswith(f"ATTACH '{store}' AS store (READ_ONLY);")
    with duckdb.connect(str(tmp_path / "mine.duckdb")) as own:  # the advice works as given
        for statement in sql.split(";"):
            own.execute(statement)
        copied = own.execute("SELECT count(*) FROM my_table").fetchone()[0]
    with duckdb.connect(str(store), read_only=True) as con:
        assert copied == con.execute("SELECT count(*) FROM arab_immigrants").fetchone()[0]


def test_every_table_function_and_volatile_function_is_classified(store: Path) -> None:
    """The allow/deny rule covers this DuckDB's whole list: a new function fails here
    (and is refused at run time) until it is classified."""
    classified = (
        access.READ_ONLY_TABLE_FUNCTIONS
        | access.FILE_READING_FUNCTIONS
        | set(access.SIDE_EFFECT_FUNCTIONS)
        | access.HARMLESS_VOLATILE_FUNCTIONS
    )
    with access.connect_sandbox(store) as con:
        guarded = access.guarded_functions(con)
        listed = {
            name
            for (name,) in con.execute("SELECT function_name FROM duckdb_functions()").fetchall()
        }
    assert guarded - classified == set()
    assert {"checkpoint", "force_checkpoint", "write_log", "query"} <= guarded
    unlisted = classified - listed
    assert unlisted == set(), f"classified but not in this DuckDB: {unlisted}"


def test_each_function_with_side_effects_or_files_is_refused(store: Path) -> None:
    with access.connect_sandbox(store) as con:
        for name in sorted({*access.SIDE_EFFECT_FUNCTIONS, *access.FILE_READING_FUNCTIONS}):
            for select in (f"SELECT * FROM {name}()", f"SELECT {name}('x') AS v"):
                assert access.refused_function(con, select) is not None, select
        # a table function nobody has classified yet is refused too
        why = access.refused_function(con, "SELECT * FROM brand_new()", {"brand_new"})
        assert why is not None and "brand_new() is refused" in why
        for harmless in ("SELECT * FROM range(3)", "SELECT random(), * FROM duckdb_tables()"):
            assert access.refused_function(con, harmless) is None, harmless


@pytest.mark.parametrize(
    "statement",
    [
        "EXPLAIN SELECT count(*) FROM locations",
        "EXPLAIN ANALYZE SELECT count(*) FROM locations",
        "EXPLAIN (FORMAT json) SELECT count(*) FROM locations",
        "DESCRIBE locations",
        "SUMMARIZE locations",
        "SHOW TABLES",
        "FROM locations SELECT count(*)",
        "PIVOT (SELECT sex, migrants FROM destination_totals) ON sex IN ('male', 'female') "
        "USING sum(migrants)",
    ],
)
def test_queries_of_every_kind_still_run(store: Path, statement: str) -> None:
    code, output = _sql(store, statement)
    assert code == 0, output


def test_limits_are_set_before_the_configuration_is_locked(store: Path) -> None:
    limits = access.Limits(timeout_s=5, memory="300MB")
    frame = access.query(
        store,
        "SELECT current_setting('memory_limit') AS memory, "
        "current_setting('temp_directory') AS spill",
        limits,
    )
    assert frame.to_dict("records") == [{"memory": "286.1 MiB", "spill": ""}]
    with access.connect_sandbox(store, limits) as con:  # not even DuckDB's own SET
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET memory_limit = '50GB'")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET temp_directory = '/tmp'")


def test_long_queries_come_from_a_file_or_standard_input(store: Path, tmp_path: Path) -> None:
    codes = ", ".join(str(code) for code in range(100_000, 160_000))  # > 128 KiB, one argv max
    long_query = f"SELECT count(*) AS n FROM locations WHERE code NOT IN ({codes})"
    assert len(long_query) > 400_000
    expected = _locations(store)
    query_file = tmp_path / "long.sql"
    query_file.write_text(long_query, encoding="utf-8")
    runner = CliRunner()
    for arguments, stdin in ((["--file", str(query_file)], None), (["--file", "-"], long_query)):
        result = runner.invoke(
            app, ["sql", *arguments, "--db", str(store), "--format", "csv"], input=stdin
        )
        assert result.exit_code == 0, result.output
        assert result.output.split() == ["n", str(expected)]
    neither = runner.invoke(app, ["sql", "--db", str(store)])
    both = runner.invoke(app, ["sql", "SELECT 1", "--file", str(query_file), "--db", str(store)])
    assert neither.exit_code == both.exit_code == 2
    missing = runner.invoke(app, ["sql", "--file", str(tmp_path / "nope.sql"), "--db", str(store)])
    assert missing.exit_code == 2 and "cannot read --file" in missing.output
