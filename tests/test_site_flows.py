"""Estimated flows on the country pages and in the brief (issue #28): the section
"Estimated movements between reference years", in English and Arabic, from the store.

The store is the real one of ``tests/test_site.py`` with the flows of revision 2024
(``flows_store``); the pages are built once and opened in Chromium.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pytest

from migstock.brief import build_brief
from migstock.site import build_site
from tests.browser import chromium_path

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "data" / "site-screenshots"
SAUDI = 682


def _sql(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def site(flows_store: Path, tmp_path_factory: pytest.TempPathFactory):
    return build_site(flows_store, tmp_path_factory.mktemp("flows-site") / "site")


def _section(page: Path) -> str:
    html = page.read_text(encoding="utf-8")
    match = re.search(r'<section id="flows".*?</section>', html, re.S)
    assert match, page
    return match.group(0)


def _table_values(section: str, key: str) -> list[list[str]]:
    table = re.search(rf'<table data-table="{key}">.*?</table>', section, re.S)
    assert table, key
    return [
        re.findall(r'<data value="([^"]*)"', row)
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)[1:]
    ]


def test_every_profile_has_the_section_with_its_method_and_citation(site) -> None:
    for lang_dir in ("", "ar/"):
        pages = sorted((site.out_dir / lang_dir / "places").glob("*.html"))
        assert len(pages) == 27
        for page in pages:
            section = _section(page)
            assert "Abel, G. J. and Cohen, J. E. (2019)" in section
            assert 'data-flow-revision="2024"' in section
    english = _section(site.out_dir / "places" / "sau.html")
    assert "Estimated movements between reference years" in english
    assert "What “estimate” means here" in english
    assert "taken as zero" in english  # no WPP file in this store
    arabic = _section(site.out_dir / "ar" / "places" / "sau.html")
    assert "التحركات المقدَّرة بين سنوات الإسناد" in arabic
    assert "معنى «التقدير» هنا" in arabic


def test_the_flows_table_equals_sql_on_arab_flows(site, flows_store: Path) -> None:
    rows = _sql(
        flows_store,
        "SELECT period_start, sex, inflow, outflow, net FROM arab_flows WHERE revision = 2024 "
        "AND method = 'demographic_account' AND level = 'country' AND place_code = ? "
        "ORDER BY period_start",
        [SAUDI],
    )
    by = {(start, sex): (i, o, n) for start, sex, i, o, n in rows}
    periods = sorted({start for start, _ in by})
    assert len(periods) == 7
    for lang_dir in ("", "ar/"):
        shown = _table_values(_section(site.out_dir / lang_dir / "places" / "sau.html"), "flows")
        assert len(shown) == len(periods)
        for start, values in zip(periods, shown, strict=True):
            expected = [by[(start, sex)][0] for sex in ("total", "female", "male")]
            expected += [by[(start, sex)][1] for sex in ("total", "female", "male")]
            expected.append(by[(start, "total")][2])
            assert [float(v) for v in values] == pytest.approx(expected, abs=0.051)


def test_main_origins_and_destinations_equal_sql(site, flows_store: Path) -> None:
    section = _section(site.out_dir / "places" / "sau.html")
    for key, view in (
        ("flow_origins", "arab_flow_origins"),
        ("flow_destinations", "arab_flow_destinations"),
    ):
        expected = _sql(
            flows_store,
            f"SELECT rank, flow FROM {view} WHERE revision = 2024 AND sex = 'total' "
            "AND method = 'demographic_account' AND place_code = ? "
            "AND period_start = 2020 AND rank <= 5 ORDER BY rank",
            [SAUDI],
        )
        shown = [float(row[0]) for row in _table_values(section, key)]
        assert shown == pytest.approx([flow for _, flow in expected], abs=0.051)
    region = _section(site.out_dir / "places" / "arab-region.html")
    assert "moves between its own countries are neither inflows nor outflows" in region


def test_the_csv_behind_holds_every_sex_and_method(site, flows_store: Path) -> None:
    path = site.out_dir / "downloads" / "sau" / "flows.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = _sql(
        flows_store,
        "SELECT count(*), count(DISTINCT method), count(DISTINCT sex), sum(net) FROM arab_flows "
        "WHERE revision = 2024 AND level = 'country' AND place_code = ?",
        [SAUDI],
    )[0]
    assert len(rows) == expected[0] == 7 * 3 * 3
    assert len({r["method"] for r in rows}) == expected[1] == 3
    assert len({r["sex"] for r in rows}) == expected[2] == 3
    assert sum(float(r["net"]) for r in rows) == pytest.approx(expected[3])
    assert (site.out_dir / "downloads" / "sau" / "flow_origins.csv").exists()


def test_a_store_without_flows_shows_no_section(real_store: Path, tmp_path: Path) -> None:
    built = build_site(real_store, tmp_path / "site")
    html = (built.out_dir / "places" / "sau.html").read_text(encoding="utf-8")
    assert 'id="flows"' not in html
    assert not (built.out_dir / "downloads" / "sau" / "flows.csv").exists()


def test_the_brief_has_one_line_on_flows(flows_store: Path, real_store: Path, tmp_path: Path):
    inflow, outflow, net = _sql(
        flows_store,
        "SELECT inflow, outflow, net FROM arab_flows WHERE revision = 2024 AND level = 'region' "
        "AND sex = 'total' AND method = 'demographic_account' AND period_start = 2020",
    )[0]
    for lang in ("en", "ar"):
        result = build_brief(flows_store, lang, tmp_path / lang, pdf=False)
        html = result.html.read_text(encoding="utf-8")
        item = re.search(r'<li data-figure="flows_net">.*?</li>', html, re.S)
        assert item, lang
        value = re.search(r'<data value="([^"]+)"', item.group(0)).group(1)
        assert float(value) == pytest.approx(net, abs=0.051)
        assert f"{round(inflow):,}" in item.group(0) and f"{round(outflow):,}" in item.group(0)
        with (tmp_path / lang / "headline.csv").open(encoding="utf-8") as handle:
            keys = [row["key"] for row in csv.DictReader(handle)]
        assert "flows_net" in keys
    english = (tmp_path / "en" / "index.html").read_text(encoding="utf-8")
    assert "Estimated net migration into the Arab region, 2020–2024" in english
    assert "births and deaths taken as zero" in english
    without = build_brief(real_store, "en", tmp_path / "none", pdf=False)
    assert 'data-figure="flows_net"' not in without.html.read_text(encoding="utf-8")


def _open(browser, path: Path) -> tuple:
    """``path`` opened offline: the page, its console errors, requests off the machine."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    external: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    def route(handle) -> None:
        if handle.request.url.startswith(("file:", "data:")):
            handle.continue_()
        else:
            external.append(handle.request.url)
            handle.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    return page, errors, external


@pytest.mark.browser
def test_the_flows_chart_is_drawn_offline_by_sex_and_mirrored_in_arabic(site) -> None:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    drawn = "document.querySelector(\"[data-spec='spec-flows']\").dataset.drawn === 'true'"
    female = "document.querySelector(\"[data-spec='spec-flows']\").dataset.sex === 'female'"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        try:
            for lang_dir, name in (("", "en"), ("ar/", "ar")):
                path = site.out_dir / lang_dir / "places" / "sau.html"
                page, errors, external = _open(browser, path)
                page.wait_for_function(drawn, timeout=15_000)
                holder = page.locator("[data-spec='spec-flows']")
                bars = holder.locator("svg path[aria-roledescription='bar']")
                assert bars.count() == 7 * 3, name  # 7 periods x inflow, outflow, net
                box = page.eval_on_selector(
                    "[data-chart='flows'] svg",
                    """svg => {
                        const texts = [...svg.querySelectorAll('.role-axis-label text')];
                        const x = t => texts.find(e => e.textContent === t)
                            .getBoundingClientRect().x;
                        return {first: x('1990–1995'), last: x('2020–2024')};
                    }""",
                )
                assert (box["first"] < box["last"]) == (name == "en"), "time runs right to left"
                before = page.locator("figure[data-chart='flows'] svg").inner_html()
                page.locator("fieldset[data-sex-for='flows'] input[value='female']").check()
                page.wait_for_function(female)
                assert page.locator("figure[data-chart='flows'] svg").inner_html() != before
                page.locator("section#flows").screenshot(
                    path=str(SCREENSHOTS / f"flows-sau-{name}.png")
                )
                assert errors == [] and external == [], (name, errors, external)
                page.close()
        finally:
            browser.close()
