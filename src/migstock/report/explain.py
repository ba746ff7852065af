"""Failed expectations in words a data steward can act on.

A :class:`Finding` is one failed expectation: one sentence saying what the check
means, and every failing row (:class:`Failure`) named by place, year and sex,
with the numbers compared ("published total 3,457,691; males + females
3,507,691") and where the cell is (file, sheet, row). Rows of the 22 Arab
countries come first; the others are also counted by place. The CLI, the
steward summary and the Prefect artifacts all print these same words; the
Great Expectations ids stay in the result JSON.

Reconciliation rows (``migstock.validate.reconcile``) carry no sheet or row: they are
joined back to the tidy rows they were computed from.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from migstock.regions import ARAB_COUNTRIES
from migstock.staging import StagedRows
from migstock.validate.gx import COMPLETENESS, CheckResult, ValidationReport

SEX_WORDS = {"total": "both sexes", "male": "males", "female": "females"}
#: how many places the grouped count names before "and N more"
PLACES_NAMED = 12
#: file, sheet, row and the file's sha256 of a cell (None when not known)
Cell = tuple[str | None, str | None, int | None, str | None]


@dataclass(frozen=True)
class SourceRows:
    """The tidy rows of one raw file, for finding where a checked cell is."""

    file_name: str
    dataset: str
    #: a frame, or the rows staged during the run (read back only when a check needs them)
    rows: pd.DataFrame | StagedRows
    #: the raw file's sha256: an accepted finding lapses when its workbook changes
    sha256: str | None = None


@dataclass(eq=False)
class Failure:
    """One failing row, in words; the fields after ``where`` identify it for a review
    (:mod:`migstock.report.review` fills in ``id`` and ``status``)."""

    place: str
    arab: bool
    year: int | None
    sex: str
    text: str
    where: str = ""
    place_code: int | None = None
    origin_code: int | None = None
    #: the sex as stored (total, male, female), or None
    sex_code: str | None = None
    #: the values compared, canonical (e.g. "previous=1,234 current=2,944")
    value: str = ""
    #: the first cell behind it: file, sheet, row, and the file's sha256
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    sha256: str | None = None
    id: str = ""
    status: str = "open"
    #: an acceptance that applies (status "accepted"), or one that lapsed (status "open")
    acceptance: Any = None
    #: why an earlier acceptance no longer holds
    lapsed: str = ""
    #: the age group of an age table's row ("15-19", "total"), or None
    age_group: str | None = None

    def line(self) -> str:
        when = f" {self.year}" if self.year is not None else ""
        sex = f", {self.sex}" if self.sex else ""
        where = f" [{self.where}]" if self.where else ""
        return f"{self.place}{when}{sex}: {self.text}{where}"


@dataclass
class Finding:
    """One failed expectation of a revision, in words."""

    severity: str
    title: str
    count: int | None
    failures: list[Failure] = field(default_factory=list)
    #: the Great Expectations id (suite: expectation on column where ...), for the JSON
    gx_id: str = ""
    #: the workbook the check judges (bilateral or destination_totals)
    dataset: str | None = None
    #: the check, stable across runs and wording changes: a reconciliation check's name,
    #: else ``suite.expectation(column)`` and its row condition
    check: str = ""

    @property
    def blocking(self) -> bool:
        return self.severity == "critical"

    @property
    def open(self) -> list[Failure]:
        """The failing rows not accepted in ``reviewed.toml``."""
        return [f for f in self.failures if f.status != "accepted"]

    @property
    def accepted(self) -> list[Failure]:
        return [f for f in self.failures if f.status == "accepted"]

    @property
    def all_accepted(self) -> bool:
        """Every row of the finding is accepted (and GX listed every row)."""
        listed = self.count is None or self.count <= len(self.failures)
        return bool(self.failures) and listed and not self.open

    @property
    def arab(self) -> list[Failure]:
        return [f for f in self.failures if f.arab]

    @property
    def others(self) -> list[Failure]:
        return [f for f in self.failures if not f.arab]

    @property
    def rows_word(self) -> str:
        count = self.count if self.count is not None else len(self.failures)
        return f"{count:,} row{'s' if count != 1 else ''}"

    @property
    def fail_word(self) -> str:
        count = self.count if self.count is not None else len(self.failures)
        return f"{self.rows_word} fail{'s' if count == 1 else ''}"

    def split(self, failures: list[Failure] | None = None) -> str:
        """'4 in the Arab region, 132 elsewhere (70 places)' (of ``failures``: all)."""
        failures = self.failures if failures is None else failures
        arab = [f for f in failures if f.arab]
        others = [f for f in failures if not f.arab]
        places = len({f.place for f in others})
        where = f" ({places} place{'s' if places != 1 else ''})" if places else ""
        return f"{len(arab)} in the Arab region, {len(others)} elsewhere{where}"

    def other_places(self, named: int = PLACES_NAMED) -> str:
        """Non-Arab places with their number of failing rows, most first."""
        counts = Counter(f.place for f in self.others).most_common()
        shown = ", ".join(f"{place}: {n}" for place, n in counts[:named])
        more = len(counts) - named
        return shown + (f" and {more} more" if more > 0 else "")

    @property
    def about_the_workbook(self) -> bool:
        """A finding on the workbook as a whole (a table it lacks), not on rows."""
        return self.count is None and not self.failures

    def headline(self) -> str:
        """One line: the check and how many rows fail, Arab region first."""
        if self.about_the_workbook:
            return self.title
        accepted = self.accepted
        if accepted:
            total = self.count if self.count is not None else len(self.failures)
            still = self.open
            parts = [
                f"{self.title}: {total - len(accepted):,} of {total:,} rows open, "
                f"{len(accepted):,} accepted"
            ]
            if still:
                first = next((f for f in still if f.arab), still[0])
                parts += [self.split(still), f"e.g. {first.line()}"]
            return "; ".join(parts)
        parts = [f"{self.title}: {self.fail_word}"]
        if self.failures:
            parts.append(self.split())
        if self.failures:
            first = (self.arab or self.failures)[0]
            parts.append(f"e.g. {first.line()}")
        return "; ".join(parts)


def explain(
    report: ValidationReport, sources: list[SourceRows], names: dict[int, str]
) -> list[Finding]:
    """Every failed expectation of ``report`` in words: blocking ones first."""
    locator = _Locator(sources)
    findings = []
    failed = report.blocking_failures + report.warnings
    for result in failed:
        check = _check_of(result)
        if result.expectation == COMPLETENESS:  # the parser's words already
            finding = Finding(result.severity, result.notes, None, gx_id=result.describe())
        elif result.suite == "reconciliation" and check:
            finding = _reconciliation(result, check, locator, names)
        elif result.suite == FLOWS_SUITE and check:
            finding = flow_finding(result, check, report.revision, names)
        else:
            finding = _tidy(result, sources, names)
        finding.dataset = result.dataset
        finding.check = check_key(result, check)
        findings.append(finding)
    return findings


def check_key(result: CheckResult, check: str | None = None) -> str:
    """The check's name in a finding's ID: what it tests, not how it is worded."""
    if result.suite == "reconciliation" and check:
        return check
    if result.suite == FLOWS_SUITE and check:
        method = _method_of(result)
        return f"flows.{check}" + (f"[{method}]" if method else "")
    if result.expectation == COMPLETENESS:
        return f"{result.dataset}.{COMPLETENESS}"
    where = f" where {result.condition}" if result.condition else ""
    return f"{result.suite}.{result.expectation}({result.column or ''}){where}"


# --- reconciliation checks ------------------------------------------------------------

_SUM_TITLES = {
    "male_plus_female": "Males + females must equal the published total",
    "origins_sum_to_total": "The origins must add up to the published Total column",
    "bilateral_vs_totals": (
        "The bilateral workbook's Total column must match the destination-totals workbook"
    ),
    "age_bands_sum_to_total": "The age bands (0-4 ... 75+) must add up to the all-ages total",
    "age_male_plus_female": "Males + females must equal both sexes in every age group",
    "age_total_vs_totals": (
        "The age workbook's all-ages total must match the destination-totals workbook"
    ),
    "population_bands_sum_to_total": (
        "The population's age bands should add up to the all-ages population"
    ),
    "population_male_plus_female": (
        "Males + females should equal both sexes in every age group of the population"
    ),
}
#: the age checks, the table they are computed from (``SourceRows.dataset``)
AGE_CHECKS = {
    "age_bands_sum_to_total": "age",
    "age_male_plus_female": "age",
    "age_bands_present": "age",
    "age_total_vs_totals": "age",
    "population_bands_sum_to_total": "age_population",
    "population_male_plus_female": "age_population",
}
#: the suites that check an age workbook's tables, and the rows they check
_AGE_SUITES = {"age_stock": "age", "age_population": "age_population"}


def _check_of(result: CheckResult) -> str | None:
    match = re.search(r"check == '(\w+)'", result.condition or "")
    return match.group(1) if match else None


def _threshold(result: CheckResult) -> float | None:
    match = re.search(r"abs_difference > ([\d.]+)", result.condition or "")
    return float(match.group(1)) if match else None


def check_title(result: CheckResult, check: str) -> str:
    """One sentence saying what a reconciliation check means, with its tolerance."""
    low, high = result.kwargs.get("min_value"), result.kwargs.get("max_value")
    above = _threshold(result)
    if (check in ("year_over_year", "revision_over_revision") and None in (high, above)) or (
        check == "year_over_year" and low is None
    ):
        return result.notes or check.replace("_", " ")  # a suite changed its arguments
    if check in _SUM_TITLES:
        tolerance = f"{_number(above)} persons" if above is not None else ""
        if high is not None:
            tolerance += f"{' or ' if tolerance else ''}{high:.2%}"
        return _SUM_TITLES[check] + (f" (tolerance: {tolerance})" if tolerance else "")
    if check == "arab_countries_present":
        return "All 22 Arab League members must have a value for every year and sex"
    if check == "age_bands_present":
        return "Every age group (0-4 ... 75+ and the total) should have a value"
    if check == "year_over_year":
        return (
            f"A country's migrant stock should stay between ×{low:g} and ×{high:g} of the "
            f"previous reference year when it changes by more than {_number(above)} persons"
        )
    if check == "revision_over_revision":
        return (
            f"A country's estimate for a year should differ by at most {high:.0%} from the "
            f"newest other loaded revision when the difference exceeds {_number(above)} persons"
        )
    return result.notes or check.replace("_", " ")


def _reconciliation(
    result: CheckResult, check: str, locator: _Locator, names: dict[int, str]
) -> Finding:
    rows = pd.DataFrame([r for r in result.rows if isinstance(r, dict)])
    failures = []
    if len(rows):
        where, cells = locator.where(check, rows)
        missing = locator.missing_arab(rows) if check == "arab_countries_present" else {}
        gaps = locator.missing_age_groups(rows) if check == "age_bands_present" else []
        for position, row in enumerate(rows.to_dict("records")):
            failure = _check_failure(check, row, names, where[position], missing)
            if gaps and gaps[position]:
                failure.text += "; no value for " + ", ".join(gaps[position])
            failure.file, failure.sheet, failure.row, failure.sha256 = cells[position]
            failures.append(failure)
    return Finding(
        severity=result.severity,
        title=check_title(result, check),
        count=result.unexpected_count,
        failures=_arab_first(failures),
        gx_id=result.describe(samples=0),
    )


def _check_failure(
    check: str,
    row: dict[str, Any],
    names: dict[int, str],
    where: str,
    missing: dict[tuple[int, str], list[int]],
) -> Failure:
    expected, actual = row.get("expected"), row.get("actual")
    code = _int(row.get("destination_code"))
    year = _int(row.get("year"))
    sex = row.get("sex")
    if check == "male_plus_female":
        text = f"published total {_number(expected)}; males + females {_number(actual)}"
        text += _difference(expected, actual)
    elif check == "origins_sum_to_total":
        text = f"published Total column {_number(expected)}; sum of the origins {_number(actual)}"
        text += _difference(expected, actual)
    elif check == "bilateral_vs_totals":
        text = (
            f"destination-totals workbook {_number(expected)}; "
            f"bilateral Total column {_number(actual)}"
        ) + _difference(expected, actual)
    elif check in ("age_bands_sum_to_total", "population_bands_sum_to_total"):
        text = f"published all-ages total {_number(expected)}; sum of the age bands "
        text += _number(actual) + _difference(expected, actual)
    elif check in ("age_male_plus_female", "population_male_plus_female"):
        text = f"published both sexes {_number(expected)}; males + females {_number(actual)}"
        text += _difference(expected, actual)
    elif check == "age_total_vs_totals":
        text = (
            f"destination-totals workbook {_number(expected)}; "
            f"age workbook, all ages {_number(actual)}"
        ) + _difference(expected, actual)
    elif check == "age_bands_present":
        text = f"{_number(actual)} of the {_number(expected)} age groups have a value"
    elif check == "arab_countries_present":
        absent = missing.get((year or 0, str(sex)), [])
        text = f"{_number(actual)} of the 22 Arab countries have a value"
        if absent:
            text += "; missing: " + ", ".join(_place(c, names, code_shown=False) for c in absent)
    elif check == "year_over_year":
        text = f"{_number(expected)} in the previous reference year, {_number(actual)} in {year}"
        if expected and actual is not None:
            text += f" (×{actual / expected:.2f})"
    elif check == "revision_over_revision":
        text = (
            f"{_number(expected)} in the newest other loaded revision, "
            f"{_number(actual)} in this one"
        )
        if expected and actual is not None:
            text += f" ({(actual - expected) / expected:+.0%})"
    else:
        text = f"expected {_number(expected)}, found {_number(actual)}"
    origin = _int(row.get("origin_code"))
    place = _place(code, names) if code is not None else "Arab region"
    if origin is not None and check == "male_plus_female":
        place += f", migrants from {_place(origin, names)}"
    sex_words = SEX_WORDS.get(str(sex), "") if sex is not None else ""
    if check == "male_plus_female":
        sex_words = "both sexes vs males + females"
    group = row.get("age_group")
    group = None if group is None or group is pd.NA or group != group else str(group)
    if check in ("age_male_plus_female", "population_male_plus_female"):
        sex_words = "both sexes vs males + females"
    if check in AGE_CHECKS:
        ages = "all ages" if group in (None, "total") else f"aged {group}"
        if check.startswith("population_"):
            ages = f"population {ages}"
        sex_words = f"{sex_words}, {ages}" if sex_words else ages
    return Failure(
        place=place,
        arab=code in ARAB_COUNTRIES if code is not None else True,
        year=year,
        sex=sex_words,
        text=text,
        where=where,
        place_code=code,
        origin_code=origin,
        sex_code=None if sex is None else str(sex),
        value=f"expected={_canonical(expected)} actual={_canonical(actual)}",
        age_group=group,
    )


class _Locator:
    """Where a reconciliation row's cells are: file, sheet and row of the tidy rows."""

    def __init__(self, sources: list[SourceRows]) -> None:
        self.sources = sources
        self._frames: dict[tuple[str, tuple[str, ...] | None], pd.DataFrame] = {}

    def _frame(self, dataset: str, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
        """The rows of one dataset (only these origin kinds), with their file's name."""
        key = (dataset, kinds)
        if key not in self._frames:
            self._frames[key] = self._concat(dataset, kinds)
        return self._frames[key]

    def _concat(self, dataset: str, kinds: tuple[str, ...] | None) -> pd.DataFrame:
        frames = []
        for source in self.sources:
            if source.dataset != dataset:
                continue
            rows = source.rows
            if isinstance(rows, StagedRows):
                rows = rows.frame(origin_kinds=kinds if dataset == "bilateral" else None)
            elif kinds is not None and "origin_kind" in rows:
                rows = rows[rows["origin_kind"].isin(kinds)]
            rows = rows.assign(file_name=source.file_name)
            if "raw_sha256" not in rows:
                rows = rows.assign(raw_sha256=source.sha256)
            frames.append(rows)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def where(self, check: str, failing: pd.DataFrame) -> tuple[list[str], list[Cell]]:
        """One text per failing row, e.g. ``file.xlsx, sheet 'Table 1', row 148``, and
        the first cell behind it (file, sheet, row, the file's sha256)."""
        keys = ["year", "destination_code", "sex"]
        every = pd.Series(True, index=failing.index)
        lookups: list[tuple[pd.DataFrame, list[str], pd.Series]] = []
        if check == "male_plus_female":
            origins = failing["origin_code"].notna()
            residuals = ("other_north", "other_south", "other")
            lookups.append((self._frame("destination_totals"), keys[:2], ~origins))
            lookups.append((self._frame("bilateral", residuals), keys[:2], ~origins))
            if origins.any():
                bilateral = self._frame("bilateral")
                lookups.append((bilateral, [*keys[:2], "origin_code"], origins))
        elif check == "origins_sum_to_total":
            lookups.append((self._frame("bilateral", ("total",)), keys, every))
        elif check == "bilateral_vs_totals":
            lookups.append((self._frame("destination_totals"), keys, every))
            lookups.append((self._frame("bilateral", ("total",)), keys, every))
        elif check in ("year_over_year", "revision_over_revision"):
            stock = self._frame("destination_totals")
            if not len(stock):
                stock = self._frame("bilateral", ("total",))
            lookups.append((stock, keys, every))
        elif check in AGE_CHECKS:
            table = self._frame(AGE_CHECKS[check])
            if check.endswith("male_plus_female"):  # the three sexes' cells of one group
                on = ["year", "destination_code", "age_group"]
            elif check == "age_total_vs_totals":  # the total cell, then the totals workbook
                on = [*keys, "age_group"]
                lookups.append((self._frame("destination_totals"), keys, every))
            else:  # every band of one place, year and sex: one row of the sheet
                on = keys
            lookups.insert(0, (table, on, every))
        found: list[list[str]] = [[] for _ in range(len(failing))]
        first: list[Cell] = [(None, None, None, None)] * len(failing)
        for frame, on, mask in lookups:
            if not len(frame) or not mask.any():
                continue
            for position, (text, cell) in _cells(failing, frame, on, mask).items():
                found[position].append(text)
                if first[position][0] is None:
                    first[position] = cell
        return ["; ".join(dict.fromkeys(texts)) for texts in found], first

    def missing_age_groups(self, failing: pd.DataFrame) -> list[list[str]]:
        """Per failing row (place, year, sex): the age groups without a value."""
        table = self._frame("age")
        if not len(table):
            return [[] for _ in range(len(failing))]
        empty = table[table["migrants"].isna()]
        gaps: dict[tuple[int, int, str], list[str]] = {}
        for year, code, sex, group in zip(
            empty["year"], empty["destination_code"], empty["sex"], empty["age_group"], strict=True
        ):
            gaps.setdefault((int(year), int(code), str(sex)), []).append(str(group))
        return [
            gaps.get((int(row.year), int(row.destination_code), str(row.sex)), [])
            for row in failing.itertuples()
        ]

    def missing_arab(self, failing: pd.DataFrame) -> dict[tuple[int, str], list[int]]:
        """Per (year, sex): the Arab countries without a value."""
        stock = self._frame("destination_totals")
        if not len(stock):
            stock = self._frame("bilateral", ("total",))
        if not len(stock):
            return {}
        present = stock[stock["migrants"].notna()].groupby(["year", "sex"], observed=True)[
            "destination_code"
        ]
        missing = {}
        for (year, sex), codes in present:
            absent = sorted(ARAB_COUNTRIES - {int(c) for c in codes})
            if absent:
                missing[(int(year), str(sex))] = absent
        return missing


def _cells(
    failing: pd.DataFrame, frame: pd.DataFrame, on: list[str], mask: pd.Series
) -> dict[int, tuple[str, Cell]]:
    """Position of each failing row (where ``mask``) -> where its matching tidy rows are,
    in words and as the first cell."""
    left = failing[on].reset_index(drop=True).assign(_position=range(len(failing)))
    left = left[mask.to_numpy()]
    if "raw_sha256" not in frame:
        frame = frame.assign(raw_sha256=None)
    right = frame[[*on, "file_name", "source_sheet", "source_row", "raw_sha256"]]
    for key in on:
        if key in ("sex", "age_group"):
            left[key] = left[key].astype("string")
            right = right.assign(**{key: right[key].astype("string")})
        else:
            left[key] = pd.to_numeric(left[key]).astype("Int64")
            right = right.assign(**{key: pd.to_numeric(right[key]).astype("Int64")})
    merged = left.merge(right, on=on, how="inner")
    # position -> file -> sheet -> rows, in the order the rows come (plain dicts: a
    # groupby per failing row took most of a second for a few hundred rows)
    places: dict[int, dict[str, dict[str, set[int]]]] = {}
    first: dict[int, Cell] = {}
    for position, file_name, sheet, row, sha256 in zip(
        merged["_position"],
        merged["file_name"],
        merged["source_sheet"],
        merged["source_row"],
        merged["raw_sha256"],
        strict=True,
    ):
        sheets = places.setdefault(int(position), {}).setdefault(file_name, {})
        sheets.setdefault(sheet, set()).add(int(row))
        cell = (str(file_name), str(sheet), int(row), str(sha256) if sha256 else None)
        first[int(position)] = min(first.get(int(position), cell), cell, key=_cell_order)
    return {position: (_where_text(files), first[position]) for position, files in places.items()}


def _cell_order(cell: Cell) -> tuple[str, str, int]:
    return (cell[0] or "", cell[1] or "", cell[2] or 0)


def _where_text(files: dict[str, dict[str, set[int]]]) -> str:
    parts = []
    for file_name, sheets in files.items():
        cells = []
        for sheet, row_set in sheets.items():
            rows = sorted(row_set)
            label = "row" if len(rows) == 1 else "rows"
            cells.append(f"sheet '{sheet}', {label} {', '.join(map(str, rows[:6]))}")
        parts.append(f"{file_name}, {'; '.join(cells[:6])}")
    return "; ".join(parts)


# --- column checks on the tidy rows ----------------------------------------------------


def tidy_title(result: CheckResult) -> str:
    """One sentence for an expectation on the tidy rows."""
    column = result.column or "the table"
    kwargs = result.kwargs
    kind = result.expectation
    if kind == "expect_column_values_to_be_between":
        low, high = (_bound(kwargs.get(key)) for key in ("min_value", "max_value"))
        if low is not None and high is not None:
            return f"{column} must be between {low} and {high}"
        if low is not None:
            return f"{column} must be {low} or more"
        return f"{column} must be {high} or less"
    if kind == "expect_column_values_to_not_be_null":
        return f"{column} must not be empty"
    if kind == "expect_column_values_to_be_in_set":
        allowed = kwargs.get("value_set")
        if isinstance(allowed, dict):  # a parameter of the run
            words = {
                "revision_years": "one of the revision's reference years",
                "location_codes": "an M49 code or an aggregate the workbook defines",
            }
            return f"{column} must be {words.get(allowed.get('$PARAMETER'), 'an allowed value')}"
        return f"{column} must be one of {', '.join(map(str, allowed or []))}"
    if kind == "expect_compound_columns_to_be_unique":
        return f"each combination of {column.replace(',', ', ')} must appear once"
    if kind == "expect_column_values_to_be_in_type_list":
        return f"{column} must be of type {' or '.join(kwargs.get('type_list') or [])}"
    if kind in ("expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list"):
        return "the table must have exactly the expected columns"
    return result.notes or f"{kind.replace('_', ' ')} on {column}"


def _tidy(result: CheckResult, sources: list[SourceRows], names: dict[int, str]) -> Finding:
    table = _AGE_SUITES.get(result.suite, result.suite)  # the rows the suite checks
    files = [s.file_name for s in sources if s.dataset == table]
    shas = [s.sha256 for s in sources if s.dataset == table]
    failures = []
    for row in result.rows:
        if not isinstance(row, dict):
            failures.append(Failure("", True, None, "", f"value found: {row}"))
            continue
        code = _int(row.get("destination_code"))
        sheet, number = row.get("source_sheet"), _int(row.get("source_row"))
        where = ", ".join(files)
        if sheet is not None:
            where += f", sheet '{sheet}'" + (f", row {number}" if number is not None else "")
        origin = _int(row.get("origin_code"))
        place = _place(code, names) if code is not None else "?"
        if origin is not None:
            place += f", migrants from {_place(origin, names)}"
        value = row.get(result.column) if result.column in row else None
        shown = f"{result.column} = {_value(value)}" if result.column in row else "this row"
        sex = row.get("sex")
        group = None if row.get("age_group") is None else str(row.get("age_group"))
        sex_words = SEX_WORDS.get(str(sex), "")
        if group is not None:
            ages = "all ages" if group == "total" else f"aged {group}"
            sex_words = f"{sex_words}, {ages}" if sex_words else ages
        sha256 = row.get("raw_sha256") or (shas[0] if len(shas) == 1 else None)
        failures.append(
            Failure(
                place=place,
                arab=code in ARAB_COUNTRIES if code is not None else False,
                year=_int(row.get("year")),
                sex=sex_words,
                text=shown,
                where=where.strip(", "),
                place_code=code,
                origin_code=origin,
                sex_code=None if sex is None else str(sex),
                value=f"{result.column}={_canonical(value)}",
                file=files[0] if len(files) == 1 else None,
                sheet=None if sheet is None else str(sheet),
                row=number,
                sha256=str(sha256) if sha256 else None,
                age_group=group,
            )
        )
    return Finding(
        severity=result.severity,
        title=tidy_title(result),
        count=result.unexpected_count,
        failures=_arab_first(failures),
        gx_id=result.describe(samples=0),
    )


# --- small helpers ---------------------------------------------------------------------


def _arab_first(failures: list[Failure]) -> list[Failure]:
    return sorted(failures, key=lambda f: (not f.arab, f.place, f.year or 0, f.sex))


def _place(code: int, names: dict[int, str], code_shown: bool = True) -> str:
    name = names.get(code)
    if not name:
        return str(code)
    return f"{name} ({code})" if code_shown else name


def _int(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "none"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _bound(value: Any) -> Any:
    """A bound as written in a suite: 0, not GX's 0.0."""
    return f"{value:g}" if isinstance(value, (int, float)) else value


def _canonical(value: Any) -> str:
    """A value as it goes into a finding's ID: 1234.0 and 1234 alike, floats to 6 places."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "none"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    return str(value)


def _value(value: Any) -> str:
    return _number(value) if isinstance(value, (int, float)) else repr(value)


def _difference(expected: Any, actual: Any) -> str:
    if expected is None or actual is None:
        return ""
    gap = abs(actual - expected)
    share = f", {gap / abs(expected):.2%}" if expected else ""
    return f" (differs by {_number(gap)}{share})"


# --- checks of estimated flows (suite "flows", rows of migstock.flows.checks) -----------

FLOWS_SUITE = "flows"
METHOD_WORDS = {
    "demographic_account": "demographic account",
    "stock_difference_zero": "stock difference (decreases as 0)",
    "stock_difference_return": "stock difference (decreases as returns)",
}


def _method_of(result: CheckResult) -> str | None:
    match = re.search(r"method == '(\w+)'", result.condition or "")
    return match.group(1) if match else None


def flow_check_title(result: CheckResult, check: str) -> str:
    """One sentence saying what a check of estimated flows means, with its tolerance."""
    method = _method_of(result)
    words = f" ({METHOD_WORDS.get(method, method)})" if method else ""
    high = result.kwargs.get("max_value")
    if check == "account_identity":
        tolerance = f" (tolerance: {high:g} person{'s' if high != 1 else ''})" if high else ""
        return (
            "Each place's demographic account must close: its residents at the end minus at "
            "the start of the period equal its estimated inflows minus outflows" + tolerance
        )
    if check == "flow_not_negative":
        if result.expectation == "expect_column_values_to_not_be_null":
            return f"Every estimated flow must be a number{words}"
        return f"No estimated flow may be negative{words}"
    if check == "consecutive_periods":
        if result.expectation == "expect_column_values_to_not_be_null":
            return "Each period must start at a reference year of the revision that has a next one"
        return "Each period must end at the reference year that follows its start"
    return result.notes or check.replace("_", " ")


def flow_finding(result: CheckResult, check: str, revision: int, names: dict[int, str]) -> Finding:
    """A failed check of estimated flows, each failing row named by place, period, sex."""
    failures = []
    for row in result.rows:
        if not isinstance(row, dict):
            failures.append(Failure("", True, None, "", f"value found: {row}"))
            continue
        failures.append(_flow_failure(check, row, revision, names))
    return Finding(
        severity=result.severity,
        title=flow_check_title(result, check),
        count=result.unexpected_count,
        failures=_arab_first(failures),
        gx_id=result.describe(samples=0),
    )


def _flow_failure(check: str, row: dict[str, Any], revision: int, names: dict[int, str]) -> Failure:
    start, end = _int(row.get("period_start")), _int(row.get("period_end"))
    code, origin = _int(row.get("place_code")), _int(row.get("origin_code"))
    expected, actual = row.get("expected"), row.get("actual")
    method = str(row.get("method") or "")
    period = f"{start}–{end}"
    if check == "account_identity":
        text = (
            f"{period}: residents changed by {_signed(expected)} in the stock tables the account "
            f"was fitted to; estimated inflows − outflows {_signed(actual)}"
        ) + _difference(expected, actual)
    elif check == "flow_not_negative":
        found = "not a number" if _int(actual) is None else _number(actual)
        source = f", from {_place(origin, names)}" if origin is not None else ""
        text = f"{period}: smallest estimated flow into it {found}{source}"
    elif check == "consecutive_periods":
        after = _int(expected)
        text = (
            f"period {period}: the reference year after {start} is {after}"
            if after is not None
            else f"period {period}: {start} is not a reference year followed by another"
        )
    else:
        text = f"{period}: expected {_number(expected)}, found {_number(actual)}"
    sex = row.get("sex")
    return Failure(
        place=_place(code, names) if code is not None else "Estimated flows",
        arab=code in ARAB_COUNTRIES if code is not None else True,
        year=start,
        sex=SEX_WORDS.get(str(sex), "") if sex is not None else "",
        text=text,
        where=f"flows of revision {revision}, {METHOD_WORDS.get(method, method)}",
        place_code=code,
        origin_code=origin,
        sex_code=None if sex is None else str(sex),
        value=(
            f"method={method} period_end={end} "
            f"expected={_canonical(expected)} actual={_canonical(actual)}"
        ),
    )


def _signed(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "none"
    return f"{value:+,.2f}" if not float(value).is_integer() else f"{int(value):+,}"
