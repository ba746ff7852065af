"""The data brief after a load: both languages, with or without Chromium; the command's
exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from migstock.brief import build_all
from migstock.errors import MigstockError

pytestmark = pytest.mark.browser


def test_the_command_keeps_its_exit_codes() -> None:
    command = Path(sys.executable).with_name("migstock")
    assert subprocess.run([command, "--help"], capture_output=True, check=False).returncode == 0
    unknown = subprocess.run([command, "no-such-command"], capture_output=True, text=True)
    assert unknown.returncode == 2 and "No such command" in unknown.stderr


def test_the_brief_is_built_in_both_languages_with_pdfs(real_store: Path, tmp_path: Path) -> None:
    results = build_all(real_store, tmp_path)
    assert [result.lang for result in results] == ["en", "ar"]
    for result in results:
        assert result.html == tmp_path / result.lang / "index.html"
        assert result.pdf is not None and result.pdf.read_bytes().startswith(b"%PDF")
        assert result.pdf_error is None


def test_a_brief_without_a_store_says_so(tmp_path: Path) -> None:
    with pytest.raises(MigstockError, match="no database"):
        build_all(tmp_path / "none.duckdb", tmp_path)


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
