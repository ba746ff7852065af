"""Helpers that write test workbooks: parts of an .xlsx rewritten (grids go back to a
workbook with :func:`migstock.demo.samples.write_grids`)."""

from __future__ import annotations

import struct
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


def declare(path: Path, part: str, *, size: int | None = None, crc: int | None = None) -> Path:
    """Make the zip directory of ``path`` lie about ``part``: its uncompressed ``size`` or
    its ``crc``, in the local header and in the central directory alike."""
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(part).header_offset
    blob = bytearray(path.read_bytes())
    central = blob.rindex(part.encode()) - 46  # the name follows a 46-byte entry header
    assert blob[local : local + 4] == b"PK\x03\x04", "not the part's local header"
    assert blob[central : central + 4] == b"PK\x01\x02", "not the part's directory entry"
    for field, value in ((14, crc), (22, size)):  # offsets in the local header
        if value is not None:
            struct.pack_into("<I", blob, local + field, value)
            struct.pack_into("<I", blob, central + field + 2, value)
    path.write_bytes(bytes(blob))
    return path
