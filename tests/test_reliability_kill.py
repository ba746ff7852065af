"""Kill trials and concurrency: loads killed at random moments and inside the
publish window, readers running all the while, a DuckDB file held by another
process, and two loads at once.

Expected states come from the two loads' own frames, never from what a first
observation happened to show: after every kill the published store holds
exactly load A or load B, in DuckDB and Parquet alike.
"""

from __future__ import annotations

import os
import pickle
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from migstock.acquire.provenance import local_file
from migstock.errors import StoreError
from migstock.parse.prepare import prepare_file
from migstock.pipeline import revision_load
from migstock.store import (
    RevisionLoad,
    current_pointer,
    load_lock,
    load_revisions,
    versions_dir,
    wait_for_writers,
)

pytestmark = pytest.mark.slow

RANDOM_KILLS = 20
PUBLISH_STEPS = ("copied", "built", "switched", "published")

#: a process that forks one loader per line it reads; the loader loads A and B in
#: turn forever, or pauses at the publish step named on the line
_ZYGOTE = """
import os, pickle, sys, time
from pathlib import Path
from migstock import store

loads = pickle.loads(Path(sys.argv[1]).read_bytes())
db, parquet = Path(sys.argv[2]), Path(sys.argv[3])
print("ready", flush=True)
for line in sys.stdin:
    pause_at, first = line.split()
    pid = os.fork()
    if pid == 0:
        def hook(step):
            if step == pause_at:
                print("paused", step, flush=True)
                time.sleep(3600)
        store.publish_hook = hook
        turn = int(first)
        while True:
            store.load_revisions(db, parquet, [loads[turn % 2]])
            turn += 1
    print("loader", pid, flush=True)
    os.waitpid(pid, 0)
"""


@pytest.fixture(scope="module")
def two_loads(official_dir: Path) -> tuple[RevisionLoad, RevisionLoad]:
    raw = local_file(
        official_dir / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx", "raw-dir"
    )
    load_a = revision_load(2020, [prepare_file(raw)])
    totals = load_a.destination_totals.copy()
    totals["migrants"] = totals["migrants"] + 1  # load B: every count one higher
    load_b = RevisionLoad(
        2020,
        destination_totals=totals,
        location_names=load_a.location_names,
        raw_files=load_a.raw_files,
    )
    return load_a, load_b


def _sum(frame) -> int:
    return int(frame["migrants"].sum())


def _published(db: Path, parquet: Path) -> tuple[int, int, str, str]:
    """(DuckDB sum, Parquet sum, DuckDB load time, Parquet load time) of the version
    the pointer names now, read through that one resolved folder."""
    version = Path(os.path.realpath(current_pointer(db)))
    with duckdb.connect(str(version / db.name), read_only=True) as con:
        db_sum, db_time = con.execute(
            "SELECT (SELECT sum(migrants) FROM destination_totals), "
            "(SELECT max(loaded_at)::VARCHAR FROM raw_files)"
        ).fetchone()
    with duckdb.connect() as con:
        files = f"{version}/parquet"
        pq_sum = con.execute(
            f"SELECT sum(migrants) FROM read_parquet('{files}/destination_totals/*/*.parquet')"
        ).fetchone()[0]
        pq_time = con.execute(
            f"SELECT max(loaded_at)::VARCHAR FROM read_parquet('{files}/raw_files/*.parquet')"
        ).fetchone()[0]
    return int(db_sum), int(pq_sum), db_time, pq_time


class Reader(threading.Thread):
    """Reads the store over and over while loads are killed; records what it saw."""

    def __init__(self, db: Path, parquet: Path, allowed: set[int]) -> None:
        super().__init__(daemon=True)
        self.db, self.parquet, self.allowed = db, parquet, allowed
        self.stop = threading.Event()
        self.reads = 0
        self.problems: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            if not self.db.exists() or not self.parquet.is_dir():
                self.problems.append("a documented reader path was missing")
                continue
            try:
                db_sum, pq_sum, db_time, pq_time = _published(self.db, self.parquet)
            except (duckdb.IOException, FileNotFoundError):
                continue  # the version it resolved was cleaned up two loads later
            if db_sum != pq_sum or db_time != pq_time:
                self.problems.append(f"DuckDB and Parquet from different loads: {db_sum} {pq_sum}")
            if db_sum not in self.allowed:
                self.problems.append(f"a store that is neither load A nor B: {db_sum}")
            self.reads += 1


def test_killed_loads_never_publish_a_torn_store(
    two_loads: tuple[RevisionLoad, RevisionLoad], tmp_path: Path
) -> None:
    load_a, load_b = two_loads
    allowed = {_sum(load_a.destination_totals), _sum(load_b.destination_totals)}
    assert len(allowed) == 2
    db, parquet = tmp_path / "curated" / "migstock.duckdb", tmp_path / "curated" / "parquet"
    load_revisions(db, parquet, [load_a])  # a published store from the start: no round skipped
    pickled = tmp_path / "loads.pickle"
    pickled.write_bytes(pickle.dumps([load_a, load_b]))
    zygote = subprocess.Popen(
        [sys.executable, "-c", _ZYGOTE, str(pickled), str(db), str(parquet)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    reader = Reader(db, parquet, allowed)
    seed = os.environ.get("MIGSTOCK_KILL_SEED") or str(time.time_ns())
    print(f"kill trials: MIGSTOCK_KILL_SEED={seed} replays this run")  # shown on failure
    rng = random.Random(seed)
    plan = [None] * RANDOM_KILLS + [step for step in PUBLISH_STEPS for _ in range(2)]
    rng.shuffle(plan)
    seen: set[int] = set()
    try:
        assert zygote.stdout.readline().strip() == "ready"
        reader.start()
        for round_number, pause_at in enumerate(plan):
            zygote.stdin.write(f"{pause_at or '-'} {round_number % 2}\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline().split()[1])
            if pause_at is None:
                time.sleep(rng.uniform(0.0, 2.0))
            else:
                assert zygote.stdout.readline().split() == ["paused", pause_at]
            os.kill(pid, signal.SIGKILL)
            db_sum, pq_sum, db_time, pq_time = _published(db, parquet)
            assert db_sum == pq_sum and db_time == pq_time, pause_at
            assert db_sum in allowed
            seen.add(db_sum)
    finally:
        reader.stop.set()
        zygote.kill()
        zygote.wait()
    reader.join(timeout=10)
    assert reader.problems == []
    assert reader.reads > 10
    assert seen == allowed, "both loads should have been published at some point"
    with load_lock(db):
        pass  # no load holds the lock after the kills
    load_revisions(db, parquet, [load_a])  # the next load cleans up
    versions = sorted(p.name for p in versions_dir(db).iterdir())
    assert len(versions) == 2  # the published version and the one before it
    leftovers = [p.name for p in db.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == [".migstock.duckdb.lock"] or leftovers == []


def test_a_writer_holding_the_file_makes_the_load_wait_then_explain(
    two_loads: tuple[RevisionLoad, RevisionLoad], tmp_path: Path, caplog
) -> None:
    load_a, load_b = two_loads
    db, parquet = tmp_path / "migstock.duckdb", tmp_path / "parquet"
    load_revisions(db, parquet, [load_a])
    notebook = subprocess.Popen(  # a researcher's notebook with the store open read-write
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
            "print('open', flush=True); time.sleep(float(sys.argv[2]))",
            str(db),
            "1.5",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert notebook.stdout.readline().strip() == "open"
    started = time.monotonic()
    load_revisions(db, parquet, [load_b])  # waits for the notebook to close, then loads
    assert time.monotonic() - started >= 0.5
    notebook.wait()
    waits = [r.getMessage() for r in caplog.records if "open read-write by" in r.getMessage()]
    assert len(waits) == 1
    assert f"PID {notebook.pid}" in waits[0] and "waiting up to" in waits[0]
    with duckdb.connect(str(db), read_only=True) as con:
        total = con.execute("SELECT sum(migrants) FROM destination_totals").fetchone()[0]
    assert total == _sum(load_b.destination_totals)


def test_a_writer_that_never_closes_ends_in_one_clear_error(
    two_loads: tuple[RevisionLoad, RevisionLoad], tmp_path: Path
) -> None:
    db = tmp_path / "migstock.duckdb"
    load_revisions(db, tmp_path / "parquet", [two_loads[0]])
    notebook = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
            "print('open', flush=True); time.sleep(60)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert notebook.stdout.readline().strip() == "open"
        with pytest.raises(StoreError) as raised:
            wait_for_writers(db, timeout_s=0.5)
    finally:
        notebook.kill()
        notebook.wait()
    message = str(raised.value)
    assert "\n" not in message
    assert f"still open read-write by PID {notebook.pid}" in message
    assert "close that connection" in message


def test_two_loads_at_once_take_turns(
    two_loads: tuple[RevisionLoad, RevisionLoad], tmp_path: Path
) -> None:
    """The second load waits for the lock, then publishes; neither is torn."""
    load_a, load_b = two_loads
    db, parquet = tmp_path / "migstock.duckdb", tmp_path / "parquet"
    errors: list[BaseException] = []

    def load(item: RevisionLoad) -> None:
        try:
            load_revisions(db, parquet, [item])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=load, args=(item,)) for item in (load_a, load_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db_sum, pq_sum, db_time, pq_time = _published(db, parquet)
    assert db_sum == pq_sum and db_time == pq_time
    assert db_sum in {_sum(load_a.destination_totals), _sum(load_b.destination_totals)}
