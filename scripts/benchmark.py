"""Benchmarks: parsing speed (one process) and a whole ``migstock run`` (end to end).

Parsing: generates workbooks of the real sizes (synthetic numbers):
- 2024 bilateral layout: ~35,000 rows x 31 columns in one sheet, with shared strings
  (as Excel writes them) and the same cells with inline strings (``t="inlineStr"``, as
  streaming writers such as xlsxwriter's ``constant_memory`` write them);
- the same with a quarter of its rows listed twice (as the UN lists some aggregates);
- 2019 bilateral layout: 3 sheets x ~2,000 rows x ~240 columns.
For each it reports the best of N runs of
- baseline: ``pandas.read_excel(engine="calamine")`` of the same sheets,
- python-calamine's own ``to_python`` of the same sheets (no pandas), for reference,
- migstock: read + parse + harmonize to tidy rows (the bar: at most 1.2x the baseline),
- validation: the revision's suites and its reconciliation (GX context set up once),
- openpyxl: ``pandas.read_excel(engine="openpyxl")`` (what most public scripts do),
as seconds and as ratios to the baseline, plus migstock's peak traced memory.

End to end: ``migstock run --raw-dir DIR`` in a fresh folder, as a user runs it
(its own process, a temporary Prefect server, no API configured), then the same
command again with nothing changed. Reports wall seconds, peak RSS (of the run's
own process) and the stages the run timed itself (``MIGSTOCK_TIMINGS``).

Full size (``--section scale``, a benchmark of minutes and gigabytes, never part of
``--section all`` or ``make test``; ``make bench-scale``): the twelve catalog workbooks
at their real dimensions, each in its official layout, filled with synthetic numbers
from a fixed seed (:mod:`migstock.demo.scale`; about 6 million tidy rows), written once
into ``--scale-dir`` and reused; or with ``--set nine`` the six official workbooks and
the 2017/2019/2024 bilateral layouts filled with the real export values. Each is loaded
by ``migstock run --raw-dir`` from scratch, then again unchanged; the script prints wall
time, peak RSS, exit code, the rows of each table (read from the store afterwards),
whether every workbook was loaded as its catalog revision and dataset, and the size of
the published version by folder. Between the two, ``migstock flows --no-pages`` estimates
the flows of the newest revision on the store just loaded (issue #28: within 20 s and
1 GB at full size), timed the same way. ``--baseline DIR`` runs the same with that
checkout's ``migstock``, alternating, ``--repeat`` rounds, and prints the ratios.

    python scripts/benchmark.py [--repeat 3] [--section parse|e2e|all] [--raw-dir DIR]
    python scripts/benchmark.py --section scale [--set twelve|nine] [--scale-dir DIR]
        [--baseline DIR] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from migstock.acquire.provenance import local_file
from migstock.catalog import revision
from migstock.demo.samples import write_long_rows, write_year_rows
from migstock.parse import parse_workbook
from migstock.parse.harmonize import harmonize_bilateral
from migstock.parse.prepare import PreparedFile, prepare_file
from migstock.parse.read import read_workbook
from migstock.validate import validate_revision
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


def make_2024_inline(path: Path, rng: np.random.Generator) -> list[str]:
    """The 2024 layout with every text written inline (``t="inlineStr"``), no shared strings."""
    shared = path.with_name(f"shared-{path.name}")
    sheets = make_2024(shared, rng)
    inline_strings(shared, path)
    shared.unlink()
    return sheets


def inline_strings(source: Path, target: Path) -> Path:
    """Copy an .xlsx, each shared-string cell written as an inline string instead."""
    with zipfile.ZipFile(source) as old:
        table = old.read("xl/sharedStrings.xml")
        strings = re.findall(rb"<si>(<t[^>]*>.*?</t>)</si>", table, re.S)

        def inline(cell: re.Match[bytes]) -> bytes:
            return b'<c r="%s"%s t="inlineStr"><is>%s</is></c>' % (
                cell[1],
                cell[2],
                strings[int(cell[3])],
            )

        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
            for member in old.infolist():
                data = old.read(member)
                if member.filename == "xl/sharedStrings.xml":
                    continue
                if member.filename.startswith("xl/worksheets/"):
                    data = re.sub(
                        rb'<c r="([A-Z]+[0-9]+)"([^>]*?) t="s"><v>([0-9]+)</v></c>', inline, data
                    )
                if member.filename in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
                    data = re.sub(rb"<[^>]*sharedStrings[^>]*/>", b"", data)
                new.writestr(member, data)
    return target


def fastexcel_to_arrow(path: Path, sheets: list[str]) -> None:
    """fastexcel (Rust, calamine underneath, polars' reader) into Arrow: the floor of a
    calamine read. The sheets mix text and numbers in a column (titles, headers, data),
    so fastexcel coerces such columns to text."""
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    for name in sheets:
        reader.load_sheet_by_name(name, header_row=None, dtype_coercion="coerce").to_arrow()


def calamine_to_python(path: Path, sheets: list[str]) -> None:
    book = CalamineWorkbook.from_path(str(path))
    for name in sheets:
        book.get_sheet_by_name(name).to_python(skip_empty_area=False)


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


def best_of_each(repeat: int, *actions: Callable[[], object]) -> tuple[list[float], list[float]]:
    """The best wall time and the best CPU time of each action, the actions taking turns
    (a machine busy with other work for a while slows them all alike). Every action
    here runs on one thread, so its CPU time is its wall time on an idle machine, and
    is what other work on a busy one does not inflate."""
    walls: list[list[float]] = [[] for _ in actions]
    cpus: list[list[float]] = [[] for _ in actions]
    for _ in range(repeat):
        for action, wall, cpu in zip(actions, walls, cpus, strict=True):
            start, start_cpu = time.perf_counter(), time.process_time()
            action()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    return [min(times) for times in walls], [min(times) for times in cpus]


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
        ("2024 long rows, inline strings", make_2024_inline),
        ("2024 long rows, 25% repeated", make_2024_repeats),
        ("2019 year rows", make_2019),
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, make in cases:
            path = Path(tmp) / f"{label.replace(' ', '_').replace(',', '').replace('%', '')}.xlsx"
            sheets = make(path, rng)
            size_mb = path.stat().st_size / 1e6
            (baseline, bare, fast, ours), (baseline_cpu, bare_cpu, fast_cpu, ours_cpu) = (
                best_of_each(
                    repeat,
                    partial(pd.read_excel, path, sheet_name=sheets, engine="calamine"),
                    partial(calamine_to_python, path, sheets),
                    partial(fastexcel_to_arrow, path, sheets),
                    partial(migstock_parse, path),
                )
            )
            rows = len(migstock_parse(path))
            prepared = prepare_file(local_file(path, "raw-dir"))
            validation = best_of(repeat, migstock_validate, validator, prepared)
            tracemalloc.start()
            migstock_parse(path)
            peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            print(f"{label}: {size_mb:.1f} MB, {len(sheets)} sheet(s), {rows:,} tidy rows")
            print(
                f"  calamine read (baseline) {baseline:7.2f} s   1.00x"
                f"   CPU {baseline_cpu:5.2f} s   1.00x"
            )
            print(
                f"  python-calamine to_python{bare:7.2f} s   {bare / baseline:.2f}x"
                f"   CPU {bare_cpu:5.2f} s   {bare_cpu / baseline_cpu:.2f}x"
                "   (no pandas; migstock reads with it)"
            )
            print(
                f"  fastexcel to Arrow       {fast:7.2f} s   {fast / baseline:.2f}x"
                f"   CPU {fast_cpu:5.2f} s   {fast_cpu / baseline_cpu:.2f}x"
                f"   (migstock parse to tidy: {ours / fast:.2f}x fastexcel)"
            )
            print(
                f"  migstock parse to tidy   {ours:7.2f} s   {ours / baseline:.2f}x"
                f"   CPU {ours_cpu:5.2f} s   {ours_cpu / baseline_cpu:.2f}x"
                f"   (bar: 1.20x)   peak traced memory {peak_mb:.0f} MB"
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


def _migstock_run(command: Path, raw_dir: Path, work: Path, store: str) -> dict:
    """One ``migstock run --raw-dir`` as its own process (no Prefect API configured, as a
    new user runs it), under GNU time when installed: wall seconds, peak RSS (the largest
    of its processes: GNU time reports the maximum, not the sum), exit code, output.

    ``PYTHONPATH`` is passed on only to this checkout's command: another checkout's
    ``.venv`` must import its own code."""
    arguments = ["run", "--raw-dir", str(raw_dir.resolve())]
    arguments += ["--db", str(work / store / "migstock.duckdb")]
    return _migstock(command, arguments, work, store)


def _migstock_flows(command: Path, raw_dir: Path, work: Path, store: str) -> dict:
    """``migstock flows`` (the newest revision with bilateral stocks, births and deaths
    from a WPP file in ``raw_dir`` if there is one, no brief or pages) on the store a
    first load just wrote, as its own process under GNU time: as :func:`_migstock_run`."""
    arguments = ["flows", "--raw-dir", str(raw_dir.resolve()), "--no-pages"]
    arguments += ["--db", str(work / store / "migstock.duckdb")]
    return _migstock(command, arguments, work, f"{store}-flows")


#: issue #28: the flows of the newest full-size revision within these
FLOWS_TARGET_S, FLOWS_TARGET_MB = 20.0, 1024.0


def _migstock(command: Path, arguments: list[str], work: Path, label: str) -> dict:
    """``command arguments`` as its own process, under GNU time when installed."""
    time_file = work / f"time-{label}.txt"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PREFECT_API")
    }
    if command.parent != Path(sys.executable).parent:
        environment.pop("PYTHONPATH", None)
    environment.update(PREFECT_HOME=str(work / "prefect-home"), COLUMNS="120")
    arguments = [str(command), *arguments]
    if GNU_TIME.exists():
        arguments = [str(GNU_TIME), "-f", "%U %S %M", "-o", str(time_file), *arguments]
    time_file.unlink(missing_ok=True)
    started = time.perf_counter()
    finished = subprocess.run(
        arguments, cwd=work, env=environment, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    measured = time_file.read_text().split()[-3:] if time_file.exists() else None
    return {
        "wall": wall,
        # CPU seconds of the run and its children (user + system): what other work on a
        # shared machine inflates less than wall time
        "cpu": float(measured[0]) + float(measured[1]) if measured else None,
        "peak_mb": int(measured[2]) / 1024 if measured else None,
        "exit": finished.returncode,
        "output": finished.stdout + finished.stderr,
    }


def _commands(baseline: Path | None) -> dict[str, Path]:
    """The ``migstock`` of this checkout (and of ``baseline``'s own ``.venv``), by label."""
    commands = {"this checkout": Path(sys.executable).with_name("migstock")}
    if baseline is not None:
        commands[f"baseline {_commit(baseline) or baseline}"] = (
            baseline / ".venv" / "bin" / "migstock"
        )
    return commands


def _commit(checkout: Path) -> str:
    """The short commit of a checkout, with "+changes" when its tree differs from it."""

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", "-C", str(checkout), *arguments], capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    return f"{commit}+changes" if commit and git("status", "--porcelain", "--", "src") else commit


def e2e_section(raw_dir: Path, baseline: Path | None, repeat: int) -> None:
    """A first load and an unchanged re-run, for this checkout and (``--baseline``) another
    checkout with its own ``.venv``, alternating, in this one script."""
    commands = _commands(baseline)
    print(f"end to end: migstock run --raw-dir {raw_dir}, best and worst of {repeat}")
    runs: dict[str, list[tuple[dict, dict]]] = {label: [] for label in commands}
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(repeat):
            for label, command in commands.items():
                work = Path(tmp) / f"{len(runs[label])}-{attempt}-{label.split()[0]}"
                work.mkdir()
                first = _migstock_run(command, raw_dir, work, "curated")
                again = _migstock_run(command, raw_dir, work, "curated")
                if first["exit"] != 0:
                    print(f"  {label}: first load exited {first['exit']}:")
                    print("    " + first["output"][-2000:].replace("\n", "\n    "))
                runs[label].append((first, again))
    for label, pairs in runs.items():
        walls = sorted(first["wall"] for first, _ in pairs)
        cpus = sorted(first["cpu"] or 0 for first, _ in pairs)
        peaks = [first["peak_mb"] or 0 for first, _ in pairs]
        agains = sorted(again["wall"] for _, again in pairs)
        print(
            f"  {label:24} first load {walls[0]:6.2f}-{walls[-1]:6.2f} s "
            f"(CPU {cpus[0]:.2f}-{cpus[-1]:.2f} s), "
            f"peak RSS {min(peaks):4.0f}-{max(peaks):4.0f} MB; "
            f"unchanged re-run {agains[0]:.2f}-{agains[-1]:.2f} s"
        )
    if len(runs) == 2:
        mine, base = (sorted(first["wall"] for first, _ in p) for p in runs.values())
        mine_cpu, base_cpu = (sorted(first["cpu"] or 0 for first, _ in p) for p in runs.values())
        print(
            f"  this checkout / baseline, first load: best {mine[0] / base[0]:.2f}x, "
            f"worst {mine[-1] / base[-1]:.2f}x; CPU best "
            f"{mine_cpu[0] / max(base_cpu[0], 1e-9):.2f}x"
        )
    subprocess.run([sys.executable, __file__, "--section", "stages", "--raw-dir", str(raw_dir)])


def stages_section(raw_dir: Path) -> None:
    """Where a first load's time and memory go, stage by stage: the pipeline run in this
    (fresh) process with each stage function timed (``Stages`` takes any callables)."""
    started = time.perf_counter()
    rows: list[tuple[str, float, float]] = []

    def peak() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def mark(name: str, since: float) -> float:
        now = time.perf_counter()
        rows.append((name, now - since, peak()))
        return now

    def timed(function: Callable, name: str) -> Callable:
        def run(*args: object, **kwargs: object) -> object:
            begin = time.perf_counter()
            result = function(*args, **kwargs)
            mark(name, begin)
            return result

        return run

    begin = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import migstock.pipeline"], check=True)
    mark("start Python, import the pipeline (a fresh process)", begin)
    from migstock import pipeline
    from migstock.acquire import Scope

    now = time.perf_counter()
    import great_expectations  # noqa: F401

    mark("import Great Expectations", now)
    plain = pipeline.Stages()
    stages = pipeline.Stages(
        prepare=timed(plain.prepare, "read + parse + harmonize"),
        validate=timed(plain.validate, "validate (GX suites, reconciliation)"),
        load=timed(plain.load, "load (DuckDB, Parquet, publish)"),
        brief=timed(plain.brief, "data brief (2 pages, 2 PDFs)"),
        site=timed(plain.site, "country pages (54 pages, downloads)"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        begin = time.perf_counter()
        summary = pipeline.run(Scope.of_run(raw_dir), Path(tmp) / "c" / "m.duckdb", stages=stages)
        total = time.perf_counter() - begin
    assert not summary.failed, summary.outcomes
    merged: dict[str, list[float]] = {}
    for name, seconds, mb in rows:
        merged.setdefault(name, [0.0, 0.0])
        merged[name][0] += seconds
        merged[name][1] = max(merged[name][1], mb)
    accounted = sum(v[0] for k, v in merged.items() if not k.startswith(("import", "start")))
    merged["other (acquire, GX context, Data Docs, reports)"] = [total - accounted, peak()]
    print(f"  stages of a first load in one fresh process ({time.perf_counter() - started:.2f} s):")
    for name, (seconds, mb) in merged.items():
        print(f"    {name:52} {seconds:6.2f} s   peak so far {mb:4.0f} MB")


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
    from migstock.acquire import find_local_files
    from migstock.parse.prepare import group_by_revision
    from migstock.pipeline import revision_load
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


# --- the full-size benchmark (``--section scale``) ----------------------------------

#: rows of the store's bookkeeping tables are not printed
_BOOKKEEPING = frozenset({"schema_version"})


def scale_workbooks(which: str, scale_dir: Path, shared: Path) -> Path:
    """The folder of workbooks the scale benchmark loads, written when missing:
    ``twelve``: the whole catalog at full size, synthetic (cached: written again only
    when a file is missing or the generator changed); ``nine``: the six official
    workbooks of ``shared`` and the 2017/2019/2024 bilateral layouts filled with the real
    export values. A folder that holds other workbooks is refused (the run would load
    them too); only the set's own files are ever replaced."""
    from migstock.catalog import CATALOG
    from migstock.demo.scale import MANIFEST, README, SEED, cached_manifest, write_scale_workbooks

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.real_exports import NINE_BILATERAL, write_nine_workbooks

    official = sorted(p.name for p in (shared / "un-ims" / "official").glob("*.xlsx"))
    if which == "twelve":
        expected = [source.file_name for entry in CATALOG for source in entry.files]
    else:
        expected = [*official, *NINE_BILATERAL]
    others = sorted(
        p.name
        for p in scale_dir.glob("*")
        if p.suffix.lower() in (".xlsx", ".xls", ".csv") and p.name not in expected
    )
    if others:
        raise SystemExit(
            f"{scale_dir} holds other workbooks ({', '.join(others)}), which the run would "
            "load too: give --scale-dir a folder of its own"
        )
    if which == "nine":
        if all((scale_dir / name).is_file() for name in expected):
            made = "written earlier, reused"
        else:
            started = time.perf_counter()
            write_nine_workbooks(shared / "un-ims", scale_dir)
            made = f"written in {time.perf_counter() - started:.1f} s"
        size = sum((scale_dir / name).stat().st_size for name in expected)
        print(
            f"scale set: the nine-workbook set (six official workbooks, the 2017/2019/2024 "
            f"bilateral layouts filled with the real export values) in {scale_dir}: "
            f"{size / 1e6:.1f} MB; {made}"
        )
        return scale_dir
    manifest = cached_manifest(scale_dir)
    if manifest is None:
        print(f"writing the twelve catalog workbooks (synthetic, seed {SEED}) to {scale_dir}")
        for name in [*expected, MANIFEST, README]:
            (scale_dir / name).unlink(missing_ok=True)
        manifest = write_scale_workbooks(scale_dir)
        made = f"written in {manifest['seconds']:.1f} s"
    else:
        made = f"written earlier in {manifest['seconds']:.1f} s, reused"
    files = manifest["files"]
    rows = sum(f["tidy_rows"] for f in files)
    size = sum(f["bytes"] for f in files)
    print(
        f"scale set: the twelve catalog workbooks at full size, SYNTHETIC numbers "
        f"(seed {manifest['seed']}), in {scale_dir}: {size / 1e6:.1f} MB, {rows:,} tidy "
        f"rows; {made}"
    )
    for f in files:
        print(
            f"  {f['file']:62} {f['revision']} {f['dataset']:18} {f['layout']:18} "
            f"{f['destinations']:3} dest. rows {f['tidy_rows']:>10,} tidy rows "
            f"{f['bytes'] / 1e6:5.1f} MB"
        )
    return scale_dir


def _tree_bytes(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (symbolic links not followed)."""
    if path.is_symlink():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(
        (Path(root) / name).lstat().st_size for root, _, names in os.walk(path) for name in names
    )


def _published(store: Path) -> dict:
    """What a load published in ``store`` (the folder of ``migstock.duckdb``): the size of
    the current version by entry, the versions folder, rows per table and the raw files
    the store says it loaded (file name -> revision, dataset)."""
    import duckdb

    current = (store / "migstock.duckdb.current").resolve()
    versions = store / "migstock.duckdb.versions"
    facts: dict = {"version": current.name, "by_entry": {}, "rows": {}, "raw_files": {}}
    if not current.is_dir():
        return facts
    for entry in sorted(current.iterdir(), key=lambda p: (p.is_dir(), p.name)):
        facts["by_entry"][entry.name + ("/" if entry.is_dir() else "")] = _tree_bytes(entry)
    facts["version_bytes"] = sum(facts["by_entry"].values())
    facts["versions_bytes"] = _tree_bytes(versions)
    facts["versions"] = len([p for p in versions.iterdir() if p.is_dir()])
    with duckdb.connect(str(current / "migstock.duckdb"), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
        for (table,) in tables:
            if table not in _BOOKKEEPING:
                facts["rows"][table] = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        facts["raw_files"] = {
            name: (int(revision), dataset)
            for name, revision, dataset in con.execute(
                "SELECT file_name, revision, dataset FROM raw_files"
            ).fetchall()
        }
    return facts


def _recognised(raw_dir: Path, loaded: dict[str, tuple[int, str]]) -> tuple[int, list[str]]:
    """How many workbooks of ``raw_dir`` the store holds as the revision and dataset the
    catalog gives their official file name, and what went otherwise."""
    from migstock.catalog import CATALOG

    expected = {
        source.file_name: (source.revision, source.dataset)
        for entry in CATALOG
        for source in entry.files
    }
    problems, right = [], 0
    for path in sorted(raw_dir.iterdir()):
        if path.suffix.lower() not in (".xlsx", ".xls"):
            continue
        want = expected.get(path.name)
        got = loaded.get(path.name)
        if got is None:
            problems.append(f"{path.name}: not loaded")
        elif want is not None and got != want:
            problems.append(
                f"{path.name}: loaded as {got[0]} {got[1]}, expected {want[0]} {want[1]}"
            )
        else:
            right += 1
    return right, problems


def _status_table(output: str) -> list[str]:
    """The first load's own summary: its table of revisions and files, and its warnings
    (each without its example)."""
    lines = output.splitlines()
    table = []
    for line in lines:
        table.append(line)
        if line.startswith("└"):
            break
    warnings = [line.split("; e.g. ")[0] for line in lines if line.startswith("warning ")]
    return [*table, f"{len(warnings)} warning line(s):"] + [
        f"  {w[:240]}{'…' if len(w) > 240 else ''}" for w in warnings
    ]


def _mb(value: float | None) -> str:
    """Bytes in MB (in kB below 1 MB)."""
    if value is None:
        return "?"
    return f"{value / 1e3:,.0f} kB" if value < 1e6 else f"{value / 1e6:,.1f} MB"


def scale_section(
    which: str, scale_dir: Path, baseline: Path | None, repeat: int, shared: Path
) -> None:
    """The full-size benchmark: a first load into a fresh folder and an unchanged re-run,
    for this checkout and (``baseline``) another, alternating, ``repeat`` rounds."""
    raw_dir = scale_workbooks(which, scale_dir, shared)
    commands = _commands(baseline)
    mine = _commit(Path(__file__).resolve().parents[1])
    print(
        f"loads: migstock run --raw-dir {raw_dir} --db <fresh folder>/curated/migstock.duckdb, "
        f"then again unchanged; {repeat} round(s), checkouts alternating; this checkout "
        f"{mine}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    results: dict[str, list[dict]] = {label: [] for label in commands}
    for attempt in range(repeat):
        for label, command in commands.items():
            with tempfile.TemporaryDirectory(prefix="migstock-scale-") as tmp:
                work = Path(tmp)
                first = _migstock_run(command, raw_dir, work, "curated")
                facts = _published(work / "curated")
                flows = _migstock_flows(command, raw_dir, work, "curated")
                again = _migstock_run(command, raw_dir, work, "curated")
                facts_after = _published(work / "curated")
            run = {
                "first": first,
                "again": again,
                "flows": flows,
                "facts": facts,
                "after": facts_after,
            }
            results[label].append(run)
            print(
                f"  round {attempt + 1}, {label}: first load {first['wall']:.1f} s, "
                f"peak RSS {first['peak_mb'] or 0:,.0f} MB, exit {first['exit']}; unchanged "
                f"re-run {again['wall']:.1f} s, peak RSS {again['peak_mb'] or 0:,.0f} MB, "
                f"exit {again['exit']}"
            )
            print("    " + _flows_line(flows))
            if attempt == 0:
                print("    " + "\n    ".join(_status_table(first["output"])))
            if first["exit"] != 0:
                print("    first load output (end):")
                print("    " + first["output"][-3000:].replace("\n", "\n    "))
    print("summary (best and worst of the rounds):")
    for label, runs in results.items():
        _print_summary(label, runs, raw_dir)
    if len(results) == 2:
        (_, mine_runs), (base_label, base_runs) = results.items()

        def best(runs: list[dict], key: str) -> float:
            return min(r["first"][key] or 0 for r in runs)

        mine_size = mine_runs[0]["facts"].get("version_bytes") or 0
        base_size = base_runs[0]["facts"].get("version_bytes") or 0
        print(
            f"  this checkout / {base_label}: first load wall "
            f"{best(mine_runs, 'wall') / best(base_runs, 'wall'):.2f}x, CPU "
            f"{best(mine_runs, 'cpu') / max(best(base_runs, 'cpu'), 1e-9):.2f}x, peak RSS "
            f"{best(mine_runs, 'peak_mb') / max(best(base_runs, 'peak_mb'), 1):.2f}x, "
            f"published version size {mine_size / max(base_size, 1):.2f}x"
        )


def _flows_line(flows: dict) -> str:
    """``migstock flows`` after the first load: wall, peak RSS, exit, rows per period, and
    whether the targets of issue #28 were met."""
    periods = re.findall(r"flows (\d+) (\d{4})–(\d{4}): ([\d,]+) rows", flows["output"])
    rows = sum(int(count.replace(",", "")) for *_, count in periods)
    revision = periods[0][0] if periods else "?"
    peak = flows["peak_mb"] or 0
    met = flows["exit"] == 0 and flows["wall"] <= FLOWS_TARGET_S and peak <= FLOWS_TARGET_MB
    text = (
        f"flows (migstock flows --no-pages, revision {revision}): {flows['wall']:.1f} s, "
        f"peak RSS {peak:,.0f} MB, exit {flows['exit']}; {len(periods)} periods, {rows:,} "
        f"rows; target <= {FLOWS_TARGET_S:.0f} s and <= {FLOWS_TARGET_MB:.0f} MB: "
        + ("met" if met else "NOT met")
    )
    if flows["exit"] != 0:
        text += "\n      " + flows["output"][-1500:].replace("\n", "\n      ")
    return text


def _print_summary(label: str, runs: list[dict], raw_dir: Path) -> None:
    walls = sorted(r["first"]["wall"] for r in runs)
    cpus = sorted(r["first"]["cpu"] or 0 for r in runs)
    peaks = sorted(r["first"]["peak_mb"] or 0 for r in runs)
    agains = sorted(r["again"]["wall"] for r in runs)
    again_peaks = sorted(r["again"]["peak_mb"] or 0 for r in runs)
    exits = sorted({r["first"]["exit"] for r in runs} | {r["again"]["exit"] for r in runs})
    facts, after = runs[-1]["facts"], runs[-1]["after"]
    print(
        f"  {label}: first load {walls[0]:.1f}-{walls[-1]:.1f} s (CPU {cpus[0]:.1f}-"
        f"{cpus[-1]:.1f} s), peak RSS "
        f"{peaks[0]:,.0f}-{peaks[-1]:,.0f} MB; unchanged re-run "
        f"{agains[0]:.1f}-{agains[-1]:.1f} s, peak RSS "
        f"{again_peaks[0]:,.0f}-{again_peaks[-1]:,.0f} MB; exit codes {exits}"
    )
    flow_walls = sorted(r["flows"]["wall"] for r in runs)
    flow_peaks = sorted(r["flows"]["peak_mb"] or 0 for r in runs)
    print(
        f"    flows: {flow_walls[0]:.1f}-{flow_walls[-1]:.1f} s, peak RSS "
        f"{flow_peaks[0]:,.0f}-{flow_peaks[-1]:,.0f} MB (exit codes "
        f"{sorted({r['flows']['exit'] for r in runs})})"
    )
    rows = facts["rows"]
    print(
        "    rows loaded: "
        + ", ".join(f"{table} {count:,}" for table, count in rows.items())
        + f" (tidy: {sum(rows.get(t, 0) for t in ('bilateral_stock', 'destination_totals')):,})"
    )
    right, problems = _recognised(raw_dir, facts["raw_files"])
    print(
        f"    recognised: {right} of {right + len(problems)} workbooks loaded as the revision "
        f"and dataset of their catalog file name"
        + "".join(f"\n      {problem}" for problem in problems)
    )
    print(
        f"    published version {facts['version']}: "
        + ", ".join(f"{name} {_mb(size)}" for name, size in facts["by_entry"].items())
        + f"; total {_mb(facts.get('version_bytes'))}"
    )
    print(
        f"    versions folder: {_mb(facts.get('versions_bytes'))} after the first load, "
        f"{_mb(after.get('versions_bytes'))} ({after.get('versions', 0)} version(s)) after "
        "migstock flows (a version of its own) and the unchanged re-run (none)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--repeat", type=int, help="rounds of each measurement (default 3; --section scale: 1)"
    )
    parser.add_argument("--skip-openpyxl", action="store_true")
    parser.add_argument(
        "--section",
        choices=("parse", "e2e", "stages", "site", "scale", "all"),
        default="all",
        help="'all' runs parse, e2e and site; 'scale' (the full-size benchmark) only on its own",
    )
    parser.add_argument("--db", type=Path, help="store for --section site (default: load one)")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout with its own .venv (e.g. a worktree of the previous main) "
        "to run end to end beside this one",
    )
    parser.add_argument(
        "--set",
        choices=("twelve", "nine"),
        default="twelve",
        help="--section scale: the twelve catalog workbooks at full size (synthetic), or the "
        "nine-workbook set (six official workbooks and three bilateral layouts with real "
        "export values)",
    )
    parser.add_argument(
        "--scale-dir",
        type=Path,
        help="--section scale: where the set's workbooks are written, and reused when "
        "already there (default: data/bench/<set> in this checkout)",
    )
    shared = Path(
        os.environ.get(
            "MIGSTOCK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    parser.add_argument("--raw-dir", type=Path, default=shared / "un-ims" / "official")
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.section == "scale" else 3)
    if args.section in ("parse", "all"):
        parse_section(repeat, args.skip_openpyxl)
    if args.section in ("e2e", "all"):
        e2e_section(args.raw_dir, args.baseline, repeat)
    if args.section == "stages":
        stages_section(args.raw_dir)
    if args.section in ("site", "all"):
        site_section(args.raw_dir, args.db, repeat)
    if args.section == "scale":
        scale_dir = (
            args.scale_dir or Path(__file__).resolve().parents[1] / "data" / "bench" / args.set
        )
        scale_section(args.set, scale_dir, args.baseline, repeat, shared)


if __name__ == "__main__":
    main()
