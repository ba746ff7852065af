"""How the exchange files are published: by the load's ``before_switch``, shared between
versions when unchanged, and SDMX-ML streamed exactly as pysdmx writes it.

Small stores of the official 2015 and 2020 destination-totals workbooks (no bilateral
rows), built through ``load_revisions`` as a run does.
"""

from __future__ import annotations

import ast
import gzip
import json
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pysdmx.model import Organisation
from pysdmx.model.message import Header

from migstock import store
from migstock.acquire.provenance import local_file
from migstock.errors import StoreError
from migstock.exchange import publish_exchange, sdmx
from migstock.parse.prepare import prepare_file
from migstock.pipeline import revision_load
from migstock.store import RevisionLoad, current_pointer, load_revisions

SRC = Path(__file__).resolve().parents[1] / "src" / "migstock"
TOTALS = {
    2015: "UN_MigrantStockTotal_2015.xlsx",
    2020: "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx",
}


def _imports(package: Path) -> set[str]:
    """Every module the package's files import (relative imports resolved)."""
    found: set[str] = set()
    for path in package.rglob("*.py"):
        module_path = ["migstock", *path.relative_to(SRC).with_suffix("").parts]
        here = module_path[:-1]  # the package a relative import starts from
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_store_and_exchange_do_not_import_each_other() -> None:
    store_imports = _imports(SRC / "store")
    exchange_imports = _imports(SRC / "exchange")
    assert "duckdb" in store_imports and "duckdb" in exchange_imports, "imports are seen"
    assert "migstock.store.docs.apply_comments" in store_imports, "names imported are seen"
    assert not {m for m in store_imports if m.startswith("migstock.exchange")}
    assert not {m for m in exchange_imports if m.startswith("migstock.store")}


@pytest.fixture(scope="module")
def loads(official_dir: Path) -> dict[int, RevisionLoad]:
    return {
        number: revision_load(number, [prepare_file(local_file(official_dir / name, "raw-dir"))])
        for number, name in TOTALS.items()
    }


def _version(db: Path) -> Path:
    return current_pointer(db).resolve()


def test_the_files_before_switch_writes_are_published_and_its_failure_publishes_nothing(
    tmp_path: Path, loads: dict[int, RevisionLoad]
) -> None:
    db = tmp_path / "m.duckdb"
    seen: list[tuple[Path, bool, int]] = []

    def write_more(con: duckdb.DuckDBPyConnection, version: Path) -> None:
        rows = con.execute("SELECT count(*) FROM destination_totals").fetchall()[0][0]
        seen.append((version, (version / "parquet").is_dir(), rows))
        (version / "more.txt").write_text("written before the switch\n")

    load_revisions(db, tmp_path / "parquet", [loads[2015]], before_switch=write_more)
    ((version, parquet_written, rows),) = seen
    assert version == _version(db) and parquet_written and rows > 0
    assert (version / "more.txt").stat().st_mode & 0o777 == store.PUBLISHED_FILE_MODE

    def fail(con: duckdb.DuckDBPyConnection, version: Path) -> None:
        seen.append((version, False, 0))
        raise StoreError("the exchange files could not be written")

    with pytest.raises(StoreError, match="could not be written"):
        load_revisions(db, tmp_path / "parquet", [loads[2020]], before_switch=fail)
    assert _version(db) == version, "still the version before"
    assert not seen[-1][0].exists(), "the unpublished version is removed"
    load_revisions(db, tmp_path / "parquet", [loads[2020]])  # no callback: no exchange files
    assert not (_version(db) / "sdmx").exists()


def test_a_reload_links_the_files_of_unchanged_revisions(
    tmp_path: Path, loads: dict[int, RevisionLoad]
) -> None:
    db = tmp_path / "m.duckdb"
    load_revisions(db, tmp_path / "parquet", list(loads.values()), before_switch=publish_exchange)
    first = _version(db) / "sdmx"
    changed = loads[2020].destination_totals.copy()
    changed.loc[changed.index[0], "migrants"] = 123_456_789
    reload = RevisionLoad(2020, destination_totals=changed, raw_files=loads[2020].raw_files)
    load_revisions(db, tmp_path / "parquet", [reload], before_switch=publish_exchange)
    second = _version(db) / "sdmx"
    assert second != first

    def same_file(name: str) -> bool:
        return os.path.samefile(first / name, second / name)

    for table in ("destination_totals", "refugees"):
        assert same_file(f"{table}_2015.csv.gz"), "2015 was not reloaded: linked"
    assert (second / "destination_totals_2015.csv.gz").stat().st_nlink == 2
    assert not same_file("destination_totals_2020.csv.gz"), "its rows changed: written"
    assert b"123456789" in gzip.decompress((second / "destination_totals_2020.csv.gz").read_bytes())
    assert same_file("refugees_2020.csv.gz"), "revision 2020 was loaded, but not its refugees"
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in (first, second)]
    assert (
        manifests[0]["destination_totals_2015.csv.gz"]
        == (manifests[1]["destination_totals_2015.csv.gz"])
    )
    assert (
        manifests[0]["destination_totals_2020.csv.gz"]["fingerprint"]
        != (manifests[1]["destination_totals_2020.csv.gz"]["fingerprint"])
    )


def test_a_file_that_is_not_what_its_manifest_says_is_written_again(
    tmp_path: Path, loads: dict[int, RevisionLoad]
) -> None:
    db = tmp_path / "m.duckdb"
    load_revisions(db, tmp_path / "parquet", [loads[2015]])
    with duckdb.connect(str(db), read_only=True) as con:
        earlier = tmp_path / "versions" / "1"
        publish_exchange(con, earlier)
        name = "refugees_2015.csv.gz"
        (earlier / "sdmx" / name).write_bytes(gzip.compress(b"not the data\n"))
        later = tmp_path / "versions" / "2"
        publish_exchange(con, later)
    assert not os.path.samefile(earlier / "sdmx" / name, later / "sdmx" / name)
    assert gzip.decompress((later / "sdmx" / name).read_bytes()).startswith(b"DATAFLOW,")
    assert os.path.samefile(
        earlier / "sdmx" / "destination_totals_2015.csv.gz",
        later / "sdmx" / "destination_totals_2015.csv.gz",
    )


# --- SDMX-ML: streamed, as pysdmx writes it --------------------------------------------


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory, loads: dict[int, RevisionLoad]) -> Path:
    db = tmp_path_factory.mktemp("small-store") / "migstock.duckdb"
    load_revisions(db, db.parent / "parquet", list(loads.values()))
    return db


def _header() -> Header:
    """A header with a fixed ID and time (pysdmx makes new ones for every message)."""
    return Header(
        id="MIGSTOCK-TEST",
        prepared=datetime(2024, 7, 1, tzinfo=UTC),
        sender=Organisation(id=sdmx.AGENCY, name="migstock"),
    )


def _pysdmx_sdmx_ml(
    con: duckdb.DuckDBPyConnection, table: str, output: Path, revision: int | None
) -> None:
    """The message as pysdmx writes it from frames of the store (migstock's writer before
    it streamed)."""
    from pysdmx.io import write_sdmx
    from pysdmx.io.format import Format
    from pysdmx.io.pd import PandasDataset

    chosen = sdmx.revisions_of(con, table) if revision is None else [revision]
    datasets = []
    for number, schema in sdmx._dataflow_schemas(con, table, chosen).items():
        frame = con.execute(sdmx.observations_sql(table, number)).df()
        frame = frame.drop(columns="DATAFLOW").astype("string").fillna("")
        datasets.append(PandasDataset(structure=schema, data=frame))
    write_sdmx(
        datasets,
        Format.DATA_SDMX_ML_2_1_STR,
        output_path=str(output),
        header=_header(),
        dimension_at_observation="AllDimensions",
        prettyprint=False,
    )


@pytest.mark.parametrize(
    ("table", "revision"),
    [("destination_totals", 2020), ("destination_totals", None), ("refugees", None)],
)
def test_streamed_sdmx_ml_is_byte_equal_to_pysdmx(
    small_store: Path, tmp_path: Path, table: str, revision: int | None
) -> None:
    ours, theirs = tmp_path / "ours.xml", tmp_path / "theirs.xml"
    with duckdb.connect(str(small_store), read_only=True, config={"threads": 1}) as con:
        count = sdmx.write_sdmx_ml(con, table, ours, revision, header=_header())
        _pysdmx_sdmx_ml(con, table, theirs, revision)
    assert count > 1000
    assert ours.read_bytes().count(b"<Obs ") == count
    assert ours.read_bytes() == theirs.read_bytes()


def test_streamed_sdmx_ml_batches_keep_the_store_order(
    small_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sdmx, "SDMX_ML_BATCH_ROWS", 7)
    whole, batched = tmp_path / "whole.xml", tmp_path / "batched.xml"
    with duckdb.connect(str(small_store), read_only=True) as con:
        threads = con.execute("SELECT current_setting('threads')").fetchall()
        _pysdmx_sdmx_ml(con, "refugees", whole, 2015)
        sdmx.write_sdmx_ml(con, "refugees", batched, 2015, header=_header())
        assert con.execute("SELECT current_setting('threads')").fetchall() == threads
    assert batched.read_bytes() == whole.read_bytes()


@pytest.mark.parametrize(
    "text", ["a&b", "<C R>", 'say "x"', "it's", "tab\there", "line\nbreak\r", "€ Réunion", ""]
)
def test_attribute_values_are_escaped_for_xml(text: str) -> None:
    with duckdb.connect() as con:
        ((escaped,),) = con.execute(
            f"SELECT {sdmx.escaped_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [text]
        ).fetchall()
    element = ET.fromstring(f'<Obs DATA_TYPE="{escaped}"/>')
    assert element.get("DATA_TYPE") == text


def test_the_data_package_reads_its_descriptions_from_the_store(small_store: Path) -> None:
    from migstock.exchange.datapackage import table_schema
    from migstock.store.docs import describe

    with duckdb.connect(str(small_store), read_only=True) as con:
        fields = table_schema(con, "destination_totals")["fields"]
    assert fields, "the table has columns"
    for field in fields:
        assert field["description"] == describe("destination_totals", field["name"])


def test_gzip_csv_reads_back_as_the_plain_csv(small_store: Path, tmp_path: Path) -> None:
    from migstock.exchange.csvgz import copy_csv_gz

    query = "SELECT * FROM destination_totals ORDER BY ALL"
    with duckdb.connect(str(small_store), read_only=True) as con:
        count = copy_csv_gz(con, query, tmp_path / "t.csv.gz", "FORMAT csv, HEADER true")
        con.execute(f"COPY ({query}) TO '{tmp_path / 't.csv'}' (FORMAT csv, HEADER true)")
    assert (
        gzip.decompress((tmp_path / "t.csv.gz").read_bytes()) == (tmp_path / "t.csv").read_bytes()
    )
    assert count == len(pd.read_csv(tmp_path / "t.csv.gz"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.csv.gz"], "no temporary"
