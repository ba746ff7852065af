"""Reliability suite: bad inputs generated from the real workbooks.

Each case runs through the flow's steps as plain functions (no Prefect, one
process) beside a good workbook the store already holds, and must give exactly
one rejection line naming the file (and sheet and cell, or the check), leave the
curated store (DuckDB content and Parquet bytes) and the raw folder unchanged.
One end-to-end CLI run puts every file-level case beside a new good workbook:
that one loads, each bad one is rejected by name, and no traceback is printed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from migstock.acquire import find_local_files, loaded_files, unusable_local_files
from migstock.acquire.provenance import local_file
from migstock.catalog import revision
from migstock.outcomes import Outcome, RunSummary
from migstock.parse.prepare import group_by_revision, prepare_file, prepare_or_reject
from migstock.pipeline import revision_load
from migstock.store import load_revisions
from migstock.validate import validate_revision
from tests.bad_inputs import BESIDE, CASES, LOADED, T20, Case, edited, rename

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, official_dir: Path) -> Path:
    """A curated folder whose store holds the real 2019 destination totals."""
    db = tmp_path_factory.mktemp("baseline") / "curated" / "migstock.duckdb"
    prepared = prepare_file(local_file(official_dir / LOADED, "raw-dir"))
    load_revisions(db, db.parent / "parquet", [revision_load(2019, [prepared])])
    return db.parent


def _store_copy(baseline: Path, target: Path) -> Path:
    shutil.copytree(baseline, target, symlinks=True)
    return target / "migstock.duckdb"


def store_content(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def parquet_bytes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def raw_state(folder: Path) -> dict[str, str]:
    """Each entry's kind and, for regular files, content (a FIFO is never opened)."""
    state = {}
    for entry in sorted(folder.iterdir()):
        mode = entry.lstat().st_mode
        if stat.S_ISREG(mode):
            state[entry.name] = hashlib.sha256(entry.read_bytes()).hexdigest()
        else:
            state[entry.name] = f"mode {stat.S_IFMT(mode):o}"
    return state


def run_steps(raw: Path, db: Path, validator) -> RunSummary:
    """What ``flows/refresh.py`` does with a ``--raw-dir``, as plain function calls."""
    summary = RunSummary(db_path=db, parquet_dir=db.parent / "parquet")
    summary.outcomes += [Outcome(p.name, "rejected", why) for p, why in unusable_local_files(raw)]
    loaded = loaded_files(db)
    prepared = []
    for path in find_local_files(raw):
        item = local_file(path, "raw-dir")
        if item.sha256 in loaded:
            summary.outcomes.append(Outcome(path.name, "unchanged"))
            continue
        outcome = prepare_or_reject(item)  # as the run does: any error, one line
        if isinstance(outcome, Outcome):
            summary.outcomes.append(outcome)
        else:
            prepared.append(outcome)
    loads = []
    for number, files in group_by_revision(prepared).items():
        report = validate_revision(validator, revision(number), files, db)
        if not report.passed:
            failures = "; ".join(r.describe(samples=0) for r in report.blocking_failures)
            summary.outcomes.append(Outcome(f"revision {number}", "rejected", failures))
            continue
        loads.append(revision_load(number, files))
        summary.outcomes.append(Outcome(f"revision {number}", "loaded"))
    if loads:
        load_revisions(db, db.parent / "parquet", loads)
    return summary


def _cells(line: str) -> list[str]:
    """The cells of one row of the CLI's summary table."""
    return [cell.strip() for cell in line.strip("│ ").split("│")]


def test_the_suite_has_at_least_35_distinct_bad_inputs() -> None:
    assert len({case.name for case in CASES}) == len(CASES) >= 35


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_bad_input_is_rejected_alone_and_changes_nothing(
    case: Case, baseline: Path, official_dir: Path, tmp_path: Path, validator
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(official_dir / LOADED, raw / LOADED)
    case.build(official_dir, raw)
    db = _store_copy(baseline, tmp_path / "curated")
    before = store_content(db), parquet_bytes(db.parent / "parquet"), raw_state(raw)

    summary = run_steps(raw, db, validator)

    rejected = [o for o in summary.outcomes if o.status == "rejected"]
    assert len(rejected) == 1, summary.outcomes
    line = f"{rejected[0].subject}: {rejected[0].message}"
    assert "\n" not in line and "Traceback" not in line
    for fragment in case.expect:
        assert fragment in line
    assert summary.failed  # the CLI exits 1
    assert Outcome(LOADED, "unchanged") in summary.outcomes  # the good file is still known
    assert store_content(db) == before[0]
    assert parquet_bytes(db.parent / "parquet") == before[1]
    assert raw_state(raw) == before[2]


def test_a_renamed_country_is_a_named_warning_and_never_the_reference(
    official_dir: Path, tmp_path: Path
) -> None:
    """A 2020 workbook (edited with openpyxl, as a person would) calls 400 "Jordania"."""
    import openpyxl

    book = openpyxl.load_workbook(official_dir / T20)
    cells = []
    for sheet in book.worksheets:
        for (code,) in sheet.iter_rows(min_col=4, max_col=4):
            if code.value == 400:
                sheet.cell(code.row, 2).value = "Jordania"
                cells.append((sheet.title, f"B{code.row}"))
    path = tmp_path / "jordania.xlsx"
    book.save(path)
    assert ("Table 1", "B143") in cells

    prepared = prepare_file(local_file(path, "raw-dir"))
    assert prepared.warnings == [
        "jordania.xlsx, sheet 'Table 1', cell B143: location 400 is named 'Jordania', not "
        "'Jordan' (its M49 name) or a known alias; the store keeps the M49 name: check it "
        "(confirmed names go into reference/name_aliases.csv)"
    ]
    db = tmp_path / "curated" / "migstock.duckdb"
    load_revisions(db, db.parent / "parquet", [revision_load(2020, [prepared])])
    with duckdb.connect(str(db), read_only=True) as con:
        reference = con.execute("SELECT name FROM locations WHERE code = 400").fetchall()
        published = con.execute(
            "SELECT name FROM location_names WHERE revision = 2020 AND code = 400"
        ).fetchall()
    assert reference == [("Jordan",)]
    assert published == [("Jordania",)]


def test_names_are_normalised(official_dir: Path, tmp_path: Path) -> None:
    name = "\u202bJorda\u0301n\u200b\u202c"  # RTL embedding, decomposed accent, zero width
    path = edited(T20, rename(400, name), "rtl.xlsx")(official_dir, tmp_path)
    names = prepare_file(local_file(path, "raw-dir")).names
    assert names.loc[names["code"] == 400, "name"].tolist() == ["Jordán"]


def test_every_file_level_case_beside_a_good_file_through_the_cli(
    baseline: Path, official_dir: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(official_dir / LOADED, raw / LOADED)
    shutil.copy(official_dir / BESIDE, raw / BESIDE)
    cases = [c for c in CASES if c.level == "file"]
    for case in cases:
        case.build(official_dir, raw)
    db = _store_copy(baseline, tmp_path / "curated")
    before_2019 = {
        t: [r for r in rows if 2019 in r] for t, rows in store_content(db).items() if rows
    }
    parquet_2019 = {
        k: v for k, v in parquet_bytes(db.parent / "parquet").items() if "revision=2019" in k
    }
    raw_before = raw_state(raw)
    env = {
        **os.environ,
        "COLUMNS": "400",
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "migstock.cli", "run", "--raw-dir", str(raw), "--db", str(db)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stdout.splitlines()
    errors = result.stderr.splitlines()
    for case in cases:
        # the summary table marks the file rejected; the one line below it says why
        named = [line for line in lines if _cells(line)[:2] == [case.expect[0], "rejected"]]
        assert len(named) == 1, (case.name, result.stdout)
        said = [line for line in errors if line.startswith(f"error: {case.expect[0]}: ")]
        assert len(said) == 1, (case.name, result.stderr)
        assert all(fragment in said[0] for fragment in case.expect), said[0]
    assert any("revision 2017" in line and "loaded" in line for line in lines), result.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        revisions = con.execute("SELECT DISTINCT revision FROM destination_totals").fetchall()
    assert sorted(revisions) == [(2017,), (2019,)]
    after = store_content(db)
    assert {t: [r for r in after[t] if 2019 in r] for t in before_2019} == before_2019
    assert {
        k: v for k, v in parquet_bytes(db.parent / "parquet").items() if "revision=2019" in k
    } == parquet_2019
    assert raw_state(raw) == raw_before


def test_a_run_with_nothing_to_load_still_removes_leftovers(
    baseline: Path, official_dir: Path, tmp_path: Path
) -> None:
    from migstock import pipeline
    from migstock.acquire import Scope
    from migstock.store import current_pointer, versions_dir

    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(official_dir / LOADED, raw / LOADED)
    db = _store_copy(baseline, tmp_path / "curated")
    published = Path(os.readlink(current_pointer(db))).name
    killed_copy = db.with_name(f".{db.name}.1a2b3c4d.tmp")  # what killed loads left
    killed_copy.write_bytes(b"\0" * 3_000_000)
    unfinished = versions_dir(db) / "99991231T235959999999-abcdef"
    (unfinished / "parquet").mkdir(parents=True)
    older = versions_dir(db) / "19990101T000000000000-abcdef"
    older.mkdir()
    before = store_content(db), parquet_bytes(db.parent / "parquet")

    summary = pipeline.run(Scope.of_run(raw), db)

    outcomes = {o.subject: o.status for o in summary.outcomes}
    assert outcomes["store"] == "unchanged"
    assert not killed_copy.exists() and not unfinished.exists()
    # kept: the published version and the one before it (here: the older one)
    assert sorted(p.name for p in versions_dir(db).iterdir()) == sorted([published, older.name])
    assert (store_content(db), parquet_bytes(db.parent / "parquet")) == before


def test_a_newline_in_a_file_name_is_one_rejection_line(tmp_path: Path) -> None:
    from migstock.parse.prepare import prepare_or_reject

    path = tmp_path / "stock\n2024.xlsx"
    path.write_bytes(b"<!DOCTYPE html><html><body>Access denied</body></html>")
    outcome = prepare_or_reject(local_file(path, "raw-dir"))
    assert isinstance(outcome, Outcome)
    line = f"{outcome.subject}: {outcome.message}"
    assert "\n" not in line
    assert line.startswith("stock\\n2024.xlsx: this is an HTML/XML page")
