"""Remove scraped page chrome from article text; find titles and headings.

The rules are data: ``companion/data/chrome_patterns.yaml`` (form messages,
banners, navigation, share buttons, newsletter / cookie lines, empty
"Last Updated:" stubs, author bios at the end, trailing calls to action).
This module only applies them, line by line, and is deliberately
conservative: whole-line matches, phrase matches only on short lines, and
cuts only in the tail of the page, so that article paragraphs survive.

Used by :mod:`companion.loaders` for scraped inputs (.txt, .html, .pdf).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DEFAULT_PATTERNS_PATH",
    "ChromePatterns",
    "CleanResult",
    "load_patterns",
    "clean",
    "clean_text",
    "normalize_text",
    "extract_title",
    "is_heading_line",
    "to_markdown",
]

#: The reviewed list of chrome patterns shipped with the package.
DEFAULT_PATTERNS_PATH = Path(__file__).resolve().parent / "data" / "chrome_patterns.yaml"

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2032": "'"})
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_WS = re.compile(r"[^\S\n]+")
_LEAD_MARKUP = re.compile(r"^(?:#{1,6}\s+|[-*\u2022\u00b7]\s+)")
_HAS_ALNUM = re.compile(r"\w")


@dataclass(frozen=True)
class ChromePatterns:
    """Compiled chrome rules (see the YAML file for their meaning)."""

    lines: tuple[tuple[str, re.Pattern[str]], ...]
    contains: tuple[tuple[str, re.Pattern[str]], ...]
    contains_max_chars: int
    stub_labels: re.Pattern[str]
    stub_date: re.Pattern[str]
    tail_fraction: float
    tail_markers: tuple[re.Pattern[str], ...]
    bio_openers: tuple[re.Pattern[str], ...]
    name_line: re.Pattern[str]
    max_bio_chars: int
    cta_max_lines: int
    cta_max_chars: int
    cta_patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class CleanResult:
    """Outcome of :func:`clean`.

    ``text``: cleaned text (lines kept in order, at most one blank line in a row).
    ``title``: first heading-like line of the cleaned text, or None.
    ``removed``: how many lines each rule group removed, e.g. ``{"form_messages": 2}``.
    """

    text: str
    title: str | None
    removed: dict[str, int] = field(default_factory=dict)


def _compile(pattern: str, *, whole: bool, ignore_case: bool = True) -> re.Pattern[str]:
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(rf"(?:{pattern})\Z" if whole else pattern, flags)


def _compile_rules(raw: dict[str, Any]) -> ChromePatterns:
    try:
        contains_raw = dict(raw.get("contains") or {})
        max_chars = int(contains_raw.pop("max_line_chars", 320))
        stubs = raw.get("stubs") or {}
        tail = raw.get("tail") or {}
        cta = raw.get("trailing_cta") or {}
        labels = "|".join(f"(?:{p})" for p in stubs.get("labels") or []) or r"(?!x)x"
        return ChromePatterns(
            lines=tuple(
                (group, _compile(p, whole=True))
                for group, pats in (raw.get("lines") or {}).items()
                for p in pats or []
            ),
            contains=tuple(
                (group, _compile(p, whole=False)) for group, pats in contains_raw.items() for p in pats or []
            ),
            contains_max_chars=max_chars,
            stub_labels=re.compile(rf"(?:{labels})\s*:\Z", re.IGNORECASE),
            stub_date=_compile(stubs.get("date") or r"(?!x)x", whole=True),
            tail_fraction=float(tail.get("max_tail_fraction", 0.4)),
            tail_markers=tuple(_compile(p, whole=True) for p in tail.get("markers") or []),
            bio_openers=tuple(re.compile(p) for p in tail.get("bio_openers") or []),
            name_line=_compile(tail.get("name_line") or r"(?!x)x", whole=True, ignore_case=False),
            max_bio_chars=int(tail.get("max_bio_chars", 1500)),
            cta_max_lines=int(cta.get("max_lines", 3)),
            cta_max_chars=int(cta.get("max_line_chars", 240)),
            cta_patterns=tuple(_compile(p, whole=False) for p in cta.get("patterns") or []),
        )
    except (re.error, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"invalid chrome pattern file: {exc}") from exc


@lru_cache(maxsize=8)
def load_patterns(path: Path | str | None = None) -> ChromePatterns:
    """Load and compile the chrome rules (cached per path).

    Raises ``ValueError`` when the YAML is malformed or a regex does not compile,
    ``FileNotFoundError`` when the file is missing.
    """
    p = Path(path) if path else DEFAULT_PATTERNS_PATH
    raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"invalid chrome pattern file {p}: expected a mapping")
    return _compile_rules(raw)


def normalize_text(text: str) -> str:
    """Unicode NFKC, no zero-width / private-use characters, ``\\n`` newlines,
    single spaces inside lines, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.translate(_ZERO_WIDTH)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Co")
    lines = [_WS.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _key(line: str) -> str:
    """The form a line is matched in: straight quotes, no heading / bullet markup."""
    return _LEAD_MARKUP.sub("", line.translate(_QUOTES).strip()).strip()


def _tail_cut(lines: list[str], pats: ChromePatterns) -> tuple[int, str | None]:
    """Index of the first line of a tail block (bio, related links) or len(lines)."""
    total = sum(len(line) + 1 for line in lines)
    start_at = total * (1.0 - pats.tail_fraction)
    offset = 0
    for i, line in enumerate(lines):
        here = offset
        offset += len(line) + 1
        if here < start_at or not line:
            continue
        key = _key(line)
        if any(m.match(key) for m in pats.tail_markers):
            return i, "tail_sections"
        if any(b.match(key) for b in pats.bio_openers) and total - here <= pats.max_bio_chars:
            cut = i
            j = i - 1
            while j >= 0 and not lines[j]:
                j -= 1
            if j >= 0 and pats.name_line.match(_key(lines[j])):
                cut = j
            return cut, "author_bio"
    return len(lines), None


def clean(text: str, patterns: ChromePatterns | None = None) -> CleanResult:
    """Remove page chrome from scraped article ``text``.

    Steps: normalise (:func:`normalize_text`); cut a tail block (author bio,
    "related resources" and all after it) found in the last part of the page;
    drop whole-line chrome and short banner lines; drop empty
    "Last Updated:"-style stubs (and the bare date under them); drop trailing
    calls to action; drop lines with no letter or digit. Returns the cleaned
    text, its title (:func:`extract_title`) and per-rule removal counts.
    """
    pats = patterns or load_patterns()
    removed: Counter[str] = Counter()
    lines = normalize_text(text).split("\n")

    cut, why = _tail_cut(lines, pats)
    if why:
        removed[why] += sum(1 for line in lines[cut:] if line)
        lines = lines[:cut]

    kept: list[str] = []
    skip_date = False
    for line in lines:
        if not line:
            kept.append(line)
            continue
        key = _key(line)
        if skip_date:
            skip_date = False
            if pats.stub_date.match(key):
                removed["stubs"] += 1
                continue
        group = next((g for g, p in pats.lines if p.match(key)), None)
        if group is None and len(key) <= pats.contains_max_chars:
            group = next((g for g, p in pats.contains if p.search(key)), None)
        if group is None and pats.stub_labels.match(key):
            group, skip_date = "stubs", True
        if group is None and not _HAS_ALNUM.search(key):
            group = "symbols"
        if group:
            removed[group] += 1
            continue
        kept.append(line)

    checked = 0
    while kept and checked < pats.cta_max_lines:
        if not kept[-1]:
            kept.pop()
            continue
        key = _key(kept[-1])
        checked += 1
        if len(key) <= pats.cta_max_chars and any(p.search(key) for p in pats.cta_patterns):
            kept.pop()
            removed["trailing_cta"] += 1
        else:
            break

    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return CleanResult(text=cleaned, title=extract_title(cleaned), removed=dict(removed))


def clean_text(text: str, patterns: ChromePatterns | None = None) -> str:
    """Shorthand for ``clean(text).text``."""
    return clean(text, patterns).text


def extract_title(text: str, *, max_chars: int = 200, max_words: int = 30) -> str | None:
    """First non-blank line of (cleaned) ``text`` when it is short enough to be a
    headline (at most ``max_chars`` characters and ``max_words`` words), with
    Markdown heading marks removed; otherwise None."""
    for line in text.split("\n"):
        line = re.sub(r"^#{1,6}\s+", "", line.strip()).strip()
        if not line:
            continue
        if len(line) <= max_chars and len(line.split()) <= max_words:
            return line
        return None
    return None


def is_heading_line(line: str, *, max_words: int = 12, max_chars: int = 90) -> bool:
    """True when a plain-text line looks like a section heading.

    Heuristic: short (``max_words`` words, ``max_chars`` characters), starts
    with a letter or digit, does not end like a sentence fragment
    (``.``, ``,``, ``;``, ``:``, quotes), and is in Title Case (at least 60 %
    of the words longer than three letters are capitalised).
    """
    s = line.strip()
    if not s or len(s) > max_chars or len(s.split()) > max_words:
        return False
    if not s[0].isalnum() or s.startswith("#"):
        return False
    if s[-1] in '.,;:"\'\u201d\u2019)' or s.endswith("..."):
        return False
    words = [w for w in re.split(r"[\s\u2014\u2013/]+", s) if len(w.strip("\"'\u201c\u2018(")) > 3]
    if not words:
        return s[0].isupper()
    caps = sum(1 for w in words if w.strip("\"'\u201c\u2018(")[:1].isupper())
    return caps / len(words) >= 0.6


def to_markdown(text: str, title: str | None = None) -> str:
    """Mark the title (``# ``) and heading-like lines (``## ``) of plain text, so
    that a Markdown-aware splitter can attach section headings to chunks.
    Lines already starting with ``#`` are left alone."""
    out: list[str] = []
    title_done = title is None
    for line in text.split("\n"):
        s = line.strip()
        if not s or s.startswith("#"):
            out.append(line)
        elif not title_done and s == title:
            out.append(f"# {s}")
            title_done = True
        elif is_heading_line(s):
            out.append(f"## {s}")
        else:
            out.append(line)
        if s:
            title_done = True
    return "\n".join(out)
