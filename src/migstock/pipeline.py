"""The stages of a run as plain functions over plain data (no Prefect here).

Which files a run needs is decided in :mod:`migstock.acquire`; the outcome
vocabulary lives in :mod:`migstock.report.outcomes` (re-exported here).

``migstock.refresh`` (the flow) calls these as Prefect tasks; tests call them directly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from migstock.acquire import find_local_files as find_local_files  # re-exported
from migstock.acquire import unusable_local_files as unusable_local_files
from migstock.acquire.provenance import RawFile
from migstock.catalog import DATASETS, Dataset, Revision
from migstock.errors import InputError, MigstockError
from migstock.parse import parse_workbook
from migstock.parse.harmonize import (
    data_basis,
    harmonize_bilateral,
    harmonize_refugees,
    harmonize_totals,
    location_names,
    location_notes,
    m49_reference,
    name_aliases,
    name_key,
)
from migstock.parse.names import NameTooLong
from migstock.parse.read import read_workbook
from migstock.regions import FIRST_AGGREGATE_CODE, WORLD
from migstock.report.outcomes import Outcome as Outcome  # re-exported
from migstock.report.outcomes import RunSummary as RunSummary
from migstock.report.outcomes import Status as Status
from migstock.store import RevisionLoad, connect_read_only
from migstock.validate.gx import ValidationReport, Validator, completeness_warning
from migstock.validate.reconcile import reconciliation_frame


@dataclass
class PreparedFile:
    """One raw file parsed and harmonized, identified by its own content."""

    raw: RawFile
    revision: int
    dataset: Dataset
    rows: pd.DataFrame
    names: pd.DataFrame
    #: what a complete official workbook has and this one lacks (parse warnings)
    notes: list[str] = field(default_factory=list)
    #: refugee table (None if the workbook has none), type of data and country notes
    refugees: pd.DataFrame | None = None
    data_basis: pd.DataFrame | None = None
    location_notes: pd.DataFrame | None = None
    #: things to tell the steward that do not stop the load (e.g. a renamed country)
    warnings: list[str] = field(default_factory=list)


def prepare_file(raw: RawFile) -> PreparedFile:
    """Read, parse and harmonize one raw file; raise :class:`InputError` on any problem."""
    try:
        parsed = parse_workbook(read_workbook(raw.path))
    except NameTooLong as error:
        raise InputError(raw.path, str(error)) from None
    if parsed.dataset == "bilateral":
        rows = harmonize_bilateral(parsed, raw.path)
    else:
        rows = harmonize_totals(parsed)
    names = location_names(parsed)
    return PreparedFile(
        raw,
        parsed.revision,
        parsed.dataset,
        rows,
        names,
        parsed.notes,
        refugees=harmonize_refugees(parsed),
        data_basis=data_basis(parsed),
        location_notes=location_notes(parsed),
        warnings=renamed_locations(names),
    )


def renamed_locations(names: pd.DataFrame) -> list[str]:
    """Warnings for countries a workbook names differently from every name known for
    their code (the M49 name and ``reference/name_aliases.csv``).

    A warning, not an error: the UN does rename countries between revisions
    (Swaziland -> Eswatini); a steward confirms the new name by adding it as an
    alias. Until then the run says so instead of storing it silently.
    """
    known: dict[int, set[str]] = defaultdict(set)
    for name, code in zip(m49_reference()["name"], m49_reference()["code"], strict=True):
        known[int(code)].add(name_key(name))
    for key, code in name_aliases().items():
        known[code].add(key)
    warnings = []
    for code, name in zip(names["code"], names["name"], strict=True):
        code = int(code)
        if code in known and name_key(name) not in known[code]:
            usual = sorted(n for n in m49_reference().loc[m49_reference()["code"] == code, "name"])
            warnings.append(
                f"location {code} is named {name!r}, not {usual[0]!r} or a known alias: check "
                "it (confirmed names go into reference/name_aliases.csv)"
            )
    return warnings


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
    with connect_read_only(db_path) as con:
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
    """Run the suite of every dataset present for one revision, then the reconciliation.

    Every result names the workbook (dataset) it judges: a blocking failure
    rejects that file, and the revision's other workbook can still load.
    """
    number = revision.revision
    report = ValidationReport(number)
    parameters = {
        "revision_years": list(revision.years),
        "location_codes": known_location_codes(files),
    }
    frames: dict[str, pd.DataFrame | None] = {}
    for dataset in DATASETS:
        frames[dataset] = combined_rows(files, dataset)
        if frames[dataset] is not None:
            report.results.extend(
                validator.run_suite(dataset, frames[dataset], parameters, run_name, dataset, number)
            )
    refugees = next((f.refugees for f in files if f.refugees is not None), None)
    if refugees is not None:
        report.results.extend(
            validator.run_suite(
                "refugees", refugees, parameters, run_name, "destination_totals", number
            )
        )
    for item in files:
        report.results.extend(completeness_warning(item.dataset, note) for note in item.notes)
        if item.data_basis is not None and len(item.data_basis):
            basis = validator.run_suite(
                "data_basis", item.data_basis, parameters, run_name, item.dataset, number
            )
            report.results.extend(basis)
    report.data_basis = _basis_counts(files)
    loaded_totals, other_revisions = store_context(db_path, number)
    checks = reconciliation_frame(
        frames["bilateral"],
        frames["destination_totals"],
        loaded_totals=loaded_totals,
        other_revisions=other_revisions,
        refugees=refugees,
    )
    report.checked = checks.attrs.get("checked", {})
    for dataset in DATASETS:
        if frames[dataset] is not None:
            mine = checks[checks["dataset"] == dataset].reset_index(drop=True)
            report.results.extend(
                validator.run_suite("reconciliation", mine, {}, run_name, dataset, number)
            )
    return report


def _basis_counts(files: list[PreparedFile]) -> dict[str, int]:
    """How many destinations' estimates are imputed (I) and how many include refugees (R):
    the data-quality signal of the steward summary (countries only, codes < 900)."""
    frames = _totals_first(files, "data_basis")
    if not frames:
        return {}
    basis = pd.concat(frames).drop_duplicates("destination_code")
    basis = basis[basis["destination_code"] < FIRST_AGGREGATE_CODE]
    return {
        "destinations": len(basis),
        "imputed": int((basis["basis"] == "imputed").sum()),
        "refugees_added": int(basis["refugees_added"].sum()),
    }


def passing_files(report: ValidationReport, files: list[PreparedFile]) -> list[PreparedFile]:
    """The files of a revision that no blocking failure rejects."""
    return [item for item in files if not report.blocked(item.dataset)]


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
        refugees=_first_frame(
            [f.refugees.assign(raw_sha256=f.raw.sha256) for f in files if f.refugees is not None]
        ),
        data_basis=_first_frame(_totals_first(files, "data_basis"), key="destination_code"),
        location_notes=_first_frame(
            _totals_first(files, "location_notes"), key=["location_code", "note_number"]
        ),
        location_names=[f.names for f in files],
        raw_files=[f.raw.record(f.revision, f.dataset) for f in files],
    )


def _totals_first(files: list[PreparedFile], attribute: str) -> list[pd.DataFrame]:
    """A per-destination frame of every file, the destination-totals workbook's first."""
    ordered = sorted(files, key=lambda f: f.dataset != "destination_totals")
    return [getattr(f, attribute) for f in ordered if getattr(f, attribute) is not None]


def _first_frame(
    frames: list[pd.DataFrame], key: str | list[str] | None = None
) -> pd.DataFrame | None:
    """The non-empty frames as one, keeping the first row of each ``key``; None if none."""
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return None
    combined = pd.concat(frames, ignore_index=True)
    return combined if key is None else combined.drop_duplicates(key, ignore_index=True)
