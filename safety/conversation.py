"""Layer 4 of the screener: conversation-level risk that accumulates across turns.

A message can be innocuous alone and alarming in context: job loss, then
"nothing matters", then "how tall is the tallest bridge near here" (DESIGN.md).
This layer looks at the per-message signals of the earlier USER messages
(``history``, oldest first) together with the current message's signals and
applies a few explicit, reviewable rules:

1. **means after distress** (and its siblings: timed finality after
   distress; a third party unreachable after their distress; a grievance
   that builds over turns into a veiled threat) -- weak means-seeking now (heights, "how many of
   my pills would be too many": rule signal ``means_weak``) after any
   distress, hopelessness or risk earlier -> ``crisis`` (988/AFSP warning
   sign "looking for a way to kill oneself", read in context).
1'. **symptoms after ingestion** -- "I took too much of my meds earlier"
   then "my heart is racing and I can't stay awake" (rule signals
   ``ingested`` and ``symptom``; or "I took them" (``did_it``) then
   symptoms) -> ``emergency`` (overdose in progress,
   poison-control guidance); "I did it" / "I took them" (``did_it``) after an
   earlier crisis or means disclosure -> ``emergency``; a third party
   unreachable after their crisis-level warning sign -> ``emergency``; a
   goodbye / thank-you (``goodbye``) after means talk -> ``emergency``; new
   symptoms after an earlier medical emergency -> ``emergency``.
1b'. **preparation after distress** -- settling affairs or giving
   belongings away (rule signal ``preparation``) after earlier distress, or a
   goodbye after such preparation -> ``crisis`` (C-SSRS preparatory
   behaviour; 988/AFSP warning signs).
2. **carry-over** -- the conversation is labelled by its most severe point so
   far: an earlier ``crisis`` / ``emergency`` keeps the conversation at
   ``crisis`` (a retraction such as "never mind" or "lol jk" does not lower it;
   C-SSRS practice: a disclosure stands until assessed). Earlier ``concern``
   does not carry by itself.
3. **accumulated hopelessness** -- three or more turns (current included)
   with distress / hopelessness signals, the current one among them, and the
   semantic layer close to crisis on the joined recent turns -> ``crisis``.
4. **joined context** -- the last few turns joined and run through the
   semantic layer: catches indirect build-ups no single turn shows (for
   example a goodbye after distress). Same conservative thresholds.

Per-message signals are cached by text hash (LRU), so the history is not
re-screened every turn; no text is stored, only levels and signal names.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from safety.levels import Evidence, Level

__all__ = ["TurnSignals", "assess_conversation", "assess_message", "MAX_HISTORY", "cached_signals", "peek_signals"]

#: Only the most recent turns are considered (older context is stale).
MAX_HISTORY = 12
#: Turns joined for the context window (rule 4).
JOIN_TURNS = 4
#: Ingestion reported this many turns back still explains symptoms now (rule 1a').
INGEST_TURNS = 6
#: An emergency disclosed this many turns back still stands (rule 2).
EMERGENCY_CARRY = 3


@dataclass(frozen=True)
class TurnSignals:
    """What one user message showed (no text).

    Attributes:
        level: screened level of the message alone.
        signals: rule signal names (``distress``, ``hopeless``, ``means``,
            ``means_weak``, ``goodbye``, ``retraction``) plus ``risk`` when the
            level is concern or higher.
        categories: categories the message argued for.
    """

    level: Level
    signals: frozenset[str]
    categories: tuple[str, ...] = ()


_cache: OrderedDict[str, TurnSignals] = OrderedDict()
_lock = threading.Lock()
_CACHE_MAX = 4096


def _key(text: str, locale: str | None) -> str:
    return hashlib.sha256(f"{locale}\x00{text}".encode("utf-8", "replace")).hexdigest()


def cached_signals(text: str, locale: str | None, compute: Callable[[str], TurnSignals],
                   variant: str = "") -> TurnSignals:
    """``compute(text)`` memoised by hash of (variant, locale, text).

    ``variant`` names the layer configuration (e.g. semantic on/off) so that a
    configuration change never reuses signals computed under another one.
    """
    k = _key(text, f"{variant}|{locale}")
    with _lock:
        hit = _cache.get(k)
        if hit is not None:
            _cache.move_to_end(k)
            return hit
    val = compute(text)
    with _lock:
        _cache[k] = val
        if len(_cache) > _CACHE_MAX:
            _cache.popitem(last=False)
    return val


def peek_signals(text: str, locale: str | None, variant: str = "") -> bool:
    """Whether :func:`cached_signals` already holds this message (no compute)."""
    with _lock:
        return _key(text, f"{variant}|{locale}") in _cache


_DISTRESS = {"distress", "hopeless", "risk", "means_weak", "means", "tp_distress"}


#: Distress signals that can pair with preparation or a weak means question in
#: the same message (the means signals themselves do not count).
_OWN_DISTRESS = {"distress", "hopeless", "tp_distress"}


def assess_message(current: TurnSignals) -> tuple[Level, tuple[Evidence, ...], tuple[str, ...]]:
    """Signals that combine inside ONE message: preparation (settling affairs,
    giving things away: signal ``preparation``) or a weak means question
    (heights, access to a roof: ``means_weak``) together with distress or
    hopelessness in the same message -> ``crisis``; the same pairings as
    :func:`assess_conversation` rules 1 and 1b', when both halves arrive at once
    ("failed all my modules ... do the top floor windows open all the way").

    Returns:
        (level, evidence, categories); level ``none`` when nothing applies.
    """
    distress = current.signals & _OWN_DISTRESS
    paired = current.signals & {"preparation", "means_weak"}
    if not (distress and paired):
        return Level.NONE, (), ()
    third_party = "tp_distress" in distress
    rule = "preparation_with_distress" if "preparation" in paired else "means_with_distress"
    cat = "third_party" if third_party else "suicidal_ideation"
    ev = Evidence("conversation", rule, Level.CRISIS, cat, note="same message")
    return Level.CRISIS, (ev,), (("third_party", "suicidal_ideation") if third_party else ("suicidal_ideation",))


def assess_conversation(
    current: TurnSignals,
    history: Sequence[TurnSignals],
    joined_semantic: Callable[[], tuple[Level, float]] | None = None,
) -> tuple[Level, tuple[Evidence, ...], tuple[str, ...]]:
    """Conversation-level level, evidence and categories.

    Args:
        current: signals of the current message.
        history: signals of earlier user messages, oldest first (only the
            last :data:`MAX_HISTORY` are used).
        joined_semantic: optional callback returning the semantic layer's
            (level, p_crisis) on the last turns joined; called lazily, only
            when the history shows distress.

    Returns:
        (level, evidence, categories); level ``none`` when nothing applies.
    """
    hist = list(history)[-MAX_HISTORY:]
    if not hist:
        return Level.NONE, (), ()
    ev: list[Evidence] = []
    cats: list[str] = []
    level = Level.NONE
    earlier_distress = sum(1 for h in hist if h.signals & _DISTRESS)
    earlier_max = Level.max(*(h.level for h in hist))

    # 1. means after distress
    if ("means_weak" in current.signals or "means" in current.signals) and earlier_distress:
        level = Level.max(level, Level.CRISIS)
        ev.append(Evidence("conversation", "means_after_distress", Level.CRISIS, "suicidal_ideation",
                           note=f"{earlier_distress} earlier distress turn(s)"))
        cats.append("suicidal_ideation")

    # 1a. means in hand now after an earlier means disclosure, or after goodbye
    #     letters or a goodbye ("wrote letters to my mum and my sister" ... "I've
    #     got everything here with me now") -> emergency: the means at hand with
    #     a method or preparation already named (C-SSRS preparatory behaviour)
    earlier_means = sum(1 for h in hist if h.signals & {"means", "means_weak"})
    earlier_goodbye = sum(1 for h in hist if "goodbye" in h.signals)
    if "means_hold" in current.signals and (earlier_means or earlier_goodbye):
        after, n = ("means", earlier_means) if earlier_means else ("goodbye", earlier_goodbye)
        level = Level.EMERGENCY
        ev.append(Evidence("conversation", f"means_in_hand_after_{after}", Level.EMERGENCY, "suicidal_ideation",
                           note=f"{n} earlier {after} turn(s)"))
        cats.append("suicidal_ideation")

    # 1a'. ingestion earlier + physical symptoms now (or the reverse) -> emergency
    #      (overdose described across turns: "took too much earlier" ... "heart
    #      racing, can't stay awake"; poison-control / emergency guidance)
    earlier_ingested = sum(1 for h in hist[-INGEST_TURNS:] if "ingested" in h.signals)
    earlier_symptom = sum(1 for h in hist[-INGEST_TURNS:] if "symptom" in h.signals)
    earlier_did_it = sum(1 for h in hist[-INGEST_TURNS:] if "did_it" in h.signals)
    if ("symptom" in current.signals and (earlier_ingested or earlier_did_it)) or (
            "ingested" in current.signals and earlier_symptom):
        level = Level.EMERGENCY
        ev.append(Evidence("conversation", "symptoms_after_ingestion", Level.EMERGENCY, "medical_emergency",
                           note=f"{earlier_ingested + earlier_symptom + earlier_did_it} earlier turn(s)"))
        cats.append("medical_emergency")

    # 1a''. "I did it" / "I took them" after an earlier crisis or means disclosure -> emergency
    earlier_risky = sum(1 for h in hist if h.level >= Level.CRISIS or h.signals & {"means", "means_weak", "means_hold", "goodbye", "ingested"})
    if "did_it" in current.signals and earlier_risky:
        level = Level.EMERGENCY
        ev.append(Evidence("conversation", "act_after_disclosure", Level.EMERGENCY, "suicidal_ideation",
                           note=f"{earlier_risky} earlier risk turn(s)"))
        cats.extend(["suicidal_ideation", "medical_emergency"])

    # 1a'''. a goodbye / thank-you after means talk ("I think I have enough
    #        now" ... "thanks for everything") -> emergency (imminent)
    if "goodbye" in current.signals and earlier_means:
        level = Level.EMERGENCY
        ev.append(Evidence("conversation", "goodbye_after_means", Level.EMERGENCY, "suicidal_ideation",
                           note=f"{earlier_means} earlier means turn(s)"))
        cats.append("suicidal_ideation")

    # 1a''''. new symptoms after an earlier medical emergency -> emergency
    if "symptom" in current.signals and any(h.level >= Level.EMERGENCY and "medical_emergency" in h.categories
                                            for h in hist[-INGEST_TURNS:]):
        level = Level.EMERGENCY
        ev.append(Evidence("conversation", "symptoms_after_emergency", Level.EMERGENCY, "medical_emergency",
                           note="earlier medical emergency"))
        cats.append("medical_emergency")

    # 1b. timed finality after distress ("won't matter after this weekend")
    if "finality" in current.signals and earlier_distress and level < Level.CRISIS:
        level = Level.CRISIS
        ev.append(Evidence("conversation", "finality_after_distress", Level.CRISIS, "suicidal_ideation",
                           note=f"{earlier_distress} earlier distress turn(s)"))
        cats.append("suicidal_ideation")

    # 1b'. preparation after distress ("sorted all my passwords for my mum"
    #      after weeks of hopelessness; "she started giving her jewellery to
    #      the grandchildren" after "she says nothing makes sense"), or a
    #      goodbye after preparation -> crisis (C-SSRS preparatory behaviour;
    #      988/AFSP warning signs: giving away possessions, saying goodbye)
    earlier_prep = sum(1 for h in hist if "preparation" in h.signals)
    prep_now = "preparation" in current.signals and earlier_distress
    goodbye_now = "goodbye" in current.signals and earlier_prep
    if (prep_now or goodbye_now) and level < Level.CRISIS:
        level = Level.CRISIS
        tp = any("tp_distress" in h.signals or "third_party" in h.categories for h in hist)
        rule = "preparation_after_distress" if prep_now else "goodbye_after_preparation"
        ev.append(Evidence("conversation", rule, Level.CRISIS, "third_party" if tp else "suicidal_ideation",
                           note=f"{earlier_distress if prep_now else earlier_prep} earlier turn(s)"))
        cats.extend(["third_party", "suicidal_ideation"] if tp else ["suicidal_ideation"])

    # 1c. someone unreachable after a third party's distress or risk
    earlier_tp = sum(1 for h in hist if "tp_distress" in h.signals or "third_party" in h.categories)
    if "missing" in current.signals and earlier_tp:
        # unreachable after a third party's crisis-level warning sign (goodbye,
        # stated intent): possibly an attempt in progress -> emergency
        tp_crisis = any(h.level >= Level.CRISIS and "third_party" in h.categories for h in hist)
        tp_level = Level.EMERGENCY if tp_crisis else Level.CRISIS
        level = Level.max(level, tp_level)
        ev.append(Evidence("conversation", "third_party_unreachable", tp_level, "third_party",
                           note=f"{earlier_tp} earlier third-party turn(s)"))
        cats.extend(["third_party", "suicidal_ideation"])

    # 1d. grievance building to a veiled threat (harm to others)
    earlier_grievance = sum(1 for h in hist if "grievance" in h.signals)
    if "grievance" in current.signals and earlier_grievance >= 2:
        level = Level.max(level, Level.CRISIS)
        ev.append(Evidence("conversation", "grievance_to_threat", Level.CRISIS, "harm_to_others",
                           note=f"{earlier_grievance} earlier grievance turn(s)"))
        cats.append("harm_to_others")

    # 2. carry-over of an earlier crisis / emergency; an emergency disclosed in
    #    the last EMERGENCY_CARRY turns (means in front of them, pills taken)
    #    still stands as an emergency after "never mind"
    recent_em = any(h.level >= Level.EMERGENCY for h in hist[-EMERGENCY_CARRY:])
    for carried, rule, applies in ((Level.EMERGENCY, "earlier_emergency", recent_em),
                                   (Level.CRISIS, "earlier_crisis", earlier_max >= Level.CRISIS)):
        if applies and level < carried:
            level = carried
            ev.append(Evidence("conversation", rule, carried,
                               next((c for h in reversed(hist) if h.level >= carried for c in h.categories), None),
                               note="retraction" if "retraction" in current.signals else "carry-over"))
            cats.extend(c for h in hist if h.level >= carried for c in h.categories if c not in ("distress", "history"))

    # 3 + 4. accumulated distress, checked on the joined recent turns
    if joined_semantic is not None and earlier_distress and level < Level.CRISIS:
        sem_level, p = joined_semantic()
        cur_distress = bool(current.signals & _DISTRESS) or current.level >= Level.CONCERN
        if sem_level >= Level.CRISIS:
            level = Level.max(level, Level.CRISIS)
            ev.append(Evidence("conversation", "joined_turns_semantic", Level.CRISIS, "suicidal_ideation",
                               score=p, note=f"last {JOIN_TURNS} turns"))
            cats.append("suicidal_ideation")
        elif earlier_distress >= 2 and cur_distress and p >= 0.5:
            level = Level.max(level, Level.CRISIS)
            ev.append(Evidence("conversation", "accumulated_hopelessness", Level.CRISIS, "suicidal_ideation",
                               score=p, note=f"{earlier_distress + 1} distress turns"))
            cats.append("suicidal_ideation")
        elif earlier_distress >= 1 and level < Level.CONCERN:
            level = Level.CONCERN
            ev.append(Evidence("conversation", "earlier_distress", Level.CONCERN, "distress",
                               note=f"{earlier_distress} earlier distress turn(s)"))
            cats.append("distress")
    return level, tuple(ev), tuple(dict.fromkeys(cats))
