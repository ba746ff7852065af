"""The run's helper processes: the brief's worker and the quick exit they share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from migstock.brief import build_all
from migstock.brief.worker import BriefWorker
from migstock.errors import MigstockError


def test_a_quick_exit_keeps_the_exit_code_the_output_and_the_other_exit_handlers(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "handler-ran"
    script = (
        "import atexit, pathlib\n"
        "from migstock.worker_process import end_without_teardown\n"
        "end_without_teardown(lambda: 3)\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'yes')\n"
        "print('printed before the end', end='')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 3
    assert done.stdout == "printed before the end"
    assert marker.read_text() == "yes"  # registered later, so it ran before the quick exit


def test_the_command_keeps_its_exit_codes() -> None:
    command = Path(sys.executable).with_name("migstock")
    assert subprocess.run([command, "--help"], capture_output=True, check=False).returncode == 0
    unknown = subprocess.run([command, "no-such-command"], capture_output=True, text=True)
    assert unknown.returncode == 2 and "No such command" in unknown.stderr


def test_the_brief_worker_builds_both_languages(real_store: Path, tmp_path: Path) -> None:
    results = BriefWorker().build(real_store, tmp_path)
    assert [result.lang for result in results] == ["en", "ar"]
    for result in results:
        assert result.html == tmp_path / result.lang / "index.html"
        assert result.pdf is not None and result.pdf.read_bytes().startswith(b"%PDF")


def test_a_brief_that_fails_in_the_worker_raises_here(tmp_path: Path) -> None:
    with pytest.raises(MigstockError, match="no database"):
        BriefWorker().build(tmp_path / "none.duckdb", tmp_path)


def test_without_chromium_the_pages_are_written_and_each_says_why_there_is_no_pdf(
    real_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIGSTOCK_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser on it
    results = build_all(real_store, tmp_path / "brief")
    assert [result.lang for result in results] == ["en", "ar"]
    for result in results:
        assert result.html.exists() and result.pdf is None
        assert result.pdf_error is not None and "no Chromium found" in result.pdf_error


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux CPU affinity and two CPUs (CI has both)",
)
def test_the_temporary_prefect_server_is_kept_on_one_cpu() -> None:
    from migstock.prefect_server import _keep_on_one_cpu

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _keep_on_one_cpu(child.pid)
        assert os.sched_getaffinity(child.pid) == {max(os.sched_getaffinity(0))}
    finally:
        child.kill()
        child.wait()
    _keep_on_one_cpu(child.pid)  # a process that has exited is no error


@pytest.mark.skipif(not hasattr(os, "nice"), reason="needs os.nice (CI has it)")
def test_helper_processes_yield_the_cpu() -> None:
    from migstock import worker_process

    pool = worker_process.start(int)
    try:
        niceness = pool.submit(os.nice, 0).result()
    finally:
        pool.shutdown()
    assert niceness == min(19, os.nice(0) + worker_process.NICENESS)
