"""Flows wired into the store, validation, review, pipeline and command line (issue #28).

A small store (four places, three reference years, real schema) is published with
``load_revisions``; ``migstock flows`` then estimates, validates and publishes its
flows. The checks of the ``flows`` suite are made to fail on purpose where they must.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from migstock import pipeline
from migstock.acquire import find_local_files
from migstock.cli import app
from migstock.exchange import publish_exchange
from migstock.flows import estimate_revision, flow_checks
from migstock.flows.checks import CHECK_COLUMNS
from migstock.report import review as rv
from migstock.report.explain import explain
from migstock.store import (
    FlowsLoad,
    RevisionLoad,
    connect_read_only,
    load_revisions,
    publish_flows,
    published_version,
)
from migstock.validate.flows import validate_flows
from migstock.validate.gx import ValidationReport
from tests.test_flows_store import small_store, wpp_file

NAMES = {4: "Afghanistan", 12: "Algeria", 682: "Saudi Arabia", 818: "Egypt", 400: "Jordan"}
NAMES |= {410: "Republic of Korea", 900: "World", 950: "An aggregate"}


def _store_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of ``tests.test_flows_store.small_store`` (four places, 2000-2010)."""
    with small_store() as con:
        bilateral = con.execute("SELECT * FROM bilateral_stock WHERE revision = 2019").df()
        totals = con.execute("SELECT * FROM destination_totals WHERE revision = 2019").df()
    return bilateral, totals


def publish_small_store(folder: Path) -> Path:
    """A published store holding the small store's 2019 rows, with its exchange files (as
    a run loads it); returns its DuckDB path."""
    bilateral, totals = _store_frames()
    names = pd.DataFrame(
        [(2019, code, name) for code, name in NAMES.items()], columns=["revision", "code", "name"]
    )
    raw = [
        {
            "sha256": "a" * 64 if dataset == "bilateral" else "b" * 64,
            "revision": 2019,
            "dataset": dataset,
            "file_name": f"{dataset}.xlsx",
            "origin": "raw-dir",
            "size_bytes": 1,
            "licence": "CC BY 3.0 IGO",
            "citation": "test",
        }
        for dataset in ("bilateral", "destination_totals")
    ]
    bilateral["raw_sha256"] = "a" * 64
    totals["raw_sha256"] = "b" * 64
    load = RevisionLoad(
        2019,
        bilateral_stock=bilateral,
        destination_totals=totals,
        location_names=[names],
        raw_files=raw,
    )
    db = folder / "curated" / "migstock.duckdb"
    load_revisions(db, db.parent / "parquet", [load], before_switch=publish_exchange)
    return db


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return publish_small_store(tmp_path)


def _sql(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


# ------------------------------------------------------------------ the check rows


def test_the_check_rows_hold_the_account_the_signs_and_the_periods() -> None:
    con = small_store()
    found = estimate_revision(con, 2019)
    checks = flow_checks(con, 2019, found)
    assert tuple(checks.columns) == CHECK_COLUMNS
    counts = checks["check"].value_counts().to_dict()
    # 4 places x 2 periods x 3 sexes; signs: per place that receives a flow
    assert counts["account_identity"] == 4 * 2 * 3
    assert counts["consecutive_periods"] == 2 * 3 * 3
    identity = checks[checks["check"] == "account_identity"]
    assert identity["abs_difference"].max() < 1e-6
    assert (identity["expected"].abs() > 0).any(), "the account moves people"
    periods = checks[checks["check"] == "consecutive_periods"]
    assert (periods["expected"] == periods["actual"]).all()
    signs = checks[checks["check"] == "flow_not_negative"]
    assert (signs["actual"] > 0).all()
    assert set(signs["method"]) == {
        "demographic_account",
        "stock_difference_zero",
        "stock_difference_return",
    }
    # the smallest flow into Saudi Arabia by stock difference: from Afghanistan (300 -> 450)
    saudi = signs[
        (signs["place_code"] == 682)
        & (signs["method"] == "stock_difference_zero")
        & (signs["sex"] == "total")
        & (signs["period_start"] == 2000)
    ]
    assert saudi[["origin_code", "actual"]].values.tolist() == [[4, 150]]


def _broken(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The small store's checks with a negative flow, a NaN flow, an account that does not
    close and a period that skips a reference year."""
    found = estimate_revision(con, 2019)
    rows = found.rows.copy()
    zero = rows.index[(rows["method"] == "stock_difference_zero") & (rows["sex"] == "total")]
    rows.loc[zero[0], "flow"] = -5.0
    ret = rows.index[(rows["method"] == "stock_difference_return") & (rows["sex"] == "male")]
    rows.loc[ret[0], "flow"] = np.nan
    rows.loc[rows["period_start"] == 2005, "period_end"] = 2015
    account = found.account.copy()
    account.loc[0, "inflow"] += 40.0
    return flow_checks(con, 2019, type(found)(rows, account))


def test_the_suite_warns_on_signs_and_the_account_and_blocks_the_rest(validator) -> None:
    con = small_store()
    results = validate_flows(validator, 2019, _broken(con), "test-flows")
    failed = {(r.expectation, r.condition, r.severity) for r in results if not r.success}
    warnings = {c for e, c, s in failed if s == "warning"}
    blocking = {c for e, c, s in failed if s == "critical"}
    assert "check == 'account_identity'" in warnings
    assert "check == 'flow_not_negative' & method == 'stock_difference_zero'" in warnings
    assert "check == 'flow_not_negative' & method == 'stock_difference_return'" in blocking  # NaN
    assert "check == 'consecutive_periods'" in blocking
    clean = validate_flows(validator, 2019, flow_checks(con, 2019, estimate_revision(con, 2019)))
    assert all(r.success for r in clean)


def test_findings_of_flows_are_in_words_with_ids_per_method(validator) -> None:
    con = small_store()
    report = ValidationReport(2019, validate_flows(validator, 2019, _broken(con)))
    findings = explain(report, [], NAMES)
    by_check = {f.title: f for f in findings}
    account = next(f for title, f in by_check.items() if title.startswith("Each place's"))
    assert account.severity == "warning" and account.count == 1
    failure = account.failures[0]
    assert failure.place == "Afghanistan (4)" and failure.year == 2000
    assert "residents changed by" in failure.text and "differs by 40" in failure.text
    negative = next(f for t, f in by_check.items() if t.startswith("No estimated flow"))
    assert "decreases as 0" in negative.title
    assert "smallest estimated flow into it -5" in negative.failures[0].text
    period = next(f for t, f in by_check.items() if t.startswith("Each period must end"))
    assert period.blocking
    assert "the reference year after 2005 is 2010" in period.failures[0].text
    checks = {f.check for f in findings}
    assert "flows.flow_not_negative[stock_difference_zero]" in checks
    assert "flows.account_identity" in checks
    ids = [e.id for e in rv.entries([report])]
    assert len(ids) == len(set(ids))


# ------------------------------------------------------------------ store


def test_publish_flows_replaces_one_revision_in_a_new_version(store: Path) -> None:
    parquet = store.parent / "parquet"
    before = published_version(store)
    stock_file = parquet / "bilateral_stock" / "revision=2019" / "data_0.parquet"
    inode = stock_file.resolve().stat().st_ino
    with connect_read_only(store) as con:
        rows = estimate_revision(con, 2019).rows
    estimate = {
        "revision": 2019,
        "estimated_at": pd.Timestamp.now(tz="UTC"),
        "periods": "2000-2005, 2005-2010",
        "places": 4,
        "flow_rows": len(rows),
        "vital_events": False,
        "stocks_sha256": f"{'a' * 64},{'b' * 64}",  # the stocks' workbooks
        "method_citation": "c",
        "software": "s",
    }
    changes = publish_flows(store, parquet, [FlowsLoad(2019, rows, estimate)])
    assert published_version(store) != before
    assert [(t.table, t.added, t.rows_after) for t in changes.tables] == [
        ("flows", len(rows), len(rows))
    ]
    assert _sql(store, "SELECT count(*) FROM flows") == [(len(rows),)]
    flows_file = parquet / "flows" / "revision=2019" / "data_0.parquet"
    assert _sql(store, f"SELECT count(*) FROM '{flows_file}'") == [(len(rows),)]
    assert stock_file.resolve().stat().st_ino == inode, "stock partitions shared, not rewritten"
    # again, with one flow changed: a new version, one row changed, none added
    rows.loc[0, "flow"] += 1
    changes = publish_flows(store, parquet, [FlowsLoad(2019, rows, estimate)])
    assert [(t.added, t.removed, t.changed) for t in changes.tables] == [(0, 0, 1)]
    assert _sql(store, "SELECT count(*) FROM flows") == [(len(rows),)]
    assert _sql(store, "SELECT count(*) FROM load_changes WHERE table_name = 'flows'") == [(2,)]


def test_the_arab_views_sum_flows_across_each_border(store: Path) -> None:
    pipeline.refresh_flows(store, raw_dir=store.parent)
    method = "stock_difference_zero"
    where = f"revision = 2019 AND sex = 'total' AND method = '{method}' AND period_start = 2000"
    flows = dict(
        ((o, d), f)
        for o, d, f in _sql(
            store, f"SELECT origin_code, destination_code, flow FROM flows WHERE {where}"
        )
    )
    # Saudi Arabia (682) receives from Egypt (818, Arab) and Afghanistan (4)
    saudi = _sql(
        store,
        f"SELECT inflow, outflow, net, inflow_from_arab FROM arab_flows WHERE {where} "
        "AND level = 'country' AND place_code = 682",
    )[0]
    into = sum(f for (o, d), f in flows.items() if d == 682)
    out = sum(f for (o, d), f in flows.items() if o == 682)
    assert saudi[:3] == pytest.approx((into, out, into - out))
    assert saudi[3] == pytest.approx(flows[(818, 682)])
    region = _sql(
        store, f"SELECT inflow, outflow FROM arab_flows WHERE {where} AND level = 'region'"
    )[0]
    arab = {12, 682, 818}
    assert region == pytest.approx(
        (
            sum(f for (o, d), f in flows.items() if d in arab and o not in arab),
            sum(f for (o, d), f in flows.items() if o in arab and d not in arab),
        )
    )
    top = _sql(
        store,
        f"SELECT origin_code, rank FROM arab_flow_origins WHERE {where} AND place_code = 682 "
        "ORDER BY rank",
    )
    assert [rank for _, rank in top] == list(range(1, len(top) + 1))
    intra = _sql(store, f"SELECT origin_code, destination_code FROM intra_arab_flows WHERE {where}")
    assert {(o, d) for o, d in intra} == {(o, d) for o, d in flows if o in arab and d in arab}
    latest = _sql(store, "SELECT DISTINCT revision FROM latest_arab_flows")
    assert latest == [(2019,)]


# ------------------------------------------------------------------ pipeline and CLI


def test_refresh_flows_uses_wpp_records_it_and_leaves_findings_for_review(
    store: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    wpp = wpp_file(raw / "WPP2024_Demographic_Indicators_Medium.csv")
    result = pipeline.refresh_flows(store, raw_dir=raw)
    assert result.version == published_version(store) and not result.failed
    assert result.wpp is not None and result.wpp.file_name == wpp.name
    sha = hashlib.sha256(wpp.read_bytes()).hexdigest()
    row = _sql(
        store,
        "SELECT vital_events, wpp_file, wpp_sha256, wpp_size_bytes, wpp_citation, "
        "stocks_sha256, flow_rows FROM flow_estimates WHERE revision = 2019",
    )[0]
    assert row[:4] == (True, wpp.name, sha, wpp.stat().st_size)
    assert "World Population Prospects 2024" in row[4]
    assert row[5] == f"{'a' * 64},{'b' * 64}"
    assert _sql(store, "SELECT bool_and(vital_events), count(*) FROM flows") == [(True, row[6])]
    assert [p[:2] for p in result.periods[2019]] == [(2000, 2005), (2005, 2010)]
    findings = json.loads((result.summary_html.parent / rv.FINDINGS_FILE).read_text())
    assert findings["parts"] == ["flows"] and findings["revisions"] == [2019]
    assert "Revision 2019" in result.summary_html.read_text(encoding="utf-8")


def test_review_lists_the_latest_findings_of_each_part(tmp_path: Path) -> None:
    runs = tmp_path / "validation" / "runs"

    def run(name: str, parts: list[str] | None, checks: list[str]) -> None:
        folder = runs / name
        folder.mkdir(parents=True)
        entries = [
            rv.Entry(
                id=f"F{i:010x}", check=check, title=check, severity="warning", revision=2024,
                place="x", place_code=1, origin_code=None, year=2000, sex="total", value="v",
                text="t", file=None, sheet=None, row=None, sha256=None, arab=False,
            ).as_dict()
            for i, check in enumerate(checks, start=len(name))
        ]  # fmt: skip
        document = {"run_id": name, "findings": entries}
        if parts is not None:
            document["parts"] = parts
        (folder / rv.FINDINGS_FILE).write_text(json.dumps(document))

    run("1-old-load", None, ["year_over_year"])
    run("2-flows", ["flows"], ["flows.account_identity"])
    run("3-load", ["load"], ["male_plus_female"])
    run_id, listed = rv.latest_findings(tmp_path / "validation")
    assert run_id == "3-load and 2-flows"
    assert sorted(e.check for e in listed) == ["flows.account_identity", "male_plus_female"]
    run("4-both", ["load", "flows"], ["origins_sum_to_total"])
    run_id, listed = rv.latest_findings(tmp_path / "validation")
    assert run_id == "4-both" and [e.check for e in listed] == ["origins_sum_to_total"]


def test_cli_flows_prints_each_period_and_the_version(store: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["flows", "--db", str(store), "--raw-dir", str(tmp_path), "--no-pages"]
    )
    assert result.exit_code == 0, result.output
    assert "flows 2019 2000–2005: " in result.output
    assert "flows 2019 2005–2010: " in result.output
    assert f"published version: {published_version(store)}" in result.output
    assert "births and deaths: none" in result.output
    listed = CliRunner().invoke(app, ["review", "--db", str(store), "--format", "json"])
    assert listed.exit_code == 0, listed.output


def test_cli_flows_without_bilateral_stocks_names_the_workbook(tmp_path: Path) -> None:
    _, totals = _store_frames()
    load = RevisionLoad(2019, destination_totals=totals.assign(raw_sha256="b" * 64))
    db = tmp_path / "migstock.duckdb"
    load_revisions(db, tmp_path / "parquet", [load])
    result = CliRunner().invoke(app, ["flows", "--db", str(db), "--no-pages"])
    assert result.exit_code == 2
    assert "no bilateral stocks" in result.output
    assert "undesa_pd_2024_ims_stock_by_sex_destination_and_origin.xlsx" in result.output
    other = CliRunner().invoke(app, ["flows", "--db", str(tmp_path / "none.duckdb"), "--no-pages"])
    assert other.exit_code == 2 and "run `migstock run` first" in other.output


def test_cli_flows_of_a_revision_without_two_reference_years(store: Path) -> None:
    result = CliRunner().invoke(app, ["flows", "--db", str(store), "-r", "2015", "--no-pages"])
    assert result.exit_code == 2
    assert "revision 2015 has no bilateral stocks of two reference years" in result.output
    assert "2019" in result.output


def test_a_blocking_check_publishes_nothing_and_exits_1(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = published_version(store)
    monkeypatch.setattr("migstock.flows.flow_checks", lambda con, revision, found: _broken(con))
    result = CliRunner().invoke(
        app, ["flows", "--db", str(store), "--raw-dir", str(tmp_path), "--no-pages"]
    )
    assert result.exit_code == 1, result.output
    assert "flows 2019: blocking checks of the estimated flows failed" in result.output
    assert published_version(store) == before
    assert _sql(store, "SELECT count(*) FROM flows") == [(0,)]


def test_a_wpp_file_in_the_raw_folder_is_not_a_workbook(tmp_path: Path) -> None:
    wpp = wpp_file(tmp_path / "WPP2024_Demographic_Indicators_Medium.csv")
    other = tmp_path / "export.csv"
    other.write_text("Year,Destination\n1990,X\n")
    assert find_local_files(tmp_path) == [other]
    assert wpp.exists()


# ------------------------------------------------------------------ after a load


def _summary(store: Path, changed: int) -> tuple:
    from migstock.outcomes import RunSummary
    from migstock.report import RunReports
    from migstock.store import LoadChanges, TableChange

    changes = LoadChanges(pd.Timestamp.now(tz="UTC"))
    changes.tables.append(TableChange(2019, "bilateral_stock", 10, 10, 0, 0, changed))
    summary = RunSummary(db_path=store, parquet_dir=store.parent / "parquet", changes=changes)
    return summary, RunReports(store.parent / "validation")


def test_a_load_that_changed_bilateral_stocks_runs_the_flows_stage(store: Path) -> None:
    calls = []

    def flows(db, revisions, **kwargs):
        calls.append((db, revisions, kwargs["raw_dir"], kwargs["reports"]))
        return pipeline.FlowsResult(periods={2019: [(2000, 2005, 7)]})

    summary, reports = _summary(store, changed=3)
    stages = pipeline.Stages(flows=flows)
    pipeline._flows_after_load(summary, reports, stages, True, Path("raw"))
    assert calls == [(store, [2019], Path("raw"), reports)]
    assert [(o.subject, o.status) for o in summary.outcomes] == [("flows 2019", "loaded")]
    unchanged, reports = _summary(store, changed=0)
    pipeline._flows_after_load(unchanged, reports, stages, True, Path("raw"))
    assert len(calls) == 1 and unchanged.outcomes == [], "no bilateral change: no flows"


def test_without_flows_a_load_says_which_published_flows_are_older(store: Path) -> None:
    summary, reports = _summary(store, changed=3)
    pipeline._flows_after_load(summary, reports, pipeline.Stages(), False, None)
    assert summary.outcomes == [], "no flows were estimated: nothing is older"
    pipeline.refresh_flows(store, raw_dir=store.parent)
    summary, reports = _summary(store, changed=3)
    pipeline._flows_after_load(summary, reports, pipeline.Stages(), False, None)
    (outcome,) = summary.outcomes
    assert outcome.status == "warning" and "migstock flows --revision 2019" in outcome.message


def test_the_prefect_flow_estimates_flows_by_default_as_a_task() -> None:
    import inspect

    from migstock.flow import prefect_stages, refresh, scheduled_deployment

    assert inspect.signature(refresh.fn).parameters["flows"].default is True
    assert prefect_stages().flows.name == "estimate-flows"
    assert scheduled_deployment().parameters["flows"] is True


def test_flows_estimated_from_stocks_that_changed_meanwhile_are_not_published(
    store: Path,
) -> None:
    from migstock.errors import StoreError

    parquet = store.parent / "parquet"
    with connect_read_only(store) as con:
        rows = estimate_revision(con, 2019).rows
    before = published_version(store)
    estimate = {"revision": 2019, "stocks_sha256": "c" * 64}  # not what the store holds
    with pytest.raises(StoreError, match="changed while its flows were estimated"):
        publish_flows(store, parquet, [FlowsLoad(2019, rows, estimate)])
    assert published_version(store) == before
