"""The data portal: a static bilingual (English, Arabic) site built from the store.

``build_site`` reads the store once (``queries``), renders a profile for the Arab
region, its four ESCWA sub-regions and the 22 member States, a home page and an About
page in each language (``render``, ``templates/``), and writes the CSV behind every
chart and table and one Excel workbook per profile (``downloads/<place>/``, shared by
both languages). English is at the root of the site, Arabic under ``ar/``.

Charts are Vega-Lite specifications embedded in the pages and drawn by the Vega,
Vega-Lite and Vega-Embed bundle that vl-convert ships (vendored in ``static/`` by
``scripts/vendor_vega.py``, copied to ``assets/``): the
site opens from ``file://`` or any static server and requests nothing off the machine.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from importlib.metadata import version
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from migstock import settings
from migstock.brief.i18n import LANGUAGES, Translator
from migstock.brief.queries import connect
from migstock.brief.render import Cell
from migstock.site import render
from migstock.site.queries import SiteData, read_site

__all__ = ["SiteResult", "build_site", "default_out_dir", "preview_server", "site_root"]

#: the language at the root of the site; the others live in a folder of their name
ROOT_LANGUAGE = "en"
#: the weight budget of one profile (its HTML with the embedded chart data, shared
#: assets apart), checked by the tests
PAGE_BUDGET_BYTES = 150_000
ASSETS = "assets"
DOWNLOADS = "downloads"


@dataclass
class SiteResult:
    index: Path  # the English home page
    out_dir: Path
    pages: list[Path] = field(default_factory=list)
    downloads: list[Path] = field(default_factory=list)
    data: SiteData | None = None

    def summary(self) -> str:
        """One line for the run's console."""
        return f"site: {self.index} ({len(self.pages)} pages in {len(LANGUAGES)} languages)"

    def markdown(self) -> str:
        """The Prefect artifact of a run: where the site is, and what it holds."""
        lines = ["# Data portal (English and Arabic)", ""]
        if self.data is not None and self.data.synthetic:
            lines += ["**SYNTHETIC DATA (migstock demo), not UN figures.**", ""]
        lines += [
            f"- English: {self.index}",
            f"- Arabic: {self.out_dir / 'ar' / 'index.html'}",
            f"- {len(self.pages)} pages, {len(self.downloads)} downloads (CSV and xlsx)",
        ]
        if self.data is not None:
            lines.append(f"- key figures: {self.data.revision} revision, mid-year {self.data.year}")
        return "\n".join(lines)


def default_out_dir() -> Path:
    """``data/site`` (under ``MIGSTOCK_DATA_DIR``)."""
    return settings.data_dir() / "site"


def site_root(db_path: Path) -> Path:
    """Where a run writes the site of a store: ``data/site`` for ``data/curated/x.duckdb``
    (``data/demo/site`` for the demo), else a ``site`` folder beside the database."""
    parent = Path(db_path).parent
    return parent.parent / "site" if parent.name == "curated" else parent / "site"


def lang_dir(lang: str) -> str:
    """The folder of a language inside the site ('' for the root language)."""
    return "" if lang == ROOT_LANGUAGE else f"{lang}/"


def page_path(lang: str, page: str) -> str:
    """Path of a page from the site root: ``index.html``, ``ar/places/sau.html``..."""
    return f"{lang_dir(lang)}{page}"


def relative(from_page: str, to: str) -> str:
    """Link from the page ``from_page`` (site-root path) to ``to`` (site-root path)."""
    depth = from_page.count("/")
    return "../" * depth + to


def build_site(db_path: Path, out_dir: Path | None = None) -> SiteResult:
    """Write the whole site for the store at ``db_path`` into ``out_dir`` (``data/site``).

    Call it after every load that changes the store, as the brief is; print
    ``SiteResult.index`` (or ``summary()``) on the console and in the run's artifact.
    """
    data = read_site(Path(db_path))
    out = Path(out_dir) if out_dir else default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    if (out / ASSETS / "site.js").exists():  # a site built before: its old pages go
        for stale in ("places", "ar", DOWNLOADS):
            shutil.rmtree(out / stale, ignore_errors=True)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    result = SiteResult(out / "index.html", out, data=data)
    _write_assets(out)
    environment = _environment()
    about_sheet = _about(db_path)
    made_with = f"migstock {version('migstock')}"
    for lang in LANGUAGES:
        t = Translator(lang)
        figures = {place.slug: render.key_figures(t, data, place) for place in data.places}
        pages = {
            place.slug: render.build_place_page(t, data, place, figures) for place in data.places
        }
        context = _Context(t, data, generated, pages, environment)
        result.pages.append(context.write(out, "index.html", "home.html.j2"))
        result.pages.append(context.write(out, "about.html", "about.html.j2"))
        for place in data.places:
            result.pages.append(
                context.write(
                    out, f"places/{place.slug}.html", "place.html.j2", page=pages[place.slug]
                )
            )
            if lang == ROOT_LANGUAGE:
                result.downloads += _write_downloads(
                    out, data, pages[place.slug], about_sheet, made_with
                )
    return result


def preview_server(directory: Path, port: int = 0) -> ThreadingHTTPServer:
    """A static file server for ``directory`` on 127.0.0.1 only (``port`` 0: any free
    port); the caller runs ``serve_forever()`` and closes it."""
    handler = partial(_QuietHandler, directory=str(directory))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class _Context:
    t: Translator
    data: SiteData
    generated: str
    pages: dict[str, render.PlacePage]
    environment: Environment

    def write(self, out: Path, target: str, template: str, **extra: object) -> Path:
        here = page_path(self.t.lang, target)
        path = out / here
        path.parent.mkdir(parents=True, exist_ok=True)
        others = [lang for lang in LANGUAGES if lang != self.t.lang]
        html = self.environment.get_template(template).render(
            t=self.t,
            data=self.data,
            generated=self.generated,
            pages=self.pages,
            here=here,
            link=lambda to, lang=None: relative(here, page_path(lang or self.t.lang, to)),
            asset=lambda name: relative(here, f"{ASSETS}/{name}"),
            download=lambda slug, name: relative(here, f"{DOWNLOADS}/{slug}/{name}"),
            alternates=[(lang, relative(here, page_path(lang, target))) for lang in others],
            region=self.pages["arab-region"],
            tiles=_tiles(self.t, self.data, self.pages),
            vega=_vega_file(),
            json_attr=json.dumps,
            **extra,
        )
        path.write_text(html, encoding="utf-8")
        return path


@cache
def _environment() -> Environment:
    """The templates, compiled once per process (compiling them costs more than rendering
    a page)."""
    environment = Environment(
        loader=PackageLoader("migstock.site", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["cells"] = table_cells
    return environment


def table_cells(row: list[Cell]) -> Markup:
    """The cells of a table row, as the templates would write them (``table_cell``). A
    Python function rather than a Jinja loop and macro: the pages hold 30,000 cells, and
    a macro call costs ten times more."""
    return Markup("".join(table_cell(c) for c in row))


def table_cell(c: Cell, tag: str = "td") -> str:
    """One table cell, escaped as the templates escape: ``<td class="num"><data
    value="1234">1,234</data></td>`` for a number, ``<td>text</td>`` for a label."""
    lang = f' lang="{escape(c.lang)}" dir="ltr"' if c.lang else ""
    if c.value is None:
        return f"<{tag}{lang}>{escape(c.text)}</{tag}>"
    value, text = escape(c.value), escape(c.text)
    return f'<{tag}{lang} class="num"><data value="{value}">{text}</data></{tag}>'


# ---------------------------------------------------------------- assets


def _static(name: str) -> Traversable:
    return resources.files("migstock.site").joinpath("static", name)


@cache
def _vega_file() -> str:
    """The vendored Vega bundle's name (its versions are in it): ``scripts/vendor_vega.py``
    writes it into ``static/``, once, instead of every first build paying about a second."""
    (name,) = (
        entry.name
        for entry in resources.files("migstock.site").joinpath("static").iterdir()
        if entry.name.startswith("vega-") and entry.name.endswith(".js")
    )
    return name


def _write_assets(out: Path) -> None:
    """site.css, site.js and the vendored Vega bundle (copied when the site has not this
    version of it yet: a new one replaces the old)."""
    assets = out / ASSETS
    assets.mkdir(parents=True, exist_ok=True)
    for name in ("site.css", "site.js"):
        (assets / name).write_text(_static(name).read_text("utf-8"), encoding="utf-8")
    bundle = assets / _vega_file()
    if not bundle.exists():
        for old in assets.glob("vega-*.js"):
            old.unlink()
        bundle.write_bytes(_static(bundle.name).read_bytes())


# ---------------------------------------------------------------- home page tiles

#: rough geography of the tile map: (row, column) of each country
TILE_POSITIONS = {
    "mar": (1, 1),
    "dza": (1, 2),
    "tun": (1, 3),
    "lbn": (1, 5),
    "syr": (1, 6),
    "irq": (1, 7),
    "mrt": (2, 1),
    "lby": (2, 3),
    "egy": (2, 4),
    "pse": (2, 5),
    "jor": (2, 6),
    "kwt": (2, 7),
    "sdn": (3, 4),
    "sau": (3, 6),
    "bhr": (3, 7),
    "qat": (3, 8),
    "dji": (4, 5),
    "yem": (4, 6),
    "are": (4, 7),
    "omn": (4, 8),
    "som": (5, 6),
    "com": (5, 7),
}
TILE_COLOURS = ("#deebf7", "#9ecae1", "#5b9bd1", "#2f6fae", "#0b3d73")
#: class limits of the two colourings (lower bounds of classes 2-5)
TILE_CLASSES = {
    "migrants": (100_000, 500_000, 1_000_000, 5_000_000),
    "migrant_share_pct": (2.0, 5.0, 15.0, 40.0),
}


@dataclass
class Tile:
    slug: str
    name: str
    row: int
    column: int
    values: dict[str, render.Figure]
    classes: dict[str, int]


def _class(value: object, limits: tuple[float, ...]) -> int:
    if value is None:
        return 0
    return sum(float(value) >= limit for limit in limits)  # type: ignore[arg-type]


def _tiles(t: Translator, data: SiteData, pages: dict[str, render.PlacePage]) -> list[Tile]:
    tiles = []
    for place in data.places:
        if place.kind != "country":
            continue
        figures = {f.key: f for f in pages[place.slug].figures}
        row, column = TILE_POSITIONS.get(place.slug, (6, 1))
        values = {key: figures[key] for key in TILE_CLASSES if key in figures}
        classes = {key: _class(values[key].value, TILE_CLASSES[key]) for key in values}
        tiles.append(Tile(place.slug, pages[place.slug].name, row, column, values, classes))
    return tiles


# ---------------------------------------------------------------- downloads


def _about(db_path: Path):
    """The About sheet of every workbook: citation, licence, every source file (sha256)."""
    from migstock.store.access import about_sheet

    with connect(Path(db_path)) as con:
        return about_sheet(con, pd.DataFrame(), "")


def _bilingual(frame: pd.DataFrame) -> pd.DataFrame:
    """A CSV frame with the Arabic name beside the English one (``name_ar``)."""
    if "name" not in frame or "code" not in frame:
        return frame
    t = Translator("ar")
    names = [
        t.place(None if pd.isna(code) else int(code), name)
        for code, name in zip(frame["code"], frame["name"], strict=True)
    ]
    position = list(frame.columns).index("name") + 1
    frame = frame.copy()
    frame.insert(position, "name_ar", names)
    return frame


def _write_downloads(
    out: Path, data: SiteData, page: render.PlacePage, about, made_with: str
) -> list[Path]:
    """The CSV of every chart and table of a profile, and one workbook holding them all
    (its About sheet says ``made_with``: the migstock version)."""
    from migstock.site.workbook import write_profile_workbook
    from migstock.store.access import About

    folder = out / DOWNLOADS / page.place.slug
    folder.mkdir(parents=True, exist_ok=True)
    frames = {"key_figures": render.headline_frame(data, page)}
    frames.update({chart.table.key: chart.table.frame for chart in page.charts.values()})
    frames.update({table.key: table.frame for table in page.tables.values()})
    written = []
    for key, frame in frames.items():
        frames[key] = _bilingual(frame)
        path = folder / f"{key}.csv"
        frames[key].to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
        written.append(path)
    fields = [(name, value) for name, value in about.fields if name not in ("Query", "Rows")]
    fields.insert(1, ("Profile", f"{page.place.name} ({page.place.slug}): migstock site"))
    fields.append(("Made with", made_with))
    workbook = folder / f"migstock-{page.place.slug}.xlsx"
    write_profile_workbook(frames, About(_unique(fields), about.sources), workbook)
    written.append(workbook)
    return written


def _unique(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    return [(k, v) for k, v in fields if not (k in seen or seen.add(k))]  # type: ignore[func-returns-value]
