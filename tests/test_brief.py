"""The data brief (issue 14): built from the real store, checked in headless Chromium.

One Chromium for the whole module (Debian ``chromium`` driven by Playwright, no browser
download); every page is opened offline and compared with SQL run here on the store.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from migstock.brief import build_brief
from migstock.brief.i18n import Translator, iso2
from migstock.brief.pdf import LAUNCH_ARGS, chromium_path
from migstock.catalog import CATALOG
from migstock.cli import app
from migstock.regions import ARAB_COUNTRIES

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "data" / "brief" / "screenshots"
ARABIC_INDIC = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def briefs(real_store: Path, tmp_path_factory: pytest.TempPathFactory, browser) -> dict:
    out = tmp_path_factory.mktemp("brief")
    return {
        lang: build_brief(real_store, lang, out / lang, browser=browser) for lang in ("en", "ar")
    }


def _copy(store: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store" / "migstock.duckdb"
    target.parent.mkdir(parents=True)
    shutil.copy(store, target)
    return target


def _sql(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


class Opened:
    """A brief page opened in Chromium, with what it requested and logged."""

    def __init__(self, browser, html: Path) -> None:
        self.external: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1000, "height": 900})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.route("**/*", self._route)
        self.page.goto(html.as_uri(), wait_until="load")

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _route(self, route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def data(self, selector: str = "body") -> list[tuple[str, str]]:
        """(value attribute, shown text) of every <data> element under ``selector``."""
        return self.page.eval_on_selector_all(
            f"{selector} data", "els => els.map(e => [e.getAttribute('value'), e.textContent])"
        )

    def figure(self, key: str) -> float:
        value = self.page.get_attribute(f'[data-figure="{key}"] data', "value")
        assert value is not None, f"no figure {key}"
        return float(value)

    def table(self, key: str) -> list[list[str]]:
        """Rows of a table: the <data> value where a cell has one, else the cell text."""
        return self.page.eval_on_selector_all(
            f'table[data-table="{key}"] tbody tr',
            "rows => rows.map(r => [...r.cells].map(c => { const d = c.querySelector('data');"
            " return d ? d.getAttribute('value') : c.textContent.trim(); }))",
        )


@pytest.fixture(scope="module")
def pages(briefs: dict, browser) -> dict[str, Opened]:
    opened = {lang: Opened(browser, result.html) for lang, result in briefs.items()}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for lang, page in opened.items():
        page.page.screenshot(path=str(SCREENSHOTS / f"brief-{lang}.png"), full_page=True)
    yield opened
    for page in opened.values():
        page.page.close()


def _digits(text: str) -> str:
    """The number in a shown text: Arabic-Indic digits as Western, separators dropped."""
    return re.sub(r"[^\d.+-]", "", text.translate(ARABIC_INDIC).replace("٫", "."))


# ---------------------------------------------------------------- the pages in Chromium


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_page_loads_offline_without_console_errors(pages: dict, lang: str) -> None:
    page = pages[lang]
    assert page.external == []
    assert page.errors == []
    assert page.page.get_attribute("html", "lang") == lang
    assert page.page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
    assert (SCREENSHOTS / f"brief-{lang}.png").stat().st_size > 50_000


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_chart_is_drawn_and_has_a_text_alternative_and_a_table(
    pages: dict, lang: str
) -> None:
    page = pages[lang].page
    charts = page.eval_on_selector_all(
        "figure.chart",
        """figs => figs.map(f => {
            const svg = f.querySelector('svg'); const box = svg.getBoundingClientRect();
            const marks = [...svg.querySelectorAll('.mark-line path, .mark-rect path,'
                                                   + ' .mark-symbol path')]
                .map(m => m.getBBox()).filter(b => b.width > 0 || b.height > 0).length;
            const alt = document.getElementById(
                f.querySelector('[role=img]').getAttribute('aria-describedby'));
            return {key: f.dataset.chart, width: box.width, height: box.height, marks,
                    alt: alt.textContent.trim(), rows: f.querySelectorAll('tbody tr').length};
        })""",
    )
    assert {c["key"] for c in charts} == {
        "subregions",
        "female_share",
        "origins",
        "destinations",
        "revisions",
    }
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 100, chart
        assert chart["marks"] >= 4, chart
        assert len(chart["alt"]) > 40, chart
        assert chart["rows"] >= 4, chart


def test_key_figures_equal_sql_on_the_store(pages: dict, real_store: Path) -> None:
    page = pages["en"]
    revision, year = _sql(
        real_store,
        "SELECT revision, max(year) FROM arab_region_totals WHERE region = 'Arab region' "
        "GROUP BY revision ORDER BY revision DESC LIMIT 1",
    )[0]
    [(migrants,)] = _sql(
        real_store,
        "SELECT migrants FROM arab_region_totals WHERE region = 'Arab region' AND sex = 'total' "
        "AND revision = ? AND year = ?",
        [revision, year],
    )
    [(female, total)] = _sql(
        real_store,
        "SELECT sum(migrants) FILTER (sex = 'female'), sum(migrants) FILTER (sex = 'total') "
        "FROM destination_stock s JOIN locations l ON l.code = s.destination_code "
        "AND l.arab_region WHERE revision = ? AND year = ?",
        [revision, year],
    )
    [(first,)] = _sql(
        real_store,
        "SELECT migrants FROM arab_region_totals WHERE region = 'Arab region' AND sex = 'total' "
        "AND revision = ? ORDER BY year LIMIT 1",
        [revision],
    )
    assert page.figure("migrants") == migrants
    assert page.figure("female_share_pct") == pytest.approx(100 * female / total, abs=0.005)
    assert page.figure("change_since_first") == migrants - first
    shown = page.page.text_content('[data-figure="migrants"] data')
    assert shown == f"{migrants:,}"
    assert f"{revision}" in page.page.text_content(".lede")


def test_tables_equal_sql_on_the_store(pages: dict, real_store: Path) -> None:
    page = pages["en"]
    # the known 2020 value (SOURCES.md) in the revisions table, whatever revision is newest
    revisions = {(int(r[0]), int(r[1])): int(r[2]) for r in page.table("revisions")}
    assert revisions[(2020, 2020)] == 41_416_894
    assert revisions[(2019, 2019)] == 40_390_791
    # women's share by country: the 22 countries, sorted, equal to female_share
    rows = page.table("female_share")
    revision = int(page.page.get_attribute("[data-bilateral-revision]", "data-bilateral-revision"))
    newest = _sql(
        real_store,
        "SELECT max(revision) FROM arab_region_totals WHERE region = 'Arab region'",
    )[0][0]
    year = _sql(
        real_store, "SELECT max(year) FROM destination_totals WHERE revision = ?", [newest]
    )[0][0]
    expected = dict(
        _sql(
            real_store,
            "SELECT l.name, f.female_share_pct FROM female_share f JOIN locations l "
            "ON l.code = f.destination_code AND l.arab_region WHERE f.revision = ? AND f.year = ?",
            [newest, year],
        )
    )
    assert len(rows) == len(expected) == 22
    assert {name: float(share) for name, share, *_ in rows} == expected
    shares = [float(row[1]) for row in rows]
    assert shares == sorted(shares, reverse=True)
    # origins: from the newest bilateral revision, equal to a sum over arab_immigrants
    [(bilateral,)] = _sql(
        real_store,
        "SELECT max(revision) FROM bilateral_stock b JOIN locations l "
        "ON l.code = b.destination_code AND l.arab_region",
    )
    assert revision == bilateral
    origins = page.table("origins")
    top_name, top_migrants = origins[0][1], int(origins[0][2])
    [(expected_top, expected_migrants)] = _sql(
        real_store,
        "SELECT origin, sum(migrants) FROM arab_immigrants WHERE revision = ? AND sex = 'total' "
        "AND origin_kind = 'country' AND year = (SELECT max(year) FROM arab_immigrants "
        "WHERE revision = ?) GROUP BY origin ORDER BY 2 DESC LIMIT 1",
        [bilateral, bilateral],
    )
    assert (top_name, top_migrants) == (expected_top, expected_migrants)
    [(intra,)] = _sql(
        real_store,
        "SELECT sum(migrants) FROM intra_arab WHERE revision = ? AND sex = 'total' "
        "AND year = (SELECT max(year) FROM intra_arab WHERE revision = ?)",
        [bilateral, bilateral],
    )
    assert {int(row[1]) for row in page.table("intra_arab")} == {intra}


def test_english_and_arabic_pages_show_the_same_numbers(pages: dict) -> None:
    english, arabic = pages["en"].data(), pages["ar"].data()
    assert len(english) > 100
    assert [value for value, _ in english] == [value for value, _ in arabic]
    assert [_digits(text) for _, text in english] == [_digits(text) for _, text in arabic]


def test_arabic_page_uses_cldr_names_with_the_un_override_and_mirrored_charts(
    pages: dict,
) -> None:
    page = pages["ar"].page
    text = page.text_content("body")
    assert "دولة فلسطين" in text  # the UN's name, from the override file
    assert "الأراضي الفلسطينية" not in text  # CLDR's
    assert "المملكة العربية السعودية" in text  # CLDR via Babel
    assert "Saudi Arabia" not in text
    # bars grow leftwards with the names on the right in Arabic, the other way in English
    for lang, names_on_the_right in (("ar", True), ("en", False)):
        layout = pages[lang].page.eval_on_selector(
            '[data-chart="female_share"] svg',
            """svg => {
                const bars = [...svg.querySelectorAll('.mark-rect path')]
                    .map(b => b.getBoundingClientRect());
                const labels = [...svg.querySelectorAll('.role-axis-label text')]
                    .map(t => t.getBoundingClientRect()).filter(b => b.height > 0);
                return {barLeft: Math.min(...bars.map(b => b.left)),
                        barRight: Math.max(...bars.map(b => b.right)),
                        labelCentres: labels.map(b => (b.left + b.right) / 2)};
            }""",
        )
        beyond = [
            x > layout["barRight"] if names_on_the_right else x < layout["barLeft"]
            for x in layout["labelCentres"]
        ]
        assert sum(beyond) >= 22, (lang, layout)


def test_csv_behind_every_chart_and_table(briefs: dict, pages: dict) -> None:
    for lang, result in briefs.items():
        links = pages[lang].page.eval_on_selector_all(
            "a.csv", "links => links.map(a => a.getAttribute('href'))"
        )
        tables = pages[lang].page.eval_on_selector_all(
            "table[data-table]", "tables => tables.map(t => t.dataset.table)"
        )
        assert {f"{key}.csv" for key in tables} | {"headline.csv"} == set(links)
        for link in links:
            assert (result.html.parent / link).stat().st_size > 0
    with (briefs["en"].html.parent / "headline.csv").open(encoding="utf-8") as handle:
        headline = {row["key"]: float(row["value"]) for row in csv.DictReader(handle)}
    assert headline["migrants"] == pages["en"].figure("migrants")
    with (briefs["ar"].html.parent / "female_share.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["female_share_pct"]) for r in rows] == [
        float(row[1]) for row in pages["ar"].table("female_share")
    ]


def test_caveats_cite_every_source_file_with_its_sha256(pages: dict, real_store: Path) -> None:
    rows = pages["en"].table("sources")
    expected = _sql(real_store, "SELECT sha256, file_name FROM raw_files")
    assert {(row[4], row[2]) for row in rows} == set(expected)
    text = pages["en"].page.text_content("#caveats")
    assert "CC BY 3.0 IGO" in text
    assert "State of Palestine" in text and "Sudan" in text
    tables = {row[2]: row[3] for row in rows}
    assert "Table 1" in tables["UN_MigrantStockTotal_2019.xlsx"].split(", ")


def test_pdf_of_each_page(briefs: dict) -> None:
    for result in briefs.values():
        assert result.pdf_error is None
        pdf = result.pdf.read_bytes()
        assert pdf.startswith(b"%PDF")
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 3


# ---------------------------------------------------------------- what is loaded


def test_totals_only_store_names_the_workbook_for_the_bilateral_sections(
    real_store: Path, tmp_path: Path, browser
) -> None:
    db = _copy(real_store, tmp_path)
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM bilateral_stock")
        con.execute("DELETE FROM raw_files WHERE dataset = 'bilateral'")
    newest = max(CATALOG, key=lambda entry: entry.revision)
    for lang in ("en", "ar"):
        result = build_brief(db, lang, tmp_path / lang, pdf=False)
        page = Opened(browser, result.html)
        assert page.errors == [] and page.external == []
        gap = page.page.text_content('[data-gap="bilateral"]')
        assert newest.file("bilateral").file_name in gap  # the one to download
        assert page.page.query_selector('[data-chart="origins"]') is None
        assert page.page.query_selector('[data-chart="subregions"] svg') is not None
        page.page.close()
    assert not (tmp_path / "en" / "origins.csv").exists()


def test_refugee_tables_feed_the_refugee_and_caveat_sections(
    real_store: Path, tmp_path: Path, browser
) -> None:
    """The lead's issue-10 tables, made here with synthetic values in their schema."""
    db = _copy(real_store, tmp_path)
    with duckdb.connect(str(db)) as con:
        # the store may already have them (issue 10): replace them with known rows
        con.execute("DROP VIEW IF EXISTS arab_refugees")
        con.execute("DROP TABLE IF EXISTS data_basis")
        con.execute("DROP TABLE IF EXISTS location_notes")
        con.execute(
            "CREATE TABLE data_basis (revision SMALLINT, destination_code SMALLINT, "
            "data_type VARCHAR, basis VARCHAR, refugees_added BOOLEAN)"
        )
        con.execute(
            "INSERT INTO data_basis VALUES (2020, 682, 'C R', 'citizenship', true), "
            "(2020, 400, 'B R', 'foreign_born', true), (2020, 174, 'I', 'imputed', false)"
        )
        con.execute(
            "CREATE TABLE location_notes (revision SMALLINT, location_code SMALLINT, "
            "note_number INTEGER, note_text VARCHAR)"
        )
        con.execute(
            "INSERT INTO location_notes VALUES (2020, 729, 7, 'Synthetic note on Sudan.'), "
            "(2020, 275, 12, 'Synthetic note on the State of Palestine.'), "
            "(2020, 682, 3, 'A note that the brief does not show.')"
        )
        con.execute(
            "CREATE TABLE arab_refugees (revision SMALLINT, year SMALLINT, level VARCHAR, "
            "code SMALLINT, name VARCHAR, refugees BIGINT, migrants BIGINT, "
            "refugee_share DOUBLE, refugees_in_migrant_stock BOOLEAN, "
            "migrants_and_refugees BIGINT)"
        )
        con.execute(
            "INSERT INTO arab_refugees VALUES "
            "(2020, 2020, 'region', NULL, 'Arab region', 3000, 41416894, 0.01, NULL, 41418694),"
            "(2020, 2020, 'country', 400, 'Jordan', 1200, 3457691, 0.03, true, 3457691),"
            "(2020, 2020, 'country', 275, 'State of Palestine', 1800, 272784, NULL, false, "
            "274584)"
        )
    pages = {}
    for lang in ("en", "ar"):
        result = build_brief(db, lang, tmp_path / lang, revision=2020, pdf=False)
        pages[lang] = Opened(browser, result.html)
        assert pages[lang].errors == []
    en = pages["en"]
    assert en.figure("refugees") == 3000
    assert en.figure("migrants_and_refugees") == 41_418_694
    assert [row[0] for row in en.table("refugees")] == ["State of Palestine", "Jordan"]
    assert "not part of its migrant stock" in en.page.text_content("#headline")
    assert {row[2] for row in en.table("data_basis")} == {
        "foreign citizens",
        "foreign-born population",
        "imputed (no data)",
    }
    assert [row[2] for row in en.table("notes")] == [
        "Synthetic note on Sudan.",
        "Synthetic note on the State of Palestine.",
    ]
    assert en.page.query_selector("[data-gap]") is None
    assert [v for v, _ in en.data()] == [v for v, _ in pages["ar"].data()]
    assert "نعم" in pages["ar"].page.text_content('table[data-table="data_basis"]')
    for page in pages.values():
        page.page.close()


@pytest.mark.parametrize(
    ("section", "relation", "workbook_table"),
    [
        ("refugees", "arab_refugees", "(Table 6)"),
        ("data_basis", "data_basis", "(Table 1)"),
        ("notes", "location_notes", "(NOTES)"),
    ],
)
def test_issue_10_sections_show_their_table_or_the_workbook_that_fills_them(
    pages: dict, real_store: Path, section: str, relation: str, workbook_table: str
) -> None:
    """Shown when the store has rows for them; otherwise the page names the workbook."""
    [(exists,)] = _sql(
        real_store,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
        [relation],
    )
    noted = " WHERE location_code IN (729, 275)" if relation == "location_notes" else ""
    rows = _sql(real_store, f"SELECT count(*) FROM {relation}{noted}")[0][0] if exists else 0
    for page in pages.values():
        gap = page.page.query_selector(f'[data-gap="{section}"]')
        table = page.page.query_selector(f'table[data-table="{section}"]')
        if rows:
            assert gap is None and table is not None
        else:
            assert table is None
            assert workbook_table in gap.text_content()
            assert ".xlsx" in gap.text_content()


def test_a_store_of_synthetic_workbooks_is_marked_on_every_page(
    real_store: Path, tmp_path: Path, browser
) -> None:
    db = _copy(real_store, tmp_path)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE raw_files SET file_name = 'SYNTHETIC_' || file_name")
    marks = (("en", "SYNTHETIC DATA", "synthetic"), ("ar", "بيانات اصطناعية", "اصطناعية"))
    for lang, words, in_title in marks:
        result = build_brief(db, lang, tmp_path / lang, pdf=False)
        page = Opened(browser, result.html)
        banners = page.page.eval_on_selector_all(
            "[data-synthetic]", "els => els.map(e => e.textContent)"
        )
        assert len(banners) == 2 and all(words in text for text in banners)  # top and foot
        assert in_title in page.page.title()
        page.page.close()


# ---------------------------------------------------------------- names, numbers, CLI


def test_every_arab_country_has_an_arabic_name_from_cldr() -> None:
    t = Translator("ar")
    for code in ARAB_COUNTRIES:
        assert iso2(code) is not None, code
        name = t.place(code, "English name")
        assert re.fullmatch(r"[\u0600-\u06FF ]+", name), (code, name)
    assert t.place(275, "State of Palestine") == "دولة فلسطين"
    assert t.place(None, "GCC") == "دول مجلس التعاون الخليجي"
    assert Translator("en").place(275, "State of Palestine") == "State of Palestine"


def test_numbers_are_formatted_per_language() -> None:
    en, ar = Translator("en"), Translator("ar")
    assert en.number(41_416_894) == "41,416,894"
    assert _digits(ar.number(41_416_894)) == "41416894"
    assert en.percent(32.86) == "32.9%"
    assert en.percent(-0.004, signed=True) == "-0.00%"
    assert en.percent(-0.0, signed=True) == en.percent(0.0, signed=True) == "0.0%"
    assert en.signed(0) == "0"
    assert en.signed(1234) == "+1,234"
    assert en.year(2024) == "2024"


def test_cli_writes_the_brief_and_refuses_bad_input(real_store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "ar"
    result = runner.invoke(
        app, ["brief", "--db", str(real_store), "--lang", "ar", "--out", str(out), "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "index.html").exists() and (out / "subregions.csv").exists()
    assert runner.invoke(app, ["brief", "--db", str(real_store), "--lang", "fr"]).exit_code == 2
    missing = runner.invoke(app, ["brief", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "no database" in missing.output
    old = runner.invoke(app, ["brief", "--db", str(real_store), "--revision", "1999"])
    assert old.exit_code == 2 and "revision 1999" in old.output
