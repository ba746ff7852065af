"""Exchange formats of every published version: SDMX and a Frictionless data package.

The pipeline hands :func:`publish_exchange` to the store's load as its ``before_switch``:
the load calls it on the new version (its open connection and folder) before it seals
the version and switches the ``.current`` pointer, so readers see the exchange files
together with the data::

    migstock.duckdb.versions/<id>/          exchange_dir(version_dir)
        datapackage.json                    Frictionless data package (Table Schemas)
        csv/<table>.csv.gz                  every table as CSV, gzip
        sdmx/structure.xml                  SDMX-ML 2.1 structure (all revisions)
        sdmx/<table>_<revision>.csv.gz      SDMX-CSV 1.0, gzip: one file per dataflow version

SDMX-ML data is written on demand (``migstock export NAME --format sdmx-ml``), from a
connection the caller opens (the command line opens the published store read-only).
This package never imports :mod:`migstock.store`, nor the store this one.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from migstock.errors import MigstockError
from migstock.exchange import sdmx
from migstock.exchange.datapackage import write_datapackage
from migstock.exchange.sdmx import DATAFLOWS, write_sdmx_csv, write_structure

__all__ = ["exchange_dir", "export_sdmx", "export_structure", "publish_exchange", "sdmx_csv_name"]


def exchange_dir(version_dir: Path) -> Path:
    """The folder holding a published version's exchange files (``datapackage.json``,
    ``csv/``, ``sdmx/``): the version folder itself, beside its DuckDB file and Parquet.
    Readers reach the published one through ``<db>.current/``."""
    return Path(version_dir)


def sdmx_csv_name(table: str, revision: int) -> str:
    """The published SDMX-CSV file of one dataflow version: ``<table>_<revision>.csv.gz``."""
    return f"{table}_{revision}.csv.gz"


def publish_exchange(con: duckdb.DuckDBPyConnection, version_dir: Path) -> Path:
    """Write the exchange files of the store open on ``con`` into ``version_dir``.

    Call it while building a version, before the pointer switch (the load's
    ``before_switch``). Returns :func:`exchange_dir` of the version.
    """
    folder = exchange_dir(version_dir)
    for table in DATAFLOWS:
        for revision in sdmx.revisions_of(con, table):
            write_sdmx_csv(con, table, folder / "sdmx" / sdmx_csv_name(table, revision), revision)
    write_structure(con, folder / "sdmx" / "structure.xml")
    write_datapackage(con, folder)
    return folder


def export_sdmx(
    con: duckdb.DuckDBPyConnection,
    table: str,
    sdmx_format: str,
    output: Path,
    revision: int | None = None,
) -> int:
    """``migstock export TABLE --format sdmx-csv|sdmx-ml``: write one fact table (one
    revision or all) of the store open on ``con`` as SDMX-CSV 1.0 or SDMX-ML 2.1; return
    the observation count."""
    if table not in sdmx.DATAFLOWS:
        raise MigstockError(
            f"SDMX covers the fact tables only: {', '.join(sdmx.DATAFLOWS)} (not {table!r})"
        )
    _check_revision(con, revision)
    if sdmx_format == "sdmx-csv":
        return sdmx.write_sdmx_csv(con, table, output, revision)
    if revision is not None and revision not in sdmx.revisions_of(con, table):
        return 0  # no data set to write: the caller says so
    return sdmx.write_sdmx_ml(con, table, output, revision)


def export_structure(
    con: duckdb.DuckDBPyConnection, output: Path, revision: int | None = None
) -> int:
    """``migstock export --structure``: the SDMX-ML 2.1 structure (one revision or all)
    of the store open on ``con``; return how many artefacts it holds."""
    _check_revision(con, revision)
    return sdmx.write_structure(con, output, None if revision is None else [revision])


def _check_revision(con: duckdb.DuckDBPyConnection, revision: int | None) -> None:
    loaded = sdmx.revisions_of(con)
    if revision is not None and revision not in loaded:
        raise MigstockError(
            f"revision {revision} is not loaded; loaded: {', '.join(map(str, loaded)) or 'none'}"
        )
