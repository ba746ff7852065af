"""Location names as text that is safe to store, compare and print.

Workbooks are input from anywhere: a name may hold bidirectional controls
(U+202B ...), zero-width or other invisible characters, decomposed accents, or a
megabyte of text. :func:`normalise_name` gives the one canonical form.
"""

from __future__ import annotations

import unicodedata

from migstock.errors import MigstockError

#: the longest real name ("United Kingdom of Great Britain and Northern Ireland") has 52
MAX_NAME_CHARS = 200
#: control, format (bidi, zero-width), private-use, surrogate and unassigned characters
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn"}


class NameTooLong(MigstockError):
    """A location name longer than :data:`MAX_NAME_CHARS`."""


def normalise_name(name: str) -> str:
    """NFC, invisible and control characters removed, white space collapsed, length capped.

    Raises :class:`NameTooLong` when more than :data:`MAX_NAME_CHARS` characters remain.
    """
    if not (name.isascii() and name.isprintable()):
        name = unicodedata.normalize("NFC", name)
        name = "".join(
            " " if ch.isspace() else ch
            for ch in name
            if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES
        )
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise NameTooLong(
            f"a location name of {len(name):,} characters ({name[:40]!r}...); "
            f"names longer than {MAX_NAME_CHARS} are refused"
        )
    return name
