"""The brief's line on the age of the region's migrants (issue 27), in both languages.

Read as files (``test_brief.py`` opens the whole page in Chromium, this line included):
the shares under 15 and 65 and over and the median ages of women and men equal the store's
``arab_migrant_age_structure``, from the newest revision with age data up to the brief's.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from markupsafe import escape

from migstock.brief import build_brief
from migstock.brief.i18n import Translator

LANGS = ("en", "ar")


def _region(db: Path, revision: int) -> tuple:
    """(year, share under 15, share 65+, median women, median men, countries) of the
    region in the newest year of ``revision``'s age data."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT year, max(share_under_15_pct) FILTER (sex = 'total'), "
            "max(share_65_plus_pct) FILTER (sex = 'total'), "
            "max(median_age) FILTER (sex = 'female'), max(median_age) FILTER (sex = 'male'), "
            "max(countries_reporting) FILTER (sex = 'total') "
            "FROM arab_migrant_age_structure WHERE level = 'region' AND revision = ? "
            "GROUP BY year ORDER BY year DESC LIMIT 1",
            [revision],
        ).fetchone()
    assert row is not None
    return row


def _line(page: str) -> tuple[str, str, list[float]]:
    """The age line of a brief: its revision attribute, its text and its numbers."""
    found = re.search(r'<p class="age-line" data-age-revision="(\d+)">(.*?)</p>', page, re.S)
    assert found, "no age line"
    return found[1], found[2], [float(v) for v in re.findall(r'<data value="([^"]+)">', found[2])]


def _sentence(t: Translator, revision: int, year: int) -> str:
    """The pattern of the whole line: the message with its revision and year, a <data>
    element for each number, and the note on the one country without age data."""
    number = r'<data value="[^"]+">[^<]+</data>'
    pattern = re.escape(str(escape(t("age.line", revision="{revision}", year="{year}",
                                       under_15="{n}", over_65="{n}", female="{n}",
                                       male="{n}"))))  # fmt: skip
    pattern = pattern.replace(re.escape("{n}"), number)
    pattern = pattern.replace(re.escape("{revision}"), t.year(revision))
    pattern = pattern.replace(re.escape("{year}"), t.year(year))
    partial = t("age.line.partial", n=t.number(21), m=t.number(22))
    return pattern + " " + re.escape(str(escape(partial)))


@pytest.mark.parametrize(("revision", "age_revision"), [(None, 2020), (2019, 2019)])
def test_the_brief_says_how_old_the_regions_migrants_are(
    real_store: Path, tmp_path: Path, revision: int | None, age_revision: int
) -> None:
    year, under_15, over_65, women, men, countries = _region(real_store, age_revision)
    lines = {}
    for lang in LANGS:
        t = Translator(lang)  # type: ignore[arg-type]
        result = build_brief(real_store, lang, tmp_path / lang, revision, pdf=False)
        page = result.html.read_text()
        attribute, text, numbers = _line(page)
        assert attribute == str(age_revision)
        assert numbers == pytest.approx([under_15, over_65, women, men])
        assert re.fullmatch(_sentence(t, age_revision, year), text), text
        assert countries == 21  # the real store's age workbooks leave Comoros out
        lines[lang] = numbers
        assert page.index('class="age-line"') < page.index('id="subregions"')  # key figures
    assert lines["en"] == lines["ar"]
    english = _line((tmp_path / "en" / "index.html").read_text())[1]
    assert "of the Arab region&#39;s migrants were children under 15" in english


def test_the_sources_name_the_tables_of_the_age_workbooks(real_store: Path, tmp_path: Path):
    result = build_brief(real_store, "en", tmp_path, pdf=False)
    sources = result.data.sources
    ages = sources[sources["dataset"] == "age"]
    assert sorted(ages["revision"]) == [2019, 2020]
    assert all(tables and "Table 1" in tables for tables in ages["tables"]), ages


def test_a_source_file_without_rows_lists_no_tables_rather_than_nan(
    real_store: Path, tmp_path: Path
) -> None:
    """The About page and the brief's sources show an empty cell, never "nan"."""
    import shutil

    from migstock.brief import queries

    db = tmp_path / "migstock.duckdb"
    shutil.copy(real_store, db)
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM age_stock WHERE revision = 2019")
        con.execute("DELETE FROM age_population WHERE revision = 2019")
    with queries.connect(db) as con:
        sources = queries.sources(con, queries.NEWEST)
    tables = dict(zip(sources["file_name"], sources["tables"], strict=True))
    assert tables["UN_MigrantStockByAgeAndSex_2019.xlsx"] == ""
    assert tables["undesa_pd_2020_ims_stock_by_age_sex_and_destination.xlsx"] == "Table 1, Table 2"
