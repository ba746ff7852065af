"""The data brief: a bilingual (English, Arabic) page of key figures and charts from the store.

``build_brief`` reads the store read-only (``queries``), renders one page per language
(``render``, ``charts``, ``i18n``) with the CSV behind every chart and table, and prints
it to PDF (``pdf``). ``build_all`` does that for every language after a load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from migstock import settings, stops
from migstock.brief.i18n import LANGUAGES, Lang, Translator
from migstock.brief.queries import BriefData, read_brief
from migstock.errors import MigstockError

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = [
    "LANGUAGES",
    "BriefResult",
    "brief_root",
    "build_all",
    "build_brief",
    "default_out_dir",
]


@dataclass
class BriefResult:
    lang: Lang
    html: Path
    pdf: Path | None
    pdf_error: str | None
    data: BriefData


def default_out_dir(lang: str) -> Path:
    """``data/brief/<lang>/`` (under ``MIGSTOCK_DATA_DIR``)."""
    return settings.data_dir() / "brief" / lang


def brief_root(db_path: Path) -> Path:
    """Where the flow writes the brief of a store: ``data/brief`` for ``data/curated/x.duckdb``
    (so ``data/demo/brief`` for the demo), else a ``brief`` folder beside the database."""
    db_path = Path(db_path)
    parent = db_path.parent
    return parent.parent / "brief" if parent.name == "curated" else parent / "brief"


def build_brief(
    db_path: Path,
    lang: Lang = "en",
    out_dir: Path | None = None,
    revision: int | None = None,
    *,
    synthetic: bool = False,
    pdf: bool = True,
    browser: Browser | None = None,
    data: BriefData | None = None,
) -> BriefResult:
    """Write ``index.html``, its CSV files and ``brief.pdf`` for one language.

    A missing Chromium does not lose the page: the result says why there is no PDF.
    """
    from migstock.brief import render
    from migstock.brief.pdf import write_pdf

    if lang not in LANGUAGES:
        raise MigstockError(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    data = data or read_brief(Path(db_path), revision, synthetic)
    out = Path(out_dir) if out_dir else default_out_dir(lang)
    page = render.build_page(Translator(lang), data)
    html = render.write_page(page, out)
    pdf_path, pdf_error = None, None
    if pdf:
        banner = _banner(lang, data)
        pdf_path, pdf_error = _pdf_outcome(
            lambda: write_pdf(html, out / "brief.pdf", browser, banner)
        )
    return BriefResult(lang, html, pdf_path, pdf_error, data)


def _banner(lang: Lang, data: BriefData) -> str | None:
    """What the top margin of every PDF page says: "synthetic data" for the demo."""
    return Translator(lang)("synthetic.banner") if data.synthetic else None


def _pdf_outcome(print_pdf: Callable[[], Path]) -> tuple[Path | None, str | None]:
    """(the PDF, None), or (None, why it was not written): the page stands without it."""
    try:
        return print_pdf(), None
    except MigstockError as error:
        return None, str(error)
    except Exception as error:
        stops.raise_if_stopped()  # Chromium or Playwright may turn a stop into an error
        return None, f"PDF not written: {type(error).__name__}: {error}"


def key_figures_markdown(data: BriefData, results: list[BriefResult]) -> str:
    """The key figures of a brief as Markdown (for the Prefect artifact)."""
    from migstock.brief import render

    t = Translator("en")
    page = render.Page(t, data, render.headline_figures(t, data))
    lines = [
        f"# Arab region data brief: {data.headline.revision} revision",
        "",
        *(["**SYNTHETIC DATA (migstock demo), not UN figures.**", ""] if data.synthetic else []),
        "| figure | value |",
        "|---|---|",
        *(f"| {f.label} | {f.text} |" for f in page.figures),
        "",
    ]
    if data.bilateral is not None:
        lines.append(f"Origins and destinations from the {data.bilateral.revision} revision.")
    for result in results:
        pdf = result.pdf or f"no PDF ({result.pdf_error})"
        lines.append(f"- {result.lang}: {result.html} · {pdf}")
    return "\n".join(lines)


def build_all(
    db_path: Path, out_root: Path | None = None, *, synthetic: bool = False
) -> list[BriefResult]:
    """The brief in every language, each page then printed to PDF by one headless
    Chromium; without Chromium each result says why there is no PDF."""
    from migstock.brief.pdf import print_pdfs

    data = read_brief(Path(db_path), synthetic=synthetic)
    root = Path(out_root) if out_root else brief_root(db_path)
    results = [build_brief(db_path, lang, root / lang, data=data, pdf=False) for lang in LANGUAGES]
    jobs = [(r.html, r.html.parent / "brief.pdf", _banner(r.lang, data)) for r in results]
    pdfs, error = _pdf_outcome(lambda: print_pdfs(jobs))
    for result in results:
        if pdfs:
            result.pdf = result.html.parent / "brief.pdf"
        result.pdf_error = error
    return results
