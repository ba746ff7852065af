"""Harmonize parsed rows: M49 codes for every origin, one ``locations`` dimension.

2013-2019 workbooks name their origins instead of coding them. Names are
matched, accent- and case-insensitively, against (in this order) the same
workbook's destination rows, its ANNEX, the project's alias list and the M49
reference shipped in ``migstock/reference``. A name that matches nothing is an
error naming the file, sheet and header cell: origins are never dropped.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from migstock.errors import InputError, where
from migstock.parse import ParsedWorkbook
from migstock.parse.cells import cell_ref, clean_name
from migstock.parse.names import NameTooLong, normalise_name
from migstock.regions import ARAB_SUBREGION_OF, FIRST_AGGREGATE_CODE, WORLD

#: origin labels that are not locations; code None means "no M49 code"
SPECIAL_ORIGINS: dict[str, tuple[int | None, str]] = {
    "total": (WORLD, "total"),
    "world": (WORLD, "total"),
    "other north": (None, "other_north"),
    "other south": (None, "other_south"),
    "other": (None, "other"),
    "others": (None, "other"),
}
ORIGIN_KINDS = ["country", "aggregate", "total", "other_north", "other_south", "other"]

BILATERAL_COLUMNS = [
    "revision",
    "year",
    "destination_code",
    "origin_code",
    "origin_kind",
    "sex",
    "migrants",
    "suppressed",
    "source_sheet",
    "source_row",
]
TOTALS_COLUMNS = [
    "revision",
    "year",
    "destination_code",
    "sex",
    "migrants",
    "total_population",
    "migrant_share",
    "suppressed",
    "source_sheet",
    "source_row",
]


def name_key(name: str) -> str:
    """Matching key of a location name: no accents, case, quotes or footnote marks."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("\u2019", "'").replace("`", "'").rstrip("*").casefold()
    return " ".join(plain.split())


@cache
def m49_reference() -> pd.DataFrame:
    """The M49 countries shipped with migstock (code, name, iso3, un_region, ...)."""
    with resources.files("migstock.reference").joinpath("m49_countries.csv").open("rb") as f:
        reference = pd.read_csv(f, dtype={"code": "int64", "iso3": "string"})
    # the names as a workbook's are compared and stored ("China,  Hong Kong" has two spaces)
    reference["name"] = reference["name"].map(normalise_name)
    return reference


@cache
def name_aliases() -> dict[str, int]:
    """Names the UN workbooks use that differ from the M49 standard name."""
    with resources.files("migstock.reference").joinpath("name_aliases.csv").open("rb") as f:
        aliases = pd.read_csv(f, dtype={"code": "int64"})
    return {name_key(n): int(c) for n, c in zip(aliases["name"], aliases["code"], strict=True)}


def origin_index(parsed: ParsedWorkbook) -> dict[str, int]:
    """Name key -> code, from the most to the least specific source (first wins)."""
    index: dict[str, int] = {}
    sources = (
        {name: code for code, name in parsed.location_names.items()},
        parsed.annex,
        None,  # aliases, keyed already
        dict(zip(m49_reference()["name"], m49_reference()["code"], strict=True)),
    )
    for source in sources:
        if source is None:
            for key, code in name_aliases().items():
                index.setdefault(key, code)
            continue
        for name, code in source.items():
            index.setdefault(name_key(name), int(code))
    return index


def harmonize_bilateral(parsed: ParsedWorkbook, path: Path) -> pd.DataFrame:
    """Canonical bilateral rows (see ``BILATERAL_COLUMNS``) with M49 origin codes."""
    rows = parsed.rows
    labels = rows["origin_label"].cat.categories
    # only origins published without a code (2013-2019 names) need their name matched
    uncoded = set(rows.loc[rows["origin_code"].isna(), "origin_label"].unique())
    index = origin_index(parsed) if uncoded else {}
    codes = np.full(len(labels), np.nan)
    # residual origins (Other North/South, Others): their kind, and no code; -1 elsewhere
    residual_kind = np.full(len(labels), -1, dtype=np.int8)
    for i, label in enumerate(labels):
        key = name_key(label)
        if key in SPECIAL_ORIGINS:
            code, kind = SPECIAL_ORIGINS[key]
            if code is None:
                residual_kind[i] = ORIGIN_KINDS.index(kind)
            else:
                codes[i] = code
        elif label in uncoded:
            if key not in index:
                sheet, cell = parsed.origin_cells.get(label, (None, None))
                raise InputError(
                    path,
                    f"origin {label!r} matches no location in this workbook, its ANNEX, the "
                    "alias list or the M49 reference; add it to "
                    "migstock/reference/name_aliases.csv",
                    sheet=sheet,
                    cell=cell,
                )
            codes[i] = index[key]

    label_codes = rows["origin_label"].cat.codes.to_numpy()
    row_residual = residual_kind[label_codes]
    residual = row_residual >= 0
    given = rows["origin_code"].to_numpy(dtype=np.float64, na_value=np.nan)
    origin_code = np.where(residual, np.nan, np.where(np.isnan(given), codes[label_codes], given))
    kind_by_code = np.where(
        origin_code == WORLD,
        ORIGIN_KINDS.index("total"),
        np.where(
            origin_code >= FIRST_AGGREGATE_CODE,
            ORIGIN_KINDS.index("aggregate"),
            ORIGIN_KINDS.index("country"),
        ),
    )
    origin_kind = np.where(residual, row_residual, kind_by_code).astype(np.int8)
    return pd.DataFrame(
        {
            "revision": np.full(len(rows), parsed.revision, dtype=np.int16),
            "year": rows["year"].to_numpy(dtype=np.int16),
            "destination_code": rows["destination_code"].to_numpy(dtype=np.int16),
            "origin_code": _nullable(origin_code, np.int16),
            "origin_kind": pd.Categorical.from_codes(origin_kind, categories=ORIGIN_KINDS),
            "sex": rows["sex"].astype("category"),
            "migrants": _counts(rows["migrants"]),
            "suppressed": rows["suppressed"].to_numpy(dtype=bool),
            "source_sheet": rows["source_sheet"].astype("category"),
            "source_row": rows["source_row"].to_numpy(dtype=np.int32),
        }
    )[BILATERAL_COLUMNS]


def harmonize_totals(parsed: ParsedWorkbook) -> pd.DataFrame:
    """Canonical destination-totals rows (see ``TOTALS_COLUMNS``)."""
    rows = parsed.rows
    return pd.DataFrame(
        {
            "revision": np.int16(parsed.revision),
            "year": rows["year"].astype("int16"),
            "destination_code": rows["destination_code"].astype("int16"),
            "sex": rows["sex"].astype("string"),
            "migrants": _counts(rows["migrants"]),
            "total_population": _counts(rows["total_population"]),
            "migrant_share": rows["migrant_share"].astype("float64"),
            "suppressed": rows["suppressed"].astype("bool"),
            "source_sheet": rows["source_sheet"].astype("string"),
            "source_row": rows["source_row"].astype("int32"),
        }
    )[TOTALS_COLUMNS]


AGE_COLUMNS = [
    "revision",
    "year",
    "destination_code",
    "sex",
    "age_group",
    "migrants",
    "suppressed",
    "source_sheet",
    "source_row",
]
AGE_POPULATION_COLUMNS = [
    "revision",
    "year",
    "destination_code",
    "sex",
    "age_group",
    "population",
    "source_sheet",
    "source_row",
]
#: the age workbooks publish total population in thousands; the store keeps persons
POPULATION_SCALE = 1000.0


def harmonize_age(parsed: ParsedWorkbook) -> pd.DataFrame:
    """Canonical migrants-by-age rows (see ``AGE_COLUMNS``)."""
    rows = parsed.rows
    return pd.DataFrame(
        {
            "revision": np.full(len(rows), parsed.revision, dtype=np.int16),
            "year": rows["year"].to_numpy(dtype=np.int16),
            "destination_code": rows["destination_code"].to_numpy(dtype=np.int16),
            "sex": rows["sex"].astype("category"),
            "age_group": rows["age_group"].astype("category"),
            "migrants": _counts(rows["migrants"]),
            "suppressed": rows["suppressed"].to_numpy(dtype=bool),
            "source_sheet": rows["source_sheet"].astype("string"),
            "source_row": rows["source_row"].to_numpy(dtype=np.int32),
        }
    )[AGE_COLUMNS]


def harmonize_age_population(parsed: ParsedWorkbook) -> pd.DataFrame | None:
    """Canonical population-by-age rows (see ``AGE_POPULATION_COLUMNS``): persons, from the
    published thousands (rounded to whole persons); None without a population table."""
    rows = parsed.age_population
    if rows is None:
        return None
    persons = rows["population"].to_numpy(dtype=np.float64) * POPULATION_SCALE
    return pd.DataFrame(
        {
            "revision": np.full(len(rows), parsed.revision, dtype=np.int16),
            "year": rows["year"].to_numpy(dtype=np.int16),
            "destination_code": rows["destination_code"].to_numpy(dtype=np.int16),
            "sex": rows["sex"].astype("category"),
            "age_group": rows["age_group"].astype("category"),
            "population": pd.Series(_nullable(persons, np.int64), index=rows.index),
            "source_sheet": rows["source_sheet"].astype("string"),
            "source_row": rows["source_row"].to_numpy(dtype=np.int32),
        }
    )[AGE_POPULATION_COLUMNS]


def _nullable(values: np.ndarray, dtype: type[np.integer]) -> pd.arrays.IntegerArray:
    """Whole numbers from floats, NaN becoming NULL (pandas' nullable integers)."""
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, np.round(values)).astype(dtype), missing)


def _counts(values: pd.Series) -> pd.Series:
    return pd.Series(
        _nullable(values.to_numpy(dtype=np.float64, na_value=np.nan), np.int64), index=values.index
    )


def location_names(parsed: ParsedWorkbook) -> pd.DataFrame:
    """(revision, code, name) for every location the workbook names."""
    names = parsed.location_names
    return pd.DataFrame(
        {
            "revision": np.int16(parsed.revision),
            "code": pd.array(list(names), dtype="int16"),
            "name": pd.array(list(names.values()), dtype="string"),
        }
    )


def renamed_locations(parsed_or_names: ParsedWorkbook | pd.DataFrame, path: Path) -> list[str]:
    """A warning for each location a workbook names differently from every name known for
    its code (the M49 name and ``reference/name_aliases.csv``), naming the file, sheet
    and cell, the name found and the name expected.

    ``parsed_or_names``: the parsed workbook, or its ``location_names`` (revision, code,
    name). A warning, not an error: the UN does rename countries between revisions
    (Swaziland -> Eswatini); a steward confirms the new name by adding it as an alias.
    The reference is never rewritten (see :func:`build_locations`). Only when a name
    differs is the workbook read again, to find the cell.
    """
    if isinstance(parsed_or_names, ParsedWorkbook):
        names = parsed_or_names.location_names
    else:
        names = dict(zip(parsed_or_names["code"], parsed_or_names["name"], strict=True))
    known = _known_names()
    reference = dict(zip(m49_reference()["code"], m49_reference()["name"], strict=True))
    renamed = [
        (int(code), name)
        for code, name in sorted(names.items())
        if int(code) in known and name_key(name) not in known[int(code)]
    ]
    if not renamed:
        return []
    from migstock.parse.read import read_workbook  # again, only to name the cells

    sheets = read_workbook(path).sheets
    warnings = []
    for code, name in renamed:
        sheet, cell = _name_cell(sheets, _rows_of(parsed_or_names, code, name), name)
        warnings.append(
            f"{where(path, sheet, cell)}: location {code} is named {name!r}, not "
            f"{reference[code]!r} (its M49 name) or a known alias; the store keeps the M49 "
            "name: check it (confirmed names go into reference/name_aliases.csv)"
        )
    return warnings


@cache
def _known_names() -> dict[int, frozenset[str]]:
    """Code -> name keys of its M49 name and its aliases."""
    known: dict[int, set[str]] = {}
    for name, code in zip(m49_reference()["name"], m49_reference()["code"], strict=True):
        known.setdefault(int(code), set()).add(name_key(name))
    for key, code in name_aliases().items():
        known.setdefault(code, set()).add(key)
    return {code: frozenset(keys) for code, keys in known.items()}


def _rows_of(parsed: ParsedWorkbook | pd.DataFrame, code: int, name: str) -> list[tuple[str, int]]:
    """(sheet, 1-based row) of rows that may hold ``code``'s name, most likely first."""
    if not isinstance(parsed, ParsedWorkbook):
        return []
    places = []
    if name in parsed.origin_cells:  # a named origin column's header (2013-2019)
        sheet, cell = parsed.origin_cells[name]
        places.append((sheet, int("".join(ch for ch in cell if ch.isdigit()))))
    for frame in (parsed.rows, parsed.refugees, parsed.age_population):
        if frame is None:
            continue
        for column in ("destination_code", "origin_code"):
            if column in frame.columns:
                hits = frame.loc[frame[column] == code, ["source_sheet", "source_row"]]
                places += [(str(s), int(r)) for s, r in hits.head(1).itertuples(index=False)]
    return places


def _name_cell(
    sheets: dict[str, pd.DataFrame], places: list[tuple[str, int]], name: str
) -> tuple[str | None, str | None]:
    """The first cell whose cleaned text is ``name``: in the given rows, else anywhere."""
    for sheet, row in places:
        grid = sheets.get(sheet)
        if grid is not None and 0 < row <= len(grid):
            for col, value in enumerate(grid.iloc[row - 1].tolist()):
                if isinstance(value, str) and _is_name(value, name):
                    return sheet, cell_ref(row - 1, col)
    for sheet, grid in sheets.items():
        for position, value in enumerate(grid.to_numpy().ravel()):
            if isinstance(value, str) and _is_name(value, name):
                return sheet, cell_ref(*divmod(position, grid.shape[1]))
    return None, None


def _is_name(value: str, name: str) -> bool:
    try:
        return clean_name(value) == name
    except NameTooLong:
        return False


def build_locations(names: pd.DataFrame) -> pd.DataFrame:
    """The ``locations`` dimension: every M49 country plus every code seen in the data.

    ``names`` holds (revision, code, name). A location's ``name`` is its M49 name
    whenever the reference knows the code, whatever a workbook calls it (names as
    published stay in ``location_names``); only codes the reference does not hold
    (the UN's aggregates: regions, income groups) take the newest published name.
    """
    reference = m49_reference()
    latest = (
        names.sort_values("revision").drop_duplicates("code", keep="last").set_index("code")["name"]
        if len(names)
        else pd.Series(dtype="string")
    )
    codes = sorted(set(reference["code"]).union(int(c) for c in latest.index))
    table = pd.DataFrame({"code": codes}).merge(reference, on="code", how="left")
    table["name"] = table["name"].where(table["name"].notna(), table["code"].map(latest))
    table["is_aggregate"] = table["code"] >= FIRST_AGGREGATE_CODE
    table["kind"] = np.where(table["is_aggregate"], "aggregate", "country")
    table["is_ldc"] = table["is_ldc"].astype("boolean")
    table["arab_subregion"] = table["code"].map(ARAB_SUBREGION_OF).astype("string")
    table["arab_region"] = table["arab_subregion"].notna()
    columns = [
        "code",
        "name",
        "iso3",
        "kind",
        "is_aggregate",
        "un_region",
        "un_subregion",
        "is_ldc",
        "arab_region",
        "arab_subregion",
    ]
    return table[columns].astype({"code": "int16", "name": "string"})


REFUGEE_COLUMNS = [
    "revision",
    "year",
    "destination_code",
    "refugees",
    "refugee_share",
    "source_sheet",
    "source_row",
]
#: type-of-data letters and what they say about the estimate
DATA_TYPE_LETTERS = {"B": "foreign_born", "C": "citizenship", "I": "imputed", "R": "refugees"}


def harmonize_refugees(parsed: ParsedWorkbook) -> pd.DataFrame | None:
    """Canonical refugee rows (see ``REFUGEE_COLUMNS``), or None without a refugee table."""
    rows = parsed.refugees
    if rows is None:
        return None
    return pd.DataFrame(
        {
            "revision": np.int16(parsed.revision),
            "year": rows["year"].astype("int16"),
            "destination_code": rows["destination_code"].astype("int16"),
            "refugees": _counts(rows["refugees"]),
            "refugee_share": rows["refugee_share"].astype("float64"),
            "source_sheet": rows["source_sheet"].astype("string"),
            "source_row": rows["source_row"].astype("int32"),
        }
    )[REFUGEE_COLUMNS]


def data_basis(parsed: ParsedWorkbook) -> pd.DataFrame:
    """Per destination: the type of data as published ("C R") and what it means.

    ``basis``: foreign_born (B), citizenship (C), imputed (I), or foreign_born and
    citizenship when both letters appear ("C B": different sources over the years);
    ``refugees_added``: R, refugees (UNHCR, UNRWA) were added to the estimate.
    Letters outside B, C, I, R are kept as published for the validation to report.
    """
    records = []
    for code, letters in sorted(parsed.data_types.items()):
        found = letters.split()
        bases = [DATA_TYPE_LETTERS[ch] for ch in "BCI" if ch in found]
        records.append(
            {
                "revision": parsed.revision,
                "destination_code": code,
                "data_type": letters,
                "basis": " and ".join(bases) if bases else None,
                "refugees_added": "R" in found,
            }
        )
    frame = pd.DataFrame.from_records(
        records, columns=["revision", "destination_code", "data_type", "basis", "refugees_added"]
    )
    return frame.astype(
        {
            "revision": "int16",
            "destination_code": "int16",
            "data_type": "string",
            "basis": "string",
            "refugees_added": "bool",
        }
    )


def location_notes(parsed: ParsedWorkbook) -> pd.DataFrame:
    """(revision, location_code, note_number, note_text) for every note a location refers to."""
    records = [
        {
            "revision": parsed.revision,
            "location_code": code,
            "note_number": number,
            "note_text": parsed.note_texts.get(number),
        }
        for code, numbers in sorted(parsed.note_refs.items())
        for number in numbers
    ]
    frame = pd.DataFrame.from_records(
        records, columns=["revision", "location_code", "note_number", "note_text"]
    )
    return frame.astype(
        {
            "revision": "int16",
            "location_code": "int16",
            "note_number": "int16",
            "note_text": "string",
        }
    )
