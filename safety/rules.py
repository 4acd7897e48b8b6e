"""Layer 2 of the screener: per-language rules, with negation, idiom and past-tense handling.

The rules are *data*: ``safety/data/patterns/<lang>.yaml`` (en, es, fr, de, pt),
one file per language, which a clinician can review. Each pattern has an
``id``, a ``level`` (C-SSRS-style triage, Posner et al. 2011), a ``category``
(see :data:`safety.levels.CATEGORIES`), a regular ``pattern`` and a
``comment`` saying why it exists. This module compiles them and applies them
to a :class:`safety.normalize.Normalized` text.

How one pattern hit becomes evidence (see :func:`match`):

* **idioms / hyperbole** -- an idiom pattern (``this commute is killing me``,
  ``kill -9``, ``I could murder a burrito``, ``I'm dead lol``) whose span
  overlaps the hit suppresses it (``scope: span``); an idiom with
  ``scope: sentence`` suppresses the hits of the listed categories anywhere in
  its sentence (e.g. ``in the game`` for harm-to-others verbs). Patterns with
  ``beats_idioms: true`` (explicit threats: "he threatened to kill me") are
  never suppressed.
* **negation** -- when the words just before the hit, inside the same clause,
  match the language's ``negation.cues`` ("I would never", "I'm not going to")
  and not its ``negation.exceptions`` ("I can't stop", "I don't know if"), a
  ``negatable`` hit is recorded at level ``none`` with note ``negated``. Any
  distress in the message is scored by its own patterns, so "I'm not going to
  hurt myself, I just feel empty" ends at ``concern`` (denial with distress).
* **past tense / history** -- a hit whose clause carries a ``past.markers``
  phrase ("two years ago", "I used to", "when I was 15") and no
  ``past.present`` phrase ("again", "tonight", "still") is lowered to
  ``concern`` with category ``history`` (C-SSRS lifetime vs. recent behaviour).
* **general questions** -- a ``general: downgrade`` hit in a sentence that
  matches the language's ``general`` phrases ("what are the warning signs",
  "how do I help someone who...") is lowered one step: crisis patterns to
  ``concern``, mention patterns to ``none`` (a third party named as "my
  friend" is specific, not general, and is not lowered).
* **hyperbole markers** -- a hit with ``hyperbole: <level>`` is lowered to that
  level when its sentence carries "lol", "jk", "haha"...

Patterns can also carry ``signal`` names (``means_weak``, ``hopeless``,
``retraction``, ``goodbye``) that the conversation layer accumulates.

Pattern text may use ``%NAME%`` placeholders defined under ``defs`` in the
same file. All pattern text is folded with :func:`safety.normalize.fold`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from safety.levels import Level
from safety.locale import parse_locale
from safety.normalize import LANGUAGES, Normalized, fold, fold_pattern, load_language_data

__all__ = ["Hit", "RuleSet", "rule_sets", "match", "RuleResult"]

_CLAUSE_BREAK = re.compile(r"[.!?;\n]|,|\bbut\b|\bpero\b|\bmais\b|\baber\b|\bmas\b|\bhowever\b|\bsino\b|\bsondern\b")
_SENT_BREAK = re.compile(r"[.!?\n]")
# "my friend", "mi amiga", "mon ami"...: a specific person, not a general question
_POSSESSIVE = re.compile(r"\b(?:my|our|mi|mis|nuestr[oa]s?|mon|ma|mes|notre|mein|meine|unser|unsere|meu|minha|meus|minhas)\b")
# Above this many characters only the languages with evidence run (plus en):
# keeps 1 MB inputs within a few seconds while every character is still screened.
_ALL_LANGS_MAX = 20_000


@dataclass(frozen=True)
class Pattern:
    """One compiled rule from a language YAML file."""

    id: str
    lang: str
    level: Level
    category: str | None
    regex: re.Pattern[str]
    also: tuple[str, ...] = ()
    negatable: bool = True
    past: bool = True
    general: bool = False
    hyperbole: Level | None = None
    beats_idioms: bool = False
    signals: tuple[str, ...] = ()


@dataclass(frozen=True)
class Idiom:
    """A compiled idiom / hyperbole / technical-use pattern."""

    id: str
    regex: re.Pattern[str]
    scope: str = "span"  # "span" | "sentence"
    suppress: tuple[str, ...] = ()  # categories, for scope=sentence ("" = all)


@dataclass(frozen=True)
class RuleSet:
    """All compiled rules of one language."""

    lang: str
    version: str
    patterns: tuple[Pattern, ...]
    idioms: tuple[Idiom, ...]
    negation: re.Pattern[str] | None
    negation_exceptions: re.Pattern[str] | None
    negation_window: int
    negation_inside: bool
    past: re.Pattern[str] | None
    present: re.Pattern[str] | None
    general: re.Pattern[str] | None
    hyperbole: re.Pattern[str] | None


@dataclass(frozen=True)
class Hit:
    """One rule outcome (never contains user text).

    Attributes:
        rule: pattern id (``"en.si.kill_self"``).
        lang: language of the pattern.
        level: level after negation / past / idiom handling.
        categories: categories this hit argues for (first = main).
        note: ``""`` or one of ``negated``, ``past``, ``general``,
            ``hyperbole``, ``idiom``.
        start, end: span in the normalised text (used for windows; not exported).
        signals: conversation signals carried by the pattern.
    """

    rule: str
    lang: str
    level: Level
    categories: tuple[str, ...]
    note: str = ""
    start: int = 0
    end: int = 0
    signals: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleResult:
    """Everything the rule layer found in one message."""

    hits: tuple[Hit, ...]
    idiom_spans: tuple[tuple[int, int, str], ...]
    language_hits: dict[str, int] = field(default_factory=dict)

    @property
    def level(self) -> Level:
        """Highest level among hits (``none`` when nothing fired)."""
        return Level.max(*(h.level for h in self.hits))

    @property
    def signals(self) -> set[str]:
        """Conversation signals of the non-suppressed hits."""
        out: set[str] = set()
        for h in self.hits:
            if h.note not in ("negated", "idiom"):
                out.update(h.signals)
        return out


def _expand(text: str, defs: dict[str, str]) -> str:
    for _ in range(4):  # defs may reference defs
        new = re.sub(r"%([A-Z][A-Z0-9_]*)%", lambda m: defs[m.group(1)], text)
        if new == text:
            break
        text = new
    left = re.search(r"%[A-Z][A-Z0-9_]*%", text)
    if left:
        raise KeyError(f"undefined placeholder {left.group(0)}")
    return text


def _compile(pattern: str, defs: dict[str, str], where: str) -> re.Pattern[str]:
    try:
        return re.compile(fold_pattern(_expand(pattern, defs)))
    except (re.error, KeyError) as exc:
        raise ValueError(f"bad pattern {where}: {exc}") from exc


def _opt(data: dict, key: str, defs: dict[str, str], where: str) -> re.Pattern[str] | None:
    val = data.get(key)
    if not val:
        return None
    if isinstance(val, list):
        val = "|".join(f"(?:{v})" for v in val)
    return _compile(val, defs, f"{where}.{key}")


@lru_cache(maxsize=None)
def rule_sets() -> dict[str, RuleSet]:
    """Compiled rules for every supported language (cached per process).

    Raises:
        ValueError: a pattern does not compile or names an unknown level.
    """
    out: dict[str, RuleSet] = {}
    for lang in LANGUAGES:
        data = load_language_data(lang)
        defs = {k: str(v) for k, v in (data.get("defs") or {}).items()}
        pats: list[Pattern] = []
        seen: set[str] = set()
        for p in data.get("patterns", []) or []:
            pid = p["id"]
            if pid in seen:
                raise ValueError(f"duplicate pattern id {pid}")
            seen.add(pid)
            hyp = p.get("hyperbole")
            pats.append(
                Pattern(
                    id=pid,
                    lang=lang,
                    level=Level.parse(p["level"]),
                    category=p.get("category"),
                    regex=_compile(p["pattern"], defs, pid),
                    also=tuple(p.get("also", ()) or ()),
                    negatable=bool(p.get("negatable", True)),
                    past=bool(p.get("past", True)),
                    general=p.get("general") == "downgrade",
                    hyperbole=Level.parse(hyp) if hyp else None,
                    beats_idioms=bool(p.get("beats_idioms", False)),
                    signals=tuple(p.get("signals", ()) or ()),
                )
            )
        idioms = tuple(
            Idiom(
                id=i["id"],
                regex=_compile(i["pattern"], defs, i["id"]),
                scope=i.get("scope", "span"),
                suppress=tuple(i.get("suppress", ()) or ()),
            )
            for i in data.get("idioms", []) or []
        )
        neg = data.get("negation") or {}
        past = data.get("past") or {}
        out[lang] = RuleSet(
            lang=lang,
            version=str(data.get("version", "0")),
            patterns=tuple(pats),
            idioms=idioms,
            negation=_opt(neg, "cues", defs, f"{lang}.negation"),
            negation_exceptions=_opt(neg, "exceptions", defs, f"{lang}.negation"),
            negation_window=int(neg.get("window", 6)),
            negation_inside=bool(neg.get("inside", False)),
            past=_opt(past, "markers", defs, f"{lang}.past"),
            present=_opt(past, "present", defs, f"{lang}.past"),
            general=_opt(data, "general", defs, lang),
            hyperbole=_opt(data, "hyperbole", defs, lang),
        )
    return out


@lru_cache(maxsize=1)
def _general_all() -> tuple[re.Pattern[str], ...]:
    return tuple(rs.general for rs in rule_sets().values() if rs.general is not None)


def _any_general(sentence: str) -> bool:
    """General-question framing in any supported language (a Spanish question
    about "suicide" also trips the French mention pattern)."""
    return any(rx.search(sentence) for rx in _general_all())


def _bounds(text: str, start: int, end: int, breaker: re.Pattern[str]) -> tuple[int, int]:
    """Start / end of the clause (or sentence) around ``[start, end)``."""
    lo = 0
    window_lo = max(0, start - 400)
    for m in breaker.finditer(text, window_lo, start):
        lo = m.end()
    hi_m = breaker.search(text, end, min(len(text), end + 400))
    hi = hi_m.start() if hi_m else min(len(text), end + 400)
    return max(lo, window_lo if window_lo else 0), hi


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def match(norm: Normalized, languages: tuple[str, ...] | None = None, locale: str | None = None) -> RuleResult:
    """Apply the rules of ``languages`` (default: all; for texts over 20,000
    characters, English, the language of ``locale`` and the two detected ones)
    to a normalised message.

    Returns:
        :class:`RuleResult` with every hit, including suppressed ones
        (``note="idiom"`` / ``"negated"``, level ``none``) for audit.
    """
    text = norm.text
    sets = rule_sets()
    if languages is None:
        if len(text) <= _ALL_LANGS_MAX:
            languages = LANGUAGES
        else:
            detected = [lang for lang, s in norm.languages.items() if s > 0][:2]
            # the person's own language always runs: one Spanish sentence in a
            # long English paste was missed when only detected languages ran
            own = parse_locale(locale).language
            languages = tuple(dict.fromkeys(["en", *([own] if own in sets else []), *detected]))
    hits: list[Hit] = []
    idiom_spans: list[tuple[int, int, str]] = []
    lang_hits: dict[str, int] = {}
    for lang in languages:
        rs = sets[lang]
        spans: list[tuple[int, int, Idiom]] = []
        for idiom in rs.idioms:
            for m in idiom.regex.finditer(text):
                spans.append((m.start(), m.end(), idiom))
                idiom_spans.append((m.start(), m.end(), idiom.id))
        for pat in rs.patterns:
            for m in pat.regex.finditer(text):
                hits.append(_judge_hit(text, m, pat, rs, spans))
                lang_hits[lang] = lang_hits.get(lang, 0) + 1
    return RuleResult(tuple(hits), tuple(idiom_spans), lang_hits)


def _judge_hit(text: str, m: re.Match[str], pat: Pattern, rs: RuleSet,
               idioms: list[tuple[int, int, Idiom]]) -> Hit:
    span = (m.start(), m.end())
    cats = tuple(c for c in (pat.category, *pat.also) if c)
    base = dict(rule=pat.id, lang=pat.lang, categories=cats, start=span[0], end=span[1], signals=pat.signals)
    s_lo, s_hi = _bounds(text, span[0], span[1], _SENT_BREAK)
    if not pat.beats_idioms:
        for lo, hi, idiom in idioms:
            if idiom.scope == "span" and _overlaps((lo, hi), span):
                return Hit(level=Level.NONE, note="idiom", **base)
            if idiom.scope == "sentence" and s_lo <= lo and hi <= s_hi + 1:
                if not idiom.suppress or (pat.category in idiom.suppress):
                    return Hit(level=Level.NONE, note="idiom", **base)
    if pat.level == Level.NONE:
        return Hit(level=Level.NONE, **base)
    c_lo, c_hi = _bounds(text, span[0], span[1], _CLAUSE_BREAK)
    if pat.negatable and rs.negation is not None:
        words = text[c_lo:span[0]].split()
        prefix = " ".join(words[-rs.negation_window:])
        inside = rs.negation_inside and rs.negation.search(text[span[0]:span[1]])
        if (prefix and rs.negation.search(prefix)) or inside:
            if not (rs.negation_exceptions and rs.negation_exceptions.search(text[c_lo:span[1]])):
                return Hit(level=Level.NONE, note="negated", **base)
    level = pat.level
    if pat.past and rs.past is not None and level >= Level.CRISIS:
        clause = text[c_lo:c_hi]
        sentence = text[s_lo:s_hi]
        if rs.past.search(clause) or (rs.past.search(sentence) and not _SENT_BREAK.search(text[span[0]:span[1]])):
            if not (rs.present and rs.present.search(clause)):
                return Hit(level=Level.CONCERN, note="past",
                           **{**base, "categories": ("history", *cats)})
    if pat.general:
        sentence = text[s_lo:s_hi]
        specific = pat.category == "third_party" and _POSSESSIVE.search(sentence)
        if _any_general(sentence) and not specific:
            # a general question: crisis-level patterns drop to concern,
            # mention-level (concern) patterns to none
            lowered = Level.CONCERN if level >= Level.CRISIS else Level.NONE
            return Hit(level=lowered, note="general", **base)
    if pat.hyperbole is not None and rs.hyperbole is not None and level > pat.hyperbole:
        if rs.hyperbole.search(text[s_lo:min(len(text), s_hi + 40)]):
            return Hit(level=pat.hyperbole, note="hyperbole", **base)
    return Hit(level=level, **base)
