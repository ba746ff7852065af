"""The staging store: a run's parsed rows, in a DuckDB file of their own until the load.

Each workbook's tidy rows are written here as soon as it is parsed, and dropped from
pandas: a run holds one workbook's rows in memory, not every revision's. Validation
reads one revision back at a time (:meth:`Staging.rows`), and the load copies the rows
that passed into the new store version inside DuckDB (:meth:`Staging.copy_into`),
without pandas.

The file lives beside the store, in ``<db>.staging/<pid>-<id>.duckdb``, and is removed
when the run ends. A run killed outright leaves it behind; the next run removes it
(:func:`remove_stale`), never one whose process is still alive.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from migstock.catalog import Dataset
from migstock.errors import StoreError

if TYPE_CHECKING:
    import pandas as pd

#: the staged tables, one per dataset, in the columns the parsers write (and the GX suites
#: check), plus the raw file each row comes from; ENUMs keep the labels compact and come
#: back to pandas as categories (``tests/test_staging.py`` checks them against the parsers')
_SCHEMA = """
CREATE TYPE origin_kind AS ENUM ('country', 'aggregate', 'total', 'other_north',
                                 'other_south', 'other');
CREATE TYPE sex AS ENUM ('total', 'male', 'female');
CREATE TYPE age_group AS ENUM ('0-4', '5-9', '10-14', '15-19', '20-24', '25-29', '30-34',
                               '35-39', '40-44', '45-49', '50-54', '55-59', '60-64',
                               '65-69', '70-74', '75+', 'total');
CREATE TABLE bilateral_rows (
    revision SMALLINT, year SMALLINT, destination_code SMALLINT, origin_code SMALLINT,
    origin_kind origin_kind, sex sex, migrants BIGINT, suppressed BOOLEAN,
    source_sheet VARCHAR, source_row INTEGER, raw_sha256 VARCHAR
);
CREATE TABLE destination_totals_rows (
    revision SMALLINT, year SMALLINT, destination_code SMALLINT, sex sex, migrants BIGINT,
    total_population BIGINT, migrant_share DOUBLE, suppressed BOOLEAN,
    source_sheet VARCHAR, source_row INTEGER, raw_sha256 VARCHAR
);
CREATE TABLE age_rows (
    revision SMALLINT, year SMALLINT, destination_code SMALLINT, sex sex,
    age_group age_group, migrants BIGINT, suppressed BOOLEAN,
    source_sheet VARCHAR, source_row INTEGER, raw_sha256 VARCHAR
);
"""
#: the labels each staged table keeps as ENUMs (given to the store as text)
_LABELS = {"bilateral": ["sex", "origin_kind"], "age": ["sex", "age_group"]}

#: the columns the parsers write as nullable integers (NULL: not available)
NULLABLE = {"origin_code": "Int16", "migrants": "Int64", "total_population": "Int64"}

#: the staged rows stay on disk: DuckDB keeps at most this much of them in memory
STAGING_CONFIG = {"threads": 1, "memory_limit": "64MB", "preserve_insertion_order": True}


#: the name the load's connection gives the attached staging file
ATTACHED_AS = "staged"


def staging_dir(db_path: Path) -> Path:
    """Where runs stage their rows: ``<db>.staging/`` beside the store."""
    return db_path.with_name(db_path.name + ".staging")


class Staging:
    """One run's staging store. Use it as a context manager: the file goes at the end.

    Its connection is opened when needed and released (:meth:`release`) before the load, which
    attaches the file read-only from the new store version's connection."""

    def __init__(self, db_path: Path) -> None:
        folder = staging_dir(Path(db_path))
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale(folder)
        self.path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.duckdb"
        self._con: duckdb.DuckDBPyConnection | None = None
        with self._writing():
            self.con.execute(_SCHEMA)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The staging file's connection, opened again after :meth:`release`."""
        if self._con is None:
            self._con = duckdb.connect(str(self.path), config=STAGING_CONFIG)
        return self._con

    def add(self, dataset: Dataset, rows: pd.DataFrame, raw_sha256: str) -> StagedRows:
        """Stage one workbook's tidy rows; return the handle that reads them back."""
        self.con.register("incoming", rows)
        try:
            with self._writing():
                self.con.execute(
                    f"INSERT INTO {dataset}_rows BY NAME SELECT *, ? AS raw_sha256 FROM incoming",
                    [raw_sha256],
                )
        finally:
            self.con.unregister("incoming")
        return StagedRows(self, dataset, (raw_sha256,), len(rows))

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """A write that the disk refuses (full, read-only) ends the run in one line."""
        try:
            yield
        except duckdb.Error as error:
            first_line = str(error).splitlines()[0]
            raise StoreError(
                f"could not write the staging store {self.path}: {first_line}"
            ) from None

    @contextlib.contextmanager
    def attached(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """The staging file attached read-only to ``con`` (as ``staged``) for the load."""
        self.release()
        path = str(self.path).replace("'", "''")
        con.execute(f"ATTACH '{path}' AS {ATTACHED_AS} (READ_ONLY)")
        try:
            yield
        except BaseException:  # a stop or an error inside the load's transaction: what
            # raised is what the run says; the version being built is thrown away anyway
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DETACH {ATTACHED_AS}")
            raise
        con.execute(f"DETACH {ATTACHED_AS}")

    def release(self) -> None:
        """Close the connection (the file stays), so that another connection may attach it."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def close(self) -> None:
        """Close and remove the staging file."""
        self.release()
        for leftover in (self.path, self.path.with_name(self.path.name + ".wal")):
            leftover.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the folder goes with the last run's file
            self.path.parent.rmdir()


@dataclass(frozen=True)
class StagedRows:
    """The staged rows of one dataset from some raw files: what a parsed workbook's
    ``rows`` become once staged."""

    staging: Staging = field(repr=False, compare=False)
    dataset: Dataset
    raw_sha256: tuple[str, ...]
    count: int

    def __len__(self) -> int:
        return self.count

    def __add__(self, other: StagedRows) -> StagedRows:
        """The rows of both (a table split over files)."""
        return StagedRows(
            self.staging, self.dataset, self.raw_sha256 + other.raw_sha256, self.count + other.count
        )

    def _where(self) -> tuple[str, list[object]]:
        return "raw_sha256 IN (SELECT unnest(?))", [list(self.raw_sha256)]

    def frame(
        self, *, lineage: bool = False, origin_kinds: tuple[str, ...] | None = None
    ) -> pd.DataFrame:
        """The rows in pandas, in the order they were staged; ``lineage``: with the
        ``raw_sha256`` column; ``origin_kinds``: only bilateral rows of these kinds."""
        where, parameters = self._where()
        if origin_kinds is not None:
            where += " AND origin_kind IN (SELECT unnest(?))"
            parameters.append(list(origin_kinds))
        columns = "*" if lineage else "* EXCLUDE (raw_sha256)"
        frame = self.staging.con.execute(
            f"SELECT {columns} FROM {self.dataset}_rows WHERE {where}", parameters
        ).df()
        # DuckDB gives an integer column without NULLs as numpy integers: the parsers'
        # nullable columns stay nullable, whatever this workbook holds
        return frame.astype({c: t for c, t in NULLABLE.items() if c in frame})

    def create_view(self, name: str) -> None:
        """A temporary view ``name`` of these rows on the staging connection, for SQL that
        runs where the rows are (the reconciliation's sums)."""
        files = ", ".join(f"'{sha}'" for sha in self.raw_sha256 if sha.isalnum())
        self.staging.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS "
            f"SELECT * FROM {self.dataset}_rows WHERE raw_sha256 IN ({files})"
        )

    def insert_into(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        """Insert the rows into ``table`` of the database open on ``con`` (matching columns
        by name, labels as text), inside DuckDB; ``con`` has the staging file attached
        (:meth:`Staging.attached`)."""
        where, parameters = self._where()
        labels = _LABELS.get(self.dataset, ["sex"])
        as_text = ", ".join(f"CAST({label} AS VARCHAR) AS {label}" for label in labels)
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT * REPLACE ({as_text}) "
            f"FROM {ATTACHED_AS}.{self.dataset}_rows WHERE {where}",
            parameters,
        )


def remove_stale(folder: Path) -> None:
    """Remove staging files of runs that are no longer running (killed outright)."""
    for path in folder.glob("*.duckdb*"):
        pid = path.name.partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                path.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
