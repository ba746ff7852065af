"""Births and deaths per place and period, from the UN's World Population Prospects.

The file is WPP's "Demographic indicators" CSV (``WPP2024_Demographic_Indicators_Medium.csv``,
also ``.csv.gz``; WPP 2022 has the same columns), recognised by its header, whatever
its name. Cite it as: United Nations, Department of Economic and Social Affairs,
Population Division (2024). *World Population Prospects 2024*, Online Edition.

Columns read (one row per location and calendar year, counts in thousands):

* ``LocID`` — the location's M49 code (the same codes as the migrant stock tables);
* ``Time`` — the calendar year;
* ``Variant`` — when present, only ``Medium`` rows are read (estimates up to the base
  year, the medium projection after);
* ``Births`` — live births, both sexes; ``SRB`` — sex ratio at birth (male births per
  100 female births; a ratio below 10 is read as per one female birth, as in WPP 2019);
* ``Deaths``, ``DeathsMale``, ``DeathsFemale`` — deaths, both sexes, males, females.

Births by sex are ``Births × SRB / (100 + SRB)`` for males and the rest for females.
For a period from mid-year t0 to mid-year t1, the events of the calendar years t0 and t1
count half and the years between in full. The column names were checked against public
code that reads the 2022 and 2024 files (a database schema of
``WPP2022_Demographic_Indicators_Medium.csv`` and scripts reading ``LocID``, ``Time``
and ``NetMigrations`` of the 2024 file), not against a copy of the file itself: a header
without these columns is not recognised, and :func:`read_wpp_indicators` says which are
missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from migstock.flows.wpp_file import (
    WPP_COLUMNS,
    find_wpp_indicators,
    is_wpp_indicators,
    wpp_header,
)

__all__ = [
    "WPP_COLUMNS",
    "VitalEvents",
    "WppFormatError",
    "find_wpp_indicators",
    "is_wpp_indicators",
    "read_wpp_indicators",
]


class WppFormatError(ValueError):
    """A file that is not WPP's demographic indicators CSV, or lacks its columns."""


@dataclass(frozen=True)
class VitalEvents:
    """Annual births and deaths in persons, by place (M49), calendar year and sex.

    ``table`` has columns ``code``, ``year``, ``sex`` (``total``, ``female``, ``male``),
    ``births``, ``deaths``. Build it from WPP with :func:`read_wpp_indicators`, or from
    any other source with the same columns. ``source`` says where the figures come from.
    """

    table: pd.DataFrame
    source: str = ""

    def period(
        self, codes: NDArray[np.int64], start: int, end: int, sex: str
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
        """Births and deaths per place from mid-year ``start`` to mid-year ``end``.

        The calendar years ``start`` and ``end`` count half, those between in full.
        Returns ``(births, deaths, complete)``; ``complete`` is false when a place or a
        year has no figures (those count as 0).
        """
        t = self.table
        t = t[(t["sex"] == sex) & (t["year"] >= start) & (t["year"] <= end)]
        weight = np.where((t["year"] == start) | (t["year"] == end), 0.5, 1.0)
        w = t.assign(births=t["births"] * weight, deaths=t["deaths"] * weight)
        per = w.groupby("code")[["births", "deaths"]].sum()
        years = t.groupby("code")["year"].nunique()
        idx = pd.Index(codes.astype(int))
        births = per["births"].reindex(idx, fill_value=0.0).to_numpy(dtype=float)
        deaths = per["deaths"].reindex(idx, fill_value=0.0).to_numpy(dtype=float)
        complete = bool((years.reindex(idx, fill_value=0) == end - start + 1).all())
        return births, deaths, complete


def read_wpp_indicators(path: Path) -> VitalEvents:
    """Annual births and deaths by place and sex from WPP's demographic indicators CSV."""
    missing = [c for c in WPP_COLUMNS if c not in wpp_header(path)]
    if missing:
        raise WppFormatError(f"{path}: not WPP demographic indicators, no column {missing}")
    header = wpp_header(path)
    cols = [*WPP_COLUMNS, *(["Variant"] if "Variant" in header else [])]
    df = pd.read_csv(path, usecols=cols, low_memory=False)
    if "Variant" in df.columns:
        df = df[df["Variant"] == "Medium"]
    df = df.dropna(subset=["LocID", "Time"])
    srb = df["SRB"].astype(float)
    srb = srb.where(srb >= 10, srb * 100)  # WPP 2019 gave males per one female birth
    male_share = srb / (100.0 + srb)
    births = df["Births"].astype(float) * 1000
    base = {"code": df["LocID"].astype(int), "year": df["Time"].astype(int)}
    parts = [
        pd.DataFrame({**base, "sex": "total", "births": births,
                      "deaths": df["Deaths"].astype(float) * 1000}),
        pd.DataFrame({**base, "sex": "male", "births": births * male_share,
                      "deaths": df["DeathsMale"].astype(float) * 1000}),
        pd.DataFrame({**base, "sex": "female", "births": births * (1 - male_share),
                      "deaths": df["DeathsFemale"].astype(float) * 1000}),
    ]  # fmt: skip
    table = pd.concat(parts, ignore_index=True).fillna({"births": 0.0, "deaths": 0.0})
    return VitalEvents(table=table, source=path.name)
