"""Open a local page in headless Chromium (Debian's, driven by Playwright) and
record every request it makes."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class PageVisit:
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)

    @property
    def external(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(("file:", "data:"))]


def chromium_path() -> str:
    """Debian's chromium (installed by .ci/run); missing is a failure, never a skip."""
    path = os.environ.get("MIGSTOCK_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("chromium not found: `apt-get install chromium` (see .ci/run)")
    return path


def visit(
    page_path: Path, screenshot: Path | None = None, selectors: tuple[str, ...] = ()
) -> PageVisit:
    """Load ``page_path``; wait until the network is idle; collect the text of ``selectors``."""
    from playwright.sync_api import sync_playwright

    result = PageVisit()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("request", lambda request: result.requests.append(request.url))
            page.on("requestfailed", lambda request: result.failed.append(request.url))
            page.on(
                "console",
                lambda message: (
                    result.errors.append(message.text) if message.type == "error" else None
                ),
            )
            page.on("pageerror", lambda error: result.errors.append(str(error)))
            page.goto(page_path.resolve().as_uri())
            page.wait_for_load_state("networkidle")
            for selector in selectors:
                result.texts[selector] = page.locator(selector).all_inner_texts()
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return result
