"""Synthetic age workbooks for the tests (the UN's age workbooks are not in shared).

The layouts are written by :func:`migstock.demo.samples.write_age_workbook`; the numbers
here are synthetic and chosen so that every sum reconciles unless a test breaks one.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from migstock.catalog import revision
from migstock.demo.samples import AGE_LABELS, AgeTable, age_values, write_age_workbook

#: places of the test workbooks: the world, two Arab countries, a name with a footnote mark
PLACES = [("WORLD", 900), ("Saudi Arabia", 682), ("Egypt", 818), ("France*", 250)]
#: a younger and an older age profile (shares of the 16 bands), to vary the medians
YOUNG = (10, 10, 9, 9, 9, 9, 8, 8, 7, 6, 5, 4, 3, 2, 1, 1)
OLD = (1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 9, 8, 7)
#: the labels with a stray space before one band, as some copies of the 2020 file have
SPACED_LABELS = [" 15-19" if label == "15-19" else label for label in AGE_LABELS]


def migrants_of(code: int, year: int) -> tuple[int, int]:
    """(male, female) migrants of one place and year."""
    return 10_000 + 7 * code + (year - 1990) * 101, 8_000 + 5 * code + (year - 1990) * 53


def age_tables(
    number: int, years: list[int] | None = None, places: list[tuple[str, int]] | None = None
) -> tuple[AgeTable, AgeTable]:
    """The migrant and population tables of a revision (population: 10x the migrants)."""
    years = list(revision(number).years) if years is None else years
    places = PLACES if places is None else places
    migrants: AgeTable = {}
    population: AgeTable = {}
    for i, place in enumerate(places):
        profile = YOUNG if i % 2 else OLD
        migrants[place], population[place] = {}, {}
        for year in years:
            male, female = migrants_of(place[1], year)
            migrants[place][year] = age_values(male, female, profile)
            population[place][year] = age_values(10 * male, 10 * female, YOUNG)
    return migrants, population


def write_age(
    path: Path,
    number: int,
    *,
    years: list[int] | None = None,
    migrants: AgeTable | None = None,
    population: AgeTable | bool | None = True,
    **options: object,
) -> Path:
    """A synthetic age workbook of revision ``number`` in its layout."""
    tables = age_tables(number, years)
    if migrants is None:
        migrants = tables[0]
    if population is True:
        population = tables[1]
    elif population is False:
        population = None
    all_years = list(revision(number).years) if years is None else years
    return write_age_workbook(
        path,
        number,
        all_years,
        migrants,
        population,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def age_from_totals(
    totals: pd.DataFrame, names: dict[int, str], codes: list[int]
) -> tuple[AgeTable, AgeTable]:
    """Age tables whose all-ages totals are those of a destination-totals workbook's rows
    (``totals``: year, destination_code, sex, migrants, total_population), split over the
    bands by a synthetic profile: the age workbook then agrees with the totals workbook."""
    migrants: AgeTable = {}
    population: AgeTable = {}
    for i, code in enumerate(codes):
        place = (names[code], code)
        rows = totals[totals["destination_code"] == code]
        by = {(int(r.year), str(r.sex)): r for r in rows.itertuples()}
        migrants[place], population[place] = {}, {}
        for year in sorted({y for y, _ in by}):
            male, female = by[(year, "male")], by[(year, "female")]
            profile = YOUNG if i % 2 else OLD
            migrants[place][year] = age_values(int(male.migrants), int(female.migrants), profile)
            population[place][year] = age_values(
                int(male.total_population), int(female.total_population), YOUNG
            )
    return migrants, population


def median_age(bands: list[int]) -> float | None:
    """The median age of 16 five-year bands, interpolated within its band (None in 75+)."""
    half = sum(bands) / 2
    below = 0
    for index, count in enumerate(bands):
        if below + count >= half and count:
            if index == len(bands) - 1:
                return None
            return 5 * index + 5 * (half - below) / count
        below += count
    return None
