"""The parse stage's entry point: one raw file read, parsed and harmonized.

:func:`prepare_file` raises :class:`~migstock.errors.InputError` on any problem;
:func:`prepare_or_reject` returns the problem as a "rejected" outcome instead, so a
run (and its Prefect task) goes on with the other files without a traceback.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from migstock import stops
from migstock.acquire.provenance import RawFile
from migstock.catalog import Dataset
from migstock.errors import InputError, MigstockError, printable
from migstock.outcomes import Outcome, Status
from migstock.parse import ParsedWorkbook, harmonize, parse_workbook
from migstock.parse.harmonize import (
    data_basis,
    harmonize_age,
    harmonize_age_population,
    harmonize_bilateral,
    harmonize_refugees,
    harmonize_totals,
    location_names,
    location_notes,
)
from migstock.parse.names import NameTooLong
from migstock.parse.read import read_workbook
from migstock.staging import StagedRows, Staging

logger = logging.getLogger(__name__)


@dataclass
class PreparedFile:
    """One raw file parsed and harmonized, identified by its own content."""

    raw: RawFile
    revision: int
    dataset: Dataset
    #: the tidy rows: a frame when parsed, a handle on the staging store once staged
    rows: pd.DataFrame | StagedRows
    names: pd.DataFrame
    #: what a complete official workbook has and this one lacks (parse warnings)
    notes: list[str] = field(default_factory=list)
    #: refugee table (None if the workbook has none), type of data and country notes
    refugees: pd.DataFrame | None = None
    data_basis: pd.DataFrame | None = None
    location_notes: pd.DataFrame | None = None
    #: things to tell the steward that do not stop the load (e.g. a renamed country)
    warnings: list[str] = field(default_factory=list)
    #: an age workbook's total population by age (persons), None when it has none
    age_population: pd.DataFrame | None = None


def prepare_file(raw: RawFile) -> PreparedFile:
    """Read, parse and harmonize one raw file; raise :class:`InputError` on any problem."""
    try:
        parsed = parse_workbook(read_workbook(raw.path))
    except NameTooLong as error:
        raise InputError(raw.path, str(error)) from None
    if parsed.dataset == "bilateral":
        rows = harmonize_bilateral(parsed, raw.path)
    elif parsed.dataset == "age":
        rows = harmonize_age(parsed)
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
        warnings=renamed_locations(parsed, raw.path),
        age_population=harmonize_age_population(parsed),
    )


def staged(item: PreparedFile, staging: Staging) -> PreparedFile:
    """``item`` with its rows moved to the staging store (the frame is dropped)."""
    if isinstance(item.rows, StagedRows):
        return item
    return replace(item, rows=staging.add(item.dataset, item.rows, item.raw.sha256))


def prepare_or_reject(raw: RawFile) -> PreparedFile | Outcome:
    """:func:`prepare_file`, or the file's rejection in one line.

    Any exception raised while reading one file is that file's rejection, never the
    run's end (a zip, XML or calamine error nobody foresaw): the other files still load.
    A signal that arrived meanwhile is the stop it asked for, not a rejection."""
    name = printable(raw.path.name)  # a newline in a file name never splits the line
    try:
        return prepare_file(raw)
    except MigstockError as error:  # the subject names the file: the message need not repeat it
        stops.raise_if_stopped()
        return Outcome(name, Status.REJECTED, str(error).removeprefix(f"{name}: "))
    except Exception as error:
        stops.raise_if_stopped()
        logger.debug("reading %s failed", raw.path, exc_info=True)
        reason = printable(" ".join(str(error).split()))[:300] or "no message"
        return Outcome(
            name,
            Status.REJECTED,
            f"could not be read ({type(error).__name__}: {reason}); the file was not loaded "
            "(if it opens in Excel, please report this error)",
        )


def renamed_locations(parsed: ParsedWorkbook, path: Path) -> list[str]:
    return harmonize.renamed_locations(parsed, path)


def group_by_revision(prepared: list[PreparedFile]) -> dict[int, list[PreparedFile]]:
    groups: dict[int, list[PreparedFile]] = defaultdict(list)
    for item in prepared:
        groups[item.revision].append(item)
    return dict(sorted(groups.items()))


def combined_rows(
    files: list[PreparedFile], dataset: Dataset, *, lineage: bool = False
) -> pd.DataFrame | None:
    """All rows of one dataset of a revision in pandas (a table may come split over
    files; staged rows are read back); with ``lineage``, each row also names its raw
    file (``raw_sha256``)."""
    frames = [
        f.rows.frame(lineage=lineage)
        if isinstance(f.rows, StagedRows)
        else (f.rows.assign(raw_sha256=f.raw.sha256) if lineage else f.rows)
        for f in files
        if f.dataset == dataset
    ]
    if not frames:
        return None
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def rows_source(files: list[PreparedFile], dataset: Dataset) -> pd.DataFrame | StagedRows | None:
    """The rows of one dataset of a revision where they are: the staged rows of its files
    (summed and loaded inside DuckDB), or, for files never staged, their frames with
    lineage (None: no such file)."""
    mine = [f for f in files if f.dataset == dataset]
    if mine and all(isinstance(f.rows, StagedRows) for f in mine):
        staged_rows = [f.rows for f in mine if isinstance(f.rows, StagedRows)]
        return sum(staged_rows[1:], staged_rows[0])
    return combined_rows(files, dataset, lineage=True)


def totals_first(files: list[PreparedFile], attribute: str) -> list[pd.DataFrame]:
    """A per-destination frame (``data_basis``, ``location_notes``) of every file, the
    destination-totals workbook's first."""
    ordered = sorted(files, key=lambda f: f.dataset != "destination_totals")
    return [getattr(f, attribute) for f in ordered if getattr(f, attribute) is not None]
