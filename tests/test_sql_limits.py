"""`migstock sql` is bounded: a time limit, a memory limit, and Ctrl-C stop a query
at once with one line, and nothing can raise the limits from inside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from migstock.cli import app
from migstock.store import create_empty

#: runs for minutes (until an INT64 overflow) unless something stops it
ENDLESS = "SELECT sum(i*i) FROM range(100000000000) t(i)"
#: a list of 3 billion numbers: 24 GB unless the memory limit stops it
HUNGRY = "SELECT len(list(i)) FROM range(3000000000) t(i)"
MIGSTOCK = Path(sys.executable).with_name("migstock")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("limits") / "store.duckdb"
    with duckdb.connect(str(db)) as con:
        create_empty(con)
    return db


def _one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


def test_a_query_stops_at_the_timeout(store: Path) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(app, ["sql", ENDLESS, "--db", str(store), "--timeout", "0.5"])
    elapsed = time.monotonic() - started
    assert result.exit_code == 2
    assert "ran longer than 0.5 s and was stopped" in _one_line(result.output)
    assert elapsed < 5, f"took {elapsed:.1f} s to stop"


def test_a_query_stops_at_the_memory_limit(store: Path) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(app, ["sql", HUNGRY, "--db", str(store), "--memory", "200MB"])
    assert result.exit_code == 2
    line = _one_line(result.output)
    assert "needed more memory than the 200MB it may use" in line and "--memory" in line
    assert time.monotonic() - started < 30


def test_a_bad_memory_size_is_one_line(store: Path) -> None:
    result = CliRunner().invoke(app, ["sql", "SELECT 1", "--db", str(store), "--memory", "lots"])
    assert result.exit_code == 2
    assert "--memory 'lots' is not a size" in _one_line(result.output)


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return 0


def test_sigint_stops_a_running_query_at_once(store: Path) -> None:
    process = subprocess.Popen(
        [str(MIGSTOCK), "sql", ENDLESS, "--db", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # the query runs once the query thread exists beside the main thread
        deadline = time.monotonic() + 60
        while _threads(process.pid) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        assert process.poll() is None, process.communicate()
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
        stopped_after = time.monotonic() - sent
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130, stderr
    assert "interrupted (Ctrl-C): the query was stopped" in _one_line(stderr)
    assert stopped_after < 2.0, f"took {stopped_after:.1f} s to stop"
