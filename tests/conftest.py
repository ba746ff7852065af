"""Shared fixtures: the real UN files, a session-wide Prefect test server."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Before anything imports Prefect: a private, throw-away Prefect home and no telemetry.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="migstock-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# pytest-xdist's workers inherit COLUMNS=80, and a Rich console created while COLUMNS is
# set keeps that width for good: the CLI's consoles (made when a test module imports
# migstock.cli) would then ignore the COLUMNS a test gives its run.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver listens on 127.0.0.1 only (any free port)."""
    return ("127.0.0.1", 0)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``MIGSTOCK_SHARED_DATA``): the real UN files.

    Missing data is a failure, never a skip: CI has the folder.
    """
    root = Path(os.environ.get("MIGSTOCK_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not (root / "un-ims" / "SOURCES.md").exists():
        pytest.fail(f"real UN files not found at {root}; set MIGSTOCK_SHARED_DATA")
    return root


@pytest.fixture(scope="session")
def official_dir(shared_data: Path) -> Path:
    return shared_data / "un-ims" / "official"


@pytest.fixture(scope="session")
def exports_dir(shared_data: Path) -> Path:
    return shared_data / "un-ims" / "exports"


@pytest.fixture(autouse=True)
def _reopen_prefect_log_streams():
    """After a test: point Prefect's console log handlers at stderr again if CliRunner
    closed the stream they were created with (a flow first run inside CliRunner binds
    them to its captured stream; later runs would fail on the closed file)."""
    yield
    import logging
    import sys

    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            stream = getattr(handler, "stream", None)
            if stream is not None and getattr(stream, "closed", False):
                handler.stream = sys.stderr  # not setStream: it flushes the closed one
                if hasattr(handler, "console"):
                    handler.console.file = sys.stderr


@pytest.fixture(autouse=True)
def _in_process_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """``migstock run`` runs in-process unless a test asks for the Prefect door."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """One temporary Prefect API for the whole session (starting one costs 10-20 s);
    flows called in-process use it. Yields its URL."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield str(PREFECT_API_URL.value())


@pytest.fixture
def prefect_door(prefect_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``migstock run`` goes through the Prefect flow, on the session's server."""
    monkeypatch.setenv("PREFECT_API_URL", prefect_server)
    return prefect_server


@pytest.fixture(scope="session")
def validator():
    """One Great Expectations context for all tests that validate (its import is slow)."""
    from migstock.validate.gx import Validator

    return Validator()


@pytest.fixture(scope="session")
def export_2024(exports_dir: Path):
    from tests.real_exports import read_2024_export

    return read_2024_export(exports_dir)


@pytest.fixture(scope="session")
def bilateral_2019_path(
    tmp_path_factory: pytest.TempPathFactory, exports_dir: Path, official_dir: Path
) -> Path:
    """2019 bilateral layout holding the real 2019 export values."""
    from tests.real_exports import write_2019_bilateral

    path = tmp_path_factory.mktemp("wb2019") / "UN_MigrantStockByOriginAndDestination_2019.xlsx"
    return write_2019_bilateral(exports_dir, official_dir, path)


@pytest.fixture(scope="session")
def bilateral_2024_path(tmp_path_factory: pytest.TempPathFactory, export_2024) -> Path:
    """2024 bilateral layout holding the real 2024 country-pairs values."""
    from tests.real_exports import write_2024_bilateral

    directory = tmp_path_factory.mktemp("wb2024")
    return write_2024_bilateral(
        export_2024, directory / "undesa_pd_2024_ims_stock_by_sex_destination_and_origin.xlsx"
    )


@pytest.fixture(scope="session")
def real_age_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the real store's age workbooks (:func:`age_workbooks_from_totals`)."""
    return tmp_path_factory.mktemp("age-workbooks")


@pytest.fixture(scope="session")
def real_store(
    tmp_path_factory: pytest.TempPathFactory,
    official_dir: Path,
    bilateral_2019_path: Path,
    bilateral_2024_path: Path,
    real_age_dir: Path,
) -> Path:
    """A store built (without Prefect) from the official workbooks plus the 2019 and
    2024 bilateral layouts holding the real export values, and age workbooks of 2019 and
    2020 (:func:`age_workbooks_from_totals`), with its exchange files (as the pipeline
    loads it)."""
    from migstock.acquire import find_local_files
    from migstock.acquire.provenance import local_file
    from migstock.exchange import publish_exchange
    from migstock.parse.prepare import group_by_revision, prepare_file
    from migstock.pipeline import revision_load
    from migstock.store import load_revisions

    paths = [*find_local_files(official_dir), bilateral_2019_path, bilateral_2024_path]
    prepared = [prepare_file(local_file(path, "raw-dir")) for path in paths]
    ages = age_workbooks_from_totals(prepared, real_age_dir)
    prepared += [prepare_file(local_file(path, "raw-dir")) for path in ages]
    loads = [revision_load(n, files) for n, files in group_by_revision(prepared).items()]
    db = tmp_path_factory.mktemp("real-store") / "migstock.duckdb"
    load_revisions(db, db.parent / "parquet", loads, before_switch=publish_exchange)
    return db


@pytest.fixture(scope="session")
def flows_store(real_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``real_store`` with the flows of its newest bilateral revision (2024, the
    real country-pair values; no WPP file: births and deaths taken as zero), published
    by ``migstock flows``' pipeline entry."""
    import shutil

    from migstock.pipeline import refresh_flows

    folder = tmp_path_factory.mktemp("flows-store") / "curated"
    shutil.copytree(real_store.parent, folder, symlinks=True)
    db = folder / real_store.name
    result = refresh_flows(db, [2024], raw_dir=folder / "no-raw-files")
    assert result.version is not None and not result.failed
    return db


#: the age workbooks of the real store: (revision, official file name)
AGE_WORKBOOKS = {
    2019: "UN_MigrantStockByAgeAndSex_2019.xlsx",
    2020: "undesa_pd_2020_ims_stock_by_age_sex_and_destination.xlsx",
}
#: the Arab country the real store's age workbooks leave out (a place without age data)
NO_AGE_DATA = 174  # Comoros


def age_workbooks_from_totals(prepared: list, folder: Path) -> list[Path]:
    """Age workbooks of 2019 and 2020 in their layouts, under their official names, whose
    all-ages totals are the official totals workbooks' (each sex split over the 16 bands
    by a **synthetic** profile: no UN age workbook is in shared): the world, every Arab
    country but Comoros (:data:`NO_AGE_DATA`) and France."""
    from migstock.demo.samples import write_age_workbook
    from migstock.regions import ARAB_COUNTRIES
    from tests.age_workbooks import age_from_totals

    written = []
    for number, name in AGE_WORKBOOKS.items():
        (totals,) = [
            f for f in prepared if f.revision == number and f.dataset == "destination_totals"
        ]
        names = dict(zip(totals.names["code"], totals.names["name"], strict=True))
        codes = [900, *sorted(set(ARAB_COUNTRIES) - {NO_AGE_DATA}), 250]
        migrants, population = age_from_totals(totals.rows, names, codes)
        years = sorted(migrants[(names[900], 900)])
        written.append(write_age_workbook(folder / name, number, years, migrants, population))
    return written
