"""Locale parsing: BCP 47 (``es-MX``) and POSIX (``es_MX.UTF-8@euro``) tags.

Language is not country: ``es`` says nothing about where the person is, so it
yields ``country=None`` and callers fall back to the international resources.

A tiny parser is used on purpose (Babel is not a dependency of this project);
it implements only what routing needs:

* ``language``  -- ISO 639-1/639-2 primary subtag, lower-cased (``"es"``);
* ``country``   -- ISO 3166-1 alpha-2 region subtag, upper-cased (``"MX"``).
  Numeric UN M.49 regions (``es-419``) are not countries and yield ``None``.

A bare two-letter tag is read by case, as people write them: lower case is a
language (``"es"``), upper case is a country (``"MX"``, ``"ES"``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["ParsedLocale", "parse_locale"]

_ALPHA = re.compile(r"^[A-Za-z]+$")


class ParsedLocale(NamedTuple):
    """Result of :func:`parse_locale`: ``(language, country)``, either may be ``None``."""

    language: str | None
    country: str | None


def parse_locale(value: str | None) -> ParsedLocale:
    """Split a locale tag into ``(language, country)``.

    Accepts BCP 47 (``"es-MX"``, ``"zh-Hant-TW"``, ``"en-gb"``), POSIX
    (``"en_GB.UTF-8"``, ``"de_DE@euro"``) and bare codes (``"es"`` is a
    language, ``"MX"`` is a country).

    Never raises: malformed input yields ``ParsedLocale(None, None)``.

    Examples:
        >>> parse_locale("es-MX")
        ParsedLocale(language='es', country='MX')
        >>> parse_locale("en_gb")
        ParsedLocale(language='en', country='GB')
        >>> parse_locale("es")
        ParsedLocale(language='es', country=None)
        >>> parse_locale("MX")
        ParsedLocale(language=None, country='MX')
    """
    if not value or not isinstance(value, str):
        return ParsedLocale(None, None)
    tag = value.strip()
    # POSIX: drop codeset and modifier (en_US.UTF-8@euro -> en_US).
    tag = tag.split(".", 1)[0].split("@", 1)[0]
    if not tag or tag.upper() in {"C", "POSIX"}:
        return ParsedLocale(None, None)
    parts = [p for p in re.split(r"[-_]", tag) if p]
    if not parts:
        return ParsedLocale(None, None)

    first = parts[0]
    if len(parts) == 1:
        if len(first) == 2 and _ALPHA.match(first):
            if first.isupper():
                return ParsedLocale(None, first)
            return ParsedLocale(first.lower(), None)
        if 2 <= len(first) <= 3 and _ALPHA.match(first):
            return ParsedLocale(first.lower(), None)
        return ParsedLocale(None, None)

    language: str | None = None
    if 2 <= len(first) <= 3 and _ALPHA.match(first):
        language = first.lower()
    elif first.lower() not in {"und"}:
        return ParsedLocale(None, None)

    country: str | None = None
    for sub in parts[1:]:
        if len(sub) == 1:  # extension / private-use singleton: stop
            break
        if len(sub) == 4 and _ALPHA.match(sub):  # script, e.g. Hant
            continue
        if len(sub) == 2 and _ALPHA.match(sub):
            country = sub.upper()
            break
        if len(sub) == 3 and sub.isdigit():  # UN M.49 area, e.g. 419: not a country
            break
        # variants (e.g. "valencia") and anything else: ignore
    return ParsedLocale(language, country)
