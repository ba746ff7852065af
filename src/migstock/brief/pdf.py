"""The brief as PDF: headless Chromium (Debian's ``chromium``) through Playwright.

No browser is downloaded: Playwright drives the system Chromium given by
``MIGSTOCK_CHROMIUM`` or found on ``PATH``. Only ``file:`` URLs may load; any other
request is aborted, so the PDF is made offline exactly like the page a reader opens.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from migstock.errors import MigstockError

if TYPE_CHECKING:
    from playwright.sync_api import Browser

T = TypeVar("T")
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def chromium_path() -> str:
    """The Chromium executable: ``MIGSTOCK_CHROMIUM``, else the first one on PATH."""
    configured = os.environ.get("MIGSTOCK_CHROMIUM")
    if configured:
        return configured
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise MigstockError(
        "no Chromium found for the PDF: install Debian's `chromium` (apt-get install chromium) "
        "or set MIGSTOCK_CHROMIUM to its path; the HTML brief was written"
    )


def offline_only(route) -> None:
    """Let file: URLs through, abort everything else (no network while rendering)."""
    if route.request.url.startswith(("file:", "data:", "about:")):
        route.continue_()
    else:
        route.abort()


def _margin_template(text: str, colour: str) -> str:
    return (
        f'<div dir="auto" style="width:100%;text-align:center;font-size:8px;font-family:'
        f'Noto Sans,Noto Sans Arabic,sans-serif;color:{colour};font-weight:bold">'
        f"{escape(text)}</div>"
    )


def _print(browser: Browser, html: Path, pdf: Path, banner: str | None = None) -> None:
    """Print to A4; ``banner`` (e.g. "SYNTHETIC DATA") goes into the top margin of every
    page, page numbers into the bottom margin."""
    page = browser.new_page()
    try:
        page.route("**/*", offline_only)
        page.goto(html.resolve().as_uri(), wait_until="load")
        page.emulate_media(media="print")
        page.pdf(
            path=str(pdf),
            format="A4",
            print_background=True,
            prefer_css_page_size=True,
            display_header_footer=True,
            header_template=_margin_template(banner, "#a1261b") if banner else "<span></span>",
            footer_template=(
                '<div style="width:100%;text-align:center;font-size:8px;color:#5b6b73">'
                '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
            ),
        )
    finally:
        page.close()


@contextmanager
def browser_session() -> Iterator[Browser]:
    """One headless Chromium for several PDFs (start-up costs about a second)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def print_pdfs(jobs: list[tuple[Path, Path, str | None]]) -> Path:
    """Print each ``(html, pdf, banner)`` with one headless Chromium; return the last PDF."""

    def run() -> None:
        with browser_session() as browser:
            for html, pdf, banner in jobs:
                _print(browser, html, pdf, banner)

    outside_event_loop(run)
    return jobs[-1][1]


def outside_event_loop(function: Callable[[], T]) -> T:
    """Run ``function`` here, or in a worker thread when this thread runs an asyncio loop
    (Playwright's sync API refuses to run inside one, e.g. within a Prefect task)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def write_pdf(
    html: Path, pdf: Path, browser: Browser | None = None, banner: str | None = None
) -> Path:
    """Print ``html`` to ``pdf`` (A4). Pass an open ``browser`` to reuse it (tests)."""
    if browser is not None:
        _print(browser, html, pdf, banner)
        return pdf

    def run() -> None:
        with browser_session() as own:
            _print(own, html, pdf, banner)

    outside_event_loop(run)
    return pdf
