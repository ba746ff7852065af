"""The plain pipeline: the brief and the country pages are by-products of a load."""

from __future__ import annotations

import shutil
from pathlib import Path

from migstock import pipeline
from migstock.acquire import Scope
from migstock.outcomes import Outcome, Status


def test_a_brief_or_pages_that_cannot_be_built_warn_and_the_load_stands(
    official_dir: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(official_dir / "UN_MigrantStockTotal_2017.xlsx", raw)
    stages = pipeline.Stages(
        brief=lambda db: "data brief not written: no fonts",
        site=lambda db: "country pages not written: no room",
    )
    summary = pipeline.run(Scope.of_run(raw), tmp_path / "c" / "m.duckdb", stages=stages)
    assert not summary.failed
    assert Outcome("revision 2017", Status.LOADED) in [
        Outcome(o.subject, o.status) for o in summary.outcomes
    ]
    assert Outcome("data brief", Status.WARNING, "data brief not written: no fonts") in (
        summary.outcomes
    )
    assert Outcome("country pages", Status.WARNING, "country pages not written: no room") in (
        summary.outcomes
    )
    assert summary.brief == [] and summary.site is None
