"""Everything the site shows, read from the store once for all 27 places.

One query per store view (not one per place): the frames hold every Arab country,
the four ESCWA sub-regions and the Arab region; the site's render splits them by place
once per build. Connection, revision choice and sources come from the brief's queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from migstock.brief import queries as brief_queries
from migstock.brief.queries import ARAB_REGION, SUBREGIONS
from migstock.catalog import CATALOG
from migstock.regions import ARAB_SUBREGIONS
from migstock.relations import has_relation

PlaceKind = Literal["country", "subregion", "region"]
#: columns of ``SiteData.age`` (one row per place, sex and age group, 'total' included)
AGE_COLUMNS = [
    "place", "sex", "age_group", "age_from", "age_to", "migrants", "population",
    "pct_of_migrants", "migrant_share_of_population_pct", "countries_reporting",
]  # fmt: skip
#: columns of ``SiteData.age_structure`` (one row per place and sex)
AGE_STRUCTURE_COLUMNS = [
    "place", "level", "code", "name", "sex", "migrants", "share_under_15_pct",
    "share_under_20_pct", "share_20_64_pct", "share_65_plus_pct", "median_age",
    "countries_reporting",
]  # fmt: skip
TOP = 10
_REGION_SLUGS = {
    ARAB_REGION: "arab-region",
    "GCC": "gcc",
    "Mashreq": "mashreq",
    "Maghreb": "maghreb",
    "Arab LDCs": "arab-ldcs",
}


@dataclass(frozen=True)
class Place:
    """A country (M49 ``code``), an ESCWA sub-region or the Arab region."""

    slug: str  # file name of its page: iso3 in lower case, or the region's slug
    kind: PlaceKind
    name: str  # English: the UN's name (countries) or the store's region name
    code: int | None = None
    subregion: str | None = None  # a country's ESCWA sub-region
    members: tuple[int, ...] = ()  # the countries it sums (itself for a country)

    @property
    def key(self) -> str:
        """How the store's views name it: the M49 code, or the region's name."""
        return str(self.code) if self.code is not None else self.name


@dataclass
class SiteData:
    """Language-free numbers of every page; frames carry a ``place`` column (:attr:`Place.key`)."""

    revision: int  # the newest revision with totals: the profiles' key figures
    year: int
    places: list[Place]
    stock: pd.DataFrame  # place, revision, year, sex, migrants, previous_*, change, change_pct
    population: pd.DataFrame  # place, revision, year, sex, migrants, total_population, share_pct
    female: pd.DataFrame  # place, revision, year, female_migrants, all_migrants, female_share_pct
    bilateral_revision: int | None
    bilateral_year: int | None
    immigrants: pd.DataFrame  # destination_code, origin_code, origin, kind, is_arab, sex, migrants
    emigrants: pd.DataFrame  # origin_code, destination_code, destination, is_arab, sex, migrants
    refugees: pd.DataFrame  # place, revision, year, refugees, migrants, share, in_stock, both
    basis: pd.DataFrame  # revision, code, data_type, basis, refugees_added
    notes: pd.DataFrame  # revision, code, note_number, note_text
    sources: pd.DataFrame  # revision, dataset, file_name, tables, sha256, citation
    synthetic: bool
    #: flows estimated from the stocks (``migstock flows``), newest revision with them;
    #: empty frames and None when the store has none
    flows: pd.DataFrame = field(default_factory=pd.DataFrame)  # place, period, sex, method, ...
    flow_origins: pd.DataFrame = field(default_factory=pd.DataFrame)  # place, code, name, flow
    flow_destinations: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the ``flow_estimates`` row of that revision (how they were estimated), or None
    flow_estimate: dict[str, Any] | None = None
    missing: dict[str, brief_queries.Gap] = field(default_factory=dict)  # section -> workbook
    #: what the render computes once per build (per place or for all places), by key
    _split: dict[object, Any] = field(default_factory=dict, repr=False)
    #: migrants by age (``read_age``): the newest revision with age data and its newest
    #: year (None without age data), every place's bands and its age structure
    age_revision: int | None = None
    age_year: int | None = None
    age: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AGE_COLUMNS))
    age_structure: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=AGE_STRUCTURE_COLUMNS)
    )

    def place(self, slug: str) -> Place:
        return next(place for place in self.places if place.slug == slug)


def arab_places(con: duckdb.DuckDBPyConnection) -> list[Place]:
    """The region, its four sub-regions and the 22 countries (by English name)."""
    rows = con.execute(
        "SELECT code, name, lower(iso3), arab_subregion FROM locations WHERE arab_region "
        "ORDER BY name"
    ).fetchall()
    countries = [
        Place(iso3, "country", name, int(code), subregion, (int(code),))
        for code, name, iso3, subregion in rows
    ]
    regions = [
        Place(
            _REGION_SLUGS[ARAB_REGION],
            "region",
            ARAB_REGION,
            members=tuple(c.code for c in countries),
        )  # type: ignore[misc]
    ]
    regions += [
        Place(_REGION_SLUGS[name], "subregion", name, members=ARAB_SUBREGIONS[name])
        for name in SUBREGIONS
    ]
    return regions + countries


_ARAB_PLACES = (
    "(destination_code IN (SELECT code FROM locations WHERE arab_region) "
    "OR (destination_code IS NULL AND destination IN ('Arab region', 'GCC', 'Mashreq', "
    "'Maghreb', 'Arab LDCs')))"
)
_PLACE = "COALESCE(CAST(destination_code AS VARCHAR), destination) AS place"


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None):
    return con.execute(sql, params or []).df()


def read_site(db_path: Path) -> SiteData:
    """Every number of the site, from the store at ``db_path`` (read-only)."""
    with brief_queries.connect(Path(db_path)) as con:
        revision, year = brief_queries.brief_revision(con, None)
        places = arab_places(con)
        stock = _df(
            con,
            f"SELECT {_PLACE}, revision, year, sex, migrants, previous_revision, "
            f"previous_migrants, change, change_pct FROM revision_changes WHERE {_ARAB_PLACES} "
            "ORDER BY place, year, revision, sex",
        )
        population = _df(
            con,
            f"SELECT {_PLACE}, revision, year, sex, migrants, total_population, "
            f"migrant_share_pct FROM migrant_share_of_population WHERE {_ARAB_PLACES} "
            "ORDER BY place, revision, year, sex",
        )
        female = _df(
            con,
            f"SELECT {_PLACE}, revision, year, female_migrants, all_migrants, female_share_pct "
            f"FROM female_share WHERE {_ARAB_PLACES} ORDER BY place, revision, year",
        )
        found = con.execute(
            "SELECT revision, max(year) FROM arab_immigrants WHERE origin_kind = 'country' "
            "GROUP BY revision ORDER BY revision DESC LIMIT 1"
        ).fetchone()
        bilateral_revision, bilateral_year = (
            (int(found[0]), int(found[1])) if found else (None, None)
        )
        immigrants = _df(
            con,
            "SELECT destination_code, origin_code, any_value(origin) AS origin, origin_kind, "
            "bool_or(coalesce(origin_is_arab, false)) AS origin_is_arab, sex, "
            "sum(migrants)::BIGINT AS migrants FROM arab_immigrants "
            "WHERE revision = ? AND year = ? AND origin_kind NOT IN ('total', 'aggregate') "
            "GROUP BY ALL",
            [bilateral_revision, bilateral_year],
        )
        emigrants = _df(
            con,
            "SELECT origin_code, destination_code, any_value(destination) AS destination, "
            "bool_or(destination_is_arab) AS destination_is_arab, sex, "
            "sum(migrants)::BIGINT AS migrants FROM arab_emigrants "
            "WHERE revision = ? AND year = ? AND NOT destination_is_aggregate GROUP BY ALL",
            [bilateral_revision, bilateral_year],
        )
        refugees = _refugees(con)
        basis = _newest(
            con, "data_basis", "destination_code AS code, data_type, basis, refugees_added"
        )
        notes = _newest(con, "location_notes", "location_code AS code, note_number, note_text")
        data = SiteData(
            revision=revision,
            year=year,
            places=places,
            stock=stock,
            population=population,
            female=female,
            bilateral_revision=bilateral_revision,
            bilateral_year=bilateral_year,
            immigrants=immigrants,
            emigrants=emigrants,
            refugees=refugees,
            basis=basis,
            notes=notes,
            sources=brief_queries.sources(con, brief_queries.NEWEST),
            synthetic=brief_queries.is_synthetic(con),
        )
        _read_flows(con, data)

        read_age(con, data)
        data.missing = _missing(con, data)
        return data


def _missing(con: duckdb.DuckDBPyConnection, data: SiteData) -> dict[str, brief_queries.Gap]:
    """Section -> the official workbook (and table) that would fill it, as the brief says."""
    revision = min(data.revision, max(entry.revision for entry in CATALOG))
    totals = brief_queries.workbook(revision, "destination_totals")
    has = has_relation
    gaps = {}
    if not (data.population["revision"] == data.revision).any():
        # the key figures' revision has no population figures (its totals workbook is not
        # loaded: its migrants come from the bilateral table), so no share of the population
        gaps["population"] = brief_queries.Gap(f"{totals} (Table 1)")
    if data.bilateral_revision is None:
        gaps["bilateral"] = brief_queries.Gap(
            f"{brief_queries.workbook(revision, 'bilateral')} (Table 1)"
        )
    if data.refugees.empty:
        where = f"{brief_queries.workbook(min(revision, 2020), 'destination_totals')} (Table 6)"
        gaps["refugees"] = brief_queries.Gap(where, has(con, "arab_refugees"))
    if data.basis.empty:
        gaps["data_basis"] = brief_queries.Gap(f"{totals} (Table 1)", has(con, "data_basis"))
    if data.notes.empty:
        gaps["notes"] = brief_queries.Gap(f"{totals} (NOTES)", has(con, "location_notes"))
    if data.age_revision is None:
        gaps["age"] = brief_queries.Gap(
            brief_queries.workbook(revision, "age"), has(con, "latest_arab_migrants_by_age")
        )
    return gaps


def _refugees(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Refugees (Table 6) of the newest revision that publishes them, every year and place.
    ``in_stock`` false is the State of Palestine rule of ``arab_refugees``."""
    columns = (
        "place, revision, year, refugees, migrants, refugee_share, in_stock, migrants_and_refugees"
    )
    if not has_relation(con, "arab_refugees"):
        return pd.DataFrame(columns=columns.split(", "))
    return _df(
        con,
        "SELECT CASE WHEN level = 'country' THEN CAST(code AS VARCHAR) ELSE name END AS place, "
        "revision, year, refugees, migrants, refugee_share, "
        "refugees_in_migrant_stock AS in_stock, migrants_and_refugees FROM arab_refugees "
        "WHERE revision = (SELECT max(revision) FROM arab_refugees) ORDER BY place, year",
    )


def _newest(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> pd.DataFrame:
    """The Arab countries' rows of ``table`` in its newest revision (empty if not loaded)."""
    if not has_relation(con, table):
        return pd.DataFrame(
            columns=["revision", *(c.split(" AS ")[-1] for c in columns.split(", "))]
        )
    code = "destination_code" if table == "data_basis" else "location_code"
    return _df(
        con,
        f"SELECT revision, {columns} FROM {table} "
        f"WHERE revision = (SELECT max(revision) FROM {table}) "
        f"AND {code} IN (SELECT code FROM locations WHERE arab_region) ORDER BY ALL",
    )


#: how many origins of newcomers and destinations of leavers a profile lists
FLOW_TOP = 5
_FLOW_PLACE = "CASE WHEN level = 'country' THEN CAST(place_code AS VARCHAR) ELSE place END AS place"


def _read_flows(con: duckdb.DuckDBPyConnection, data: SiteData) -> None:
    """The estimated flows of the newest revision that has them, for every Arab place:
    inflows, outflows and net by period, sex and method, and the main origins of
    newcomers and destinations of leavers in its last period (both sexes, demographic
    account). Nothing when the store has no flows (or predates them)."""
    if not has_relation(con, "flow_estimates"):
        return
    found = con.execute(
        "SELECT * FROM flow_estimates WHERE revision = (SELECT max(revision) FROM flows)"
    ).df()
    if found.empty:
        return
    data.flow_estimate = found.to_dict("records")[0]
    revision = int(data.flow_estimate["revision"])
    data.flows = _df(
        con,
        f"SELECT {_FLOW_PLACE}, revision, period_start, period_end, sex, method, inflow, "
        "outflow, net FROM arab_flows WHERE revision = ? "
        "ORDER BY place, period_start, sex, method",
        [revision],
    )
    last = "(SELECT max(period_start) FROM flows WHERE revision = ?)"
    for attribute, view, code in (
        ("flow_origins", "arab_flow_origins", "origin"),
        ("flow_destinations", "arab_flow_destinations", "destination"),
    ):
        frame = _df(
            con,
            f"SELECT {_FLOW_PLACE}, revision, period_start, period_end, {code}_code AS code, "
            f"{code} AS name, {code}_is_arab AS is_arab, flow, rank FROM {view} "
            f"WHERE revision = ? AND method = 'demographic_account' AND sex = 'total' "
            f"AND period_start = {last} AND rank <= ? ORDER BY place, rank",
            [revision, revision, FLOW_TOP],
        )
        setattr(data, attribute, frame)


# ---------------------------------------------------------------- migrants by age


def read_age(con: duckdb.DuckDBPyConnection, data: SiteData) -> None:
    """Migrants by age for every place into ``data``: the newest year of the newest revision
    with age data (``latest_arab_migrants_by_age``, ``latest_arab_migrant_age_structure``);
    nothing in a store without age data (or from before the age tables)."""
    if not has_relation(con, "latest_arab_migrants_by_age"):
        return
    found = con.execute(
        "SELECT revision, max(year) FROM latest_arab_migrants_by_age "
        "WHERE migrants IS NOT NULL GROUP BY revision"
    ).fetchone()
    if found is None:
        return
    data.age_revision, data.age_year = int(found[0]), int(found[1])
    place = "CASE WHEN level = 'country' THEN CAST(code AS VARCHAR) ELSE name END AS place"
    data.age = _df(
        con,
        f"SELECT {place}, {', '.join(AGE_COLUMNS[1:])} FROM latest_arab_migrants_by_age "
        "WHERE year = ? ORDER BY place, sex, age_from NULLS LAST",
        [data.age_year],
    )
    data.age_structure = _df(
        con,
        f"SELECT {place}, {', '.join(AGE_STRUCTURE_COLUMNS[1:])} "
        "FROM latest_arab_migrant_age_structure WHERE year = ? ORDER BY place, sex",
        [data.age_year],
    )
