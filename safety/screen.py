"""The layered crisis screener: ``screen(text, history=(), locale=None) -> Assessment``.

Layers, cheap first (DESIGN.md, "Safety levels"):

1. :mod:`safety.normalize` -- Unicode, confusables, zero-width, spacing,
   leetspeak, repeated letters, algospeak, misspellings;
2. :mod:`safety.rules` -- per-language YAML patterns (en, es thoroughly; fr,
   de, pt basic) with negation, idiom / hyperbole, past-tense and
   general-question handling;
3. :mod:`safety.semantic` -- MiniLM exemplar similarity + logistic regression,
   over sentence windows of the whole message. Sentences whose only rule
   evidence is an idiom, a negation, a past event or a general question are
   not sent to this layer (an idiom suppresses semantic escalation for that
   phrase only if nothing else fires there);
4. :mod:`safety.conversation` -- signals accumulated over earlier user turns;
5. :mod:`safety.judge` -- optional LLM judge, ambiguous semantic band only,
   and only when no rule reached crisis; it can only raise the level.

The final level is the maximum over layers: no layer lowers another's
evidence, except the rule layer's own negation / idiom / past handling of its
own hits.

Levels follow the C-SSRS triage idea (Posner et al. 2011): ``concern`` =
low, ``crisis`` = moderate/high, ``emergency`` = danger in progress.

Errors:

* ``text`` not a ``str`` (e.g. ``None``) -> ``TypeError("screen() expects
  text as str, got NoneType")``, raised *before* the fail-closed wrapper: it
  is a programming error of the caller, not a screening failure. The same
  for a ``history`` that is a bare string or holds non-strings, and a
  non-string ``locale``.
* Any exception *inside* screening -> ``Assessment(Level.CRISIS, evidence=
  (Evidence(layer="error", rule=<exception type>),))``: fail closed.
* Empty / whitespace-only text -> ``Level.NONE``. Lone surrogates and
  control characters (NUL, BEL...) are replaced by spaces, then the text is
  assessed normally.

Privacy: evidence holds rule ids, exemplar ids, scores and code-written notes,
never the user's text; nothing here logs message text.

Long text: rules run on the whole normalised text (every character); the
semantic layer embeds at most ``semantic.MAX_WINDOWS`` sentence windows,
risk-word windows first (documented in :mod:`safety.semantic`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from safety import conversation, judge, rules, semantic
from safety.levels import CATEGORIES, Assessment, Evidence, Level
from safety.normalize import LANGUAGES, Normalized, normalize

__all__ = ["screen"]

log = logging.getLogger("safety.screen")

# Most important first when levels tie.
_CATEGORY_ORDER = (
    "medical_emergency",
    "suicidal_ideation",
    "self_harm",
    "harm_to_others",
    "abuse",
    "third_party",
    "history",
    "distress",
)
_MODIFIED = ("negated", "past", "general", "idiom", "hyperbole")


@dataclass(frozen=True)
class _Single:
    level: Level
    evidence: tuple[Evidence, ...]
    signals: frozenset[str]
    language: str | None
    norm: Normalized
    ambiguous: bool


def _check_args(text: object, history: object, locale: object) -> tuple[str, ...]:
    if not isinstance(text, str):
        raise TypeError(f"screen() expects text as str, got {type(text).__name__}")
    if history is None:
        history = ()
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise TypeError(
            f"screen() expects history as a sequence of str (earlier user messages), got {type(history).__name__}"
        )
    for i, h in enumerate(history):
        if not isinstance(h, str):
            raise TypeError(f"screen() expects history items as str, item {i} is {type(h).__name__}")
    if locale is not None and not isinstance(locale, str):
        raise TypeError(f"screen() expects locale as str or None, got {type(locale).__name__}")
    return tuple(history)


def screen(text: str, history: Sequence[str] = (), locale: str | None = None) -> Assessment:
    """Screen one user message (with earlier user messages) for crisis risk.

    Args:
        text: the latest user message (any length; 1 MB of text takes about
            7 s on the 2-core team machine, rules on every character).
        history: earlier USER messages of the same conversation, oldest first.
        locale: BCP 47 hint such as ``"es-MX"``; biases language detection.

    Returns:
        :class:`safety.levels.Assessment` with level, categories (most
        important first), evidence (no raw text) and the detected language.

    Raises:
        TypeError: ``text`` is not a ``str`` (``screen(None)``), ``history``
            is not a sequence of ``str``, or ``locale`` is not a ``str``.
            Everything else fails closed to ``Level.CRISIS``.
    """
    hist = _check_args(text, history, locale)
    t0 = time.perf_counter()
    try:
        result = _screen(text, hist, locale)
    except Exception as exc:  # fail closed (DESIGN.md)
        log.warning("screen failed closed: %s", type(exc).__name__)
        return Assessment(
            Level.CRISIS,
            (),
            (Evidence("error", type(exc).__name__, Level.CRISIS, note="screening raised; failed closed"),),
            None,
        )
    log.debug("screen level=%s ms=%.1f", result.level.value, (time.perf_counter() - t0) * 1000)
    return result


def _sentence_spans(norm: Normalized) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    for s in norm.sentences:
        i = norm.text.find(s, pos)
        if i < 0:
            i = pos
        spans.append((i, i + len(s)))
        pos = i + len(s)
    return spans


def _semantic_skip(norm: Normalized, rr: rules.RuleResult) -> set[int]:
    """Sentences the semantic layer must not escalate: idiom / negated / past /
    general-question evidence and no unmodified rule hit at crisis or above."""
    skip: set[int] = set()
    for i, (lo, hi) in enumerate(_sentence_spans(norm)):
        inside = [h for h in rr.hits if lo <= h.start < hi + 1]
        idiom_here = any(lo <= a < hi + 1 for a, _b, _id in rr.idiom_spans)
        modified = any(h.note in _MODIFIED or "history" in h.categories for h in inside)
        strong = any(h.note == "" and h.level >= Level.CRISIS for h in inside)
        if (idiom_here or modified) and not strong:
            skip.add(i)
    return skip


def _past_only(norm: Normalized, rr: rules.RuleResult) -> set[int]:
    """Sentences that speak only of the past: a ``past.markers`` phrase of a
    language with evidence (English always) and no ``past.present`` phrase
    ("again", "lately", "tonight"). The semantic layer caps these at
    ``concern`` / history (C-SSRS lifetime vs. recent)."""
    sets = rules.rule_sets()
    langs = ["en"] + [lang for lang, s in norm.languages.items() if s > 0 and lang != "en"][:2]
    out: set[int] = set()
    for i, sent in enumerate(norm.sentences):
        for lang in langs:
            rs = sets[lang]
            if rs.past is not None and rs.past.search(sent):
                if not (rs.present is not None and rs.present.search(sent)):
                    out.add(i)
                break
    return out


def _language(norm: Normalized, rr: rules.RuleResult, locale: str | None) -> str | None:
    scores = dict(norm.languages)
    for h in rr.hits:
        if h.level > Level.NONE:
            scores[h.lang] = scores.get(h.lang, 0.0) + 2.0
    best = max(scores.items(), key=lambda kv: kv[1], default=(None, 0.0))
    if best[1] > 0:
        return best[0]
    if locale:
        code = locale.replace("_", "-").split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return None


def _rule_evidence(rr: rules.RuleResult) -> list[Evidence]:
    grouped: dict[tuple[str, str], tuple[rules.Hit, int]] = {}
    for h in rr.hits:
        k = (h.rule, h.note)
        prev = grouped.get(k)
        if prev is None or h.level > prev[0].level:
            grouped[k] = (h, (prev[1] if prev else 0) + 1)
        else:
            grouped[k] = (prev[0], prev[1] + 1)
    out = []
    for (rule, note), (h, n) in grouped.items():
        extra = f"x{n}" if n > 1 else ""
        out.append(
            Evidence(
                "rules",
                rule,
                h.level,
                h.categories[0] if h.categories else None,
                note=" ".join(x for x in (note, extra) if x),
            )
        )
    return out


def _analyse(text: str, locale: str | None) -> tuple[Normalized, rules.RuleResult | None]:
    """Normalisation + rule layer of one message (``rr`` None when empty)."""
    norm = normalize(text, locale)
    if not norm.text.strip(" .!?\n"):
        return norm, None
    return norm, rules.match(norm, locale=locale)


def _needs_semantic(norm: Normalized, rr: rules.RuleResult | None) -> bool:
    """The semantic layer runs only when the rules have not already decided
    crisis or emergency (it could only add evidence then; skipping it keeps
    the p99 latency low) and the text has letters."""
    return rr is not None and semantic.enabled() and rr.level < Level.CRISIS and norm.has_letters


def _semantic_windows(norm: Normalized, rr: rules.RuleResult | None) -> list[str]:
    if not _needs_semantic(norm, rr):
        return []
    assert rr is not None
    return semantic.plan_windows(norm.sentences, _semantic_skip(norm, rr), _past_only(norm, rr))[0]


def _single(text: str, locale: str | None, use_semantic: bool = True,
            pre: tuple[Normalized, rules.RuleResult | None] | None = None) -> _Single:
    norm, rr = pre if pre is not None else _analyse(text, locale)
    if rr is None:
        return _Single(Level.NONE, (), frozenset(), None, norm, False)
    evidence = _rule_evidence(rr)
    level = rr.level
    signals = set(rr.signals)
    ambiguous = False
    if use_semantic and _needs_semantic(norm, rr):
        skip = _semantic_skip(norm, rr)
        sem = semantic.assess(norm.sentences, skip, _language(norm, rr, locale), _past_only(norm, rr))
        ambiguous = sem.ambiguous and level < Level.CRISIS
        if sem.level > Level.NONE:
            evidence.extend(sem.evidence)
            level = Level.max(level, sem.level)
            if sem.level >= Level.CONCERN:
                signals.add("distress")
    if level >= Level.CONCERN:
        signals.add("risk")
    if level > Level.NONE and norm.transforms:
        evidence.append(
            Evidence("normalise", ",".join(norm.transforms)[:300], Level.NONE, note="obfuscation repaired")
        )
    return _Single(level, tuple(evidence), frozenset(signals), _language(norm, rr, locale), norm, ambiguous)


def _categories(level: Level, evidence: Sequence[Evidence], extra: Sequence[str]) -> tuple[str, ...]:
    ranked: dict[str, int] = {}
    for e in evidence:
        if e.category and e.category in CATEGORIES and e.level > Level.NONE:
            ranked[e.category] = max(ranked.get(e.category, 0), e.level.rank)
    for c in extra:
        if c in CATEGORIES:
            ranked.setdefault(c, Level.CRISIS.rank)
    # "also" categories of rule hits are folded into the evidence category list
    if level == Level.CONCERN:
        # concern carries only distress / history (eval labelling guide)
        mapped: dict[str, int] = {}
        for c, r in ranked.items():
            key = c if c in ("history", "distress") else "distress"
            mapped[key] = max(mapped.get(key, 0), r)
        ranked = mapped
    order = sorted(ranked, key=lambda c: (-ranked[c], _CATEGORY_ORDER.index(c)))
    return tuple(order)


def _joined_text(recent: Sequence[str], cur: tuple[Normalized, rules.RuleResult | None], locale: str | None,
                 analyses: dict[str, tuple[Normalized, rules.RuleResult | None]]) -> str:
    """The last few user turns joined for the conversation layer's
    joined-context semantic check, leaving out the sentences the single-turn
    semantic layer would not escalate either: past-only, negated, idiom and
    general-question sentences ("I'm not going to hurt myself, don't worry"
    must not lend its words to the next turn's sadness)."""
    turns = []
    pairs = [analyses[h] if h in analyses else _analyse(h, locale)
             for h in recent[-(conversation.JOIN_TURNS - 1):]]
    pairs.append(cur)
    empty = rules.RuleResult((), ())
    for n, rr in pairs:
        rr = rr if rr is not None else empty
        skip = _past_only(n, rr) | _semantic_skip(n, rr)
        turns.append(" ".join(x for i, x in enumerate(n.sentences) if i not in skip))
    return " ".join(t for t in turns if t.strip())


def _screen(text: str, history: tuple[str, ...], locale: str | None) -> Assessment:
    recent = history[-conversation.MAX_HISTORY:]
    variant = "sem" if semantic.enabled() else "rules"
    cur_pre = _analyse(text, locale)
    analyses: dict[str, tuple[Normalized, rules.RuleResult | None]] = {}
    if semantic.enabled():
        # One embedding batch per turn: the current message's windows and the
        # windows of history turns not screened before. (The joined context is
        # built and embedded only if the conversation layer asks for it.)
        wins = _semantic_windows(*cur_pre)
        for h in recent:
            if h not in analyses and not conversation.peek_signals(h, locale, variant):
                analyses[h] = _analyse(h, locale)
                wins.extend(_semantic_windows(*analyses[h]))
        if wins:
            semantic.embed(list(dict.fromkeys(wins)))

    cur = _single(text, locale, pre=cur_pre)
    level = cur.level
    evidence = list(cur.evidence)
    extra_cats: list[str] = []
    # rule hits may argue for more than one category ("also" in YAML)
    rr_cats = _also_categories(cur)
    extra_cats.extend(rr_cats)

    cur_sig = conversation.TurnSignals(cur.level, cur.signals)
    m_level, m_ev, m_cats = conversation.assess_message(cur_sig)
    if m_level > level:
        evidence.extend(m_ev)
        extra_cats.extend(m_cats)
        level = m_level

    if history:
        def compute(t: str) -> conversation.TurnSignals:
            s = _single(t, locale, pre=analyses.get(t))
            cats = tuple(e.category for e in s.evidence if e.category and e.level >= Level.CONCERN)
            return conversation.TurnSignals(s.level, s.signals, tuple(dict.fromkeys(cats + _also_categories(s))))

        hist_sig = [conversation.cached_signals(h, locale, compute, variant) for h in recent]

        def joined() -> tuple[Level, float]:
            # called only on earlier distress with no crisis yet: most turns never build it
            if not semantic.enabled():
                return Level.NONE, 0.0
            jt = _joined_text(recent, cur_pre, locale, analyses)
            if not jt:
                return Level.NONE, 0.0
            res = semantic.assess_joined(jt, cur.language)
            return res.level, res.p_crisis

        c_level, c_ev, c_cats = conversation.assess_conversation(cur_sig, hist_sig, joined)
        if c_level > Level.NONE:
            evidence.extend(c_ev)
            extra_cats.extend(c_cats)
            level = Level.max(level, c_level)

    if cur.ambiguous and level < Level.CRISIS and judge.get_judge() is not None:
        verdict = judge.run_judge(text, history)
        if verdict is not None:
            evidence.append(Evidence("judge", "llm_judge", verdict, note="ambiguous semantic band"))
            if verdict > level:
                level = verdict
                if verdict >= Level.CRISIS:
                    extra_cats.append("suicidal_ideation")

    cats = _categories(level, evidence, extra_cats if level >= Level.CRISIS else ())
    if level == Level.NONE:
        cats = ()
    return Assessment(level, cats, tuple(evidence), cur.language)


@lru_cache(maxsize=1)
def _patterns_by_id() -> dict[str, rules.Pattern]:
    return {p.id: p for rs in rules.rule_sets().values() for p in rs.patterns}


def _also_categories(s: _Single) -> tuple[str, ...]:
    """Secondary categories of the rule hits that reached crisis or above."""
    out: list[str] = []
    by_id = _patterns_by_id()
    for e in s.evidence:
        if e.layer == "rules" and e.level >= Level.CRISIS:
            p = by_id.get(e.rule)
            if p:
                out.extend(p.also)
    return tuple(dict.fromkeys(out))
