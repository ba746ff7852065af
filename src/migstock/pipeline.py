"""The stages of a run as plain functions over plain data (no Prefect here).

Which files a run needs is decided in :mod:`migstock.acquire`; the outcome
vocabulary lives in :mod:`migstock.outcomes` (re-exported here).

``migstock.refresh`` (the flow) calls these as Prefect tasks; tests call them directly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from migstock.acquire import find_local_files as find_local_files  # re-exported
from migstock.catalog import Dataset, Revision
from migstock.errors import MigstockError
from migstock.harmonize import (
    harmonize_bilateral,
    harmonize_totals,
    location_names,
    m49_reference,
)
from migstock.outcomes import Outcome as Outcome  # re-exported
from migstock.outcomes import RunSummary as RunSummary
from migstock.outcomes import Status as Status
from migstock.parse import parse_workbook
from migstock.provenance import RawFile
from migstock.read import read_workbook
from migstock.reconcile import reconciliation_frame
from migstock.regions import FIRST_AGGREGATE_CODE, WORLD
from migstock.store import RevisionLoad
from migstock.validate import ValidationReport, Validator


@dataclass
class PreparedFile:
    """One raw file parsed and harmonized, identified by its own content."""

    raw: RawFile
    revision: int
    dataset: Dataset
    rows: pd.DataFrame
    names: pd.DataFrame


def prepare_file(raw: RawFile) -> PreparedFile:
    """Read, parse and harmonize one raw file; raise :class:`InputError` on any problem."""
    parsed = parse_workbook(read_workbook(raw.path))
    if parsed.dataset == "bilateral":
        rows = harmonize_bilateral(parsed, raw.path)
    else:
        rows = harmonize_totals(parsed)
    return PreparedFile(raw, parsed.revision, parsed.dataset, rows, location_names(parsed))


def group_by_revision(prepared: list[PreparedFile]) -> dict[int, list[PreparedFile]]:
    groups: dict[int, list[PreparedFile]] = defaultdict(list)
    for item in prepared:
        groups[item.revision].append(item)
    return dict(sorted(groups.items()))


def combined_rows(
    files: list[PreparedFile], dataset: Dataset, *, lineage: bool = False
) -> pd.DataFrame | None:
    """All rows of one dataset of a revision (a table may come split over files);
    with ``lineage``, each row also names its raw file (``raw_sha256``)."""
    frames = [
        f.rows.assign(raw_sha256=f.raw.sha256) if lineage else f.rows
        for f in files
        if f.dataset == dataset
    ]
    if not frames:
        return None
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def known_location_codes(files: list[PreparedFile]) -> list[int]:
    """Codes a row may use: the M49 reference, World, and the aggregates the workbooks define."""
    codes = set(m49_reference()["code"].tolist()) | {WORLD}
    for item in files:
        codes.update(int(c) for c in item.names["code"] if int(c) >= FIRST_AGGREGATE_CODE)
    return sorted(codes)


def store_context(db_path: Path | None, revision: int) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """From the current store (if any): this revision's loaded destination totals, and
    the destination stock of the other revisions, for the cross-checks."""
    empty = pd.DataFrame(columns=["revision", "year", "destination_code", "sex", "migrants"])
    if db_path is None or not db_path.exists():
        return None, empty
    with duckdb.connect(str(db_path), read_only=True) as con:
        loaded = con.execute(
            "SELECT year, destination_code, sex, migrants FROM destination_totals "
            "WHERE revision = ?",
            [revision],
        ).df()
        others = con.execute(
            "SELECT revision, year, destination_code, sex, migrants FROM destination_stock "
            "WHERE revision <> ?",
            [revision],
        ).df()
    return (loaded if len(loaded) else None), others


def validate_revision(
    validator: Validator,
    revision: Revision,
    files: list[PreparedFile],
    db_path: Path | None = None,
    run_name: str | None = None,
) -> ValidationReport:
    """Run the suite of every dataset present for one revision, then the reconciliation."""
    report = ValidationReport(revision.revision)
    parameters = {
        "revision_years": list(revision.years),
        "location_codes": known_location_codes(files),
    }
    frames: dict[str, pd.DataFrame | None] = {}
    for dataset in ("bilateral", "destination_totals"):
        frames[dataset] = combined_rows(files, dataset)  # type: ignore[arg-type]
        if frames[dataset] is not None:
            report.results.extend(
                validator.run_suite(dataset, frames[dataset], parameters, run_name)
            )
    loaded_totals, other_revisions = store_context(db_path, revision.revision)
    checks = reconciliation_frame(
        frames["bilateral"],
        frames["destination_totals"],
        loaded_totals=loaded_totals,
        other_revisions=other_revisions,
    )
    report.checked = checks.attrs.get("checked", {})
    report.results.extend(validator.run_suite("reconciliation", checks, {}, run_name))
    return report


def revision_load(revision: int, files: list[PreparedFile]) -> RevisionLoad:
    """What the store replaces for one validated revision."""
    totals = [f.raw.path.name for f in files if f.dataset == "destination_totals"]
    if len(totals) > 1:  # a bilateral table may come split over files; totals never do
        raise MigstockError(
            f"revision {revision}: more than one destination-totals workbook "
            f"({', '.join(totals)}); keep one"
        )
    return RevisionLoad(
        revision=revision,
        bilateral_stock=combined_rows(files, "bilateral", lineage=True),
        destination_totals=combined_rows(files, "destination_totals", lineage=True),
        location_names=[f.names for f in files],
        raw_files=[f.raw.record(f.revision, f.dataset) for f in files],
    )
