"""Benchmarks: parsing speed (one process) and a whole ``migstock run`` (end to end).

Parsing: generates workbooks of the real sizes (synthetic numbers):
- 2024 bilateral layout: ~35,000 rows x 31 columns in one sheet;
- the same with a quarter of its rows listed twice (as the UN lists some aggregates);
- 2019 bilateral layout: 3 sheets x ~2,000 rows x ~240 columns.
For each it reports the best of N runs of
- baseline: ``pandas.read_excel(engine="calamine")`` of the same sheets,
- migstock: read + parse + harmonize to tidy rows,
- validation: the revision's suites and its reconciliation (GX context set up once),
- openpyxl: ``pandas.read_excel(engine="openpyxl")`` (what most public scripts do),
as seconds and as ratios to the baseline, plus migstock's peak traced memory.

End to end: ``migstock run --raw-dir DIR`` in a fresh folder, as a user runs it
(its own process, a temporary Prefect server, no API configured), then the same
command again with nothing changed. Reports wall seconds, peak RSS (of the run's
own process) and the stages the run timed itself (``MIGSTOCK_TIMINGS``).

    python scripts/benchmark.py [--repeat 3] [--section parse|e2e|site|all] [--raw-dir DIR]
                                [--db DB]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from migstock.acquire.provenance import local_file
from migstock.catalog import revision
from migstock.demo.samples import write_long_rows, write_year_rows
from migstock.parse import parse_workbook
from migstock.parse.harmonize import harmonize_bilateral
from migstock.parse.read import read_workbook
from migstock.pipeline import PreparedFile, prepare_file, validate_revision
from migstock.validate.gx import Validator

YEARS_2024 = [1990, 1995, 2000, 2005, 2010, 2015, 2020, 2024]


def _m49_codes() -> list[int]:
    from migstock.parse.harmonize import m49_reference

    return m49_reference()["code"].tolist()


def make_2024(path: Path, rng: np.random.Generator, repeated: float = 0.0) -> list[str]:
    """The 2024 layout; ``repeated``: that share of rows is listed a second time."""
    codes = _m49_codes()
    rows = []
    for dest in codes[:150]:
        for origin in codes[:233]:
            male = rng.integers(0, 100_000, len(YEARS_2024))
            female = rng.integers(0, 100_000, len(YEARS_2024))
            values = {
                "total": (male + female).tolist(),
                "male": male.tolist(),
                "female": female.tolist(),
            }
            rows.append(((f"D{dest}", dest), (f"O{origin}", origin), values))
    if repeated:  # identical repeats spread over the table, each after its first listing
        every = round(1 / repeated)
        rows = [copy for i, row in enumerate(rows) for copy in [row] * (2 if i % every == 0 else 1)]
    write_long_rows(path, 2024, YEARS_2024, rows)
    return ["Table 1"]


def make_2024_repeats(path: Path, rng: np.random.Generator) -> list[str]:
    """2024 layout in which a quarter of the rows are repeats of earlier rows."""
    return make_2024(path, rng, repeated=1 / 3)  # 1 in 3 listed twice: 25% of all rows


def make_2019(path: Path, rng: np.random.Generator) -> list[str]:
    from migstock.parse.harmonize import m49_reference

    reference = m49_reference()
    destinations = reference["name"].tolist()[:283]
    codes = dict(zip(reference["name"], reference["code"], strict=True))
    origins = ["Total", "Other North", "Other South", *reference["name"].tolist()[:232]]
    years = [1990, 1995, 2000, 2005, 2010, 2015, 2019]
    keys = [(y, n) for y in years for n in destinations]
    male = rng.integers(0, 50_000, (len(keys), len(origins) - 1))
    female = rng.integers(0, 50_000, (len(keys), len(origins) - 1))
    tables = {}
    for sex, values in (("total", male + female), ("male", male), ("female", female)):
        tables[sex] = [  # consistent like the real tables: Total = sum, total = male + female
            [year, name, int(row.sum()), *row.tolist()]
            for (year, name), row in zip(keys, values, strict=True)
        ]
    write_year_rows(path, 2019, tables, origins, codes)
    return ["Table 1", "Table 2", "Table 3"]


def best_of(repeat: int, action: Callable[..., object], *args: object, **kwargs: object) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action(*args, **kwargs)
        timings.append(time.perf_counter() - start)
    return min(timings)


def migstock_parse(path: Path) -> pd.DataFrame:
    return harmonize_bilateral(parse_workbook(read_workbook(path)), path)


def migstock_validate(validator: Validator, prepared: PreparedFile) -> None:
    validate_revision(validator, revision(prepared.revision), [prepared])


def parse_section(repeat: int, skip_openpyxl: bool) -> None:
    rng = np.random.default_rng(2024)
    start = time.perf_counter()
    validator = Validator()
    print(
        f"Great Expectations import and context set-up (once per run): "
        f"{time.perf_counter() - start:.2f} s"
    )
    cases = (
        ("2024 long rows", make_2024),
        ("2024 long rows, 25% repeated", make_2024_repeats),
        ("2019 year rows", make_2019),
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, make in cases:
            path = Path(tmp) / f"{label.replace(' ', '_').replace(',', '').replace('%', '')}.xlsx"
            sheets = make(path, rng)
            size_mb = path.stat().st_size / 1e6
            baseline = best_of(repeat, pd.read_excel, path, sheet_name=sheets, engine="calamine")
            ours = best_of(repeat, migstock_parse, path)
            rows = len(migstock_parse(path))
            prepared = prepare_file(local_file(path, "raw-dir"))
            validation = best_of(repeat, migstock_validate, validator, prepared)
            tracemalloc.start()
            migstock_parse(path)
            peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            print(f"{label}: {size_mb:.1f} MB, {len(sheets)} sheet(s), {rows:,} tidy rows")
            print(f"  calamine read (baseline) {baseline:7.2f} s   1.00x")
            print(
                f"  migstock parse to tidy   {ours:7.2f} s   {ours / baseline:.2f}x"
                f"   peak traced memory {peak_mb:.0f} MB"
            )
            print(
                f"  validation (3 suites)    {validation:7.2f} s   {validation / baseline:.2f}x"
                f"   ({validation / ours:.2f}x the parse)"
            )
            if not skip_openpyxl:
                slow = best_of(1, pd.read_excel, path, sheet_name=sheets, engine="openpyxl")
                print(
                    f"  openpyxl read            {slow:7.2f} s   {slow / baseline:.2f}x"
                    f"   (migstock is {slow / ours:.1f}x faster)"
                )


GNU_TIME = Path("/usr/bin/time")
STARTED = "Prefect start (wait for server, flow run)"
BRIEF_WAIT = "brief (waited for after the reports)"


def _migstock_run(raw_dir: Path, work: Path, label: str, store: str = "curated") -> dict:
    """One ``migstock run`` as its own process, under GNU time when it is installed:
    wall seconds, peak RSS (the largest of the run's process and the Prefect server
    it starts: GNU time reports the maximum, not the sum), exit code, its own timings."""
    timings_file = work / f"timings-{label}.json"
    time_file = work / f"time-{label}.txt"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PREFECT_API")
    }
    environment.update(
        MIGSTOCK_TIMINGS=str(timings_file),
        PREFECT_HOME=str(work / "prefect-home"),
        COLUMNS="120",
    )
    command = [
        str(Path(sys.executable).with_name("migstock")),
        "run",
        "--raw-dir",
        str(raw_dir.resolve()),
        "--db",
        str(work / store / "migstock.duckdb"),
    ]
    if GNU_TIME.exists():
        command = [str(GNU_TIME), "-f", "%M", "-o", str(time_file), *command]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    started = time.time()
    finished = subprocess.run(
        command, cwd=work, env=environment, capture_output=True, text=True, check=False
    )
    wall = time.time() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    peak_mb = int(time_file.read_text().split()[-1]) / 1024 if time_file.exists() else None
    recorded = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    return {
        "wall": wall,
        "peak_mb": peak_mb,
        "exit": finished.returncode,
        "output": finished.stdout + finished.stderr,
        "seconds": recorded.get("seconds", {}),
        "marks": recorded.get("marks", {}),
        "started": started,
        "cpu": cpu,  # user + system seconds of the run and the processes it started
        "load": load,  # 1-minute load average when it started (2 cores)
    }


def _stages(run: dict) -> list[tuple[str, float]]:
    """The run's stages in order, from its own timings (what is left over is start-up,
    Prefect's flow bookkeeping and exit)."""
    seconds, marks = run["seconds"], run["marks"]

    def between(first: str, last: str) -> float:
        return marks[last] - marks[first] if first in marks and last in marks else 0.0

    load = seconds.get("load (with Parquet)", 0.0)
    parquet = seconds.get("Parquet", 0.0)
    stages = [
        (
            "Python and CLI start",
            marks.get("command line imported", run["started"]) - run["started"],
        ),
        ("decide what changed", seconds.get("acquire (before Prefect)", 0.0)),
        ("import Prefect client, pandas", seconds.get("import Prefect and pandas", 0.0)),
        (
            "GX start (import; 0: done in the worker, in parallel)",
            seconds.get("import Great Expectations", 0.0),
        ),
        (STARTED, between("flow called", "flow body started")),
        ("read + parse + harmonize", seconds.get("read + parse", 0.0)),
        ("GX start (wait for worker, context)", seconds.get("Great Expectations context", 0.0)),
        ("validate (incl. Data Docs)", seconds.get("validate", 0.0)),
        ("load into DuckDB", load - parquet),
        ("Parquet", parquet),
        ("reports (the brief is built beside them)", seconds.get("reports", 0.0)),
        ("data brief, waited for after the reports", seconds.get(BRIEF_WAIT, 0.0)),
        ("Prefect flow end", between("flow body ended", "flow returned")),
    ]
    accounted = sum(value for _, value in stages)
    stages.append(("other (tasks, exit)", run["wall"] - accounted))
    return stages


def e2e_section(raw_dir: Path) -> None:
    from migstock.acquire import find_local_files

    files = find_local_files(raw_dir)
    baseline = 0.0
    for path in files:
        start = time.perf_counter()
        pd.read_excel(path, sheet_name=None, engine="calamine", header=None)
        baseline += time.perf_counter() - start
    print(f"end to end: migstock run --raw-dir {raw_dir} ({len(files)} workbooks)")
    print(f"  bare calamine read of all their sheets: {baseline:.2f} s (in this process)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        first = _migstock_run(raw_dir, work, "first")
        summary = [
            line.strip()
            for line in first["output"].splitlines()
            if any(word in line for word in ("loaded", "rejected", "error:"))
        ]
        peak = f"{first['peak_mb']:.0f} MB" if first["peak_mb"] else "n/a (no /usr/bin/time)"
        print(
            f"  first load: {first['wall']:.2f} s wall, exit {first['exit']}, peak RSS {peak}, "
            f"{first['cpu']:.1f} CPU s in all its processes (load average {first['load']:.1f})"
        )
        for line in summary[:12]:
            print(f"    | {line[:110]}")
        stages = _stages(first)
        waited = dict(stages)[STARTED]
        boot = first["seconds"].get("Prefect server boot (in parallel)")
        print(
            f"  {'stage':54} {'seconds':>8} {'share':>6}"
            + ("" if not baseline else f" {'x read':>7}")
        )
        for name, value in stages:
            ratio = f" {value / baseline:6.2f}x" if baseline else ""
            print(f"  {name:54} {value:8.2f} {value / first['wall']:6.0%}{ratio}")
        if boot is not None:
            print(f"  (the temporary Prefect server took {boot:.2f} s to boot, in parallel)")
        ahead_parse = first["seconds"].get("head start: read + parse")
        ahead_validate = first["seconds"].get("head start: validate")
        if ahead_parse is not None:
            print(
                f"  (head start, begun while the server boots: read + parse {ahead_parse:.2f} s, "
                f"validate {ahead_validate or 0:.2f} s; the rows above are what the flow's "
                "tasks still waited for)"
            )
        brief = first["seconds"].get("brief")
        if brief is not None:
            print(f"  (the data brief took {brief:.2f} s in its own process, beside the reports)")
        docs = first["seconds"].get("Data Docs (waited for)")
        if docs is not None:
            print(
                f"  (Data Docs render in the validation process during the load; the reports "
                f"waited {docs:.2f} s for them)"
            )
        print(f"  everything except waiting for Prefect's start: {first['wall'] - waited:.2f} s")
        if boot is not None:
            print(f"  wall time minus the server's boot: {first['wall'] - boot:.2f} s")
        warm = _migstock_run(raw_dir, work, "warm", store="curated-2")
        warm_boot = warm["seconds"].get("Prefect server boot (in parallel)", 0.0)
        print(
            f"  first load again into a new store, Prefect's database already created: "
            f"{warm['wall']:.2f} s wall, peak RSS {warm['peak_mb'] or 0:.0f} MB, "
            f"{warm['cpu']:.1f} CPU s; Prefect start {dict(_stages(warm))[STARTED]:.2f} s, "
            f"everything else {warm['wall'] - dict(_stages(warm))[STARTED]:.2f} s; "
            f"server boot {warm_boot:.2f} s, wall minus boot {warm['wall'] - warm_boot:.2f} s"
        )
        again = _migstock_run(raw_dir, work, "again")
        peak = f"{again['peak_mb']:.0f} MB" if again["peak_mb"] else "n/a"
        prefect = "no" if "flow called" not in again["marks"] else "yes"
        print(
            f"  unchanged re-run: {again['wall']:.2f} s wall, exit {again['exit']}, "
            f"peak RSS {peak}, {again['cpu']:.1f} CPU s, Prefect started: {prefect}"
        )


def site_section(raw_dir: Path, db: Path | None, repeat: int) -> None:
    """``build_site``: both languages of all 27 places (pages, CSV, xlsx), no Chromium.

    Without ``--db`` a store is loaded first (not timed) from ``raw_dir`` plus the
    generated 2019/2024 bilateral layouts, as the tests' ``real_store``. "cold" writes
    into an empty folder (the Vega bundle is made too); "warm" rebuilds over it, as a
    refresh does. Best of ``repeat`` each, in this process (imports not counted).
    """
    from migstock.site import build_site

    with tempfile.TemporaryDirectory(prefix="migstock-site-bench-") as tmp:
        work = Path(tmp)
        if db is None:
            db = _bench_store(raw_dir, work)
        cold, warm = [], []
        for attempt in range(repeat):
            out = work / f"site-{attempt}"
            cold.append(_timed(build_site, db, out))
        for _ in range(repeat):
            warm.append(_timed(build_site, db, out))
        result = build_site(db, out)
        print(f"site: {len(result.pages)} pages, {len(result.downloads)} downloads")
        print(f"  load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for label, runs in (("cold (empty folder)", cold), ("warm (rebuild)   ", warm)):
            wall, cpu = min(runs)
            print(f"  build_site {label}  wall {wall:6.2f} s  cpu {cpu:6.2f} s  (best of {repeat})")


def _timed(action: Callable[..., object], *args: object) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    action(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def _bench_store(raw_dir: Path, work: Path) -> Path:
    """A store like the tests' ``real_store``: official workbooks + generated bilateral."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from migstock.pipeline import find_local_files, group_by_revision, revision_load
    from migstock.store import load_revisions
    from tests.real_exports import read_2024_export, write_2019_bilateral, write_2024_bilateral

    exports = raw_dir.parent / "exports"
    paths = [
        *find_local_files(raw_dir),
        write_2019_bilateral(
            exports, raw_dir, work / "UN_MigrantStockByOriginAndDestination_2019.xlsx"
        ),
        write_2024_bilateral(
            read_2024_export(exports),
            work / "undesa_pd_2024_ims_stock_by_sex_destination_and_origin.xlsx",
        ),
    ]
    prepared = [prepare_file(local_file(path, "raw-dir")) for path in paths]
    loads = [revision_load(n, files) for n, files in group_by_revision(prepared).items()]
    db = work / "store" / "migstock.duckdb"
    db.parent.mkdir()
    load_revisions(db, db.parent / "parquet", loads)
    return db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-openpyxl", action="store_true")
    parser.add_argument("--section", choices=("parse", "e2e", "site", "all"), default="all")
    parser.add_argument("--db", type=Path, help="store for --section site (default: load one)")
    shared = Path(
        os.environ.get(
            "MIGSTOCK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    parser.add_argument("--raw-dir", type=Path, default=shared / "un-ims" / "official")
    args = parser.parse_args()
    if args.section in ("parse", "all"):
        parse_section(args.repeat, args.skip_openpyxl)
    if args.section in ("e2e", "all"):
        e2e_section(args.raw_dir)
    if args.section in ("site", "all"):
        site_section(args.raw_dir, args.db, args.repeat)


if __name__ == "__main__":
    main()
