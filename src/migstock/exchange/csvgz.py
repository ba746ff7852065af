"""CSV files compressed with gzip: DuckDB writes the text, zlib compresses it.

DuckDB can write gzip itself (``COPY ... (COMPRESSION gzip)``), but its compressor is
slow: for the 356 MB ``bilateral_stock`` CSV of the nine-workbook benchmark store it
took 5.5 s of CPU against 1.6 s for the plain text, while Python's ``zlib`` at level 1
compresses that text in 0.6-1.1 s (16 MB instead of DuckDB's 12 MB). So DuckDB writes a
plain temporary file beside the target and Python compresses it, a megabyte at a time.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb

#: zlib level of the exchange files: 1 is three to four times faster than 6 on these
#: files, for files about 20 % larger
GZIP_LEVEL = 1


def copy_csv_gz(con: duckdb.DuckDBPyConnection, query: str, target: Path, options: str) -> int:
    """Write the rows of ``query`` as CSV (DuckDB ``COPY`` ``options``) to ``target``,
    compressed with gzip (no file name, time 0: equal rows give equal bytes); return the
    row count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    plain = target.with_name(f".{target.name}.plain")
    escaped = str(plain).replace("'", "''")
    try:
        rows = con.execute(
            f"COPY ({query}) TO '{escaped}' ({options}, COMPRESSION none)"
        ).fetchall()
        with (
            plain.open("rb") as source,
            target.open("wb") as raw,
            gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0
            ) as packed,
        ):
            shutil.copyfileobj(source, packed, 1 << 20)
    finally:
        plain.unlink(missing_ok=True)
    return int(rows[0][0]) if rows else 0
