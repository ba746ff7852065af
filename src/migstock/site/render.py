"""One language's pages of the site: key figures, tables, Vega-Lite specs, HTML.

Tables and figures use the brief's cells (``Cell``: text plus the exact value in a
``<data value>`` element) and its translator; charts are the brief's Altair
specifications (``brief.charts``) with tooltips and a ``sex`` parameter, built once per
language with named data and filled per place (no chart is rendered here: the
browser draws them with the vendored Vega bundle).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, wraps
from typing import TypeVar

import altair as alt
import numpy as np
import pandas as pd

from migstock.brief import charts
from migstock.brief.i18n import Translator
from migstock.brief.queries import ARAB_REGION
from migstock.brief.render import Cell, Figure, Table, _num, _pct, _raw
from migstock.site.queries import Place, SiteData

T = TypeVar("T")


def _per_build(build: Callable[[SiteData], T]) -> Callable[[SiteData], T]:
    """``build(data)``, language-free numbers for all places at once, computed once per
    site build (kept in ``data``) and shared by both languages and every place."""

    @wraps(build)
    def once(data: SiteData) -> T:
        key = ("per build", build.__name__)
        if key not in data._split:
            data._split[key] = build(data)
        return data._split[key]

    return once


SEXES = ("total", "female", "male")
TOP = 10  # origins and destinations shown


@dataclass
class SiteChart:
    key: str
    title: str
    alt: str  # the text alternative: what the chart shows, in words
    spec: str  # Vega-Lite JSON, safe inside <script type="application/json">
    table: Table
    by_sex: bool  # has a sex selector


@dataclass
class PlacePage:
    t: Translator
    place: Place
    name: str
    figures: list[Figure]
    charts: dict[str, SiteChart] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # section -> sentence


def place_name(t: Translator, place: Place) -> str:
    return t.place(place.code, place.name)


def _long(
    frame: pd.DataFrame, id_vars: list[str], value_vars: list[str], var_name: str, value_name: str
) -> pd.DataFrame:
    """``frame.melt(id_vars, value_vars, var_name, value_name).dropna()`` (the same rows in
    the same order, the same columns and values) without pandas' general machinery: the
    site reshapes a few small frames per page, and ``melt`` costs 20 times more."""
    values = pd.concat([frame[name] for name in value_vars], ignore_index=True)
    long = {name: np.tile(frame[name].to_numpy(), len(value_vars)) for name in id_vars}
    long[var_name] = np.repeat(np.array(value_vars, dtype=object), len(frame))
    complete = values.notna().to_numpy(copy=True)
    for name in id_vars:
        complete &= ~pd.isna(long[name])
    long = {name: column[complete] for name, column in long.items()}
    long[value_name] = values[complete].reset_index(drop=True)
    return pd.DataFrame(long)


def _json(spec: dict) -> str:
    """JSON that cannot close its <script> element."""
    return json.dumps(spec, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


# ---------------------------------------------------------------- chart templates


def _tip(field_name: str, title: str, fmt: str | None = None) -> alt.Tooltip:
    return (
        alt.Tooltip(field_name, title=title, format=fmt)
        if fmt
        else alt.Tooltip(field_name, title=title)
    )


@cache
def _templates(lang: str) -> dict[str, dict]:
    """Vega-Lite specs of every chart kind in ``lang``, their data named ``rows``."""
    t = Translator(lang)  # type: ignore[arg-type]
    rows = alt.Data(name="rows")
    year_tip = _tip("year:Q", t("col.year"), "d")
    series_tip = _tip("series:N", t("site.place"))
    count_tip = _tip("migrants:Q", t("col.migrants"), ",")

    def migrants_over_years() -> alt.TopLevelMixin:
        return charts.line_chart(
            rows,
            x="year",
            y="migrants",
            series="series",
            x_title=t("col.year"),
            y_title=t("col.migrants"),
            rtl=t.rtl,
            y_format=",.0f",
            sex="sex",
            tooltip=[series_tip, year_tip, count_tip],
        )

    specs = {
        "stock": migrants_over_years(),
        "female": charts.line_chart(
            rows,
            x="year",
            y="share",
            series="series",
            x_title=t("col.year"),
            y_title=t("axis.female_pct"),
            rtl=t.rtl,
            y_format=".0f",
            tooltip=[series_tip, year_tip, _tip("share:Q", t("col.female_share"), ".2f")],
        ),
        "share": charts.line_chart(
            rows,
            x="year",
            y="share",
            series="series",
            x_title=t("col.year"),
            y_title=t("site.col.share_pct"),
            rtl=t.rtl,
            y_format=".0f",
            sex="sex",
            tooltip=[series_tip, year_tip, _tip("share:Q", t("col.share"), ".2f")],
        ),
        "revisions": migrants_over_years(),  # a series per revision instead of per place
    }
    for key in ("origins", "destinations"):
        specs[key] = charts.bar_chart(
            rows,
            category="name",
            value="migrants",
            value_title=t("col.migrants"),
            rtl=t.rtl,
            value_format=",.0f",
            sex="sex",
            height=240,
            tooltip=[_tip("name:N", t("col.country")), count_tip],
        )
    specs["flows"] = _flows_chart(t, rows)
    result = {}
    for key, chart in specs.items():
        spec = charts.spec(chart)
        spec.pop("datasets", None)
        spec["autosize"] = {"type": "fit-x", "contains": "padding"}
        spec["width"] = "container"
        result[key] = spec
    return result


def _chart_spec(t: Translator, kind: str, rows: list[dict], description: str) -> str:
    spec = dict(_templates(t.lang))[kind] | {
        "datasets": {"rows": rows},
        "description": description,
    }
    return _json(spec)


def _records(frame: pd.DataFrame) -> list[dict]:
    """A chart's rows as its JSON carries them (pandas' ``to_json``: floats to 10 decimals),
    made once per place and shared by both languages."""
    return json.loads(frame.to_json(orient="records"))


def _named(records: list[dict], column: str, names, renamed: str | None = None) -> list[dict]:
    """``records`` with ``column`` holding ``names[value]`` (and called ``renamed``, in the
    same place, if given): a language's labels in the language-free rows."""
    new = renamed or column
    return [
        {(new if k == column else k): (names[v] if k == column else v) for k, v in row.items()}
        for row in records
    ]


# ---------------------------------------------------------------- key figures


def key_figures(t: Translator, data: SiteData, place: Place) -> list[Figure]:
    r, y = data.revision, data.year
    migrants, share, migrant_share, total_population, first, revised, last = _figure_numbers(
        data
    ).get(place.key, (None,) * 7)
    figures = [
        Figure(
            "migrants", t("site.fig.migrants", year=t.year(y)), t.number(migrants), _raw(migrants)
        ),
    ]
    figures.append(
        Figure(
            "female_share_pct",
            t("site.fig.female_share", year=t.year(y)),
            t.percent(share, decimals=2),
            _raw(share),
        )
    )
    figures.append(
        Figure(
            "migrant_share_pct",
            t("site.fig.migrant_share", year=t.year(y)),
            t.percent(migrant_share, decimals=2),
            _raw(migrant_share),
        )
    )
    figures.append(
        Figure(
            "population",
            t("site.fig.population", year=t.year(y)),
            t.number(total_population),
            _raw(total_population),
        )
    )
    if (
        first is not None
        and migrants is not None
        and int(first["year"]) != y
        and not pd.isna(first["migrants"])
    ):
        change = int(migrants) - int(first["migrants"])
        pct = 100 * change / int(first["migrants"]) if int(first["migrants"]) else None
        figures.append(
            Figure(
                "change_since_first",
                t("fig.change_since", year=t.year(int(first["year"]))),
                t.signed(change),
                change,
                t("fig.change_since.note", pct=t.percent(pct, signed=True)),
            )
        )
    if revised is not None:
        figures.append(
            Figure(
                "revision_change",
                t(
                    "fig.revision_change",
                    year=t.year(int(revised["year"])),
                    previous=t.year(int(revised["previous_revision"])),
                ),
                t.signed(int(revised["change"])),
                int(revised["change"]),
                t(
                    "fig.revision_change.note",
                    pct=t.percent(_float(revised["change_pct"]), signed=True),
                    previous=t.year(int(revised["previous_revision"])),
                    old=t.number(int(revised["previous_migrants"])),
                    new=t.number(int(revised["migrants"])),
                    revision=t.year(r),
                ),
            )
        )
    if last is not None:
        note = ""
        if not bool(last["in_stock"]):  # the State of Palestine rule of arab_refugees
            note = t(
                "site.fig.refugees_outside"
                if place.kind == "country"
                else "site.fig.refugees_added",
                both=t.number(_int(last["migrants_and_refugees"])),
            )
        figures.append(
            Figure(
                "refugees",
                t(
                    "site.fig.refugees",
                    year=t.year(int(last["year"])),
                    revision=t.year(int(last["revision"])),
                ),
                t.number(_int(last["refugees"])),
                _raw(last["refugees"]),
                note,
            )
        )
    return figures


@_per_build
def _figure_numbers(data: SiteData) -> dict[str, tuple]:
    """The numbers behind each place's key figures (newest revision, its year), by place
    key: migrants, women's share, migrants' share of the population and the population;
    then its first year's stock row, its newest row with a revision change and its newest
    refugees row (rows as dicts; None where there is none). Made for all places at once."""
    r, y = data.revision, data.year
    stock, population = data.stock, data.population
    newest = _rows_by_place(stock[(stock["revision"] == r) & (stock["sex"] == "total")])
    people = _rows_by_place(
        population[(population["revision"] == r) & (population["sex"] == "total")]
    )
    female = _rows_by_place(data.female)
    refugees = _rows_by_place(data.refugees)
    result = {}
    for place in data.places:
        rows = newest.get(place.key, [])
        changes = [
            row for row in rows if not (pd.isna(row["previous_revision"]) or pd.isna(row["change"]))
        ]
        pop_rows = people.get(place.key, [])
        result[place.key] = (
            _first(rows, "migrants", year=y),
            _first(female.get(place.key, []), "female_share_pct", revision=r, year=y),
            _first(pop_rows, "migrant_share_pct", year=y),
            _first(pop_rows, "total_population", year=y),
            min(rows, key=lambda row: row["year"]) if rows else None,
            max(changes, key=lambda row: row["year"]) if changes else None,
            max(refugees[place.key], key=lambda row: row["year"])
            if place.key in refugees
            else None,
        )
    return result


def _rows_by_place(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """The rows of ``frame`` as dicts, by place key (in the frame's order)."""
    rows: dict[str, list[dict]] = {}
    for key, row in zip(frame["place"].tolist(), frame.to_dict("records"), strict=True):
        rows.setdefault(str(key), []).append(row)
    return rows


def _first(rows: list[dict], column: str, **where: object) -> object | None:
    """``column`` in the first of ``rows`` where every ``where`` column equals its value
    (None if there is none, or it is missing)."""
    for row in rows:
        if all(not pd.isna(row[key]) and row[key] == wanted for key, wanted in where.items()):
            return None if pd.isna(row[column]) else row[column]
    return None


def _float(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


# ---------------------------------------------------------------- sections


def _once(data: SiteData, name: str, place: Place, build):
    """``build()``: language-free numbers of one place's section, computed once per site
    build and shared by both languages."""
    key = (name, place.key)
    if key not in data._split:
        data._split[key] = build()
    return data._split[key]


@_per_build
def _stock_wide(data: SiteData) -> pd.DataFrame:
    """place, year, revision, total, female, male, previous_revision, change, change_pct."""
    stock = data.stock
    wide = stock.pivot(
        index=["place", "year", "revision"], columns="sex", values="migrants"
    ).reindex(columns=list(SEXES))
    changes = stock[stock["sex"] == "total"].set_index(["place", "year", "revision"])
    wide = wide.join(changes[["previous_revision", "change", "change_pct"]])
    return wide.reset_index().sort_values(["place", "year", "revision"])


@_per_build
def _share_wide(data: SiteData) -> pd.DataFrame:
    """place, year, total, female, male (migrants' % of the population), total_population:
    the newest revision."""
    rows = data.population[data.population["revision"] == data.revision]
    wide = rows.pivot(index=["place", "year"], columns="sex", values="migrant_share_pct")
    wide = wide.reindex(columns=list(SEXES))
    people = rows[rows["sex"] == "total"].set_index(["place", "year"])["total_population"]
    return wide.join(people).reset_index().sort_values(["place", "year"])


def stock_chart(t: Translator, data: SiteData, place: Place, name: str) -> SiteChart | None:
    numbers = _stock_numbers(data).get(place.key)
    if numbers is None:
        return None
    cells, csv, long = numbers
    first, last = int(min(cells)), int(max(cells))
    table = Table(
        "migrants_by_sex",
        t("site.stock.table", revision=t.year(data.revision)),
        [t("col.year"), *(t(f"site.sex.{s}") for s in SEXES)],
        [[Cell(t.year(year)), *(_num(t, row[s]) for s in SEXES)] for year, row in cells.items()],
        csv,
    )
    alt_text = t(
        "site.stock.alt",
        place=name,
        first=t.year(first),
        last=t.year(last),
        revision=t.year(data.revision),
        total=t.number(_int(cells[last]["total"])),
        female=t.number(_int(cells[last]["female"])),
        male=t.number(_int(cells[last]["male"])),
    )
    rows = [{**row, "series": name} for row in long]
    return SiteChart(
        "migrants_by_sex",
        t("site.stock.heading", first=t.year(first), last=t.year(last)),
        alt_text,
        _chart_spec(t, "stock", rows, alt_text),
        table,
        True,
    )


@_per_build
def _stock_numbers(data: SiteData) -> dict[str, tuple]:
    """Migrants by sex and year in the newest revision, by place key (a place with none
    has none): its cells (year -> {sex: migrants}, by year), the CSV and the chart rows.
    Made for all places at once."""
    every = _stock_wide(data)
    newest = every[every["revision"] == data.revision]
    places = newest["place"].tolist()
    cells: dict[str, dict] = {}
    for key, year, row in zip(
        places, newest["year"].tolist(), newest[list(SEXES)].to_dict("records"), strict=True
    ):
        cells.setdefault(key, {})[year] = row
    long: dict[str, list[dict]] = {}
    for row in _records(_long(newest, ["place", "year"], list(SEXES), "sex", "migrants")):
        long.setdefault(row["place"], []).append(
            {name: row[name] for name in ("year", "sex", "migrants")}
        )
    csv = newest.assign(revision=data.revision)[["revision", "year", *SEXES]]
    result = {
        str(key): (cells[str(key)], frame.reset_index(drop=True), long.get(str(key), []))
        for key, frame in csv.groupby(newest["place"])
    }
    return result


def _comparators(data: SiteData, place: Place) -> list[Place]:
    """The place, then its sub-region (countries), then the Arab region."""
    region = data.place("arab-region")
    chain = [place]
    if place.kind == "country" and place.subregion:
        chain.append(
            next(p for p in data.places if p.kind == "subregion" and p.name == place.subregion)
        )
    if place is not region:
        chain.append(region)
    return chain


def female_chart(t: Translator, data: SiteData, place: Place) -> SiteChart | None:
    chain = _comparators(data, place)
    numbers = _once(data, "female", place, lambda: _female_numbers(data, chain))
    if numbers is None:
        return None
    cells, csv, long = numbers  # columns and series: the places' keys
    keys = [other.key for other in chain]
    names = [place_name(t, other) for other in chain]
    first, last = int(min(cells)), int(max(cells))
    table = Table(
        "female_share",
        t("site.female.table", revision=t.year(data.revision)),
        [t("col.year"), *names],
        [[Cell(t.year(year)), *(_pct2(t, row[k]) for k in keys)] for year, row in cells.items()],
        csv,
    )
    alt_text = t(
        "site.female.alt",
        first=t.year(first),
        last=t.year(last),
        place=names[0],
        pct=t.percent(_float(cells[last][keys[0]]), decimals=2),
        region_pct=t.percent(_float(cells[last][keys[-1]]), decimals=2),
    )
    rows = _named(long, "series", dict(zip(keys, names, strict=True)))
    return SiteChart(
        "female_share",
        t("site.female.heading"),
        alt_text,
        _chart_spec(t, "female", rows, alt_text),
        table,
        False,
    )


def _female_numbers(data: SiteData, chain: list[Place]):
    """Women's share of the migrants of each place of ``chain`` by year (newest revision;
    the years of any of them, NaN where one has none), columns named by place key: the
    cells (year -> {key: share}, by year), the CSV and the chart rows; None if the first
    place has no share."""
    shares, charted = _female_shares(data)
    keys = [other.key for other in chain]
    years = sorted({year for key in keys for year in shares.get(key, {})})
    cells = {year: {key: shares.get(key, {}).get(year, math.nan) for key in keys} for year in years}
    if all(pd.isna(row[keys[0]]) for row in cells.values()):  # none at all, too
        return None
    csv = pd.DataFrame(
        {
            "year": np.array(years, dtype=data.female["year"].dtype),
            **{key: np.array([cells[year][key] for year in years], dtype=float) for key in keys},
            "revision": data.revision,
        }
    )
    long = [
        {"year": year, "series": key, "share": charted[key][year]}
        for key in keys
        for year in years
        if not pd.isna(cells[year][key])
    ]
    return cells, csv, long


@_per_build
def _female_shares(data: SiteData) -> tuple[dict[str, dict], dict[str, dict]]:
    """Women's share of the migrants by year (newest revision), by place key: year ->
    share, and year -> the share as the charts' JSON carries it. Made once for all places
    (each place's chart shows its sub-region's and the region's too)."""
    rows = data.female[data.female["revision"] == data.revision]
    shares: dict[str, dict] = {}
    charted: dict[str, dict] = {}
    for key, year, share in zip(
        rows["place"].tolist(),
        rows["year"].tolist(),
        rows["female_share_pct"].tolist(),
        strict=True,
    ):
        shares.setdefault(str(key), {})[year] = share
    for row in _records(rows[["place", "year", "female_share_pct"]]):
        charted.setdefault(str(row["place"]), {})[row["year"]] = row["female_share_pct"]
    return shares, charted


def _pct2(t: Translator, value: object) -> Cell:
    return Cell(t.percent(_float(value), decimals=2), _raw(value))


def share_chart(t: Translator, data: SiteData, place: Place, name: str) -> SiteChart | None:
    numbers = _share_numbers(data).get(place.key)
    if numbers is None:
        return None
    cells, people, region_share, csv, long = numbers  # long: series are place keys
    region = data.place("arab-region")
    first, last = int(min(cells)), int(max(cells))
    headers = [t("col.year"), *(t(f"site.sex.{s}") for s in SEXES), t("site.col.population")]
    show_region = place is not region
    if show_region:
        headers.append(t("site.col.region_share"))
    table_rows = []
    for year, shares in cells.items():
        row = [Cell(t.year(year)), *(_pct2(t, shares[s]) for s in SEXES)]
        row.append(_num(t, people.get(year)))
        if show_region:
            row.append(_pct2(t, region_share.get(year)))
        table_rows.append(row)
    table = Table(
        "migrant_share",
        t("site.share.table", revision=t.year(data.revision)),
        headers,
        table_rows,
        csv,
    )
    alt_text = t(
        "site.share.alt",
        first=t.year(first),
        last=t.year(last),
        place=name,
        pct=t.percent(_float(cells[last]["total"]), decimals=2),
        region_pct=t.percent(_float(region_share.get(last)), decimals=2),
    )
    names = {region.key: place_name(t, region), place.key: name}
    return SiteChart(
        "migrant_share",
        t("site.share.heading"),
        alt_text,
        _chart_spec(t, "share", _named(long, "series", names), alt_text),
        table,
        True,
    )


@_per_build
def _share_numbers(data: SiteData) -> dict[str, tuple]:
    """Migrants' share of the population by sex and year (newest revision), by place key
    (a place with no share has none): its cells (year -> {sex: share}, by year), its
    population and the region's total share (year -> value), the CSV and the chart rows
    (the place's, then the region's; series: place keys). Made for all places at once."""
    every = _share_wide(data)
    region = data.place("arab-region")
    places = every["place"].tolist()
    years = every["year"].tolist()
    cells: dict[str, dict] = {}
    people: dict[str, dict] = {}
    rows = every[list(SEXES)].to_dict("records")
    for key, year, row, population in zip(
        places, years, rows, every["total_population"].tolist(), strict=True
    ):
        cells.setdefault(key, {})[year] = row
        people.setdefault(key, {})[year] = population
    # the region's share needs every member's population: none without totals
    region_share = {year: row["total"] for year, row in cells.get(region.key, {}).items()}
    long: dict[tuple[str, str], list[dict]] = {}
    frame = every.rename(columns={"place": "series"})
    for row in _records(_long(frame, ["year", "series"], list(SEXES), "sex", "share")):
        long.setdefault((row["series"], row["sex"]), []).append(row)
    by_year = every.loc[every["place"] == region.key].set_index("year")["total"]
    csv = every[["year", *SEXES]].assign(
        revision=data.revision,
        total_population=every["total_population"].to_numpy(),
        arab_region_total=every["year"].map(by_year).to_numpy(),
    )
    result = {}
    for key, table in csv.groupby(every["place"]):
        key = str(key)
        if all(pd.isna(row["total"]) for row in cells[key].values()):
            continue
        chain = [key] if key == region.key else [key, region.key]
        rows = [row for sex in SEXES for other in chain for row in long.get((other, sex), [])]
        if key == region.key:
            table = table.drop(columns=["arab_region_total"])
        result[key] = (cells[key], people[key], region_share, table.reset_index(drop=True), rows)
    return result


def _members(data: SiteData) -> pd.DataFrame:
    """place (its key) -> the M49 codes of the countries it sums."""
    pairs = [(place.key, code) for place in data.places for code in place.members]
    return pd.DataFrame(pairs, columns=["place", "member"])


@_per_build
def bilateral_numbers(data: SiteData) -> dict[str, dict]:
    """Language-free, for all places at once: the top ten origins and destinations of
    emigrants (by sex, with the share of all: ``_rankings``) and the intra-Arab sums, by
    place key."""
    members = _members(data)
    immigrants = data.immigrants.merge(members, left_on="destination_code", right_on="member")
    emigrants = data.emigrants.merge(members, left_on="origin_code", right_on="member")
    result: dict[str, dict] = {}
    for key, frame, code, label, countries in (
        ("origins", immigrants, "origin_code", "origin", immigrants["origin_kind"] == "country"),
        (
            "destinations",
            emigrants,
            "destination_code",
            "destination",
            emigrants["migrants"].notna(),
        ),
    ):
        everyone = frame[frame["sex"] == "total"].groupby("place")["migrants"].sum()
        rows = frame[countries]
        wide = rows.pivot_table(
            index=["place", code], columns="sex", values="migrants", aggfunc="sum"
        ).reindex(columns=list(SEXES))
        wide["name"] = rows.groupby(["place", code])[label].first()
        wide = wide.reset_index().rename(columns={code: "code"})
        wide = wide[wide["total"] > 0].sort_values(
            ["place", "total", "name"], ascending=[True, False, True]
        )
        top = wide.groupby("place").head(TOP).copy()
        top["share_pct"] = 100 * top["total"] / top["place"].map(everyone).where(lambda v: v > 0)
        result[key] = _rankings(data, top)
    total_in, total_out = immigrants["sex"] == "total", emigrants["sex"] == "total"
    sums = pd.DataFrame(
        {
            "immigrants_all": immigrants[total_in].groupby("place")["migrants"].sum(),
            "from_arab": immigrants[total_in & immigrants["origin_is_arab"]]
            .groupby("place")["migrants"]
            .sum(),
            "emigrants_all": emigrants[total_out].groupby("place")["migrants"].sum(),
            "in_arab": emigrants[total_out & emigrants["destination_is_arab"]]
            .groupby("place")["migrants"]
            .sum(),
        }
    ).fillna(0)
    result["intra"] = {str(k): row for k, row in sums.to_dict("index").items()}
    return result


def _ranking(t: Translator, data: SiteData, key: str, place: Place, name: str) -> SiteChart | None:
    """Top origins (``key`` origins) or destinations of emigrants, by sex."""
    numbers = bilateral_numbers(data)[key].get(place.key)
    if numbers is None:
        return None
    records, csv, long = numbers
    names = [t.place(int(row["code"]), row["name"]) for row in records]
    r, y = data.bilateral_revision, data.bilateral_year
    table = Table(
        key,
        t(f"site.{key}.table", revision=t.year(r), year=t.year(y)),
        [
            t("col.rank"),
            t("site.col.origin" if key == "origins" else "site.col.residence"),
            *(t(f"site.sex.{s}") for s in SEXES),
            t(f"site.{key}.col_share"),
        ],
        [
            [
                Cell(t.number(rank)),
                Cell(label),
                _num(t, row["total"]),
                _num(t, row["female"]),
                _num(t, row["male"]),
                _pct(t, row["share_pct"]),
            ]
            for rank, (label, row) in enumerate(zip(names, records, strict=True), 1)
        ],
        csv,
    )
    first = records[0]
    alt_text = t(
        f"site.{key}.alt",
        n=t.number(len(records)),
        place=name,
        top=names[0],
        top_n=t.number(_int(first["total"])),
        top_pct=t.percent(_float(first["share_pct"])),
    )
    return SiteChart(
        key,
        t(f"site.{key}.title", place=name),
        alt_text,
        _chart_spec(t, key, _named(long, "name", names), alt_text),
        table,
        True,
    )


def _rankings(data: SiteData, top: pd.DataFrame) -> dict[str, tuple]:
    """Every place's ranking (``top``: all places' rows, in order), by place key: its rows
    as dicts, its CSV and its chart rows (``name``: the row's position in the ranking,
    named per language). Made for all places at once."""
    csv = (
        top[["code", "name", *SEXES, "share_pct"]]
        .assign(revision=data.bilateral_revision, year=data.bilateral_year)
        .assign(code=top["code"].astype(int))
        .loc[:, ["revision", "year", "code", "name", *SEXES, "share_pct"]]
    )
    records: dict[str, list[dict]] = {}
    for key, row in zip(top["place"].tolist(), top.to_dict("records"), strict=True):
        records.setdefault(str(key), []).append(row)
    positions = top.assign(name=top.groupby("place").cumcount())
    long: dict[str, list[dict]] = {}
    for row in _records(_long(positions, ["place", "name"], list(SEXES), "sex", "migrants")):
        long.setdefault(str(row["place"]), []).append(
            {name: row[name] for name in ("name", "sex", "migrants")}
        )
    return {
        str(key): (records[str(key)], frame.reset_index(drop=True), long.get(str(key), []))
        for key, frame in csv.groupby(top["place"])
    }


def bilateral_sections(t: Translator, data: SiteData, page: PlacePage) -> None:
    if data.bilateral_revision is None:
        return
    for key in ("origins", "destinations"):
        chart = _ranking(t, data, key, page.place, page.name)
        if chart is not None:
            page.charts[chart.key] = chart
    frame, records = _intra_numbers(data)[page.place.key]
    page.tables["intra_arab"] = Table(
        "intra_arab",
        t(
            "site.intra.table",
            revision=t.year(data.bilateral_revision),
            year=t.year(data.bilateral_year),
        ),
        [t("col.measure"), t("col.intra_arab"), t("col.of_all"), t("col.share")],
        [
            [
                Cell(t(f"site.intra.{row.measure}")),
                _num(t, row.intra_arab),
                _num(t, row.of_all),
                _pct(t, row.share_pct),
            ]
            for row in records
        ],
        frame,
    )


@_per_build
def _intra_numbers(data: SiteData) -> dict[str, tuple]:
    """Every place's intra-Arab table, by place key: its frame (the CSV) and its rows.
    Made for all places at once (two rows each)."""
    sums = bilateral_numbers(data)["intra"]
    keys = [place.key for place in data.places]
    values = []
    for key in keys:
        row = sums.get(key)
        if row is None:
            values.append([0, 0, 0, 0])
            continue
        names = ("from_arab", "in_arab", "immigrants_all", "emigrants_all")
        values.append([int(row[name]) for name in names])
    frame = pd.DataFrame(
        {
            "revision": data.bilateral_revision,
            "year": data.bilateral_year,
            "measure": ["of_immigrants", "of_emigrants"] * len(keys),
            "intra_arab": [value for four in values for value in four[:2]],
            "of_all": [value for four in values for value in four[2:]],
        }
    )
    frame["share_pct"] = 100 * frame["intra_arab"] / frame["of_all"].where(frame["of_all"] > 0)
    rows = list(frame.itertuples())
    result = {
        key: (frame.iloc[2 * i : 2 * i + 2], rows[2 * i : 2 * i + 2]) for i, key in enumerate(keys)
    }
    return result


def refugees_table(t: Translator, data: SiteData, place: Place) -> Table | None:
    numbers = _once(data, "refugees", place, lambda: _refugee_rows(data, place))
    if numbers is None:
        return None
    revision, records, csv = numbers
    return Table(
        "refugees",
        t("site.refugees.table", revision=t.year(revision)),
        [
            t("col.year"),
            t("col.refugees"),
            t("col.refugee_share"),
            t("col.in_stock"),
            t("col.migrants_and_refugees"),
        ],
        [
            [
                Cell(t.year(int(row.year))),
                _num(t, row.refugees),
                _pct(t, row.refugee_share),
                Cell(t("yes") if row.in_stock else t("no")),
                _num(t, row.migrants_and_refugees),
            ]
            for row in records
        ],
        csv,
    )


def _refugee_rows(data: SiteData, place: Place):
    """A place's refugees: their revision, rows and CSV (None if it has none)."""
    csv, rows = _table_rows(data, "refugees", lambda data: data.refugees, ["place"])
    chosen = [i for i, row in enumerate(rows) if row.place == place.key]
    if not chosen:
        return None
    return int(rows[chosen[0]].revision), [rows[i] for i in chosen], csv.take(chosen)


def _table_rows(data: SiteData, name: str, build, drop: list[str]):
    """``build(data)`` for all places (a table's rows): the frame without its ``drop``
    columns (the CSV's), and its rows as named tuples. Made once per site build: each place
    takes its rows from them."""
    key = ("rows", name)
    if key not in data._split:
        frame = build(data)
        data._split[key] = frame.drop(columns=drop), list(frame.itertuples())
    return data._split[key]


def _with_names(data: SiteData, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a ``code`` column: Arab countries) with their English ``name``."""
    return frame.assign(name=[_country_name(data, int(c)) for c in frame["code"]])


def letters_in_words(t: Translator, letters: str) -> str:
    return "; ".join(
        t.maybe(f"site.letter.{letter}", letter) for letter in str(letters or "").split()
    )


def basis_table(t: Translator, data: SiteData, place: Place) -> Table | None:
    numbers = _once(data, "data_type", place, lambda: _basis_rows(data, place))
    if numbers is None:
        return None
    revision, records, csv = numbers
    return Table(
        "data_type",
        t("site.basis.table", revision=t.year(revision)),
        [
            t("col.country"),
            t("col.data_type"),
            t("site.col.data_type_words"),
            t("col.refugees_added"),
        ],
        [
            [
                Cell(t.place(int(row.code), row.name)),
                Cell(str(row.data_type), lang="en"),
                Cell(letters_in_words(t, row.data_type)),
                Cell(t("yes") if row.refugees_added else t("no")),
            ]
            for row in records
        ],
        csv,
    )


def _basis_rows(data: SiteData, place: Place):
    """The data basis of the place's countries, by English name: its revision, rows and
    CSV (None if none)."""
    csv, rows = _table_rows(data, "data_type", lambda data: _with_names(data, data.basis), [])
    members = set(place.members)
    chosen = [i for i, row in enumerate(rows) if row.code in members]
    if not chosen:
        return None
    chosen.sort(key=lambda i: rows[i].name)
    csv = csv.take(chosen)[["revision", "code", "name", "data_type", "basis", "refugees_added"]]
    return int(rows[chosen[0]].revision), [rows[i] for i in chosen], csv


def _country_name(data: SiteData, code: int) -> str:
    return next(p.name for p in data.places if p.code == code)


def notes_table(t: Translator, data: SiteData, place: Place) -> Table | None:
    numbers = _once(data, "notes", place, lambda: _note_rows(data, place))
    if numbers is None:
        return None
    revision, records, csv = numbers
    published = None if t.lang == "en" else "en"  # the UN publishes its notes in English
    return Table(
        "notes",
        t("site.notes.table", revision=t.year(revision)),
        [t("col.country"), t("col.note"), t("col.text")],
        [
            [
                Cell(t.place(int(row.code), row.name)),
                Cell(t.number(row.note_number)),
                Cell(row.note_text, lang=published),
            ]
            for row in records
        ],
        csv,
    )


def _note_rows(data: SiteData, place: Place):
    """The notes on the place's countries: their revision, rows and CSV (None if none)."""
    csv, rows = _table_rows(data, "notes", lambda data: _with_names(data, data.notes), [])
    members = set(place.members)
    chosen = [i for i, row in enumerate(rows) if row.code in members]
    if not chosen:
        return None
    csv = csv.take(chosen)[["revision", "code", "name", "note_number", "note_text"]]
    return int(rows[chosen[0]].revision), [rows[i] for i in chosen], csv


def revisions_chart(t: Translator, data: SiteData, place: Place, name: str) -> SiteChart | None:
    numbers = _revision_numbers(data).get(place.key)
    if numbers is None:
        return None
    csv, records, biggest, long, revisions = numbers
    rows = [
        [
            Cell(t.year(row["year"])),
            Cell(t.year(row["revision"])),
            _num(t, row["total"]),
            _num(t, row["female"]),
            _num(t, row["male"]),
            Cell(
                "–" if pd.isna(row["previous_revision"]) else t.year(int(row["previous_revision"]))
            ),
            Cell(t.signed(_int(row["change"])), _raw(row["change"])),
            _pct(t, row["change_pct"], signed=True),
        ]
        for row in records
    ]
    table = Table(
        "revisions",
        t("site.revisions.table"),
        [
            t("col.year"),
            t("col.revision"),
            *(t(f"site.sex.{s}") for s in SEXES),
            t("col.previous_revision"),
            t("col.change"),
            t("col.change_pct"),
        ],
        rows,
        csv,
    )
    detail = ""
    if biggest is not None:
        detail = t(
            "revisions.alt.biggest",
            year=t.year(int(biggest["year"])),
            revision=t.year(int(biggest["revision"])),
            previous=t.year(int(biggest["previous_revision"])),
            pct=t.percent(float(biggest["change_pct"]), signed=True),
        )
    alt_text = t("site.revisions.alt", n=t.number(revisions), place=name, detail=detail)
    labels = {r["revision"]: None for r in long}
    labels = {r: t("revisions.series", revision=t.year(int(r))) for r in labels}
    return SiteChart(
        "revisions",
        t("site.revisions.heading"),
        alt_text,
        _chart_spec(t, "revisions", _named(long, "revision", labels, "series"), alt_text),
        table,
        True,
    )


@_per_build
def _revision_numbers(data: SiteData) -> dict[str, tuple]:
    """Every place's revisions table (its CSV, and its rows as dicts), its biggest revision
    change (None if none), its chart rows (year, sex, revision, migrants) and how many
    revisions it has, by place key: made for all places at once, once per site build."""
    every = _stock_wide(data)
    csv = every.drop(columns=["place"])
    records: dict[str, list[dict]] = {}
    for key, row in zip(every["place"].tolist(), csv.to_dict("records"), strict=True):
        records.setdefault(key, []).append(row)
    long: dict[str, list[dict]] = {}
    ids = ["place", "year", "revision"]
    for row in _records(_long(every, ids, list(SEXES), "sex", "migrants")):
        long.setdefault(row["place"], []).append(
            {name: row[name] for name in ("year", "sex", "revision", "migrants")}
        )
    result = {}
    for key, frame in csv.groupby(every["place"]):
        rows = records[str(key)]
        changed = [row for row in rows if not pd.isna(row["change_pct"])]
        biggest = max(changed, key=lambda row: abs(row["change_pct"])) if changed else None
        revisions = len({row["revision"] for row in rows})
        result[str(key)] = (
            frame.reset_index(drop=True),
            rows,
            biggest,
            long.get(str(key), []),
            revisions,
        )
    return result


def members_table(
    t: Translator, data: SiteData, place: Place, figures_of: dict[str, list[Figure]]
) -> Table:
    rows, records = [], []
    for member in sorted((p for p in data.places if p.code in place.members), key=lambda p: p.name):
        figures = {f.key: f.value for f in figures_of[member.slug]}
        rows.append(
            [
                Cell(place_name(t, member)),
                _num(t, figures.get("migrants")),
                _pct2(t, figures.get("female_share_pct")),
                _pct2(t, figures.get("migrant_share_pct")),
            ]
        )
        records.append(
            {
                "code": member.code,
                "name": member.name,
                "migrants": figures.get("migrants"),
                "female_share_pct": figures.get("female_share_pct"),
                "migrant_share_pct": figures.get("migrant_share_pct"),
            }
        )
    frame = pd.DataFrame(records).assign(revision=data.revision, year=data.year)
    table = Table(
        "members",
        t("site.members.table", revision=t.year(data.revision), year=t.year(data.year)),
        [t("col.country"), t("col.migrants"), t("col.female_share"), t("fig.migrant_share")],
        rows,
        frame,
    )
    table.links = [  # type: ignore[attr-defined]
        p.slug
        for p in sorted((p for p in data.places if p.code in place.members), key=lambda p: p.name)
    ]
    return table


def build_place_page(
    t: Translator, data: SiteData, place: Place, figures_of: dict[str, list[Figure]]
) -> PlacePage:
    """The profile of ``place``; ``figures_of``: every place's key figures (slug -> list)."""
    name = place_name(t, place)
    page = PlacePage(t, place, name, figures_of[place.slug])
    for chart in (
        stock_chart(t, data, place, name),
        female_chart(t, data, place),
        share_chart(t, data, place, name),
    ):
        if chart is not None:
            page.charts[chart.key] = chart
    bilateral_sections(t, data, page)
    refugees = refugees_table(t, data, place)
    if refugees is not None:
        page.tables["refugees"] = refugees
    for table in (basis_table(t, data, place), notes_table(t, data, place)):
        if table is not None:
            page.tables[table.key] = table
    flows_sections(t, data, page)
    revisions = revisions_chart(t, data, place, name)
    if revisions is not None:
        page.charts["revisions"] = revisions
    if place.kind != "country":
        page.tables["members"] = members_table(t, data, place, figures_of)
    age_sections(t, data, page)
    return page


def headline_frame(data: SiteData, page: PlacePage) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": [f.key for f in page.figures],
            "label": [f.label for f in page.figures],
            "value": [f.value for f in page.figures],
            "revision": data.revision,
            "year": data.year,
        }
    )


def region_name(t: Translator) -> str:
    return t.place(None, ARAB_REGION)


# ---------------------------------------------------------------- estimated flows

#: the measures of the flows chart and table, in order
FLOW_MEASURES = ("inflow", "outflow", "net")
#: the method the profiles show (the others are in the CSV)
SHOWN_METHOD = "demographic_account"


def _flows_chart(t: Translator, rows: alt.Data) -> alt.TopLevelMixin:
    """Inflows, outflows and net migration per period: bars side by side, by sex."""
    measure_tip = _tip("measure:N", t("site.flows.col.measure"))
    period = alt.X(
        "period:O",
        title=t("site.flows.col.period"),
        sort=alt.EncodingSortField("period_start", order="descending" if t.rtl else "ascending"),
        axis=alt.Axis(labelAngle=0),
    )
    chart = (
        alt.Chart(rows)
        .transform_filter("datum.sex == sex")
        .mark_bar()
        .encode(
            x=period,
            xOffset=alt.XOffset("measure:N", sort=alt.EncodingSortField("order")),
            y=alt.Y(
                "persons:Q",
                title=t("site.flows.col.persons"),
                axis=alt.Axis(orient="right" if t.rtl else "left", format=",.0f", titlePadding=18),
            ),
            color=alt.Color(
                "measure:N",
                title=None,
                sort=alt.EncodingSortField("order"),
                scale=alt.Scale(range=[charts.PALETTE[0], charts.PALETTE[1], charts.PALETTE[2]]),
                legend=alt.Legend(orient="bottom", direction="horizontal"),
            ),
            tooltip=[
                _tip("period:N", t("site.flows.col.period")),
                measure_tip,
                _tip("persons:Q", t("site.flows.col.persons"), ",.0f"),
            ],
        )
        .add_params(alt.param(name="sex", value="total"))
        .properties(width=charts.WIDTH, height=260)
    )
    return chart


def _period(t: Translator, start: int, end: int, text: bool = True) -> str:
    """``1990–1995``; in text (``text``), one left-to-right run that never wraps (an
    Arabic page would otherwise show 1995–1990); chart labels are laid out by Vega."""
    if not text:
        return f"{t.year(start)}–{t.year(end)}"
    return t._isolate(f"{t.year(start)}\u2060–\u2060{t.year(end)}")


@_per_build
def _flow_numbers(data: SiteData) -> dict[str, tuple]:
    """Every place's flows, by place key: its table rows (period -> {(measure, sex):
    persons}, the method shown), the CSV (every sex and method) and the chart rows
    (period, sex, measure, persons). Made for all places at once."""
    flows = data.flows
    if flows.empty:
        return {}
    csv = flows.drop(columns=["place"])
    shown = flows[flows["method"] == SHOWN_METHOD]
    result = {}
    for key, frame in shown.groupby("place"):
        cells: dict[tuple[int, int], dict] = {}
        long = []
        for row in frame.itertuples(index=False):
            period = (int(row.period_start), int(row.period_end))
            for order, measure in enumerate(FLOW_MEASURES):
                value = float(getattr(row, measure))
                cells.setdefault(period, {})[(measure, row.sex)] = value
                long.append(
                    {
                        "period_start": period[0],
                        "period_end": period[1],
                        "sex": row.sex,
                        "measure": measure,
                        "order": order,
                        "persons": round(value, 1),
                    }
                )
        mine = csv[flows["place"] == key].reset_index(drop=True)
        result[str(key)] = (dict(sorted(cells.items())), mine, long)
    return result


def flows_sections(t: Translator, data: SiteData, page: PlacePage) -> None:
    """ "Estimated movements between reference years": a chart of inflows, outflows and
    net by period (with its table), and the main origins of newcomers and destinations
    of leavers in the last period. Nothing when the store has no flows for the place."""
    numbers = _flow_numbers(data).get(page.place.key)
    if numbers is None or data.flow_estimate is None:
        return
    cells, csv, long = numbers
    revision = int(data.flow_estimate["revision"])
    periods = list(cells)
    table = Table(
        "flows",
        t("site.flows.table", revision=t.year(revision)),
        [
            t("site.flows.col.period"),
            *(t(f"site.flows.col.{m}_sex", sex=t(f"site.sex.{s}")) for m in FLOW_MEASURES[:2]
              for s in SEXES),
            t("site.flows.col.net"),
        ],
        [
            [
                Cell(_period(t, *period)),
                *(_flow_cell(t, row.get((m, s))) for m in FLOW_MEASURES[:2] for s in SEXES),
                _flow_cell(t, row.get(("net", "total")), signed=True),
            ]
            for period, row in cells.items()
        ],
        csv,
    )  # fmt: skip
    last = periods[-1]
    latest = cells[last]
    alt_text = t(
        "site.flows.alt",
        place=page.name,
        n=t.number(len(periods)),
        first=t.year(periods[0][0]),
        last=t.year(last[1]),
        period=_period(t, *last),
        inflow=t.number(_rounded(latest.get(("inflow", "total")))),
        outflow=t.number(_rounded(latest.get(("outflow", "total")))),
        net=t.signed(_rounded(latest.get(("net", "total")))),
    )
    labels = {m: t(f"site.flows.measure.{m}") for m in FLOW_MEASURES}
    rows = [
        {**row, "period": _period(t, row["period_start"], row["period_end"], text=False)}
        for row in _named(long, "measure", labels)
    ]
    page.charts["flows"] = SiteChart(
        "flows",
        t("site.flows.title", place=page.name),
        alt_text,
        _chart_spec(t, "flows", rows, alt_text),
        table,
        True,
    )
    for key, frame in (
        ("flow_origins", data.flow_origins),
        ("flow_destinations", data.flow_destinations),
    ):
        mine = frame[frame["place"] == page.place.key]
        if mine.empty:
            continue
        first = mine.iloc[0]
        period = _period(t, int(first["period_start"]), int(first["period_end"]))
        page.tables[key] = Table(
            key,
            t(f"site.{key}.table", period=period, revision=t.year(revision)),
            [t("col.rank"), t(f"site.{key}.col"), t("site.flows.col.persons")],
            [
                [Cell(t.number(int(r.rank))), Cell(t.place(int(r.code), r.name)),
                 _flow_cell(t, r.flow)]
                for r in mine.itertuples(index=False)
            ],
            mine.drop(columns=["place"]).reset_index(drop=True),
        )  # fmt: skip


def _rounded(value: float | None) -> int | None:
    return None if value is None or pd.isna(value) else round(float(value))


def _flow_cell(t: Translator, value: object, signed: bool = False) -> Cell:
    """An estimated number of persons, shown rounded to a whole person."""
    number = _rounded(value)  # type: ignore[arg-type]
    text = t.signed(number) if signed else t.number(number)
    return Cell(text, None if number is None else round(float(value), 1))  # type: ignore[arg-type]


def flow_citation(data: SiteData) -> dict[str, str | None]:
    """How the flows shown are cited: the methods, and WPP with its file when used."""
    estimate = data.flow_estimate or {}
    return {
        "method": estimate.get("method_citation"),
        "wpp": estimate.get("wpp_citation"),
        "wpp_file": estimate.get("wpp_file"),
        "wpp_sha256": estimate.get("wpp_sha256"),
    }


# ---------------------------------------------------------------- migrants by age

#: the 16 age groups of the age workbooks, youngest first ('total' is all ages)
AGE_GROUPS: tuple[str, ...] = (*(f"{a}-{a + 4}" for a in range(0, 75, 5)), "75+")
#: the rows of the age structure table: (column, sex, message)
AGE_MEASURES = (
    ("share_under_15_pct", "total", "site.age.under_15"),
    ("share_under_20_pct", "total", "site.age.under_20"),
    ("share_20_64_pct", "total", "site.age.20_64"),
    ("share_65_plus_pct", "total", "site.age.65_plus"),
    ("median_age", "total", "site.age.median.total"),
    ("median_age", "female", "site.age.median.female"),
    ("median_age", "male", "site.age.median.male"),
)
AGE_STRUCTURE_CSV = [
    "revision", "year", "level", "code", "name", "sex", "migrants", "share_under_15_pct",
    "share_under_20_pct", "share_20_64_pct", "share_65_plus_pct", "median_age",
    "countries_reporting",
]  # fmt: skip


def age_label(t: Translator, group: str, chart: bool = False) -> str:
    """An age group in words: "0–4", "75+" (Arabic «75 فأكثر»), "All ages". In a
    right-to-left table "0–4" is one left-to-right run (not "4–0"); in a chart (SVG laid out
    left to right) the Arabic "75 and over" is one right-to-left run."""
    if group == "total":
        return t("site.age.all")
    if group.endswith("+"):
        text = t("site.age.open", low=group[:-1])
        return f"\u2067{text}\u2069" if chart and t.rtl else text
    low, high = group.split("-")
    text = t("site.age.band", low=low, high=high)
    return text if chart else t.ltr(text)


@cache
def _pyramid_template(lang: str) -> dict:
    """The Vega-Lite spec of the age pyramid in ``lang``, its data named ``rows`` (age,
    sex, migrants, pct) and its half-width the parameter ``extent``."""
    t = Translator(lang)  # type: ignore[arg-type]
    chart = charts.pyramid_chart(
        alt.Data(name="rows"),
        age="age",
        order=[age_label(t, group, chart=True) for group in reversed(AGE_GROUPS)],
        value="migrants",
        sex="sex",
        sex_labels={"male": t("site.sex.male"), "female": t("site.sex.female")},
        value_title=t("col.migrants"),
        rtl=t.rtl,
        axis_description=t("site.age.axis"),
        tooltip=[
            _tip("age:N", t("site.age.col.age")),
            _tip("sex_label:N", t("site.age.col.sex")),
            _tip("migrants:Q", t("col.migrants"), ","),
            _tip("pct:Q", t("site.age.col.pct_of_sex"), ".2f"),
        ],
    )
    spec = charts.spec(chart)
    spec.pop("datasets", None)
    spec["autosize"] = {"type": "fit-x", "contains": "padding"}
    spec["width"] = "container"
    return spec


def _nice_extent(value: float) -> int:
    """The half-width of a pyramid's axis: ``value`` rounded up to 1, 2, 2.5 or 5 × 10^k."""
    if not value or value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    step = next(s for s in (1, 2, 2.5, 5, 10) if s * power >= value)
    return math.ceil(step * power)


@_per_build
def _age_numbers(data: SiteData) -> dict[str, tuple]:
    """Migrants by age group and sex (``data.age``: the newest year of the newest revision
    with age data), by place key; a place none of whose groups has a value has none. Each:
    its rows (age group, male, female, total, the group's share of all migrants, population,
    migrants' share of it; the all-ages row last) as the CSV and as dicts, the chart rows
    (age, sex, migrants, pct: the group's share of the migrants of that sex) and the
    pyramid's half-width. Made for all places at once (one reshaping, then split)."""
    frame = data.age
    if frame.empty:
        return {}
    groups = [*AGE_GROUPS, "total"]
    bands = frame[(frame["age_group"] != "total") & frame["migrants"].notna()]
    charted = bands[bands["sex"] != "total"]
    places = [str(key) for key in bands["place"].unique()]  # some group has a value
    index = pd.MultiIndex.from_product([places, groups], names=["place", "age_group"])
    counts = frame.pivot(index=["place", "age_group"], columns="sex", values="migrants")
    counts = counts.reindex(index=index, columns=list(SEXES))
    both = frame[frame["sex"] == "total"].set_index(["place", "age_group"]).reindex(index)
    every = pd.DataFrame(
        {
            "revision": data.age_revision,
            "year": data.age_year,
            "age_group": index.get_level_values("age_group"),
            "male": counts["male"].astype("Int64").to_numpy(),
            "female": counts["female"].astype("Int64").to_numpy(),
            "total": counts["total"].astype("Int64").to_numpy(),
            "pct_of_migrants": both["pct_of_migrants"].astype(float).to_numpy(),
            "population": both["population"].astype("Int64").to_numpy(),
            "migrant_share_of_population_pct": both["migrant_share_of_population_pct"]
            .astype(float)
            .to_numpy(),
        }
    )
    long: dict[str, list[dict]] = {}
    for row in charted[["place", "age_group", "sex", "migrants", "pct_of_migrants"]].to_dict(
        "records"
    ):
        long.setdefault(str(row["place"]), []).append(
            {"age": row["age_group"], "sex": row["sex"], "migrants": int(row["migrants"]),
             "pct": _float(row["pct_of_migrants"])}
        )  # fmt: skip
    result: dict[str, tuple] = {}
    size = len(groups)
    for i, key in enumerate(places):
        csv = every.iloc[i * size : (i + 1) * size].reset_index(drop=True)
        largest = max((row["migrants"] for row in long.get(key, [])), default=0)
        result[key] = (csv, csv.to_dict("records"), long.get(key, []), _nice_extent(largest))
    return result


@_per_build
def _age_structures(data: SiteData) -> dict[str, dict[str, dict]]:
    """The age structure (shares, median age) by place key and sex, as dicts."""
    result: dict[str, dict[str, dict]] = {}
    for row in data.age_structure.to_dict("records"):
        result.setdefault(str(row["place"]), {})[str(row["sex"])] = row
    return result


def age_pyramid(t: Translator, data: SiteData, place: Place, name: str) -> SiteChart | None:
    """The pyramid of the place's migrants by age and sex, with its table (None without age
    data for the place)."""
    numbers = _age_numbers(data).get(place.key)
    if numbers is None:
        return None
    csv, records, long, extent = numbers
    table = Table(
        "migrants_by_age",
        t("site.age.table", revision=t.year(data.age_revision), year=t.year(data.age_year)),
        [
            t("site.age.col.age"),
            t("site.sex.male"),
            t("site.sex.female"),
            t("site.sex.total"),
            t("site.age.col.pct"),
            t("site.age.col.population_share"),
        ],
        [
            [
                Cell(age_label(t, row["age_group"])),
                _num(t, row["male"]),
                _num(t, row["female"]),
                _num(t, row["total"]),
                _pct(t, row["pct_of_migrants"]),
                _pct(t, row["migrant_share_of_population_pct"]),
            ]
            for row in records
        ],
        csv,
    )
    medians = _age_structures(data).get(place.key, {})
    alt_text = t(
        "site.age.alt",
        place=name,
        year=t.year(data.age_year),
        revision=t.year(data.age_revision),
        total=t.number(_int(records[-1]["total"])),
        female=t.decimal(_float(medians.get("female", {}).get("median_age"))),
        male=t.decimal(_float(medians.get("male", {}).get("median_age"))),
    )
    labels = {group: age_label(t, group, chart=True) for group in AGE_GROUPS}
    spec = _pyramid_template(t.lang) | {
        "datasets": {"rows": _named(long, "age", labels)},
        "description": alt_text,
        "params": [{"name": "extent", "value": extent}],
    }
    return SiteChart(
        "migrants_by_age",
        t("site.age.title", year=t.year(data.age_year)),
        alt_text,
        _json(spec),
        table,
        False,
    )


def age_structure_table(t: Translator, data: SiteData, place: Place) -> Table | None:
    """The shares of children (under 15, under 20), of ages 20–64 and 65 and over, and the
    median age of women, men and both, beside the sub-region's and the region's (None
    without age data for the place)."""
    structures, frames = _age_structures(data), _age_structure_frames(data)
    if place.key not in structures:
        return None
    chain = [other for other in _comparators(data, place) if other.key in structures]
    rows = []
    for column, sex, label in AGE_MEASURES:
        cells = [Cell(t(label))]
        for other in chain:
            value = _float(structures[other.key].get(sex, {}).get(column))
            if column == "median_age":
                cells.append(Cell(t.decimal(value), _raw(value)))
            else:
                cells.append(_pct(t, value))
        rows.append(cells)
    csv = _once(
        data,
        "age_structure",
        place,
        lambda: pd.concat([frames[other.key] for other in chain], ignore_index=True),
    )
    return Table(
        "age_structure",
        t(
            "site.age.structure.table",
            revision=t.year(data.age_revision),
            year=t.year(data.age_year),
        ),
        [t("col.measure"), *(place_name(t, other) for other in chain)],
        rows,
        csv,
    )


@_per_build
def _age_structure_frames(data: SiteData) -> dict[str, pd.DataFrame]:
    """The age structure CSV rows of each place (its three sexes), by place key."""
    frame = data.age_structure.assign(
        revision=data.age_revision,
        year=data.age_year,
        code=data.age_structure["code"].astype("Int64"),
    )
    return {
        str(key): part[AGE_STRUCTURE_CSV].reset_index(drop=True)
        for key, part in frame.groupby("place", sort=False)
    }


def _age_note(t: Translator, data: SiteData, place: Place, name: str) -> str | None:
    """What the age section says besides its chart: that the place has no age data in that
    revision, or which member countries a region's sums lack."""
    numbers = _age_numbers(data)
    revision = t.year(data.age_revision)
    if place.key not in numbers:
        return t("site.age.none", place=name, revision=revision)
    if place.kind == "country":
        return None
    lacking = [
        other for other in data.places if other.code in place.members and other.key not in numbers
    ]
    if not lacking:
        return None
    return t(
        "site.age.coverage",
        n=t.number(len(place.members) - len(lacking)),
        m=t.number(len(place.members)),
        missing=", ".join(place_name(t, other) for other in lacking),
    )


def age_sections(t: Translator, data: SiteData, page: PlacePage) -> None:
    """The section on migrants by age: the pyramid, the age structure beside the region's,
    and what is missing (nothing without age data: the page then names the workbook)."""
    if data.age_revision is None:
        return
    chart = age_pyramid(t, data, page.place, page.name)
    if chart is not None:
        page.charts[chart.key] = chart
    table = age_structure_table(t, data, page.place)
    if table is not None:
        page.tables[table.key] = table
    note = _age_note(t, data, page.place, page.name)
    if note is not None:
        page.notes["age"] = note
