"""`migstock serve` against a real Prefect server: steps logged at INFO, failed runs in a
proper Failed state, usage errors in one line."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migstock.cli import app

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DEPLOYMENT = "migstock-refresh/scheduled-refresh"
TOTALS_2020 = "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"


def _serve(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "migstock.cli", "serve", "--cron", "0 6 * * 1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


async def _registered() -> bool:
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            await client.read_deployment_by_name(DEPLOYMENT)
        except ObjectNotFound:
            return False
    return True


def test_a_bad_cron_is_a_one_line_usage_error() -> None:
    result = CliRunner().invoke(app, ["serve", "--cron", "every monday"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "'every monday' is not a cron expression" in lines[0]


def test_serve_without_an_api_url_says_it_starts_a_temporary_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    process = _serve(env)
    try:
        first = process.stdout.readline()  # printed before any server starts
    finally:
        _stop(process)
    assert first.startswith("PREFECT_API_URL is not set: starting a temporary Prefect server")


@pytest.mark.usefixtures("prefect_server")
def test_served_runs_log_their_steps_and_fail_with_one_line(
    tmp_path: Path, official_dir: Path
) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.deployments import run_deployment
    from prefect.settings import get_current_settings

    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir(), bad.mkdir()
    shutil.copy(official_dir / TOTALS_2020, good / TOTALS_2020)
    (bad / TOTALS_2020).write_text("<!DOCTYPE html><html><title>Not found</title></html>")
    api = get_current_settings().api.url
    env = {
        **{k: v for k, v in os.environ.items() if k != "PREFECT_LOGGING_LEVEL"},
        "PREFECT_API_URL": api,
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "MIGSTOCK_DATA_DIR": str(tmp_path / "data"),
    }
    process = _serve(env)
    try:
        deadline = time.monotonic() + 120
        while not asyncio.run(_registered()):
            assert time.monotonic() < deadline and process.poll() is None, "serve did not start"
            time.sleep(0.5)
        db = tmp_path / "data" / "curated" / "migstock.duckdb"
        passed = run_deployment(
            DEPLOYMENT, parameters={"raw_dir": str(good), "db_path": str(db)}, timeout=300
        )
        failed = run_deployment(
            DEPLOYMENT, parameters={"raw_dir": str(bad), "db_path": str(db)}, timeout=300
        )
    finally:
        output = _stop(process)
    assert output.startswith(f"Prefect API: {api}"), output[:500]

    async def messages(flow_run_id) -> list[tuple[int, str]]:
        async with get_client() as client:
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
        return [(log.level, log.message) for log in logs]

    assert passed.state.is_completed(), passed.state
    info = [message for level, message in asyncio.run(messages(passed.id)) if level == 20]
    assert any(message == "validating revision 2020" for message in info), info
    assert any(message.startswith("revision 2020: loaded: 5,922 rows") for message in info)

    assert failed.state.is_failed()
    assert "\n" not in failed.state.message
    assert failed.state.message.startswith("1 of the requested files or revisions failed")
    assert TOTALS_2020 in failed.state.message and "TypeError" not in failed.state.message
