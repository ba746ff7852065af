"""The portal and the brief on stores that hold part of the data: only destination totals,
only bilateral stocks, only one revision, or only country pairs (no totals at all).

A download that fails leaves such a store: the 2024 bilateral workbook loaded and its
totals workbook not. Its aggregate rows (origin "World") still give the Arab region's
migrants, but there is no population: the pages and the brief must be built from what
the store holds and say on the page, in English and Arabic, what is missing and which
workbook fills it. A store with no migrant totals at all is refused in one line naming
the workbook to load. Pages are read as files (Chromium is for ``test_site.py``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from markupsafe import escape
from typer.testing import CliRunner

from migstock.acquire.provenance import local_file
from migstock.brief import build_brief
from migstock.brief.i18n import Translator
from migstock.cli import app
from migstock.errors import MigstockError
from migstock.parse.prepare import PreparedFile, group_by_revision, prepare_file
from migstock.pipeline import revision_load
from migstock.site import build_site
from migstock.store import load_revisions
from tests.real_exports import write_2024_bilateral

TOTALS_2024 = "undesa_pd_2024_ims_stock_by_sex_and_destination.xlsx"
BILATERAL_2024 = "undesa_pd_2024_ims_stock_by_sex_destination_and_origin.xlsx"
#: the age workbook that would fill the age section: 2024 publishes none, 2020's is newest
AGE_2020 = "undesa_pd_2020_ims_stock_by_age_sex_and_destination.xlsx"
SAUDI_ARABIA = 682
LANGS = ("en", "ar")


@pytest.fixture(scope="module")
def prepared(
    official_dir: Path,
    export_2024,
    bilateral_2024_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, PreparedFile]:
    """The files the stores are made of: real totals workbooks, and the 2024 bilateral
    layout with the real country pairs, with and without each destination's "World" row."""
    folder = tmp_path_factory.mktemp("partial-raw")
    world = write_2024_bilateral(export_2024, folder / BILATERAL_2024, world=True)
    pairs = bilateral_2024_path  # the session's: country pairs only
    paths = {
        "totals 2017": official_dir / "UN_MigrantStockTotal_2017.xlsx",
        "totals 2019": official_dir / "UN_MigrantStockTotal_2019.xlsx",
        "totals 2024": official_dir / TOTALS_2024,
        "bilateral 2024": world,
        "pairs 2024": pairs,
    }
    return {name: prepare_file(local_file(path, "raw-dir")) for name, path in paths.items()}


def _store(prepared: dict[str, PreparedFile], folder: Path, *names: str) -> Path:
    files = [prepared[name] for name in names]
    db = folder / "curated" / "migstock.duckdb"
    loads = [revision_load(n, group) for n, group in group_by_revision(files).items()]
    load_revisions(db, db.parent / "parquet", loads)
    return db


@pytest.fixture(scope="module")
def stores(prepared: dict[str, PreparedFile], tmp_path_factory: pytest.TempPathFactory):
    """name -> store: only totals (two revisions), only bilateral stocks (2024, with its
    aggregate rows), one whole revision (2024 totals and bilateral), only country pairs."""
    contents = {
        "totals only": ("totals 2017", "totals 2019"),
        "bilateral only": ("bilateral 2024",),
        "one revision": ("totals 2024", "bilateral 2024"),
        "pairs only": ("pairs 2024",),
    }
    return {
        name: _store(prepared, tmp_path_factory.mktemp(name.replace(" ", "-")), *names)
        for name, names in contents.items()
    }


@pytest.fixture(scope="module")
def sites(stores: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """The site of a store, built once when a test first asks for it (one store's crash
    is that store's tests' failure only)."""
    root = tmp_path_factory.mktemp("partial-sites")
    built: dict[str, Path] = {}

    def site(name: str) -> Path:
        if name not in built:
            built[name] = build_site(stores[name], root / name.replace(" ", "-")).out_dir
        return built[name]

    return site


def _sql(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _page(site: Path, lang: str, slug: str) -> str:
    return (site / ("" if lang == "en" else "ar/") / "places" / f"{slug}.html").read_text()


def _gaps(page: str) -> dict[str, str]:
    """Section -> the workbook its gap note names."""
    return dict(re.findall(r'data-gap="(\w+)">.*?class="file">([^<]+)<', page, re.S))


def _figures(page: str) -> dict[str, str]:
    """Key figure -> its value (the <data> value), or the note saying it is not loaded."""
    found = {}
    for key, body in re.findall(r'<li data-figure="(\w+)">(.*?)</li>', page, re.S):
        value = re.search(r'<data value="([^"]+)">', body)
        note = re.search(r'<span class="note">([^<]*)</span>', body)
        found[key] = value[1] if value else f"none: {note[1] if note else ''}"
    return found


def _escaped(text: str) -> str:
    """``text`` as the templates write it into a page."""
    return str(escape(text))


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


# ---------------------------------------------------------------- only bilateral stocks


@pytest.mark.parametrize("lang", LANGS)
def test_pages_of_a_store_with_only_bilateral_stocks_say_the_share_needs_population(
    sites: Callable[[str], Path], stores: dict[str, Path], lang: str
) -> None:
    site, db = sites("bilateral only"), stores["bilateral only"]
    t = Translator(lang)  # type: ignore[arg-type]
    assert len(_pages(site)) == 58  # home, about and 27 profiles, in both languages
    page = _page(site, lang, "sau")
    assert _gaps(page) == {
        "population": f"{TOTALS_2024} (Table 1)",
        "refugees": "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx (Table 6)",
        "data_basis": f"{TOTALS_2024} (Table 1)",
        "notes": f"{TOTALS_2024} (NOTES)",
        "age": AGE_2020,
    }
    assert _escaped(t("gap.population")) in page
    assert _escaped(t("gap.age")) in page
    assert 'data-chart="migrant_share"' not in page and '<section id="migrant_share"' in page
    ((migrants,),) = _sql(
        db,
        "SELECT migrants FROM bilateral_stock WHERE destination_code = ? AND origin_kind = "
        "'total' AND revision = 2024 AND year = 2024 AND sex = 'total'",
        [SAUDI_ARABIA],
    )
    figures = _figures(page)
    assert figures["migrants"] == str(migrants)
    not_loaded = f"none: {_escaped(t('fig.not_loaded'))}"
    assert figures["migrant_share_pct"] == figures["population"] == not_loaded
    assert 'data-chart="origins"' in page  # what the store holds is shown
    region = _page(site, lang, "arab-region")
    ((total,),) = _sql(
        db,
        "SELECT migrants FROM arab_region_totals WHERE region = 'Arab region' "
        "AND revision = 2024 AND year = 2024 AND sex = 'total'",
    )
    assert _figures(region)["migrants"] == str(total)
    assert _figures(region)["migrant_share_pct"] == not_loaded
    assert "population" in _gaps(region)


@pytest.mark.parametrize("lang", LANGS)
def test_the_brief_of_a_store_with_only_bilateral_stocks_says_the_share_needs_population(
    stores: dict[str, Path], tmp_path: Path, lang: str
) -> None:
    db = stores["bilateral only"]
    t = Translator(lang)  # type: ignore[arg-type]
    result = build_brief(db, lang, tmp_path, pdf=False)  # type: ignore[arg-type]
    page = result.html.read_text()
    assert _gaps(page)["population"] == f"{TOTALS_2024} (Table 1)"
    assert _escaped(t("gap.population")) in page
    ((total,),) = _sql(
        db,
        "SELECT migrants FROM arab_region_totals WHERE region = 'Arab region' "
        "AND revision = 2024 AND year = 2024 AND sex = 'total'",
    )
    figures = _figures(page)
    assert figures["migrants"] == str(total)
    assert figures["migrant_share_pct"] == f"none: {_escaped(t('fig.not_loaded'))}"


# ---------------------------------------------------------------- only totals, one revision


@pytest.mark.parametrize("lang", LANGS)
def test_pages_and_brief_of_a_store_with_only_totals(
    sites: Callable[[str], Path], stores: dict[str, Path], tmp_path: Path, lang: str
) -> None:
    site, db = sites("totals only"), stores["totals only"]
    page = _page(site, lang, "sau")
    assert _gaps(page) == {
        "bilateral": "UN_MigrantStockByOriginAndDestination_2019.xlsx (Table 1)",
        "age": "UN_MigrantStockByAgeAndSex_2019.xlsx",  # the newest revision loaded: 2019
    }
    assert 'data-chart="migrant_share"' in page and 'data-chart="origins"' not in page
    ((share,),) = _sql(
        db,
        "SELECT migrant_share_pct FROM migrant_share_of_population WHERE destination_code = ? "
        "AND revision = 2019 AND year = 2019 AND sex = 'total'",
        [SAUDI_ARABIA],
    )
    assert float(_figures(page)["migrant_share_pct"]) == pytest.approx(float(share))
    assert 'data-chart="revisions"' in page  # two revisions of totals
    brief = build_brief(db, lang, tmp_path, pdf=False).html.read_text()  # type: ignore[arg-type]
    assert set(_gaps(brief)) == {"bilateral"}
    assert float(_figures(brief)["migrant_share_pct"]) > 0


@pytest.mark.parametrize("lang", LANGS)
def test_pages_and_brief_of_a_store_with_one_revision(
    sites: Callable[[str], Path], stores: dict[str, Path], tmp_path: Path, lang: str
) -> None:
    site, db = sites("one revision"), stores["one revision"]
    page = _page(site, lang, "sau")
    assert _gaps(page) == {  # 2024 publishes no refugee table, nor migrants by age
        "refugees": "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx (Table 6)",
        "age": AGE_2020,
    }
    figures = _figures(page)
    assert "revision_change" not in figures  # nothing to compare with
    ((migrants, share),) = _sql(
        db,
        "SELECT migrants, migrant_share_pct FROM migrant_share_of_population "
        "WHERE destination_code = ? AND revision = 2024 AND year = 2024 AND sex = 'total'",
        [SAUDI_ARABIA],
    )
    assert figures["migrants"] == str(migrants)
    assert float(figures["migrant_share_pct"]) == pytest.approx(float(share))
    for key in ("migrants_by_sex", "female_share", "migrant_share", "origins", "revisions"):
        assert f'data-chart="{key}"' in page, key
    brief = build_brief(db, lang, tmp_path, pdf=False).html.read_text()  # type: ignore[arg-type]
    assert set(_gaps(brief)) == {"refugees"}


# ---------------------------------------------------------------- no totals at all


def test_a_store_of_country_pairs_only_is_refused_in_one_line_naming_the_workbook(
    stores: dict[str, Path], tmp_path: Path
) -> None:
    db = stores["pairs only"]
    with pytest.raises(MigstockError, match=re.escape(TOTALS_2024)):
        build_site(db, tmp_path / "site")
    runner = CliRunner()
    for command in (["site"], ["brief", "--no-pdf"]):
        result = runner.invoke(app, [*command, "--db", str(db), "--out", str(tmp_path / "out")])
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert "no migrant totals for the Arab region" in lines[0]
        assert TOTALS_2024 in lines[0]


# ---------------------------------------------------------------- the run


@pytest.mark.slow
def test_a_run_that_loads_only_the_bilateral_workbook_writes_the_pages(
    prepared: dict[str, PreparedFile], tmp_path: Path
) -> None:
    """The run after a failed totals download: the pages are written, no warning."""
    from migstock import pipeline
    from migstock.acquire import Scope
    from migstock.outcomes import Status

    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(prepared["bilateral 2024"].raw.path, raw / BILATERAL_2024)
    db = tmp_path / "curated" / "migstock.duckdb"
    stages = pipeline.Stages(brief=lambda db: [])  # the brief's PDF needs Chromium
    summary = pipeline.run(Scope.of_run(raw), db, stages=stages)
    statuses = {o.subject: o.status for o in summary.outcomes}
    assert statuses["revision 2024"] is Status.LOADED
    assert "country pages" not in statuses, summary.outcomes
    assert summary.site is not None and summary.site.index.exists()
    assert "population" in summary.site.data.missing  # type: ignore[union-attr]


# ---------------------------------------------------------------- no migrants by age


@pytest.mark.parametrize("name", ["totals only", "bilateral only", "one revision"])
def test_every_page_of_a_store_without_age_data_is_built_and_says_so(
    sites: Callable[[str], Path], stores: dict[str, Path], tmp_path: Path, name: str
) -> None:
    """No age workbook loaded: every profile has the age section, naming the workbook in
    both languages, and no age chart, table or CSV; the brief has no age line."""
    site = sites(name)
    assert len(_pages(site)) == 58
    for lang in LANGS:
        t = Translator(lang)  # type: ignore[arg-type]
        for page_path in sorted((site / ("" if lang == "en" else "ar/") / "places").glob("*.html")):
            page = page_path.read_text()
            assert '<section id="age"' in page, page_path
            assert "age" in _gaps(page) and _escaped(t("gap.age")) in page, page_path
            assert 'data-chart="migrants_by_age"' not in page
            assert 'data-table="age_structure"' not in page
        brief = build_brief(stores[name], lang, tmp_path / lang, pdf=False)  # type: ignore[arg-type]
        assert 'class="age-line"' not in brief.html.read_text()
        assert brief.data.age is None
    assert not list(site.glob("downloads/*/migrants_by_age.csv"))
