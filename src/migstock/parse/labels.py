"""One tolerant matcher for the header labels of every layout.

UN workbooks write the same label in many ways: ``Sort\\norder``, ``Type of
data (a)``, ``Country code`` / ``Code`` / ``Location code of destination``,
``Total population of both sexes at mid-year (thousands)g``, non-breaking
spaces, trailing ``*``. :func:`normalize_label` reduces a cell to a canonical
form (case folded, one space, no footnote markers), and every parser asks
:data:`LABELS` whether a cell is the label it looks for, so a new spelling is
one pattern here, not a fix in each parser.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

import numpy as np

LabelName = Literal[
    "destination",
    "origin",
    "destination_code",
    "origin_code",
    "index",
    "notes",
    "data_type",
    "year",
    "total_origin",
]

#: footnote markers at the end of a label: "(a)", "a)", "*", "**", "†", "[1]", a
#: trailing note letter or number glued to a closing bracket ("(thousands)g")
_TRAILING_MARKER = re.compile(
    r"(\s*(\(\s*[a-z0-9]{1,2}\s*\)|\[\s*[a-z0-9]{1,2}\s*\]|\s[a-z0-9]\)|\*+|†+|‡+|\s\d{1,2}))+$"
    r"|(?<=\))[a-z0-9]{1,2}$"
)
_SPACE = re.compile(r"[\s\u00a0\u2007\u2009\u202f]+")


def normalize_label(value: object) -> str:
    """A header cell as a canonical label: NFKC, case folded, single spaces, no
    footnote markers. ``'Type of\\u00a0data (a)'`` -> ``'type of data'``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    label = unicodedata.normalize("NFKC", str(value)).casefold()
    label = _SPACE.sub(" ", label).strip()
    while True:
        stripped = _TRAILING_MARKER.sub("", label).strip()
        if stripped == label:
            return label
        label = stripped


def _full(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"^(?:" + "|".join(alternatives) + r")$")


_AREA = r"(?:(?:major area|region|development group|subregion), )*(?:country or area|country)"

#: what each label looks like once normalised (see :func:`normalize_label`)
LABELS: dict[LabelName, re.Pattern[str]] = {
    # "Major area, region, country or area of destination", "Region, development group,
    # country or area", "Country or area of destination", "Destination"
    "destination": _full(rf"{_AREA}(?: of destination)?", r"destination"),
    # a long table's origin-name column, or the label spanning a wide table's origins
    "origin": _full(rf"{_AREA} of origin", r"origin"),
    "destination_code": _full(
        r"(?:country |location |area |m49 )?code(?: of destination)?",
        r"destination code",
    ),
    "origin_code": _full(r"(?:country |location |area |m49 )?code of origin", r"origin code"),
    "index": _full(r"index", r"sort order", r"no\.?"),
    "notes": _full(r"notes?(?: of destination)?", r"coverage", r"(?:migrant|population) notes"),
    "data_type": _full(r"type of data(?: of destination)?", r"data type"),
    "year": _full(r"year"),
    "total_origin": _full(r"total", r"world"),
}


def is_label(value: object, name: LabelName) -> bool:
    """Whether a cell reads as the label ``name``."""
    return bool(LABELS[name].match(normalize_label(value)))


def find_label(values: Sequence[object], name: LabelName, start: int = 0) -> int | None:
    """Column of the first cell from ``start`` on that reads as ``name``."""
    pattern = LABELS[name]
    for col in range(start, len(values)):
        if pattern.match(normalize_label(values[col])):
            return col
    return None


#: the UN's five-year age bands of migrants and population, as it writes them, youngest first
AGE_BANDS: tuple[str, ...] = (
    *(f"{start}-{start + 4}" for start in range(0, 75, 5)),
    "75+",
)
#: every ``age_group`` of the age tables: the bands and ``total`` (all ages)
AGE_GROUPS: tuple[str, ...] = (*AGE_BANDS, "total")

_AGE_RANGE = re.compile(
    r"^(\d{1,3})\s*(?:-|\u2010|\u2011|\u2012|\u2013|\u2014|to)\s*(\d{1,3})(?: years?)?$"
)
_AGE_OPEN = re.compile(r"^(\d{1,3})\s*(?:\+|(?:years? )?(?:and|or) (?:over|older|above|more))$")
_AGE_TOTAL = re.compile(r"^(?:total|all ages|total, all ages)$")
#: footnote markers an age header may carry ("15-19*", "75+ (a)"); a trailing number is part
#: of the band here, so the general :data:`_TRAILING_MARKER` does not apply
_AGE_MARKER = re.compile(r"\s*(?:\(\s*[a-z]\s*\)|\*+|†+)$")


def age_group(value: object) -> str | None:
    """An age header cell as the UN writes its age groups: ``' 15-19'``, ``'15 - 19'``,
    ``'15–19'`` -> ``'15-19'``; ``'75 +'``, ``'75 and over'`` -> ``'75+'``; ``'Total'`` ->
    ``'total'``. Any other range ("75-79") comes back as written, for the parser to name;
    None for a cell that is no age group."""
    if value is None or not isinstance(value, str):
        return None
    label = _SPACE.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()
    label = _AGE_MARKER.sub("", label).strip()
    if _AGE_TOTAL.match(label):
        return "total"
    match = _AGE_RANGE.match(label)
    if match:
        return f"{int(match.group(1))}-{int(match.group(2))}"
    match = _AGE_OPEN.match(label)
    if match:
        return f"{int(match.group(1))}+"
    return None


def is_age_band(value: object) -> bool:
    """Whether a cell reads as one of the UN's age bands (``0-4`` ... ``75+``)."""
    return age_group(value) in AGE_BANDS
