"""Parse-speed benchmark: migstock vs a bare calamine read vs openpyxl, one process.

Generates two workbooks of the real sizes (synthetic numbers):
- 2024 bilateral layout: ~35,000 rows x 31 columns in one sheet;
- 2019 bilateral layout: 3 sheets x ~2,000 rows x ~240 columns.
For each it reports the best of N runs of
- baseline: ``pandas.read_excel(engine="calamine")`` of the same sheets,
- migstock: read + parse + harmonize to tidy rows,
- validation: the revision's suites and its reconciliation (GX context set up once),
- openpyxl: ``pandas.read_excel(engine="openpyxl")`` (what most public scripts do),
as seconds and as ratios to the baseline, plus migstock's peak traced memory.

    python scripts/benchmark.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from migstock.catalog import revision
from migstock.harmonize import harmonize_bilateral
from migstock.parse import parse_workbook
from migstock.pipeline import PreparedFile, prepare_file, validate_revision
from migstock.provenance import local_file
from migstock.read import read_workbook
from migstock.samples import write_long_rows, write_year_rows
from migstock.validate import Validator

YEARS_2024 = [1990, 1995, 2000, 2005, 2010, 2015, 2020, 2024]


def _m49_codes() -> list[int]:
    from migstock.harmonize import m49_reference

    return m49_reference()["code"].tolist()


def make_2024(path: Path, rng: np.random.Generator) -> list[str]:
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
    write_long_rows(path, 2024, YEARS_2024, rows)
    return ["Table 1"]


def make_2019(path: Path, rng: np.random.Generator) -> list[str]:
    from migstock.harmonize import m49_reference

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-openpyxl", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(2024)
    start = time.perf_counter()
    validator = Validator()
    print(
        f"Great Expectations import and context set-up (once per run): "
        f"{time.perf_counter() - start:.2f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, make in (("2024 long rows", make_2024), ("2019 year rows", make_2019)):
            path = Path(tmp) / f"{label.replace(' ', '_')}.xlsx"
            sheets = make(path, rng)
            size_mb = path.stat().st_size / 1e6
            baseline = best_of(
                args.repeat, pd.read_excel, path, sheet_name=sheets, engine="calamine"
            )
            ours = best_of(args.repeat, migstock_parse, path)
            rows = len(migstock_parse(path))
            prepared = prepare_file(local_file(path, "raw-dir"))
            validation = best_of(args.repeat, migstock_validate, validator, prepared)
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
            if not args.skip_openpyxl:
                slow = best_of(1, pd.read_excel, path, sheet_name=sheets, engine="openpyxl")
                print(
                    f"  openpyxl read            {slow:7.2f} s   {slow / baseline:.2f}x"
                    f"   (migstock is {slow / ours:.1f}x faster)"
                )


if __name__ == "__main__":
    main()
