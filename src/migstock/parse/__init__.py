"""Turn a workbook (any layout family) into tidy rows.

``parse_workbook`` recognises every sheet by its title block and header labels
(:mod:`migstock.parse.sheets`), parses it with the parser of its family, and
checks that the sheets agree on one revision and one dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from migstock.catalog import AGE_LAYOUTS, CATALOG, Dataset, Revision
from migstock.errors import InputError
from migstock.parse.age import (
    age_title,
    check_disjoint_years,
    missing_years,
    parse_age_table,
    refuse_unknown_layout,
)
from migstock.parse.annex import parse_annex
from migstock.parse.cells import SEXES, SheetRef, title_texts
from migstock.parse.destination_totals import align_to_codes, parse_destination_totals
from migstock.parse.long_rows import parse_long_rows
from migstock.parse.notes import parse_notes
from migstock.parse.read import Workbook
from migstock.parse.refugees import parse_refugees
from migstock.parse.sheets import SheetInfo, classify_sheet, revision_in
from migstock.parse.wide_origins import parse_wide_origins

_TOTALS_KEY = ["year", "destination_code", "sex"]


@dataclass
class ParsedWorkbook:
    """Tidy rows of one raw file, before codes are harmonized."""

    revision: int
    dataset: Dataset
    #: bilateral: year, destination_code, origin_label, origin_code, sex, migrants,
    #: source_sheet, source_row. destination_totals: year, destination_code, sex,
    #: migrants, total_population, migrant_share, source_sheet, source_row. age: year,
    #: destination_code, sex, age_group, migrants, suppressed, source_sheet, source_row.
    rows: pd.DataFrame
    sheets: list[str]
    #: names as published in this workbook, by code (destinations, coded origins)
    location_names: dict[int, str] = field(default_factory=dict)
    #: names of the ANNEX sheet, by name
    annex: dict[str, int] = field(default_factory=dict)
    #: where each named origin's header is: label -> (sheet, cell)
    origin_cells: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: what a complete official workbook has and this one lacks, in words
    #: (e.g. "Table 3 not found: migrant_share left empty"); reported as warnings
    notes: list[str] = field(default_factory=list)
    #: the refugee table (year, destination_code, refugees, refugee_share, source_sheet,
    #: source_row) of a destination-totals workbook that publishes one
    refugees: pd.DataFrame | None = None
    #: type-of-data letters per destination code ("C R")
    data_types: dict[int, str] = field(default_factory=dict)
    #: note numbers per destination code, and the text of each note number
    note_refs: dict[int, list[int]] = field(default_factory=dict)
    note_texts: dict[int, str] = field(default_factory=dict)
    #: the total population by age table of an age workbook (as ``rows``, with
    #: ``population`` in thousands as published), None when it has none
    age_population: pd.DataFrame | None = None


def parse_workbook(workbook: Workbook) -> ParsedWorkbook:
    """Parse every recognised table of ``workbook``; raise :class:`InputError` on any problem."""
    infos: dict[str, SheetInfo] = {}
    for name, grid in workbook.sheets.items():
        infos[name] = classify_sheet(grid, SheetRef(workbook.path, name))
    titles = {name: age_title(grid) for name, grid in workbook.sheets.items()}
    if any(i.kind == "age" for i in infos.values()) or any(titles.values()):
        return _parse_age_workbook(workbook, infos, titles)
    data_sheets = {n: i for n, i in infos.items() if i.kind not in ("other", "annex", "notes")}
    if not data_sheets:
        raise InputError(
            workbook.path,
            "no International Migrant Stock table found: no sheet has a header row with "
            "'... country or area (of destination)' over a known table "
            f"(sheets: {', '.join(workbook.sheets)})",
        )
    revision = _catalog_revision(workbook, _single_revision(workbook, data_sheets))
    kinds = {i.kind for i in data_sheets.values()}
    if "destination_totals" in kinds and len(kinds) > 1:
        raise InputError(
            workbook.path, "the workbook mixes bilateral and destination-totals tables"
        )
    annex, note_texts = _annex_and_notes(workbook, infos)

    names: dict[int, str] = {}
    origin_cells: dict[str, tuple[str, str]] = {}
    data_types: dict[int, str] = {}
    note_refs: dict[int, list[int]] = {}
    frames = []
    refugees = None
    for name, info in data_sheets.items():
        ref = SheetRef(workbook.path, name)
        grid = workbook.sheets[name]
        if info.measure == "refugees":
            if refugees is not None:
                raise InputError(workbook.path, "two sheets hold the refugee table", sheet=name)
            refugees = parse_refugees(grid, info, ref, revision.years)
            names.update(refugees.attrs["destination_names"])
            refugees["source_sheet"] = name
            continue
        if info.kind == "wide_origins":
            frame = parse_wide_origins(grid, info, ref, revision.years)
        elif info.kind == "long_rows":
            frame = parse_long_rows(grid, info, ref, revision.years)
        else:
            frame = parse_destination_totals(grid, info, ref, revision.years)
            frame["measure"] = info.measure
            frame.attrs["ref"] = ref
        names.update(frame.attrs.get("origin_names", {}))
        names.update(frame.attrs["destination_names"])
        for code, letters in frame.attrs.get("data_types", {}).items():
            data_types.setdefault(code, letters)
        for code, numbers in frame.attrs.get("note_refs", {}).items():
            note_refs.setdefault(code, numbers)
        for label, cell in frame.attrs.get("origin_cells", {}).items():
            origin_cells.setdefault(label, (name, cell))
        frame["source_sheet"] = pd.Categorical.from_codes(
            np.full(len(frame), list(data_sheets).index(name), dtype=np.int16),
            categories=list(data_sheets),
        )
        frames.append(frame)

    notes: list[str] = []
    if kinds == {"destination_totals"}:
        rows = _combine_totals(workbook, frames, notes)
        dataset: Dataset = "destination_totals"
        if refugees is None and revision.refugee_table:
            raise InputError(
                workbook.path,
                f"the refugee table (Table 6: estimated refugee stock) is missing: every "
                f"destination-totals workbook of revision {revision.revision} publishes one",
            )
    else:
        _check_disjoint_sheets(workbook, frames)
        rows = pd.concat(frames, ignore_index=True)
        if not isinstance(rows["origin_label"].dtype, pd.CategoricalDtype):
            rows["origin_label"] = rows["origin_label"].astype("category")  # sheets' origins differ
        dataset = "bilateral"
        notes += _missing_years_and_sexes(rows, revision)
    notes += _unwritten_notes(note_refs, note_texts)
    return ParsedWorkbook(
        revision.revision,
        dataset,
        rows,
        list(data_sheets),
        names,
        annex,
        origin_cells,
        notes,
        refugees,
        data_types,
        note_refs,
        note_texts,
    )


def _annex_and_notes(
    workbook: Workbook, infos: dict[str, SheetInfo]
) -> tuple[dict[str, int], dict[int, str]]:
    """The ANNEX sheet's names (name -> code) and the notes sheet's numbered notes."""
    annex: dict[str, int] = {}
    note_texts: dict[int, str] = {}
    for name, info in infos.items():
        if info.kind == "annex":
            annex.update(parse_annex(workbook.sheets[name], info, SheetRef(workbook.path, name)))
        elif info.kind == "notes":
            for number, note in parse_notes(workbook.sheets[name]).items():
                note_texts.setdefault(number, note)
    return annex, note_texts


def _unwritten_notes(note_refs: dict[int, list[int]], note_texts: dict[int, str]) -> list[str]:
    unwritten = sorted({n for numbers in note_refs.values() for n in numbers} - set(note_texts))
    if not note_refs or not unwritten:
        return []
    return [
        f"note(s) {', '.join(map(str, unwritten))} are referred to by destinations but not "
        "written out on a notes sheet"
    ]


def _parse_age_workbook(
    workbook: Workbook, infos: dict[str, SheetInfo], titles: dict[str, str | None]
) -> ParsedWorkbook:
    """An age workbook: its migrant table (required) and total-population table by age.

    Recognised by its age-band headers, or by a title block that speaks of age; a
    revision whose age layout migstock does not read (2013) is refused in one line.
    A year no sheet holds, a missing population table and sheets that hold another kind
    of table are warnings (``notes``); the rest loads.
    """
    path = workbook.path
    age_sheets = {n: i for n, i in infos.items() if i.kind == "age"}
    title_sheet = next((n for n, t in titles.items() if t), next(iter(age_sheets), ""))
    title = titles.get(title_sheet) or (age_sheets[title_sheet].title if age_sheets else "")
    if age_sheets:
        number = _single_revision(workbook, age_sheets)
    else:
        grid = workbook.sheets[title_sheet]
        found = revision_in(title_texts(grid, min(len(grid), 20)))
        if found is None:
            raise InputError(
                path,
                f"an age workbook (title {title!r}) whose title block names no revision "
                "(expected e.g. 'POP/DB/MIG/Stock/Rev.2015')",
                sheet=title_sheet,
            )
        number = found
    revision = _catalog_revision(workbook, number)
    if not revision.has("age") or revision.file("age").layout not in AGE_LAYOUTS:
        refuse_unknown_layout(path, revision, title, title_sheet)
    if not age_sheets:
        raise InputError(
            path,
            f"the title block speaks of age ({title!r}) but no sheet has a header row with "
            "the age bands 0-4, 5-9, ..., 75+ under a '... country or area' label: the age "
            "layout is not recognised",
            sheet=title_sheet,
        )
    annex, note_texts = _annex_and_notes(workbook, infos)
    by_measure: dict[str, list[pd.DataFrame]] = {"migrants": [], "population": []}
    names: dict[int, str] = {}
    data_types: dict[int, str] = {}
    note_refs: dict[int, list[int]] = {}
    for name, info in age_sheets.items():
        if info.measure not in by_measure:
            continue  # a derived table (percentages, distribution by age): not read
        frame = parse_age_table(workbook.sheets[name], info, SheetRef(path, name), revision.years)
        frame["source_sheet"] = name
        by_measure[info.measure].append(frame)
        for code, label in frame.attrs["destination_names"].items():
            names.setdefault(code, label)
        for code, letters in frame.attrs.get("data_types", {}).items():
            data_types.setdefault(code, letters)
        for code, numbers in frame.attrs.get("note_refs", {}).items():
            note_refs.setdefault(code, numbers)
    if not by_measure["migrants"]:
        raise InputError(
            path,
            "no sheet holds the international migrant stock by age (the migrant table); "
            f"age sheets found: {', '.join(age_sheets)}",
        )
    notes: list[str] = []
    for measure, frames in by_measure.items():
        check_disjoint_years(path, frames, measure)
        if frames:
            notes += missing_years(frames, revision.years, measure)
    other = [n for n, i in infos.items() if i.kind not in ("age", "annex", "notes", "other")]
    if other:
        notes.append(
            f"sheet(s) {', '.join(repr(n) for n in other)} hold no table by age and were not read"
        )
    population = None
    if by_measure["population"]:
        population = pd.concat(by_measure["population"], ignore_index=True)
        population = population.rename(columns={"value": "population"})
    else:
        notes.append(
            "the table of total population by age (thousands) not found: age_population is "
            "not loaded from this workbook"
        )
    rows = pd.concat(by_measure["migrants"], ignore_index=True).rename(
        columns={"value": "migrants"}
    )
    notes += _unwritten_notes(note_refs, note_texts)
    return ParsedWorkbook(
        revision.revision,
        "age",
        rows,
        list(age_sheets),
        names,
        annex,
        {},
        notes,
        None,
        data_types,
        note_refs,
        note_texts,
        population,
    )


def _catalog_revision(workbook: Workbook, number: int) -> Revision:
    """The catalog entry of the revision a title block names; an unknown one rejects the file."""
    for entry in CATALOG:
        if entry.revision == number:
            return entry
    known = ", ".join(str(entry.revision) for entry in CATALOG)
    raise InputError(
        workbook.path,
        f"the title block names revision {number}, which migstock does not know (known: {known}); "
        "add it to the catalog if the UN published it",
    )


def _missing_years_and_sexes(rows: pd.DataFrame, revision: Revision) -> list[str]:
    """Years and sexes of the revision that no sheet of a bilateral workbook holds."""
    sexes = rows["sex"].astype(pd.CategoricalDtype(SEXES))  # no copy: already these categories
    keys = np.unique(rows["year"].to_numpy(dtype=np.int64) * 8 + sexes.cat.codes.to_numpy())
    present = {(int(key // 8), SEXES[key % 8]) for key in keys.tolist()}
    missing = [
        f"{year} {sex}" for year in revision.years for sex in SEXES if (year, sex) not in present
    ]
    if not missing:
        return []
    return [
        f"{len(missing)} of the revision's {len(revision.years) * len(SEXES)} year x sex tables "
        f"not found in this workbook, so not loaded from it: {', '.join(missing)}"
    ]


def _single_revision(workbook: Workbook, sheets: dict[str, SheetInfo]) -> int:
    revisions = {i.revision for i in sheets.values()}
    if None in revisions:
        sheet = next(n for n, i in sheets.items() if i.revision is None)
        raise InputError(
            workbook.path,
            "the title block names no revision (expected e.g. 'POP/DB/MIG/Stock/Rev.2015')",
            sheet=sheet,
        )
    if len(revisions) > 1:
        raise InputError(
            workbook.path,
            f"sheets name different revisions: {sorted(revisions)}",  # type: ignore[type-var]
        )
    return int(revisions.pop())  # type: ignore[arg-type]


def _check_disjoint_sheets(workbook: Workbook, frames: list[pd.DataFrame]) -> None:
    """Two sheets must never hold the same year and sex (e.g. a table saved twice)."""
    owner: dict[tuple[int, str], str] = {}
    for frame in frames:
        sheet = frame["source_sheet"].iat[0] if len(frame) else "?"
        sexes = frame["sex"].astype("category")
        keys = np.unique(frame["year"].to_numpy(dtype=np.int64) * 8 + sexes.cat.codes.to_numpy())
        for key in keys.tolist():
            year, sex = key // 8, sexes.cat.categories[key % 8]
            if (year, sex) in owner:
                raise InputError(
                    workbook.path,
                    f"year {year}, sex {sex} is also in sheet '{owner[(year, sex)]}'",
                    sheet=sheet,
                )
            owner[(year, sex)] = sheet


#: the measures of a destination-totals workbook: column, scale, the table that has it
TOTALS_MEASURES = (
    ("population", "total_population", 1000.0, "Table 2 (total population)"),
    ("migrant_share", "migrant_share", 1.0, "Table 3 (migrants as a percentage of the population)"),
)


def _combine_totals(
    workbook: Workbook,
    frames: list[pd.DataFrame],
    notes: list[str],
) -> pd.DataFrame:
    """One row per year, destination and sex with every measure of the workbook.

    The migrant stock (Table 1) is required. A measure the workbook lacks, or a
    destination a table lacks, is named in ``notes``, never a silent NULL.
    """
    by_measure: dict[str, pd.DataFrame] = {}
    for frame in frames:
        measure = frame["measure"].iat[0]
        if measure in by_measure:
            raise InputError(
                workbook.path,
                f"two sheets hold {measure}: '{by_measure[measure]['source_sheet'].iat[0]}' "
                f"and '{frame['source_sheet'].iat[0]}'",
            )
        by_measure[measure] = frame
    if "migrants" not in by_measure:
        raise InputError(workbook.path, "no sheet holds the international migrant stock (Table 1)")
    stock = by_measure["migrants"]
    if "uncoded" in stock.attrs:
        ref = stock.attrs["ref"]
        raise InputError(
            workbook.path,
            "Table 1 has no location codes (the 'Location code' column is missing or holds text)",
            sheet=ref.sheet,
        )
    names = stock.attrs["destination_names"]
    rows = stock.rename(columns={"value": "migrants"}).drop(columns="measure")
    for measure, column, scale, table in TOTALS_MEASURES:
        if measure not in by_measure:
            notes.append(f"{table} not found: {column} left empty")
            rows[column] = float("nan")
            continue
        extra = by_measure[measure]
        if "uncoded" in extra.attrs:
            extra = align_to_codes(
                extra, extra.attrs["ref"], stock.attrs.get("index_codes", {}), names
            )
        lacking = sorted(set(names) - set(extra["destination_code"].unique().tolist()))
        if lacking:
            sheet = extra["source_sheet"].iat[0]
            listed = ", ".join(f"{names[c]} ({c})" for c in lacking[:10])
            more = f" and {len(lacking) - 10} more" if len(lacking) > 10 else ""
            notes.append(
                f"sheet '{sheet}' has no row for {len(lacking)} destination(s) of Table 1: "
                f"{listed}{more}; their {column} is left empty"
            )
        extra = extra[[*_TOTALS_KEY, "value"]]
        extra = extra.assign(value=extra["value"] * scale).rename(columns={"value": column})
        rows = rows.merge(extra, on=_TOTALS_KEY, how="left")
    return rows
