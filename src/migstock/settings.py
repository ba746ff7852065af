"""Default locations, overridable by environment variables and CLI options."""

from __future__ import annotations

import os
from pathlib import Path

#: when the scheduled refresh runs: Mondays 06:00 UTC (the UN publishes rarely)
DEFAULT_CRON = "0 6 * * 1"


def data_dir() -> Path:
    return Path(os.environ.get("MIGSTOCK_DATA_DIR", "data"))


def landing_dir() -> Path:
    """Where raw workbooks are downloaded to or dropped by the user."""
    return data_dir() / "raw"


def db_path() -> Path:
    return data_dir() / "curated" / "migstock.duckdb"


def parquet_dir(db: Path | None = None) -> Path:
    """The Parquet tree lives next to the database it mirrors."""
    return (db or db_path()).parent / "parquet"


def validation_dir(db: Path | None = None) -> Path:
    """Validation results, Data Docs and history live next to the database."""
    return (db or db_path()).parent / "validation"
