"""A run stopped by a signal, killed, or refused by the disk: one line, the right exit code,
nothing half-published, nothing left running.

Each run is a real ``migstock run`` process. Signals are sent at precise stages by a small
driver that runs the command line with a hook: the pipeline's stage announcements and the
store's publish steps make the process signal itself at the stage named. Inside the store
stage and the by-products the signal must also land in a running DuckDB query, which turns
the exception the handler raised into ``RuntimeError: Query interrupted``: a second driver
signals at moments after the new version folder appears, and a third runs a long query on
the stage's own connection just before one of its steps and signals while it runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from migstock.store import published_version, versions_dir

pytestmark = pytest.mark.slow

WORKBOOK = "UN_MigrantStockTotal_2017.xlsx"
MIGSTOCK = str(Path(sys.executable).with_name("migstock"))

DRIVER = """
import os, signal, sys
from migstock import cli, progress, store

stage, signum = sys.argv[1], getattr(signal, sys.argv[2])

def hit(step):
    if step == stage:
        os.kill(os.getpid(), signum)

store.publish_hook = hit
announce = progress.stage

def stage_hook(text):
    announce(text)
    if text.startswith(stage):
        os.kill(os.getpid(), signum)

progress.stage = stage_hook
sys.argv = ["migstock", "run", "--force", *sys.argv[3:]]
cli.main()
"""


#: signals the run ``sys.argv[1]`` seconds after its new version folder appears
TIMED_DRIVER = """
import os, signal, sys, threading, time
from pathlib import Path
from migstock import cli, store

delay, signum = float(sys.argv[1]), getattr(signal, sys.argv[2])
versions = store.versions_dir(Path(sys.argv[sys.argv.index("--db") + 1]))
existing = set(os.listdir(versions))

def watch():
    while not set(os.listdir(versions)) - existing:
        time.sleep(0.002)
    time.sleep(delay)
    os.kill(os.getpid(), signum)

threading.Thread(target=watch, daemon=True).start()
sys.argv = ["migstock", "run", "--force", *sys.argv[3:]]
cli.main()
"""

#: runs a long query on the connection passed to ``module:function`` before calling it,
#: signals the run while it runs, and writes what the query raised into a marker file
QUERY_DRIVER = """
import importlib, os, signal, sys, threading
from pathlib import Path
from migstock import cli

target, signum, marker = sys.argv[1], getattr(signal, sys.argv[2]), Path(sys.argv[3])
module_name, _, name = target.partition(":")
module = importlib.import_module(module_name)
real = getattr(module, name)

def interrupted_first(con, *args, **kwargs):
    threading.Timer(0.2, os.kill, (os.getpid(), signum)).start()
    try:  # seconds of work: a worker thread's task is finished before the query ends
        con.execute("SELECT sum(x % 7) FROM range(300000000) t(x)").fetchall()
    except BaseException as error:
        marker.write_text(type(error).__name__)
        raise
    return real(con, *args, **kwargs)

setattr(module, name, interrupted_first)
sys.argv = ["migstock", "run", "--force", *sys.argv[4:]]
cli.main()
"""


def _environment(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    environment.update(COLUMNS="200", PREFECT_HOME=str(tmp_path / "prefect-home"))
    return environment


@pytest.fixture(scope="module")
def first_load(official_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A raw folder with one workbook, and a store that has loaded it once."""
    root = tmp_path_factory.mktemp("stops")
    raw = root / "raw"
    raw.mkdir()
    shutil.copy(official_dir / WORKBOOK, raw / WORKBOOK)
    db = root / "curated" / "migstock.duckdb"
    first = subprocess.run(
        [MIGSTOCK, "run", "--raw-dir", str(raw), "--db", str(db)],
        env=_environment(root),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    return root


@pytest.fixture
def loaded(first_load: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of that raw folder and store, for one test (the store's links are relative)."""
    for folder in ("raw", "curated"):
        shutil.copytree(first_load / folder, tmp_path / folder, symlinks=True)
    for path in (tmp_path / "curated").rglob("*"):  # published versions are read-only
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    return tmp_path / "raw", tmp_path / "curated" / "migstock.duckdb"


def _stopped(
    result: subprocess.CompletedProcess[str], db: Path, before: str | None, name: str
) -> tuple[str, bool]:
    """Check the run stopped in one line with the signal's exit code, and that the store
    serves what the line says; return the line and whether the new version was published."""
    assert result.returncode == {"SIGINT": 130, "SIGTERM": 143}[name], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"stopped by {name} "), result.stderr
    after = published_version(db)
    versions = sorted(p.name for p in versions_dir(db).iterdir())
    published = after != before
    if published:
        assert f"the new version {after} " in lines[0] and "published before the stop" in lines[0]
        assert versions == sorted([before, after])
    else:
        assert f"still serves version {before}" in lines[0]
        assert versions == [before]  # the unfinished version folder is gone
    return lines[0], published


def _driven(driver: str, tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", driver, *arguments],
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("stage", "name", "published"),
    [
        ("parsing", "SIGINT", False),
        ("validating revision", "SIGTERM", False),
        ("loading", "SIGINT", False),
        ("copied", "SIGTERM", False),
        ("built", "SIGINT", False),  # just before the switch
        ("switched", "SIGTERM", True),  # just after it
        ("writing the reports", "SIGINT", True),
        ("writing the data brief", "SIGTERM", True),
        ("writing the country pages", "SIGINT", True),
    ],
)
def test_a_signal_at_any_stage_stops_the_run_in_one_line(
    loaded: tuple[Path, Path], tmp_path: Path, stage: str, name: str, published: bool
) -> None:
    raw, db = loaded
    before = published_version(db)
    started = time.monotonic()
    result = _driven(DRIVER, tmp_path, stage, name, "--raw-dir", str(raw), "--db", str(db))
    assert _stopped(result, db, before, name)[1] is published
    assert time.monotonic() - started < 120


@pytest.mark.parametrize(("delay", "name"), [(0.15, "SIGINT"), (0.6, "SIGTERM")])
def test_a_signal_while_the_store_stage_runs_its_queries_stops_the_run_in_one_line(
    loaded: tuple[Path, Path], tmp_path: Path, delay: float, name: str
) -> None:
    """Moments after the new version folder appears, as a fault battery signals: the
    copy, the load-changes queries, Parquet, the exchange files (where it lands depends
    on the machine; what the line says must be what the store serves). Each signal at
    each stage: the stage cases above and the query cases below, which land for sure."""
    raw, db = loaded
    before = published_version(db)
    result = _driven(
        TIMED_DRIVER, tmp_path, str(delay), name, "--raw-dir", str(raw), "--db", str(db)
    )
    _stopped(result, db, before, name)


@pytest.mark.parametrize(
    ("target", "name", "published"),
    [
        ("migstock.store:_compare", "SIGINT", False),  # the load-changes queries
        ("migstock.store:_largest_arab_changes", "SIGTERM", False),
        ("migstock.exchange:write_datapackage", "SIGTERM", False),  # the exchange files
        ("migstock.brief.queries:brief_revision", "SIGINT", True),  # the brief's queries
        ("migstock.site.queries:arab_places", "SIGTERM", True),  # the pages' queries
    ],
)
def test_a_signal_during_a_query_of_a_stage_stops_the_run_in_one_line(
    loaded: tuple[Path, Path], tmp_path: Path, target: str, name: str, published: bool
) -> None:
    raw, db = loaded
    before = published_version(db)
    marker = tmp_path / "query-ended-with"
    arguments = (target, name, str(marker), "--raw-dir", str(raw), "--db", str(db))
    result = _driven(QUERY_DRIVER, tmp_path, *arguments)
    assert marker.read_text() == "RuntimeError", "the signal did not land in a DuckDB query"
    assert _stopped(result, db, before, name)[1] is published


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_run_leaves_no_process_behind(loaded: tuple[Path, Path], tmp_path: Path) -> None:
    """SIGKILL while Chromium prints the brief: the Playwright driver and Chromium end too."""
    raw, db = loaded
    run = subprocess.Popen(
        [MIGSTOCK, "run", "--force", "--raw-dir", str(raw), "--db", str(db)],
        env=_environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    family: set[int] = set()
    while time.monotonic() < deadline and run.poll() is None:
        family = _descendants(run.pid)
        if len(family) >= 2:  # the driver and the browser it started
            break
        time.sleep(0.05)
    assert len(family) >= 2, "the run ended before Chromium started"
    run.kill()
    run.wait()
    time.sleep(5)
    assert [pid for pid in family if _alive(pid)] == []


@pytest.fixture
def as_root() -> None:
    if os.geteuid() != 0:
        pytest.fail(
            "these tests mount a read-only bind mount and a small tmpfs: run them as root "
            "(CI does), or deselect them with -m 'not slow'"
        )


@contextmanager
def _mounted(target: Path, *options: str) -> Iterator[Path]:
    """``mount OPTIONS target`` for the block; unmounted after."""
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", *options, str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def _run(raw: Path, db: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = [MIGSTOCK, "run", "--force"]
    return subprocess.run(
        [*command, "--raw-dir", str(raw), "--db", str(db)],
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.usefixtures("as_root")
def test_a_read_only_store_folder_gets_one_line_and_stays_as_it_was(
    loaded: tuple[Path, Path], tmp_path: Path
) -> None:
    raw, db = loaded
    before = published_version(db)
    with _mounted(db.parent, "--bind", str(db.parent)):
        subprocess.run(["mount", "-o", "remount,bind,ro", str(db.parent)], check=True)
        line = _one_error_line(_run(raw, db, tmp_path))
    assert str(db.parent) in line and "read-only" in line
    assert published_version(db) == before
    assert sorted(p.name for p in versions_dir(db).iterdir()) == [before]


@pytest.mark.usefixtures("as_root")
def test_a_full_disk_gets_one_line_and_leaves_no_unfinished_version(
    official_dir: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(official_dir / WORKBOOK, raw / WORKBOOK)
    with _mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=48m", "tmpfs") as disk:
        db = disk / "curated" / "migstock.duckdb"
        first = _run(raw, db, tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        before = published_version(db)
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * max(free - 200_000, 0))  # a nearly full disk
        line = _one_error_line(_run(raw, db, tmp_path))
        assert "the disk is full" in line or "No space left" in line, line
        assert published_version(db) == before
        assert sorted(p.name for p in versions_dir(db).iterdir()) == [before]


def test_the_child_reader_ends_with_a_killed_run(tmp_path: Path) -> None:
    """The guarded reader's child process (``parse/read.py``) dies with its parent: here it
    blocks on a FIFO posing as a workbook when the parent is killed."""
    fifo = tmp_path / "book.xlsx"
    os.mkfifo(fifo)
    script = (
        "import sys; from pathlib import Path; from migstock.parse import read; "
        "read._read_sheets_in_child(Path(sys.argv[1]), 'xlsx')"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(fifo)])
    deadline = time.monotonic() + 60
    children: set[int] = set()
    while time.monotonic() < deadline and not children:
        children = _descendants(parent.pid)
        time.sleep(0.05)
    assert children, "the child reader did not start"
    time.sleep(0.5)  # past its start-up, blocked on the FIFO
    parent.kill()
    parent.wait()
    time.sleep(3)
    assert [pid for pid in children if _alive(pid)] == []
