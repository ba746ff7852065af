"""``migstock run --flows``: a first load of bilateral stocks, then their flows, in one run
(the 2019 bilateral layout with the real export values and the official 2019 totals)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from migstock.cli import app
from migstock.report import review as rv
from migstock.store import published_version, versions_dir

pytestmark = pytest.mark.slow


def test_run_with_flows_loads_then_estimates_in_the_same_run(
    bilateral_2019_path: Path, official_dir: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(bilateral_2019_path, raw)
    shutil.copy(official_dir / "UN_MigrantStockTotal_2019.xlsx", raw)
    db = tmp_path / "curated" / "migstock.duckdb"
    result = CliRunner().invoke(
        app, ["run", "--raw-dir", str(raw), "--db", str(db), "--flows"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "flows 2019" in result.output and "loaded" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        periods = con.execute(
            "SELECT DISTINCT period_start, period_end FROM flows ORDER BY 1"
        ).fetchall()
        estimate = con.execute("SELECT revision, vital_events FROM flow_estimates").fetchall()
        changed = con.execute(
            "SELECT table_name FROM load_changes ORDER BY loaded_at, table_name"
        ).fetchall()
    assert periods == [(y, y + 5) for y in (1990, 1995, 2000, 2005, 2010)] + [(2015, 2019)]
    assert estimate == [(2019, False)]
    assert ("flows",) in changed and ("bilateral_stock",) in changed
    # the load and the flows: two versions published, the second current
    assert len(list(versions_dir(db).iterdir())) == 2
    run = sorted((db.parent / "validation" / "runs").iterdir())[-1]
    findings = json.loads((run / rv.FINDINGS_FILE).read_text())
    assert findings["parts"] == ["load", "flows"]
    results = json.loads((run / "revision-2019.json").read_text())["results"]
    assert {r["suite"] for r in results} >= {"bilateral", "reconciliation", "flows"}
    before = published_version(db)
    again = CliRunner().invoke(app, ["run", "--raw-dir", str(raw), "--db", str(db), "--flows"])
    assert again.exit_code == 0, again.output
    assert published_version(db) == before, "nothing changed: no load, no flows"
