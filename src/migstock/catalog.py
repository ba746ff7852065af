"""The known revisions of International Migrant Stock and their files.

A revision is data, not code: adding one is a new ``Revision`` entry, plus a
parser only if the UN changed its template. Any download URL can be overridden
by the user (see :func:`apply_url_overrides`), because old UN URLs move.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from migstock.errors import MigstockError

Dataset = Literal["bilateral", "destination_totals", "age"]
Layout = Literal[
    "origin_matrix",
    "year_rows",
    "long_rows",
    "destination_totals",
    # migrants and total population by age and sex: one sheet per year (2015), or a Year
    # column (2017, 2019, 2020); the 2013 layout has never been seen, so it is refused
    "age_sheets",
    "age_year_rows",
    "age_unknown",
]
DATASETS: tuple[Dataset, ...] = ("bilateral", "destination_totals", "age")
#: the age layouts migstock reads (a catalog file of another age layout is refused)
AGE_LAYOUTS: tuple[Layout, ...] = ("age_sheets", "age_year_rows")

LICENCE = "CC BY 3.0 IGO"
_NEW_SITE = "https://www.un.org/development/desa/pd/sites/www.un.org.development.desa.pd/files/"
_OLD_SITE = "https://www.un.org/en/development/desa/population/migration/data/estimates2/data/"


@dataclass(frozen=True)
class SourceFile:
    """One official workbook of a revision."""

    revision: int
    dataset: Dataset
    file_name: str
    url: str
    layout: Layout
    #: Other names the same table has been published or saved under.
    alternative_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Revision:
    """One published revision: its reference years, citation and files."""

    revision: int
    title: str
    published: str
    years: tuple[int, ...]
    files: tuple[SourceFile, ...]
    #: whether its destination-totals workbook publishes the refugee table (Table 6):
    #: a workbook of such a revision that lacks it is incomplete, and refused
    refugee_table: bool = False

    @property
    def citation(self) -> str:
        return (
            "United Nations Department of Economic and Social Affairs, Population Division "
            f"({self.revision}). {self.title}."
        )

    def file(self, dataset: Dataset) -> SourceFile:
        for source in self.files:
            if source.dataset == dataset:
                return source
        raise KeyError(f"revision {self.revision} has no {dataset} file")

    def has(self, dataset: Dataset) -> bool:
        """Whether the revision publishes a workbook of ``dataset`` (2024: no age workbook)."""
        return any(source.dataset == dataset for source in self.files)


def _revision(
    revision: int,
    title: str,
    published: str,
    years: tuple[int, ...],
    *,
    site: str,
    bilateral: str,
    totals: str,
    bilateral_layout: Layout,
    bilateral_alternatives: tuple[str, ...] = (),
    refugee_table: bool = False,
    age: str | None = None,
    age_layout: Layout = "age_year_rows",
) -> Revision:
    files = [
        SourceFile(
            revision,
            "bilateral",
            bilateral,
            site + bilateral,
            bilateral_layout,
            bilateral_alternatives,
        ),
        SourceFile(revision, "destination_totals", totals, site + totals, "destination_totals"),
    ]
    if age is not None:  # migrants by age and sex (2013-2020; 2024 publishes none)
        files.append(SourceFile(revision, "age", age, site + age, age_layout))
    return Revision(
        revision=revision,
        title=title,
        published=published,
        years=years,
        files=tuple(files),
        refugee_table=refugee_table,
    )


_FIVE_YEARLY = (1990, 1995, 2000, 2005, 2010, 2015)

CATALOG: tuple[Revision, ...] = (
    _revision(
        2013,
        "Trends in International Migrant Stock: The 2013 Revision",
        "2013-09",
        (1990, 2000, 2010, 2013),
        site=_OLD_SITE,
        bilateral="UN_MigrantStockByOriginAndDestination_2013.xls",
        totals="UN_MigrantStock_2013.xls",
        bilateral_layout="origin_matrix",
        bilateral_alternatives=tuple(
            f"UN_MigrantStockByOriginAndDestination_2013T{n}.xls" for n in range(1, 13)
        ),
        age="UN_MigrantStockByAge_2013.xls",
        age_layout="age_unknown",
    ),
    _revision(
        2015,
        "Trends in International Migrant Stock: The 2015 Revision",
        "2015-12",
        _FIVE_YEARLY,
        site=_OLD_SITE,
        bilateral="UN_MigrantStockByOriginAndDestination_2015.xlsx",
        totals="UN_MigrantStockTotal_2015.xlsx",
        refugee_table=True,
        bilateral_layout="origin_matrix",
        age="UN_MigrantStockByAge_2015.xlsx",
        age_layout="age_sheets",
    ),
    _revision(
        2017,
        "Trends in International Migrant Stock: The 2017 Revision",
        "2017-12",
        (*_FIVE_YEARLY, 2017),
        site=_OLD_SITE,
        bilateral="UN_MigrantStockByOriginAndDestination_2017.xlsx",
        totals="UN_MigrantStockTotal_2017.xlsx",
        refugee_table=True,
        bilateral_layout="year_rows",
        age="UN_MigrantStockByAge_2017.xlsx",
    ),
    _revision(
        2019,
        "International Migrant Stock 2019",
        "2019-09",
        (*_FIVE_YEARLY, 2019),
        site=_OLD_SITE,
        bilateral="UN_MigrantStockByOriginAndDestination_2019.xlsx",
        totals="UN_MigrantStockTotal_2019.xlsx",
        refugee_table=True,
        bilateral_layout="year_rows",
        age="UN_MigrantStockByAgeAndSex_2019.xlsx",
    ),
    _revision(
        2020,
        "International Migrant Stock 2020",
        "2020-12",
        (*_FIVE_YEARLY, 2020),
        site=_NEW_SITE,
        bilateral="undesa_pd_2020_ims_stock_by_sex_destination_and_origin.xlsx",
        totals="undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx",
        refugee_table=True,
        bilateral_layout="long_rows",
        age="undesa_pd_2020_ims_stock_by_age_sex_and_destination.xlsx",
    ),
    _revision(
        2024,
        "International Migrant Stock 2024",
        "2025-01",
        (*_FIVE_YEARLY, 2020, 2024),
        site=_NEW_SITE,
        bilateral="undesa_pd_2024_ims_stock_by_sex_destination_and_origin.xlsx",
        totals="undesa_pd_2024_ims_stock_by_sex_and_destination.xlsx",
        bilateral_layout="long_rows",
    ),
)


def revision(number: int, catalog: tuple[Revision, ...] = CATALOG) -> Revision:
    """The catalog entry of one revision."""
    for entry in catalog:
        if entry.revision == number:
            return entry
    known = ", ".join(str(entry.revision) for entry in catalog)
    raise MigstockError(f"unknown revision {number}; the catalog knows {known}")


def apply_url_overrides(
    overrides: dict[str, str], catalog: tuple[Revision, ...] = CATALOG
) -> tuple[Revision, ...]:
    """Return the catalog with some download URLs replaced.

    Keys are ``"REVISION/DATASET"``, e.g. ``"2020/bilateral"`` or ``"2019/age"``.
    """
    remaining = dict(overrides)
    updated = []
    for entry in catalog:
        files = []
        for source in entry.files:
            url = remaining.pop(f"{source.revision}/{source.dataset}", source.url)
            files.append(replace(source, url=url))
        updated.append(replace(entry, files=tuple(files)))
    if remaining:
        raise MigstockError(
            f"URL override for unknown file(s) {sorted(remaining)}: use REVISION/DATASET with "
            f"DATASET one of {', '.join(DATASETS)}"
        )
    return tuple(updated)


def load_url_overrides(path: Path) -> dict[str, str]:
    """Read ``[urls]`` from a TOML file: ``"2020/bilateral" = "https://..."``."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise MigstockError(f"{path}: cannot read URL overrides: {error}") from error
    urls = document.get("urls", {})
    if not isinstance(urls, dict) or not all(isinstance(v, str) for v in urls.values()):
        raise MigstockError(f'{path}: [urls] must map "REVISION/DATASET" to a URL string')
    return urls
