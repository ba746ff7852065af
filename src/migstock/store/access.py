"""Read-only access to the curated store for researchers: queries and exports."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from migstock.errors import MigstockError
from migstock.store import cannot_open, connect_read_only, own_tables_hint

ExportFormat = Literal["csv", "parquet", "xlsx"]
EXCEL_MAX_ROWS = 1_048_575  # one row is the header


#: how long a ``migstock sql`` query may run, and how much memory DuckDB may use for it,
#: unless ``--timeout`` / ``--memory`` say otherwise
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY = "2GB"

#: settings of the ``migstock sql`` connection: no file but the store is read or
#: written (no spilling either, so no temporary file inside the store or anywhere),
#: no extension installed or loaded, no Python object of this process read as a
#: table, and no statement can change them (``memory_limit`` is added per query,
#: before the lock)
SANDBOX_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "python_enable_replacements": False,
    "temp_directory": "",
    "lock_configuration": True,
}
QUERIES_ONLY = "migstock sql runs queries only (SELECT)"
_WHY_REFUSED = {
    "COPY": "it writes or reads files; use `migstock export` to write one",
    "EXPORT": "it writes files; use `migstock export`",
    "ATTACH": "only the store may be opened",
    "DETACH": "only the store may be opened",
    "LOAD": "extensions cannot be installed or loaded",
    "SET": "settings are locked",
    "VARIABLE_SET": "settings are locked",
    "MULTI": "it runs several statements (a PIVOT without IN list creates types): "
    "name the values, PIVOT ... ON column IN ('a', 'b')",
}

#: table functions (and table macros) of DuckDB that only read the store or DuckDB's
#: own catalog; a table function that is in none of the three sets below is refused
#: (a newer DuckDB's new function stays refused until it is classified here)
READ_ONLY_TABLE_FUNCTIONS = frozenset(
    {
        "duckdb_approx_database_count",
        "duckdb_available_metrics",
        "duckdb_columns",
        "duckdb_connection_count",
        "duckdb_constraints",
        "duckdb_coordinate_systems",
        "duckdb_databases",
        "duckdb_dependencies",
        "duckdb_dialects",
        "duckdb_eviction_queues",
        "duckdb_extension_repositories",
        "duckdb_extensions",
        "duckdb_external_file_cache",
        "duckdb_external_resource_types",
        "duckdb_external_resources",
        "duckdb_functions",
        "duckdb_grammar_extensions",
        "duckdb_indexes",
        "duckdb_keywords",
        "duckdb_log_contexts",
        "duckdb_logs",
        "duckdb_logs_parsed",
        "duckdb_memory",
        "duckdb_optimizers",
        "duckdb_prepared_statements",
        "duckdb_profiling_settings",
        "duckdb_schemas",
        "duckdb_secret_type_parameters",
        "duckdb_secret_types",
        "duckdb_secrets",
        "duckdb_sequences",
        "duckdb_settings",
        "duckdb_table_sample",
        "duckdb_tables",
        "duckdb_temporary_files",
        "duckdb_triggers",
        "duckdb_types",
        "duckdb_variables",
        "duckdb_views",
        "generate_series",
        "histogram",
        "histogram_values",
        "icu_calendar_names",
        "json_each",
        "json_tree",
        "pg_timezone_names",
        "pragma_collations",
        "pragma_database_size",
        "pragma_metadata_info",
        "pragma_platform",
        "pragma_show",
        "pragma_storage_info",
        "pragma_table_info",
        "pragma_user_agent",
        "pragma_version",
        "query_table",  # takes table names, not SQL: files among them meet the file rule
        "range",
        "repeat",
        "repeat_row",
        "seq_scan",
        "summary",
        "test_all_types",
        "test_vector_types",
        "unnest",
        "which_secret",
    }
)
#: table functions that read files: ``enable_external_access = false`` refuses them
#: too, this names the reason first
FILE_READING_FUNCTIONS = frozenset(
    {
        "glob",
        "parquet_bloom_probe",
        "parquet_file_metadata",
        "parquet_full_metadata",
        "parquet_kv_metadata",
        "parquet_metadata",
        "parquet_scan",
        "parquet_schema",
        "read_blob",
        "read_csv",
        "read_csv_auto",
        "read_duckdb",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_json_objects_auto",
        "read_ndjson",
        "read_ndjson_auto",
        "read_ndjson_objects",
        "read_parquet",
        "read_single_csv_file",
        "read_single_json_file",
        "read_single_parquet_file",
        "read_text",
        "sniff_csv",
    }
)
#: functions with side effects, refused wherever they appear in a query, with why
SIDE_EFFECT_FUNCTIONS = {
    "checkpoint": "it writes the database file",
    "force_checkpoint": "it writes the database file",
    "enable_logging": "it changes DuckDB's logging",
    "disable_logging": "it changes DuckDB's logging",
    "truncate_duckdb_logs": "it changes DuckDB's logging",
    "write_log": "it writes to DuckDB's log",
    "enable_profiling": "it changes DuckDB's profiling",
    "disable_profiling": "it changes DuckDB's profiling",
    "create_external_resource": "it changes DuckDB's external resources",
    "register_external_resource": "it changes DuckDB's external resources",
    "register_external_resource_type": "it changes DuckDB's external resources",
    "deregister_external_resource": "it changes DuckDB's external resources",
    "destroy_external_resource": "it changes DuckDB's external resources",
    "query": "it runs SQL text that the sandbox cannot check",
    "json_execute_serialized_sql": "it runs SQL that the sandbox cannot check",
    "arrow_scan": "it reads objects of the migstock process",
    "arrow_scan_dumb": "it reads objects of the migstock process",
    "pandas_scan": "it reads objects of the migstock process",
    "python_arrow_scan": "it reads objects of the migstock process",
    "python_map_function": "it runs code of the migstock process",
    "nextval": "it advances a sequence",
    "setval": "it changes a sequence",
}
#: volatile scalar functions that change nothing but the query's own result; any other
#: volatile scalar function is refused
HARMLESS_VOLATILE_FUNCTIONS = frozenset(
    {
        "current_connection_id",
        "current_query",
        "current_query_id",
        "current_transaction_id",
        "currval",
        "error",
        "gen_random_uuid",
        "random",
        "setseed",  # this connection's random sequence only
        "sleep_ms",  # held to --timeout like any query
        "stats",
        "uuid",
        "uuidv4",
        "uuidv7",
        "vector_type",
    }
)
_GUARDED_FUNCTIONS_SQL = """
    SELECT DISTINCT function_name FROM duckdb_functions()
    WHERE function_type IN ('table', 'table_macro')
       OR (function_type = 'scalar' AND stability = 'VOLATILE')
"""


def guarded_functions(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of this DuckDB's table functions and volatile scalar functions: the ones
    a query may use only when they are classified as harmless above."""
    return {name for (name,) in con.execute(_GUARDED_FUNCTIONS_SQL).fetchall()}


@dataclass(frozen=True)
class Limits:
    """Bounds of one ``migstock sql`` query."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    memory: str = DEFAULT_MEMORY


class QueryInterrupted(MigstockError):
    """The user pressed Ctrl-C (SIGINT) and the query was stopped."""


def connect_sandbox(db_path: Path, limits: Limits | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection that can read nothing but the store (see SANDBOX_CONFIG),
    its memory limit set before the configuration is locked."""
    limits = limits or Limits()
    if not db_path.exists():
        raise MigstockError(f"no database at {db_path}: run `migstock run` first")
    config = {"memory_limit": limits.memory, **SANDBOX_CONFIG}
    try:
        duckdb.connect(":memory:", config={"memory_limit": limits.memory}).close()
    except duckdb.Error as error:
        first = str(error).splitlines()[0]
        raise MigstockError(f"--memory {limits.memory!r} is not a size: {first}") from None
    try:
        return duckdb.connect(str(db_path), read_only=True, config=config)
    except duckdb.Error as error:
        raise MigstockError(cannot_open(db_path, error)) from None


def refused_statement(
    con: duckdb.DuckDBPyConnection, sql: str, db_path: Path | None = None
) -> str | None:
    """Why ``sql`` may not run in the sandbox, or None when every statement is a query
    that calls no function with side effects (DuckDB's parser decides, not patterns).
    ``db_path``: the store, named in the hint on how to keep tables of one's own."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.ParserException:
        return None  # executing it reports the syntax error
    except Exception:  # a statement kind this duckdb build cannot even name
        return f"{QUERIES_ONLY}: this statement is refused"
    guarded: set[str] | None = None
    for statement in statements:
        try:
            kind = statement.type.name
        except ValueError:  # e.g. UPDATE EXTENSIONS: "29 is not a valid StatementType"
            unknown = _first_words(statement.query)
            return f"{QUERIES_ONLY}: {unknown} is refused, a kind of statement it does not know"
        if kind == "EXPLAIN":
            explained = explained_statement(statement.query)
            if explained is None:
                return f"{QUERIES_ONLY}: this EXPLAIN is refused, what it explains is unclear"
            why = refused_statement(con, explained, db_path)
            if why is not None:
                return f"{why} (EXPLAIN and EXPLAIN ANALYZE run on queries only)"
            continue
        if kind != "SELECT":
            why = _WHY_REFUSED.get(kind, "the store is opened read-only")
            if kind in {"CREATE", "INSERT", "UPDATE", "DELETE", "DROP", "ALTER", "CREATE_FUNC"}:
                why = f"the store is read-only; {own_tables_hint(db_path)}"
            return f"{QUERIES_ONLY}: {kind} is refused, {why}"
        if guarded is None:
            guarded = guarded_functions(con)
        why = refused_function(con, statement.query, guarded)
        if why is not None:
            return why
    return None


def _first_words(text: str, count: int = 2) -> str:
    return " ".join(text.split()[:count]).upper() or "this statement"


def explained_statement(text: str) -> str | None:
    """The statement an ``EXPLAIN [ANALYZE] [(options)] ...`` explains, found with
    DuckDB's tokenizer; None when ``text`` does not have that shape."""
    try:
        tokens = duckdb.tokenize(text)
    except duckdb.Error:
        return None
    bounds = [start for start, _ in tokens] + [len(text)]
    words = [
        (start, text[start:end].strip(), kind)
        for (start, kind), end in zip(tokens, bounds[1:], strict=True)
        if kind != duckdb.token_type.comment
    ]
    if not words or words[0][1].upper() != "EXPLAIN":
        return None
    depth = 0
    for start, word, kind in words[1:]:
        if kind == duckdb.token_type.operator and ("(" in word or ")" in word):
            depth += word.count("(") - word.count(")")
            continue
        if depth > 0 or word.upper() in {"ANALYZE", "ANALYSE"}:
            continue
        return text[start:]
    return None


def refused_function(
    con: duckdb.DuckDBPyConnection, select: str, guarded: set[str] | None = None
) -> str | None:
    """Why a SELECT may not run because of a function it calls, anywhere in its syntax
    tree (subqueries, CTEs, joins), or None. ``guarded``: :func:`guarded_functions`."""
    serialized = con.execute("SELECT json_serialize_sql(?)", [select]).fetchone()
    tree = json.loads(serialized[0]) if serialized else {"error": True}
    if tree.get("error"):
        return f"{QUERIES_ONLY}: this query cannot be checked, so it is refused"
    guarded = guarded_functions(con) if guarded is None else guarded
    for name in sorted(_function_names(tree)):
        if name in SIDE_EFFECT_FUNCTIONS:
            return f"{QUERIES_ONLY}: {name}() is refused, {SIDE_EFFECT_FUNCTIONS[name]}"
        if name in FILE_READING_FUNCTIONS:
            return (
                f"migstock sql reads only the store: no other file, folder or URL ({name}() "
                "is refused)"
            )
        if name in guarded and not (
            name in READ_ONLY_TABLE_FUNCTIONS or name in HARMLESS_VOLATILE_FUNCTIONS
        ):
            return f"{QUERIES_ONLY}: {name}() is refused, it is not known to change nothing"
    return None


def _function_names(node: object) -> set[str]:
    """Every ``function_name`` in a ``json_serialize_sql`` tree (lower case)."""
    names: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            name = item.get("function_name")
            if isinstance(name, str):
                names.add(name.lower())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return names


def query(db_path: Path, sql: str, limits: Limits | None = None) -> pd.DataFrame:
    """Run ``sql`` in the read-only sandbox within ``limits``; anything but a query is
    refused clearly. Ctrl-C stops the query at once (:class:`QueryInterrupted`)."""
    limits = limits or Limits()
    con = connect_sandbox(db_path, limits)
    try:
        refused = refused_statement(con, sql, db_path)
        if refused:
            raise MigstockError(refused)
        try:
            return run_bounded(con, sql, limits)
        except duckdb.InterruptException:
            raise MigstockError(
                f"the query ran longer than {limits.timeout_s:g} s and was stopped: narrow it, "
                "or allow more time with --timeout SECONDS"
            ) from None
        except duckdb.OutOfMemoryException as error:
            raise MigstockError(
                f"the query needed more memory than the {limits.memory} it may use and was "
                f"stopped ({str(error).splitlines()[0]}): narrow it, or allow more with "
                "--memory SIZE"
            ) from None
        except duckdb.PermissionException as error:
            raise MigstockError(
                "migstock sql reads only the store: no other file, folder or URL "
                f"({str(error).splitlines()[0]})"
            ) from None
        except duckdb.Error as error:
            if "read-only" in str(error):
                raise MigstockError(
                    f"the store is opened read-only, so this statement cannot change it "
                    f"({str(error).splitlines()[0]}); {own_tables_hint(db_path)}"
                ) from None
            raise MigstockError(f"query failed: {' '.join(str(error).split())}") from None
    finally:
        with contextlib.suppress(duckdb.Error):  # a query that would not stop holds it
            con.close()


def run_bounded(con: duckdb.DuckDBPyConnection, sql: str, limits: Limits) -> pd.DataFrame:
    """Run ``sql`` on a worker thread while this (the main) thread watches the clock and
    stays free for Ctrl-C: DuckDB holds the main thread in C while it runs a query, so
    neither a signal handler nor a timer could act on it there. Either one calls
    ``con.interrupt()``; a timeout surfaces as :class:`duckdb.InterruptException`.

    SIGINT raises KeyboardInterrupt while the query runs even where it was ignored (a
    job started with ``&`` by a script): like psql, an explicit interrupt stops a query.
    """
    if threading.current_thread() is not threading.main_thread():
        return _run_on_worker(con, sql, limits)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _run_on_worker(con, sql, limits)
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_on_worker(con: duckdb.DuckDBPyConnection, sql: str, limits: Limits) -> pd.DataFrame:
    outcome: dict[str, object] = {}
    # an Event, not Thread.join/is_alive: a KeyboardInterrupt inside Thread.join can leave
    # is_alive() False while the thread still runs (CPython before 3.13)
    done = threading.Event()

    def work() -> None:
        try:
            outcome["frame"] = con.execute(sql).df()
        except BaseException as error:  # handed to the main thread
            outcome["error"] = error
        finally:
            done.set()

    deadline = time.monotonic() + limits.timeout_s
    threading.Thread(target=work, name="migstock-sql-query", daemon=True).start()
    try:
        while not done.is_set() and time.monotonic() < deadline:
            done.wait(min(0.1, max(deadline - time.monotonic(), 0)))
    except KeyboardInterrupt:
        _stop(con, done)
        raise QueryInterrupted("interrupted (Ctrl-C): the query was stopped") from None
    if not done.is_set():
        _stop(con, done)
        if "error" not in outcome:
            raise duckdb.InterruptException("the time limit was reached")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["frame"]  # type: ignore[return-value]


def _stop(con: duckdb.DuckDBPyConnection, done: threading.Event, wait_s: float = 5.0) -> None:
    """Interrupt the running query until it has ended (an interrupt that comes before
    the query has started is lost, hence the repeat), for at most ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while not done.is_set() and time.monotonic() < deadline:
        con.interrupt()
        done.wait(0.05)


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
