"""The data portal (issue 19): built from the real store, read as files and in Chromium.

The site is built once for the module. File checks (every page, link, number and
download) read the HTML directly; one Chromium session (Debian ``chromium`` through
Playwright) opens every page offline, and a few sample pages get the deep checks:
charts, sex selector, keyboard picker, mirrored Arabic axes, axe-core, ``--serve``.
"""

from __future__ import annotations

import csv
import html
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from migstock.cli import app
from migstock.regions import ARAB_COUNTRIES, ARAB_SUBREGIONS
from migstock.site import PAGE_BUDGET_BYTES, build_site, preview_server
from tests.browser import chromium_path

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "data" / "site-screenshots"
AXE = REPO / "tests" / "data" / "axe-core" / "axe.min.js"
REGIONS = {"arab-region": None, **{s.lower().replace(" ", "-"): s for s in ARAB_SUBREGIONS}}
#: pages of each language that get the deep checks (axe-core, screenshots, --serve)
SAMPLES = ["index.html", "about.html", "places/sau.html"]


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def site(real_store: Path, tmp_path_factory: pytest.TempPathFactory):
    return build_site(real_store, tmp_path_factory.mktemp("site") / "site")


def _sql(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _pages(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


def _figures(page: Path) -> dict[str, float]:
    """data-figure key -> the exact value in its <data> element."""
    text = page.read_text("utf-8")
    found = re.findall(
        r'<li data-figure="(\w+)"><span class="label">[^<]*</span>\s*'
        r'<span class="value"><data value="([^"]+)">',
        text,
    )
    return {key: float(value) for key, value in found}


def _data(page: Path) -> list[tuple[str, str]]:
    """(value, shown text) of every <data> element of a page."""
    return [
        (value, html.unescape(shown))
        for value, shown in re.findall(r'<data value="([^"]*)">([^<]*)</data>', page.read_text())
    ]


def _newest(db: Path) -> tuple[int, int]:
    return _sql(
        db,
        "SELECT revision, max(year) FROM destination_totals GROUP BY revision "
        "ORDER BY revision DESC LIMIT 1",
    )[0]


def _members(slug: str, db: Path) -> list[int]:
    if slug == "arab-region":
        return sorted(ARAB_COUNTRIES)
    if slug in REGIONS:
        return list(ARAB_SUBREGIONS[REGIONS[slug]])
    return [_sql(db, "SELECT code FROM locations WHERE lower(iso3) = ?", [slug])[0][0]]


# ---------------------------------------------------------------- the files


def test_every_page_of_both_languages_is_written(site, real_store: Path) -> None:
    root = site.out_dir
    iso3 = [r[0] for r in _sql(real_store, "SELECT lower(iso3) FROM locations WHERE arab_region")]
    assert len(iso3) == 22
    expected = {"index.html", "about.html", *(f"places/{s}.html" for s in [*iso3, *REGIONS])}
    for prefix in ("", "ar/"):
        assert {f"{prefix}{name}" for name in expected} <= {
            p.relative_to(root).as_posix() for p in _pages(root)
        }
    assert len(site.pages) == 2 * len(expected) == 58
    assert site.index == root / "index.html"
    assert str(site.index) in site.summary()
    assert str(site.index) in site.markdown() and str(root / "ar" / "index.html") in site.markdown()
    for page in (root / "ar").rglob("*.html"):
        assert '<html lang="ar" dir="rtl">' in page.read_text()


def test_key_figures_of_every_profile_equal_sql_on_the_store(site, real_store: Path) -> None:
    revision, year = _newest(real_store)
    for lang in ("", "ar/"):
        for page in sorted((site.out_dir / lang / "places").glob("*.html")):
            codes = _members(page.stem, real_store)
            marks = ",".join("?" * len(codes))
            [(migrants, women, population)] = _sql(
                real_store,
                "SELECT sum(migrants) FILTER (sex = 'total'), "
                "sum(migrants) FILTER (sex = 'female'), "
                "sum(total_population) FILTER (sex = 'total') FROM destination_totals "
                f"WHERE revision = ? AND year = ? AND destination_code IN ({marks})",
                [revision, year, *codes],
            )
            figures = _figures(page)
            assert figures["migrants"] == migrants, page
            assert figures["female_share_pct"] == pytest.approx(100 * women / migrants, abs=0.005)
            assert figures["population"] == population, page
            assert figures["migrant_share_pct"] == pytest.approx(
                100 * migrants / population, abs=0.005
            )
    saudi = _figures(site.out_dir / "places" / "sau.html")
    assert (saudi["migrants"], saudi["female_share_pct"], saudi["population"]) == (
        13_683_841,
        22.26,
        33_962_757,
    )
    shown = (site.out_dir / "places" / "sau.html").read_text()
    for text in ("13,683,841", "22.26%", "33,962,757"):
        assert f">{text}</data>" in shown


def test_tables_of_a_profile_equal_sql_on_the_store(site, real_store: Path) -> None:
    folder = site.out_dir / "downloads" / "sau"
    revision, _ = _newest(real_store)
    by_sex = {int(r["year"]): r for r in csv.DictReader((folder / "migrants_by_sex.csv").open())}
    expected = _sql(
        real_store,
        "SELECT year, sex, migrants FROM destination_totals WHERE revision = ? "
        "AND destination_code = 682",
        [revision],
    )
    assert len(expected) == 3 * len(by_sex)
    for year, sex, migrants in expected:
        assert int(by_sex[year][sex]) == migrants
    [(bilateral, bilateral_year)] = _sql(
        real_store,
        "SELECT revision, max(year) FROM arab_immigrants WHERE origin_kind = 'country' "
        "GROUP BY revision ORDER BY revision DESC LIMIT 1",
    )
    origins = list(csv.DictReader((folder / "origins.csv").open()))
    top = _sql(
        real_store,
        "SELECT origin_code, sum(migrants) FROM bilateral_stock WHERE revision = ? AND year = ? "
        "AND destination_code = 682 AND sex = 'total' AND origin_kind = 'country' "
        "GROUP BY origin_code ORDER BY 2 DESC LIMIT 10",
        [bilateral, bilateral_year],
    )
    assert [(int(r["code"]), int(r["total"])) for r in origins] == top
    page = (site.out_dir / "places" / "sau.html").read_text()
    assert f'data-bilateral-revision="{bilateral}"' in page
    changes = {
        (int(r["year"]), int(r["revision"])): r
        for r in csv.DictReader((folder / "revisions.csv").open())
    }
    [(old, new)] = _sql(
        real_store,
        "SELECT max(migrants) FILTER (revision = 2019), max(migrants) FILTER (revision = 2020) "
        "FROM destination_totals WHERE destination_code = 682 AND year = 2015 AND sex = 'total'",
    )
    assert int(float(changes[(2015, 2020)]["change"])) == new - old


def test_arabic_pages_show_the_same_numbers_as_english(site) -> None:
    root = site.out_dir
    for page in _pages(root):
        if page.is_relative_to(root / "ar"):
            continue
        arabic = root / "ar" / page.relative_to(root)
        assert [v for v, _ in _data(page)] == [v for v, _ in _data(arabic)], page


def test_every_shown_number_is_its_value_rounded(site) -> None:
    checked = 0
    for page in _pages(site.out_dir):
        for value, shown in _data(page):
            digits = re.sub(r"[^\d.+-]", "", shown)
            if not digits or value in ("", "None"):
                continue
            decimals = len(digits.split(".")[1]) if "." in digits else 0
            # within half a unit of the last digit shown (CLDR rounds half to even)
            assert abs(float(digits) - float(value)) <= 0.5 * 10**-decimals + 1e-9, (
                page,
                value,
                shown,
            )
            checked += 1
    assert checked > 5000


def test_every_internal_link_resolves_and_nothing_comes_from_elsewhere(site) -> None:
    root = site.out_dir
    external = set()
    for page in _pages(root):
        text = page.read_text()
        for attribute, target in re.findall(r'\b(href|src)="([^"]+)"', text):
            if target.startswith("#"):
                assert f'id="{target[1:]}"' in text, (page, target)
                continue
            if urlparse(target).scheme:
                assert attribute == "href", (page, target)  # never a script or style
                external.add(target)
                continue
            resolved = (page.parent / unquote(target.split("#")[0])).resolve()
            assert resolved.is_file(), (page, target)
            assert resolved.is_relative_to(root.resolve()), (page, target)
    assert external == {"https://creativecommons.org/licenses/by/3.0/igo/"}


def test_each_profile_stays_within_its_weight_budget(site) -> None:
    """PAGE_BUDGET_BYTES: a profile's HTML with its embedded chart data; the shared
    JavaScript (the Vega bundle, site.js) and CSS are cached once for all pages."""
    sizes = {p: p.stat().st_size for p in (site.out_dir / "places").glob("*.html")}
    sizes.update({p: p.stat().st_size for p in (site.out_dir / "ar" / "places").glob("*.html")})
    assert len(sizes) == 54
    assert max(sizes.values()) <= PAGE_BUDGET_BYTES, max(sizes.items(), key=lambda i: i[1])
    bundle = next((site.out_dir / "assets").glob("vega-*.js"))
    assert bundle.stat().st_size > 500_000  # vega + vega-lite + vega-embed, vendored


def test_the_vendored_vega_bundle_is_the_one_of_the_pinned_vl_convert(site) -> None:
    """The pages draw with the same Vega as the brief's SVG charts: the bundle copied into
    the site is the vendored one, and its name carries vl-convert's versions (re-run
    ``scripts/vendor_vega.py`` after upgrading vl-convert)."""
    import vl_convert

    copied = next((site.out_dir / "assets").glob("vega-*.js"))
    assert copied.name == (
        f"vega-{vl_convert.get_vega_version()}-embed-{vl_convert.get_vega_embed_version()}.js"
    )
    vendored = Path(__file__).parents[1] / "src" / "migstock" / "site" / "static" / copied.name
    assert copied.read_bytes() == vendored.read_bytes()
    assert "window.vegaEmbed=" in vendored.read_text(encoding="utf-8")[-2000:]


def test_downloads_csv_behind_every_table_and_a_workbook_with_an_about_sheet(
    site, real_store: Path
) -> None:
    root = site.out_dir
    for slug in ("sau", "arab-region", "pse"):
        page = (root / "places" / f"{slug}.html").read_text()
        tables = re.findall(r'<table data-table="(\w+)">', page)
        assert {"migrants_by_sex", "female_share", "migrant_share", "revisions"} <= set(tables)
        for key in tables:
            assert (root / "downloads" / slug / f"{key}.csv").is_file()
        book = openpyxl.load_workbook(root / "downloads" / slug / f"migstock-{slug}.xlsx")
        assert {*tables, "key_figures", "About"} <= set(book.sheetnames)
        about = "\n".join(
            str(cell) for row in book["About"].iter_rows(values_only=True) for cell in row if cell
        )
        for (sha256,) in _sql(real_store, "SELECT sha256 FROM raw_files"):
            assert sha256 in about
        assert "CC BY 3.0 IGO" in about and "Cite as" in about
    origins = list(csv.DictReader((root / "downloads" / "sau" / "origins.csv").open()))
    assert origins[0]["name_ar"] and origins[0]["name"] != origins[0]["name_ar"]


def test_refugees_follow_the_state_of_palestine_rule(site, real_store: Path) -> None:
    [(revision, year, refugees, both)] = _sql(
        real_store,
        "SELECT revision, year, refugees, migrants_and_refugees FROM arab_refugees "
        "WHERE code = 275 ORDER BY revision DESC, year DESC LIMIT 1",
    )
    page = (site.out_dir / "places" / "pse.html").read_text()
    assert _figures(site.out_dir / "places" / "pse.html")["refugees"] == refugees
    assert "Not part of the migrant stock here" in page and f"{both:,}" in page
    assert f"Refugees ({revision} revision, Table 6)" in page
    assert f"Refugees, {year} ({revision} revision, Table 6)" in page
    saudi = (site.out_dir / "places" / "sau.html").read_text()
    assert "Not part of the migrant stock here" not in saudi
    assert "B: born abroad" in saudi and "foreign citizens; refugees added" in saudi
    sudan = (site.out_dir / "places" / "sdn.html").read_text()
    assert "refer to Sudan and South Sudan" in sudan


def test_about_page_lists_sources_licence_definitions_and_the_subregions(
    site, real_store: Path
) -> None:
    for lang in ("", "ar/"):
        about = (site.out_dir / lang / "about.html").read_text()
        for (sha256,) in _sql(real_store, "SELECT sha256 FROM raw_files"):
            assert sha256 in about
        assert "CC BY 3.0 IGO" in about
        for slug in REGIONS:
            assert f"places/{slug}.html" in about
    english = (site.out_dir / "about.html").read_text()
    assert "International migrant:" in english and "Refugee:" in english


def test_a_store_without_bilateral_refugee_or_notes_tables_names_the_workbooks(
    real_store: Path, tmp_path: Path
) -> None:
    db = tmp_path / "store" / "migstock.duckdb"
    db.parent.mkdir()
    shutil.copy(real_store, db)
    with duckdb.connect(str(db)) as con:
        for table in ("bilateral_stock", "refugees", "location_notes", "data_basis"):
            con.execute(f"DELETE FROM {table}")
        con.execute("DELETE FROM raw_files WHERE dataset = 'bilateral'")
    site = build_site(db, tmp_path / "site")
    for lang in ("", "ar/"):
        page = (site.out_dir / lang / "places" / "sau.html").read_text()
        gaps = dict(re.findall(r'data-gap="(\w+)">.*?class="file">([^<]+)<', page))
        assert set(gaps) == {"bilateral", "refugees", "data_basis", "notes"}
        assert gaps["bilateral"].startswith("undesa_pd_2024_ims_stock_by_sex_destination_and")
        assert gaps["refugees"] == "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx (Table 6)"
        assert 'data-chart="origins"' not in page
        assert _figures(site.out_dir / lang / "places" / "sau.html")["migrants"] == 13_683_841
    assert not (site.out_dir / "downloads" / "sau" / "origins.csv").exists()


def test_cli_builds_the_site_and_refuses_a_missing_store(real_store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["site", "--db", str(real_store), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "s" / "index.html") in result.output.replace("\n", "")
    missing = runner.invoke(app, ["site", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2
    assert "no database at" in missing.output


# ---------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path())
        yield chromium
        chromium.close()


class Opened:
    """A page opened in Chromium: what it requested off the machine and what it logged."""

    def __init__(self, browser, url: str, *, wait_for_charts: bool = True) -> None:
        self.external: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1100, "height": 900})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.route("**/*", self._route)
        self.page.goto(url, wait_until="load")
        if wait_for_charts:
            self.page.wait_for_function(
                "[...document.querySelectorAll('[data-spec]')]"
                ".every(e => e.dataset.drawn === 'true')",
                timeout=15_000,
            )

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "http://127.0.0.1:")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()


def test_every_page_loads_offline_with_its_charts_and_no_console_error(site, browser) -> None:
    page = browser.new_page()
    errors: list[str] = []
    external: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file:", "data:"))
            else (external.append(route.request.url), route.abort())
        ),
    )
    for path in _pages(site.out_dir):
        page.goto(path.as_uri(), wait_until="load")
        charts = page.eval_on_selector_all("[data-spec]", "els => els.length")
        if charts:
            page.wait_for_function(
                "[...document.querySelectorAll('[data-spec]')]"
                ".every(e => e.dataset.drawn === 'true' && e.querySelector('svg'))",
                timeout=15_000,
            )
        assert page.get_attribute("html", "data-ready"), path  # site.js ran
        assert errors == [], (path, errors)
    assert external == []
    page.close()


@pytest.fixture(scope="module")
def served(site):
    server = preview_server(site.out_dir, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("lang", ["", "ar/"])
def test_sample_pages_over_serve_pass_axe_core(site, browser, served: str, lang: str) -> None:
    axe = AXE.read_text("utf-8")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for sample in SAMPLES:
        opened = Opened(browser, f"{served}/{lang}{sample}")
        assert opened.errors == [] and opened.external == [], sample
        if sample in ("index.html", "places/sau.html"):
            name = f"{(lang or 'en/').rstrip('/')}-{sample.replace('/', '-')}".replace(".html", "")
            opened.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        opened.page.add_script_tag(content=axe)
        violations = opened.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".filter(v => ['serious', 'critical'].includes(v.impact))"
            ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))"
        )
        assert violations == [], (lang, sample, violations)
        opened.page.close()


def _point_labels(page, chart: str) -> list[str]:
    return page.eval_on_selector_all(
        f'[data-chart="{chart}"] svg path[aria-roledescription="point"]',
        "els => els.map(e => e.getAttribute('aria-label'))",
    )


def test_sex_selector_redraws_the_chart_with_women_or_men(site, browser, real_store) -> None:
    revision, year = _newest(real_store)
    values = dict(
        _sql(
            real_store,
            "SELECT sex, migrants FROM destination_totals WHERE revision = ? AND year = ? "
            "AND destination_code = 682",
            [revision, year],
        )
    )
    opened = Opened(browser, (site.out_dir / "places" / "sau.html").as_uri())
    page = opened.page
    labels = " ".join(_point_labels(page, "migrants_by_sex"))
    assert f"{values['total']:,}" in labels and f"{values['female']:,}" not in labels
    for sex, label in (("female", "Women"), ("male", "Men")):
        page.locator('[data-sex-for="migrants_by_sex"]').get_by_label(label, exact=True).check()
        page.wait_for_function(
            f"document.querySelector('[data-chart=\"migrants_by_sex\"] [data-spec]')"
            f".dataset.sex === '{sex}'"
        )
        labels = " ".join(_point_labels(page, "migrants_by_sex"))
        assert f"{values[sex]:,}" in labels and f"{values['total']:,}" not in labels
    # a tooltip on hover
    point = page.locator(
        '[data-chart="migrants_by_sex"] svg path[aria-roledescription="point"]'
    ).last
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=5_000)
    assert f"{values['male']:,}" in page.text_content("#vg-tooltip-element")
    assert opened.errors == []
    page.close()


def test_country_picker_and_tiles_work_from_the_keyboard(site, browser) -> None:
    opened = Opened(browser, (site.out_dir / "index.html").as_uri(), wait_for_charts=False)
    page = opened.page
    tiles = page.eval_on_selector_all("a.tile", "els => els.map(e => e.getAttribute('href'))")
    assert sorted(tiles) == sorted(
        f"places/{p.stem}.html"
        for p in (site.out_dir / "places").glob("*.html")
        if p.stem not in REGIONS
    )
    page.get_by_label("Migrants as a share of the population").check()
    assert page.get_attribute("#tiles", "data-metric") == "migrant_share_pct"
    page.focus("#picker")
    page.keyboard.press("Home")
    for _ in range(40):  # arrow down until Jordan is chosen
        if page.eval_on_selector("#picker", "s => s.selectedOptions[0].text") == "Jordan":
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/places/jor.html")
    assert page.text_content("h1") == "Jordan"
    page.close()


def test_arabic_charts_are_mirrored(site, browser) -> None:
    opened = Opened(browser, (site.out_dir / "ar" / "places" / "sau.html").as_uri())
    page = opened.page
    box = page.eval_on_selector(
        '[data-chart="migrants_by_sex"] svg',
        """svg => {
            const texts = [...svg.querySelectorAll('.role-axis-label text')];
            const year = t => texts.find(e => e.textContent === t).getBoundingClientRect().x;
            const plot = svg.querySelector('.mark-line path').getBoundingClientRect();
            const yLabels = [...svg.querySelectorAll('.role-axis-label text')]
                .filter(e => /,/.test(e.textContent)).map(e => e.getBoundingClientRect().x);
            return {first: year('1990'), last: year('2024'), plotRight: plot.right,
                    yLabel: Math.min(...yLabels)};
        }""",
    )
    assert box["first"] > box["last"]  # time runs right to left
    assert box["yLabel"] >= box["plotRight"] - 1  # the value axis is on the right
    assert page.text_content("h1") == "المملكة العربية السعودية"
    assert "دولة فلسطين" in page.text_content("#picker")
    page.close()
