"""Exchange formats of every published version: SDMX and a Frictionless data package.

A load calls :func:`publish_exchange` on the new version folder before it switches
the ``.current`` pointer, so readers see the exchange files together with the data::

    migstock.duckdb.versions/<id>/          exchange_dir(version_dir)
        datapackage.json                    Frictionless data package (Table Schemas)
        csv/<table>.csv                     every table as CSV
        sdmx/structure.xml                  SDMX-ML 2.1 structure (all revisions)
        sdmx/<table>.csv                    SDMX-CSV 1.0 of each fact table (all revisions)

SDMX-ML data is written on demand (``migstock export NAME --format sdmx-ml``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from migstock.exchange.datapackage import write_datapackage
from migstock.exchange.sdmx import DATAFLOWS, write_sdmx_csv, write_structure

__all__ = ["exchange_dir", "publish_exchange"]


def exchange_dir(version_dir: Path) -> Path:
    """The folder holding a published version's exchange files (``datapackage.json``,
    ``csv/``, ``sdmx/``): the version folder itself, beside its DuckDB file and Parquet.
    Readers reach the published one through ``<db>.current/``."""
    return Path(version_dir)


def publish_exchange(con: duckdb.DuckDBPyConnection, version_dir: Path) -> Path:
    """Write the exchange files of the store open on ``con`` into ``version_dir``.

    Call it while building a version, before the pointer switch. Returns
    :func:`exchange_dir` of the version.
    """
    folder = exchange_dir(version_dir)
    for table in DATAFLOWS:
        write_sdmx_csv(con, table, folder / "sdmx" / f"{table}.csv")
    write_structure(con, folder / "sdmx" / "structure.xml")
    write_datapackage(con, folder)
    return folder
