"""Great Expectations Data Docs that open with no network.

GX's page templates load jQuery, Bootstrap, bootstrap-table, Font Awesome and
more from CDNs, show GX's logo from S3 and a newsletter banner. Without the
scripts the index page lists nothing. After GX writes a site,
:func:`make_offline` copies the vendored files of ``data_docs_assets/`` into the
site (``static/vendor/``), points every page at them, and removes what is not
needed (charts' vega scripts, the dark theme, the logo, the banner).
:func:`external_resources` lists what a page would still fetch from the network.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from html import escape
from pathlib import Path
from urllib.parse import unquote

ASSETS = Path(__file__).resolve().parent / "data_docs_assets"
VENDOR = "static/vendor"

#: CDN address (without query) -> vendored file under ``static/vendor/``; None: dropped.
CDN_FILES: dict[str, str | None] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/bootstrap.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js/popper.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table/bootstrap-table-filter-control.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": "bootstrap-table/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-free/css/all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": None,
    "https://cdn.jsdelivr.net/npm/vega-lite@5": None,
    "https://cdn.jsdelivr.net/npm/vega-embed@6": None,
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": None,
}

_SCRIPT = re.compile(r'<script\s+src="(https?://[^"]+)"[^>]*>\s*</script>\s*')
_LINK = re.compile(r'<link\s+[^>]*href="(https?://[^"]+)"[^>]*>\s*')
_LOGO_IMG = re.compile(r'src="https://great-expectations-web-assets[^"]*"')
_LOGO_CSS = re.compile(r"url\('https://great-expectations-web-assets[^']*'\)")
_FAVICON = re.compile(r'<link rel="shortcut icon" href="[^"]*"')
_NEWSLETTER = re.compile(r"<footer>\s*<p>Stay current on everything GX.*?</footer>", re.DOTALL)
#: what a browser fetches by itself: script/img/iframe src, stylesheet links, CSS url()
_FETCHED = re.compile(
    r'<(?:script|img|iframe|source)\b[^>]*\bsrc="(https?://[^"]+)"'
    r'|<link\b[^>]*\bhref="(https?://[^"]+)"'
    r"|url\(['\"]?(https?://[^)'\"]+)"
)


def make_offline(site_dir: Path) -> int:
    """Vendor the assets into ``site_dir`` and rewrite its pages; return pages changed."""
    target = site_dir / VENDOR
    if _stale(target):
        shutil.copytree(ASSETS, target, dirs_exist_ok=True, ignore=_not_assets)
    marker = target / ".pages-rewritten"  # pages older than it were rewritten already
    since = marker.stat().st_mtime if marker.exists() else 0.0
    started = time.time()
    changed = 0
    for page in site_dir.rglob("*.html"):
        if page.stat().st_mtime < since:
            continue
        html = page.read_text(encoding="utf-8")
        fixed = offline_html(html, os.path.relpath(site_dir, page.parent).replace(os.sep, "/"))
        if fixed != html:
            page.write_text(fixed, encoding="utf-8")
            changed += 1
    marker.touch()
    os.utime(marker, (started, started))
    return changed


def offline_html(html: str, root: str) -> str:
    """One page with its CDN assets replaced; ``root`` is the relative path to the site root."""
    root = root.rstrip("/") + "/" if root not in ("", ".") else ""

    def script(match: re.Match[str]) -> str:
        return _local_tag(match, root, lambda path: f'<script src="{path}"></script>\n')

    def link(match: re.Match[str]) -> str:
        return _local_tag(match, root, lambda path: f'<link rel="stylesheet" href="{path}">\n')

    html = _SCRIPT.sub(script, html)
    html = _LINK.sub(link, html)
    html = _LOGO_IMG.sub(f'src="{root}static/images/logo-long.png"', html)
    html = _LOGO_CSS.sub(f"url('{root}static/images/logo-long.png')", html)
    html = _FAVICON.sub(f'<link rel="shortcut icon" href="{root}static/images/favicon.ico"', html)
    return _NEWSLETTER.sub("", html)


def external_resources(html: str) -> list[str]:
    """Addresses on other hosts that a browser would fetch to show ``html``."""
    return [next(group for group in match.groups() if group) for match in _FETCHED.finditer(html)]


def _local_tag(match: re.Match[str], root: str, tag: object) -> str:
    url = match.group(1).split("?")[0]
    if url not in CDN_FILES:
        return match.group(0)  # unknown: left for external_resources to report
    vendored = CDN_FILES[url]
    return "" if vendored is None else tag(f"{root}{VENDOR}/{vendored}")  # type: ignore[operator]


def _not_assets(directory: str, names: list[str]) -> list[str]:
    return [name for name in names if name in ("__pycache__", "__init__.py")]


def _stale(target: Path) -> bool:
    """True when a vendored file is missing from the site or differs in size."""
    for source in ASSETS.rglob("*"):
        if source.is_file() and not _not_assets("", [source.name]):
            copy = target / source.relative_to(ASSETS)
            if not copy.exists() or copy.stat().st_size != source.stat().st_size:
                return True
    return False


#: the pages of results that failed only in warnings, one a line (kept across runs)
WARNED_PAGES = "static/migstock-passed-with-warnings.txt"
_ROW = re.compile(
    r"\{'validation_success': .*?'_table_row_link_path': '(?P<path>[^']*)'.*?\}", re.DOTALL
)
_FAILED_ICON = '<i class="fas fa-times text-danger ge-failed-icon" ></i>'
_SUCCESS_ICON = '<i class="fas fa-check-circle text-success ge-success-icon" ></i>'
_WARNED_ICON = (
    '<i class="fas fa-check-circle ge-success-icon" style="color:#b7791f" '
    'title="passed with warnings"></i> <small style="color:#8a5a00">with warnings</small>'
)


_PAGE_ASSET = "Data asset: None<br>"
_PAGE_SUCCEEDED = '<i class="fas fa-check-circle text-success" aria-hidden="true"></i> Succeeded'
_PAGE_WARNED = (
    '<i class="fas fa-check-circle" style="color:#b7791f" aria-hidden="true"></i> '
    "Passed with warnings: only expectations of severity warning failed (see below)"
)


def name_pages(site_dir: Path, pages: dict[str, str], warned: list[str]) -> None:
    """Write each result's name (``pages``: page path -> name, e.g. ``2024 ·
    destination_totals · <workbook>``) where GX writes "Data asset: None", and say
    "passed with warnings" on the pages of ``warned``."""
    for page, name in pages.items():
        path = site_dir / page
        if not path.exists():
            continue
        html = path.read_text(encoding="utf-8")
        fixed = html.replace(_PAGE_ASSET, f"Result: {escape(name)}<br>", 1)
        if page in warned:
            fixed = fixed.replace(_PAGE_SUCCEEDED, _PAGE_WARNED, 1)
        if fixed != html:
            path.write_text(fixed, encoding="utf-8")


_INDEX_STYLE = "<style>table td { overflow-wrap: anywhere; }</style>"


def mark_passed_with_warnings(site_dir: Path, pages: list[str]) -> int:
    """Remember ``pages`` (results that failed only in warnings, stored as successes) and
    show every such result of the site's index as "passed with warnings": an amber
    check and the words, not GX's red cross or plain green check. Return rows marked."""
    record = site_dir / WARNED_PAGES
    known = set(record.read_text(encoding="utf-8").splitlines()) if record.exists() else set()
    if pages:
        known.update(pages)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text("".join(f"{page}\n" for page in sorted(known)), encoding="utf-8")
    index = site_dir / "index.html"
    if not index.exists():
        return 0
    marked = 0

    def mark(match: re.Match[str]) -> str:
        nonlocal marked
        row = match.group(0)
        if unquote(match["path"]) not in known:  # the index links are URL-encoded
            return row
        marked += 1
        row = row.replace(_SUCCESS_ICON, _WARNED_ICON).replace(_FAILED_ICON, _WARNED_ICON)
        return re.sub(
            r"'_validation_success_text': '[^']*'",
            "'_validation_success_text': 'Passed with warnings'",
            row,
        )

    html = index.read_text(encoding="utf-8")
    fixed = _ROW.sub(mark, html)
    if _INDEX_STYLE not in fixed:  # long names (workbook files) wrap instead of overflowing
        fixed = fixed.replace("</head>", f"{_INDEX_STYLE}\n</head>", 1)
    if fixed != html:
        index.write_text(fixed, encoding="utf-8")
    return marked
