"""Migrants by age on the country pages (issue 27): a pyramid by sex, the age structure
beside the sub-region's and the region's, their CSV files, in English and Arabic.

Built from the real store, whose age workbooks (2019 and 2020) split the official totals
over the age groups by a synthetic profile and leave Comoros out (``tests/conftest.py``).
File checks read the HTML and the CSV; Chromium (Debian ``chromium`` through Playwright)
checks the drawn pyramid: men to the left of zero and women to the right in both
languages, the age axis on the right in Arabic, a tooltip, no console error.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pytest
from markupsafe import escape

from migstock.brief.charts import PALETTE
from migstock.brief.i18n import Translator
from migstock.site import build_site
from tests.browser import chromium_path
from tests.conftest import NO_AGE_DATA

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "data" / "site-screenshots"
LANGS = {"en": "", "ar": "ar/"}
GROUPS = [*(f"{a}-{a + 4}" for a in range(0, 75, 5)), "75+"]


@pytest.fixture(scope="module")
def site(real_store: Path, tmp_path_factory: pytest.TempPathFactory):
    return build_site(real_store, tmp_path_factory.mktemp("site") / "site")


def _sql(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _page(site, lang: str, slug: str) -> str:
    return (site.out_dir / LANGS[lang] / "places" / f"{slug}.html").read_text()


def _table(page: str, key: str) -> list[list[str]]:
    """The rows of a table: each cell's <data> value, else its text."""
    body = re.search(rf'<table data-table="{key}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, key
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body[1], re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        rows.append(
            [
                (re.search(r'<data value="([^"]*)">', c) or re.search(r"(.*)", c, re.S))[1]
                for c in cells
            ]
        )
    return rows


def _age_revision(db: Path) -> tuple[int, int]:
    return _sql(
        db,
        "SELECT revision, max(year) FROM age_stock WHERE revision = "
        "(SELECT max(revision) FROM age_stock) GROUP BY revision",
    )[0]


# ---------------------------------------------------------------- the files


def test_every_profile_with_age_data_shows_the_pyramid_and_the_structure(
    site, real_store: Path
) -> None:
    revision, year = _age_revision(real_store)
    assert (revision, year) == (2020, 2020)  # newer than 2019, older than the 2024 totals
    slugs = [p.stem for p in (site.out_dir / "places").glob("*.html")]
    [(comoros,)] = _sql(real_store, "SELECT lower(iso3) FROM locations WHERE code = ?", [174])
    assert len(slugs) == 27 and comoros in slugs
    for lang in LANGS:
        t = Translator(lang)  # type: ignore[arg-type]
        for slug in slugs:
            page = _page(site, lang, slug)
            assert f'data-age-revision="{revision}"' in page, slug
            which = t("site.age.which", revision=revision, year=year)
            assert str(escape(which)) in page, slug
            charted = 'data-chart="migrants_by_age"' in page
            assert charted == (slug != comoros), slug
            assert ('data-table="age_structure"' in page) == charted, slug
            assert ('data-gap="age"' in page) is False


def test_the_pyramid_csv_and_table_equal_sql_on_the_store(site, real_store: Path) -> None:
    revision, year = _age_revision(real_store)
    for slug, codes in (("sau", "= 682"), ("gcc", "IN (48, 414, 512, 634, 682, 784)")):
        rows = list(
            csv.DictReader((site.out_dir / "downloads" / slug / "migrants_by_age.csv").open())
        )
        assert [r["age_group"] for r in rows] == [*GROUPS, "total"]
        expected = {
            (group, sex): migrants
            for group, sex, migrants in _sql(
                real_store,
                "SELECT age_group, sex, sum(migrants) FROM age_stock WHERE revision = ? "
                f"AND year = ? AND destination_code {codes} GROUP BY ALL",
                [revision, year],
            )
        }
        for row in rows:
            assert int(row["revision"]) == revision and int(row["year"]) == year
            for sex in ("male", "female", "total"):
                assert int(row[sex]) == expected[(row["age_group"], sex)], (slug, row)
        total = int(rows[-1]["total"])
        for row in rows:
            share = float(row["pct_of_migrants"])
            assert share == pytest.approx(100 * int(row["total"]) / total, abs=0.005)
        for lang in LANGS:
            table = _table(_page(site, lang, slug), "migrants_by_age")
            assert [[int(c) for c in r[1:4]] for r in table] == [
                [int(r["male"]), int(r["female"]), int(r["total"])] for r in rows
            ]
    saudi = _sql(
        real_store,
        "SELECT migrants FROM age_stock WHERE revision = 2020 AND year = 2020 "
        "AND destination_code = 682 AND sex = 'total' AND age_group = 'total'",
    )
    assert saudi == [(13_454_842,)]  # the official 2020 total: the age workbook agrees
    assert ">13,454,842</data>" in _page(site, "en", "sau")


def test_the_age_structure_is_shown_beside_the_subregion_and_the_region(
    site, real_store: Path
) -> None:
    view = {
        (place, sex): values
        for place, sex, *values in _sql(
            real_store,
            "SELECT coalesce(CAST(code AS VARCHAR), name), sex, share_under_15_pct, "
            "share_under_20_pct, share_20_64_pct, share_65_plus_pct, median_age "
            "FROM latest_arab_migrant_age_structure WHERE year = 2020",
        )
    }
    chains = {
        "sau": ["682", "GCC", "Arab region"],
        "gcc": ["GCC", "Arab region"],
        "arab-region": ["Arab region"],
    }
    for slug, chain in chains.items():
        for lang in LANGS:
            rows = _table(_page(site, lang, slug), "age_structure")
            assert len(rows) == 7
            for column, place in enumerate(chain, start=1):
                shares = [float(rows[i][column]) for i in range(4)]
                assert shares == pytest.approx(view[(place, "total")][:4]), (slug, place)
                medians = [float(rows[i][column]) for i in (4, 5, 6)]
                expected = [view[(place, sex)][4] for sex in ("total", "female", "male")]
                assert medians == pytest.approx(expected), (slug, place)
        frame = list(
            csv.DictReader((site.out_dir / "downloads" / slug / "age_structure.csv").open())
        )
        assert [(r["name"], r["sex"]) for r in frame][::3] == [
            (name if name != "682" else "Saudi Arabia", "female") for name in chain
        ]
        assert all(r["name_ar"] and r["name_ar"] != r["name"] for r in frame)
    english = _page(site, "en", "sau")
    assert '<th scope="col">GCC countries</th>' in english
    assert "Working age, 20 to 64 (% of migrants)" in english


def test_a_place_without_age_data_and_the_sums_that_lack_it_say_so(site, real_store: Path) -> None:
    [(comoros, name)] = _sql(
        real_store, "SELECT lower(iso3), name FROM locations WHERE code = ?", [NO_AGE_DATA]
    )
    for lang in LANGS:
        t = Translator(lang)  # type: ignore[arg-type]
        shown = t.place(NO_AGE_DATA, name)
        page = _page(site, lang, comoros)
        note = t("site.age.none", place=shown, revision="2020")
        assert f'class="gap" data-age-note>{escape(note)}</p>' in page
        assert not (site.out_dir / "downloads" / comoros / "migrants_by_age.csv").exists()
        for slug, members in (("arab-region", 22), ("arab-ldcs", 6)):
            coverage = t(
                "site.age.coverage", n=t.number(members - 1), m=t.number(members), missing=shown
            )
            assert f'class="note" data-age-note>{escape(coverage)}</p>' in _page(site, lang, slug)
        assert "data-age-note" not in _page(site, lang, "sau")
    [(reporting,)] = _sql(
        real_store,
        "SELECT countries_reporting FROM latest_arab_migrant_age_structure "
        "WHERE level = 'region' AND sex = 'total' AND year = 2020",
    )
    assert reporting == 21


def test_age_labels_read_in_order_in_arabic(site) -> None:
    """In the right-to-left tables "0–4" is one left-to-right run (never "4–0"), 75 and
    over reads «75 فأكثر», all ages «جميع الأعمار»."""
    page = _page(site, "ar", "sau")
    table = _table(page, "migrants_by_age")
    labels = [row[0] for row in table]
    assert labels[0] == "\u20660–4\u2069" and labels[14] == "\u206670–74\u2069"
    assert labels[15] == "75 فأكثر" and labels[16] == "جميع الأعمار"
    spec = re.search(r'id="spec-migrants_by_age">(.*?)</script>', page, re.S)[1]
    assert '"\u206775 فأكثر\u2069"' in spec  # a right-to-left run in the chart's SVG


# ---------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path())
        yield chromium
        chromium.close()


#: the bars of the pyramid in the drawn SVG: fill, left and right edges, and middle
_BARS = r"""svg => {
    const bars = [...svg.querySelectorAll('path[aria-roledescription="bar"]')];
    const zero = [...svg.querySelectorAll('.role-axis-label text')]
        .find(e => e.textContent === '0').getBoundingClientRect();
    const ages = [...svg.querySelectorAll('.role-axis-label text')]
        .filter(e => /\d[–+]|فأكثر/.test(e.textContent)).map(e => e.getBoundingClientRect());
    const halves = [...svg.querySelectorAll('.role-mark text')]
        .map(e => [e.textContent, e.getBoundingClientRect().x]);
    const ticks = [...svg.querySelectorAll('.role-axis-label text')]
        .filter(e => /^[\d,]+$/.test(e.textContent))
        .map(e => {
            const r = e.getBoundingClientRect();
            return [e.textContent, r.x + r.width / 2];
        })
        .sort((a, b) => a[1] - b[1]);
    return {
        zero: zero.x + zero.width / 2,
        ticks: ticks,
        said: bars.map(b => b.getAttribute('aria-label')),
        bars: bars.map(b => { const r = b.getBoundingClientRect();
            return [b.getAttribute('fill'), r.left, r.right]; }),
        ageLeft: Math.min(...ages.map(r => r.left)), ageRight: Math.max(...ages.map(r => r.right)),
        plotLeft: Math.min(...bars.map(b => b.getBoundingClientRect().left)),
        plotRight: Math.max(...bars.map(b => b.getBoundingClientRect().right)),
        halves: halves,
    };
}"""


@pytest.mark.parametrize("lang", list(LANGS))
def test_the_pyramid_draws_men_left_and_women_right(site, browser, lang: str) -> None:
    t = Translator(lang)  # type: ignore[arg-type]
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto((site.out_dir / LANGS[lang] / "places" / "sau.html").as_uri())
    page.wait_for_function(
        "document.querySelector('[data-chart=\"migrants_by_age\"] [data-spec]')"
        ".dataset.drawn === 'true'"
    )
    drawn = page.eval_on_selector('[data-chart="migrants_by_age"] svg', _BARS)
    assert len(drawn["bars"]) == 32  # 16 age groups, two sexes
    men = [bar for bar in drawn["bars"] if bar[0] == PALETTE[0]]
    women = [bar for bar in drawn["bars"] if bar[0] == PALETTE[1]]
    assert len(men) == len(women) == 16
    zero = drawn["zero"]
    assert all(abs(right - zero) < 1.5 and left < zero for _, left, right in men)
    assert all(abs(left - zero) < 1.5 and right > zero for _, left, right in women)
    # both halves on one scale, centred on zero: the value labels mirror each other
    labels = [text for text, _ in drawn["ticks"]]
    assert labels == labels[::-1] and len(labels) >= 3 and labels[len(labels) // 2] == "0"
    ends = drawn["ticks"][0][1], drawn["ticks"][-1][1]
    assert abs((ends[0] + ends[1]) / 2 - zero) < 1.5
    # a screen reader hears the sex, the age group and the count, never a negative count
    assert all("-" not in said and "−" not in said for said in drawn["said"])
    assert f"{t('site.sex.male')}, 0–4: " in " ".join(drawn["said"])
    if t.rtl:  # the age axis on the right, as the category axis of the other charts
        assert drawn["ageLeft"] >= drawn["plotRight"] - 1
    else:
        assert drawn["ageRight"] <= drawn["plotLeft"] + 1
    halves = dict(drawn["halves"])
    assert halves[t("site.sex.male")] < zero < halves[t("site.sex.female")]
    bar = page.locator('[data-chart="migrants_by_age"] path[aria-roledescription="bar"]').first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=5_000)
    tip = page.text_content("#vg-tooltip-element")
    assert t("site.age.col.sex") in tip and re.search(r"\d{1,3}(,\d{3})+", tip)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#age").screenshot(path=str(SCREENSHOTS / f"{lang}-places-sau-age.png"))
    assert errors == []
    page.close()
