"""Which tables and views a DuckDB store has: stores from before a table, and partial
loads, lack some. Shared by the store, the exchange writer, the brief, the pages and the
pipeline (which do not import each other for it)."""

from __future__ import annotations

import duckdb


def has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the database behind ``con`` has a table or view ``name`` (schema main)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_name = ?",
        [name],
    ).fetchone()
    return bool(row and row[0])
