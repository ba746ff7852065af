"""One pipeline, two doors: ``migstock run`` in-process and as the Prefect flow, end to end
on the real official workbooks."""

import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from migstock.cli import app

pytestmark = pytest.mark.slow

DOORS = ("in-process", "prefect")


@pytest.fixture(scope="module")
def doors(
    tmp_path_factory: pytest.TempPathFactory, official_dir: Path, prefect_server: str
) -> dict[str, tuple[Path, object]]:
    """The same run through each door: (database, CliRunner result)."""
    runs = {}
    for door in DOORS:
        db = tmp_path_factory.mktemp(door) / "curated" / "migstock.duckdb"
        api = prefect_server if door == "prefect" else None
        result = CliRunner().invoke(
            app,
            ["run", "--raw-dir", str(official_dir), "--db", str(db)],
            env={"PREFECT_API_URL": api, "COLUMNS": "200"},
        )
        runs[door] = (db, result)
    return runs


@pytest.fixture(scope="module")
def store(doors: dict[str, tuple[Path, object]]) -> Path:
    db, result = doors["in-process"]
    assert result.exit_code == 0, result.output
    return db


def _content(db: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, without the columns that say when they were written."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        content = {}
        for table in tables:
            columns = [
                name
                for name, kind in con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?",
                    [table],
                ).fetchall()
                if not kind.startswith("TIMESTAMP")
            ]
            rows = con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            content[table] = sorted(rows, key=repr)
    return content


def _console(result: object, db: Path) -> list[str]:
    """The console of a run, with its own paths and run id replaced by placeholders."""
    text = result.output.replace(str(db.parent.parent), "ROOT")  # type: ignore[attr-defined]
    text = re.sub(r"runs/[0-9TZ]+-[0-9a-f]+", "runs/RUN", text)
    text = re.sub(r"versions/[0-9TZ]+-[0-9a-f]+", "versions/VERSION", text)
    return [line.rstrip() for line in text.splitlines()]


def _results(db: Path) -> dict[str, object]:
    """The validation results each revision's JSON holds, without the run id."""
    results = {}
    for path in sorted((db.parent / "validation" / "runs").glob("*/revision-*.json")):
        document = json.loads(path.read_text())
        document.pop("run_id")
        results[path.name] = document
    return results


def test_both_doors_give_the_same_store_reports_exit_code_and_console(
    doors: dict[str, tuple[Path, object]],
) -> None:
    (plain_db, plain), (flow_db, flow) = doors["in-process"], doors["prefect"]
    assert plain.exit_code == flow.exit_code == 0, plain.output + flow.output
    assert _content(plain_db) == _content(flow_db)
    plain_results, flow_results = _results(plain_db), _results(flow_db)
    assert plain_results.keys() == flow_results.keys()
    for name, document in plain_results.items():
        for plain_result, flow_result in zip(
            document.pop("results"), flow_results[name].pop("results"), strict=True
        ):
            assert plain_result == flow_result, name
        assert document == flow_results[name], name
    assert _console(plain, plain_db) == _console(flow, flow_db)
    for db in (plain_db, flow_db):
        assert list((db.parent / "validation" / "runs").glob("*/summary.html"))
        assert (db.parent / "validation" / "data_docs" / "index.html").exists()
        assert (db.parent.parent / "brief" / "ar" / "index.html").exists()


def test_nothing_is_printed_after_the_summary(doors: dict[str, tuple[Path, object]]) -> None:
    for _, result in doors.values():
        last = result.output.rstrip().splitlines()[-1]  # type: ignore[attr-defined]
        assert last.startswith("every failing row: --verbose"), result.output  # type: ignore[attr-defined]
        assert "Error logging to API" not in result.output  # type: ignore[attr-defined]


def test_the_in_process_door_starts_no_server_and_writes_no_prefect_home(
    official_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "prefect-home"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(official_dir / "UN_MigrantStockTotal_2017.xlsx", raw)
    result = CliRunner().invoke(
        app, ["run", "--raw-dir", str(raw), "--db", str(tmp_path / "c" / "m.duckdb")]
    )
    assert result.exit_code == 0, result.output
    assert not home.exists()


def test_the_prefect_door_records_the_run_and_its_artifacts(
    doors: dict[str, tuple[Path, object]],
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    keys = ["migstock-run", "migstock-revisions", "migstock-brief"]
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
        )
    assert any(run.state is not None and run.state.is_completed() for run in runs)
    assert {artifact.key for artifact in artifacts} == set(keys)
    brief = next(a for a in artifacts if a.key == "migstock-brief")
    assert "International migrants in the Arab region" in str(brief.data)


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
