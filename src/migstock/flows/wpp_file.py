"""Recognising WPP's demographic indicators file, and its provenance: no pandas here.

The acquire step asks :func:`is_wpp_indicators` of every CSV in the raw folder (a WPP
file there is not a workbook to parse), before pandas is imported, so this module
imports only the standard library. Reading the file is :mod:`migstock.flows.wpp`.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

#: The columns :func:`migstock.flows.wpp.read_wpp_indicators` needs.
WPP_COLUMNS = ("LocID", "Time", "Births", "SRB", "Deaths", "DeathsMale", "DeathsFemale")

#: How WPP is cited wherever births and deaths from it are used.
WPP_CITATION = (
    "United Nations, Department of Economic and Social Affairs, Population Division (2024). "
    "World Population Prospects 2024, Online Edition."
)
WPP_LICENCE = "CC BY 3.0 IGO"


def wpp_header(path: Path) -> list[str]:
    """The column names of a CSV (or ``.csv.gz``) file's first line."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:  # type: ignore[operator]
        return next(csv.reader(io.StringIO(fh.readline())), [])


def is_wpp_indicators(path: Path) -> bool:
    """Whether a CSV (or .csv.gz) file has the columns of WPP's demographic indicators."""
    try:
        return set(WPP_COLUMNS) <= set(wpp_header(path))
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile, csv.Error):
        return False


def find_wpp_indicators(raw_dir: Path) -> Path | None:
    """The first ``*.csv`` or ``*.csv.gz`` in ``raw_dir`` (by name) with WPP's columns."""
    if not raw_dir.is_dir():
        return None
    for path in sorted([*raw_dir.glob("*.csv"), *raw_dir.glob("*.csv.gz")]):
        if is_wpp_indicators(path):
            return path
    return None


@dataclass(frozen=True)
class WppFile:
    """Where the births and deaths came from: the file, its sha256 and size, the citation."""

    file_name: str
    sha256: str
    size_bytes: int
    citation: str = WPP_CITATION
    licence: str = WPP_LICENCE


def wpp_provenance(path: Path) -> WppFile:
    """The provenance of a WPP file (its sha256 read once)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return WppFile(path.name, digest.hexdigest(), path.stat().st_size)
