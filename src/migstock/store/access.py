"""Read-only access to the curated store for researchers: queries and exports."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
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


#: settings of the ``migstock sql`` connection: no file but the store is read or
#: written, no extension installed or loaded, and no statement can change them
SANDBOX_CONFIG = {
    "enable_external_access": False,
    "lock_configuration": True,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
#: statement kinds ``migstock sql`` runs: queries only
ALLOWED_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_WHY_REFUSED = {
    "COPY": "it writes or reads files; use `migstock export` to write one",
    "EXPORT": "it writes files; use `migstock export`",
    "ATTACH": "only the store may be opened",
    "DETACH": "only the store may be opened",
    "LOAD": "extensions cannot be installed or loaded",
    "SET": "settings are locked",
    "CREATE": "nothing can be created, not even temporary objects",
}


def connect_sandbox(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection that can read nothing but the store (see SANDBOX_CONFIG)."""
    if not db_path.exists():
        raise MigstockError(f"no database at {db_path}: run `migstock run` first")
    try:
        return duckdb.connect(str(db_path), read_only=True, config=SANDBOX_CONFIG)
    except duckdb.Error as error:
        raise MigstockError(f"cannot open {db_path} read-only: {error}") from None


def refused_statement(con: duckdb.DuckDBPyConnection, sql: str) -> str | None:
    """Why ``sql`` may not run in the sandbox, or None when every statement is a query."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.ParserException:
        return None  # executing it reports the syntax error
    except Exception:  # a statement kind this duckdb build cannot even name
        return "migstock sql runs queries only (SELECT); this statement is refused"
    for statement in statements:
        if statement.type not in ALLOWED_STATEMENTS:
            kind = statement.type.name
            why = _WHY_REFUSED.get(kind, "the store is opened read-only")
            return f"migstock sql runs queries only (SELECT): {kind} is refused, {why}"
    return None


def query(db_path: Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` in the read-only sandbox; anything but a query is refused clearly."""
    with connect_sandbox(db_path) as con:
        refused = refused_statement(con, sql)
        if refused:
            raise MigstockError(refused)
        try:
            return con.execute(sql).df()
        except duckdb.PermissionException as error:
            raise MigstockError(
                "migstock sql reads only the store: no other file, folder or URL "
                f"({str(error).splitlines()[0]})"
            ) from None
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
    """Write one table or view (optionally one revision) to ``output``; return the row count.

    An xlsx file also gets an "About" sheet: the query, when it was made, the
    citation and licence, and every source file with its sha256.
    """
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
            query_text = select.replace("?", str(revision)) if revision is not None else select
            write_xlsx(frame, name[:31], about_sheet(con, frame, query_text), output)
            return len(frame)
        relation = con.execute(select, parameters).df()  # parameters need a bound query
        con.register("export_rows", relation)
        options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet"
        escaped = str(output).replace("'", "''")
        con.execute(f"COPY export_rows TO '{escaped}' ({options})")
        return len(relation)


LICENCE_URL = "https://creativecommons.org/licenses/by/3.0/igo/"


@dataclass
class About:
    """What the "About" sheet of an xlsx export says."""

    fields: list[tuple[str, str]]
    sources: pd.DataFrame


def about_sheet(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, query_text: str) -> About:
    """Citation, licence and source files of the revisions in ``frame`` (all if it has none)."""
    revisions = (
        sorted(int(r) for r in frame["revision"].dropna().unique()) if "revision" in frame else None
    )
    where = ""
    if revisions is not None:
        where = f"WHERE revision IN ({', '.join(map(str, revisions or [-1]))})"
    cited = con.execute(
        f"SELECT revision, citation, licence FROM revisions {where} ORDER BY revision"
    ).fetchall()
    sources = con.execute(
        "SELECT revision, file_name, dataset, sha256, size_bytes, url, origin, retrieved_at, "
        f"loaded_at FROM raw_files {where} ORDER BY revision, file_name"
    ).df()
    for column in ("retrieved_at", "loaded_at"):  # Excel has no time zones
        sources[column] = sources[column].map(
            lambda value: "" if pd.isna(value) else value.strftime("%Y-%m-%d %H:%M:%S UTC")
        )
    licences = sorted({licence for _, _, licence in cited}) or ["CC BY 3.0 IGO"]
    fields = [
        ("Made", datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("Query", query_text),
        ("Rows", f"{len(frame):,}"),
        ("Cite as", "; ".join(citation for _, citation, _ in cited) or "(no revision loaded)"),
        ("Licence", f"{', '.join(licences)}: {LICENCE_URL} (attribute the source as cited)"),
        ("Made with", f"migstock {version('migstock')}"),
    ]
    return About(fields, sources)


def write_xlsx(frame: pd.DataFrame, sheet: str, about: About, output: Path) -> None:
    """The rows on one sheet (frozen header, fitted widths) and an "About" sheet."""
    with pd.ExcelWriter(output, engine="xlsxwriter") as writer:
        frame.to_excel(writer, sheet_name=sheet, index=False)
        _tidy_sheet(writer.sheets[sheet], frame)
        fields = pd.DataFrame(about.fields, columns=["about", "value"])
        fields.to_excel(writer, sheet_name="About", index=False)
        start = len(fields) + 2
        about.sources.to_excel(writer, sheet_name="About", index=False, startrow=start)
        book, sheet_about = writer.book, writer.sheets["About"]
        sheet_about.write(start - 1, 0, "Source files", book.add_format({"bold": True}))
        sheet_about.set_column(0, 0, 14)
        sheet_about.set_column(1, 1, 70, book.add_format({"text_wrap": True}))
        sheet_about.set_column(2, len(about.sources.columns), 22)
        sheet_about.set_column(3, 3, 66)  # sha256
        sheet_about.freeze_panes(1, 0)


def _tidy_sheet(worksheet: object, frame: pd.DataFrame) -> None:
    worksheet.freeze_panes(1, 0)  # type: ignore[attr-defined]
    for position, column in enumerate(frame.columns):
        values = frame[column].head(1000).astype("string").fillna("")
        longest = max([len(str(column)), *values.str.len().tolist()])
        worksheet.set_column(position, position, min(max(longest + 2, 8), 60))  # type: ignore[attr-defined]
