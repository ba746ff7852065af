"""Estimated flows in the exchange files: an SDMX dataflow of their own and the data package.

A small store (``tests.test_flows_wiring``) gets its flows from ``migstock flows``, with
births and deaths from a WPP file; the published SDMX-CSV, SDMX-ML written on demand and
the data package are read back (pysdmx, frictionless) and compared with the store.
"""

from __future__ import annotations

import gzip
import json
from io import BytesIO
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from frictionless import validate
from pysdmx.io import get_datasets, read_sdmx
from typer.testing import CliRunner

from migstock import pipeline
from migstock.cli import app
from migstock.exchange import exchange_dir
from migstock.store import current_pointer
from tests.test_flows_store import wpp_file
from tests.test_flows_wiring import publish_small_store


@pytest.fixture(scope="module")
def flows_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("flows-exchange")
    db = publish_small_store(folder)
    raw = folder / "raw"
    raw.mkdir()
    wpp_file(raw / "WPP2024_Demographic_Indicators_Medium.csv")
    result = pipeline.refresh_flows(db, raw_dir=raw)
    assert result.version is not None
    return db


@pytest.fixture(scope="module")
def published(flows_store: Path) -> Path:
    return exchange_dir(current_pointer(flows_store).resolve())


def _observations(data: Path | BytesIO, structure: Path) -> pd.DataFrame:
    frames = []
    for dataset in get_datasets(data, structure):
        frame = dataset.data
        values = pd.to_numeric(frame["OBS_VALUE"]).astype("float64")
        frame = frame.drop(columns="OBS_VALUE").astype("string").fillna("")
        frames.append(frame.assign(OBS_VALUE=values.to_numpy(), DATAFLOW=dataset.short_urn))
    return pd.concat(frames, ignore_index=True)


#: SDMX observations back to flows rows, with the documented codes
BACK = """
SELECT REVISION::SMALLINT AS revision,
       left(TIME_PERIOD, 4)::SMALLINT AS period_start,
       (left(TIME_PERIOD, 4)::INTEGER
        + regexp_extract(TIME_PERIOD, '/P(\\d+)Y$', 1)::INTEGER)::SMALLINT AS period_end,
       COUNTERPART_AREA::SMALLINT AS origin_code, REF_AREA::SMALLINT AS destination_code,
       CASE SEX WHEN '_T' THEN 'total' WHEN 'M' THEN 'male' WHEN 'F' THEN 'female' END AS sex,
       lower(METHOD) AS method, OBS_VALUE AS flow, VITAL_EVENTS = 'WPP' AS vital_events
FROM obs WHERE INDICATOR = 'MIGRATION_FLOW' AND UNIT_MEASURE = 'PS'
"""


def _same_as_store(db: Path, obs: pd.DataFrame) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        con.register("obs", obs)
        stored = "SELECT * FROM flows"
        missing = con.execute(f"SELECT count(*) FROM ({stored} EXCEPT ALL ({BACK}))").fetchone()
        extra = con.execute(f"SELECT count(*) FROM (({BACK}) EXCEPT ALL {stored})").fetchone()
        rows = con.execute("SELECT count(*) FROM flows").fetchone()
    assert (missing, extra) == ((0,), (0,))
    assert rows == (len(obs),) and rows[0] > 0


def test_the_structure_has_a_flows_dataflow_on_a_structure_of_its_own(published: Path) -> None:
    structure = read_sdmx(published / "sdmx" / "structure.xml")
    flows = {(flow.id, flow.version, flow.structure) for flow in structure.get_dataflows()}
    assert ("FLOWS", "1.0.2019", "DataStructure=MIGSTOCK:DSD_MIGSTOCK_FLOWS(1.0.2019)") in flows
    dsds = {dsd.id: dsd for dsd in structure.get_data_structure_definitions()}
    assert set(dsds) == {"DSD_MIGSTOCK", "DSD_MIGSTOCK_FLOWS"}
    flows_dsd = dsds["DSD_MIGSTOCK_FLOWS"]
    assert [c.id for c in flows_dsd.components.dimensions] == [
        "INDICATOR", "REF_AREA", "COUNTERPART_AREA", "SEX", "METHOD", "TIME_PERIOD",
    ]  # fmt: skip
    components = {c.id: c for c in flows_dsd.components}
    assert {c.id for c in components["METHOD"].local_codes.items} == {
        "DEMOGRAPHIC_ACCOUNT", "STOCK_DIFFERENCE_ZERO", "STOCK_DIFFERENCE_RETURN",
    }  # fmt: skip
    assert components["REF_AREA"].local_codes.version == "1.0.2019"
    stock_dims = [c.id for c in dsds["DSD_MIGSTOCK"].components.dimensions]
    assert stock_dims == ["FREQ", "INDICATOR", "REF_AREA", "COUNTERPART_AREA", "SEX", "TIME_PERIOD"]


def test_sdmx_csv_of_flows_reads_back_as_the_store_rows(flows_store: Path, published: Path) -> None:
    data = published / "sdmx" / "flows_2019.csv.gz"
    manifest = json.loads((published / "sdmx" / "manifest.json").read_text())
    obs = _observations(
        BytesIO(gzip.decompress(data.read_bytes())), published / "sdmx" / "structure.xml"
    )
    assert set(obs["TIME_PERIOD"]) == {"2000-07-01/P5Y", "2005-07-01/P5Y"}
    assert set(obs["VITAL_EVENTS"]) == {"WPP"}
    assert manifest["flows_2019.csv.gz"]["observations"] == len(obs)
    _same_as_store(flows_store, obs)


def test_sdmx_ml_of_flows_on_demand_reads_back_as_the_store_rows(
    flows_store: Path, published: Path, tmp_path: Path
) -> None:
    output = tmp_path / "flows.xml"
    result = CliRunner().invoke(
        app,
        ["export", "flows", "--format", "sdmx-ml", "--revision", "2019",
         "--output", str(output), "--db", str(flows_store)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    obs = _observations(output, published / "sdmx" / "structure.xml")
    _same_as_store(flows_store, obs)


def test_the_data_package_holds_the_flows_and_cites_wpp(flows_store: Path, published: Path) -> None:
    package = json.loads((published / "datapackage.json").read_text())
    resources = {r["name"]: r for r in package["resources"]}
    assert {"flows", "flow_estimates"} <= set(resources)
    schema = resources["flows"]["schema"]
    assert schema["primaryKey"] == [
        "revision", "period_start", "origin_code", "destination_code", "sex", "method",
    ]  # fmt: skip
    fields = {f["name"]: f for f in schema["fields"]}
    assert fields["method"]["constraints"]["enum"] == [
        "demographic_account", "stock_difference_zero", "stock_difference_return",
    ]  # fmt: skip
    assert fields["flow"]["constraints"]["minimum"] == 0
    assert any(
        "WPP2024_Demographic_Indicators_Medium.csv" in s["title"] for s in package["sources"]
    )
    assert any("Abel" in citation for citation in package["citation"])
    assert any("World Population Prospects" in citation for citation in package["citation"])
    report = validate(str(published / "datapackage.json"))
    problems = [error.message for task in report.tasks for error in task.errors][:5]
    assert report.valid, problems
    validated = {task.name: task.stats.get("rows", 0) for task in report.tasks}
    with duckdb.connect(str(flows_store), read_only=True) as con:
        assert validated["flows"] == con.execute("SELECT count(*) FROM flows").fetchone()[0]
        assert validated["flow_estimates"] == 1


def test_a_flows_publish_links_the_csv_files_of_unchanged_tables(
    flows_store: Path, published: Path
) -> None:
    """Only the flows' files are written anew: the stock tables' data-package CSV files are
    hard links to the version before (same fingerprint in csv/manifest.json)."""
    versions = sorted(published.parent.iterdir())
    before = versions[versions.index(published) - 1]
    manifest = json.loads((published / "csv" / "manifest.json").read_text())
    earlier = json.loads((before / "csv" / "manifest.json").read_text())
    for name in ("bilateral_stock.csv.gz", "destination_totals.csv.gz", "locations.csv.gz"):
        assert (published / "csv" / name).stat().st_ino == (before / "csv" / name).stat().st_ino
        assert manifest[name] == earlier[name]
    for name in ("flows.csv.gz", "flow_estimates.csv.gz"):
        assert (published / "csv" / name).stat().st_ino != (before / "csv" / name).stat().st_ino
        assert manifest[name]["fingerprint"] != earlier[name]["fingerprint"]
    package = json.loads((published / "datapackage.json").read_text())
    for resource in package["resources"]:
        entry = manifest[Path(resource["path"]).name]
        assert resource["hash"] == f"sha256:{entry['sha256']}"
        assert resource["bytes"] == entry["bytes"]
