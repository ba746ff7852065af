"""The validate stage's entry point: every suite of one revision, then the reconciliation.

Great Expectations runs in :mod:`migstock.validate.gx` (the suites are JSON files in
``expectations/``); the cross-checks between tables, workbooks and revisions are
computed by :mod:`migstock.validate.reconcile` and judged by the ``reconciliation`` suite.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from migstock.catalog import DATASETS, Revision
from migstock.parse.harmonize import m49_reference
from migstock.parse.prepare import PreparedFile, combined_rows, rows_source, totals_first
from migstock.regions import FIRST_AGGREGATE_CODE, WORLD
from migstock.store import connect_read_only
from migstock.validate.gx import ValidationReport, Validator, completeness_warning
from migstock.validate.reconcile import reconciliation_frame

#: the suite that checks each dataset's tidy rows (an age workbook's population table has
#: its own, ``age_population``)
SUITE_OF = {
    "bilateral": "bilateral",
    "destination_totals": "destination_totals",
    "age": "age_stock",
}


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
    #: the workbook(s) each dataset's rows come from, to name the results in Data Docs
    sources = {
        dataset: ", ".join(f.raw.path.name for f in files if f.dataset == dataset)
        for dataset in DATASETS
    }
    for dataset in DATASETS:
        frames[dataset] = combined_rows(files, dataset)
        if frames[dataset] is not None:
            report.results.extend(
                validator.run_suite(
                    SUITE_OF[dataset],
                    frames[dataset],
                    parameters,
                    run_name,
                    dataset,
                    number,
                    source=sources[dataset],
                )
            )
    refugees = next((f.refugees for f in files if f.refugees is not None), None)
    if refugees is not None:
        report.results.extend(
            validator.run_suite(
                "refugees",
                refugees,
                parameters,
                run_name,
                "destination_totals",
                number,
                source=sources["destination_totals"],
            )
        )
    age_population = next(
        (f.age_population for f in files if f.dataset == "age" and f.age_population is not None),
        None,
    )
    if age_population is not None and len(age_population):
        report.results.extend(
            validator.run_suite(
                "age_population",
                age_population,
                parameters,
                run_name,
                "age",
                number,
                source=sources["age"],
            )
        )
    for item in files:
        report.results.extend(completeness_warning(item.dataset, note) for note in item.notes)
        if item.data_basis is not None and len(item.data_basis):
            basis = validator.run_suite(
                "data_basis",
                item.data_basis,
                parameters,
                run_name,
                item.dataset,
                number,
                source=item.raw.path.name,
            )
            report.results.extend(basis)
    report.data_basis = _basis_counts(files)
    loaded_totals, other_revisions = store_context(db_path, number)
    checks = reconciliation_frame(
        rows_source(files, "bilateral"),  # summed in the staging store, not in pandas
        frames["destination_totals"],
        loaded_totals=loaded_totals,
        other_revisions=other_revisions,
        refugees=refugees,
        age=frames["age"],
        age_population=age_population,
    )
    report.checked = checks.attrs.get("checked", {})
    # one run for all the revision's workbooks (GX costs per expectation, not per row); each result
    # then judges one workbook, from its rows
    present = [dataset for dataset in DATASETS if frames[dataset] is not None]
    report.results.extend(
        validator.run_suite(
            "reconciliation",
            checks,
            {},
            run_name,
            revision=number,
            source=", ".join(sources[dataset] for dataset in present),
            by_dataset=present,
        )
    )
    return report


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
    with connect_read_only(db_path, wait=True) as con:
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


def _basis_counts(files: list[PreparedFile]) -> dict[str, int]:
    """How many destinations' estimates are imputed (I) and how many include refugees (R):
    the data-quality signal of the steward summary (countries only, codes < 900)."""
    frames = totals_first(files, "data_basis")
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
