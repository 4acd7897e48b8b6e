"""Layer 1 of the screener: text normalisation that undoes common obfuscation.

People in distress (and people evading moderation filters) rarely type the
textbook phrase. This module turns a message into one canonical, lower-case,
accent-folded string so that the rule layer (:mod:`safety.rules`) and the
semantic layer (:mod:`safety.semantic`) see ``kill myself`` whether the user
typed ``K1LL  mysełf``, ``k.i.l.l myself``, ``k i l l  m y s e l f``,
``kiiilll myself``, ``кill myself`` (Cyrillic ``к``) or ``unalive myself``.

Steps, in order (each one that changes the text records a transform id, which
the screener may put into the audit evidence; the text itself never is):

1. control characters that are not whitespace (NUL, BEL, DEL, C1) and lone
   UTF-16 surrogates (invalid code points) -> space;
2. zero-width / format characters (Unicode category ``Cf``: ZWSP, ZWJ, soft
   hyphen, bidi marks...) and variation selectors removed;
3. Unicode NFKC (full-width letters, ligatures, mathematical bold letters);
4. case folding;
5. confusables: Cyrillic / Greek letters that look like Latin ones mapped to
   Latin (we support en/es/fr/de/pt only, all Latin-script);
6. accent folding (``é`` -> ``e``, ``ñ`` -> ``n``) so one pattern covers
   "suicidarme" and "suicidárme"; patterns are folded the same way;
7. quotes / dashes to ASCII; risky emoji named (``🔪`` -> `` knife ``);
8. spacing tricks (``k i l l``), punctuation inside words (``k.i.l.l``,
   ``k-i-l-l``), censoring asterisks (``k*ll``, ``s*icide``), leetspeak
   (``k1ll``, ``su1c1de``, ``$uicide``), repeated letters (``killlll``) --
   each repair is accepted only when it yields a word of the repair lexicon
   (risk vocabulary + stop-words of the supported languages), so ordinary
   tokens such as ``10mg``, ``2am`` or ``kill -9`` are left alone;
9. per-language substitutions from the YAML pattern files (English
   contractions, algospeak ``unalive`` / ``kms`` / ``sewerslide`` / ``ctb``,
   frequent misspellings ``suicde`` / ``overdoes``), applied only for the
   languages the text looks like (so German ``im`` is not read as English
   ``I'm``); entries marked ``global`` apply to every text.

Public API: :func:`normalize` -> :class:`Normalized`, :func:`fold` (the folding
used for patterns), :func:`detect_languages`.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from safety.locale import parse_locale

__all__ = ["Normalized", "normalize", "fold", "fold_pattern", "detect_languages", "LANGUAGES", "load_language_data", "load_yaml"]

#: Languages with a pattern file in ``safety/data/patterns``.
LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "de", "pt")

_PATTERN_DIR = Path(__file__).parent / "data" / "patterns"

# --- character tables --------------------------------------------------------

_SURROGATES = re.compile(r"[\ud800-\udfff]")

# Cyrillic / Greek homoglyphs of Latin letters (lower case after casefold).
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h",
        "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i",
        "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l",
        "ԛ": "q", "ԝ": "w", "ь": "b", "п": "n", "г": "r", "л": "l", "и": "u",
        "д": "d", "з": "3", "ч": "4",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w",
        "μ": "u", "σ": "o", "ς": "c", "δ": "d", "λ": "l", "ϲ": "c",
        # Latin look-alikes outside ASCII that NFKD does not fold
        "ł": "l", "ø": "o", "đ": "d", "ı": "i", "ȷ": "j", "ſ": "s", "ß": "ss",
        "æ": "ae", "œ": "oe", "þ": "th",
    }
)

_PUNCT = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "`": "'", "\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
        "\u00ab": '"', "\u00bb": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-",
        "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2026": "...",
        "\u00bf": " ", "\u00a1": " ",
    }
)

#: Emoji that carry risk meaning, named so patterns can see them. A message
#: made only of these is at most ``concern`` (see rules: ``emoji_only``).
RISK_EMOJI: dict[str, str] = {
    "\U0001F52A": "knife",  # 🔪
    "\U0001FA78": "blood",  # 🩸
    "\U0001F48A": "pills",  # 💊
    "\U0001F52B": "gun",  # 🔫
    "\U0001FAA2": "rope",  # 🪢
    "\u26B0": "coffin",  # ⚰
    "\U0001FAA6": "grave",  # 🪦
    "\U0001FA92": "razor",  # 🪒
    "\U0001F309": "bridge",  # 🌉 (a risk word only next to a timing word or 🪦; see en.si.emoji_bridge)
}
_EMOJI_RE = re.compile("|".join(map(re.escape, RISK_EMOJI)))

_WS = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_NL = re.compile(r"\s*\n\s*")
#: every whitespace character but the newline (``\u2028``, ``\x1c`` ... included)
_HSPACE = re.compile(r"[^\S\n]+")

# ``k i l l  m y s e l f``: 3+ single letters separated by single spaces.
_SPACED = re.compile(r"(?<![\w'])(?:[a-z] ){2,}[a-z](?![\w'])")
# ``k.i.l.l`` / ``k-i-l-l`` / ``k_i_l_l``: single letters joined by separators.
_DOTTED = re.compile(r"(?<![\w.])(?:[a-z][.\-_*·•|~+]){2,}[a-z](?![\w])\.?")
# a token that mixes letters with leet digits / symbols.
_TOKEN = re.compile(r"[\w@$!|*+'\-]+")
_LEET_CHARS = set("0134578@$!|+*")
_LEET_MAP = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
             "@": "a", "$": "s", "!": "i", "|": "i", "+": "t"}
_UNITS = re.compile(
    r"^\d+(?:[.,]\d+)?(?:mg|ml|mcg|g|kg|lb|lbs|am|pm|st|nd|rd|th|s|h|hr|hrs|k|x|"
    r"mm|cm|m|km|min|mins|yo|y|yrs|d|mo|er|eme|e|o|a|º|ª)?$"
)
_REPEAT = re.compile(r"([a-z])\1{2,}")


@dataclass(frozen=True)
class Normalized:
    """A message after normalisation.

    Attributes:
        text: canonical text: lower-case, accent-folded, single-spaced, one
            line (newlines become ``" . "`` sentence breaks only when they end
            a sentence-like line; otherwise a space), repairs applied.
        sentences: ``text`` split into sentence-like units (for the semantic
            layer's windows and for clause logic).
        languages: language scores ``{"en": 3.0, ...}`` (stop-word hits plus
            the locale hint), highest first.
        transforms: ids of the repairs that changed the text (``"leet"``,
            ``"spacing"``, ``"sub:en.sub.kms"``...), for audit.
        has_letters: whether any letter survived (``False`` for emoji-only).
        risk_emoji: names of risky emoji present (``("knife", "blood")``).
    """

    text: str
    sentences: tuple[str, ...]
    languages: dict[str, float] = field(default_factory=dict)
    transforms: tuple[str, ...] = ()
    has_letters: bool = False
    risk_emoji: tuple[str, ...] = ()

    @property
    def language(self) -> str | None:
        """The most likely language code, or ``None`` when no evidence."""
        for lang, score in self.languages.items():
            return lang if score > 0 else None
        return None


# --- language data (YAML) ----------------------------------------------------


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader where only ``true``/``false`` are booleans (YAML 1.2 style).

    YAML 1.1 reads ``no``, ``on``, ``y``, ``off`` as booleans, which would turn
    the stop-word "no" into ``False``; clinicians editing lists should not
    have to know that.
    """


_YamlLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(path: Path) -> Any:
    """Parse a policy YAML file (only ``true``/``false`` are booleans)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_YamlLoader)  # noqa: S506 - SafeLoader subclass


@lru_cache(maxsize=None)
def load_language_data(lang: str) -> dict[str, Any]:
    """Parsed ``safety/data/patterns/<lang>.yaml`` (cached per process).

    Raises:
        FileNotFoundError: no pattern file for ``lang``.
        yaml.YAMLError: the file is not valid YAML.
    """
    data = load_yaml(_PATTERN_DIR / f"{lang}.yaml") or {}
    if data.get("language") != lang:
        raise ValueError(f"pattern file {lang}.yaml declares language {data.get('language')!r}")
    return data


def fold(text: str) -> str:
    """Case- and accent-fold ``text`` (steps 3-7 above, no lexicon repairs).

    Used both on messages and on YAML patterns so the two always agree.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(_CONFUSABLES)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return text.translate(_PUNCT)


_ESCAPE_SPLIT = re.compile(r"\\.|[^\\]+")


def fold_pattern(pattern: str) -> str:
    """:func:`fold` for a regular expression: folds literal text, keeps escapes
    such as ``\\S`` / ``\\B`` / ``\\W`` intact (folding would flip their meaning)."""
    return "".join(
        piece if piece.startswith("\\") else fold(piece) for piece in _ESCAPE_SPLIT.findall(pattern)
    )


@dataclass(frozen=True)
class _Sub:
    id: str
    regex: re.Pattern[str]
    replace: str
    lang: str
    is_global: bool


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, frozenset[str]], frozenset[str], tuple[_Sub, ...]]:
    """(stop-words per language, repair lexicon, substitutions) from the YAML files."""
    stop: dict[str, frozenset[str]] = {}
    lexicon: set[str] = set()
    subs: list[_Sub] = []
    for lang in LANGUAGES:
        data = load_language_data(lang)
        words = frozenset(fold(w) for w in data.get("stopwords", []))
        stop[lang] = words
        lexicon |= words
        lexicon |= {fold(w) for w in data.get("vocabulary", [])}
        for entry in data.get("substitutions", []) or []:
            rx = re.compile(fold_pattern(entry["pattern"]))
            subs.append(_Sub(entry["id"], rx, fold(entry["replace"]), lang, bool(entry.get("global", False))))
            for w in re.findall(r"[a-z]+", fold(entry["replace"])):
                lexicon.add(w)
    return stop, frozenset(lexicon), tuple(subs)


def detect_languages(tokens: list[str], locale: str | None = None) -> dict[str, float]:
    """Score each supported language by stop-word hits in ``tokens``.

    ``locale`` (``"es-MX"``, ``"pt_BR"``, ``"fr"``) adds 1.5 to its language,
    enough to break ties on short messages. Returns the scores sorted from
    highest to lowest; all zero means "no evidence".
    """
    stop, _, _ = _tables()
    scores = {lang: 0.0 for lang in LANGUAGES}
    sample = tokens[:4000]  # plenty for a decision; keeps 1 MB inputs cheap
    for lang, words in stop.items():
        scores[lang] = float(sum(1 for t in sample if t in words))
    code = parse_locale(locale).language
    if code in scores:
        scores[code] += 1.5
    return dict(sorted(scores.items(), key=lambda kv: -kv[1]))


# --- token repairs -----------------------------------------------------------


def _segment(word: str, lexicon: frozenset[str]) -> str | None:
    """Split a run-together word into lexicon words (``killmyself`` -> ``kill myself``).

    Dynamic programming preferring fewer, longer words; ``None`` if impossible.
    Only used on runs the user spelled out letter by letter.
    """
    n = len(word)
    if n > 60:
        return None
    best: list[tuple[int, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, [])
    for i in range(1, n + 1):
        for j in range(max(0, i - 14), i):
            prev = best[j]
            piece = word[j:i]
            if prev is None or piece not in lexicon:
                continue
            if len(piece) == 1 and piece not in ("i", "a", "y", "o", "e"):
                continue
            cand = (prev[0] + 1, prev[1] + [piece])
            if best[i] is None or cand[0] < best[i][0]:  # type: ignore[index]
                best[i] = cand
    final = best[n]
    return " ".join(final[1]) if final else None


def _fix_spaced(m: re.Match[str], lexicon: frozenset[str]) -> str:
    joined = m.group(0).replace(" ", "")
    if joined in lexicon:
        return joined
    seg = _segment(joined, lexicon)
    return seg if seg else joined


def _leet_candidates(tok: str) -> list[str]:
    base = "".join(_LEET_MAP.get(c, c) for c in tok)
    out = [base]
    if "1" in tok:
        out.append("".join("l" if c == "1" else _LEET_MAP.get(c, c) for c in tok))
    if "|" in tok:
        out.append("".join("l" if c == "|" else _LEET_MAP.get(c, c) for c in tok))
    return out


def _wildcard(tok: str, lexicon: frozenset[str]) -> str | None:
    """``k*ll`` -> ``kill``: each ``*`` stands for one letter (lexicon words only)."""
    if len(tok) > 20:
        return None
    rx = re.compile("^" + re.escape(tok).replace(r"\*", "[a-z]") + "$")
    hits = sorted(w for w in _risk_words() if len(w) == len(tok) and rx.match(w))
    return hits[0] if hits else None


@lru_cache(maxsize=1)
def _risk_words() -> tuple[str, ...]:
    words: set[str] = set()
    for lang in LANGUAGES:
        words |= {fold(w) for w in load_language_data(lang).get("vocabulary", [])}
    return tuple(sorted(words))


def _repair_token(tok: str, lexicon: frozenset[str], done: set[str]) -> str:
    core = tok.strip("'-")
    if not core or core in lexicon:
        return tok
    # censoring asterisks
    if "*" in core and re.fullmatch(r"[a-z*]+", core) and re.search(r"[a-z]", core):
        fixed = _wildcard(core, lexicon)
        if fixed:
            done.add("censor")
            return tok.replace(core, fixed)
    # leetspeak: letters mixed with digits / symbols
    if any(c in _LEET_CHARS for c in core) and re.search(r"[a-z]", core) and not _UNITS.match(core):
        for cand in _leet_candidates(core):
            cand2 = _collapse_repeats(cand, lexicon)
            if cand2 in lexicon:
                done.add("leet")
                return tok.replace(core, cand2)
    # repeated letters
    if _REPEAT.search(core):
        fixed = _collapse_repeats(core, lexicon)
        if fixed != core:
            done.add("repeat")
            return tok.replace(core, fixed)
    return tok


def _collapse_repeats(word: str, lexicon: frozenset[str]) -> str:
    """``killlll`` -> ``kill``, ``kiiilll`` -> ``kill``, ``sooo`` -> ``so``.

    Each run of a repeated letter is tried as one or two letters; the first
    combination found in the lexicon wins, else every 3+ run becomes two
    letters.
    """
    if not _REPEAT.search(word):
        return word
    parts = re.findall(r"(([a-z])\2*)|([^a-z]+)", word)
    runs = [p[0] if p[0] else p[2] for p in parts]
    idx = [i for i, r in enumerate(runs) if len(r) >= 2 and r[0].isalpha()]
    if len(idx) <= 6:
        for combo in itertools.product((1, 2), repeat=len(idx)):
            cand = list(runs)
            for i, n in zip(idx, combo):
                cand[i] = cand[i][0] * n
            joined = "".join(cand)
            if joined in lexicon:
                return joined
    return _REPEAT.sub(r"\1\1", word)


# --- main entry --------------------------------------------------------------


#: Control characters that are not whitespace (NUL, BEL, DEL, C1 controls): a
#: space each, so that "kill\x00myself" cannot glue two words past the rules.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def _clean_chars(text: str) -> tuple[str, list[str]]:
    done: list[str] = []
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
        done.append("control")
    if _SURROGATES.search(text):
        text = _SURROGATES.sub(" ", text)
        done.append("surrogates")
    stripped = "".join(
        ch for ch in text
        if not (unicodedata.category(ch) == "Cf" or "\ufe00" <= ch <= "\ufe0f")
    ) if not text.isascii() else text
    if stripped != text:
        done.append("zero_width")
        text = stripped
    return text, done


def normalize(text: str, locale: str | None = None) -> Normalized:
    """Normalise one message (see the module docstring for the steps).

    Args:
        text: the raw message (any Unicode, may contain lone surrogates).
        locale: optional hint such as ``"es-MX"``; biases language detection.

    Returns:
        :class:`Normalized`. Never raises on odd Unicode; raises ``TypeError``
        if ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize() expects str, got {type(text).__name__}")
    stop, lexicon, subs = _tables()
    text, done = _clean_chars(text)
    if not text.isascii():
        folded = fold(text)
        if folded != text.lower():
            done.append("unicode")
        text = folded
        emoji = tuple(RISK_EMOJI[m.group(0)] for m in _EMOJI_RE.finditer(text))
        has_letters = bool(re.search(r"[^\W\d_]", text))
        if emoji:
            text = _EMOJI_RE.sub(lambda m: f" {RISK_EMOJI[m.group(0)]}_emoji ", text)
    else:
        text = text.lower()
        emoji = ()
        has_letters = bool(re.search(r"[a-z]", text))
    # runs of spaces first (one linear pass): split on newlines after this, so that
    # "\s*\n\s*" never rescans a long run of spaces from every position (a
    # message of 1 MB of spaces took 14 minutes before)
    text = _HSPACE.sub(" ", text)
    # newlines: sentence breaks for the semantic windows, spaces for rules
    lines = [ln for ln in _NL.split(text) if ln.strip()]
    text = " \n ".join(lines)
    text = _WS.sub(" ", text).strip()

    fixes: set[str] = set()
    # punctuation inside words: k.i.l.l / k-i-l-l
    new = _DOTTED.sub(lambda m: re.sub(r"[.\-_*·•|~+]", "", m.group(0)), text)
    if new != text:
        fixes.add("punct_in_word")
        text = new
    # spaced letters: k i l l  m y s e l f (runs split on double spaces earlier? no:
    # _WS already collapsed; runs of single letters are segmented with the lexicon)
    new = _SPACED.sub(lambda m: _fix_spaced(m, lexicon), text)
    if new != text:
        fixes.add("spacing")
        text = new
    # per-token repairs
    text = _TOKEN.sub(lambda m: _repair_token(m.group(0), lexicon, fixes), text)
    done.extend(sorted(fixes))

    tokens = re.findall(r"[a-z']+", text)
    languages = detect_languages(tokens, locale)
    ranked = [(lang, s) for lang, s in languages.items() if s > 0]
    if ranked:
        best = ranked[0][1]
        active = {lang for lang, s in ranked[:2] if s >= best / 2}
        if languages.get("en", 0) >= 2:
            active.add("en")  # code-switching: English contractions still expand
    else:
        active = {"en"}
    for sub in subs:
        if not (sub.is_global or sub.lang in active):
            continue
        new = sub.regex.sub(sub.replace, text)
        if new != text:
            done.append(f"sub:{sub.id}")
            text = new
    text = re.sub(r" {2,}", " ", text).strip()
    sentences = tuple(
        s.strip() for s in re.split(r"(?<=[.!?])\s+|\s*\n\s*", text) if s and s.strip(" .!?\n")
    )
    flat = re.sub(r"\s*\n\s*", " . ", text)
    flat = re.sub(r"([.!?]) \. ", r"\1 ", flat)
    return Normalized(
        text=flat,
        sentences=sentences,
        languages=languages,
        transforms=tuple(done),
        has_letters=has_letters,
        risk_emoji=emoji,
    )
