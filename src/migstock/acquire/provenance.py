"""Provenance of raw files: where each came from and its checksum."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
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
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


SIDECAR_SUFFIX = ".provenance.json"


def sidecar_path(path: Path) -> Path:
    """Where the provenance record of a raw file is kept: next to it."""
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_sidecar(raw: RawFile, revision_number: int, dataset: str) -> Path:
    """Keep the provenance record of a downloaded file beside it (atomic write)."""
    record = raw.record(revision_number, dataset)
    target = sidecar_path(raw.path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, target)
    return target


def read_sidecar(path: Path) -> dict[str, object] | None:
    try:
        return json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def local_file(path: Path, origin: str) -> RawFile:
    """Provenance of a file found on disk (landing zone or ``--raw-dir``).

    A file migstock downloaded keeps its URL, ETag, Last-Modified and retrieval
    time in its sidecar record, as long as the file is the one that was recorded.
    """
    raw = RawFile(path=path, sha256=sha256_of(path), size_bytes=path.stat().st_size, origin=origin)
    record = read_sidecar(path)
    if record and record.get("sha256") == raw.sha256:
        retrieved = record.get("retrieved_at")
        raw = replace(
            raw,
            origin=str(record.get("origin") or origin),
            url=record.get("url"),  # type: ignore[arg-type]
            etag=record.get("etag"),  # type: ignore[arg-type]
            last_modified=record.get("last_modified"),  # type: ignore[arg-type]
            retrieved_at=datetime.fromisoformat(retrieved) if isinstance(retrieved, str) else None,
        )
    return raw
