"""Shared fixtures: the real UN files, a session-wide Prefect test server."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Before anything imports Prefect: a private, throw-away Prefect home and no telemetry.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="migstock-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


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


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect API for the whole session (starting one costs 10-20 s)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


@pytest.fixture(scope="session")
def validator():
    """One Great Expectations context for all tests that validate (its import is slow)."""
    from migstock.validate import Validator

    return Validator()
