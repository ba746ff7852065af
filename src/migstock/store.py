"""The curated store: DuckDB file plus hive-partitioned Parquet, replaced atomically.

A load never writes into the live database. It copies it to a temporary file
in the same folder, replaces whole revisions there in one transaction, writes
the Parquet tree to a temporary folder, and only then swaps both into place
with ``os.replace``. A load that fails or is killed leaves the previous files
exactly as they were; a reader holding the old file open keeps its snapshot.
A lock file keeps two loads from running at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd
from filelock import FileLock, Timeout

from migstock import timings
from migstock.catalog import LICENCE, revision
from migstock.errors import StoreError
from migstock.harmonize import build_locations
from migstock.store_docs import apply_comments

SCHEMA_VERSION = 1
PARTITIONED_TABLES = ("bilateral_stock", "destination_totals")
PLAIN_TABLES = ("locations", "location_names", "raw_files", "revisions", "schema_version")


@dataclass
class RevisionLoad:
    """Everything one revision contributes to a load; absent tables stay as they were."""

    revision: int
    bilateral_stock: pd.DataFrame | None = None
    destination_totals: pd.DataFrame | None = None
    location_names: list[pd.DataFrame] = field(default_factory=list)
    raw_files: list[dict[str, object]] = field(default_factory=list)


def _sql(name: str) -> str:
    return resources.files("migstock.sql").joinpath(name).read_text(encoding="utf-8")


@contextlib.contextmanager
def load_lock(db_path: Path, timeout_s: float = 30.0) -> Iterator[None]:
    """Hold an exclusive lock on ``<db>.lock`` so that two loads never interleave.

    ``filelock`` takes an OS lock (``flock``) on the file: the kernel releases it
    when the holder exits or is killed, so a killed load never leaves the store locked.
    """
    lock_path = db_path.with_name(db_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # fallback_to_soft=False: never a marker file that a killed load would leave behind
    lock = FileLock(lock_path, thread_local=False, fallback_to_soft=False)
    try:
        lock.acquire(timeout=timeout_s, poll_interval=0.2)
    except Timeout:
        raise StoreError(
            f"another migstock load holds {lock_path} (waited {timeout_s:.0f} s); "
            "try again when it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()


def load_revisions(db_path: Path, parquet_dir: Path, loads: list[RevisionLoad]) -> None:
    """Replace the given revisions in the store, all or nothing."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    tmp_db = db_path.with_name(f".{db_path.name}.{token}.tmp")
    tmp_parquet = parquet_dir.with_name(f".{parquet_dir.name}.{token}.tmp")
    with load_lock(db_path):
        _remove_leftovers(db_path, parquet_dir)
        try:
            if db_path.exists():
                shutil.copy2(db_path, tmp_db)
            with duckdb.connect(str(tmp_db)) as con:
                _apply(con, loads)
                with timings.stage("Parquet"):
                    export_parquet(con, tmp_parquet)
            _fsync(tmp_db)
            _swap_dir(tmp_parquet, parquet_dir)
            os.replace(tmp_db, db_path)
        except duckdb.Error as error:
            # "from None": a chained duckdb error keeps connection objects alive to exit
            raise StoreError(f"could not write the store {db_path}: {error}") from None
        finally:
            tmp_db.unlink(missing_ok=True)
            tmp_db.with_name(tmp_db.name + ".wal").unlink(missing_ok=True)
            shutil.rmtree(tmp_parquet, ignore_errors=True)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_sql("schema.sql"))
    current = con.execute("SELECT max(version) FROM schema_version").fetchone()
    if current is None or current[0] is None:
        con.execute("INSERT INTO schema_version VALUES (?, now())", [SCHEMA_VERSION])
    elif current[0] > SCHEMA_VERSION:
        raise StoreError(
            f"the store has schema version {current[0]}, newer than this migstock "
            f"({SCHEMA_VERSION}); upgrade migstock"
        )


def create_empty(con: duckdb.DuckDBPyConnection) -> None:
    """Tables, views and descriptions with no rows (for docs and tests)."""
    ensure_schema(con)
    con.execute(_sql("views.sql"))
    apply_comments(con)


def _apply(con: duckdb.DuckDBPyConnection, loads: list[RevisionLoad]) -> None:
    ensure_schema(con)
    now = datetime.now(UTC)
    con.execute("BEGIN TRANSACTION")
    for load in loads:
        entry = revision(load.revision)
        con.execute("DELETE FROM revisions WHERE revision = ?", [load.revision])
        con.execute(
            "INSERT INTO revisions VALUES (?, ?, ?, ?, ?)",
            [entry.revision, entry.title, entry.published, entry.citation, LICENCE],
        )
        for table in PARTITIONED_TABLES:
            frame = getattr(load, table)
            if frame is None:
                continue
            con.execute(f"DELETE FROM {table} WHERE revision = ?", [load.revision])
            _insert(con, table, frame)
        for names in load.location_names:
            _insert(con, "location_names", names[["revision", "code", "name"]], replace=True)
        for dataset in {str(record["dataset"]) for record in load.raw_files}:
            con.execute(  # the revision's files of this dataset are replaced as a whole
                "DELETE FROM raw_files WHERE revision = ? AND dataset = ?", [load.revision, dataset]
            )
        if load.raw_files:
            records = pd.DataFrame(load.raw_files).assign(loaded_at=now)
            _insert(con, "raw_files", records, replace=True)
    con.execute("DELETE FROM locations")
    names = con.execute("SELECT revision, code, name FROM location_names").df()
    _insert(con, "locations", build_locations(names))
    con.execute(_sql("views.sql"))
    apply_comments(con)
    con.execute("COMMIT")
    con.execute("CHECKPOINT")


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, *, replace: bool = False
) -> None:
    """Insert a frame's rows, matching columns by name (``replace``: on key conflict)."""
    con.register("incoming", frame)
    try:
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        con.execute(f"{verb} INTO {table} BY NAME SELECT * FROM incoming")
    finally:
        con.unregister("incoming")


def export_parquet(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """Write every table as Parquet; the two fact tables hive-partitioned by revision."""
    target.mkdir(parents=True)
    for table in PARTITIONED_TABLES:
        con.execute(
            f"COPY (SELECT * FROM {table} ORDER BY revision, year, destination_code) "
            f"TO '{target / table}' (FORMAT parquet, PARTITION_BY (revision))"
        )
    for table in PLAIN_TABLES:
        (target / table).mkdir()
        con.execute(f"COPY {table} TO '{target / table / 'data.parquet'}' (FORMAT parquet)")


def _remove_leftovers(db_path: Path, parquet_dir: Path) -> None:
    """Delete temporary files of loads that were killed (safe: we hold the lock)."""
    for pattern, folder in (
        (f".{db_path.name}.*.tmp*", db_path.parent),
        (f".{parquet_dir.name}.*", parquet_dir.parent),
    ):
        for leftover in folder.glob(pattern):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def _swap_dir(new: Path, current: Path) -> None:
    old = current.with_name(f".{current.name}.old.{uuid.uuid4().hex[:8]}")
    if current.exists():
        os.replace(current, old)
    os.replace(new, current)
    shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
