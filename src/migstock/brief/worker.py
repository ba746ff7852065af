"""The data brief in a process of its own, warmed up while the run validates.

The brief needs Altair, vl-convert's JavaScript engine and a headless Chromium:
about a second and a half to import and start, and some 150 MB. A :class:`BriefWorker`
started before validation does that on the other core while Great Expectations
works; after the load it only has to read the store, draw and print. Its memory
never enters the run's main process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from migstock import worker_process

if TYPE_CHECKING:
    from migstock.brief import BriefResult
    from migstock.brief.pdf import PdfPrinter

#: the worker process's PDF printer (its own thread and Chromium)
_printer: PdfPrinter | None = None


def _warm_up() -> None:
    """In the worker: import the brief, start vl-convert's engine and Chromium."""
    global _printer
    from migstock.brief import charts
    from migstock.brief.pdf import PdfPrinter

    _printer = PdfPrinter()
    _printer.start()  # Chromium starts in the printer's thread while the charts warm up
    charts.warm_up()


def _build(db_path: Path, out_root: Path | None, synthetic: bool) -> tuple[list[BriefResult], str]:
    from migstock.brief import build_all, key_figures_markdown

    try:
        results = build_all(db_path, out_root, synthetic=synthetic, printer=_printer)
        return results, key_figures_markdown(results[0].data, results)
    finally:
        if _printer is not None:
            _printer.close()


class BriefWorker:
    """One process that builds one brief; start it early, :meth:`build` after the load."""

    def __init__(self) -> None:
        self._pool = worker_process.start(_warm_up)

    def build(
        self, db_path: Path, out_root: Path | None = None, *, synthetic: bool = False
    ) -> list[BriefResult]:
        """The brief of ``db_path`` in every language (see :func:`migstock.brief.build_all`);
        raises what the build raised. The process then exits."""
        return self.build_with_key_figures(db_path, out_root, synthetic=synthetic)[0]

    def build_with_key_figures(
        self, db_path: Path, out_root: Path | None = None, *, synthetic: bool = False
    ) -> tuple[list[BriefResult], str]:
        """:meth:`build`, and the brief's key figures as Markdown (drawn up here, the
        charting libraries they need stay out of the caller's memory: some 40 MB)."""
        try:
            return self._pool.submit(_build, Path(db_path), out_root, synthetic).result()
        finally:
            self.close()

    def __enter__(self) -> BriefWorker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Let the process exit (closing its Chromium), without waiting for it."""
        self._pool.shutdown(wait=False, cancel_futures=True)
