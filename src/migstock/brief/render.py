"""Turn the brief's numbers into one language's page: tables, charts, CSV files, HTML.

Every number shown is also in a ``<data value="...">`` element holding the exact value
from the store, and every table and chart is written as a CSV next to the page, so a
reader (or a test) can trace each figure back to the SQL that produced it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from migstock.brief import charts
from migstock.brief.i18n import Translator, _messages
from migstock.brief.queries import ARAB_REGION, SUBREGIONS, BriefData
from migstock.regions import ARAB_COUNTRIES


@dataclass
class Cell:
    text: str
    value: object | None = None  # the exact number behind ``text`` (None for labels)
    lang: str | None = None  # set when the text is not in the page's language


@dataclass
class Table:
    key: str  # also the CSV file name (key.csv)
    caption: str
    headers: list[str]
    rows: list[list[Cell]]
    frame: pd.DataFrame  # what the CSV holds: codes, names in the page language, raw values

    @property
    def csv(self) -> str:
        return f"{self.key}.csv"


@dataclass
class Chart:
    key: str
    title: str
    svg: str
    alt: str  # the text alternative: what the chart shows, in words
    table: Table


@dataclass
class Figure:
    key: str
    label: str
    text: str
    value: object
    note: str = ""


@dataclass
class Page:
    t: Translator
    data: BriefData
    figures: list[Figure]
    charts: dict[str, Chart] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    generated_at: str = ""
    age_line: Markup | None = None  # one sentence on the region's migrants by age


def _num(t: Translator, value: object) -> Cell:
    return Cell(t.number(None if pd.isna(value) else int(value)), _raw(value))


def _pct(t: Translator, value: object, signed: bool = False) -> Cell:
    return Cell(t.percent(None if pd.isna(value) else float(value), signed), _raw(value))


def _raw(value: object) -> object | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), 4) if isinstance(value, float) else int(value)


def _region(t: Translator, name: str) -> str:
    return t.place(None, name)


def headline_figures(t: Translator, data: BriefData) -> list[Figure]:
    h = data.headline
    figures = [
        Figure(
            "migrants",
            t("fig.migrants", year=t.year(h.year)),
            t.number(h.migrants),
            h.migrants,
            t("fig.migrants.note", millions=t.millions(h.migrants)),
        ),
        Figure(
            "female_share_pct",
            t("fig.female_share"),
            t.percent(h.female_share_pct),
            h.female_share_pct,
        ),
        Figure(
            "migrant_share_pct",
            t("fig.migrant_share"),
            t.percent(h.migrant_share_pct),
            h.migrant_share_pct,
        ),
    ]
    if h.change_since_first is not None:
        figures.append(
            Figure(
                "change_since_first",
                t("fig.change_since", year=t.year(h.first_year)),
                t.signed(h.change_since_first),
                h.change_since_first,
                t("fig.change_since.note", pct=t.percent(h.change_since_first_pct, signed=True)),
            )
        )
    if h.revision_change is not None:
        figures.append(
            Figure(
                "revision_change",
                t(
                    "fig.revision_change",
                    year=t.year(h.previous_year),
                    previous=t.year(h.previous_revision),
                ),
                t.signed(h.revision_change),
                h.revision_change,
                t(
                    "fig.revision_change.note",
                    pct=t.percent(h.revision_change_pct, signed=True),
                    previous=t.year(h.previous_revision),
                    old=t.number(h.previous_estimate),
                    new=t.number(h.this_estimate_of_previous_year),
                    revision=t.year(h.revision),
                ),
            )
        )
    if data.refugees is not None:
        r = data.refugees
        figures.append(
            Figure(
                "refugees",
                t("fig.refugees", year=t.year(r.year), revision=t.year(r.revision)),
                t.number(r.region["refugees"]),  # type: ignore[arg-type]
                _raw(r.region["refugees"]),
            )
        )
        figures.append(
            Figure(
                "migrants_and_refugees",
                t("fig.migrants_and_refugees", year=t.year(r.year)),
                t.number(r.region["migrants_and_refugees"]),  # type: ignore[arg-type]
                _raw(r.region["migrants_and_refugees"]),
                t("fig.palestine_caveat"),
            )
        )
    if data.flows is not None:
        figures.append(flows_figure(t, data))
    return figures


def flows_figure(t: Translator, data: BriefData) -> Figure:
    """The brief's one line on estimated flows: the region's net migration in the last
    period, with its inflows and outflows (estimates, said so)."""
    f = data.flows
    assert f is not None
    period = f"{t.year(f.period_start)}–{t.year(f.period_end)}"
    return Figure(
        "flows_net",
        t("fig.flows_net", period=period),
        t.signed(round(f.net)),
        round(f.net, 1),
        t(
            "fig.flows_net.note",
            inflow=t.number(round(f.inflow)),
            outflow=t.number(round(f.outflow)),
            revision=t.year(f.revision),
        )
        + ("" if f.vital_events else t("fig.flows_net.no_vital")),
    )


def subregion_chart(t: Translator, data: BriefData) -> Chart:
    frame = data.subregions.copy()
    frame["name"] = [_region(t, name) for name in frame["region"]]
    frame["millions"] = frame["migrants"] / 1e6
    wide = frame.pivot(index="year", columns="region", values="migrants").reindex(
        columns=[s for s in SUBREGIONS if s in set(frame["region"])]
    )
    table = Table(
        "subregions",
        t("subregions.table", revision=t.year(data.headline.revision)),
        [t("col.year"), *(_region(t, name) for name in wide.columns)],
        [
            [Cell(t.year(year)), *(_num(t, wide.at[year, col]) for col in wide.columns)]
            for year in wide.index
        ],
        frame[["year", "region", "name", "migrants"]],
    )
    last = frame[frame["year"] == frame["year"].max()].sort_values("migrants", ascending=False)
    alt = t(
        "subregions.alt",
        first=t.year(int(frame["year"].min())),
        last=t.year(int(frame["year"].max())),
        top=last.iloc[0]["name"] if len(last) else "",
        top_millions=t.millions(last.iloc[0]["migrants"]) if len(last) else "",
    )
    svg = charts.lines(
        frame,
        x="year",
        y="millions",
        series="name",
        x_title=t("col.year"),
        y_title=t("axis.millions"),
        rtl=t.rtl,
        series_order=[_region(t, s) for s in SUBREGIONS],
    )
    return Chart("subregions", t("subregions.title"), svg, alt, table)


def female_chart(t: Translator, data: BriefData) -> Chart:
    h = data.headline
    frame = data.female.copy()
    frame["name"] = [t.place(int(c), n) for c, n in zip(frame["code"], frame["name"], strict=True)]
    table = Table(
        "female_share",
        t("female.table", year=t.year(h.year), revision=t.year(h.revision)),
        [t("col.country"), t("col.female_share"), t("col.female_migrants"), t("col.migrants")],
        [
            [
                Cell(row.name),
                _pct(t, row.female_share_pct),
                _num(t, row.female_migrants),
                _num(t, row.all_migrants),
            ]
            for row in frame.itertuples()
        ],
        frame[["code", "name", "female_share_pct", "female_migrants", "all_migrants"]],
    )
    region_label = t("female.region_line", pct=t.percent(h.female_share_pct))
    alt = t(
        "female.alt",
        top=frame.iloc[0]["name"] if len(frame) else "",
        top_pct=t.percent(frame.iloc[0]["female_share_pct"]) if len(frame) else "",
        bottom=frame.iloc[-1]["name"] if len(frame) else "",
        bottom_pct=t.percent(frame.iloc[-1]["female_share_pct"]) if len(frame) else "",
        region_pct=t.percent(h.female_share_pct),
    )
    svg = charts.bars(
        frame,
        category="name",
        value="female_share_pct",
        value_title=t("axis.female_pct"),
        rtl=t.rtl,
        value_format=".0f",
        rule_value=h.female_share_pct,
        rule_label=region_label,
    )
    return Chart("female_share", t("female.title"), svg, alt, table)


def _ranking_chart(t: Translator, key: str, frame: pd.DataFrame, year: int, rev: int) -> Chart:
    frame = frame.copy()
    frame["name"] = [t.place(int(c), n) for c, n in zip(frame["code"], frame["name"], strict=True)]
    frame["millions"] = frame["migrants"] / 1e6
    table = Table(
        key,
        t(f"{key}.table", year=t.year(year), revision=t.year(rev)),
        [t("col.rank"), t("col.country"), t("col.migrants"), t(f"{key}.col_share")],
        [
            [Cell(t.number(i)), Cell(row.name), _num(t, row.migrants), _pct(t, row.share_pct)]
            for i, row in enumerate(frame.itertuples(), start=1)
        ],
        frame[["code", "name", "migrants", "share_pct"]],
    )
    alt = t(
        f"{key}.alt",
        n=t.number(len(frame)),
        top=frame.iloc[0]["name"] if len(frame) else "",
        top_millions=t.millions(frame.iloc[0]["migrants"]) if len(frame) else "",
    )
    svg = charts.bars(
        frame, category="name", value="millions", value_title=t("axis.millions"), rtl=t.rtl
    )
    return Chart(key, t(f"{key}.title"), svg, alt, table)


def intra_table(t: Translator, data: BriefData) -> Table:
    b = data.bilateral
    assert b is not None
    frame = b.intra.copy()
    frame["label"] = [t(f"intra.{m}") for m in frame["measure"]]
    return Table(
        "intra_arab",
        t("intra.table", year=t.year(b.year), revision=t.year(b.revision)),
        [t("col.measure"), t("col.intra_arab"), t("col.of_all"), t("col.share")],
        [
            [Cell(row.label), _num(t, row.intra_arab), _num(t, row.of_all), _pct(t, row.share_pct)]
            for row in frame.itertuples()
        ],
        frame[["measure", "label", "intra_arab", "of_all", "share_pct"]],
    )


def revisions_chart(t: Translator, data: BriefData) -> Chart:
    frame = data.revisions.copy()
    frame["millions"] = frame["migrants"] / 1e6
    frame["series"] = [t("revisions.series", revision=t.year(r)) for r in frame["revision"]]
    table = Table(
        "revisions",
        t("revisions.table"),
        [
            t("col.year"),
            t("col.revision"),
            t("col.migrants"),
            t("col.previous_revision"),
            t("col.change"),
            t("col.change_pct"),
        ],
        [
            [
                Cell(t.year(row.year)),
                Cell(t.year(row.revision)),
                _num(t, row.migrants),
                Cell("–" if pd.isna(row.previous_revision) else t.year(row.previous_revision)),
                Cell(
                    "–" if pd.isna(row.change) else t.signed(row.change),
                    _raw(row.change),
                ),
                _pct(t, row.change_pct, signed=True),
            ]
            for row in frame.itertuples()
        ],
        frame[["year", "revision", "migrants", "previous_revision", "change", "change_pct"]],
    )
    changed = frame.dropna(subset=["change_pct"])
    biggest = changed.loc[changed["change_pct"].abs().idxmax()] if len(changed) else None
    alt = t(
        "revisions.alt",
        n=t.number(frame["revision"].nunique()),
        detail=(
            t(
                "revisions.alt.biggest",
                year=t.year(int(biggest["year"])),
                revision=t.year(int(biggest["revision"])),
                previous=t.year(int(biggest["previous_revision"])),
                pct=t.percent(float(biggest["change_pct"]), signed=True),
            )
            if biggest is not None
            else ""
        ),
    )
    order = [t("revisions.series", revision=t.year(r)) for r in sorted(frame["revision"].unique())]
    svg = charts.lines(
        frame,
        x="year",
        y="millions",
        series="series",
        x_title=t("col.year"),
        y_title=t("axis.millions"),
        rtl=t.rtl,
        series_order=order,
    )
    return Chart("revisions", t("revisions.title"), svg, alt, table)


def refugees_table(t: Translator, data: BriefData) -> Table:
    r = data.refugees
    assert r is not None
    frame = r.countries.copy()
    frame["name"] = [t.place(int(c), n) for c, n in zip(frame["code"], frame["name"], strict=True)]
    return Table(
        "refugees",
        t("refugees.table", year=t.year(r.year), revision=t.year(r.revision)),
        [
            t("col.country"),
            t("col.refugees"),
            t("col.refugee_share"),
            t("col.in_stock"),
            t("col.migrants_and_refugees"),
        ],
        [
            [
                Cell(row.name),
                _num(t, row.refugees),
                _pct(t, row.refugee_share),
                Cell(t("yes") if row.in_stock else t("no")),
                _num(t, row.both),
            ]
            for row in frame.itertuples()
        ],
        frame[["code", "name", "refugees", "migrants", "refugee_share", "in_stock", "both"]],
    )


def basis_table(t: Translator, data: BriefData) -> Table:
    frame = data.data_basis
    assert frame is not None
    frame = frame.copy()
    frame["name"] = [t.place(int(c), n) for c, n in zip(frame["code"], frame["name"], strict=True)]
    frame["basis_label"] = [t.maybe(f"basis.{b}", str(b or "")) for b in frame["basis"]]
    return Table(
        "data_basis",
        t("basis.table", revision=t.year(int(frame["revision"].iloc[0]))),
        [t("col.country"), t("col.data_type"), t("col.basis"), t("col.refugees_added")],
        [
            [
                Cell(row.name),
                Cell(str(row.data_type or "")),
                Cell(row.basis_label),
                Cell(t("yes") if row.refugees_added else t("no")),
            ]
            for row in frame.itertuples()
        ],
        frame[["code", "name", "data_type", "basis", "refugees_added"]],
    )


def notes_table(t: Translator, data: BriefData) -> Table:
    frame = data.notes
    assert frame is not None
    frame = frame.copy()
    frame["name"] = [t.place(int(c), n) for c, n in zip(frame["code"], frame["name"], strict=True)]
    published = None if t.lang == "en" else "en"  # notes are published in English only
    return Table(
        "notes",
        t("notes.table", revision=t.year(int(frame["revision"].iloc[0]))),
        [t("col.country"), t("col.note"), t("col.text")],
        [
            [Cell(row.name), Cell(t.number(row.note_number)), Cell(row.note_text, lang=published)]
            for row in frame.itertuples()
        ],
        frame[["code", "name", "note_number", "note_text"]],
    )


def sources_table(t: Translator, data: BriefData) -> Table:
    frame = data.sources.copy()
    frame["dataset_label"] = [t(f"dataset.{d}") for d in frame["dataset"]]
    return Table(
        "sources",
        t("sources.table"),
        [t("col.revision"), t("col.dataset"), t("col.file"), t("col.tables"), "sha256"],
        [
            [
                Cell(t.year(row.revision)),
                Cell(row.dataset_label),
                Cell(row.file_name, lang="en"),
                Cell(str(row.tables or ""), lang="en"),
                Cell(row.sha256, lang="en"),
            ]
            for row in frame.itertuples()
        ],
        frame[["revision", "dataset", "file_name", "tables", "sha256", "citation"]],
    )


def build_page(t: Translator, data: BriefData) -> Page:
    page = Page(t, data, headline_figures(t, data))
    page.generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page.charts["subregions"] = subregion_chart(t, data)
    if len(data.female):
        page.charts["female_share"] = female_chart(t, data)
    if data.bilateral is not None:
        b = data.bilateral
        for key, frame in (("origins", b.origins), ("destinations", b.destinations)):
            if len(frame):
                page.charts[key] = _ranking_chart(t, key, frame, b.year, b.revision)
        page.tables["intra_arab"] = intra_table(t, data)
    page.charts["revisions"] = revisions_chart(t, data)
    if data.refugees is not None:
        page.tables["refugees"] = refugees_table(t, data)
    if data.data_basis is not None:
        page.tables["data_basis"] = basis_table(t, data)
    if data.notes is not None:
        page.tables["notes"] = notes_table(t, data)
    page.tables["sources"] = sources_table(t, data)
    page.age_line = age_line(t, data)
    return page


def headline_frame(page: Page) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": [f.key for f in page.figures],
            "label": [f.label for f in page.figures],
            "value": [f.value for f in page.figures],
            "revision": page.data.headline.revision,
            "year": page.data.headline.year,
        }
    )


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("migstock.brief", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def write_page(page: Page, out_dir: Path) -> Path:
    """Write ``index.html`` and one CSV per chart and table into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = {"headline": headline_frame(page)}
    frames.update({c.table.key: c.table.frame for c in page.charts.values()})
    frames.update({table.key: table.frame for table in page.tables.values()})
    for key, frame in frames.items():
        frame.to_csv(out_dir / f"{key}.csv", index=False, quoting=csv.QUOTE_MINIMAL)
    html = (
        _environment().get_template("brief.html.j2").render(page=page, t=page.t, region=ARAB_REGION)
    )
    index = out_dir / "index.html"
    index.write_text(html, encoding="utf-8")
    return index


def age_line(t: Translator, data: BriefData) -> Markup | None:
    """One sentence on the age of the region's migrants (the shares under 15 and 65 and
    over, the median age of women and men, with the revision), each number a ``<data>``
    element like every other number of the page; None without age data."""
    age = data.age
    if age is None:
        return None
    numbers = {
        "under_15": (t.percent(age.share_under_15_pct), age.share_under_15_pct),
        "over_65": (t.percent(age.share_65_plus_pct), age.share_65_plus_pct),
        "female": (t.decimal(age.median_age_female), age.median_age_female),
        "male": (t.decimal(age.median_age_male), age.median_age_male),
    }
    values = {
        key: Markup('<data value="{}">{}</data>').format(_raw(value), text)
        if value is not None
        else text
        for key, (text, value) in numbers.items()
    }
    sentence = escape(_messages()["age.line"][t.lang])
    line = sentence.format(revision=t.year(age.revision), year=t.year(age.year), **values)
    if age.countries_reporting < len(ARAB_COUNTRIES):  # the sums lack a country
        line += " " + t(
            "age.line.partial",
            n=t.number(age.countries_reporting),
            m=t.number(len(ARAB_COUNTRIES)),
        )
    return line
