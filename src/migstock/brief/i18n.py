"""Languages of the brief: messages, country names and number formats.

- Messages live in ``messages.toml`` (one table per message, one key per language).
- Country names come from CLDR through Babel: the M49 numeric code is mapped to
  ISO 3166 alpha-2 with CLDR's own ``territory_aliases`` (no hand-typed code list),
  then ``babel.Locale(lang).territories[iso2]``. Where CLDR's short name differs from
  the UN's official Arabic short name, ``ar_name_overrides.csv`` holds the UN's name.
  English names are the UN's own, as the store holds them (``locations.name``).
- Numbers: Babel's CLDR formats for the language. For Arabic this is a documented
  choice: **Western digits** (0-9, CLDR's default numbering system for ``ar`` and what
  ESCWA's Arabic statistical tables use), with Arabic separators and the Arabic percent
  sign from CLDR. Set ``ARABIC_NUMBERING = "arab"`` for Arabic-Indic digits (٠-٩).
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

from babel import Locale
from babel.core import get_global
from babel.numbers import format_decimal, format_percent

Lang = Literal["en", "ar"]
LANGUAGES: tuple[Lang, ...] = ("en", "ar")

#: digits of the Arabic edition: "latn" (0-9, CLDR's default for ar) or "arab" (٠-٩)
ARABIC_NUMBERING = "latn"


@cache
def _messages() -> dict[str, dict[str, str]]:
    text = resources.files("migstock.brief").joinpath("messages.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def _overrides() -> dict[str, str]:
    """ISO alpha-2 -> the UN's official Arabic short name, where CLDR differs."""
    text = resources.files("migstock.brief").joinpath("ar_name_overrides.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {row["iso2"]: row["name_ar"] for row in rows}


def iso2(m49: int) -> str | None:
    """ISO 3166 alpha-2 code of an M49 numeric code, from CLDR's territory aliases."""
    aliases = get_global("territory_aliases").get(f"{m49:03d}")
    if not aliases:
        return None
    code = aliases[0]
    return code if len(code) == 2 and code.isalpha() else None


@lru_cache(maxsize=65_536, typed=True)
def _decimal(value: float | int, pattern: str, lang: str, numbering: str) -> str:
    """Babel's ``format_decimal``, remembered: a site build formats the same few
    thousand numbers tens of thousands of times."""
    return format_decimal(value, format=pattern, locale=lang, numbering_system=numbering)


@lru_cache(maxsize=65_536, typed=True)
def _percent(value: float, pattern: str, lang: str, numbering: str) -> str:
    """Babel's ``format_percent``, remembered (as ``_decimal``)."""
    return format_percent(value, format=pattern, locale=lang, numbering_system=numbering)


@cache
def _direction(lang: str) -> str:
    return "rtl" if Locale.parse(lang).character_order == "right-to-left" else "ltr"


@dataclass(frozen=True)
class Translator:
    """Everything language-dependent the page needs."""

    lang: Lang

    @property
    def direction(self) -> str:
        return _direction(self.lang)

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"

    def __call__(self, key: str, **values: object) -> str:
        """The message ``key`` in this language, with ``{placeholders}`` filled."""
        try:
            text = _messages()[key][self.lang]
        except KeyError:
            raise KeyError(f"message {key!r} has no {self.lang!r} text in messages.toml") from None
        return text.format(**values) if values else text

    def maybe(self, key: str, default: str) -> str:
        """The message ``key`` if there is one, else ``default`` (e.g. an unknown code)."""
        return self(key) if key in _messages() else default

    def place(self, code: int | None, english: str) -> str:
        """Name of a country (M49 code) or an Arab region (``code`` None) in this language."""
        if code is None:
            return self.maybe(f"region.{english}", english)
        if self.lang == "en":
            return english
        alpha2 = iso2(int(code))
        if alpha2 is None:
            return english
        if self.lang == "ar" and alpha2 in _overrides():
            return _overrides()[alpha2]
        return Locale.parse(self.lang).territories.get(alpha2, english)

    def _numbering(self) -> str:
        return ARABIC_NUMBERING if self.lang == "ar" else "latn"

    def _isolate(self, text: str) -> str:
        """In right-to-left text a number is one left-to-right run (LRI ... PDI), so signs
        and percent signs stay where they belong ("-6.5%", not "%6.5-")."""
        return f"\u2066{text}\u2069" if self.rtl else text

    def number(self, value: float | int | None) -> str:
        """A count, with the language's grouping (41,416,894)."""
        if value is None:
            return "–"
        return self._isolate(_decimal(int(value), "#,##0", self.lang, self._numbering()))

    def signed(self, value: float | int | None) -> str:
        """A change, always with its sign (+1,234 / −1,234)."""
        if value is None:
            return "–"
        pattern = "+#,##0;-#,##0" if value else "0"  # no sign on "no change"
        return self._isolate(_decimal(int(value), pattern, self.lang, self._numbering()))

    def percent(self, value: float | None, signed: bool = False, decimals: int = 1) -> str:
        """A percentage given in percent (33.2 -> "33.2%"): ``decimals`` decimals (one by
        default), two when one decimal would show a non-zero change as 0.0%."""
        if value is None:
            return "–"
        value = value or 0.0  # -0.0 (a rounded tiny decrease) reads as no change
        if decimals == 1 and 0 < abs(value) < 0.05:
            decimals = 2
        digits = "0." + "0" * decimals if decimals else "0"
        pattern = f"+#,##{digits}%;-#,##{digits}%" if signed and value else f"#,##{digits}%"
        return self._isolate(_percent(value / 100, pattern, self.lang, self._numbering()))

    def millions(self, value: float | int | None) -> str:
        """A count in millions, one decimal (41.4)."""
        if value is None:
            return "–"
        return self._isolate(_decimal(value / 1e6, "#,##0.0", self.lang, self._numbering()))

    def year(self, value: int) -> str:
        """Years are never grouped (2024, not 2,024)."""
        return _decimal(int(value), "0", self.lang, self._numbering())

    def decimal(self, value: float | None, decimals: int = 1) -> str:
        """A measure with ``decimals`` decimals, not a percentage (a median age: 33.8)."""
        if value is None:
            return "–"
        digits = "0." + "0" * decimals if decimals else "0"
        pattern = f"#,##{digits}"
        return self._isolate(_decimal(float(value), pattern, self.lang, self._numbering()))

    def ltr(self, text: str) -> str:
        """``text`` as one left-to-right run in a right-to-left page (an age group
        "0–4" must not read "4–0"); unchanged in a left-to-right one."""
        return self._isolate(text)
