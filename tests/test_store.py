"""Atomic, repeatable loads of the curated store (no Prefect)."""

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from migstock import store
from migstock.acquire.provenance import local_file
from migstock.cli import app
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


def _current_version(db: Path) -> Path:
    return db.with_name(db.name + ".current").resolve()


def test_a_published_version_is_read_only_on_disk(tmp_path: Path, load_2020) -> None:
    db, parquet = tmp_path / "m.duckdb", tmp_path / "parquet"
    for _ in range(3):  # later loads copy a read-only version and remove old ones
        load_revisions(db, parquet, [load_2020])
    version = _current_version(db)
    files = [p for p in version.rglob("*") if p.is_file()]
    folders = [version, *(p for p in version.rglob("*") if p.is_dir())]
    assert len(files) >= 10 and any(p.suffix == ".parquet" for p in files)
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o444}
    assert {stat.S_IMODE(p.stat().st_mode) for p in folders} == {0o555}
    assert len(list((tmp_path / "m.duckdb.versions").iterdir())) == 2  # current + previous
    assert _table(db, "SELECT count(*) FROM raw_files") == [(1,)]


def _open_read_write_as_nobody(db: Path) -> str:
    """Open ``db`` read-write as the unprivileged owner of the store: as root, in a
    forked child that drops to uid 65534 after the store is given to it (root ignores
    file modes); otherwise right here."""

    def attempt() -> str:
        try:
            duckdb.connect(str(db)).close()
        except duckdb.Error as error:
            return str(error).splitlines()[0]
        return "opened"

    if os.geteuid() != 0:
        return attempt()
    for path in [db.parent, *db.parent.rglob("*")]:
        os.lchown(path, 65534, 65534)  # the owner, who could write a 0644 file
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os.write(write_end, attempt().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as report:
        message = report.read()
    os.waitpid(child, 0)
    return message


def test_a_read_write_open_of_the_published_store_fails_at_once(load_2020) -> None:
    root = Path(tempfile.mkdtemp(prefix="migstock-ro-"))  # others may enter (tmp_path: 0700)
    try:
        root.chmod(0o755)
        db = root / "curated" / "m.duckdb"
        load_revisions(db, db.parent / "parquet", [load_2020])
        started = time.monotonic()
        message = _open_read_write_as_nobody(db)
        assert "Permission denied" in message, message
        assert time.monotonic() - started < 5
        load_revisions(db, db.parent / "parquet", [load_2020])  # loads still work
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if root.exists():  # a read-only version inside
            store._make_writable(root)
            shutil.rmtree(root)


def test_a_store_held_read_write_gets_one_line_with_the_way_to_own_tables(
    tmp_path: Path, load_2020
) -> None:
    db = tmp_path / "m.duckdb"
    load_revisions(db, tmp_path / "parquet", [load_2020])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_WRITE, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        state = holder.stdout.readline().strip()
        if os.geteuid() != 0:  # the modes stop the writer itself
            assert state.startswith("refused") and "Permission denied" in state, state
            return
        assert state == "open", holder.stderr.read()
        result = CliRunner().invoke(app, ["sql", "SELECT 1", "--db", str(db)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert f"is open read-write by PID {holder.pid}" in lines[0]
    assert f"ATTACH '{db}' AS store (READ_ONLY)" in lines[0]


HOLD_READ_WRITE = """
import sys, duckdb
try:
    con = duckdb.connect(sys.argv[1])
except duckdb.Error as error:
    print("refused", str(error).splitlines()[0], flush=True)
    raise SystemExit(0)
print("open", flush=True)
sys.stdin.read()
"""


def test_every_file_and_folder_is_fsynced_before_the_switch(
    tmp_path: Path, load_2020, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, parquet = tmp_path / "m.duckdb", tmp_path / "parquet"
    events: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        events.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(store, "publish_hook", lambda step: events.append(f"step:{step}"))
    load_revisions(db, parquet, [load_2020])
    version = _current_version(db)
    before_switch = set(events[: events.index("step:switched")])
    wanted = {str(p) for p in [version, *version.rglob("*")]} | {str(version.parent)}
    assert wanted - before_switch == set()


def test_version_ids_sort_in_publishing_order_when_the_clock_steps_back(
    tmp_path: Path, load_2020, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, parquet = tmp_path / "m.duckdb", tmp_path / "parquet"
    start = datetime.now(UTC)
    published = []
    for hours_back in (0, 5, 24 * 400):  # the clock steps back an hour, then a year
        monkeypatch.setattr(store, "_now", lambda back=hours_back: start - timedelta(hours=back))
        load_revisions(db, parquet, [load_2020])
        published.append(_current_version(db).name)
    assert published == sorted(published) and len(set(published)) == 3
    kept = sorted(p.name for p in (tmp_path / "m.duckdb.versions").iterdir())
    assert kept == published[-2:]  # clean-up kept the newest two, not the oldest
