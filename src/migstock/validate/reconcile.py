"""Build the reconciliation frame: one row per arithmetic check of a revision.

Great Expectations validates single frames, so sums that span rows (male +
female = total, origins = Total column, bilateral = destination totals, all 22
Arab countries present, changes over years and revisions) are laid out here as
rows of ``check, year, destination_code, origin_code, sex, expected, actual``;
the suite ``expectations/reconciliation.json`` then says which differences are
tolerated and which block the load.

Each row also says which workbook it judges (``dataset``: a failed check blocks
that file, not the other workbook of the revision) and whether it concerns a UN
aggregate (``aggregate``: world, regions and groups, codes >= 900, whose
published sums need not add up and only warn).

The age workbook's checks (:func:`age_checks`) name their age group (``age_group``):
the bands add up to the all-ages total, males + females = both sexes in every band,
every age group has a value, the all-ages total matches the destination-totals
workbook, and the same sums on the population table (which only warn).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from migstock.regions import ARAB_COUNTRIES, FIRST_AGGREGATE_CODE, WORLD
from migstock.staging import StagedRows

#: a table's rows: in pandas, or staged in DuckDB (summed there, never copied to pandas)
Rows = pd.DataFrame | StagedRows

COLUMNS = [
    "dataset",
    "check",
    "year",
    "destination_code",
    "origin_code",
    "sex",
    "expected",
    "actual",
    "abs_difference",
    "relative_difference",
    "actual_to_expected",
    "aggregate",
]
#: the age checks' rows also name their age group (the other checks' rows: NA)
AGE_GROUP = "age_group"
EXACT_SUMS = [
    "male_plus_female",
    "origins_sum_to_total",
    "bilateral_vs_totals",
    "age_bands_sum_to_total",
    "age_male_plus_female",
    "age_total_vs_totals",
    "age_bands_present",
    "population_bands_sum_to_total",
    "population_male_plus_female",
]
#: the age bands of the age tables (their ``age_group`` besides ``total``)
AGE_BAND_COUNT = 16
PARTS = ["country", "other_north", "other_south", "other"]  # what sums to the Total column


def _finish(check: str, frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(check=check)
    for column in ("origin_code", "sex", "age_group", "year", "destination_code"):
        if column not in frame:
            frame[column] = pd.NA
    expected = frame["expected"].astype("float64")
    actual = frame["actual"].astype("float64")
    frame["expected"], frame["actual"] = expected, actual
    frame["abs_difference"] = (actual - expected).abs()
    nonzero = expected.abs().replace(0, np.nan)
    frame["relative_difference"] = frame["abs_difference"] / nonzero
    frame["actual_to_expected"] = actual / nonzero
    destination = pd.to_numeric(frame["destination_code"], errors="coerce")
    origin = pd.to_numeric(frame["origin_code"], errors="coerce")
    # an origin aggregate other than the World total (code 900, a country's own total)
    frame["aggregate"] = (destination >= FIRST_AGGREGATE_CODE) | (
        (origin >= FIRST_AGGREGATE_CODE) & (origin != WORLD)
    )
    frame["dataset"] = pd.NA
    return frame[[*COLUMNS, AGE_GROUP]]


def _query(sql: str, **sources: Rows) -> pd.DataFrame:
    """``sql`` over ``sources`` (by name): staged rows where they are, in the staging store
    (frames beside them registered there too); frames alone in an in-memory connection."""
    staged = next((s for s in sources.values() if isinstance(s, StagedRows)), None)
    if staged is None:
        with duckdb.connect() as con:
            for name, frame in sources.items():
                con.register(name, frame)
            return con.sql(sql).df()
    con = staged.staging.con
    for name, source in sources.items():
        if isinstance(source, StagedRows):
            source.create_view(name)
        else:
            con.register(name, source)
    try:
        return con.sql(sql).df()
    finally:
        for name, source in sources.items():
            if isinstance(source, StagedRows):
                con.execute(f"DROP VIEW {name}")
            else:
                con.unregister(name)


def male_plus_female(rows: Rows, keys: list[str]) -> pd.DataFrame:
    """Per cell: expected = the total, actual = male + female (both must be present)."""
    group = ", ".join(keys)
    out = _query(
        f"""
        SELECT {group},
               max(migrants) FILTER (WHERE sex = 'total') AS expected,
               CASE WHEN count(migrants) FILTER (WHERE sex IN ('male', 'female')) = 2
                    THEN sum(migrants) FILTER (WHERE sex IN ('male', 'female')) END AS actual
        FROM rows
        GROUP BY {group}
        HAVING expected IS NOT NULL AND actual IS NOT NULL
        """,
        rows=rows,
    )
    return _finish("male_plus_female", out)


def by_destination(bilateral: Rows) -> pd.DataFrame:
    """Per destination, year and sex: the Total column, the sum of the origins, and
    how many rows have a value (one pass over the bilateral rows)."""
    parts = ", ".join(f"'{kind}'" for kind in PARTS)
    return _query(
        f"""
        SELECT year, destination_code, sex::VARCHAR AS sex,
               max(migrants) FILTER (WHERE origin_kind = 'total') AS total,
               sum(migrants) FILTER (WHERE origin_kind IN ({parts})) AS parts,
               count(migrants) AS with_values
        FROM bilateral
        GROUP BY ALL
        """,
        bilateral=bilateral,
    )


def origins_sum_to_total(destinations: pd.DataFrame) -> pd.DataFrame:
    """Per destination, year and sex: expected = the Total column, actual = sum of origins."""
    out = destinations.dropna(subset=["total"]).rename(
        columns={"total": "expected", "parts": "actual"}
    )
    return _finish("origins_sum_to_total", out)


def bilateral_vs_totals(destinations: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """Per destination, year and sex: the bilateral Total column vs the totals workbook."""
    keys = ["year", "destination_code", "sex"]
    published = totals.astype({"sex": "string"}).groupby(keys)["migrants"].first()
    total = destinations.astype({"sex": "string"}).set_index(keys)["total"]
    out = pd.DataFrame({"expected": published, "actual": total}).dropna()
    return _finish("bilateral_vs_totals", out.reset_index())


def arab_countries_present(rows: pd.DataFrame) -> pd.DataFrame:
    """Per year and sex: how many of the 22 Arab countries have a value as destination."""
    arab = rows[rows["destination_code"].isin(ARAB_COUNTRIES) & rows["migrants"].notna()]
    present = arab.groupby(["year", "sex"], observed=True)["destination_code"].nunique()
    grid = rows[["year", "sex"]].drop_duplicates().set_index(["year", "sex"]).index
    out = pd.DataFrame({"actual": present.reindex(grid, fill_value=0)})
    out["expected"] = float(len(ARAB_COUNTRIES))
    return _finish("arab_countries_present", out.reset_index())


def year_over_year(stock: pd.DataFrame) -> pd.DataFrame:
    """Per country and sex: each reference year against the previous one."""
    countries = stock[stock["destination_code"] < FIRST_AGGREGATE_CODE].sort_values("year")
    previous = countries.groupby(["destination_code", "sex"], observed=True)["migrants"].shift()
    out = countries.assign(expected=previous, actual=countries["migrants"])
    return _finish("year_over_year", out.dropna(subset=["expected"]))


def revision_over_revision(stock: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Per country, year and sex: this revision against the newest other loaded revision."""
    if other.empty:
        return pd.DataFrame(columns=COLUMNS)
    keys = ["year", "destination_code", "sex"]
    newest = other.sort_values("revision").groupby(keys, observed=True)["migrants"].last()
    mine = (
        stock[stock["destination_code"] < FIRST_AGGREGATE_CODE]
        .groupby(keys, observed=True)["migrants"]
        .first()
    )
    out = pd.DataFrame({"expected": newest, "actual": mine}).dropna()
    return _finish("revision_over_revision", out.reset_index())


def refugee_share(refugees: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """Per destination and year: expected = refugees / migrants x 100 (both sexes), actual =
    the published share; where either is not available there is nothing to check."""
    keys = ["year", "destination_code"]
    migrants = totals[totals["sex"].astype("string") == "total"].groupby(keys)["migrants"].first()
    published = refugees.set_index(keys)
    out = pd.DataFrame(
        {
            "expected": 100.0
            * published["refugees"].astype("float64")
            / migrants.astype("float64").replace(0, np.nan).reindex(published.index),
            "actual": published["refugee_share"].astype("float64"),
        }
    ).dropna()
    return _finish("refugee_share", out.reset_index())


def destination_stock(
    destinations: pd.DataFrame | None, totals: pd.DataFrame | None
) -> pd.DataFrame:
    """Migrants per destination, year and sex: the totals workbook, else the Total column."""
    if totals is not None:
        return totals[["year", "destination_code", "sex", "migrants"]]
    if destinations is None:
        return pd.DataFrame(columns=["year", "destination_code", "sex", "migrants"])
    return destinations.rename(columns={"total": "migrants"})[
        ["year", "destination_code", "sex", "migrants"]
    ]


def _age_sums(rows: Rows, value: str, prefix: str) -> list[pd.DataFrame]:
    """The bands against the all-ages total (only where all 16 bands have a value), and
    males + females against both sexes in every age group, of one age table."""
    bands = _query(
        f"""
        SELECT year, destination_code, sex::VARCHAR AS sex,
               max({value}) FILTER (WHERE age_group = 'total') AS expected,
               sum({value}) FILTER (WHERE age_group <> 'total') AS actual
        FROM rows
        GROUP BY ALL
        HAVING expected IS NOT NULL
           AND count({value}) FILTER (WHERE age_group <> 'total') = {AGE_BAND_COUNT}
        """,
        rows=rows,
    )
    sexes = _query(
        f"""
        SELECT year, destination_code, age_group::VARCHAR AS age_group,
               max({value}) FILTER (WHERE sex = 'total') AS expected,
               CASE WHEN count({value}) FILTER (WHERE sex IN ('male', 'female')) = 2
                    THEN sum({value}) FILTER (WHERE sex IN ('male', 'female')) END AS actual
        FROM rows
        GROUP BY ALL
        HAVING expected IS NOT NULL AND actual IS NOT NULL
        """,
        rows=rows,
    )
    return [
        _finish(f"{prefix}_bands_sum_to_total", bands),
        _finish(f"{prefix}_male_plus_female", sexes),
    ]


def age_checks(
    age: Rows, population: pd.DataFrame | None, totals: pd.DataFrame | None
) -> list[pd.DataFrame]:
    """The checks of an age workbook: its migrant table's sums and completeness, its
    all-ages total against ``totals`` (the destination-totals rows of the revision, if
    any), and its population table's sums."""
    parts = _age_sums(age, "migrants", "age")
    present = _query(
        """
        SELECT year, destination_code, sex::VARCHAR AS sex,
               count(*) AS expected, count(migrants) AS actual
        FROM rows
        GROUP BY ALL
        HAVING count(migrants) > 0
        """,
        rows=age,
    )
    parts.append(_finish("age_bands_present", present))
    if totals is not None and len(totals):
        published = totals[["year", "destination_code", "sex", "migrants"]].astype(
            {"sex": "string"}
        )
        compared = _query(
            """
            SELECT a.year, a.destination_code, a.sex::VARCHAR AS sex, 'total' AS age_group,
                   t.migrants AS expected, a.migrants AS actual
            FROM rows a
            JOIN published t ON t.year = a.year AND t.destination_code = a.destination_code
                 AND t.sex = a.sex::VARCHAR
            WHERE a.age_group = 'total' AND a.migrants IS NOT NULL AND t.migrants IS NOT NULL
            """,
            rows=age,
            published=published,
        )
        parts.append(_finish("age_total_vs_totals", compared))
    if population is not None and len(population):
        parts += _age_sums(population, "population", "population")
    return parts


def reconciliation_frame(
    bilateral: Rows | None,
    totals: pd.DataFrame | None,
    *,
    loaded_totals: pd.DataFrame | None = None,
    other_revisions: pd.DataFrame | None = None,
    refugees: pd.DataFrame | None = None,
    age: Rows | None = None,
    age_population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every check row of one revision.

    ``refugees``: the revision's refugee table, checked against ``totals``.
    ``age``, ``age_population``: the age workbook's tables (:func:`age_checks`).

    ``loaded_totals``: the revision's destination totals already in the store,
    used when this run brings only its bilateral workbook. ``other_revisions``:
    destination stock of the other loaded revisions (revision, year,
    destination_code, sex, migrants).
    """
    parts: list[tuple[str, pd.DataFrame]] = []
    destinations = None
    if bilateral is not None:
        destinations = by_destination(bilateral)
        parts += [
            (
                "bilateral",
                male_plus_female(
                    bilateral, ["year", "destination_code", "origin_code", "origin_kind"]
                ),
            ),
            ("bilateral", origins_sum_to_total(destinations)),
            # present = at least one origin with a value (a table may have no Total column)
            (
                "bilateral",
                arab_countries_present(
                    destinations.assign(migrants=destinations["with_values"].where(lambda n: n > 0))
                ),
            ),
        ]
        reference = totals if totals is not None else loaded_totals
        if reference is not None and len(reference):
            parts.append(("bilateral", bilateral_vs_totals(destinations, reference)))
    if totals is not None:
        parts += [
            ("destination_totals", male_plus_female(totals, ["year", "destination_code"])),
            ("destination_totals", arab_countries_present(totals)),
        ]
        if refugees is not None:
            parts.append(("destination_totals", refugee_share(refugees, totals)))
    if age is not None:
        reference = totals if totals is not None else loaded_totals
        parts += [("age", part) for part in age_checks(age, age_population, reference)]
    if bilateral is not None or totals is not None:
        stock = destination_stock(destinations, totals)
        stock_dataset = "destination_totals" if totals is not None else "bilateral"
        parts.append((stock_dataset, year_over_year(stock)))
        if other_revisions is not None:
            parts.append((stock_dataset, revision_over_revision(stock, other_revisions)))
    frames = [part.assign(dataset=dataset) for dataset, part in parts if len(part)]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.concat(frames, ignore_index=True)
    checked = frame["check"].value_counts().to_dict()
    # a sum that reconciles exactly passes under any tolerance: count it, do not list it
    exact = frame["check"].isin(EXACT_SUMS) & (frame["abs_difference"] == 0)
    # DuckDB's GROUP BY returns groups in no fixed order (several threads): sorted, the same
    # rows give the same results, samples and Data Docs in every run
    frame = frame[~exact].sort_values(
        ["dataset", "check", "year", "destination_code", "origin_code", "sex", AGE_GROUP],
        kind="stable",
        na_position="first",
    )
    frame = frame.reset_index(drop=True)
    frame.attrs["checked"] = checked
    frame["check"] = frame["check"].astype("category")
    frame["dataset"] = frame["dataset"].astype("string")
    frame["aggregate"] = frame["aggregate"].astype(bool)
    frame["sex"] = frame["sex"].astype("string")
    frame[AGE_GROUP] = frame[AGE_GROUP].astype("string")
    return frame
