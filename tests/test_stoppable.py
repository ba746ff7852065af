"""The stop mechanism itself (``migstock.stops``), in this process: a signal ends a
:func:`~migstock.stops.stoppable` block with :class:`~migstock.stops.Stopped` even when
the exception its handler raised is lost on the way.

DuckDB runs Python's signal handlers while it waits for a query and then replaces the
exception they raise with ``RuntimeError: Query interrupted``: these tests signal this
process while a real DuckDB query runs. Whole runs signalled at every stage are in
``test_stops.py`` (slow).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from migstock import pipeline, stops

#: a query that runs for seconds unless interrupted (no optimiser shortcut for it); on
#: one thread, the one that waits for it, so the interrupt ends it at once (a worker
#: thread would finish its task first: DuckDB waits for it)
LONG_QUERY = "SELECT sum(x % 7) FROM range(1000000000) t(x)"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(config={"threads": 1}) as connection:
        yield connection


def _signal_soon(signum: int, after_s: float = 0.2) -> threading.Timer:
    """This process gets ``signum`` in ``after_s`` seconds (from another thread)."""
    timer = threading.Timer(after_s, os.kill, (os.getpid(), signum))
    timer.start()
    return timer


def _query_until_signalled(con: duckdb.DuckDBPyConnection, signum: int) -> None:
    _signal_soon(signum)
    con.execute(LONG_QUERY).fetchall()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_duckdb_query_ends_the_block_as_that_stop(
    con: duckdb.DuckDBPyConnection, signum: int
) -> None:
    with pytest.raises(stops.Stopped) as stopped, stops.stoppable():
        _query_until_signalled(con, signum)
    assert stopped.value.signum == signum
    assert stopped.value.__cause__ is None and stopped.value.__suppress_context__


def test_duckdb_does_lose_the_exception_the_handler_raised(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Why the record is needed: inside the block the query ends in DuckDB's own error,
    not in :class:`Stopped` (if a DuckDB release keeps the exception, this fails and the
    record becomes a second line of defence)."""
    seen: list[BaseException] = []
    with pytest.raises(stops.Stopped), stops.stoppable():
        try:
            _query_until_signalled(con, signal.SIGTERM)
        except BaseException as error:
            seen.append(error)
            raise
    assert [type(error) for error in seen] == [RuntimeError]
    assert "interrupted" in str(seen[0]).lower()


def test_a_stop_swallowed_by_a_catch_all_still_ends_the_block(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """A handler that turns every error into an outcome (a by-product) swallowed the
    stop: the block still ends with it, as soon as it ends."""
    went_on = []
    with pytest.raises(stops.Stopped) as stopped, stops.stoppable():
        with contextlib.suppress(Exception):
            _query_until_signalled(con, signal.SIGINT)
        went_on.append(True)
    assert went_on == [True]
    assert stopped.value.signum == signal.SIGINT


def test_raise_if_stopped_ends_a_catch_all_at_once(con: duckdb.DuckDBPyConnection) -> None:
    went_on = []
    with pytest.raises(stops.Stopped) as stopped, stops.stoppable():
        try:
            _query_until_signalled(con, signal.SIGTERM)
        except Exception:
            stops.raise_if_stopped()
        went_on.append(True)
    assert went_on == []
    assert stopped.value.signum == signal.SIGTERM


def test_an_error_while_cleaning_up_after_a_stop_is_still_the_stop(
    con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(stops.Stopped) as stopped, stops.stoppable():
        try:
            _query_until_signalled(con, signal.SIGINT)
        finally:
            raise OSError("cannot remove the unfinished version")
    assert stopped.value.signum == signal.SIGINT


def test_without_a_signal_errors_pass_unchanged_and_nothing_is_remembered(
    con: duckdb.DuckDBPyConnection,
) -> None:
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(stops.Stopped), stops.stoppable():
        _query_until_signalled(con, signal.SIGINT)
    assert stops.pending() is None
    with pytest.raises(RuntimeError, match="not a stop"), stops.stoppable():
        raise RuntimeError("not a stop")
    with stops.stoppable():
        stops.raise_if_stopped()
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers  # restored


@pytest.mark.parametrize("by_product", ["publish_site", "publish_brief"])
def test_a_stop_during_a_by_products_queries_is_no_warning(
    by_product: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The pages and the brief turn any error into a warning of the run; an error that
    is a stop DuckDB reworded ends the run instead."""

    def build(db_path: Path, out: Path) -> object:
        with duckdb.connect(config={"threads": 1}) as con:
            _query_until_signalled(con, signal.SIGTERM)
        return "built"

    monkeypatch.setattr(pipeline, "build_site", build)
    monkeypatch.setattr(pipeline, "build_all", build)
    publish = getattr(pipeline, by_product)
    results = []
    with pytest.raises(stops.Stopped) as stopped, stops.stoppable():
        results.append(publish(tmp_path / "m.duckdb"))
    assert results == []  # neither built nor a warning: the stop came out of it
    assert stopped.value.signum == signal.SIGTERM
    # outside a stoppable block (`migstock site`), an error is still a one-line reason
    monkeypatch.setattr(pipeline, "build_site", lambda db, out: 1 / 0)
    monkeypatch.setattr(pipeline, "build_all", lambda db, out: 1 / 0)
    assert "ZeroDivisionError" in publish(tmp_path / "m.duckdb")
