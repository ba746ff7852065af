"""The stock tables flows are estimated from, read from the store with SQL.

For a revision, a sex and a period between two consecutive reference years:

* the **places** are the countries and areas (codes below 900) that have a destination
  total with both ``migrants`` and ``total_population`` known (not NULL) in both years;
* ``P_t[k, j]`` (k ≠ j) is ``bilateral_stock.migrants`` for origin k and destination j
  in year t, over rows whose ``origin_kind`` is ``country`` (the "Other North", "Other
  South" and total origins are left out), both codes among the places; a bilateral cell
  that is not available or suppressed (NULL) counts as 0, and so does a pair with no
  row;
* ``P_t[j, j]`` is ``total_population − migrants`` of j in year t, counted as 0 where the
  UN's figures make it negative.

The **reference years** of a revision are the years that have both bilateral stocks
and destination totals for the sex.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

import duckdb
import numpy as np
from numpy.typing import NDArray

SEXES = ("total", "female", "male")

_YEARS_SQL = """
SELECT DISTINCT b.year
FROM bilateral_stock AS b
WHERE b.revision = $revision AND b.sex = $sex AND b.origin_kind = 'country'
  AND EXISTS (
      SELECT 1 FROM destination_totals AS t
      WHERE t.revision = b.revision AND t.sex = b.sex AND t.year = b.year)
ORDER BY b.year
"""

# places with a destination total (migrants and population known) in a year
_TOTALS_SQL = """
SELECT year, destination_code AS code,
       GREATEST(total_population - migrants, 0) AS native_born
FROM destination_totals
WHERE revision = $revision AND sex = $sex AND destination_code < 900
  AND migrants IS NOT NULL AND total_population IS NOT NULL
ORDER BY year, code
"""

# bilateral stocks between countries and areas; NULL (not available, suppressed) as 0
_BILATERAL_SQL = """
SELECT year, origin_code, destination_code, COALESCE(SUM(migrants), 0) AS migrants
FROM bilateral_stock
WHERE revision = $revision AND sex = $sex AND origin_kind = 'country'
  AND origin_code < 900 AND destination_code < 900
  AND origin_code <> destination_code
GROUP BY ALL
"""


@dataclass(frozen=True)
class StockTables:
    """The two stock tables of one period and sex, over the same places.

    ``start`` and ``end`` are ``[birthplace, residence]`` matrices in persons, rows and
    columns in the order of ``codes`` (M49, ascending). ``left_out`` counts, per year, the
    migrants of bilateral cells between countries whose origin or destination is not
    among the places (they have no row or column in the tables).
    """

    revision: int
    sex: str
    period_start: int
    period_end: int
    codes: NDArray[np.int64]
    start: NDArray[np.float64]
    end: NDArray[np.float64]
    left_out: tuple[float, float]


@dataclass(frozen=True)
class _Year:
    native: dict[int, float]
    origin: NDArray[np.int64]
    destination: NDArray[np.int64]
    migrants: NDArray[np.float64]


def reference_years(con: duckdb.DuckDBPyConnection, revision: int, sex: str) -> list[int]:
    """The years of a revision with bilateral stocks and destination totals for a sex."""
    rows = con.execute(_YEARS_SQL, {"revision": revision, "sex": sex}).fetchall()
    return [int(r[0]) for r in rows]


def _years(con: duckdb.DuckDBPyConnection, revision: int, sex: str) -> dict[int, _Year]:
    params = {"revision": revision, "sex": sex}
    tot = con.execute(_TOTALS_SQL, params).df()
    bil = con.execute(_BILATERAL_SQL, params).df()
    out: dict[int, _Year] = {}
    for year in sorted(set(tot["year"].astype(int)) | set(bil["year"].astype(int))):
        t = tot[tot["year"] == year]
        b = bil[bil["year"] == year]
        out[year] = _Year(
            native=dict(zip(t["code"].astype(int), t["native_born"].astype(float), strict=True)),
            origin=b["origin_code"].to_numpy(dtype=np.int64),
            destination=b["destination_code"].to_numpy(dtype=np.int64),
            migrants=b["migrants"].to_numpy(dtype=np.float64),
        )
    return out


def _table(year: _Year, codes: NDArray[np.int64]) -> tuple[NDArray[np.float64], float]:
    n = len(codes)
    p = np.zeros((n, n))
    k = np.searchsorted(codes, year.origin)
    j = np.searchsorted(codes, year.destination)
    kc = np.minimum(k, n - 1)
    jc = np.minimum(j, n - 1)
    inside = (codes[kc] == year.origin) & (codes[jc] == year.destination)
    p[kc[inside], jc[inside]] = year.migrants[inside]
    p[np.arange(n), np.arange(n)] = [year.native[int(c)] for c in codes]
    return p, float(year.migrants[~inside].sum())


def stock_tables(con: duckdb.DuckDBPyConnection, revision: int) -> Iterator[StockTables]:
    """Every period's pair of stock tables for a revision, sex by sex (total, female, male)."""
    for sex in SEXES:
        years = reference_years(con, revision, sex)
        if len(years) < 2:
            continue
        data = _years(con, revision, sex)
        for t0, t1 in pairwise(years):
            y0, y1 = data[t0], data[t1]
            codes = np.array(sorted(set(y0.native) & set(y1.native)), dtype=np.int64)
            if len(codes) < 2:
                continue
            p0, lost0 = _table(y0, codes)
            p1, lost1 = _table(y1, codes)
            yield StockTables(revision, sex, t0, t1, codes, p0, p1, (lost0, lost1))
