"""Country notes and the type of data of each destination.

Tables carry, per destination, a notes column ("Notes", "Notes of destination",
2024 "Coverage") holding note numbers, and a "Type of data" column (2024 "Data
type") with letters: B foreign-born, C citizenship, I imputed, R refugees added.
The numbered notes are written out on a notes sheet (2015-2019 "NOTES", 2020
"Notes", 2024 "Migrant notes"; the 2024 "Population notes" belong to Table 2's
population figures and are not country notes of the migrant stock).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import ftfy
import numpy as np
import pandas as pd

from migstock.parse.cells import text
from migstock.parse.labels import find_label, normalize_label

_NOTE_KEY = re.compile(r"^\(?(\d{1,3})\)?\.?$")
_NOTE_NUMBERS = re.compile(r"\d{1,3}")
_LETTERS = re.compile(r"[A-Za-z]")
#: how far down a notes sheet its title ("Notes", "NOTES") may be
_TITLE_ROWS = 20
_NOTES_TITLES = {"notes", "migrant notes"}
_POPULATION_NOTES = re.compile(r"pertain to (the )?total population", re.I)


def is_notes_sheet(grid: pd.DataFrame) -> bool:
    """A sheet titled "Notes" whose notes are about the migrant stock."""
    titled = any(
        normalize_label(value) in _NOTES_TITLES
        for row in range(min(len(grid), _TITLE_ROWS))
        for value in grid.iloc[row].tolist()
        if isinstance(value, str)
    )
    if not titled:
        return False
    texts = grid.to_numpy(dtype=object).ravel()
    return not any(isinstance(v, str) and _POPULATION_NOTES.search(v) for v in texts)


def parse_notes(grid: pd.DataFrame) -> dict[int, str]:
    """Numbered notes: number -> text, mojibake repaired ("RÃ©union" -> "Réunion").

    A note is a row whose first filled cell is a number ("3", 3.0, "(3)") and whose
    next filled cell is its text. Lettered notes (a), (b), ... describe the columns
    and the aggregates, not countries, and are left out.
    """
    notes: dict[int, str] = {}
    for row in grid.itertuples(index=False):
        cells = [text(v) for v in row if text(v)]
        if len(cells) < 2:
            continue
        match = _NOTE_KEY.match(cells[0])
        if match:
            notes.setdefault(int(match.group(1)), ftfy.fix_text(cells[1]))
    return notes


def destination_annotations(
    grid: pd.DataFrame, header_labels: Sequence[object], rows: np.ndarray, codes: np.ndarray
) -> tuple[dict[int, str], dict[int, list[int]]]:
    """Per destination code: its type-of-data letters ("C R") and its note numbers,
    from the data rows ``rows`` (grid positions) of a table. The first row of a
    destination wins (long tables repeat it for every origin)."""
    data_types: dict[int, str] = {}
    note_refs: dict[int, list[int]] = {}
    type_col = find_label(header_labels, "data_type")
    notes_col = find_label(header_labels, "notes")
    first = pd.Series(range(len(codes))).groupby(codes, sort=False).first()
    for code, position in first.items():
        row = int(rows[position])
        if type_col is not None:
            letters = _letters(grid.iat[row, type_col])
            if letters:
                data_types[int(code)] = letters
        if notes_col is not None:
            numbers = _note_numbers(grid.iat[row, notes_col])
            if numbers:
                note_refs[int(code)] = numbers
    return data_types, note_refs


def _letters(value: object) -> str:
    """'C R', 'CR', 'B R ' -> 'C R', 'C R', 'B R' (letters, upper case, one space)."""
    return " ".join(ch.upper() for ch in _LETTERS.findall(text(value)))


def _note_numbers(value: object) -> list[int]:
    """Note numbers of a notes cell: 3.0, '3', '(12)', '1, 5'; letters are not country notes."""
    return [int(n) for n in _NOTE_NUMBERS.findall(text(value))]
