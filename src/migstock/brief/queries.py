"""What the brief says, read from the store (read-only): plain SQL over the public views.

Every function takes a read-only DuckDB connection and returns numbers or frames with
M49 codes and the store's English names; translation happens in ``render``. A section
whose data is not loaded returns ``None`` and :func:`missing` says which workbook (or
which store table) would fill it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from migstock.catalog import CATALOG
from migstock.errors import MigstockError
from migstock.relations import has_relation
from migstock.store import connect_read_only

ARAB_REGION = "Arab region"
SUBREGIONS = ("GCC", "Mashreq", "Maghreb", "Arab LDCs")
#: the country notes that matter for the Arab region (Sudan, State of Palestine)
NOTED_COUNTRIES = (729, 275)
TOP = 10
NEWEST = 32767  # no upper limit on the revision (SMALLINT)


@dataclass
class Headline:
    revision: int
    year: int
    migrants: int
    female_share_pct: float | None
    migrant_share_pct: float | None
    first_year: int
    first_year_migrants: int | None
    previous_revision: int | None = None
    previous_year: int | None = None
    previous_estimate: int | None = None
    this_estimate_of_previous_year: int | None = None

    @property
    def change_since_first(self) -> int | None:
        if self.first_year_migrants is None or self.first_year == self.year:
            return None
        return self.migrants - self.first_year_migrants

    @property
    def change_since_first_pct(self) -> float | None:
        change = self.change_since_first
        return None if change is None else 100 * change / self.first_year_migrants

    @property
    def revision_change(self) -> int | None:
        if self.previous_estimate is None or self.this_estimate_of_previous_year is None:
            return None
        return self.this_estimate_of_previous_year - self.previous_estimate

    @property
    def revision_change_pct(self) -> float | None:
        change = self.revision_change
        return None if change is None else 100 * change / self.previous_estimate


@dataclass
class Bilateral:
    """Origins and destinations from one bilateral revision (the newest loaded)."""

    revision: int
    year: int
    origins: pd.DataFrame  # code, name, migrants, share_pct
    destinations: pd.DataFrame  # code, name, migrants, share_pct
    intra: pd.DataFrame  # measure, intra_arab, of_all, share_pct
    has_published_totals: bool


@dataclass
class Refugees:
    revision: int
    year: int
    region: dict[str, object]
    countries: pd.DataFrame  # code, name, refugees, migrants, refugee_share, in_stock, both


@dataclass(frozen=True)
class Gap:
    """An empty section: the official workbook (and table) that would fill it, and whether
    this store has the table to hold it yet (an older migstock has no refugee tables)."""

    workbook: str
    store_has_table: bool = True


@dataclass
class BriefData:
    """All the numbers of one brief, language-free."""

    headline: Headline
    subregions: pd.DataFrame  # year, region, migrants
    female: pd.DataFrame  # code, name, female_share_pct, female_migrants, all_migrants
    revisions: pd.DataFrame  # year, revision, migrants, previous_revision, change, change_pct
    sources: pd.DataFrame  # revision, dataset, file_name, tables, sha256, citation
    bilateral: Bilateral | None
    refugees: Refugees | None
    data_basis: pd.DataFrame | None
    notes: pd.DataFrame | None
    synthetic: bool
    missing: dict[str, Gap] = field(default_factory=dict)
    #: the brief's line on estimated flows (None: the store has none)
    flows: FlowsLine | None = None
    age: AgeProfile | None = None  # the region's migrants by age (None without age data)


@dataclass
class FlowsLine:
    """The Arab region's estimated moves across its border in the last period of the
    newest revision with flows (both sexes, demographic account)."""

    revision: int
    period_start: int
    period_end: int
    inflow: float
    outflow: float
    #: whether births and deaths (WPP) were used; false: taken as zero
    vital_events: bool = False

    @property
    def net(self) -> float:
        return self.inflow - self.outflow


@dataclass
class AgeProfile:
    """The Arab region's migrants by age: the newest year of the newest revision with age
    data (``arab_migrant_age_structure``); shares in percent, median ages in years."""

    revision: int
    year: int
    share_under_15_pct: float | None
    share_65_plus_pct: float | None
    median_age_female: float | None
    median_age_male: float | None
    countries_reporting: int


def connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection that cannot reach other files (the brief only reads)."""
    return connect_read_only(db_path, sandboxed=True)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> object:
    row = con.execute(sql, params).fetchone()
    return None if row is None else row[0]


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> pd.DataFrame:
    return con.execute(sql, params).df()


def brief_revision(con: duckdb.DuckDBPyConnection, wanted: int | None) -> tuple[int, int]:
    """(revision, year) of the brief: the newest revision with Arab-region totals
    (or ``wanted``) and its newest year."""
    rows = con.execute(
        "SELECT revision, max(year) FROM arab_region_totals "
        "WHERE region = ? AND sex = 'total' GROUP BY revision ORDER BY revision",
        [ARAB_REGION],
    ).fetchall()
    if not rows:  # only country pairs by origin (no "World" rows), or nothing at all
        newest = _scalar(con, "SELECT max(revision) FROM revisions", [])
        totals = workbook(int(newest) if newest is not None else NEWEST, "destination_totals")
        raise MigstockError(
            "the store holds no migrant totals for the Arab region: load a destination-totals "
            f"workbook first ({totals}, with migstock run)"
        )
    years = {int(r): int(y) for r, y in rows}
    if wanted is None:
        revision = max(years)
    elif wanted in years:
        revision = wanted
    else:
        loaded = ", ".join(str(r) for r in sorted(years))
        raise MigstockError(f"revision {wanted} has no totals in the store; loaded: {loaded}")
    return revision, years[revision]


def headline(con: duckdb.DuckDBPyConnection, revision: int, year: int) -> Headline:
    by_year = dict(
        con.execute(
            "SELECT year, migrants FROM arab_region_totals "
            "WHERE revision = ? AND region = ? AND sex = 'total' ORDER BY year",
            [revision, ARAB_REGION],
        ).fetchall()
    )
    first_year = min(by_year)
    female = _scalar(
        con,
        "SELECT female_share_pct FROM female_share WHERE revision = ? AND year = ? "
        "AND destination_code IS NULL AND destination = ?",
        [revision, year, ARAB_REGION],
    )
    share = _scalar(
        con,
        "SELECT migrant_share_pct FROM migrant_share_of_population WHERE revision = ? "
        "AND year = ? AND sex = 'total' AND destination_code IS NULL AND destination = ?",
        [revision, year, ARAB_REGION],
    )
    result = Headline(
        revision=revision,
        year=year,
        migrants=int(by_year[year]),
        female_share_pct=None if female is None or pd.isna(female) else float(female),
        migrant_share_pct=None if share is None or pd.isna(share) else float(share),
        first_year=int(first_year),
        first_year_migrants=None if by_year[first_year] is None else int(by_year[first_year]),
    )
    previous = con.execute(
        "SELECT year, previous_revision, previous_migrants, migrants FROM revision_changes "
        "WHERE revision = ? AND destination_code IS NULL AND destination = ? AND sex = 'total' "
        "AND previous_revision IS NOT NULL ORDER BY year DESC LIMIT 1",
        [revision, ARAB_REGION],
    ).fetchone()
    if previous is not None:
        result.previous_year = int(previous[0])
        result.previous_revision = int(previous[1])
        result.previous_estimate = int(previous[2])
        result.this_estimate_of_previous_year = int(previous[3])
    return result


def subregions(con: duckdb.DuckDBPyConnection, revision: int) -> pd.DataFrame:
    """Migrants in each ESCWA sub-region, every year of the revision."""
    return _df(
        con,
        "SELECT year, region, migrants FROM arab_region_totals "
        "WHERE revision = ? AND sex = 'total' AND region IN ('GCC', 'Mashreq', 'Maghreb', "
        "'Arab LDCs') ORDER BY year, region",
        [revision],
    )


def female_by_country(con: duckdb.DuckDBPyConnection, revision: int, year: int) -> pd.DataFrame:
    """Women's share of migrants in each of the 22 countries, highest first."""
    return _df(
        con,
        "SELECT f.destination_code AS code, f.destination AS name, f.female_share_pct, "
        "f.female_migrants, f.all_migrants "
        "FROM female_share f JOIN locations l ON l.code = f.destination_code AND l.arab_region "
        "WHERE f.revision = ? AND f.year = ? AND f.female_share_pct IS NOT NULL "
        "ORDER BY f.female_share_pct DESC, f.destination",
        [revision, year],
    )


def revision_history(con: duckdb.DuckDBPyConnection, up_to: int) -> pd.DataFrame:
    """Every revision's estimate of every year for the Arab region."""
    return _df(
        con,
        "SELECT year, revision, migrants, previous_revision, previous_migrants, change, "
        "change_pct FROM revision_changes WHERE destination_code IS NULL AND destination = ? "
        "AND sex = 'total' AND revision <= ? ORDER BY year, revision",
        [ARAB_REGION, up_to],
    )


def bilateral(con: duckdb.DuckDBPyConnection, up_to: int) -> Bilateral | None:
    """Origins, destinations and intra-Arab shares from the newest bilateral revision."""
    found = con.execute(
        "SELECT revision, max(year) FROM arab_immigrants WHERE revision <= ? "
        "AND origin_kind = 'country' GROUP BY revision ORDER BY revision DESC LIMIT 1",
        [up_to],
    ).fetchone()
    if found is None:
        return None
    revision, year = int(found[0]), int(found[1])
    # All migrants in Arab countries: every origin row (countries and residual "Other"
    # origins), which equals the published Total where the file has one.
    immigrants_all = int(
        _scalar(
            con,
            "SELECT sum(migrants) FROM arab_immigrants WHERE revision = ? AND year = ? "
            "AND sex = 'total' AND origin_kind NOT IN ('total', 'aggregate')",
            [revision, year],
        )
        or 0
    )
    has_totals = bool(
        _scalar(
            con,
            "SELECT count(*) FROM arab_immigrants WHERE revision = ? AND year = ? "
            "AND sex = 'total' AND origin_kind = 'total'",
            [revision, year],
        )
    )
    origins = _df(
        con,
        "SELECT origin_code AS code, any_value(origin) AS name, sum(migrants)::BIGINT AS migrants "
        "FROM arab_immigrants WHERE revision = ? AND year = ? AND sex = 'total' "
        "AND origin_kind = 'country' GROUP BY origin_code "
        "ORDER BY migrants DESC NULLS LAST, name LIMIT ?",
        [revision, year, TOP],
    )
    origins["share_pct"] = 100 * origins["migrants"] / immigrants_all if immigrants_all else None
    emigrants_all = int(
        _scalar(
            con,
            "SELECT sum(migrants) FROM arab_emigrants WHERE revision = ? AND year = ? "
            "AND sex = 'total' AND NOT destination_is_aggregate",
            [revision, year],
        )
        or 0
    )
    destinations = _df(
        con,
        "SELECT destination_code AS code, any_value(destination) AS name, "
        "sum(migrants)::BIGINT AS migrants FROM arab_emigrants "
        "WHERE revision = ? AND year = ? AND sex = 'total' AND NOT destination_is_aggregate "
        "GROUP BY destination_code ORDER BY migrants DESC NULLS LAST, name LIMIT ?",
        [revision, year, TOP],
    )
    destinations["share_pct"] = (
        100 * destinations["migrants"] / emigrants_all if emigrants_all else None
    )
    intra_total = int(
        _scalar(
            con,
            "SELECT sum(migrants) FROM intra_arab WHERE revision = ? AND year = ? "
            "AND sex = 'total'",
            [revision, year],
        )
        or 0
    )
    intra = pd.DataFrame(
        {
            "measure": ["of_immigrants", "of_emigrants"],
            "intra_arab": [intra_total, intra_total],
            "of_all": [immigrants_all, emigrants_all],
        }
    )
    intra["share_pct"] = 100 * intra["intra_arab"] / intra["of_all"].where(intra["of_all"] > 0)
    return Bilateral(revision, year, origins, destinations, intra, has_totals)


def refugees(con: duckdb.DuckDBPyConnection, up_to: int) -> Refugees | None:
    """Refugees in the Arab region from the newest revision that publishes them."""
    if not has_relation(con, "arab_refugees"):
        return None
    found = con.execute(
        "SELECT revision, max(year) FROM arab_refugees WHERE revision <= ? "
        "GROUP BY revision ORDER BY revision DESC LIMIT 1",
        [up_to],
    ).fetchone()
    if found is None:
        return None
    revision, year = int(found[0]), int(found[1])
    region = con.execute(
        "SELECT refugees, migrants, refugee_share, migrants_and_refugees FROM arab_refugees "
        "WHERE revision = ? AND year = ? AND level = 'region'",
        [revision, year],
    ).fetchone()
    if region is None:
        return None
    keys = ("refugees", "migrants", "refugee_share", "migrants_and_refugees")
    countries = _df(
        con,
        "SELECT code, name, refugees, migrants, refugee_share, "
        "refugees_in_migrant_stock AS in_stock, migrants_and_refugees AS both "
        "FROM arab_refugees WHERE revision = ? AND year = ? AND level = 'country' "
        "AND refugees > 0 ORDER BY refugees DESC, name",
        [revision, year],
    )
    return Refugees(revision, year, dict(zip(keys, region, strict=True)), countries)


def data_basis(con: duckdb.DuckDBPyConnection, up_to: int) -> pd.DataFrame | None:
    """How each Arab country's estimate was made (foreign-born, citizenship, imputed)."""
    if not has_relation(con, "data_basis"):
        return None
    frame = _df(
        con,
        "WITH newest AS (SELECT max(revision) AS revision FROM data_basis WHERE revision <= ?) "
        "SELECT b.revision, b.destination_code AS code, l.name, b.data_type, b.basis, "
        "b.refugees_added FROM data_basis b JOIN newest USING (revision) "
        "JOIN locations l ON l.code = b.destination_code AND l.arab_region "
        "ORDER BY b.basis, l.name",
        [up_to],
    )
    return frame if len(frame) else None


def notes(con: duckdb.DuckDBPyConnection, up_to: int) -> pd.DataFrame | None:
    """The published notes on Sudan and the State of Palestine."""
    if not has_relation(con, "location_notes"):
        return None
    frame = _df(
        con,
        "WITH newest AS (SELECT max(revision) AS revision FROM location_notes "
        "WHERE revision <= ? AND location_code IN (729, 275)) "
        "SELECT n.revision, n.location_code AS code, l.name, n.note_number, n.note_text "
        "FROM location_notes n JOIN newest USING (revision) "
        "JOIN locations l ON l.code = n.location_code "
        "WHERE n.location_code IN (729, 275) ORDER BY n.location_code DESC, n.note_number",
        [up_to],
    )
    return frame if len(frame) else None


def sources(con: duckdb.DuckDBPyConnection, up_to: int) -> pd.DataFrame:
    """Every raw file behind the brief: revision, tables (sheets) used, sha256, citation."""
    tables = ["destination_totals", "bilateral_stock"]
    tables += [name for name in ("age_stock", "age_population") if has_relation(con, name)]
    sheets = " UNION ".join(
        f"SELECT raw_sha256, source_sheet FROM {name} WHERE revision <= ? GROUP BY ALL"
        for name in tables
    )
    return _df(
        con,
        f"WITH sheets AS ({sheets}) "
        "SELECT f.revision, f.dataset, f.file_name, "
        "coalesce(string_agg(DISTINCT s.source_sheet, ', ' ORDER BY s.source_sheet), '') "
        "AS tables, "
        "f.sha256, f.citation FROM raw_files f LEFT JOIN sheets s ON s.raw_sha256 = f.sha256 "
        "WHERE f.revision <= ? GROUP BY ALL ORDER BY f.revision DESC, f.dataset, f.file_name",
        [*(up_to for _ in tables), up_to],
    )


def is_synthetic(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the store was loaded from ``migstock demo``'s synthetic workbooks."""
    return bool(
        _scalar(con, "SELECT count(*) FROM raw_files WHERE file_name LIKE 'SYNTHETIC%'", [])
    )


def workbook(revision: int, dataset: str) -> str:
    """The official file name of a revision's workbook (newest catalog revision <= it that
    publishes ``dataset``: the age workbook of 2024 is 2020's)."""
    publishing = [entry for entry in CATALOG if entry.has(dataset)]  # type: ignore[arg-type]
    entries = [entry for entry in publishing if entry.revision <= revision] or publishing
    return max(entries, key=lambda entry: entry.revision).file(dataset).file_name  # type: ignore[arg-type]


def read_brief(db_path: Path, revision: int | None = None, synthetic: bool = False) -> BriefData:
    """Everything the brief shows, from the store at ``db_path``."""
    with connect(db_path) as con:
        number, year = brief_revision(con, revision)
        # sections from other tables use their newest revision, up to the one asked for
        up_to = revision if revision is not None else NEWEST
        data = BriefData(
            headline=headline(con, number, year),
            subregions=subregions(con, number),
            female=female_by_country(con, number, year),
            revisions=revision_history(con, up_to),
            sources=sources(con, up_to),
            bilateral=bilateral(con, up_to),
            refugees=refugees(con, up_to),
            data_basis=data_basis(con, up_to),
            notes=notes(con, up_to),
            synthetic=synthetic or is_synthetic(con),
        )
        data.age = age_profile(con, up_to)
        data.missing = missing(con, data, min(up_to, max(e.revision for e in CATALOG)))
        data.flows = flows_line(con, up_to)
    return data


def flows_line(con: duckdb.DuckDBPyConnection, up_to: int) -> FlowsLine | None:
    """The region's estimated inflows and outflows in the last period of the newest
    revision (up to ``up_to``) with flows; None when the store has none."""
    if not has_relation(con, "arab_flows"):
        return None
    row = con.execute(
        "SELECT f.revision, f.period_start, f.period_end, f.inflow, f.outflow, e.vital_events "
        "FROM arab_flows f JOIN flow_estimates e USING (revision) "
        "WHERE f.level = 'region' AND f.sex = 'total' AND f.method = 'demographic_account' "
        "AND f.revision <= ? ORDER BY f.revision DESC, f.period_start DESC LIMIT 1",
        [up_to],
    ).fetchone()
    if row is None:
        return None
    revision, start, end, inflow, outflow, vital = row
    return FlowsLine(
        int(revision), int(start), int(end), float(inflow), float(outflow), bool(vital)
    )


def missing(con: duckdb.DuckDBPyConnection, data: BriefData, revision: int) -> dict[str, Gap]:
    """Section -> what would fill it (``revision``'s workbook), for the empty sections."""
    gaps: dict[str, Gap] = {}
    totals = workbook(revision, "destination_totals")
    if not _scalar(
        con,
        "SELECT count(total_population) FROM destination_totals WHERE revision = ?",
        [data.headline.revision],
    ):  # the headline's migrants come from the bilateral table: no share of the population
        gaps["population"] = Gap(
            f"{workbook(data.headline.revision, 'destination_totals')} (Table 1)"
        )
    if data.bilateral is None:
        gaps["bilateral"] = Gap(f"{workbook(revision, 'bilateral')} (Table 1)")
    if data.refugees is None:
        # 2024 publishes no refugee table: Table 6 of the 2015-2020 workbooks has them
        where = f"{workbook(min(revision, 2020), 'destination_totals')} (Table 6)"
        gaps["refugees"] = Gap(where, has_relation(con, "arab_refugees"))
    if data.data_basis is None:
        gaps["data_basis"] = Gap(f"{totals} (Table 1)", has_relation(con, "data_basis"))
    if data.notes is None:
        gaps["notes"] = Gap(f"{totals} (NOTES)", has_relation(con, "location_notes"))
    return gaps


def age_profile(con: duckdb.DuckDBPyConnection, up_to: int) -> AgeProfile | None:
    """The Arab region's migrants by age in the newest year of the newest revision (up to
    ``up_to``) with age data; None without any (or a store from before the age tables)."""
    if not has_relation(con, "arab_migrant_age_structure"):
        return None
    row = con.execute(
        "WITH newest AS (SELECT revision, max(year) AS year FROM age_stock "
        "  WHERE revision = (SELECT max(revision) FROM age_stock WHERE revision <= ?) "
        "  AND migrants IS NOT NULL GROUP BY revision) "
        "SELECT s.revision, s.year, "
        "max(s.share_under_15_pct) FILTER (WHERE s.sex = 'total'), "
        "max(s.share_65_plus_pct) FILTER (WHERE s.sex = 'total'), "
        "max(s.median_age) FILTER (WHERE s.sex = 'female'), "
        "max(s.median_age) FILTER (WHERE s.sex = 'male'), "
        "max(s.countries_reporting) FILTER (WHERE s.sex = 'total') "
        "FROM arab_migrant_age_structure s JOIN newest USING (revision, year) "
        "WHERE s.level = 'region' GROUP BY s.revision, s.year",
        [up_to],
    ).fetchone()
    if row is None:
        return None

    def number(value: object) -> float | None:
        return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]

    return AgeProfile(
        revision=int(row[0]),
        year=int(row[1]),
        share_under_15_pct=number(row[2]),
        share_65_plus_pct=number(row[3]),
        median_age_female=number(row[4]),
        median_age_male=number(row[5]),
        countries_reporting=int(row[6] or 0),
    )
