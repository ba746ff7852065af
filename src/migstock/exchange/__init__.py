"""Exchange formats of every published version: SDMX and a Frictionless data package.

The pipeline hands :func:`publish_exchange` to the store's load as its ``before_switch``:
the load calls it on the new version (its open connection and folder) before it seals
the version and switches the ``.current`` pointer, so readers see the exchange files
together with the data::

    migstock.duckdb.versions/<id>/          exchange_dir(version_dir)
        datapackage.json                    Frictionless data package (Table Schemas)
        csv/<table>.csv.gz                  every table as CSV, gzip
        csv/manifest.json                   each CSV file's fingerprint, size, sha256
        sdmx/structure.xml                  SDMX-ML 2.1 structure (all revisions)
        sdmx/<table>_<revision>.csv.gz      SDMX-CSV 1.0, gzip: one file per dataflow version
        sdmx/manifest.json                  each SDMX-CSV file's observations, size, sha256

A revision's SDMX-CSV file whose inputs did not change since the version before (same
rows, same writer: :func:`sdmx_fingerprint`) is a hard link to that version's file
instead of being written again; so is a data-package CSV file whose table did not change
(:func:`csv_fingerprint`). SDMX-ML data is written on demand (``migstock export
NAME --format sdmx-ml``), from a connection the caller opens (the command line opens
the published store read-only). This package never imports :mod:`migstock.store`, nor
the store this one.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import duckdb

from migstock.errors import MigstockError
from migstock.exchange import sdmx
from migstock.exchange.datapackage import (
    CSV_OPTIONS,
    TABLES,
    csv_path,
    csv_query,
    write_datapackage,
)
from migstock.exchange.sdmx import DATAFLOWS, write_sdmx_csv, write_structure

__all__ = [
    "MANIFEST",
    "exchange_dir",
    "export_sdmx",
    "export_structure",
    "publish_exchange",
    "sdmx_csv_name",
]

#: the SDMX folder's list of its SDMX-CSV files (and how each can be shared)
MANIFEST = "manifest.json"


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
    ``before_switch``). An SDMX-CSV file whose :func:`sdmx_fingerprint` equals the one
    recorded for the same file in an earlier version beside this one (the version the
    load started from) is hard-linked from there. Returns :func:`exchange_dir`.
    """
    folder = exchange_dir(version_dir)
    target = folder / "sdmx"
    target.mkdir(parents=True, exist_ok=True)
    earlier = _earlier_manifest(Path(version_dir))
    manifest: dict[str, dict[str, Any]] = {}
    for table in DATAFLOWS:
        for revision in sdmx.revisions_of(con, table):
            name = sdmx_csv_name(table, revision)
            fingerprint = sdmx_fingerprint(con, table, revision)
            entry = _link_unchanged(earlier, name, fingerprint, target / name)
            if entry is None:
                count = write_sdmx_csv(con, table, target / name, revision)
                entry = {
                    "observations": count,
                    "bytes": (target / name).stat().st_size,
                    "sha256": _sha256(target / name),
                    "fingerprint": fingerprint,
                }
            manifest[name] = entry
    write_structure(con, target / "structure.xml")
    tables = _link_unchanged_csvs(con, Path(version_dir), folder / "csv")
    write_datapackage(con, folder)
    for name, entry in tables.items():  # the files written now: their size and sha256
        if "sha256" not in entry:
            entry.update(bytes=(folder / "csv" / name).stat().st_size)
            entry.update(sha256=_sha256(folder / "csv" / name))
    (folder / "csv" / MANIFEST).write_text(json.dumps(tables, indent=1) + "\n", encoding="utf-8")
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return folder


def csv_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """What a table's data-package CSV is made from, as a sha256: the SELECT and the
    writer, and the count and order-free hash of the table's rows. Equal fingerprints:
    equal files."""
    row = con.execute(
        f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR FROM {table} t"
    ).fetchone()
    made_of = {
        "sql": csv_query(con, table),
        "writer": f"duckdb {duckdb.__version__} ({CSV_OPTIONS}, gzip)",
        "rows": list(row) if row else None,
    }
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()


def _link_unchanged_csvs(
    con: duckdb.DuckDBPyConnection, version_dir: Path, target: Path
) -> dict[str, dict[str, Any]]:
    """Hard-link each data-package CSV whose table has not changed since the version
    before (same :func:`csv_fingerprint`, file as its manifest says) into ``target``;
    return the manifest entries of every table (the linked ones complete)."""
    target.mkdir(parents=True, exist_ok=True)
    earlier = _earlier_manifest(version_dir, "csv")
    entries: dict[str, dict[str, Any]] = {}
    for table in TABLES:
        name = Path(csv_path(table)).name
        fingerprint = csv_fingerprint(con, table)
        entries[name] = _link_unchanged(earlier, name, fingerprint, target / name) or {
            "fingerprint": fingerprint
        }
    return entries


def sdmx_fingerprint(con: duckdb.DuckDBPyConnection, table: str, revision: int) -> str:
    """What one SDMX-CSV file is made from, as a sha256: the SQL that maps the store to
    observations, the DuckDB version that writes it, and the count and order-free hash of
    the revision's rows of ``table`` (and of the other tables its dataflow is made of:
    ``age_population`` beside ``age_stock``) and of ``data_basis`` (every column). Equal
    fingerprints: equal files."""
    rows = [
        con.execute(
            f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR FROM {source} t "
            "WHERE revision = ?",
            [revision],
        ).fetchone()
        for source in (*sdmx.source_tables(table), "data_basis")
    ]
    made_of = {
        "sql": sdmx.observations_sql(table, revision),
        "writer": f"duckdb {duckdb.__version__} ({sdmx.SDMX_CSV_OPTIONS}, gzip)",
        "rows": [list(row) if row else None for row in rows],
    }
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()


def _earlier_manifest(
    version_dir: Path, folder: str = "sdmx"
) -> tuple[Path, dict[str, Any]] | None:
    """The SDMX (or CSV: ``folder``) folder and manifest of the newest version beside
    ``version_dir`` that sorts before it (version ids sort in publishing order) and has a
    manifest."""
    siblings = sorted(
        (p for p in version_dir.parent.iterdir() if p.name < version_dir.name),
        reverse=True,
    )
    for sibling in siblings:
        path = sibling / folder / MANIFEST
        try:
            return path.parent, json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


def _link_unchanged(
    earlier: tuple[Path, dict[str, Any]] | None, name: str, fingerprint: str, target: Path
) -> dict[str, Any] | None:
    """Hard-link ``name`` from the earlier version when it was made from the same
    fingerprint and is still the file its manifest describes; return its entry, or
    None when it has to be written."""
    if earlier is None:
        return None
    folder, manifest = earlier
    entry = manifest.get(name)
    source = folder / name
    if not isinstance(entry, dict) or entry.get("fingerprint") != fingerprint:
        return None
    try:
        if source.stat().st_size != entry.get("bytes") or _sha256(source) != entry.get("sha256"):
            return None
        os.link(source, target)
    except OSError:  # gone, or another file system: write it
        return None
    return entry


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    part_of = [name for name, sources in sdmx.SOURCE_TABLES.items() if table in sources]
    if table not in sdmx.DATAFLOWS and part_of:
        raise MigstockError(
            f"{table!r} is part of the {sdmx.DATAFLOWS[part_of[0]]} dataflow: export {part_of[0]!r}"
        )
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
