"""The migrants by age as exchange files (issue 27): published beside the other dataflows,
shared between versions while neither of their two tables changes, and streamed as
SDMX-ML exactly as pysdmx writes it.

A small store of synthetic age workbooks of 2015 and 2020 (``tests/age_workbooks.py``),
loaded as a run loads them; the real store's round trip is in ``test_exchange_sdmx.py``.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import duckdb
import pytest

from migstock.acquire.provenance import local_file
from migstock.exchange import publish_exchange, sdmx
from migstock.parse.prepare import prepare_file
from migstock.pipeline import revision_load
from migstock.store import RevisionLoad, current_pointer, load_revisions
from tests.age_workbooks import write_age
from tests.test_exchange_publish import _header, _pysdmx_sdmx_ml


@pytest.fixture(scope="module")
def age_loads(tmp_path_factory: pytest.TempPathFactory) -> dict[int, RevisionLoad]:
    folder = tmp_path_factory.mktemp("age-workbooks")
    return {
        number: revision_load(
            number,
            [prepare_file(local_file(write_age(folder / f"age {number}.xlsx", number), "raw-dir"))],
        )
        for number in (2015, 2020)
    }


def test_a_reload_rewrites_the_age_file_when_only_its_population_changed(
    tmp_path: Path, age_loads: dict[int, RevisionLoad]
) -> None:
    db = tmp_path / "m.duckdb"
    load_revisions(
        db, tmp_path / "parquet", list(age_loads.values()), before_switch=publish_exchange
    )
    first = current_pointer(db).resolve() / "sdmx"
    assert {"age_stock_2015.csv.gz", "age_stock_2020.csv.gz"} <= {p.name for p in first.iterdir()}
    population = age_loads[2020].age_population.copy()  # type: ignore[union-attr]
    population.loc[population.index[0], "population"] = 987_654_321
    reload = RevisionLoad(2020, age_population=population, raw_files=age_loads[2020].raw_files)
    load_revisions(db, tmp_path / "parquet", [reload], before_switch=publish_exchange)
    second = current_pointer(db).resolve() / "sdmx"
    assert second != first
    assert os.path.samefile(first / "age_stock_2015.csv.gz", second / "age_stock_2015.csv.gz")
    assert not os.path.samefile(first / "age_stock_2020.csv.gz", second / "age_stock_2020.csv.gz")
    text = gzip.decompress((second / "age_stock_2020.csv.gz").read_bytes())
    assert b",TOTAL_POPULATION," in text and b"987654321" in text
    manifest = json.loads((second / "manifest.json").read_text())
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT (SELECT count(*) FROM age_stock WHERE revision = 2020) + "
            "(SELECT count(*) FROM age_population WHERE revision = 2020)"
        ).fetchone()
    assert manifest["age_stock_2020.csv.gz"]["observations"] == rows[0]  # type: ignore[index]


@pytest.mark.parametrize("revision", [2020, None])
def test_streamed_sdmx_ml_of_the_migrants_by_age_is_byte_equal_to_pysdmx(
    tmp_path: Path, age_loads: dict[int, RevisionLoad], revision: int | None
) -> None:
    db = tmp_path / "m.duckdb"
    load_revisions(db, tmp_path / "parquet", list(age_loads.values()))
    ours, theirs = tmp_path / "ours.xml", tmp_path / "theirs.xml"
    with duckdb.connect(str(db), read_only=True, config={"threads": 1}) as con:
        count = sdmx.write_sdmx_ml(con, "age_stock", ours, revision, header=_header())
        _pysdmx_sdmx_ml(con, "age_stock", theirs, revision)
    assert count > 1000
    data = ours.read_bytes()
    assert data.count(b"<Obs ") == count
    assert b'AGE="Y75T_"' in data and b'AGE="_T"' in data and b"COUNTERPART_AREA" not in data
    assert data == theirs.read_bytes()
