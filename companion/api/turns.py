"""One chat turn over HTTP: lock the session, load its history, run the pipeline, persist.

The pipeline itself is :class:`companion.chat.Companion` (never re-implemented
here). This module adds what the API needs around it:

* an ``asyncio`` lock per session, held from loading the history until the
  turn is stored, so two messages sent at once to one conversation are
  answered one after the other, each seeing the previous reply (the store
  adds its own lock + unique ``seq`` for writers in other processes);
* the user message (with ``Reply.context``) and the assistant reply (with
  level and sources) are stored together in one transaction, after the
  reply is complete; if that fails the caller answers 503 and earlier
  messages are untouched;
* error mapping: ``InputError`` -> 422 (``too_long`` -> 413), unknown or
  foreign session -> 404, store failure -> 503; chat errors carry the
  locale's crisis resources so a person in crisis always sees where to get help.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import safety
from companion.api.problems import Problem
from companion.sessions import NewMessage, SessionNotFound, StoreUnavailable, new_session_id

__all__ = ["SessionLocks", "Turn", "open_turn", "save_turn", "reply_payload", "input_problem", "chat_problem"]

log = logging.getLogger(__name__)

#: Seconds a turn waits for an earlier turn on the same session before giving up (409).
LOCK_TIMEOUT_S = 180.0


class SessionLocks:
    """``asyncio`` locks per session id, dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, list[Any]] = {}  # id -> [lock, users]

    def __len__(self) -> int:
        return len(self._locks)

    async def acquire(self, session_id: str, timeout: float = LOCK_TIMEOUT_S) -> Callable[[], None]:
        """Wait for the session's lock; returns an idempotent ``release()``.

        Raises:
            TimeoutError: still held by another turn after ``timeout`` seconds.
        """
        entry = self._locks.setdefault(session_id, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            await asyncio.wait_for(entry[0].acquire(), timeout)
        except BaseException:
            self._drop(session_id, entry)
            raise
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                entry[0].release()
                self._drop(session_id, entry)

        return release

    def _drop(self, session_id: str, entry: list[Any]) -> None:
        entry[1] -= 1
        if entry[1] <= 0 and self._locks.get(session_id) is entry:
            del self._locks[session_id]


@dataclass
class Turn:
    """A turn in progress: its session, whether it is new, the history, the lock release."""

    session_id: str
    new: bool
    history: list[dict[str, Any]] = field(default_factory=list)
    release: Callable[[], None] = lambda: None


async def open_turn(ctx: Any, owner: str, session_id: str | None, locale: str | None = None) -> Turn:
    """Lock and load the session (or start a new one).

    Raises (as problems): 404 unknown session for this owner; 409 another turn
    on the session takes too long; 503 store unavailable.
    """
    from starlette.concurrency import run_in_threadpool

    if session_id is None:
        return Turn(session_id=new_session_id(), new=True)
    try:
        release = await ctx.locks.acquire(session_id)
    except TimeoutError:
        raise Problem(
            409, "an earlier message in this conversation is still being answered; retry in a moment."
        ) from None
    try:
        history = await run_in_threadpool(ctx.store.history, session_id, owner)
    except StoreUnavailable as exc:
        release()
        raise store_problem(exc, ctx, locale) from None
    except BaseException:
        release()
        raise
    if history is None:
        release()
        raise Problem(404, f"no conversation {session_id} for these credentials (it may have been deleted or expired).")
    return Turn(session_id=session_id, new=False, history=history, release=release)


def save_turn(ctx: Any, owner: str, turn: Turn, message: str, reply: Any) -> None:
    """Store the user message and the reply in one transaction (blocking; run in a thread).

    Raises:
        StoreUnavailable: nothing of this turn was stored.
        SessionNotFound: the session was deleted while the turn ran.
    """
    clean = ctx.companion.check_message(message)
    ctx.store.append(
        turn.session_id,
        owner,
        [
            NewMessage("user", clean, context=reply.context, level=reply.level.value),
            NewMessage(
                "assistant", reply.text, level=reply.level.value, sources=[s.to_dict() for s in reply.sources]
            ),
        ],
        create=turn.new,
    )


def reply_payload(reply: Any, turn: Turn) -> dict[str, Any]:
    """The JSON body of a reply (``Reply.to_dict()``; disclosure only on a new session)."""
    data = reply.to_dict()
    data["session_id"] = turn.session_id
    if not turn.new:
        data["disclosure"] = None
    return data


def _resources(ctx: Any, locale: str | None) -> dict[str, Any] | None:
    try:
        return safety.resources_for(locale or ctx.settings.locale, ctx.companion.clinic).to_dict()
    except Exception:  # noqa: BLE001 - never let this hide the original error
        log.error("could not attach crisis resources to an error")
        return None


def store_problem(exc: StoreUnavailable, ctx: Any = None, locale: str | None = None) -> Problem:
    """503 problem for a store failure (with crisis resources when ``ctx`` is given)."""
    extra = {"resources": _resources(ctx, locale)} if ctx is not None else {}
    return Problem(
        503,
        f"{exc} Your message was not saved and earlier messages are unaffected; please retry shortly.",
        slug="store-unavailable",
        title="Session store unavailable",
        headers={"Retry-After": "5"},
        **extra,
    )


def input_problem(exc: Any) -> Problem:
    """413 for ``too_long``, 422 for ``empty`` / ``wrong_type`` (detail from the pipeline)."""
    field_errors = [{"field": "body.message", "problem": str(exc)}]
    if getattr(exc, "code", "") == "too_long":
        return Problem(413, f"body.message: {exc}", slug="message-too-long", title="Message too long", errors=field_errors)
    return Problem(422, f"body.message: {exc}", errors=field_errors)


def chat_problem(exc: BaseException, ctx: Any, locale: str | None) -> Problem:
    """Map an exception raised while running or saving a turn to a problem."""
    from companion.chat import InputError

    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, InputError):
        return input_problem(exc)
    if isinstance(exc, StoreUnavailable):
        return store_problem(exc, ctx, locale)
    if isinstance(exc, SessionNotFound):
        return Problem(404, "this conversation was deleted while the reply was being written; nothing was saved.")
    log.error("turn failed: %s", type(exc).__name__)
    return Problem(
        500,
        "the reply could not be produced because of an internal error; it was logged. Please retry.",
        resources=_resources(ctx, locale),
    )
