"""Build ``src/migstock/reference/m49_countries.csv`` from the UNSD M49 overview.

The UNSD "Standard country or area codes for statistical use (M49)" overview is a
public standard. Usage::

    python scripts/build_m49_reference.py ../shared/data/reference/unsd_m49_overview.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

#: Areas the UN migrant stock tables code that the M49 overview does not list.
EXTRA_AREAS = [
    {
        "code": 158,
        "name": "China, Taiwan Province of China",
        "iso3": "TWN",
        "un_region": "Asia",
        "un_subregion": "Eastern Asia",
        "is_ldc": False,
    },
    {
        "code": 830,
        "name": "Channel Islands",
        "iso3": None,
        "un_region": "Europe",
        "un_subregion": "Northern Europe",
        "is_ldc": False,
    },
]

OUT = Path(__file__).resolve().parents[1] / "src" / "migstock" / "reference" / "m49_countries.csv"


def main(source: str) -> None:
    overview = pd.read_csv(source, dtype=str, encoding="utf-8-sig")
    table = pd.DataFrame(
        {
            "code": overview["M49 Code"].astype(int),
            "name": overview["Country or Area"],
            "iso3": overview["ISO-alpha3 Code"],
            "un_region": overview["Region Name"],
            "un_subregion": overview["Sub-region Name"],
            "is_ldc": overview["Least Developed Countries (LDC)"].fillna("").str.strip().eq("x"),
        }
    )
    table = pd.concat([table, pd.DataFrame(EXTRA_AREAS)], ignore_index=True).sort_values("code")
    table.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {len(table)} countries to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
