"""SDMX exchange files: read back with pysdmx, they equal the store row for row.

The published SDMX-CSV of every revision, and SDMX-ML written on demand for one
revision, are read with pysdmx against the published structure, turned back into the
store's rows with the documented codes, and compared with the store in both
directions (EXCEPT ALL), so a lost, extra or changed row fails. The migrants by age
(``MIGRANTS_BY_AGE``, from the real store's age workbooks) give back both their tables,
``age_stock`` and ``age_population``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from io import BytesIO
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pysdmx.io import get_datasets, read_sdmx, write_sdmx
from pysdmx.io.format import Format
from pysdmx.model import DataStructureDefinition
from typer.testing import CliRunner

from migstock.cli import app
from migstock.exchange import exchange_dir
from migstock.exchange.sdmx import AGE_CODES, DATAFLOWS
from migstock.store import current_pointer

pytestmark = pytest.mark.slow

SAUDI_ARABIA_2024_TOTAL = 13_683_841


@pytest.fixture(scope="module")
def published(real_store: Path) -> Path:
    return exchange_dir(current_pointer(real_store).resolve())


@pytest.fixture(scope="module")
def structure(published: Path):
    return read_sdmx(published / "sdmx" / "structure.xml")  # validated against the XSD


#: files up to this many observations are read with pysdmx; the larger ones (the
#: 2019 and 2024 bilateral layouts, 1.6 M rows) with DuckDB: pysdmx needs ~12 s for them
PYSDMX_MAX_ROWS = 100_000


def _sdmx_input(data: Path) -> Path | BytesIO:
    """What pysdmx reads: the file, or a published ``.csv.gz`` file's text."""
    return BytesIO(gzip.decompress(data.read_bytes())) if data.name.endswith(".gz") else data


def _observations(data: Path, structure_file: Path) -> pd.DataFrame:
    """Every data set of an SDMX file (SDMX-ML, SDMX-CSV or gzip SDMX-CSV), read by
    pysdmx with the structure, in one frame: text columns, OBS_VALUE a float (NaN when
    empty), VERSION of each dataflow."""
    frames = []
    for dataset in get_datasets(_sdmx_input(data), structure_file):
        frame = dataset.data
        values = pd.to_numeric(frame["OBS_VALUE"]).astype("float64")
        frame = frame.drop(columns="OBS_VALUE").astype("string").fillna("")
        version = dataset.short_urn.split("(")[1].rstrip(")")
        frames.append(frame.assign(OBS_VALUE=values.to_numpy(), VERSION=version))
    return pd.concat(frames, ignore_index=True)


_COLUMNS = (
    "FREQ, INDICATOR, REF_AREA, COUNTERPART_AREA, SEX, TIME_PERIOD, OBS_VALUE, UNIT_MEASURE, "
    "OBS_STATUS, CONF_STATUS, DATA_TYPE, REVISION, SOURCE_SHA256, VERSION"
)
#: the columns of the migrants by age: AGE instead of COUNTERPART_AREA
_AGE_COLUMNS = _COLUMNS.replace("COUNTERPART_AREA, SEX", "SEX, AGE")


def _columns(table: str) -> str:
    return _AGE_COLUMNS if table == "age_stock" else _COLUMNS


def _published_observations(
    con: duckdb.DuckDBPyConnection, published: Path, table: str
) -> list[str]:
    """Table ``obs``: all SDMX-CSV files of ``table``, read by pysdmx up to
    :data:`PYSDMX_MAX_ROWS` observations, else by DuckDB; returns the files pysdmx read."""
    parts, by_pysdmx = [], []
    for number, data in enumerate(sorted((published / "sdmx").glob(f"{table}_*.csv.gz"))):
        with gzip.open(data, "rb") as text:
            rows = sum(1 for _ in text) - 1
        if rows <= PYSDMX_MAX_ROWS:
            con.register(f"part{number}", _observations(data, published / "sdmx" / "structure.xml"))
            parts.append(f"SELECT {_columns(table)} FROM part{number}")
            by_pysdmx.append(data.name)
        else:
            escaped = str(data).replace("'", "''")
            parts.append(
                f"SELECT {_columns(table)} FROM "
                "(SELECT * REPLACE (OBS_VALUE::DOUBLE AS OBS_VALUE), "
                "regexp_extract(DATAFLOW, '\\((.*)\\)', 1) AS VERSION "
                f"FROM read_csv('{escaped}', all_varchar = true))"
            )
    con.execute("CREATE OR REPLACE TEMP TABLE obs AS " + " UNION ALL ".join(parts))
    return by_pysdmx


_SEX = "CASE SEX WHEN '_T' THEN 'total' WHEN 'M' THEN 'male' WHEN 'F' THEN 'female' END"
_AGE = "CASE AGE " + " ".join(f"WHEN '{c}' THEN '{g}'" for g, c in AGE_CODES.items()) + " END"
_VALUE = "CASE WHEN isnan(OBS_VALUE) THEN NULL ELSE OBS_VALUE END"
#: the observations turned back into store rows, with the documented codes
BACK_TO_STORE = {
    "bilateral_stock": f"""
        SELECT REVISION::SMALLINT, TIME_PERIOD::SMALLINT, REF_AREA::SMALLINT,
               CASE WHEN COUNTERPART_AREA NOT IN ('_O_N', '_O_S', '_O')
                    THEN COUNTERPART_AREA::SMALLINT END,
               CASE COUNTERPART_AREA WHEN '_O_N' THEN 'other_north'
                    WHEN '_O_S' THEN 'other_south' WHEN '_O' THEN 'other' END,
               {_SEX}, ({_VALUE})::BIGINT, CONF_STATUS = 'C', SOURCE_SHA256
        FROM obs WHERE INDICATOR = 'MIGRANT_STOCK'""",
    "destination_totals": f"""
        SELECT REVISION::SMALLINT, TIME_PERIOD::SMALLINT, REF_AREA::SMALLINT, {_SEX},
               any_value(SOURCE_SHA256),
               max({_VALUE}) FILTER (WHERE INDICATOR = 'MIGRANT_STOCK')::BIGINT,
               bool_or(INDICATOR = 'MIGRANT_STOCK' AND CONF_STATUS = 'C'),
               max({_VALUE}) FILTER (WHERE INDICATOR = 'TOTAL_POPULATION')::BIGINT,
               max({_VALUE}) FILTER (WHERE INDICATOR = 'MIGRANT_SHARE')
        FROM obs GROUP BY REVISION, TIME_PERIOD, REF_AREA, SEX
        HAVING count(*) = 3 AND count(DISTINCT INDICATOR) = 3""",
    "refugees": f"""
        SELECT REVISION::SMALLINT, TIME_PERIOD::SMALLINT, REF_AREA::SMALLINT,
               any_value(SOURCE_SHA256),
               max({_VALUE}) FILTER (WHERE INDICATOR = 'REFUGEES')::BIGINT,
               max({_VALUE}) FILTER (WHERE INDICATOR = 'REFUGEE_SHARE')
        FROM obs WHERE SEX = '_T' GROUP BY REVISION, TIME_PERIOD, REF_AREA
        HAVING count(*) = 2 AND count(DISTINCT INDICATOR) = 2""",
    "age_stock": f"""
        SELECT REVISION::SMALLINT, TIME_PERIOD::SMALLINT, REF_AREA::SMALLINT, {_SEX}, {_AGE},
               ({_VALUE})::BIGINT, CONF_STATUS = 'C', SOURCE_SHA256
        FROM obs WHERE INDICATOR = 'MIGRANT_STOCK'""",
    "age_population": f"""
        SELECT REVISION::SMALLINT, TIME_PERIOD::SMALLINT, REF_AREA::SMALLINT, {_SEX}, {_AGE},
               ({_VALUE})::BIGINT, SOURCE_SHA256
        FROM obs WHERE INDICATOR = 'TOTAL_POPULATION'""",
}
STORE_ROWS = {
    "bilateral_stock": (
        "SELECT revision, year, destination_code, origin_code, "
        "CASE WHEN origin_kind IN ('other_north', 'other_south', 'other') THEN origin_kind END, "
        "sex, migrants, suppressed, raw_sha256 FROM bilateral_stock"
    ),
    "destination_totals": (
        "SELECT revision, year, destination_code, sex, raw_sha256, migrants, suppressed, "
        "total_population, migrant_share FROM destination_totals"
    ),
    "refugees": (
        "SELECT revision, year, destination_code, raw_sha256, refugees, refugee_share FROM refugees"
    ),
    "age_stock": (
        "SELECT revision, year, destination_code, sex, age_group, migrants, suppressed, "
        "raw_sha256 FROM age_stock"
    ),
    "age_population": (
        "SELECT revision, year, destination_code, sex, age_group, population, raw_sha256 "
        "FROM age_population"
    ),
}
#: the store tables each dataflow gives back, and how many observations a row of each makes
PARTS = {
    "bilateral_stock": {"bilateral_stock": 1},
    "destination_totals": {"destination_totals": 3},
    "refugees": {"refugees": 2},
    "age_stock": {"age_stock": 1, "age_population": 1},
}


def _check_table(
    con: duckdb.DuckDBPyConnection, table: str, obs: pd.DataFrame | None = None, where: str = ""
) -> None:
    """The observations (``obs``, else the table ``obs``), back in store rows, equal the
    store's rows: none missing, none extra, none changed; every observation is used."""
    if obs is not None:
        con.register("obs", obs)
    observations = 0
    for part, per_row in PARTS[table].items():
        stored = STORE_ROWS[part] + where
        con.execute(f"CREATE OR REPLACE TEMP TABLE back AS {BACK_TO_STORE[part]}")
        missing = con.execute(f"SELECT count(*) FROM ({stored} EXCEPT ALL FROM back)").fetchone()
        extra = con.execute(f"SELECT count(*) FROM (FROM back EXCEPT ALL {stored})").fetchone()
        assert (missing, extra) == ((0,), (0,)), f"{part} rows missing: {missing}, extra: {extra}"
        rows = con.execute(f"SELECT count(*) FROM ({stored})").fetchone()
        assert rows == con.execute("SELECT count(*) FROM back").fetchone()
        assert rows[0] > 0, part
        observations += rows[0] * per_row
    assert con.execute("SELECT count(*) FROM obs").fetchone() == (observations,)


def test_the_published_version_holds_the_exchange_files(real_store: Path, published: Path):
    assert published.parent.name == f"{real_store.name}.versions"
    assert (published / "datapackage.json").is_file()
    assert (published / "parquet").is_dir(), "the package sits beside the Parquet tables"
    with duckdb.connect(str(real_store), read_only=True) as con:
        counts: dict[str, int] = {}  # file -> observations
        for table, parts in PARTS.items():
            for part, per_row in parts.items():
                for revision, count in con.execute(
                    f"SELECT revision, count(*) FROM {part} GROUP BY revision"
                ).fetchall():
                    name = f"{table}_{revision}.csv.gz"
                    counts[name] = counts.get(name, 0) + count * per_row
    assert {"age_stock_2019.csv.gz", "age_stock_2020.csv.gz"} <= set(counts)
    names = sorted(path.name for path in (published / "sdmx").iterdir())
    assert names == sorted(["structure.xml", "manifest.json", *counts])
    manifest = json.loads((published / "sdmx" / "manifest.json").read_text())
    assert set(manifest) == set(counts)
    for name, entry in manifest.items():
        data = (published / "sdmx" / name).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["observations"] == counts[name]
        assert gzip.decompress(data).count(b"\n") == entry["observations"] + 1, name


def test_the_structure_has_one_version_per_revision(real_store: Path, structure) -> None:
    with duckdb.connect(str(real_store), read_only=True) as con:
        revisions = [
            r for (r,) in con.execute("SELECT revision FROM revisions ORDER BY 1").fetchall()
        ]
        with_rows = {
            table: {r for (r,) in con.execute(f"SELECT DISTINCT revision FROM {table}").fetchall()}
            for table in ("bilateral_stock", "destination_totals", "refugees", "age_stock")
        }
        codes = {str(c) for (c,) in con.execute("SELECT code FROM locations").fetchall()}
    assert with_rows["age_stock"] == {2019, 2020}
    dsds = structure.get_data_structure_definitions()
    by_id: dict[str, list[str]] = {}
    for dsd in dsds:
        by_id.setdefault(dsd.id, []).append(dsd.version)
    assert sorted(by_id["DSD_MIGSTOCK"]) == [f"1.0.{r}" for r in revisions]
    assert sorted(by_id["DSD_MIGSTOCK_AGE"]) == [f"1.0.{r}" for r in sorted(with_rows["age_stock"])]
    assert set(by_id) == {"DSD_MIGSTOCK", "DSD_MIGSTOCK_AGE"}
    assert {dsd.agency for dsd in dsds} == {"MIGSTOCK"}
    flows = {(flow.id, flow.version, flow.structure) for flow in structure.get_dataflows()}
    expected = {
        (
            DATAFLOWS[table],
            f"1.0.{r}",
            f"DataStructure=MIGSTOCK:DSD_MIGSTOCK{'_AGE' if table == 'age_stock' else ''}(1.0.{r})",
        )
        for table, numbers in with_rows.items()
        for r in numbers
    }
    assert flows == expected
    for dsd in dsds:
        components = {c.id: c for c in dsd.components}
        dimensions = [c.id for c in dsd.components.dimensions]
        if dsd.id == "DSD_MIGSTOCK_AGE":
            assert dimensions == ["FREQ", "INDICATOR", "REF_AREA", "SEX", "AGE", "TIME_PERIOD"]
            ages = [code.id for code in components["AGE"].local_codes.items]
            assert ages == [*(f"Y{a}T{a + 4}" for a in range(0, 75, 5)), "Y75T_", "_T"]
        else:
            assert dimensions == [
                "FREQ",
                "INDICATOR",
                "REF_AREA",
                "COUNTERPART_AREA",
                "SEX",
                "TIME_PERIOD",
            ]
        area = {code.id for code in components["REF_AREA"].local_codes.items}
        assert codes | {"_O_N", "_O_S", "_O", "_Z"} == area
        assert components["REF_AREA"].local_codes.version == dsd.version
        assert {c.id for c in components["SEX"].local_codes.items} == {"F", "M", "_T"}
        assert {
            "UNIT_MEASURE",
            "OBS_STATUS",
            "CONF_STATUS",
            "DATA_TYPE",
            "REVISION",
            "SOURCE_SHA256",
        } <= set(components)


@pytest.mark.parametrize(
    "table", ["bilateral_stock", "destination_totals", "refugees", "age_stock"]
)
def test_sdmx_csv_read_back_equals_the_store_and_uses_only_listed_codes(
    real_store: Path, published: Path, structure, table: str
) -> None:
    with duckdb.connect(str(real_store), read_only=True) as con:
        by_pysdmx = _published_observations(con, published, table)
        assert by_pysdmx, "files of every table are read back by pysdmx"
        _check_table(con, table)
        dsd_id = "DSD_MIGSTOCK_AGE" if table == "age_stock" else "DSD_MIGSTOCK"
        dsds = {
            dsd.version: dsd
            for dsd in structure.get_data_structure_definitions()
            if dsd.id == dsd_id
        }
        for version, dsd in dsds.items():
            for component in dsd.components:
                if component.local_codes is None:
                    continue
                listed = {code.id for code in component.local_codes.items}
                used = {
                    code
                    for (code,) in con.execute(
                        f"SELECT DISTINCT {component.id} FROM obs WHERE VERSION = ? "
                        f"AND {component.id} <> ''",
                        [version],
                    ).fetchall()
                }
                assert used <= listed, f"{component.id} {version}: {sorted(used - listed)[:5]}"
        wrong_revision = con.execute(
            "SELECT count(*) FROM obs WHERE VERSION <> '1.0.' || REVISION"
        ).fetchone()
        assert wrong_revision == (0,)
        unflagged = con.execute(
            "SELECT count(*) FROM obs WHERE (OBS_VALUE IS NULL OR isnan(OBS_VALUE)) "
            "<> (OBS_STATUS = 'M' OR CONF_STATUS = 'C')"
        ).fetchone()
        assert unflagged == (0,), "an empty value is always missing (M) or suppressed (C)"


def test_our_sdmx_csv_is_what_pysdmx_writes(published: Path, tmp_path: Path) -> None:
    """The same data sets written by pysdmx's own SDMX-CSV 1.0 writer: same columns, rows."""
    ours = published / "sdmx" / "refugees_2020.csv.gz"
    datasets = get_datasets(_sdmx_input(ours), published / "sdmx" / "structure.xml")
    theirs = tmp_path / "pysdmx.csv"
    write_sdmx(datasets, Format.DATA_SDMX_CSV_1_0_0, output_path=str(theirs))
    read = {
        name: pd.read_csv(path, dtype=str, keep_default_na=False)
        for name, path in (("ours", ours), ("theirs", theirs))
    }
    assert list(read["ours"].columns) == list(read["theirs"].columns)
    for frame in read.values():  # pysdmx writes the doubles it read: "12.0", "NaN"
        frame["OBS_VALUE"] = frame["OBS_VALUE"].replace("", "nan").astype("float64")
    key = list(read["ours"].columns)
    pd.testing.assert_frame_equal(
        read["ours"].sort_values(key, ignore_index=True),
        read["theirs"].sort_values(key, ignore_index=True),
    )


@pytest.mark.parametrize(
    ("table", "revision"),
    [("bilateral_stock", 2015), ("destination_totals", 2024), ("age_stock", 2020)],
)
def test_sdmx_ml_of_one_revision_read_back_equals_the_store(
    real_store: Path, published: Path, tmp_path: Path, table: str, revision: int
) -> None:
    output = tmp_path / f"{table}.xml"
    result = CliRunner().invoke(
        app,
        ["export", table, "--format", "sdmx-ml", "--revision", str(revision),
         "--output", str(output), "--db", str(real_store)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    obs = _observations(output, published / "sdmx" / "structure.xml")
    assert set(obs["VERSION"]) == {f"1.0.{revision}"}
    with duckdb.connect(str(real_store), read_only=True) as con:
        _check_table(con, table, obs, where=f" WHERE revision = {revision}")


def test_saudi_arabia_2024_in_every_format(real_store: Path, published: Path, tmp_path: Path):
    def saudi(frame: pd.DataFrame) -> list[float]:
        match = frame[
            (frame["REF_AREA"] == "682")
            & (frame["SEX"] == "_T")
            & (frame["TIME_PERIOD"] == "2024")
            & (frame["INDICATOR"] == "MIGRANT_STOCK")
        ]
        return match["OBS_VALUE"].tolist()

    structure_file = published / "sdmx" / "structure.xml"
    csv = _observations(published / "sdmx" / "destination_totals_2024.csv.gz", structure_file)
    assert saudi(csv) == [SAUDI_ARABIA_2024_TOTAL]
    xml = tmp_path / "totals.xml"
    runner = CliRunner()
    done = runner.invoke(
        app,
        ["export", "destination_totals", "--format", "sdmx-ml", "--revision", "2024",
         "--output", str(xml), "--db", str(real_store)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert saudi(_observations(xml, structure_file)) == [SAUDI_ARABIA_2024_TOTAL]
    package_csv = pd.read_csv(published / "csv" / "destination_totals.csv.gz")
    row = package_csv.query("revision == 2024 and year == 2024 and destination_code == 682")
    assert row.loc[row["sex"] == "total", "migrants"].tolist() == [SAUDI_ARABIA_2024_TOTAL]
    parquet = published / "parquet" / "destination_totals" / "revision=2024"
    frame = pd.read_parquet(parquet).query("year == 2024 and destination_code == 682")
    assert frame.loc[frame["sex"] == "total", "migrants"].tolist() == [SAUDI_ARABIA_2024_TOTAL]


def test_export_structure_and_refusals(real_store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    output = tmp_path / "structure.xml"
    done = runner.invoke(
        app, ["export", "--structure", "--revision", "2024", "--output", str(output),
              "--db", str(real_store)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    message = read_sdmx(output)
    versions = {a.version for a in message.structures if isinstance(a, DataStructureDefinition)}
    assert versions == {"1.0.2024"}
    refused = runner.invoke(
        app, ["export", "locations", "--format", "sdmx-csv", "--output", str(tmp_path / "x"),
              "--db", str(real_store)],
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "SDMX covers the fact tables only" in refused.output
    assert "age_stock" in refused.output
    population = runner.invoke(
        app, ["export", "age_population", "--format", "sdmx-ml", "--output",
              str(tmp_path / "x"), "--db", str(real_store)],
    )  # fmt: skip
    assert population.exit_code == 2
    assert "part of the MIGRANTS_BY_AGE dataflow: export 'age_stock'" in population.output
    unknown = runner.invoke(
        app, ["export", "--structure", "--revision", "1999", "--db", str(real_store)]
    )
    assert unknown.exit_code == 2
    assert "revision 1999 is not loaded" in unknown.output


def test_migrants_by_age_in_sdmx_csv_sdmx_ml_and_the_data_package(
    real_store: Path, published: Path, tmp_path: Path
) -> None:
    """Saudi Arabia, 2020, both sexes: all ages and 75 and over, as the store holds them,
    in the published SDMX-CSV, SDMX-ML on demand and the data package's CSV."""
    [(all_ages, oldest, population)] = _sql_rows(
        real_store,
        "SELECT max(a.migrants) FILTER (a.age_group = 'total'), "
        "max(a.migrants) FILTER (a.age_group = '75+'), "
        "max(p.population) FILTER (p.age_group = 'total') FROM age_stock a "
        "JOIN age_population p USING (revision, year, destination_code, sex, age_group) "
        "WHERE a.revision = 2020 AND a.year = 2020 AND a.destination_code = 682 "
        "AND a.sex = 'total'",
    )
    assert all_ages == 13_454_842  # the official 2020 totals: the age workbook agrees

    def saudi(frame: pd.DataFrame, indicator: str, age: str) -> list[float]:
        match = frame[
            (frame["REF_AREA"] == "682")
            & (frame["SEX"] == "_T")
            & (frame["AGE"] == age)
            & (frame["TIME_PERIOD"] == "2020")
            & (frame["INDICATOR"] == indicator)
        ]
        return match["OBS_VALUE"].tolist()

    structure_file = published / "sdmx" / "structure.xml"
    xml = tmp_path / "age.xml"
    done = CliRunner().invoke(
        app,
        ["export", "age_stock", "--format", "sdmx-ml", "--revision", "2020",
         "--output", str(xml), "--db", str(real_store)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    for frame in (
        _observations(published / "sdmx" / "age_stock_2020.csv.gz", structure_file),
        _observations(xml, structure_file),
    ):
        assert saudi(frame, "MIGRANT_STOCK", "_T") == [all_ages]
        assert saudi(frame, "MIGRANT_STOCK", "Y75T_") == [oldest]
        assert saudi(frame, "TOTAL_POPULATION", "_T") == [population]
        assert set(frame["AGE"]) == set(AGE_CODES.values())
    package = pd.read_csv(published / "csv" / "age_stock.csv.gz")
    row = package.query(
        "revision == 2020 and year == 2020 and destination_code == 682 and sex == 'total' "
        "and age_group == 'total'"
    )
    assert row["migrants"].tolist() == [all_ages]


def _sql_rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()
