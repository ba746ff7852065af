"""The Arab region: the 22 League of Arab States members and ESCWA's sub-regions.

No UN table carries an Arab-region aggregate; it is always summed from these
22 M49 codes. (The UN "Northern Africa and Western Asia" region is not it.)
"""

from __future__ import annotations

ARAB_SUBREGIONS: dict[str, tuple[int, ...]] = {
    "GCC": (48, 414, 512, 634, 682, 784),
    "Mashreq": (818, 368, 400, 422, 275, 760),
    "Maghreb": (12, 434, 504, 788),
    "Arab LDCs": (174, 262, 478, 706, 729, 887),
}

ARAB_SUBREGION_OF: dict[int, str] = {
    code: subregion for subregion, codes in ARAB_SUBREGIONS.items() for code in codes
}
ARAB_COUNTRIES: frozenset[int] = frozenset(ARAB_SUBREGION_OF)

WORLD = 900
FIRST_AGGREGATE_CODE = 900
