"""A Frictionless data package of the store: every table as CSV, with a Table Schema.

``datapackage.json`` (Data Package v1) lists one tabular resource per table
(``csv/<table>.csv.gz``, CSV compressed with gzip, ``"compression": "gz"``): field
types, required fields, enumerations, primary keys and foreign keys (to ``locations``,
``revisions`` and ``raw_files``), the descriptions the store holds as ``COMMENT ON``
(those of ``sql/docs.toml``), the CC BY 3.0 IGO licence, every source workbook with its
sha256, and how to cite. Written with DuckDB and ``json``: the ``frictionless`` library
is only needed to validate it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb

from migstock.catalog import LICENCE
from migstock.exchange.csvgz import copy_csv_gz
from migstock.relations import has_relation

#: the tables of the package, reference tables first
TABLES = (
    "locations",
    "revisions",
    "raw_files",
    "bilateral_stock",
    "destination_totals",
    "refugees",
    "data_basis",
    "location_notes",
    "location_names",
    "age_stock",
    "age_population",
    "flows",
    "flow_estimates",
)
PRIMARY_KEYS: dict[str, list[str]] = {
    "locations": ["code"],
    "revisions": ["revision"],
    "raw_files": ["sha256"],
    "destination_totals": ["revision", "year", "destination_code", "sex"],
    "refugees": ["revision", "year", "destination_code"],
    "data_basis": ["revision", "destination_code"],
    "location_notes": ["revision", "location_code", "note_number"],
    "location_names": ["revision", "code"],
    "age_stock": ["revision", "year", "destination_code", "sex", "age_group"],
    "age_population": ["revision", "year", "destination_code", "sex", "age_group"],
    "flows": ["revision", "period_start", "origin_code", "destination_code", "sex", "method"],
    "flow_estimates": ["revision"],
}
_TO_LOCATIONS = {"destination_code", "origin_code", "location_code", "code"}
_REFERENCES = {"revision": ("revisions", "revision"), "raw_sha256": ("raw_files", "sha256")}
ENUMS: dict[str, list[str]] = {
    "sex": ["total", "male", "female"],
    "origin_kind": ["country", "aggregate", "total", "other_north", "other_south", "other"],
    "kind": ["country", "aggregate"],
    "dataset": ["bilateral", "destination_totals", "age"],
    "age_group": [*(f"{a}-{a + 4}" for a in range(0, 75, 5)), "75+", "total"],
    "origin": ["download", "landing zone", "raw-dir"],
    "arab_subregion": ["GCC", "Mashreq", "Maghreb", "Arab LDCs"],
    "licence": [LICENCE],
    "basis": ["foreign_born", "citizenship", "imputed", "foreign_born and citizenship"],
    "method": ["demographic_account", "stock_difference_zero", "stock_difference_return"],
}
NOT_NEGATIVE = {
    "migrants",
    "total_population",
    "refugees",
    "size_bytes",
    "migrant_share",
    "population",
}
NOT_NEGATIVE |= {"flow", "flow_rows", "wpp_size_bytes"}
SHA256_PATTERN = "[0-9a-f]{64}"
LICENSE = {
    "name": "CC-BY-3.0-IGO",
    "path": "https://creativecommons.org/licenses/by/3.0/igo/",
    "title": "Creative Commons Attribution 3.0 IGO",
}
_TYPES = {
    "SMALLINT": "integer",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "DOUBLE": "number",
    "BOOLEAN": "boolean",
    "VARCHAR": "string",
    "TIMESTAMP WITH TIME ZONE": "datetime",
}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, bool, str | None]]:
    """(name, type, required, description) of each column of ``table``; the description
    is the column's ``COMMENT ON`` (a load writes those of ``sql/docs.toml``)."""
    rows = con.execute(
        "SELECT column_name, data_type, NOT is_nullable, comment FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [(name, kind, bool(required), text or None) for name, kind, required, text in rows]


def _table_description(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """The table's ``COMMENT ON``."""
    row = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
        [table],
    ).fetchone()
    return (row[0] or None) if row else None


def _field(name: str, data_type: str, required: bool, text: str | None) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "type": _TYPES.get(data_type, "string")}
    if text:
        field["description"] = text
    if field["type"] == "datetime":
        field["format"] = "%Y-%m-%dT%H:%M:%S.%fZ"
    constraints: dict[str, Any] = {}
    if required:
        constraints["required"] = True
    if name in ENUMS:
        constraints["enum"] = ENUMS[name]
    if name in NOT_NEGATIVE:
        constraints["minimum"] = 0
    if name in {"sha256", "raw_sha256", "wpp_sha256"}:
        constraints["pattern"] = SHA256_PATTERN
    if constraints:
        field["constraints"] = constraints
    return field


def table_schema(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    """The Table Schema of one store table."""
    columns = _columns(con, table)
    schema: dict[str, Any] = {
        "fields": [_field(*column) for column in columns],
        "missingValues": [""],
    }
    if table in PRIMARY_KEYS:
        schema["primaryKey"] = PRIMARY_KEYS[table]
    foreign_keys = []
    for name, *_ in columns:
        if name in _TO_LOCATIONS and table != "locations":
            target = ("locations", "code")
        elif name in _REFERENCES and table != _REFERENCES[name][0]:
            target = _REFERENCES[name]
        else:
            continue
        foreign_keys.append(
            {"fields": [name], "reference": {"resource": target[0], "fields": [target[1]]}}
        )
    if foreign_keys:
        schema["foreignKeys"] = foreign_keys
    return schema


def _select(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """SELECT of a table for its CSV: timestamps as ISO 8601 in UTC."""
    columns = []
    for name, data_type, *_ in _columns(con, table):
        if data_type.startswith("TIMESTAMP"):
            columns.append(
                f"strftime(\"{name}\" AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') AS \"{name}\""
            )
        else:
            columns.append(f'"{name}"')
    return f"SELECT {', '.join(columns)} FROM {table}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: the data package's CSV files: gzip, which ``frictionless`` (and R's ``frictionless``,
#: pandas, DuckDB) read as they are
CSV_SUFFIX = ".csv.gz"


def csv_path(table: str) -> str:
    """The path of a table's CSV file in the package (``csv/<table>.csv.gz``)."""
    return f"csv/{table}{CSV_SUFFIX}"


def write_table_csvs(con: duckdb.DuckDBPyConnection, package_dir: Path) -> dict[str, int]:
    """Write every table of :data:`TABLES` to ``package_dir/csv/<table>.csv.gz``
    (:func:`~migstock.exchange.csvgz.copy_csv_gz`); return row counts. A file already
    there (linked by :func:`migstock.exchange.publish_exchange` from the version before,
    made from the same rows) is kept."""
    counts = {}
    for table in TABLES:
        target = package_dir / csv_path(table)
        if target.exists():
            (counts[table],) = con.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,)
            continue
        counts[table] = copy_csv_gz(con, _select(con, table), target, CSV_OPTIONS)
    return counts


#: how DuckDB writes the data package's CSV (part of each file's fingerprint)
CSV_OPTIONS = "FORMAT csv, HEADER true"


def csv_query(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The SELECT a table's CSV file is written from."""
    return _select(con, table)


def descriptor(
    con: duckdb.DuckDBPyConnection, package_dir: Path, counts: dict[str, int]
) -> dict[str, Any]:
    """The ``datapackage.json`` content for the CSV files in ``package_dir/csv``."""
    revisions = con.execute(
        "SELECT revision, title, citation FROM revisions ORDER BY revision"
    ).fetchall()
    sources = con.execute(
        "SELECT revision, dataset, file_name, url, sha256, size_bytes FROM raw_files "
        "ORDER BY revision, dataset"
    ).fetchall()
    resources = []
    for table in TABLES:
        path = package_dir / csv_path(table)
        description = _table_description(con, table) or table
        resources.append(
            {
                "name": table,
                "path": csv_path(table),
                "profile": "tabular-data-resource",
                "format": "csv",
                "compression": "gz",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": f"{description} ({counts[table]:,} rows)",
                "bytes": path.stat().st_size,  # of the file as stored (gzip)
                "hash": f"sha256:{_sha256(path)}",
                "schema": table_schema(con, table),
            }
        )
    citations = [citation for _, _, citation in revisions]
    estimated = _flow_sources(con)
    citations += list(dict.fromkeys(c for row in estimated for c in row[4:] if c))
    return {
        "profile": "tabular-data-package",
        "name": "migstock-international-migrant-stock",
        "id": package_dir.name,
        "title": "International Migrant Stock (UN DESA), curated for the Arab region by migstock",
        "description": (
            "The curated tables of UN DESA's International Migrant Stock as loaded by "
            "migstock, one gzip-compressed CSV per table. Conventions: migrants NULL (empty) = not "
            "available ('..') or suppressed (suppressed = true, '~'); 0 = none. Codes >= 900 "
            "are the world, regions and groups (locations.is_aggregate). The same data as "
            "SDMX (structure and SDMX-CSV data) is in sdmx/. Cite as: " + " ".join(citations)
        ),
        "version": version("migstock"),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "keywords": ["international migration", "migrant stock", "Arab region", "UN DESA"],
        "licenses": [LICENSE],
        "citation": citations,
        "sources": [
            {
                "title": f"{file_name} (revision {revision}, {dataset})",
                **({"path": url} if url else {}),
                "sha256": sha256,
                "bytes": size_bytes,
            }
            for revision, dataset, file_name, url, sha256, size_bytes in sources
        ]
        + [
            {
                "title": f"{file_name} (births and deaths of the flows of revision {revision})",
                "sha256": sha256,
                "bytes": size_bytes,
            }
            for revision, file_name, sha256, size_bytes, *_ in estimated
            if file_name
        ],
        "contributors": [
            {
                "title": "United Nations Department of Economic and Social Affairs, "
                "Population Division",
                "role": "author",
            },
            {"title": f"migstock {version('migstock')}", "role": "wrangler"},
        ],
        "resources": resources,
    }


def _flow_sources(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """Per revision with estimated flows: the WPP file used (or NULLs), its sha256 and
    size, and how the methods and WPP are cited (empty before flows existed)."""
    if not has_relation(con, "flow_estimates"):
        return []
    return con.execute(
        "SELECT revision, wpp_file, wpp_sha256, wpp_size_bytes, method_citation, wpp_citation "
        "FROM flow_estimates ORDER BY revision"
    ).fetchall()


def write_datapackage(con: duckdb.DuckDBPyConnection, package_dir: Path) -> Path:
    """Write ``package_dir/csv/<table>.csv.gz`` and ``package_dir/datapackage.json``."""
    counts = write_table_csvs(con, package_dir)
    path = package_dir / "datapackage.json"
    content = descriptor(con, package_dir, counts)
    path.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
