"""The data brief: a bilingual (English, Arabic) page of key figures and charts from the store.

``build_brief`` reads the store read-only (``queries``), renders one page per language
(``render``, ``charts``, ``i18n``) with the CSV behind every chart and table, and prints
it to PDF (``pdf``). ``publish_brief`` does that after a load and publishes the key figures
as a Prefect artifact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from migstock import settings
from migstock.brief.i18n import LANGUAGES, Lang, Translator
from migstock.brief.queries import BriefData, read_brief
from migstock.errors import MigstockError

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from migstock.brief.pdf import PdfPrinter
    from migstock.brief.worker import BriefWorker

__all__ = [
    "LANGUAGES",
    "BriefResult",
    "brief_root",
    "build_all",
    "build_brief",
    "default_out_dir",
    "publish_brief",
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
    db_path: Path,
    out_root: Path | None = None,
    *,
    synthetic: bool = False,
    printer: PdfPrinter | None = None,
) -> list[BriefResult]:
    """The brief in every language. Each page goes to ``printer`` (or one started here)
    as soon as it is written, and the next page is built while Chromium prints; without
    Chromium each result says why there is no PDF."""
    from migstock.brief.pdf import PdfPrinter

    data = read_brief(Path(db_path), synthetic=synthetic)
    root = Path(out_root) if out_root else brief_root(db_path)
    own = printer is None
    printer = printer or PdfPrinter()
    try:
        printing = []
        for lang in LANGUAGES:
            result = build_brief(db_path, lang, root / lang, data=data, pdf=False)
            pdf = printer.submit(result.html, result.html.parent / "brief.pdf", _banner(lang, data))
            printing.append((result, pdf))
        for result, pdf in printing:
            result.pdf, result.pdf_error = _pdf_outcome(pdf.result)
    finally:
        if own:
            printer.close()
    return [result for result, _ in printing]


def publish_brief(
    db_path: Path,
    out_root: Path | None = None,
    *,
    synthetic: bool = False,
    worker: BriefWorker | None = None,
) -> list[BriefResult]:
    """Build the brief in every language after a load, in a process of its own (``worker``,
    started earlier to warm up, or a new one), and publish its key figures as the Prefect
    artifact ``migstock-brief`` (outside a flow run the artifact is skipped)."""
    from migstock.brief.worker import BriefWorker

    results, key_figures = (worker or BriefWorker()).build_with_key_figures(
        db_path, out_root, synthetic=synthetic
    )
    try:
        from prefect.artifacts import create_markdown_artifact
        from prefect.context import get_run_context

        get_run_context()
    except Exception:
        return results
    create_markdown_artifact(
        key="migstock-brief",
        markdown=key_figures,
        description="Key figures of the Arab region data brief",
    )
    return results
