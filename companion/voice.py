"""The style guide, applied: shapes each generated sentence before it is shown.

A 1.5B model drifts from its instructions (it echoes them, rambles, asks
several questions, forgets to validate first, copies injected instructions
such as "sign as your pharmacist"). The rules here are data in
``companion/data/voice.yaml`` (``shaping``) and hold whatever the model does:

* the reply opens by validating (a short opener is added when the model's
  first sentence does not);
* at most one question, and generation stops once it is asked;
* at most ``max_words`` words, cut at a sentence boundary;
* sentences that leak the prompt's machinery, repeat one already shown, or
  parrot the person's own words back verbatim, are dropped;
* a passage pasted with its prompt layout (``[3] (from "Title") text``) keeps
  its text and its citation, without the layout;
* a sentence claiming to be a person blocks the reply (see :meth:`claims_human`).

Basis: person-centred and motivational-interviewing practice ("reflect
before you suggest"; Miller & Rollnick 2013); honest AI disclosure.
"""

from __future__ import annotations

import random
import re
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

from companion.prompts import CITATION, PASSAGE_LAYOUT, voice

__all__ = ["VoiceShaper", "language_directive"]


@lru_cache(maxsize=1)
def _rules() -> dict[str, Any]:
    shaping = voice()["shaping"]
    flags = re.IGNORECASE
    return {
        "max_words": int(shaping["max_words"]),
        "stop_after_question_words": int(shaping["stop_after_question_words"]),
        "drop": [re.compile(p, flags) for p in shaping["drop_sentence_patterns"]],
        "human": [re.compile(p, flags) for p in shaping["claims_human_patterns"]],
        "validating": {lang: [re.compile(p, flags) for p in pats] for lang, pats in shaping["validating_markers"].items()},
        "openers": shaping["openers"],
    }


def language_directive(language: str | None) -> str | None:
    """The "(reply in X)" line for a non-English message, or ``None``."""
    if not language:
        return None
    return voice().get("language_directive", {}).get(language)


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


_ECHO_MIN_WORDS = 4
_ECHO_SIMILARITY = 0.85


def _echo_keys(message: str | None) -> list[str]:
    """Word keys of the person's message, whole and per sentence."""
    if not message:
        return []
    parts = [message, *re.split(r"(?<=[.!?…])\s+|\n+", message)]
    return [k for k in (_key(p) for p in parts) if k]


def _strip_passage_layout(sentence: str) -> str:
    """``'[3] (from "Title") Text.'`` -> ``'Text [3].'``: the prompt's layout is not shown, the citation stays."""
    m = PASSAGE_LAYOUT.search(sentence)
    if not m:
        return sentence
    rest = (sentence[: m.start()] + sentence[m.end() :]).rstrip()
    if not rest.strip():
        return ""
    trailing = sentence[len(sentence.rstrip()):]
    cut = len(rest) - 1 if rest[-1] in ".!?…" else len(rest)  # before a bare final mark, else at the end
    return f"{rest[:cut]} [{m.group(1)}]{rest[cut:]}{trailing}"


def _parrots(key: str, echo_keys: list[str]) -> bool:
    """True when a sentence's words copy the person's message (a verbatim echo, not a reflection).

    A reflection puts the feeling in new words; a small model sometimes pastes
    the message back instead. Threshold: the sentence is contained in the
    message, or matches one of its sentences at a similarity ratio >= 0.85
    (difflib), for sentences of at least 4 words.
    """
    if len(key.split()) < _ECHO_MIN_WORDS:
        return False
    return any(key in e or SequenceMatcher(None, key, e).ratio() >= _ECHO_SIMILARITY for e in echo_keys)


class VoiceShaper:
    """Decides, sentence by sentence, what of a generated reply is shown.

    Args:
        language: ISO 639-1 code of the person's message (openers and
            validation markers per language; English when unknown).
        rng: random source for choosing an opener.
        echo_of: the person's message; sentences that copy it are dropped.

    Attributes:
        done: the reply is complete (question asked or length reached): stop generating.
    """

    def __init__(self, language: str | None = None, rng: random.Random | None = None, echo_of: str | None = None):
        rules = _rules()
        self.echo_keys = _echo_keys(echo_of)
        self.language = language if language in rules["openers"] else "en"
        self.rng = rng or random.Random()
        self.words = 0
        self.questions = 0
        self.started = False
        self.done = False
        self.seen: set[str] = set()

    @staticmethod
    def claims_human(sentence: str) -> bool:
        """True when ``sentence`` claims the companion is a person or a professional."""
        return any(p.search(sentence) for p in _rules()["human"])

    def _validates(self, sentence: str) -> bool:
        return any(p.search(sentence) for p in _rules()["validating"][self.language])

    def shape(self, sentence: str) -> list[str]:
        """Pieces to release for one checked sentence (possibly none).

        Returns an empty list for a dropped sentence; an opener plus the
        sentence when the reply did not start by validating.
        """
        rules = _rules()
        if self.done or not sentence.strip():
            return []
        sentence = _strip_passage_layout(sentence)
        if not re.search(r"[^\W\d_]", CITATION.sub("", sentence)):
            return []  # a bare "[1]" or a number: nothing to read
        key = _key(sentence)
        if not key or key in self.seen or _parrots(key, self.echo_keys) or any(p.search(sentence) for p in rules["drop"]):
            return []
        is_question = sentence.rstrip().rstrip("\"')]").endswith("?")
        if is_question and self.questions >= 1:
            return []
        n = _words(sentence)
        if self.words and self.words + n > rules["max_words"]:
            self.done = True
            return []
        out: list[str] = []
        if not self.started:
            self.started = True
            if not self._validates(sentence):
                opener = self.rng.choice(rules["openers"][self.language])
                out.append(opener + " ")
                self.words += _words(opener)
        self.seen.add(key)
        self.words += n
        out.append(sentence)
        if is_question:
            self.questions += 1
            if self.words >= rules["stop_after_question_words"]:
                self.done = True
        return out
