"""Scheduled refresh: change detection, conditional downloads through the flow,
and the deployment definitions (prefect.yaml and `migstock serve`)."""

import hashlib
import inspect
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from prefect.client.schemas.schedules import CronSchedule
from prefect.flows import load_flow_from_entrypoint
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from migstock.demo.samples import write_grids
from migstock.flow import refresh, run_summary, scheduled_deployment
from migstock.parse.read import read_workbook
from migstock.settings import DEFAULT_CRON

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TOTALS_2020 = "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"


def _outcomes(state) -> dict[str, str]:
    return {o.subject: o.status for o in run_summary(state).outcomes}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.usefixtures("prefect_server")
def test_unchanged_files_are_skipped_and_a_changed_one_reloads_its_revision(
    official_dir: Path, tmp_path: Path
) -> None:
    raw, db = tmp_path / "raw", tmp_path / "curated" / "migstock.duckdb"
    shutil.copytree(official_dir, raw)
    assert refresh(raw_dir=raw, db_path=db, return_state=True).is_completed()
    before = _digest(db)

    again = refresh(raw_dir=raw, db_path=db, return_state=True)
    assert again.is_completed()
    outcomes = _outcomes(again)
    assert outcomes["store"] == "unchanged"
    assert outcomes["2015 bilateral"] == outcomes["2020 destination_totals"] == "unchanged"
    assert not again.result(raise_on_failure=False).reports  # nothing parsed or validated
    assert _digest(db) == before

    # the same 2019 numbers saved again: new bytes, new sha256, so revision 2019 reloads
    book = read_workbook(raw / "UN_MigrantStockTotal_2019.xlsx")
    write_grids(book.sheets, raw / "UN_MigrantStockTotal_2019.xlsx")
    changed = refresh(raw_dir=raw, db_path=db, return_state=True)
    outcomes = _outcomes(changed)
    assert outcomes["revision 2019"] == "loaded"
    assert outcomes["2015 bilateral"] == outcomes["2020 destination_totals"] == "unchanged"
    with duckdb.connect(str(db), read_only=True) as con:
        shas = con.execute(
            "SELECT sha256 FROM raw_files WHERE revision = 2019 AND dataset = 'destination_totals'"
        ).fetchall()
        world = con.execute(
            "SELECT migrants FROM destination_totals WHERE revision = 2019 AND year = 2019 "
            "AND destination_code = 900 AND sex = 'total'"
        ).fetchone()
    assert shas == [(_digest(raw / "UN_MigrantStockTotal_2019.xlsx"),)]
    assert world == (271_642_105,)


@pytest.mark.usefixtures("prefect_server")
def test_scheduled_run_downloads_once_then_costs_one_request(
    httpserver: HTTPServer, official_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGSTOCK_DATA_DIR", str(tmp_path / "data"))
    workbook = (official_dir / TOTALS_2020).read_bytes()
    conditional = []

    def totals(request: Request) -> Response:
        conditional.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"2020-12"':
            return Response(status=304)
        return Response(workbook, status=200, headers={"ETag": '"2020-12"'})

    httpserver.expect_request("/totals.xlsx").respond_with_handler(totals)
    httpserver.expect_request("/bilateral.xlsx").respond_with_data("not here", status=404)
    httpserver.expect_request("/age.xlsx").respond_with_data("not here", status=404)
    urls = {
        "2020/destination_totals": httpserver.url_for("/totals.xlsx"),
        "2020/bilateral": httpserver.url_for("/bilateral.xlsx"),
        "2020/age": httpserver.url_for("/age.xlsx"),
    }
    first = refresh(revisions=[2020], required=[2020], url_overrides=urls, return_state=True)
    outcomes = _outcomes(first)
    assert outcomes["revision 2020"] == "loaded"
    assert outcomes["2020 bilateral"] == "unavailable"  # 404: named, the rest still loads
    assert outcomes["2020 age"] == "unavailable"
    assert first.is_failed()  # 2020 is required: a missing file of it fails the run
    db = tmp_path / "data" / "curated" / "migstock.duckdb"
    before = _digest(db)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT url, etag, origin FROM raw_files").fetchall() == [
            (urls["2020/destination_totals"], '"2020-12"', "download")
        ]

    second = refresh(revisions=[2020], url_overrides=urls, return_state=True)
    assert _outcomes(second)["2020 destination_totals"] == "unchanged"
    assert conditional == [None, '"2020-12"']  # one plain GET, then one conditional GET
    assert _digest(db) == before
    # not required: the file the UN site does not have is only "not provided"
    assert _outcomes(second)["2020 bilateral"] == "not provided"
    assert _outcomes(second)["2020 age"] == "not provided"
    assert second.is_completed()


def test_prefect_yaml_deployment_definition() -> None:
    document = yaml.safe_load((REPO / "prefect.yaml").read_text())
    (deployment,) = document["deployments"]
    assert deployment["entrypoint"] == "flows/refresh.py:refresh"
    schedules = [CronSchedule(**schedule) for schedule in deployment["schedules"]]
    assert [(s.cron, s.timezone) for s in schedules] == [(DEFAULT_CRON, "UTC")]
    assert deployment["concurrency_limit"] == 1
    flow = load_flow_from_entrypoint(str(REPO / deployment["entrypoint"]))
    assert flow.name == refresh.name
    accepted = set(inspect.signature(refresh.fn).parameters)
    assert set(deployment["parameters"]) <= accepted
    assert deployment["parameters"]["offline"] is False


def test_serve_deployment_matches_prefect_yaml() -> None:
    deployment = scheduled_deployment()
    assert [s.schedule.cron for s in deployment.schedules] == [DEFAULT_CRON]
    assert deployment.concurrency_limit == 1
    document = yaml.safe_load((REPO / "prefect.yaml").read_text())
    assert deployment.parameters == document["deployments"][0]["parameters"]
    assert deployment.name == document["deployments"][0]["name"]
    custom = scheduled_deployment("15 3 1 * *")
    assert custom.schedules[0].schedule.cron == "15 3 1 * *"


def test_only_transient_download_errors_are_retried_by_prefect() -> None:
    from prefect.states import Failed

    from migstock.errors import FetchError
    from migstock.flow import _transient

    assert _transient(None, None, Failed(data=FetchError("timed out", transient=True)))
    # a host that cannot be reached is tried once per run (DNS failure, refused)
    assert not _transient(None, None, Failed(data=FetchError("no DNS", unreachable=True)))
    assert not _transient(None, None, Failed(data=FetchError("HTTP 404")))
    assert not _transient(None, None, Failed(data=ValueError("bug")))


@pytest.mark.usefixtures("prefect_server")
def test_offline_never_touches_the_network(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGSTOCK_DATA_DIR", str(tmp_path / "data"))
    httpserver.expect_request("/totals.xlsx").respond_with_data("never asked", status=500)
    urls = {"2020/destination_totals": httpserver.url_for("/totals.xlsx")}
    state = refresh(revisions=[2020], url_overrides=urls, offline=True, return_state=True)
    assert _outcomes(state)["2020 destination_totals"] == "unavailable"
    assert httpserver.log == []


@pytest.mark.usefixtures("prefect_server")
def test_an_unreachable_host_is_tried_once_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a connection, the first file names the failure and the rest are skipped
    at once (a first run on a machine without internet must not take many minutes)."""
    monkeypatch.setenv("MIGSTOCK_DATA_DIR", str(tmp_path / "data"))
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens, connection refused
    urls = {
        "2020/bilateral": f"{closed}/b.xlsx",
        "2020/destination_totals": f"{closed}/t.xlsx",
        "2020/age": f"{closed}/a.xlsx",
    }
    state = refresh(revisions=[2020], url_overrides=urls, return_state=True)
    outcomes = {o.subject: o for o in run_summary(state).outcomes}
    assert outcomes["2020 bilateral"].status == "unavailable"
    assert "could not be reached" in outcomes["2020 bilateral"].message
    assert outcomes["2020 destination_totals"].message.startswith(
        "skipped: 127.0.0.1 could not be reached earlier in this run"
    )
    assert (
        str(tmp_path / "data" / "raw" / TOTALS_2020) in outcomes["2020 destination_totals"].message
    )
    assert outcomes["2020 age"].message.startswith("skipped: 127.0.0.1 could not be reached")


def test_a_run_downloads_each_file_once_then_parses_and_loads_it(
    httpserver: HTTPServer, official_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the first step of a run downloaded goes to the parser as is, never requested
    a second time."""
    from typer.testing import CliRunner

    from migstock.cli import app

    monkeypatch.setenv("MIGSTOCK_DATA_DIR", str(tmp_path / "data"))
    httpserver.expect_request("/totals.xlsx").respond_with_data(
        (official_dir / TOTALS_2020).read_bytes(), headers={"ETag": '"v1"'}
    )
    httpserver.expect_request("/bilateral.xlsx").respond_with_data("not here", status=404)
    httpserver.expect_request("/age.xlsx").respond_with_data("not here", status=404)
    arguments = ["run", "-r", "2020"]
    arguments += ["--url", f"2020/destination_totals={httpserver.url_for('/totals.xlsx')}"]
    arguments += ["--url", f"2020/bilateral={httpserver.url_for('/bilateral.xlsx')}"]
    arguments += ["--url", f"2020/age={httpserver.url_for('/age.xlsx')}"]
    result = CliRunner().invoke(app, arguments, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "revision 2020 │ loaded" in result.output
    assert sorted(request.path for request, _ in httpserver.log) == [
        "/age.xlsx",
        "/bilateral.xlsx",
        "/totals.xlsx",
    ]
    db = tmp_path / "data" / "curated" / "migstock.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT etag, origin FROM raw_files").fetchall() == [
            ('"v1"', "download")
        ]
