"""The twelve catalog workbooks at their real size, filled with synthetic numbers.

For the full-size benchmark (``scripts/benchmark.py --section scale``): each revision's
bilateral and destination-totals workbook under its official file name (2013 in the
.xls container), in the layout of that revision, with every year, sex and origin
column the real file has; about 6 million tidy rows in all. Every sheet's title block
says the numbers are synthetic (:data:`SYNTHETIC_NOTE`), and the folder gets a
``SYNTHETIC-README.txt``.

The places are the M49 countries and areas the UN tables cover (233) and the UN's
aggregates (codes >= 900: world, development groups, income groups from 2017, SDG
regions from 2019, continents and regions), so a sheet has about 260-270 destination
rows and 236 origin columns. The numbers come from one synthetic world drawn from a
fixed seed (``numpy.random.default_rng``), each revision a slightly different estimate
of it (with a few migration waves that raise the year-over-year warnings real tables
raise), and are consistent the way the UN's are: male + female = total in every cell,
the origins (with Other North / Other South, 2020/2024 "Others") add up to the Total
column, aggregates are the sums of their countries, the bilateral Total equals the
destination-totals workbook, the population holds the migrants (shares of 0.2-90 %),
and the refugee table agrees with the migrant stock. A run loads them with exit 0.

Writing goes through the layout writers of :mod:`migstock.demo.samples`; the files are
written in parallel (``processes``), each from its own revision's numbers, so the result
does not depend on the order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from migstock.catalog import CATALOG, Dataset, Revision
from migstock.demo.samples import (
    AnnexRow,
    Destination,
    TotalsStyle,
    write_destination_totals,
    write_long_rows,
    write_wide_origins,
    write_year_rows,
)
from migstock.parse.harmonize import m49_reference

SEED = 2026
#: bump when the generated workbooks change, so a cached folder is written again
GENERATOR_VERSION = 1
SYNTHETIC_NOTE = (
    "SYNTHETIC DATA, not UN figures: numbers made up from a fixed seed by migstock's "
    "scale benchmark, in the layout of the official workbook"
)
MANIFEST = "manifest.json"
README = "SYNTHETIC-README.txt"
#: the years of every revision, for one synthetic world all revisions estimate
ALL_YEARS = sorted({year for entry in CATALOG for year in entry.years})
SEXES = ("total", "male", "female")

#: M49 entries the UN migrant stock tables do not cover (no resident population, or
#: counted with another area)
_NOT_COVERED = frozenset(
    {10, 74, 86, 162, 166, 239, 248, 260, 334, 574, 581, 612, 652, 663, 680, 744, 831, 832}
)
_CONTINENTS = (  # name, code, M49 region / sub-region it covers
    ("Africa", 903, ("Africa", None)),
    ("Asia", 935, ("Asia", None)),
    ("Europe", 908, ("Europe", None)),
    ("Latin America and the Caribbean", 904, (None, "Latin America and the Caribbean")),
    ("Northern America", 905, (None, "Northern America")),
    ("Oceania", 909, ("Oceania", None)),
)
_REGIONS = {  # the UN's region codes of the M49 sub-regions (>= 900, as in the workbooks)
    "Northern Africa": 912,
    "Sub-Saharan Africa": 947,
    "Central Asia": 5500,
    "Eastern Asia": 906,
    "South-eastern Asia": 920,
    "Southern Asia": 5501,
    "Western Asia": 922,
    "Eastern Europe": 923,
    "Northern Europe": 924,
    "Southern Europe": 925,
    "Western Europe": 926,
    "Australia and New Zealand": 927,
    "Melanesia": 928,
    "Micronesia": 954,
    "Polynesia": 957,
}
_SDG_REGIONS = (  # from 2019 (upper case, as the 2019 workbooks write them)
    ("NORTHERN AFRICA AND WESTERN ASIA", 1833, ("Northern Africa", "Western Asia")),
    ("CENTRAL AND SOUTHERN ASIA", 1831, ("Central Asia", "Southern Asia")),
    ("EASTERN AND SOUTH-EASTERN ASIA", 1832, ("Eastern Asia", "South-eastern Asia")),
    ("LATIN AMERICA AND THE CARIBBEAN", 1830, ("Latin America and the Caribbean",)),
    (
        "OCEANIA (EXCLUDING AUSTRALIA AND NEW ZEALAND)",
        1835,
        ("Melanesia", "Micronesia", "Polynesia"),
    ),
    (
        "EUROPE AND NORTHERN AMERICA",
        1829,
        (
            "Eastern Europe",
            "Northern Europe",
            "Southern Europe",
            "Western Europe",
            "Northern America",
        ),
    ),
)
_INCOME_GROUPS = (  # from 2017; synthetic membership
    ("High-income countries", 1503, ("high",)),
    ("Middle-income countries", 1517, ("upper", "lower")),
    ("Upper-middle-income countries", 1502, ("upper",)),
    ("Lower-middle-income countries", 1501, ("lower",)),
    ("Low-income countries", 1500, ("low",)),
)
_NOTES = (  # a few numbered country notes, as the totals workbooks carry (codes -> text)
    (
        (729,),
        "SYNTHETIC note: the estimates for 1990 to 2010 refer to Sudan including South Sudan.",
    ),
    ((156,), "SYNTHETIC note: excludes Hong Kong, Macao and Taiwan Province of China."),
    ((250, 528), "SYNTHETIC note: includes overseas departments."),
    ((275,), "SYNTHETIC note: includes East Jerusalem; refugees counted separately."),
)


@dataclass(frozen=True)
class Geography:
    """The places of one revision's workbooks."""

    #: the countries (destinations and origins), by name, and their M49 codes
    names: list[str]
    codes: np.ndarray
    #: destination rows in the order the workbooks list them: (name, code, members),
    #: members a boolean mask over the countries (None for a country)
    rows: list[tuple[str, int, np.ndarray | None]]
    annex: list[AnnexRow]
    #: per country: a more developed region (2013's "More" column)
    developed: np.ndarray

    @property
    def aggregates(self) -> list[tuple[str, int, np.ndarray]]:
        return [(n, c, m) for n, c, m in self.rows if m is not None]

    @property
    def destinations(self) -> list[Destination]:
        return [(name, code) for name, code, _ in self.rows]


@cache
def _countries(
    subset: tuple[int, ...] | None,
) -> tuple[list[str], np.ndarray, list[str], list[str]]:
    """Names, codes, M49 regions and sub-regions of the covered countries, by name."""
    reference = m49_reference()
    reference = reference[~reference["code"].isin(_NOT_COVERED)]
    if subset is not None:
        reference = reference[reference["code"].isin(subset)]
    reference = reference.sort_values("name", key=lambda s: s.str.casefold())
    return (
        reference["name"].tolist(),
        reference["code"].to_numpy(dtype=np.int64),
        reference["un_region"].tolist(),
        reference["un_subregion"].tolist(),
    )


def geography(revision: int, subset: Iterable[int] | None = None) -> Geography:
    """The countries (all covered ones, or the M49 codes ``subset``) and the aggregates
    a workbook of ``revision`` lists, in the UN's order: world, development groups,
    income groups (2017-), SDG regions (2019-), then each continent with its regions
    and their countries."""
    names, codes, regions, subregions = _countries(
        None if subset is None else tuple(sorted(subset))
    )
    region = np.array(regions, dtype=object)
    subregion = np.array(subregions, dtype=object)
    developed = (
        np.isin(region, ["Europe"])
        | np.isin(subregion, ["Northern America", "Australia and New Zealand"])
        | (codes == 392)
    )
    ldc = np.isin(codes, m49_reference().loc[lambda r: r["is_ldc"], "code"].to_numpy())
    income = _income_groups(codes, developed)
    rows: list[tuple[str, int, np.ndarray | None]] = [("WORLD", 900, np.ones(len(codes), bool))]
    rows += [
        ("More developed regions", 901, developed),
        ("Less developed regions", 902, ~developed),
        ("Least developed countries", 941, ldc),
        ("Less developed regions, excluding least developed countries", 934, ~developed & ~ldc),
    ]
    if revision >= 2017:
        rows += [(n, c, np.isin(income, groups)) for n, c, groups in _INCOME_GROUPS]
    if revision >= 2019:
        rows += [(n, c, np.isin(subregion, members)) for n, c, members in _SDG_REGIONS]
    annex: list[AnnexRow] = []
    for continent, continent_code, (m49_region, m49_subregion) in _CONTINENTS:
        in_continent = region == m49_region if m49_region else subregion == m49_subregion
        rows.append((continent, continent_code, in_continent))
        parts = sorted(set(subregion[in_continent])) if m49_region else [m49_subregion]
        for part in parts:
            members = in_continent & (subregion == part)
            if m49_region:
                rows.append((part, _REGIONS[part], members))
            for i in np.flatnonzero(members):
                rows.append((names[i], int(codes[i]), None))
                region_code = _REGIONS.get(part, continent_code)
                annex.append(
                    (int(codes[i]), names[i], continent, continent_code, part, region_code)
                )
    rows = [row for row in rows if row[2] is None or row[2].any()]
    return Geography(names, codes, rows, sorted(annex), developed)


def _income_groups(codes: np.ndarray, developed: np.ndarray) -> np.ndarray:
    """A synthetic World Bank income group per country (most developed ones high)."""
    rng = np.random.default_rng([SEED, 1])
    groups = np.array(["high", "upper", "lower", "low"], dtype=object)
    draw = rng.choice(4, size=len(codes), p=[0.25, 0.3, 0.3, 0.15])
    draw[developed & (rng.random(len(codes)) < 0.9)] = 0
    return groups[draw]


@dataclass(frozen=True)
class Estimate:
    """One revision's synthetic numbers for its years (countries only; aggregates are
    summed when written). Origins: the countries, then Other North, Other South."""

    years: list[int]
    male: np.ndarray  # year x destination x origin
    female: np.ndarray
    population_male: np.ndarray  # year x destination
    population_female: np.ndarray
    refugees: np.ndarray  # year x destination
    data_types: dict[int, str]


def estimate(entry: Revision, geo: Geography, seed: int = SEED) -> Estimate:
    """The numbers of revision ``entry``: one synthetic world (``seed``), estimated
    with the revision's own small differences (``[seed, revision]``)."""
    world = _world(len(geo.codes), seed)
    rng = np.random.default_rng([seed, entry.revision])
    n = len(geo.codes)
    years = list(entry.years)
    male = np.zeros((len(years), n, n + 2), dtype=np.int64)
    female = np.zeros_like(male)
    population_male = np.zeros((len(years), n), dtype=np.int64)
    population_female = np.zeros_like(population_male)
    refugees = np.zeros_like(population_male)
    revision_noise = rng.normal(0, 0.015, n)
    for k, year in enumerate(years):
        t = year - ALL_YEARS[0]
        population = world["population"] * np.exp(world["growth"] * t)
        logit = np.log(world["share"] / (1 - world["share"])) + world["drift"] * t
        share = np.clip(1 / (1 + np.exp(-logit)), 0.002, 0.9)
        shock = np.where(world["shock_year"] == year, world["shock"], 1.0)
        migrants = population * share * shock * np.exp(revision_noise + rng.normal(0, 0.01, n))
        migrants = np.maximum(np.round(np.minimum(migrants, 0.95 * population)), 50).astype(
            np.int64
        )
        weights = world["weights"] * np.exp(world["trend"] * t / 34)
        cells = rng.multinomial(migrants, weights / weights.sum(axis=1, keepdims=True))
        male[k] = rng.binomial(cells, world["male_share"])
        female[k] = cells - male[k]
        natives = np.round(population).astype(np.int64) - migrants
        natives_male = rng.binomial(np.maximum(natives, 0), 0.495)
        population_male[k] = male[k].sum(axis=1) + natives_male
        population_female[k] = female[k].sum(axis=1) + natives - natives_male
        fraction = np.clip(world["refugees"] * np.exp(rng.normal(0, 0.2, n)), 0, 0.6)
        refugees[k] = rng.binomial(migrants, fraction)
    letters = np.array(["B", "C", "I"])[world["basis"]]
    data_types = {
        int(code): f"{letter} R" if added else str(letter)
        for code, letter, added in zip(geo.codes, letters, world["refugees_added"], strict=True)
    }
    return Estimate(years, male, female, population_male, population_female, refugees, data_types)


@cache
def _world(n: int, seed: int) -> dict[str, np.ndarray]:
    """The synthetic world every revision estimates: per country its 1990 population and
    growth, migrant share and its drift, origins (a sparse, skewed mix), sex ratios."""
    rng = np.random.default_rng(seed)
    population = np.clip(np.exp(rng.normal(np.log(5e6), 1.7, n)), 1_500, 1.4e9)
    share = np.clip(rng.beta(1.3, 14, n), 0.002, 0.85)
    propensity = np.exp(rng.normal(0, 1.2, n))  # how many emigrants an origin sends
    active = np.clip(np.round(np.exp(rng.normal(np.log(75), 0.5, n))), 5, n - 1).astype(int)
    weights = np.zeros((n, n + 2))
    for destination in range(n):
        p = propensity.copy()
        p[destination] = 0
        chosen = rng.choice(n, size=active[destination], replace=False, p=p / p.sum())
        weights[destination, chosen] = propensity[chosen] * np.exp(rng.normal(0, 1.0, len(chosen)))
    known = weights[:, :n].sum(axis=1)
    weights[:, n] = known * rng.uniform(0.005, 0.03, n)  # Other North
    weights[:, n + 1] = known * rng.uniform(0.01, 0.05, n)  # Other South
    trend = np.where(weights > 0, rng.normal(0, 0.5, weights.shape), 0)
    # a few countries see a wave in one year (the year-over-year warnings real tables raise)
    shock_year = np.where(rng.random(n) < 0.08, rng.choice(ALL_YEARS[1:], n), 0)
    male_share = np.clip(
        0.5 + rng.normal(0.02, 0.06, (n, 1)) + rng.normal(0, 0.04, (n, n + 2)), 0.2, 0.85
    )
    return {
        "population": population,
        "growth": rng.normal(0.012, 0.008, n),
        "share": share,
        "drift": rng.normal(0.012, 0.012, n),
        "weights": weights,
        "trend": trend,
        "male_share": male_share,
        "shock_year": shock_year,
        "shock": np.exp(rng.normal(np.log(2.5), 0.2, n)),
        "refugees": rng.beta(1.2, 9, n),
        "refugees_added": rng.random(n) < 0.45,
        "basis": rng.choice(3, size=n, p=[0.6, 0.3, 0.1]),
    }


@dataclass(frozen=True)
class Sums:
    """The estimate with the aggregates summed: destination rows in workbook order."""

    male: np.ndarray  # year x destination row x (countries, Other North, Other South)
    female: np.ndarray
    total: np.ndarray
    population_male: np.ndarray  # year x destination row
    population_female: np.ndarray
    refugees: np.ndarray


def summed(geo: Geography, numbers: Estimate) -> Sums:
    """Every destination row's numbers: a country's own, an aggregate's summed."""
    index = {int(code): i for i, code in enumerate(geo.codes)}
    matrix = np.zeros((len(geo.rows), len(geo.codes)), dtype=np.int64)
    for row, (_, code, members) in enumerate(geo.rows):
        if members is None:
            matrix[row, index[code]] = 1
        else:
            matrix[row] = members
    male = np.einsum("rd,ydo->yro", matrix, numbers.male)
    female = np.einsum("rd,ydo->yro", matrix, numbers.female)
    return Sums(
        male,
        female,
        male + female,
        numbers.population_male @ matrix.T,
        numbers.population_female @ matrix.T,
        numbers.refugees @ matrix.T,
    )


def _sex(sums: Sums, sex: str) -> np.ndarray:
    return {"total": sums.total, "male": sums.male, "female": sums.female}[sex]


def _wide_cells(values: np.ndarray, is_country: bool) -> list[object]:
    """One destination row of a wide table: Total, Other North, Other South, the
    countries; a country's empty cells blank, an aggregate's written 0 (as the UN does)."""
    n = len(values) - 2
    cells = [int(values.sum()), int(values[n]), int(values[n + 1]), *values[:n].tolist()]
    if is_country:
        return [value if value else None for value in cells]
    return cells


def write_bilateral(path: Path, entry: Revision, geo: Geography, numbers: Estimate) -> int:
    """The bilateral workbook of ``entry`` in its layout; returns its tidy row count."""
    sums = summed(geo, numbers)
    layout = entry.file("bilateral").layout
    destinations = geo.destinations
    is_country = [members is None for _, _, members in geo.rows]
    total_label = "World" if entry.revision <= 2013 else "Total"
    origins = [total_label, "Other North", "Other South", *geo.names]
    if layout == "origin_matrix":
        tables = []
        for k, year in enumerate(numbers.years):
            for sex in SEXES:
                values = _sex(sums, sex)[k]
                tables.append(
                    (
                        len(tables) + 1,
                        sex,
                        year,
                        {
                            code: _wide_cells(values[row], is_country[row])
                            for row, (_, code) in enumerate(destinations)
                        },
                    )
                )
        more = (
            {int(c): "Yes" if d else "No" for c, d in zip(geo.codes, geo.developed, strict=True)}
            if entry.revision <= 2013
            else None
        )
        write_wide_origins(
            path,
            entry.revision,
            tables,
            destinations,
            origins,
            more=more,
            data_types=numbers.data_types,
            annex=geo.annex,
            note=SYNTHETIC_NOTE,
        )
        return len(tables) * len(destinations) * len(origins)
    if layout == "year_rows":
        by_sex = {
            sex: [
                [year, name, *_wide_cells(_sex(sums, sex)[k, row], is_country[row])]
                for k, year in enumerate(numbers.years)
                for row, (name, _) in enumerate(destinations)
            ]
            for sex in SEXES
        }
        write_year_rows(
            path,
            entry.revision,
            by_sex,
            origins,
            dict(destinations),
            data_types=numbers.data_types,
            annex=geo.annex,
            note=SYNTHETIC_NOTE,
        )
        return 3 * len(numbers.years) * len(destinations) * len(origins)
    rows = _long_rows(geo, sums)
    write_long_rows(
        path,
        entry.revision,
        numbers.years,
        rows,
        data_types=numbers.data_types,
        note=SYNTHETIC_NOTE,
    )
    return len(rows) * len(numbers.years) * 3


def _long_rows(
    geo: Geography, sums: Sums
) -> list[tuple[Destination, tuple[str, int | None], dict[str, list[object]]]]:
    """2020/2024: per destination, World, the aggregates, the countries and "Others",
    each only where some year has migrants (as the UN lists the pairs that exist)."""
    n = len(geo.codes)
    aggregates = geo.aggregates
    masks = np.array([m for _, _, m in aggregates], dtype=np.int64)
    origin_names = (
        [("WORLD", 900)]
        + [(name, code) for name, code, _ in aggregates if code != 900]
        + list(zip(geo.names, geo.codes.tolist(), strict=True))
        + [("Others", None)]
    )
    rows = []
    for row, destination in enumerate(geo.destinations):
        per_sex = {}
        for sex in SEXES:
            values = _sex(sums, sex)[:, row]  # year x origin
            countries = values[:, :n]
            per_sex[sex] = np.concatenate(
                [
                    values.sum(axis=1, keepdims=True),
                    (countries @ masks.T)[:, [i for i, a in enumerate(aggregates) if a[1] != 900]],
                    countries,
                    values[:, n:].sum(axis=1, keepdims=True),
                ],
                axis=1,
            )  # year x listed origin
        present = per_sex["total"].any(axis=0)
        for j in np.flatnonzero(present):
            rows.append(
                (
                    destination,
                    origin_names[j],
                    {sex: per_sex[sex][:, j].tolist() for sex in SEXES},
                )
            )
    return rows


def write_totals(path: Path, entry: Revision, geo: Geography, numbers: Estimate) -> int:
    """The destination-totals workbook of ``entry`` in its layout (Tables 1-6; 2024 1-5,
    no refugee table); returns its tidy row count."""
    sums = summed(geo, numbers)
    destinations = geo.destinations
    total = sums.total.sum(axis=2)
    male = sums.male.sum(axis=2)
    rows = {
        place: {
            "total": total[:, i].tolist(),
            "male": male[:, i].tolist(),
            "female": (total[:, i] - male[:, i]).tolist(),
        }
        for i, place in enumerate(destinations)
    }
    population = {
        place: {
            "total": (sums.population_male[:, i] + sums.population_female[:, i]).tolist(),
            "male": sums.population_male[:, i].tolist(),
            "female": sums.population_female[:, i].tolist(),
        }
        for i, place in enumerate(destinations)
    }
    refugees = (
        {place: sums.refugees[:, i].tolist() for i, place in enumerate(destinations)}
        if entry.revision < 2024
        else None
    )
    style: TotalsStyle = "classic" if entry.revision < 2020 else str(entry.revision)  # type: ignore[assignment]
    notes = {
        code: (number, text)
        for number, (codes, text) in enumerate(_NOTES, start=1)
        for code in codes
        if code in set(geo.codes.tolist())
    }
    write_destination_totals(
        path,
        entry.revision,
        numbers.years,
        rows,
        population=population,
        refugees=refugees,
        data_types=numbers.data_types,
        notes=notes,
        style=style,
        derived=True,
        annex=geo.annex if style == "classic" else None,
        note=SYNTHETIC_NOTE,
    )
    return len(destinations) * len(numbers.years) * 3


def write_one(
    directory: Path,
    revision: int,
    dataset: Dataset,
    seed: int = SEED,
    subset: Sequence[int] | None = None,
) -> dict[str, object]:
    """Write one catalog workbook into ``directory``; what was written, for the manifest."""
    started = time.perf_counter()
    entry = next(e for e in CATALOG if e.revision == revision)
    geo = geography(revision, subset)
    numbers = estimate(entry, geo, seed)
    path = directory / entry.file(dataset).file_name
    writer = write_bilateral if dataset == "bilateral" else write_totals
    rows = writer(path, entry, geo, numbers)
    return {
        "file": path.name,
        "revision": revision,
        "dataset": dataset,
        "layout": entry.file(dataset).layout,
        "tidy_rows": rows,
        "destinations": len(geo.rows),
        "bytes": path.stat().st_size,
        "seconds": round(time.perf_counter() - started, 2),
    }


def write_scale_workbooks(
    directory: Path,
    *,
    seed: int = SEED,
    subset: Sequence[int] | None = None,
    processes: int = 2,
) -> dict[str, object]:
    """Write the twelve catalog workbooks into ``directory`` (created), with a manifest
    and a README saying they are synthetic; returns the manifest. ``subset``: only these
    M49 countries (a small version for tests; the aggregates follow)."""
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    jobs = [
        (entry.revision, dataset)
        for entry in CATALOG
        for dataset in ("bilateral", "destination_totals")
    ]
    jobs.sort(key=lambda job: (job[1] != "bilateral", -job[0]))  # the big ones first
    if processes > 1:
        with ProcessPoolExecutor(max_workers=processes) as pool:
            futures = [pool.submit(write_one, directory, r, d, seed, subset) for r, d in jobs]
            files = [future.result() for future in futures]
    else:
        files = [write_one(directory, r, d, seed, subset) for r, d in jobs]
    files.sort(key=lambda f: (f["revision"], f["dataset"]))
    manifest = {
        "synthetic": True,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "subset": list(subset) if subset is not None else None,
        "seconds": round(time.perf_counter() - started, 1),
        "files": files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (directory / README).write_text(
        f"{SYNTHETIC_NOTE}.\n\nThe twelve International Migrant Stock catalog workbooks at "
        f"their real dimensions, written by migstock.demo.scale (seed {seed}, generator "
        f"version {GENERATOR_VERSION}) for scripts/benchmark.py --section scale. The layouts "
        "follow the UN's files; every number is synthetic. Do not use them as data.\n",
        encoding="utf-8",
    )
    return manifest


def cached_manifest(directory: Path, seed: int = SEED) -> dict[str, object] | None:
    """The manifest of a complete folder written earlier with this seed and generator
    version, or None (then the folder must be written again)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        manifest.get("generator_version") != GENERATOR_VERSION
        or manifest.get("seed") != seed
        or manifest.get("subset") is not None
    ):
        return None
    files = manifest.get("files", [])
    complete = len(files) == 2 * len(CATALOG) and all(
        (directory / f["file"]).is_file() and (directory / f["file"]).stat().st_size == f["bytes"]
        for f in files
    )
    return manifest if complete else None
