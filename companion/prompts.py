"""The companion's voice as data: the style guide, fallback and disclosure texts.

Texts live in ``companion/data/voice.yaml`` so a clinician can review them;
this module loads them once and renders the chat messages for one turn.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["voice", "render_context", "CITATION", "PASSAGE_LAYOUT", "fallback_text", "output_blocked_text", "FAKE_REPLIES", "DISCLOSURE"]

_VOICE_PATH = Path(__file__).parent / "data" / "voice.yaml"

#: A citation marker as the model is asked to write it (``[1]``); group 1 is the number.
CITATION = re.compile(r"\[(\d{1,2})\]")
#: A passage line as :func:`render_context` lays it out (``[1] (from "Title") ``), when a
#: model pastes it back; group 1 is the number.
PASSAGE_LAYOUT = re.compile(r"\[(\d{1,2})\]\s*\(from [\"“][^\"”]{0,200}[\"”]\)\s*")


@lru_cache(maxsize=1)
def voice() -> dict[str, Any]:
    """The parsed ``voice.yaml`` (cached).

    Raises:
        RuntimeError: the file is missing keys (names them).
    """
    data = yaml.safe_load(_VOICE_PATH.read_text(encoding="utf-8"))
    required = {"system_prompt", "context_header", "no_context_note", "message_header", "disclosure", "fallback",
                "retry_nudge", "continue_nudge"}
    missing = required - set(data)
    if missing:
        raise RuntimeError(f"{_VOICE_PATH} is missing keys: {sorted(missing)}")
    return data


def render_context(passages: Sequence[Any], *, excerpt_chars: int = 600, shown_before: str = "") -> str:
    """Render retrieved passages as the numbered block the model cites from.

    Args:
        passages: objects with ``title`` and ``text`` (``companion.retrieval.Passage``).
        excerpt_chars: each passage is cut to this many characters at a word boundary.
        shown_before: the passage blocks of earlier turns that the model still
            sees in its history. A passage whose excerpt is already there keeps
            its number but is not repeated (``voice.yaml`` ``repeated_passage_note``):
            the model has read it, and a follow-up turn's prompt stays short, so
            the embedded model starts answering sooner.

    Returns:
        ``"<header>\n[1] Title: text\n[2] …"``, or the no-context note.
    """
    v = voice()
    if not passages:
        return v["no_context_note"]
    lines = [v["context_header"]]
    for i, p in enumerate(passages, start=1):
        excerpt = shorten(p.text, excerpt_chars)
        if shown_before and excerpt in shown_before:
            lines.append(f"[{i}] (from \"{p.title}\") {v['repeated_passage_note']}")
        else:
            lines.append(f"[{i}] (from \"{p.title}\") {excerpt}")
    return "\n".join(lines)


def shorten(text: str, limit: int) -> str:
    """``text`` with whitespace folded, cut to ``limit`` characters at a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


def _translated_fallback(language: str | None) -> dict[str, Any] | None:
    if not language or language == "en":
        return None
    return voice().get("fallback_by_language", {}).get(language)


def fallback_text(passage: Any | None, *, rng: random.Random | None = None, language: str | None = None) -> str:
    """A gentle reply for when the LLM fails, grounded in ``passage`` when given.

    Args:
        passage: the best retrieved passage (``title``, ``text``) or ``None``.
        rng: random source for choosing among the variants.
        language: ISO 639-1 code of the person's message; a language listed in
            ``fallback_by_language`` gets its own text (which quotes no passage,
            the library being English). English otherwise.
    """
    rng = rng or random.Random()
    translated = _translated_fallback(language)
    if translated:
        return rng.choice(translated["without_passage"])
    v = voice()["fallback"]
    if passage is None:
        return rng.choice(v["without_passage"])
    return rng.choice(v["with_passage"]).format(title=passage.title, excerpt=shorten(passage.text, 280))


def output_blocked_text(language: str | None = None) -> str:
    """The closing line shown when the output checks stop a reply, in the person's language."""
    translated = _translated_fallback(language)
    return translated["output_blocked"] if translated else voice()["fallback"]["output_blocked"]


DISCLOSURE: str = voice()["disclosure"]
FAKE_REPLIES: list[str] = list(voice().get("fake_replies", []))
