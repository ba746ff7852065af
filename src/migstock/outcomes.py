"""What happened to each file and revision in a run: the status vocabulary and the summary.

Kept free of pandas, Great Expectations and Prefect so that the command line can
answer "nothing changed" without importing any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migstock.brief import BriefResult
    from migstock.pipeline import FlowsResult
    from migstock.site import SiteResult
    from migstock.store import LoadChanges
    from migstock.validate.gx import ValidationReport


class Status(StrEnum):
    """The outcome of one file or revision (a ``str``: compares equal to its value)."""

    LOADED = "loaded"  # validated and loaded into the store
    VALID = "valid"  # validated only (``migstock validate``)
    UNCHANGED = "unchanged"  # its rows are loaded already: not parsed again
    STALE = "stale"  # the local file is used, but checking for a newer one failed
    REJECTED = "rejected"  # a bad workbook or a failed blocking check
    UNAVAILABLE = "unavailable"  # a required file could not be had
    NOT_PROVIDED = "not provided"  # a catalog file nobody provided or required
    WARNING = "warning"  # loaded, with something a steward should check (a renamed country)

    @property
    def failed(self) -> bool:
        """Whether this status makes the run fail (non-zero exit, Failed flow state)."""
        return self in (Status.REJECTED, Status.UNAVAILABLE)


@dataclass
class Outcome:
    """What happened to one file or revision in a run, for the summary."""

    subject: str
    status: Status
    message: str = ""

    def __post_init__(self) -> None:
        self.status = Status(self.status)


@dataclass
class RunSummary:
    outcomes: list[Outcome] = field(default_factory=list)
    reports: list[ValidationReport] = field(default_factory=list)
    db_path: Path | None = None
    parquet_dir: Path | None = None
    run_id: str = ""
    docs_index: Path | None = None
    summary_html: Path | None = None
    #: the data brief's pages, the country pages and the exchange files (SDMX, data
    #: package) of the published version, when the run loaded something
    brief: list[BriefResult] = field(default_factory=list)
    site: SiteResult | None = None
    exchange_dir: Path | None = None
    #: what the load changed, per table and revision (:class:`migstock.store.LoadChanges`)
    changes: LoadChanges | None = None
    #: the flows estimated after the load (``migstock run --flows``), if any
    flows: FlowsResult | None = None

    @property
    def failed(self) -> bool:
        return any(Status(o.status).failed for o in self.outcomes)
