"""The curated store: DuckDB file plus hive-partitioned Parquet, published atomically.

Layout (``data/curated`` by default)::

    migstock.duckdb -> migstock.duckdb.current/migstock.duckdb   reader paths: links
    parquet         -> migstock.duckdb.current/parquet
    migstock.duckdb.current -> migstock.duckdb.versions/<id>     the one pointer
    migstock.duckdb.versions/<id>/{migstock.duckdb, parquet/}    published versions

A load never writes into a published version. It copies the current database
into a new version folder, replaces whole revisions there in one transaction,
writes the Parquet tree beside it, and then switches ``.current`` to it with one
``os.replace``: DuckDB and Parquet change together. A load that fails or is
killed leaves the published version exactly as it was; a reader holding the old
file open keeps its snapshot. A lock file keeps two loads from running at once.

Before the switch every file and folder of the new version is made read-only
(0444/0555) and fsynced, and so is the folder that lists it: a published version
is never written again (a read-write open fails at once, except for root), and the
switch never points at data still in the page cache. Version ids sort in publishing
order even when the wall clock steps back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import astuple, dataclass, field
from dataclasses import replace as with_fields
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb
from filelock import FileLock, Timeout

from migstock.catalog import LICENCE, revision
from migstock.errors import StoreError
from migstock.staging import StagedRows
from migstock.store.docs import apply_comments

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1
#: the fact tables a load of workbooks replaces per revision
STOCK_TABLES = (
    "bilateral_stock",
    "destination_totals",
    "refugees",
    "age_stock",
    "age_population",
)
#: tables written as Parquet partitioned by revision (``flows``: by ``publish_flows``)
PARTITIONED_TABLES = (*STOCK_TABLES, "flows")
#: tables with a revision column whose rows a load replaces per revision
REVISION_TABLES = ("data_basis", "location_notes")
PLAIN_TABLES = (
    "locations",
    "location_names",
    "raw_files",
    "revisions",
    "schema_version",
    *REVISION_TABLES,
    "load_changes",
    "load_changes_arab",
    "flow_estimates",
)
#: the order of a partitioned table's rows in its Parquet files
PARQUET_ORDER = {"flows": "period_start, sex, method, destination_code, origin_code"}

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: DuckDB settings of a load: one thread is as fast for a store of this size and
#: keeps the run's peak memory lower (a full first load: 0.77 -> 0.69 s, 94 -> 75 MB);
#: the memory limit keeps DuckDB's buffers for copying millions of staged rows and
#: writing the Parquet and exchange files below the validation's peak (peak RSS of a
#: first load of the nine-workbook set 920 -> 738 MB, of the full-size set 915 -> 809 MB,
#: wall time within the noise; DuckDB spills to a temporary folder beside the file)
LOAD_CONFIG = {"threads": 1, "memory_limit": "384MB"}

#: test-only: called with the name of each step of a load ("copied", "built", "switched",
#: "published"), so tests can pause or kill a load at a precise point
publish_hook: Callable[[str], None] | None = None


@dataclass
class RevisionLoad:
    """Everything one revision contributes to a load; absent tables stay as they were."""

    revision: int
    #: the fact tables' rows: frames, or rows staged during the run (copied inside DuckDB)
    bilateral_stock: pd.DataFrame | StagedRows | None = None
    destination_totals: pd.DataFrame | StagedRows | None = None
    location_names: list[pd.DataFrame] = field(default_factory=list)
    raw_files: list[dict[str, object]] = field(default_factory=list)
    refugees: pd.DataFrame | None = None
    data_basis: pd.DataFrame | None = None
    location_notes: pd.DataFrame | None = None
    #: migrants by age and sex (staged rows or a frame) and total population by age
    age_stock: pd.DataFrame | StagedRows | None = None
    age_population: pd.DataFrame | None = None


def _sql(name: str) -> str:
    return resources.files("migstock.store.sql").joinpath(name).read_text(encoding="utf-8")


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


#: ``before_switch(con, version_dir)``: writes more files into a built version (the
#: exchange files), on its open connection, before the version is sealed and published
BeforeSwitch = Callable[[duckdb.DuckDBPyConnection, Path], None]


def load_revisions(
    db_path: Path,
    parquet_dir: Path,
    loads: list[RevisionLoad],
    before_switch: BeforeSwitch | None = None,
) -> LoadChanges:
    """Replace the given revisions in the store, all or nothing, published in one step
    (:func:`publish`); return what the load changed (also kept in ``load_changes`` and
    ``load_changes_arab``)."""

    def build(con: duckdb.DuckDBPyConnection) -> LoadChanges:
        with _staging_attached(con, loads):
            return _apply(con, loads)

    replaced = {(table, load.revision) for load in loads for table in STOCK_TABLES}
    return publish(db_path, parquet_dir, build, replaced, before_switch)


@dataclass
class FlowsLoad:
    """One revision's estimated flows for :func:`publish_flows`: the ``flows`` rows and
    its ``flow_estimates`` row (how they were estimated)."""

    revision: int
    rows: pd.DataFrame
    estimate: dict[str, object]


def publish_flows(
    db_path: Path,
    parquet_dir: Path,
    loads: list[FlowsLoad],
    before_switch: BeforeSwitch | None = None,
) -> LoadChanges:
    """Replace the estimated flows of the given revisions, all or nothing, published as
    a new version in one step (:func:`publish`); only their ``flows`` partitions are
    written anew. Return what changed (also kept in ``load_changes``)."""

    def build(con: duckdb.DuckDBPyConnection) -> LoadChanges:
        return _apply_flows(con, loads)

    replaced = {("flows", load.revision) for load in loads}
    return publish(db_path, parquet_dir, build, replaced, before_switch)


def stocks_sha256(con: duckdb.DuckDBPyConnection, revision_number: int) -> str:
    """The sha256 of the workbooks a revision's stock tables come from (bilateral and
    destination totals), sorted, comma-separated: what its flows were estimated from."""
    rows = con.execute(
        "SELECT DISTINCT raw_sha256 FROM bilateral_stock WHERE revision = ? UNION "
        "SELECT DISTINCT raw_sha256 FROM destination_totals WHERE revision = ? ORDER BY 1",
        [revision_number, revision_number],
    ).fetchall()
    return ",".join(sha for (sha,) in rows)


def _apply_flows(con: duckdb.DuckDBPyConnection, loads: list[FlowsLoad]) -> LoadChanges:
    import pandas as pd

    ensure_schema(con)
    changes = LoadChanges(datetime.now(UTC))
    con.execute("BEGIN TRANSACTION")
    for load in loads:
        used = load.estimate.get("stocks_sha256")
        if used is not None and used != stocks_sha256(con, load.revision):
            raise StoreError(
                f"the stocks of revision {load.revision} changed while its flows were "
                "estimated (a load published meanwhile): run `migstock flows` again"
            )
        con.execute(  # the version replaced, to compare with (what changed)
            "CREATE OR REPLACE TEMP TABLE replaced AS SELECT * FROM flows WHERE revision = ?",
            [load.revision],
        )
        con.execute("DELETE FROM flows WHERE revision = ?", [load.revision])
        _insert(con, "flows", load.rows)
        changes.tables.append(_compare(con, "flows", load.revision))
        con.execute("DELETE FROM flow_estimates WHERE revision = ?", [load.revision])
        _insert(con, "flow_estimates", pd.DataFrame([load.estimate]))
    _record_changes(con, changes)
    con.execute(_sql("views.sql"))
    apply_comments(con)
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    return changes


def publish(
    db_path: Path,
    parquet_dir: Path,
    build: Callable[[duckdb.DuckDBPyConnection], T],
    replaced: set[tuple[str, int]],
    before_switch: BeforeSwitch | None = None,
) -> T:
    """Publish a new version of the store made by ``build``; return what it returns.

    The published DuckDB file is copied into a fresh version folder, where ``build``
    changes it (in its own transaction); the Parquet tree is written beside it (the
    partitions of ``replaced``, (table, revision) pairs, anew; the others shared with the
    version before), then ``<db>.current`` is pointed at it by one atomic rename. The
    reader paths ``db_path`` and ``parquet_dir`` are symlinks through that pointer, so a
    reader sees either the old or the new version of both, never a mix.
    ``before_switch`` is called with the new version's connection and folder after the
    Parquet tree is written, before sealing: what it writes is published with the data
    (the pipeline passes the exchange writer); if it raises, nothing is published.
    """
    db_path, parquet_dir = Path(db_path), Path(parquet_dir)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with load_lock(db_path):
        remove_leftovers(db_path, parquet_dir)
        wait_for_writers(db_path)
        version = versions_dir(db_path) / _version_id(versions_dir(db_path))
        version.mkdir(parents=True)
        new_db = version / db_path.name
        try:
            if db_path.exists():  # follows the link: the current version's file
                shutil.copyfile(db_path, new_db)  # not its read-only mode: the copy is written
            _publish_step("copied")
            with duckdb.connect(str(new_db), config=LOAD_CONFIG) as con:
                result = build(con)
                previous = _published_parquet(db_path)
                export_parquet(con, version / "parquet", previous=previous, replaced=replaced)
                if before_switch is not None:
                    before_switch(con, version)
            seal(version)
            _publish_step("built")
            _switch(db_path, parquet_dir, version)
        except BaseException as error:
            if published_version(db_path) != version.name:  # stopped before the switch
                _remove(version)
            if isinstance(error, duckdb.Error):
                # "from None": a chained duckdb error keeps connection objects alive to exit
                first_line = str(error).splitlines()[0]
                raise StoreError(f"could not write the store {db_path}: {first_line}") from None
            raise
        _publish_step("published")
        remove_leftovers(db_path, parquet_dir)
    return result


@contextlib.contextmanager
def _staging_attached(con: duckdb.DuckDBPyConnection, loads: list[RevisionLoad]) -> Iterator[None]:
    """The staging store of the loads' staged rows attached to ``con``, if they have any."""
    staged = [
        rows
        for load in loads
        for rows in (load.bilateral_stock, load.destination_totals, load.age_stock)
        if isinstance(rows, StagedRows)
    ]
    if not staged:
        yield
        return
    with staged[0].staging.attached(con):
        yield


def versions_dir(db_path: Path) -> Path:
    """Where the published versions of a store live (``<db>.versions/<id>/``)."""
    return db_path.with_name(db_path.name + ".versions")


def current_pointer(db_path: Path) -> Path:
    """The symlink naming the published version: the one thing a publish switches."""
    return db_path.with_name(db_path.name + ".current")


def published_version(db_path: Path) -> str | None:
    """The name of the version folder the pointer names now (None: nothing published)."""
    try:
        return Path(os.readlink(current_pointer(db_path))).name
    except OSError:
        return None


_VERSION_TIME = "%Y%m%dT%H%M%S%f"


def _now() -> datetime:
    """The wall clock (tests set it back)."""
    return datetime.now(UTC)


def _version_id(versions: Path) -> str:
    """A new version's folder name: the time, made later than every existing version's
    even if the clock has stepped back, so that names sort in publishing order."""
    moment = _now()
    for entry in versions.iterdir() if versions.is_dir() else ():
        try:
            existing = datetime.strptime(entry.name.partition("-")[0], _VERSION_TIME)
        except ValueError:
            continue  # not a version: removed as a leftover
        moment = max(moment, existing.replace(tzinfo=UTC) + timedelta(microseconds=1))
    return f"{moment:{_VERSION_TIME}}-{uuid.uuid4().hex[:6]}"


#: modes of a published version: nobody writes it again (a read-write open fails at once)
PUBLISHED_FILE_MODE = 0o444
PUBLISHED_FOLDER_MODE = 0o555


def seal(version: Path) -> None:
    """Make a built version read-only and durable before it is published: every file
    and folder in it (the DuckDB file, the Parquet tree) is set read-only and fsynced,
    children before parents, and last the folder that lists the version.

    As root the modes do not stop writes; they still tell every tool the version is
    not to be written, and a non-root user (or a server's service account) is stopped.
    """
    for folder, _, files in os.walk(version, topdown=False):
        for name in files:
            path = Path(folder, name)
            os.chmod(path, PUBLISHED_FILE_MODE)
            _fsync(path)
        os.chmod(folder, PUBLISHED_FOLDER_MODE)
        _fsync_dir(Path(folder))
    _fsync_dir(version.parent)


def own_tables_hint(db_path: Path | None = None) -> str:
    """How to keep tables of one's own next to the read-only store: the exact SQL."""
    store = str(db_path or Path("data/curated/migstock.duckdb")).replace("'", "''")
    return (
        "to keep tables of your own, make them in your own DuckDB file that attaches the "
        f"store read-only: ATTACH '{store}' AS store (READ_ONLY); "
        "CREATE TABLE my_table AS SELECT * FROM store.arab_immigrants"
    )


def _publish_step(name: str) -> None:
    if publish_hook is not None:
        publish_hook(name)


def _switch(db_path: Path, parquet_dir: Path, version: Path) -> None:
    """Point ``<db>.current`` at ``version`` (one rename), then make sure the reader
    paths are links through it (they only change when an old store is converted)."""
    pointer = current_pointer(db_path)
    temporary = pointer.with_name(f".{pointer.name}.{uuid.uuid4().hex[:8]}.tmp")
    os.symlink(os.path.relpath(version, pointer.parent), temporary)
    os.replace(temporary, pointer)  # the single atomic switch
    _fsync_dir(pointer.parent)
    _publish_step("switched")
    _link(parquet_dir, pointer / "parquet")
    _link(db_path, pointer / db_path.name)


def _link(path: Path, target: Path) -> None:
    """Make ``path`` a symlink to ``target``, replacing a file or link atomically.

    A real folder (a store written before versioned publishing) is moved aside
    first: only that one conversion has a moment without the folder.
    """
    relative = os.path.relpath(target, path.parent)
    if path.is_symlink() and os.readlink(path) == relative:
        return
    temporary = path.with_name(f".{path.name}.link.{uuid.uuid4().hex[:8]}.tmp")
    os.symlink(relative, temporary)
    if path.is_dir() and not path.is_symlink():
        os.replace(path, path.with_name(f".{path.name}.legacy.{uuid.uuid4().hex[:8]}"))
    os.replace(temporary, path)
    _fsync_dir(path.parent)


#: a DuckDB error naming the process that holds the file
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>\S+) \(PID (?P<pid>\d+)\)")


def lock_wait_seconds() -> float:
    """How long a load waits for another process holding the DuckDB file read-write."""
    return float(os.environ.get("MIGSTOCK_LOCK_TIMEOUT", "60"))


def lock_holder(db_path: Path) -> str | None:
    """``"PID n (program)"`` of a process holding ``db_path`` open read-write, else None."""
    if not db_path.exists():
        return None
    try:
        duckdb.connect(str(db_path), read_only=True).close()
    except duckdb.IOException as error:
        match = _LOCK_HOLDER.search(str(error))
        if match is None:
            raise StoreError(f"cannot open {db_path}: {str(error).splitlines()[0]}") from None
        return f"PID {match['pid']} ({Path(match['program']).name})"
    return None


def wait_for_writers(db_path: Path, timeout_s: float | None = None) -> None:
    """Return once no other process holds ``db_path`` read-write; say so once if one
    does, and give up with a :class:`StoreError` after ``timeout_s``."""
    timeout = lock_wait_seconds() if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout
    announced = False
    while (holder := lock_holder(db_path)) is not None:
        if time.monotonic() >= deadline:
            raise StoreError(
                f"{db_path} is still open read-write by {holder} after {timeout:.0f} s: close "
                "that connection (or open it with read_only=True) and run again; "
                f"{own_tables_hint(db_path)}"
            )
        if not announced:
            logger.warning(
                "%s is open read-write by %s; waiting up to %.0f s for it to close",
                db_path,
                holder,
                timeout,
            )
            announced = True
        time.sleep(0.25)


#: settings of a connection that may read nothing but the store (the brief, the site)
SANDBOXED = {"enable_external_access": False, "lock_configuration": True}


def connect_read_only(
    db_path: Path, *, wait: bool = False, sandboxed: bool = False
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the store: every reader of migstock opens it here.

    ``wait``: first wait for another process writing the file (a load's own checks);
    otherwise such a process is one line saying what to close. ``sandboxed``: the
    connection cannot reach any other file (:data:`SANDBOXED`)."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise StoreError(f"no database at {db_path}: run `migstock run` first")
    if wait:
        wait_for_writers(db_path)
    try:
        return duckdb.connect(str(db_path), read_only=True, config=SANDBOXED if sandboxed else {})
    except duckdb.Error as error:
        raise StoreError(cannot_open(db_path, error)) from None


def connect_history(path: Path) -> duckdb.DuckDBPyConnection:
    """The validation history (``history.duckdb``), a DuckDB file of its own, read-write."""
    return duckdb.connect(str(path))


def cannot_open(db_path: Path, error: duckdb.Error) -> str:
    """One line for a store that cannot be opened read-only, with the way out."""
    message = " ".join(str(error).split())
    if "Conflicting lock" in message:
        holder = _LOCK_HOLDER.search(message)
        who = f"PID {holder['pid']} ({Path(holder['program']).name})" if holder else "a process"
        return (
            f"{db_path} is open read-write by {who}: close that connection; the published "
            f"store is read-only ({own_tables_hint(db_path)})"
        )
    return f"cannot open {db_path} read-only: {message}"


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


def _apply(con: duckdb.DuckDBPyConnection, loads: list[RevisionLoad]) -> LoadChanges:
    # pandas and the M49 reference only here: a run with nothing to load never needs them
    import pandas as pd

    from migstock.parse.harmonize import build_locations

    ensure_schema(con)
    now = datetime.now(UTC)
    changes = LoadChanges(now)
    con.execute("BEGIN TRANSACTION")
    for load in loads:
        entry = revision(load.revision)
        con.execute("DELETE FROM revisions WHERE revision = ?", [load.revision])
        con.execute(
            "INSERT INTO revisions VALUES (?, ?, ?, ?, ?)",
            [entry.revision, entry.title, entry.published, entry.citation, LICENCE],
        )
        for table in (*STOCK_TABLES, *REVISION_TABLES):
            frame = getattr(load, table)
            if frame is None:
                continue
            con.execute(  # the version replaced, to compare with (what changed)
                f"CREATE OR REPLACE TEMP TABLE replaced AS SELECT * FROM {table} "
                "WHERE revision = ?",
                [load.revision],
            )
            con.execute(f"DELETE FROM {table} WHERE revision = ?", [load.revision])
            _insert(con, table, frame)
            compared = _compare(con, table, load.revision)
            changes.tables.append(compared)
            if compared.rows_before:  # a first load of a revision: every row is new
                changes.largest += _largest_arab_changes(con, table, load.revision)
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
    _record_changes(con, changes)
    con.execute(_sql("views.sql"))
    apply_comments(con)
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    return changes


# --- what a load changed ---------------------------------------------------------------

#: the columns that say which row a row is (the rest are its values); lineage columns
#: (raw file, sheet, row) are neither: a workbook published anew changes them all
ROW_KEYS = {
    "bilateral_stock": ("year", "destination_code", "origin_code", "origin_kind", "sex"),
    "destination_totals": ("year", "destination_code", "sex"),
    "refugees": ("year", "destination_code"),
    "age_stock": ("year", "destination_code", "sex", "age_group"),
    "age_population": ("year", "destination_code", "sex", "age_group"),
    "data_basis": ("destination_code",),
    "location_notes": ("location_code", "note_number"),
    "flows": ("period_start", "period_end", "origin_code", "destination_code", "sex", "method"),
}
LINEAGE_COLUMNS = ("revision", "raw_sha256", "source_sheet", "source_row")
#: how many of the largest changes for Arab countries a load keeps
LARGEST_KEPT = 15


@dataclass(frozen=True)
class TableChange:
    """Rows of one table and revision added, removed and changed by a load, compared
    with the version it replaced."""

    revision: int
    table: str
    rows_before: int
    rows_after: int
    added: int
    removed: int
    changed: int


@dataclass(frozen=True)
class RowChange:
    """One Arab country's migrant count that a load changed (None: no row)."""

    revision: int
    table: str
    year: int
    destination_code: int
    origin_code: int | None
    origin_kind: str | None
    sex: str
    before: int | None
    after: int | None
    place: str = ""

    @property
    def difference(self) -> int:
        return (self.after or 0) - (self.before or 0)

    @property
    def before_text(self) -> str:
        return "no row" if self.before is None else f"{self.before:,}"

    @property
    def after_text(self) -> str:
        return "no row" if self.after is None else f"{self.after:,}"

    @property
    def difference_text(self) -> str:
        return f"{self.difference:+,}"

    def line(self) -> str:
        """'2024 destination_totals: Iraq (368) 1995, total: 83,638 -> 90,000 (+6,362)'."""
        origin = f", from {self.origin_code or self.origin_kind}" if self.origin_kind else ""
        return (
            f"{self.revision} {self.table}: {self.place} {self.year}, {self.sex}{origin}: "
            f"{self.before_text} -> {self.after_text} ({self.difference_text})"
        )


@dataclass
class LoadChanges:
    """What one load changed: per table and revision, and the largest changes of an Arab
    country's migrant count (``migrants``), largest first."""

    loaded_at: datetime
    tables: list[TableChange] = field(default_factory=list)
    largest: list[RowChange] = field(default_factory=list)


def _compare(con: duckdb.DuckDBPyConnection, table: str, number: int) -> TableChange:
    """Compare the revision's new rows of ``table`` with the ``replaced`` temp table: one
    full join on the row keys (NULL keys match), in DuckDB."""
    (before,) = con.execute("SELECT count(*) FROM replaced").fetchall()[0]
    if not before:  # a first load of the revision: every row is new, nothing to match
        (after,) = con.execute(
            f"SELECT count(*) FROM {table} WHERE revision = ?", [number]
        ).fetchall()[0]
        return TableChange(number, table, 0, after, after, 0, 0)
    columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
    keys = ROW_KEYS[table]
    values = [c for c in columns if c not in keys and c not in LINEAGE_COLUMNS]
    on = " AND ".join(f"o.{k} IS NOT DISTINCT FROM n.{k}" for k in keys)
    differs = " OR ".join(f"o.{v} IS DISTINCT FROM n.{v}" for v in values) or "false"
    before, after, added, removed, changed = con.execute(
        "SELECT count(o.here), count(n.here), "
        "count(*) FILTER (WHERE o.here IS NULL), count(*) FILTER (WHERE n.here IS NULL), "
        f"count(*) FILTER (WHERE o.here AND n.here AND ({differs})) "
        "FROM (SELECT *, true AS here FROM replaced) o "
        f"FULL JOIN (SELECT *, true AS here FROM {table} WHERE revision = ?) n ON {on}",
        [number],
    ).fetchall()[0]
    return TableChange(number, table, before, after, added, removed, changed)


def _largest_arab_changes(
    con: duckdb.DuckDBPyConnection, table: str, number: int
) -> list[RowChange]:
    """The largest changes of an Arab destination's ``migrants`` in ``table``."""
    if table not in ("bilateral_stock", "destination_totals"):
        return []
    from migstock.regions import ARAB_COUNTRIES

    keys = ROW_KEYS[table]
    on = " AND ".join(f"o.{k} IS NOT DISTINCT FROM n.{k}" for k in keys)
    pick = ", ".join(f"coalesce(n.{k}, o.{k}) AS {k}" for k in keys)
    arab = ", ".join(str(code) for code in sorted(ARAB_COUNTRIES))
    rows = con.execute(
        f"SELECT {pick}, o.migrants AS before, n.migrants AS after FROM replaced o "
        f"FULL JOIN (SELECT * FROM {table} WHERE revision = ?) n ON {on} "
        f"WHERE coalesce(n.destination_code, o.destination_code) IN ({arab}) "
        "AND o.migrants IS DISTINCT FROM n.migrants "
        "ORDER BY abs(coalesce(n.migrants, 0) - coalesce(o.migrants, 0)) DESC LIMIT ?",
        [number, LARGEST_KEPT],
    ).fetchall()
    names = [description[0] for description in con.description]
    changes = []
    for values in rows:
        row = dict(zip(names, values, strict=True))
        changes.append(
            RowChange(
                revision=number,
                table=table,
                year=int(row["year"]),
                destination_code=int(row["destination_code"]),
                origin_code=row.get("origin_code"),
                origin_kind=row.get("origin_kind"),
                sex=str(row["sex"]),
                before=row["before"],
                after=row["after"],
            )
        )
    return changes


def _record_changes(con: duckdb.DuckDBPyConnection, changes: LoadChanges) -> None:
    """Keep what the load changed in ``load_changes`` and ``load_changes_arab`` (the
    largest changes of the whole load, with place names) and name the places."""
    names = dict(con.execute("SELECT code, name FROM locations").fetchall())
    changes.largest.sort(key=_largest_first)
    del changes.largest[LARGEST_KEPT:]
    for position, change in enumerate(changes.largest):
        name = names.get(change.destination_code, str(change.destination_code))
        place = f"{name} ({change.destination_code})"
        if change.origin_kind:
            origin = names.get(change.origin_code, change.origin_kind)
            place += f" from {origin}"
        changes.largest[position] = with_fields(change, place=place)
    if changes.tables:
        con.executemany(
            "INSERT INTO load_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(changes.loaded_at, *astuple(t)) for t in changes.tables],
        )
    if changes.largest:
        con.executemany(
            "INSERT INTO load_changes_arab VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (changes.loaded_at, *astuple(c)[:-1])  # all but the place's name
                for c in changes.largest
            ],
        )


def changes_since(db_path: Path | None, since: datetime) -> LoadChanges | None:
    """What the loads from ``since`` on changed, as kept in the published store
    (``load_changes``, ``load_changes_arab``); None when nothing was loaded since."""
    if db_path is None or not Path(db_path).exists():
        return None
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            tables = con.execute(
                "SELECT loaded_at, revision, table_name, rows_before, rows_after, added, "
                "removed, changed FROM load_changes WHERE loaded_at >= ? "
                "ORDER BY loaded_at, revision, table_name",
                [since],
            ).fetchall()
            largest = con.execute(
                "SELECT c.revision, c.table_name, c.year, c.destination_code, c.origin_code, "
                "c.origin_kind, c.sex, c.migrants_before, c.migrants_after, "
                "coalesce(d.name, CAST(c.destination_code AS VARCHAR)), o.name "
                "FROM load_changes_arab c LEFT JOIN locations d ON d.code = c.destination_code "
                "LEFT JOIN locations o ON o.code = c.origin_code WHERE c.loaded_at >= ? "
                "ORDER BY abs(coalesce(c.migrants_after, 0) - coalesce(c.migrants_before, 0)) "
                "DESC LIMIT ?",
                [since, LARGEST_KEPT],
            ).fetchall()
    except duckdb.Error:  # a store written before load_changes existed, or held open
        return None
    if not tables:
        return None
    order = (*PARTITIONED_TABLES, *REVISION_TABLES)  # as a load writes them
    tables.sort(key=lambda row: (row[0], row[1], order.index(row[2]) if row[2] in order else 99))
    changes = LoadChanges(tables[-1][0], [TableChange(*row[1:]) for row in tables])
    for *values, name, origin in largest:
        code, kind = values[3], values[5]
        place = f"{name} ({code})" + (f" from {origin or kind}" if kind else "")
        changes.largest.append(RowChange(*values, place=place))
    changes.largest.sort(key=_largest_first)
    return changes


def _largest_first(change: RowChange) -> tuple[object, ...]:
    sexes = ("total", "male", "female")
    sex = sexes.index(change.sex) if change.sex in sexes else len(sexes)
    return (-abs(change.difference), change.table, change.destination_code, change.year, sex)


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame | StagedRows,
    *,
    replace: bool = False,
) -> None:
    """Insert a frame's (or staged) rows, matching columns by name (``replace``: on key
    conflict)."""
    if isinstance(frame, StagedRows):
        frame.insert_into(con, table)
        return
    con.register("incoming", frame)
    try:
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        con.execute(f"{verb} INTO {table} BY NAME SELECT * FROM incoming")
    finally:
        con.unregister("incoming")


def export_parquet(
    con: duckdb.DuckDBPyConnection,
    target: Path,
    *,
    previous: Path | None = None,
    replaced: set[tuple[str, int]] | None = None,
) -> None:
    """Write every table as Parquet; the fact tables hive-partitioned by revision
    (``<table>/revision=<n>/data_0.parquet``, rows by year and destination).

    ``previous``: the published version's Parquet folder. A table's revision the load did
    not replace (not in ``replaced``) is shared with it (hard links to the same files, which
    are read-only) instead of being written again."""
    target.mkdir(parents=True)
    for table in PARTITIONED_TABLES:
        (target / table).mkdir()
        revisions = con.execute(f"SELECT DISTINCT revision FROM {table} ORDER BY 1").fetchall()
        for (number,) in revisions:
            folder = target / table / f"revision={number}"
            folder.mkdir()
            earlier = previous / table / f"revision={number}" if previous else None
            fresh = replaced is None or (table, number) in replaced
            if not fresh and _linked(earlier, folder):
                continue
            order = PARQUET_ORDER.get(table, "year, destination_code")
            con.execute(
                f"COPY (SELECT * EXCLUDE (revision) FROM {table} WHERE revision = {int(number)} "
                f"ORDER BY {order}) TO '{folder / 'data_0.parquet'}' "
                "(FORMAT parquet)"
            )
    for table in PLAIN_TABLES:
        (target / table).mkdir()
        con.execute(f"COPY {table} TO '{target / table / 'data.parquet'}' (FORMAT parquet)")


def _published_parquet(db_path: Path) -> Path | None:
    """The Parquet folder of the published version, if there is one."""
    folder = current_pointer(db_path) / "parquet"
    return folder if folder.is_dir() else None


def _linked(source: Path | None, target: Path) -> bool:
    """Hard-link the files of ``source`` into ``target``; False (nothing linked) when
    there is no such folder or the file system refuses links."""
    if source is None or not source.is_dir():
        return False
    files = [path for path in source.iterdir() if path.is_file()]
    if not files:
        return False
    try:
        for path in files:
            os.link(path, target / path.name)
    except OSError:
        for path in target.iterdir():
            path.unlink()
        return False
    return True


def remove_leftovers(db_path: Path, parquet_dir: Path) -> None:
    """Delete what killed or finished loads left behind. Call it holding ``load_lock``.

    Kept: the published version and the one before it (a reader that resolved the
    pointer just before a switch may still be reading it). Removed: unfinished and
    older versions, temporary links, and the temporary files of earlier layouts.
    """
    patterns = (
        (db_path.parent, f".{db_path.name}.*"),
        (parquet_dir.parent, f".{parquet_dir.name}.*"),
        (db_path.parent, f".{current_pointer(db_path).name}.*"),
    )
    for folder, pattern in patterns:
        for leftover in folder.glob(pattern):
            _remove(leftover)
    versions = versions_dir(db_path)
    if not versions.is_dir():
        return
    pointer = current_pointer(db_path)
    current = Path(os.readlink(pointer)).name if pointer.is_symlink() else None
    names = sorted(entry.name for entry in versions.iterdir())
    older = [name for name in names if current is not None and name < current]
    keep = {current, *older[-1:]}
    for name in names:
        if name not in keep:
            _remove(versions / name)


def clean_up(db_path: Path, parquet_dir: Path) -> bool:
    """Remove leftovers now unless a load is running (then it will); True if done."""
    if not db_path.parent.exists():
        return False
    try:
        with load_lock(db_path, timeout_s=0):
            remove_leftovers(db_path, parquet_dir)
    except StoreError:
        return False
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        _make_writable(path)  # a published version's folders are read-only
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _make_writable(tree: Path) -> None:
    """Let the owner delete what is in every folder of ``tree`` (files need no mode)."""
    for folder, _, _ in os.walk(tree):
        with contextlib.suppress(OSError):
            os.chmod(folder, stat.S_IMODE(os.stat(folder).st_mode) | stat.S_IRWXU)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
