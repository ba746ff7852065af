"""Benchmark of the flows estimation (issue #28): wall time and peak RSS of one revision.

    python scripts/bench_flows.py                      # synthetic: 233 places, 8 years
    python scripts/bench_flows.py --places 233 --years 8
    python scripts/bench_flows.py --db STORE.duckdb --revision 2019   # a real store

The synthetic revision has the size of the newest real one (233 places, reference years
1990, 1995, …, 2020, 2024; three sexes) with the structure of UN stock tables (a few
large places, sparse corridors, stocks growing and shrinking, a place with no emigrants
and one whose migrants outnumber its population). It is written to a temporary DuckDB
file with the store's schema, then :func:`migstock.flows.estimate_flows` runs on it in
this process. The script prints the wall time of the estimation, the time of building
the store, and the peak RSS of the process (``ru_maxrss``, which includes the store
building); run it under ``/usr/bin/time -f "%e s %M KB"`` for the whole process.
The targets of issue #28 are 20 s and 1 GB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from migstock.flows import estimate_flows

SCHEMA = Path(__file__).parents[1] / "src" / "migstock" / "store" / "sql" / "schema.sql"
SEX_SHARE = {"total": 1.0, "female": 0.47, "male": 0.53}


def synthetic_store(path: Path, places: int, years: int, seed: int = 28) -> int:
    """Write a synthetic revision 9999 to a new store at ``path``; returns its row count."""
    rng = np.random.default_rng(seed)
    ref = [1990 + 5 * i for i in range(years - 1)] + [1990 + 5 * (years - 2) + 4]
    codes = np.sort(rng.choice(np.arange(4, 895), size=places, replace=False))
    pop = np.exp(rng.normal(15, 1.8, places))
    # corridors: each destination draws 5-60 origins, weights fixed over time
    n_orig = rng.integers(5, min(60, places - 1), places)
    bil: list[pd.DataFrame] = []
    tot: list[pd.DataFrame] = []
    stock = {}
    for j in range(places):
        k = rng.choice(np.delete(np.arange(places), j), size=n_orig[j], replace=False)
        stock[j] = (k, pop[j] * rng.uniform(0.005, 0.4) * rng.dirichlet(np.ones(len(k)) / 2))
    growth = rng.lognormal(0.02, 0.25, (places, places))
    for t, year in enumerate(ref):
        for sex, share in SEX_SHARE.items():
            rows_o, rows_d, vals = [], [], []
            migrants = np.zeros(places)
            for j in range(places):
                k, base = stock[j]
                v = np.round(base * growth[k, j] ** t * share)
                if j == places - 2:
                    v *= 5  # migrants above the population
                rows_o.append(codes[k])
                rows_d.append(np.full(len(k), codes[j]))
                vals.append(v)
                migrants[j] = v.sum()
            o = np.concatenate(rows_o)
            d = np.concatenate(rows_d)
            v = np.concatenate(vals)
            keep = o != codes[places - 1]  # the last place has no emigrants
            bil.append(
                pd.DataFrame(
                    {"revision": 9999, "year": year, "destination_code": d[keep],
                     "origin_code": o[keep], "origin_kind": "country", "sex": sex,
                     "migrants": v[keep].astype(np.int64)}
                )
            )  # fmt: skip
            population = np.round(pop * (1.01 ** (5 * t)) * share)
            tot.append(
                pd.DataFrame(
                    {"revision": 9999, "year": year, "destination_code": codes, "sex": sex,
                     "migrants": migrants.astype(np.int64),
                     "total_population": population.astype(np.int64)}
                )
            )  # fmt: skip
    b = pd.concat(bil, ignore_index=True)
    t = pd.concat(tot, ignore_index=True)
    con = duckdb.connect(str(path))
    con.execute(SCHEMA.read_text())
    con.execute(
        "INSERT INTO bilateral_stock (revision, year, destination_code, origin_code, "
        "origin_kind, sex, migrants, raw_sha256, source_sheet, source_row) "
        "SELECT *, 'synthetic', 'Table 1', 0 FROM b"
    )
    con.execute(
        "INSERT INTO destination_totals (revision, year, destination_code, sex, migrants, "
        "total_population, raw_sha256, source_sheet, source_row) "
        "SELECT *, 'synthetic', 'Table 1', 0 FROM t"
    )
    con.close()
    return len(b) + len(t)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print one line of results."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, help="a store to read (read-only) instead of synthetic")
    p.add_argument("--revision", type=int, default=9999)
    p.add_argument("--places", type=int, default=233)
    p.add_argument("--years", type=int, default=8)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        built = 0.0
        db = args.db
        if db is None:
            db = Path(tmp) / "synthetic.duckdb"
            t0 = time.perf_counter()
            rows = synthetic_store(db, args.places, args.years)
            built = time.perf_counter() - t0
            print(f"synthetic store: {args.places} places, {args.years} years, {rows} rows, "
                  f"built in {built:.1f} s")  # fmt: skip
        con = duckdb.connect(str(db), read_only=True)
        t0 = time.perf_counter()
        df = estimate_flows(con, args.revision)
        wall = time.perf_counter() - t0
        con.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    periods = df[["sex", "period_start"]].drop_duplicates().shape[0]
    print(
        f"revision {args.revision}: {periods} period-sex tables, {len(df)} rows, "
        f"estimate_flows {wall:.1f} s, peak RSS {peak_mb:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
