"""Provenance of raw files: where each came from and its checksum."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from migstock.catalog import LICENCE, revision


@dataclass(frozen=True)
class RawFile:
    """A raw workbook on disk and what is known of its origin."""

    path: Path
    sha256: str
    size_bytes: int
    origin: str  # "download", "landing zone" or "raw-dir"
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retrieved_at: datetime | None = None

    def record(self, revision_number: int, dataset: str) -> dict[str, object]:
        """One row of the ``raw_files`` table."""
        row = asdict(self)
        row.pop("path")
        row.update(
            revision=revision_number,
            dataset=dataset,
            file_name=self.path.name,
            licence=LICENCE,
            citation=revision(revision_number).citation,
        )
        return row


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def local_file(path: Path, origin: str) -> RawFile:
    """Provenance of a file found on disk (landing zone or ``--raw-dir``)."""
    return RawFile(path=path, sha256=sha256_of(path), size_bytes=path.stat().st_size, origin=origin)
