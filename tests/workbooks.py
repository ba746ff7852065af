"""Helpers that write test workbooks: parts of an .xlsx rewritten (grids go back to a
workbook with :func:`migstock.demo.samples.write_grids`)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path


def rewrite_parts(source: Path, target: Path, edit: Callable[[str, bytes], bytes | None]) -> Path:
    """Copy an .xlsx part by part; ``edit(name, data)`` may change a part or drop it (None)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for member in old.infolist():
            data = edit(member.filename, old.read(member))
            if data is not None:
                new.writestr(member.filename, data)
    return target
