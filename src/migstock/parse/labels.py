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
