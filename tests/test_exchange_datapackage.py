"""The Frictionless data package published with every version of the store.

``frictionless validate`` checks every row against the Table Schemas (types, required
fields, enumerations, primary keys, foreign keys). It reads about 60,000 rows a second,
so the full validation runs on a store loaded (through ``load_revisions``, as a run
does) with the real 2015 revision: every table, 62,000 bilateral rows. The session's
``real_store`` (1.7 M bilateral rows) is checked for counts, hashes and metadata.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from frictionless import validate

from migstock import store
from migstock.exchange import exchange_dir, publish_exchange
from migstock.store import RevisionLoad, current_pointer, load_revisions

FACT_TABLES = ("bilateral_stock", "destination_totals", "refugees")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, revision: int):
    return con.execute(sql, [revision]).df()


def _revision_from(real_store: Path, revision: int) -> RevisionLoad:
    """Everything ``real_store`` holds of one revision, as a load."""
    with duckdb.connect(str(real_store), read_only=True) as con:
        tables = {
            table: _rows(con, f"SELECT * FROM {table} WHERE revision = ?", revision)
            for table in (*FACT_TABLES, "data_basis", "location_notes")
        }
        names = _rows(con, "SELECT * FROM location_names WHERE revision = ?", revision)
        files = _rows(
            con, "SELECT * EXCLUDE (loaded_at) FROM raw_files WHERE revision = ?", revision
        )
    return RevisionLoad(
        revision,
        location_names=[names],
        raw_files=files.to_dict("records"),
        **tables,
    )


@pytest.fixture(scope="module")
def store_2015(real_store: Path, tmp_path_factory: pytest.TempPathFactory):
    """A store loaded with the real 2015 revision; what a reader saw just before the
    pointer switch."""
    db = tmp_path_factory.mktemp("store-2015") / "migstock.duckdb"
    seen: dict[str, object] = {}

    def at_step(step: str) -> None:
        if step == "built":
            versions = sorted(store.versions_dir(db).iterdir())
            seen["new"] = versions[-1]
            seen["current"] = (
                current_pointer(db).resolve() if current_pointer(db).exists() else None
            )
            seen["files"] = sorted(
                str(path.relative_to(versions[-1])) for path in versions[-1].rglob("*.*")
            )

    store.publish_hook = at_step
    try:
        load_revisions(
            db,
            db.parent / "parquet",
            [_revision_from(real_store, 2015)],
            before_switch=publish_exchange,
        )
    finally:
        store.publish_hook = None
    return db, seen


def _counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        package = json.loads(
            (exchange_dir(current_pointer(db).resolve()) / "datapackage.json").read_text()
        )
        return {
            resource["name"]: con.execute(f"SELECT count(*) FROM {resource['name']}").fetchone()[0]
            for resource in package["resources"]
        }


def test_the_exchange_files_are_written_before_the_switch(store_2015) -> None:
    db, seen = store_2015
    assert seen["current"] != seen["new"], "checked before the pointer switched"
    files = seen["files"]
    assert "datapackage.json" in files
    assert "sdmx/structure.xml" in files
    assert {f"sdmx/{table}_2015.csv.gz" for table in FACT_TABLES} <= set(files)
    assert {f"csv/{table}.csv.gz" for table in FACT_TABLES} <= set(files)
    assert not [name for name in files if name.endswith((".csv", ".plain"))], "all compressed"
    assert current_pointer(db).resolve() == seen["new"]


def test_the_data_package_validates_and_counts_the_store_rows(store_2015) -> None:
    db, _ = store_2015
    package = exchange_dir(current_pointer(db).resolve()) / "datapackage.json"
    report = validate(str(package))
    problems = [error.message for task in report.tasks for error in task.errors][:5]
    assert report.valid, problems + [error.message for error in report.errors][:5]
    # a table with no rows (no age workbook loaded, no flows estimated) has no row count
    validated = {task.name: task.stats.get("rows", 0) for task in report.tasks}
    counts = _counts(db)
    assert validated == counts
    assert counts["bilateral_stock"] > 60_000
    assert counts["flows"] == 0 and "flows" in validated


def test_a_broken_foreign_key_fails_validation(store_2015, tmp_path: Path) -> None:
    db, _ = store_2015
    source = exchange_dir(current_pointer(db).resolve())
    kept = ("locations", "revisions", "raw_files", "destination_totals")
    descriptor = json.loads((source / "datapackage.json").read_text())
    descriptor["resources"] = [r for r in descriptor["resources"] if r["name"] in kept]
    (tmp_path / "csv").mkdir()
    for name in kept:
        shutil.copyfile(source / "csv" / f"{name}.csv.gz", tmp_path / "csv" / f"{name}.csv.gz")
    totals = tmp_path / "csv" / "destination_totals.csv.gz"
    header, first, *rest = gzip.decompress(totals.read_bytes()).decode().splitlines()
    columns = header.split(",")
    cells = first.split(",")
    cells[columns.index("destination_code")] = "999"  # no such location
    totals.write_bytes(gzip.compress(("\n".join([header, ",".join(cells), *rest]) + "\n").encode()))
    for resource in descriptor["resources"]:
        resource.pop("hash"), resource.pop("bytes")
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor))
    report = validate(str(tmp_path / "datapackage.json"))
    types = {error.type for task in report.tasks for error in task.errors}
    assert not report.valid
    assert types == {"foreign-key"}


def test_the_descriptor_of_the_real_store(real_store: Path) -> None:
    folder = exchange_dir(current_pointer(real_store).resolve())
    descriptor = json.loads((folder / "datapackage.json").read_text())
    assert [lic["name"] for lic in descriptor["licenses"]] == ["CC-BY-3.0-IGO"]
    with duckdb.connect(str(real_store), read_only=True) as con:
        hashes = {sha for (sha,) in con.execute("SELECT sha256 FROM raw_files").fetchall()}
        citations = [
            c for (c,) in con.execute("SELECT citation FROM revisions ORDER BY revision").fetchall()
        ]
        columns = con.execute(
            "SELECT table_name, column_name, is_nullable = 'NO' FROM information_schema.columns "
            "WHERE table_schema = 'main'"
        ).fetchall()
        counts = _counts(real_store)
        for resource in descriptor["resources"]:
            assert resource["path"] == f"csv/{resource['name']}.csv.gz"
            assert (resource["format"], resource["compression"]) == ("csv", "gz")
            path = str(folder / resource["path"]).replace("'", "''")
            in_csv = con.execute(f"SELECT count(*) FROM read_csv('{path}')").fetchone()[0]
            assert in_csv == counts[resource["name"]], resource["name"]
            data = (folder / resource["path"]).read_bytes()
            assert resource["bytes"] == len(data)
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert {source["sha256"] for source in descriptor["sources"]} == hashes
    assert descriptor["citation"] == citations
    resources = {r["name"]: r["schema"] for r in descriptor["resources"]}
    assert set(resources) >= {*FACT_TABLES, "locations", "raw_files", "revisions"}
    for table, column, required in columns:
        if table not in resources:
            continue
        fields = {field["name"]: field for field in resources[table]["fields"]}
        assert fields[column].get("constraints", {}).get("required", False) == required
        assert fields[column].get("description"), f"{table}.{column} has no description"
    bilateral = resources["bilateral_stock"]
    to_locations = {
        key["fields"][0]
        for key in bilateral["foreignKeys"]
        if key["reference"]["resource"] == "locations"
    }
    assert to_locations == {"destination_code", "origin_code"}
    sex = {f["name"]: f for f in bilateral["fields"]}["sex"]
    assert sex["constraints"]["enum"] == ["total", "male", "female"]
    assert resources["destination_totals"]["primaryKey"] == [
        "revision",
        "year",
        "destination_code",
        "sex",
    ]
