"""The turn pipeline: screen → (crisis reply | retrieve → prompt → generate → check).

One function of the product, shared by the CLI, the API and the Streamlit page::

    companion = Companion(settings)
    for event in companion.stream("I'm backsliding in therapy", history=[...]):
        if isinstance(event, str): print(event, end="")   # a released piece of text
        else: reply = event                                # the final Reply

Safety properties (see the design notes):

* screening runs on every message, before anything else, also on messages
  that are too long (a crisis is never answered with a validation error), and
  any error in it means ``crisis`` handling (fail closed);
* ``crisis`` / ``emergency`` get the safety layer's deterministic crisis reply
  with the locale's 24/7 resources; the LLM is not asked;
* generated text is released sentence by sentence, each sentence passing the
  output checks first (no means detail, no diagnosis or dosing, non-judgmental);
  a failing sentence stops generation and a safe closing is sent instead;
* a draft the style guide drops entirely is retried once; a reply shorter than
  the style guide's minimum is continued once (``continue_nudge``), through
  the same checks;
* if the LLM is down or times out, a retrieval-grounded fallback reply keeps
  the conversation alive: never a traceback.
"""

from __future__ import annotations

import logging
import random
import re
import time
import unicodedata
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

import safety
from safety import Assessment, Evidence, Level
from safety.respond import concern_pointer
from companion.prompts import CITATION, DISCLOSURE, fallback_text, output_blocked_text, render_context, voice
from companion.settings import Settings
from companion.voice import VoiceShaper, language_directive

__all__ = ["Companion", "Reply", "Source", "InputError", "history_window"]

log = logging.getLogger(__name__)

# A sentence ends at . ! ? … (plus closing quotes/brackets) and white space, or at a line
# break; not after a title abbreviation ("Dr. Maple" is one sentence).
_SENTENCE_END = re.compile(
    r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bDra\.)(?<!\bSr\.)(?<!\bSra\.)(?<!\bSt\.)"
    r"(?<=[.!?…])[\"')\]]*\s+|\n+"
)


class InputError(ValueError):
    """The message cannot be processed; ``str(err)`` says what to change.

    Attributes:
        code: ``empty`` | ``too_long`` | ``wrong_type``.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Source:
    """A library passage a reply drew on.

    Attributes:
        number: the ``[n]`` the model cites it by (1-based, per turn).
        title: document title; source: its file or URL; excerpt: the passage text
        given to the model; score: retrieval relevance in [0, 1];
        cited: the reply text cites ``[number]``.
    """

    number: int
    title: str
    source: str
    excerpt: str
    score: float
    cited: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "number": self.number,
            "title": self.title,
            "source": self.source,
            "excerpt": self.excerpt,
            "score": round(self.score, 4),
            "cited": self.cited,
        }


@dataclass
class Reply:
    """What one turn produced.

    Attributes:
        text: the reply shown to the person.
        level: safety level of the turn (the message in its conversation).
        categories: safety categories that fired.
        resources: crisis resources (``ResourceSet.to_dict()``) when the level
            is ``crisis`` or higher (also for ``concern`` as a soft pointer); else ``None``.
        sources: passages the reply is grounded in (cited ones, or those given
            to the model when it cited none).
        session_id: conversation id (given or generated).
        kind: ``grounded`` | ``crisis`` | ``fallback``.
        context: the numbered passages block sent with this message; callers
            store it with the user message so later turns re-send identical
            text (the embedded model then reuses its KV cache).
        warnings: operator-facing notes (e.g. "llm_unavailable"), no user text.
        timings: seconds per stage (screen, retrieve, first_token, generate, total).
    """

    text: str
    level: Level
    categories: tuple[str, ...]
    resources: dict[str, Any] | None
    sources: list[Source]
    session_id: str
    kind: str
    context: str | None = None
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    disclosure: str = DISCLOSURE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``reply``, ``level``, ``categories``, ``resources``, ``sources`` …)."""
        return {
            "session_id": self.session_id,
            "reply": self.text,
            "level": self.level.value,
            "categories": list(self.categories),
            "resources": self.resources,
            "sources": [s.to_dict() for s in self.sources],
            "kind": self.kind,
            "warnings": list(self.warnings),
            "disclosure": self.disclosure,
        }


def history_window(history: Sequence[Mapping[str, Any]], window: int) -> list[Mapping[str, Any]]:
    """The recent messages sent to the model, evicted in blocks.

    Dropping old messages in blocks of about half the window (whole
    user/assistant pairs) keeps the start of the prompt identical for several turns in a row,
    so the embedded model can reuse its KV cache instead of re-reading the
    whole conversation every turn.

    Args:
        history: messages, oldest first, each ``{"role", "content"[, "context"]}``.
        window: the most messages to keep (0 keeps none).

    Returns:
        at most ``window`` of the newest messages (at least ``window - step + 2``,
        where ``step`` is half the window rounded up to whole pairs).
    """
    if window <= 0:
        return []
    n = len(history)
    if n <= window:
        return list(history)
    step = max(2, (window // 2 + 1) // 2 * 2)
    start = -(-(n - window) // step) * step
    return list(history[start:])


class _EmptyReply(RuntimeError):
    """The model answered, but no sentence of its reply passed the checks."""


def _with_retry_nudge(messages: list[BaseMessage], language: str | None) -> list[BaseMessage]:
    """``messages`` with the retry instruction (``voice.yaml`` ``retry_nudge``) added to the last one."""
    nudge = voice()["retry_nudge"]
    directive = language_directive(language)
    last = messages[-1]
    content = f"{last.content}\n\n{nudge}" + (f" {directive}" if directive else "")
    return [*messages[:-1], HumanMessage(content=content)]


def _user_prompt(content: str, context: str | None) -> str:
    v = voice()
    if context:
        return f"{context}\n\n{v['message_header']}\n{content}"
    return content


class Companion:
    """The turn pipeline (see the module docstring).

    Args:
        settings: effective :class:`~companion.settings.Settings`.
        llm: a LangChain chat model; built from settings lazily when ``None``.
        retriever: a :class:`companion.retrieval.Retriever`; built lazily when ``None``.
        clinic: clinic contact for crisis replies; from settings when ``None``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        llm: BaseChatModel | None = None,
        retriever: Any | None = None,
        clinic: safety.ClinicContact | None = None,
    ):
        self.settings = settings
        self._llm = llm
        self._llm_error: str | None = None
        self._retriever = retriever
        self.clinic = clinic or safety.ClinicContact(
            name=settings.clinic_name,
            contact=settings.clinic_contact,
            phone=settings.clinic_phone,
            booking_url=settings.clinic_booking_url,
        )
        self._rng = random.Random()
        if settings.safety_llm_judge and settings.llm_provider == "openai":
            from companion.safety_judge import make_llm_judge
            from safety.judge import set_judge

            set_judge(make_llm_judge(self.llm()))

    # -- lazily built parts -------------------------------------------------------
    @property
    def retriever(self) -> Any:
        """The passage retriever (built on first use)."""
        if self._retriever is None:
            from companion.retrieval import Retriever

            self._retriever = Retriever(self.settings)
        return self._retriever

    def llm(self) -> BaseChatModel:
        """The chat model (built on first use).

        Raises:
            companion.llm.LLMUnavailable: with the fix in the message.
        """
        if self._llm is None:
            from companion.llm import build_chat_model

            self._llm = build_chat_model(self.settings)
        return self._llm

    def forget(self) -> None:
        """Forget any conversation state held by the model (call after a delete).

        The pipeline itself keeps no conversation; the embedded model keeps the
        last prompt in its KV cache for prefix reuse, which this clears.
        """
        forget = getattr(self._llm, "forget", None)
        if callable(forget):
            forget()

    # -- input --------------------------------------------------------------------
    def check_message(self, message: Any) -> str:
        """Validate type and emptiness of ``message`` (length is checked after screening).

        Raises:
            InputError: ``wrong_type`` or ``empty``.
        """
        if not isinstance(message, str):
            raise InputError("wrong_type", f"message must be text (a string), got {type(message).__name__}.")
        message = message.encode("utf-8", "replace").decode("utf-8")  # lone surrogates
        if not _visible(message):
            raise InputError("empty", "message is empty: write something to send.")
        return message

    # -- the turn -----------------------------------------------------------------
    def reply(
        self,
        message: Any,
        history: Sequence[Mapping[str, Any]] = (),
        *,
        locale: str | None = None,
        session_id: str | None = None,
    ) -> Reply:
        """Run one turn to completion. Same arguments and errors as :meth:`stream`."""
        result: Reply | None = None
        for event in self.stream(message, history, locale=locale, session_id=session_id):
            if isinstance(event, Reply):
                result = event
        assert result is not None  # stream always ends with a Reply
        return result

    def stream(
        self,
        message: Any,
        history: Sequence[Mapping[str, Any]] = (),
        *,
        locale: str | None = None,
        session_id: str | None = None,
    ) -> Iterator[str | Reply]:
        """Run one turn, yielding text pieces as they are released, then the :class:`Reply`.

        Args:
            message: the person's message.
            history: earlier messages, oldest first: ``{"role": "user"|"assistant",
                "content": str, "context": str | None}`` (``context`` = the
                ``Reply.context`` of that user turn, when stored).
            locale: BCP 47 locale for resources and language (default from settings).
            session_id: conversation id; a new one is made when ``None``.

        Raises:
            InputError: wrong type, empty, or (for a message that is not a
                crisis) longer than ``settings.max_message_chars``.
        """
        t0 = time.perf_counter()
        message = self.check_message(message)
        locale = locale or self.settings.locale
        session_id = session_id or uuid.uuid4().hex
        timings: dict[str, float] = {}

        assessment = self._screen(message, history, locale)
        timings["screen"] = time.perf_counter() - t0
        log.info("turn session=%s level=%s", session_id[:8], assessment.level.value)

        if assessment.level >= Level.CRISIS:
            yield from self._crisis(assessment, locale, session_id, timings, t0)
            return

        if len(message) > self.settings.max_message_chars:
            raise InputError(
                "too_long",
                f"message is {len(message):,} characters; the limit is "
                f"{self.settings.max_message_chars:,}. Please shorten it or split it into parts.",
            )
        yield from self._grounded(message, history, locale, session_id, assessment, timings, t0)

    # -- stages ---------------------------------------------------------------------
    def _screen(self, message: str, history: Sequence[Mapping[str, Any]], locale: str) -> Assessment:
        earlier = [str(m.get("content", "")) for m in history if m.get("role") == "user"]
        try:
            return safety.screen(message, history=earlier, locale=locale)
        except Exception as exc:  # fail closed: an error in screening is a crisis
            log.error("screening failed (%s); failing closed to crisis", type(exc).__name__)
            return Assessment(Level.CRISIS, (), (Evidence("error", type(exc).__name__, Level.CRISIS),))

    def _crisis(
        self, assessment: Assessment, locale: str, session_id: str, timings: dict[str, float], t0: float
    ) -> Iterator[str | Reply]:
        crisis = safety.respond(assessment, locale, self.clinic)
        for piece in _pieces(crisis.text):
            yield piece
        timings["total"] = time.perf_counter() - t0
        yield Reply(
            text=crisis.text,
            level=assessment.level,
            categories=assessment.categories,
            resources=crisis.resources.to_dict(),
            sources=[],
            session_id=session_id,
            kind="crisis",
            timings=timings,
        )

    def _retrieve(self, message: str, history: Sequence[Mapping[str, Any]], warnings: list[str]) -> list[Any]:
        recent_user = [str(m.get("content", "")) for m in history if m.get("role") == "user"][-1:]
        query = " ".join([*recent_user, message])[-2000:]
        try:
            passages = list(self.retriever.retrieve(query, self.settings.retrieval_k))
        except Exception as exc:  # index missing/corrupt: answer without citations
            log.warning("retrieval failed: %s", type(exc).__name__)
            warnings.append(f"retrieval_unavailable: {exc}")
            return []
        if not passages:
            warnings.append("no_passages: the library returned nothing (is the index empty? run `companion ingest`)")
        return passages

    def _messages(
        self, message: str, context: str, history: Sequence[Mapping[str, Any]], language: str | None = None
    ) -> list[BaseMessage]:
        msgs: list[BaseMessage] = [SystemMessage(content=voice()["system_prompt"])]
        for m in history_window(history, self.settings.history_turns):
            content = str(m.get("content", ""))
            if m.get("role") == "assistant":
                msgs.append(AIMessage(content=content))
            else:
                msgs.append(HumanMessage(content=_user_prompt(content, m.get("context"))))
        directive = language_directive(language)
        current = _user_prompt(message, context)
        msgs.append(HumanMessage(content=f"{current}\n\n{directive}" if directive else current))
        return msgs

    def _generate_through(
        self,
        llm: BaseChatModel,
        messages: list[BaseMessage],
        gate: "_SentenceGate",
        released: Sequence[str],
        timings: dict[str, float],
        t_gen: float,
        warnings: list[str],
    ) -> Iterator[str]:
        """Stream ``llm`` on ``messages`` through ``gate``; yields the sentences it releases.

        Stops when the gate blocks or completes, or at ``reply_time_limit_s``
        after ``t_gen`` (warning ``generation_time_limit``).

        Raises:
            TimeoutError: the time limit passed before anything was shown
                (``released`` is what the turn has shown so far).
            Exception: whatever the model raises (the caller falls back).
        """
        for token in llm.stream(messages):
            piece = token.content if isinstance(token.content, str) else str(token.content)
            if piece and "first_token" not in timings:
                timings["first_token"] = time.perf_counter() - t_gen
            yield from gate.feed(piece)
            if gate.blocked or gate.complete:
                break
            if time.perf_counter() - t_gen > self.settings.reply_time_limit_s:
                # a slow or looping model must not hold the person waiting
                warnings.append("generation_time_limit")
                if not "".join(released).strip():
                    raise TimeoutError(f"no reply within {self.settings.reply_time_limit_s:.0f} s")
                break
        yield from gate.flush()

    def _should_continue(self, shown: str, gate: "_SentenceGate", t_gen: float) -> bool:
        """Whether a shown reply is too short for the style guide and may be continued once.

        Not when it was blocked, empty, already at its end (question asked
        past the minimum), out of time, or from the demo ``fake`` provider
        (its canned lines are short by design).
        """
        minimum = self.settings.reply_min_words
        return bool(
            minimum
            and shown
            and not gate.blocked
            and not gate.complete
            and self.settings.llm_provider != "fake"
            and len(shown.split()) < minimum
            and time.perf_counter() - t_gen < self.settings.reply_time_limit_s
        )

    def _grounded(
        self,
        message: str,
        history: Sequence[Mapping[str, Any]],
        locale: str,
        session_id: str,
        assessment: Assessment,
        timings: dict[str, float],
        t0: float,
    ) -> Iterator[str | Reply]:
        warnings: list[str] = []
        t = time.perf_counter()
        passages = self._retrieve(message, history, warnings)
        timings["retrieve"] = time.perf_counter() - t
        shown_before = "\n".join(
            str(m.get("context") or "")
            for m in history_window(history, self.settings.history_turns)
            if m.get("role") == "user"
        )
        context = render_context(passages, shown_before=shown_before)

        released: list[str] = []
        kind = "grounded"
        t_gen = time.perf_counter()
        try:
            llm = self.llm()
            messages = self._messages(message, context, history, assessment.language)
            for attempt in (1, 2):
                shaper = VoiceShaper(assessment.language, self._rng, echo_of=message)
                gate = _SentenceGate(assessment.level, locale, shaper)
                for sentence in self._generate_through(llm, messages, gate, released, timings, t_gen, warnings):
                    released.append(sentence)
                    yield sentence
                if attempt == 1 and not gate.blocked and not "".join(released).strip():
                    # every sentence was dropped by the style guide (a refusal, an echo of the
                    # message or of the prompt): ask once more before falling back
                    warnings.append("empty_reply_retried")
                    messages = _with_retry_nudge(messages, assessment.language)
                    continue
                break
            shown = "".join(released).strip()
            if self._should_continue(shown, gate, t_gen):
                # a small model often stops after one sentence and a question: ask it to go on
                # (same gate: the checks, the one-question rule and the word limit still hold)
                warnings.append("short_reply_continued")
                more = [*messages, AIMessage(content=shown), HumanMessage(content=continue_nudge(assessment.language))]
                try:
                    for sentence in self._generate_through(llm, more, gate, released, timings, t_gen, warnings):
                        released.append(sentence)
                        yield sentence
                except Exception as exc:  # the reply already shown stands on its own
                    log.warning("continuing a short reply failed (%s); keeping it as it is", type(exc).__name__)
                    warnings.append(f"short_reply_continuation_failed: {_short_error(exc)}")
            if gate.blocked:
                kind = "fallback"
                warnings.append(f"output_blocked: {','.join(gate.failures)}")
                closing = output_blocked_text(assessment.language)
                closing = ("\n\n" if released else "") + closing
                released.append(closing)
                yield closing
            elif not "".join(released).strip():
                raise _EmptyReply("every sentence of two drafts was dropped by the output checks and style guide")
        except Exception as exc:
            if isinstance(exc, _EmptyReply):
                # the model answered, but nothing it said could be shown: a quality failure, not an outage
                log.warning("empty reply after retry; sending fallback reply")
                warnings.append(f"empty_reply: {exc}")
            else:
                log.warning("generation failed (%s); sending fallback reply", type(exc).__name__)
                warnings.append(f"llm_unavailable: {_short_error(exc)}")
            kind = "fallback"
            text = fallback_text(passages[0] if passages else None, rng=self._rng, language=assessment.language)
            text = ("\n\n" if released else "") + text
            released.append(text)
            yield text
        timings["generate"] = time.perf_counter() - t_gen

        text = "".join(released).strip()
        text, sources = _resolve_citations(text, passages, kind)
        resources = None
        if assessment.level >= Level.CONCERN:
            resources = safety.resources_for(locale, self.clinic).to_dict()
            pointer = _concern_pointer(locale, self.clinic)
            if pointer:
                text = f"{text}\n\n{pointer}"
                yield f"\n\n{pointer}"
        timings["total"] = time.perf_counter() - t0
        yield Reply(
            text=text,
            level=assessment.level,
            categories=assessment.categories,
            resources=resources,
            sources=sources,
            session_id=session_id,
            kind=kind,
            context=context if passages else None,
            warnings=warnings,
            timings=timings,
        )


def continue_nudge(language: str | None) -> str:
    """The "go on" instruction (``voice.yaml`` ``continue_nudge``) in the person's language (English default)."""
    nudges = voice()["continue_nudge"]
    return nudges.get(language or "en") or nudges["en"]


class _SentenceGate:
    """Releases generated text a sentence at a time.

    Each sentence passes the output checks (safety) and is then shaped by the
    style guide (:class:`companion.voice.VoiceShaper`). ``complete`` turns
    true when the reply has said enough (generation should stop).
    """

    def __init__(self, level: Level, locale: str, shaper: VoiceShaper | None = None):
        self.level = level
        self.locale = locale
        self.shaper = shaper or VoiceShaper()
        self.buffer = ""
        self.blocked = False
        self.failures: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """The style guide's reply is complete (one question asked or length reached)."""
        return self.shaper.done

    def _check(self, sentence: str) -> bool:
        """True when ``sentence`` may be shown; any error in checking blocks it (fail closed)."""
        try:
            from safety.output_check import check_output

            verdict = check_output(sentence, level=Level.NONE, locale=self.locale)
            if not verdict.passed:
                self.blocked, self.failures = True, tuple(verdict.failures)
                return False
            rescreen = safety.screen(sentence, locale=self.locale)
        except Exception as exc:
            log.error("output check failed (%s); blocking the reply", type(exc).__name__)
            self.blocked, self.failures = True, (f"check_error_{type(exc).__name__}",)
            return False
        if rescreen.level >= Level.CRISIS:
            self.blocked, self.failures = True, ("rescreen_" + rescreen.level.value,)
            return False
        if self.shaper.claims_human(sentence):
            self.blocked, self.failures = True, ("claims_human",)
            return False
        return True

    def feed(self, piece: str) -> list[str]:
        if self.blocked:
            return []
        self.buffer += piece
        out: list[str] = []
        while True:
            m = _SENTENCE_END.search(self.buffer)
            if not m:
                break
            sentence, self.buffer = self.buffer[: m.end()], self.buffer[m.end() :]
            if not self._check(sentence):
                self.buffer = ""
                break
            out.extend(self.shaper.shape(sentence))
            if self.shaper.done:
                self.buffer = ""
                break
        return out

    def flush(self) -> list[str]:
        """Release what is left at the end of generation.

        A trailing fragment without closing punctuation (the token limit cut
        it) is dropped when the reply already has sentences.
        """
        rest, self.buffer = self.buffer, ""
        if self.blocked or self.shaper.done or not rest.strip():
            return []
        if self.shaper.started and not re.search(r"[.!?…][\"')\]]*\s*$", rest):
            return []
        return self.shaper.shape(rest) if self._check(rest) else []


def _visible(text: str) -> bool:
    """True when ``text`` has a character other than white space and invisible format characters."""
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in text)


def _pieces(text: str) -> Iterator[str]:
    """Split a ready text into sentence-sized pieces for streaming."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        yield text[start : m.end()]
        start = m.end()
    if start < len(text):
        yield text[start:]


def _resolve_citations(text: str, passages: Sequence[Any], kind: str) -> tuple[str, list[Source]]:
    """Drop citations to passages that were not given; list the sources used.

    Returns the text with invalid ``[n]`` markers removed, and the cited
    passages as :class:`Source` (or every given passage, uncited, when the
    reply cited none: they still grounded it).
    """
    valid = set(range(1, len(passages) + 1))
    cited: set[int] = set()

    def fix(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n in valid:
            cited.add(n)
            return m.group(0)
        return ""

    text = CITATION.sub(fix, text)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    sources = []
    for i, p in enumerate(passages, start=1):
        if kind == "fallback":  # the fallback quotes passage 1; keep any passage the partial reply cited
            if i != 1 and i not in cited:
                continue
        elif cited and i not in cited:
            continue
        sources.append(
            Source(
                number=i,
                title=p.title,
                source=p.source,
                excerpt=p.text,
                score=float(getattr(p, "score", 0.0) or 0.0),
                cited=i in cited,
            )
        )
    return text, sources


def _concern_pointer(locale: str, clinic: safety.ClinicContact) -> str | None:
    try:
        return concern_pointer(locale, clinic)
    except Exception:  # a missing pointer must not break the turn
        log.warning("concern pointer unavailable")
        return None


def _short_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."
