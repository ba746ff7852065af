"""Read-only access to the curated store for researchers: queries and exports."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from migstock.errors import MigstockError

ExportFormat = Literal["csv", "parquet", "xlsx"]
EXCEL_MAX_ROWS = 1_048_575  # one row is the header


def connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    if not db_path.exists():
        raise MigstockError(f"no database at {db_path}: run `migstock run` first")
    try:
        return duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as error:
        raise MigstockError(f"cannot open {db_path} read-only: {error}") from None


def query(db_path: Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` on a read-only connection; writes are refused with a clear message."""
    with connect_read_only(db_path) as con:
        try:
            return con.execute(sql).df()
        except duckdb.Error as error:
            if "read-only" in str(error):
                raise MigstockError(
                    f"the store is opened read-only, so this statement cannot change it "
                    f"({str(error).splitlines()[0]}); tables are loaded by `migstock run`"
                ) from None
            raise MigstockError(f"query failed: {error}") from None


def relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the tables and views of the store."""
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
    ).fetchall()
    return [name for (name,) in rows]


def render(frame: pd.DataFrame, fmt: Literal["csv", "json"]) -> str:
    if fmt == "csv":
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        return buffer.getvalue()
    return json.dumps(json.loads(frame.to_json(orient="records")), indent=1, ensure_ascii=False)


def export(
    db_path: Path,
    name: str,
    fmt: ExportFormat,
    output: Path,
    revision: int | None = None,
) -> int:
    """Write one table or view (optionally one revision) to ``output``; return the row count."""
    with connect_read_only(db_path) as con:
        known = relations(con)
        if name not in known:
            raise MigstockError(f"no table or view {name!r}; choose one of: {', '.join(known)}")
        select = f'SELECT * FROM "{name}"'
        parameters: list[object] = []
        if revision is not None:
            columns = [c[0] for c in con.execute(f'DESCRIBE "{name}"').fetchall()]
            if "revision" not in columns:
                raise MigstockError(f"{name} has no revision column to filter on")
            select += " WHERE revision = ?"
            parameters.append(revision)
        output.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "xlsx":
            frame = con.execute(select, parameters).df()
            if len(frame) > EXCEL_MAX_ROWS:
                raise MigstockError(
                    f"{name} has {len(frame):,} rows, more than an Excel sheet holds; "
                    "filter with --revision or export csv/parquet"
                )
            with pd.ExcelWriter(output, engine="xlsxwriter") as writer:
                frame.to_excel(writer, sheet_name=name[:31], index=False)
            return len(frame)
        relation = con.execute(select, parameters).df()  # parameters need a bound query
        con.register("export_rows", relation)
        options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet"
        escaped = str(output).replace("'", "''")
        con.execute(f"COPY export_rows TO '{escaped}' ({options})")
        return len(relation)
