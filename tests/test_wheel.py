"""The built wheel works on its own: installed into a folder of its own and run from
another directory, with the development install out of the way. Its demo runs every
layout and revision through the whole flow."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def _one(db: Path, sql: str) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, installed (without dependencies) into a folder."""
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from hatchling.build import build_wheel; print(build_wheel({str(dist)!r}))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    wheel = dist / built.stdout.strip().splitlines()[-1]
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith("flows/")], "a top-level 'flows' package"
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return target


def test_the_wheel_ships_the_package_data(installed: Path) -> None:
    package = installed / "migstock"
    assert sorted(p.name for p in installed.iterdir() if not p.name.endswith(".dist-info")) == [
        "bin",
        "migstock",
    ]
    suites = package / "expectations"
    assert not suites.is_symlink()
    comparison = filecmp.dircmp(REPO / "expectations", suites)
    assert comparison.left_list == comparison.right_list  # the same suites ...
    assert not comparison.diff_files  # ... with the same content
    assert (package / "store" / "sql" / "schema.sql").is_file()
    assert (package / "report" / "templates" / "steward_summary.html.j2").is_file()
    assert (package / "reference" / "m49_countries.csv").is_file()


def test_demo_validate_and_run_from_the_wheel_in_another_directory(
    installed: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {
        **os.environ,
        "PYTHONPATH": str(installed),  # before site-packages, where the editable install is
        "COLUMNS": "200",
    }
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import migstock, migstock.validate.gx as v; "
            "print(migstock.__file__); print(v.default_expectations_dir())",
        ],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    module, suites = check.stdout.split()
    assert module.startswith(str(installed)) and suites.startswith(str(installed))

    def migstock(*args: str) -> subprocess.CompletedProcess[str]:
        """The installed command, with no Prefect API configured, as for a new user."""
        return subprocess.run(
            [str(installed / "bin" / "migstock"), *args],
            cwd=elsewhere,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )

    environment.pop("PREFECT_API_URL", None)
    environment["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    demo = migstock("demo", "--dir", "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "synthetic numbers (not UN data)" in demo.stdout
    # the flow builds the data brief after the load, marked synthetic in both languages
    for lang, words in (("en", "SYNTHETIC DATA"), ("ar", "بيانات اصطناعية")):
        brief = elsewhere / "demo" / "brief" / lang
        assert words in (brief / "index.html").read_text(encoding="utf-8")
        assert (brief / "brief.pdf").read_bytes().startswith(b"%PDF")
    db = elsewhere / "demo" / "curated" / "migstock.duckdb"
    assert _one(db, "SELECT count(DISTINCT revision) FROM bilateral_stock") == (6,)
    # the synthetic 2015 workbook holds all 18 tables: 6 years x 3 sexes
    assert _one(
        db, "SELECT count(DISTINCT (year, sex)) FROM bilateral_stock WHERE revision = 2015"
    ) == (18,)
    assert _one(
        db,
        "SELECT count(*) FROM arab_region_totals WHERE region = 'Arab region' "
        "AND countries_reporting <> 22",
    ) == (0,)
    # migrants by age: the 2015, 2017, 2019 and 2020 layouts (2013 unknown, 2024 has none)
    assert _one(db, "SELECT list(DISTINCT revision ORDER BY revision) FROM age_stock") == (
        [2015, 2017, 2019, 2020],
    )

    checked = migstock(
        "validate", "--raw-dir", "demo/raw", "--db", "demo/curated/migstock.duckdb", "-r", "2020"
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "valid" in checked.stdout

    again = migstock("run", "--raw-dir", "demo/raw", "--db", "demo/curated/migstock.duckdb")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing changed" in again.stdout
