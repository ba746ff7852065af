"""The data brief: a bilingual (English, Arabic) page of key figures and charts from the store.

``build_brief`` reads the store read-only (``queries``), renders one page per language
(``render``, ``charts``, ``i18n``) with the CSV behind every chart and table, and prints
it to PDF (``pdf``). ``publish_brief`` does that after a load and publishes the key figures
as a Prefect artifact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from migstock import settings
from migstock.brief.i18n import LANGUAGES, Lang, Translator
from migstock.brief.queries import BriefData, read_brief
from migstock.errors import MigstockError

if TYPE_CHECKING:
    from playwright.sync_api import Browser

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
        try:
            banner = page.t("synthetic.banner") if data.synthetic else None
            pdf_path = write_pdf(html, out / "brief.pdf", browser, banner)
        except MigstockError as error:
            pdf_error = str(error)
        except Exception as error:
            pdf_error = f"PDF not written: {type(error).__name__}: {error}"
    return BriefResult(lang, html, pdf_path, pdf_error, data)


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
    browser: Browser | None = None,
) -> list[BriefResult]:
    """The brief in every language, with one Chromium for all the PDFs: ``browser`` (opened
    by this thread), or one started here (none without Chromium: each result then says
    why there is no PDF)."""
    from migstock.brief.pdf import browser_session, chromium_path, outside_event_loop

    data = read_brief(Path(db_path), synthetic=synthetic)
    root = Path(out_root) if out_root else brief_root(db_path)

    def with_browser(open_browser: Browser | None) -> list[BriefResult]:
        return [
            build_brief(db_path, lang, root / lang, data=data, browser=open_browser)
            for lang in LANGUAGES
        ]

    def in_every_language() -> list[BriefResult]:
        try:
            chromium_path()
        except MigstockError:
            return [build_brief(db_path, lang, root / lang, data=data) for lang in LANGUAGES]
        with browser_session() as own:
            return with_browser(own)

    if browser is not None:  # used in the thread that opened it
        return with_browser(browser)
    return outside_event_loop(in_every_language)


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

    results = (worker or BriefWorker()).build(db_path, out_root, synthetic=synthetic)
    try:
        from prefect.artifacts import create_markdown_artifact
        from prefect.context import get_run_context

        get_run_context()
    except Exception:
        return results
    create_markdown_artifact(
        key="migstock-brief",
        markdown=key_figures_markdown(results[0].data, results),
        description="Key figures of the Arab region data brief",
    )
    return results
